//! A plain-text report of the environment: device, versions, data and weights found.
use crate::config::paths;
use crate::device;
use crate::models::weights;
use std::fmt::Write;
use std::path::Path;

pub fn report(data_root: &Path) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "affect-lab {}", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(s, "{}", device::describe(device::pick()));
    let _ = writeln!(s, "CUDA devices: {}, MPS: {}", tch::Cuda::device_count(), tch::utils::has_mps());
    let _ = writeln!(s, "data root: {}", data_root.display());
    for spec in [paths::FACES, paths::DRUGS_COM, paths::DRUGLIB, paths::IMDB] {
        let state = if spec.is_present(data_root) { "found" } else { "MISSING" };
        let _ = writeln!(s, "  {:<8} {} ({})", state, spec.path(data_root).display(), spec.name);
    }
    let _ = writeln!(s, "weights dir: {}", weights::weights_dir().display());
    for w in weights::ALL_TORCHVISION {
        match w.find() {
            Some(p) => {
                let _ = writeln!(s, "  found    {} ImageNet: {}", w.model, p.display());
            }
            None => {
                let _ = writeln!(s, "  MISSING  {} ImageNet ({}): get {} then run `affect-lab fetch-weights` or scripts/convert_weights.py", w.model, w.safetensors_name(), w.url);
            }
        }
    }
    match weights::minilm_dir() {
        Ok(p) => {
            let _ = writeln!(s, "  found    all-MiniLM-L6-v2: {}", p.display());
        }
        Err(e) => {
            let _ = writeln!(s, "  MISSING  {e}");
        }
    }
    s
}
