//! The Python scripts keep their own copies of tables the Rust code owns (they run before the
//! crate is built, in setup): checked here against the Rust side so the two cannot drift.
mod common;
use affect_lab::models::registry::IMAGE_MODELS;
use affect_lab::models::weights::{self, ALL_TORCHVISION};
use common::venv_python;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// `"name.pth": "url"` pairs of convert_weights.py's KNOWN table.
fn known_in_convert_weights() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(Path::new(ROOT).join("scripts/convert_weights.py")).unwrap();
    let start = text.find("KNOWN = {").expect("KNOWN table in convert_weights.py");
    let table = &text[start..start + text[start..].find('}').unwrap()];
    table
        .lines()
        .filter_map(|l| {
            let parts: Vec<&str> = l.split('"').collect();
            (parts.len() >= 5).then(|| (parts[1].to_string(), parts[3].to_string()))
        })
        .collect()
}

#[test]
fn convert_weights_knows_exactly_the_registry_checkpoints() {
    let rust: BTreeSet<(String, String)> = ALL_TORCHVISION.iter().map(|w| (w.pth.into(), w.url.into())).collect();
    assert_eq!(known_in_convert_weights(), rust, "scripts/convert_weights.py KNOWN vs weights::ALL_TORCHVISION");
    for m in IMAGE_MODELS {
        if let Some(w) = m.imagenet {
            assert!(ALL_TORCHVISION.contains(&w), "{}: {} is not in ALL_TORCHVISION", m.arch, w.pth);
        }
    }
}

#[test]
fn the_minilm_reference_script_reads_the_folder_the_rust_side_loads() {
    let python = venv_python();
    let code = "import importlib.util, sys\n\
        spec = importlib.util.spec_from_file_location('ref', sys.argv[1])\n\
        m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n\
        print(m.minilm_dir())";
    let out = Command::new(&python)
        .args(["-c", code, &format!("{ROOT}/scripts/parity/minilm_reference.py")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let py = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(Path::new(&py), weights::minilm_dir().unwrap());
}

#[test]
fn the_deck_leaves_out_a_slide_marked_leave_out_and_only_that_slide() {
    use affect_lab::report::html::LEAVE_OUT_OF_DECK;
    let md = |text: &str, kind: &str| serde_json::json!({"cell_type": "markdown", "metadata": {"slideshow": {"slide_type": kind}}, "source": text});
    let out = |html: &str| {
        serde_json::json!({"cell_type": "code", "metadata": {}, "source": "x", "execution_count": 1,
            "outputs": [{"output_type": "execute_result", "metadata": {}, "execution_count": 1,
                         "data": {"text/html": html, "text/plain": "x"}}]})
    };
    let cells = vec![
        md("## kept", "slide"),
        out("<p>numbers</p>"),
        md("## configure me", "slide"),
        md("notes", "notes"),
        out(&format!("<p {LEAVE_OUT_OF_DECK}>set a variable</p>")),
        md("### its sub-slide", "subslide"),
        md("## kept too", "slide"),
    ];
    let dir = std::env::temp_dir().join(format!("deck_outputs_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (src, dst) = (dir.join("in.ipynb"), dir.join("out.ipynb"));
    let nb = serde_json::json!({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5});
    std::fs::write(&src, nb.to_string()).unwrap();
    let status = Command::new("python3")
        .arg(Path::new(ROOT).join("scripts/deck_outputs.py"))
        .args([&src, &dst])
        .status()
        .unwrap();
    assert!(status.success());
    let kept: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&dst).unwrap()).unwrap();
    let sources: Vec<&str> = kept["cells"].as_array().unwrap().iter().map(|c| c["source"].as_str().unwrap()).collect();
    assert_eq!(sources, ["## kept", "x", "## kept too"]);
    std::fs::remove_dir_all(&dir).unwrap();
}
