//! `fetch-weights`, `copies` and `bench`.
use super::args::*;
use affect_lab::config::paths;
use anyhow::Context;

pub fn fetch_weights() -> anyhow::Result<()> {
    let root = paths::project_root().ok_or_else(|| {
        anyhow::anyhow!("fetch-weights runs from the checkout (its Python converts the files); set {}", paths::HOME_ENV)
    })?;
    let python = root.join(".venv/bin/python");
    anyhow::ensure!(python.is_file(), "{} not found: run scripts/setup.sh first", python.display());
    let status = std::process::Command::new(&python)
        .arg(root.join("scripts/convert_weights.py"))
        .arg("--fetch")
        .status()
        .with_context(|| format!("running {}", python.display()))?;
    anyhow::ensure!(status.success(), "convert_weights.py failed");
    Ok(())
}

/// One line per held-out face that copies a training face, then the counts.
pub fn copies(data_root: &std::path::Path) -> anyhow::Result<()> {
    use affect_lab::data::{faces, near_copies};
    let ds = faces::load(&data_root.join("faces"), Default::default())?;
    let c = near_copies::across_splits(&ds)?;
    println!("split\tlabel\timage\ttrain label\ttrain image\tr");
    for x in &c.copies {
        let (image, train) = (x.path.display(), x.train_path.display());
        println!(
            "{}\t{}\t{image}\t{}\t{train}\t{:.3}",
            x.split,
            c.class(x.label),
            c.class(x.train_label),
            x.similarity
        );
    }
    for split in ["valid", "test"] {
        let (n, other) = c.counts(split);
        println!("{split}: {n} copy a training face (r >= {:.2}), {other} under another label", c.threshold);
    }
    Ok(())
}

/// Each epoch case's speed over its own side's bare step, round by round.
fn print_epoch_over_bare(b: &affect_lab::bench::report::Bench) {
    use affect_lab::bench::report::per_round;
    let show = |s: Option<affect_lab::bench::measure::Stats>| {
        s.map_or("-".to_string(), |s| format!("{:.3} ({:.3}-{:.3})", s.median, s.min, s.max))
    };
    for p in b.pairs.iter().filter(|p| p.rust_bare.is_some()) {
        let ours = p.rust_bare.as_ref().and_then(|bare| per_round(&p.rust, bare));
        let theirs = p.pytorch.as_ref().zip(p.pytorch_bare.as_ref()).and_then(|(e, bare)| per_round(e, bare));
        println!(
            "{:<40} epoch / bare step, same rounds: ours {}, PyTorch's loop {}",
            p.label,
            show(ours),
            show(theirs)
        );
    }
}

pub fn bench(a: &BenchArgs, dev: tch::Device) -> anyhow::Result<()> {
    use affect_lab::bench;
    if dev != tch::Device::Cpu && !a.report {
        eprintln!("bench times the CPU, the machine kind the committed result is for; {dev:?} is not measured");
    }
    if a.report {
        let (rust, pytorch) =
            (bench::read_side(&a.out.join("rust.json"))?, bench::read_side(&a.out.join("pytorch.json"))?);
        let b = bench::report::pair(&rust, &pytorch);
        bench::charts::write(&a.out, &b)?;
        for t in &b.targets {
            let rounds = t.rounds.as_ref().map_or(String::new(), |r| format!(", rounds {:.2}-{:.2}", r.min, r.max));
            let met = if t.met { "met" } else { "NOT met" };
            println!("{:<70} {:>6.2} (goal {:.2}{rounds}) {met}", t.what, t.value, t.goal);
        }
        print_epoch_over_bare(&b);
        println!("wrote {}", a.out.join("bench.json").display());
        return Ok(());
    }
    let mut selection = bench::cases::Selection::standard()?;
    if !a.archs.is_empty() {
        for arch in &a.archs {
            affect_lab::models::registry::image_model(arch)?;
        }
        selection.images = a.archs.iter().map(|arch| (arch.clone(), vec![96])).collect();
    }
    if !a.sizes.is_empty() {
        selection.images.iter_mut().for_each(|(_, s)| *s = a.sizes.clone());
    }
    if !a.numerics.is_empty() {
        selection.numerics =
            a.numerics.iter().map(|n| affect_lab::numerics::Numerics::parse(n)).collect::<Result<_, _>>()?;
    }
    anyhow::ensure!(a.repeats >= 1 && a.batch >= 1, "--repeats and --batch must be at least 1");
    (selection.batch, selection.text, selection.data) = (a.batch, !a.no_text, !a.no_data);
    selection.epoch_batches = if a.no_data { 0 } else { a.epoch_batches };
    let repeats = bench::measure::Repeats { warmup: a.warmup, timed: a.repeats };
    let data_root = paths::data_root(a.data_dir.as_deref());
    let header = bench::header(repeats, &data_root)?;
    let mut reference = match &a.pytorch {
        Some(script) => {
            std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
            let out = a.out.join("pytorch.json");
            Some(bench::reference::Reference::start(&a.python, script, &out, &a.flops_sizes, &header)?)
        }
        None => None,
    };
    let side = bench::run_rust(&selection, header, &data_root, reference.as_mut())?;
    // PyTorch's side first: a reference failing at its end leaves neither file new, not a pair of two runs
    if let Some(r) = reference {
        r.finish()?;
        println!("wrote {}", a.out.join("pytorch.json").display());
    }
    let path = a.out.join("rust.json");
    affect_lab::atomic::write_json(&path, &side)?;
    println!("wrote {}", path.display());
    Ok(())
}
