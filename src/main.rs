//! `affect-lab`: run the experiment headless.
use affect_lab::{device, paths, run, Profile};
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "affect-lab", version, about = "Scratch vs transfer (faces) and direct vs indirect data (drug reviews)")]
struct Cli {
    /// auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N, mps
    #[arg(long, global = true, default_value = "auto", env = "AFFECT_LAB_DEVICE")]
    device: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct RunArgs {
    #[arg(long, value_enum, default_value_t = Profile::Quick)]
    profile: Profile,
    /// Data root holding faces/, drug_reviews/, druglib/, imdb/
    #[arg(long, env = paths::DATA_ENV, default_value = "data")]
    data_dir: PathBuf,
    /// Run directory (default: runs/<profile>)
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Skip unreadable images / malformed rows (and count them) instead of failing
    #[arg(long)]
    skip_bad_inputs: bool,
    /// Comma-separated rows to run (default: all). Part 1: model names (mobilenet_v2, ...);
    /// Part 2: a model (minilm, bilstm) or a model_source run (minilm_drugscom, ...)
    #[arg(long, value_delimiter = ',')]
    models: Vec<String>,
    /// JSON file overriding the profile's plans, e.g. {"part2": {"max_train": 3000}} (keys as in
    /// results.json's `plan`; a key the plan lacks is an error)
    #[arg(long)]
    plan: Option<PathBuf>,
    /// Do not render figures
    #[arg(long)]
    no_figures: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Part 1: custom CNNs from scratch vs ImageNet transfer on face emotions
    Part1(RunArgs),
    /// Part 2: direct vs indirect training data for drug-review sentiment
    Part2(RunArgs),
    /// Both parts (the main job)
    All(RunArgs),
    /// Render every figure again from a run directory's results.json files
    Figures {
        /// Run directory (holding part1/ and/or part2/)
        #[arg(long)]
        out: PathBuf,
    },
    /// Download torchvision ImageNet weights where a network allows, and convert them
    FetchWeights,
    /// Print device, versions, and which data and weights were found
    Info {
        #[arg(long, env = paths::DATA_ENV, default_value = "data")]
        data_dir: PathBuf,
    },
}

fn main() {
    if let Err(e) = real_main() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn real_main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if !affect_lab::malloc::keep_freed_memory() {
        eprintln!("warning: glibc refused the allocator settings; CPU training will fault memory in at every step");
    }
    let dev = device::parse(&cli.device)?;
    eprintln!("affect-lab {}: {}", env!("CARGO_PKG_VERSION"), device::describe(dev));
    match cli.command {
        Command::Part1(a) => run_parts(&a, dev, true, false),
        Command::Part2(a) => run_parts(&a, dev, false, true),
        Command::All(a) => run_parts(&a, dev, true, true),
        Command::Figures { out } => figures(&out),
        Command::FetchWeights => fetch_weights(),
        Command::Info { data_dir } => {
            print!("{}", affect_lab::info::report(&data_dir));
            Ok(())
        }
    }
}

fn run_parts(a: &RunArgs, dev: tch::Device, want1: bool, want2: bool) -> anyhow::Result<()> {
    // `--models` names rows of either part; a part none of them names is not run
    let names1: Vec<String> = affect_lab::part1::model_specs().into_iter().map(|s| s.name).collect();
    let names2 = affect_lab::part2::row_names();
    let known = |names: &[String]| a.models.iter().any(|m| names.contains(m));
    let (part1, part2) = if a.models.is_empty() { (want1, want2) } else { (want1 && known(&names1), want2 && known(&names2)) };
    let offered: Vec<&String> = names1.iter().filter(|_| want1).chain(names2.iter().filter(|_| want2)).collect();
    if let Some(bad) = a.models.iter().find(|m| !offered.contains(m)) {
        anyhow::bail!("unknown model `{bad}` for this command; known: {}", offered.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "));
    }
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from("runs").join(a.profile.name()));
    let config = run::RunConfig {
        profile: a.profile,
        seed: a.seed,
        data_root: a.data_dir.clone(),
        out: out.clone(),
        device: format!("{dev:?}"),
        threads: tch::get_num_threads(),
        skip_bad_inputs: a.skip_bad_inputs,
        models: a.models.clone(),
        plan_patch: a.plan.as_deref().map(affect_lab::plan_patch::read).transpose()?,
        version: env!("CARGO_PKG_VERSION").into(),
        started: run::now_utc(),
    };
    // a bad --plan key must fail now, not after Part 1 has trained for twenty minutes
    affect_lab::part1::plan(&config)?;
    affect_lab::part2::plan(&config)?;
    let mut needed = Vec::new();
    if part1 {
        needed.push(paths::FACES);
    }
    if part2 {
        needed.extend([paths::DRUGS_COM, paths::DRUGLIB, paths::IMDB]);
    }
    paths::require(&a.data_dir, &needed)?;
    let r = run::Run::new(config, dev)?;
    eprintln!("profile {}, seed {}, data {}, out {}", a.profile, a.seed, a.data_dir.display(), out.display());
    if part1 {
        let res = affect_lab::part1::run(&r).context("part 1 failed")?;
        if !a.no_figures {
            affect_lab::part1::figures(&r, &res).context("part 1 figures failed")?;
        }
        eprintln!("{}", affect_lab::part1::summary(&res));
    }
    if part2 {
        let res = affect_lab::part2::run(&r).context("part 2 failed")?;
        if !a.no_figures {
            affect_lab::part2::figures(&r, &res).context("part 2 figures failed")?;
        }
        eprintln!("{}", affect_lab::part2::summary(&res));
    }
    eprintln!("results in {}", out.display());
    Ok(())
}

fn figures(out: &std::path::Path) -> anyhow::Result<()> {
    let mut any = false;
    if let Some(r) = run::load_results::<affect_lab::part1::Results>(out, affect_lab::part1::PART)? {
        affect_lab::report::part1_figures(&out.join("part1/figures"), &r)?;
        any = true;
    }
    if let Some(r) = run::load_results::<affect_lab::part2::Results>(out, affect_lab::part2::PART)? {
        affect_lab::report::part2_figures(&out.join("part2/figures"), &r)?;
        any = true;
    }
    anyhow::ensure!(any, "no part1/results.json or part2/results.json under {}", out.display());
    eprintln!("figures written under {}", out.display());
    Ok(())
}

fn fetch_weights() -> anyhow::Result<()> {
    let root = paths::project_root();
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
