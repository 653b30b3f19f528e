// Bake libtorch's lib dir into every binary we link (bins, tests, examples) as an rpath,
// so `cargo run` / `cargo test` / the installed binary work without LD_LIBRARY_PATH.
// Also compiles the small C++ shims that reach what tch does not wrap: libtorch's CPU autocast
// (csrc/autocast.cpp), its fused AdamW kernel (csrc/fused_adamw.cpp) and its flush-denormal
// switch applied to the intra-op threads too (csrc/denormals.cpp).
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=csrc/autocast.cpp");
    println!("cargo:rerun-if-changed=csrc/fused_adamw.cpp");
    println!("cargo:rerun-if-changed=csrc/denormals.cpp");
    let lib = std::env::var("DEP_TCH_LIBTORCH_LIB").expect("torch-sys reports libtorch's lib dir");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    let include = Path::new(&lib).parent().expect("libtorch lib dir has a parent").join("include");
    let abi = std::env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".into());
    cc::Build::new()
        .cpp(true)
        .file("csrc/autocast.cpp")
        .file("csrc/fused_adamw.cpp")
        .file("csrc/denormals.cpp")
        .include(&include)
        .flag("-std=c++17")
        .flag(format!("-D_GLIBCXX_USE_CXX11_ABI={abi}"))
        .flag("-DGLOG_USE_GLOG_EXPORT")
        .warnings(false)
        .compile("affect_shims");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_some() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch");
    }
}
