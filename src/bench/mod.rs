//! `affect-lab bench`: training and inference speed of our networks beside PyTorch eager on the
//! same machine, threads, shapes and precision. The Rust run writes `rust.json`; with `--pytorch`
//! it runs `scripts/bench_reference.py` beside it, case by case, into `pytorch.json` (the script
//! also runs a finished `rust.json`'s list on its own). The report pairs the two into `bench.json`
//! and ratio charts. `scripts/bench.sh` does both in one invocation.
pub mod cases;
pub mod charts;
pub mod reference;
pub mod report;

use crate::error::{Error, Result};
use crate::eval::bench_file::Case;
pub use crate::eval::{bench_file::Flops, measure};
use cases::Selection;
use cases::Timing;
use measure::{Repeats, Stats, Turns};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One side's measurements (ours or PyTorch's).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Side {
    /// `affect-lab (tch …, libtorch …)` or `PyTorch … eager`.
    pub library: String,
    pub machine: String,
    pub threads: i64,
    pub repeats: Repeats,
    pub measured: Vec<Measured>,
    /// FLOPs per image of each network at each size (PyTorch's FlopCounterMode; the Rust side has none).
    #[serde(default)]
    pub flops: Vec<Flops>,
    /// The MiniLM folder ours loaded, for the reference to load the same weights.
    #[serde(default)]
    pub minilm_dir: Option<String>,
    /// The faces the epoch cases train on and their augmentation, for the reference to load the
    /// same images the same way.
    #[serde(default)]
    pub faces_dir: Option<String>,
    #[serde(default)]
    pub augment: Option<crate::data::augment::AugmentConfig>,
    /// Whether PyTorch was measured case by case beside this side (`--pytorch`) rather than after it.
    #[serde(default)]
    pub interleaved: bool,
    /// Whether the two sides took their timed rounds in turn one by one, so that repeat k of ours
    /// pairs with repeat k of PyTorch's (absent in files before 2026-12-06's last runs).
    #[serde(default)]
    pub paired_rounds: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measured {
    pub case: Case,
    pub unit: String,
    pub stats: Stats,
    /// An epoch case's bare training step at its numerics, timed in rounds alternating with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bare: Option<Stats>,
}

/// Measure every case of `selection` here into `header` ([`header`]), printing each as it finishes;
/// with a `reference`, PyTorch too, the two sides taking their timed rounds in turn (the
/// reference's answers go to its own file).
pub fn run_rust(
    selection: &Selection,
    header: Side,
    data_root: &Path,
    mut reference: Option<&mut reference::Reference>,
) -> Result<Side> {
    let repeats = header.repeats;
    let beside = reference.is_some();
    let mut side = Side { interleaved: beside, paired_rounds: beside, ..header };
    let cases = selection.cases();
    if let Some(first) = cases.first() {
        warm_up(first, repeats, data_root, reference.as_deref_mut())?;
    }
    for (i, case) in cases.into_iter().enumerate() {
        crate::interrupt::check()?;
        let ours = |turns: &mut Turns| measure_ours(&case, repeats, turns, data_root);
        let (ours, pytorch) = match reference.as_deref_mut() {
            None => (ours(&mut Turns::alone())?, None),
            Some(r) => r.measure_beside(&case, ours)?,
        };
        print_case(i, &case, &ours, pytorch.as_ref());
        let Timing { stats, bare } = ours;
        side.measured.push(Measured { unit: case.unit().to_string(), case, stats, bare });
    }
    Ok(side)
}

fn print_case(i: usize, case: &Case, ours: &Timing, pytorch: Option<&Timing>) {
    let (unit, stats) = (case.unit(), &ours.stats);
    let beside = pytorch.map_or(String::new(), |p| format!(", PyTorch {:.2}", p.stats.median));
    let spread = format!("(min {:.2}, max {:.2}{beside})", stats.min, stats.max);
    eprintln!("[{:>2}] {:<40} {:>10.2} {unit} {spread}", i + 1, case.label(), stats.median);
    if let Some(b) = &ours.bare {
        let theirs =
            pytorch.and_then(|p| p.bare.as_ref()).map_or(String::new(), |p| format!(", PyTorch {:.2}", p.median));
        eprintln!(
            "     {:<40} {:>10.2} {unit} (min {:.2}, max {:.2}{theirs})",
            "bare steps beside it", b.median, b.min, b.max
        );
    }
}

/// The first case measured on both sides and thrown away. Whatever a process does first (page
/// faults of a fresh heap, oneDNN's kernel generation, the CPU's clock settling) made the list's
/// first case slow on both sides in every run, by up to 30%, and the repeats within it did not
/// absorb it.
fn warm_up(
    case: &Case,
    repeats: Repeats,
    data_root: &Path,
    reference: Option<&mut reference::Reference>,
) -> Result<()> {
    eprintln!("[warm-up] {} on both sides, not recorded", case.label());
    measure_ours(case, repeats, &mut Turns::alone(), data_root)?;
    if let Some(r) = reference {
        r.warm_up(case)?;
    }
    Ok(())
}

fn measure_ours(case: &Case, repeats: Repeats, turns: &mut Turns, data_root: &Path) -> Result<Timing> {
    tch::manual_seed(0);
    case.measure(repeats, turns, data_root)
}

/// This side with nothing measured yet: what the reference needs to run the same cases.
pub fn header(repeats: Repeats, data_root: &Path) -> Result<Side> {
    Ok(Side {
        library: format!("affect-lab (tch 0.26, libtorch {})", libtorch_version()),
        machine: crate::device::machine(),
        threads: tch::get_num_threads() as i64,
        repeats,
        measured: Vec::new(),
        flops: Vec::new(),
        minilm_dir: crate::models::weights::minilm_dir().ok().map(|d| d.display().to_string()),
        faces_dir: Some(data_root.join(crate::config::paths::FACES.dir).display().to_string()),
        augment: Some(cases::quick_augment()?),
        interleaved: false,
        paired_rounds: false,
    })
}

/// The libtorch version the binary runs on (from its install's version file, where present).
fn libtorch_version() -> String {
    let lib = std::env::var("LIBTORCH").ok().map(std::path::PathBuf::from);
    lib.and_then(|d| std::fs::read_to_string(d.join("version.py")).ok())
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("__version__ = ").map(|v| v.trim_matches(['\'', '"']).to_string()))
        })
        .unwrap_or_else(|| "2.13".to_string())
}

/// Read one side's JSON.
pub fn read_side(path: &Path) -> Result<Side> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::Json { path: path.to_path_buf(), source: e })
}
