//! `affect-lab`: run the experiment headless.
use affect_lab::config::paths;
use affect_lab::device;
use clap::{Parser, Subcommand};
use cli::args::{BenchArgs, EvaluateArgs, PredictArgs, RunArgs};
use cli::{bench, copies, evaluate, fetch_weights, figures, predict, run_parts};

mod cli;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "affect-lab",
    version,
    about = "Scratch vs transfer (faces) and direct vs indirect data (drug reviews)"
)]
struct Cli {
    /// auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N, mps
    #[arg(long, global = true, default_value = "auto", env = "AFFECT_LAB_DEVICE")]
    device: String,
    /// Folder of converted pretrained weights and all-MiniLM-L6-v2/ (default: $AFFECT_LAB_WEIGHTS,
    /// else weights/ of the checkout; the checkout's Python environment is searched too)
    #[arg(long, global = true)]
    weights_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
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
    /// Score a finished run's models on another data root, labelled folder or review file (no training)
    Evaluate(EvaluateArgs),
    /// Classify face images or reviews with one trained model of a finished run
    Predict(PredictArgs),
    /// Training and inference speed beside PyTorch (`scripts/bench.sh` runs both sides and the report)
    Bench(BenchArgs),
    /// List the validation and test faces that copy a training face (cropped, watermarked or
    /// re-encoded: the copies a pixel-exact deduplication misses)
    Copies {
        /// Data root holding faces/ (default: $AFFECT_LAB_DATA, else data/ of the checkout, else ./data)
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Download torchvision ImageNet weights where a network allows, and convert them
    FetchWeights,
    /// Print device, versions, and which data and weights were found
    Info {
        /// Data root (default: $AFFECT_LAB_DATA, else data/ of the checkout, else ./data)
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

fn main() {
    if let Err(e) = real_main() {
        if let Some(signal) = interrupted(&e) {
            eprintln!(
                "interrupted (signal {signal}): every finished row is in its results.json and the row in \
                 training saved a snapshot; run the same command with --resume to keep the finished rows \
                 and continue from there"
            );
            std::process::exit(128 + signal);
        }
        eprintln!("error: {}", causes(&e));
        std::process::exit(1);
    }
}

/// The signal, when `e` is (or wraps) a stop asked for by Ctrl-C or SIGTERM.
fn interrupted(e: &anyhow::Error) -> Option<i32> {
    e.chain().find_map(|c| match c.downcast_ref::<affect_lab::Error>() {
        Some(affect_lab::Error::Interrupted { signal }) => Some(*signal),
        _ => None,
    })
}

/// The error and its causes, each said once: our errors already print the OS or parser error
/// they wrap, which the chain would repeat.
fn causes(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain().map(|c| c.to_string()) {
        if !out.contains(&cause) {
            out += if out.is_empty() { "" } else { ": " };
            out += &cause;
        }
    }
    out
}

fn real_main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if !affect_lab::malloc::keep_freed_memory() {
        eprintln!("warning: glibc refused the allocator settings; CPU training will fault memory in at every step");
    }
    if let Some(w) = &cli.weights_dir {
        // read by every weights lookup; set before any thread starts
        std::env::set_var(affect_lab::models::weights::WEIGHTS_ENV, w);
    }
    if !affect_lab::numerics::flush_denormals(true) {
        eprintln!(
            "warning: denormal floats could not be flushed to zero on every thread; attention layers may run slowly"
        );
    }
    let dev = device::parse(&cli.device)?;
    eprintln!("affect-lab {}: {}", env!("CARGO_PKG_VERSION"), device::describe(dev));
    // commands that check for a stop between steps; the others end at once, as by default
    if matches!(
        cli.command,
        Command::Part1(_) | Command::Part2(_) | Command::All(_) | Command::Evaluate(_) | Command::Bench(_)
    ) {
        affect_lab::interrupt::install();
    }
    match cli.command {
        Command::Part1(a) => run_parts(&a, dev, true, false),
        Command::Part2(a) => run_parts(&a, dev, false, true),
        Command::All(a) => run_parts(&a, dev, true, true),
        Command::Figures { out } => figures(&out),
        Command::Evaluate(a) => evaluate(&a, dev),
        Command::Predict(a) => predict(&a, dev),
        Command::Bench(a) => bench(&a, dev),
        Command::FetchWeights => fetch_weights(),
        Command::Copies { data_dir } => copies(&paths::data_root(data_dir.as_deref())),
        Command::Info { data_dir } => {
            print!("{}", affect_lab::info::report(&paths::data_root(data_dir.as_deref())));
            Ok(())
        }
    }
}
