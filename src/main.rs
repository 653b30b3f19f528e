//! `affect-lab`: run the experiment headless.
use affect_lab::config::{paths, run};
use affect_lab::{device, Profile};
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
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

#[derive(Args, Clone)]
struct RunArgs {
    #[arg(long, value_enum, default_value_t = Profile::Quick)]
    profile: Profile,
    /// Data root holding faces/, drug_reviews/, druglib/, imdb/ (default: $AFFECT_LAB_DATA, else
    /// data/ of the checkout, else ./data)
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Run directory (default: runs/<profile> of the checkout, else ./runs/<profile>)
    #[arg(long)]
    out: Option<PathBuf>,
    /// Keep the rows an earlier invocation finished in --out under the same profile, seed, plan and
    /// test data (and their checkpoints); train only the others. A row that was interrupted
    /// continues from its last snapshot (with or without this flag)
    #[arg(long, visible_alias = "resume")]
    reuse: bool,
    /// Clear what an earlier invocation left in --out (a directory holding another configuration is
    /// refused otherwise, so two configurations never mix in one run directory)
    #[arg(long)]
    fresh: bool,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Comma-separated seeds, e.g. 42,43,44: the first is the run's seed, the others train the
    /// rows the profile's plan names in `seeds.rows` again (all rows where it names none); results
    /// get per-seed runs, mean and sd, and paired tests pooled over seeds
    #[arg(long, value_delimiter = ',', conflicts_with = "seed")]
    seeds: Vec<u64>,
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

#[derive(Args)]
struct EvaluateArgs {
    /// A finished run directory (holding part1/ and/or part2/)
    #[arg(long)]
    run: PathBuf,
    /// Data to score on: a data root (faces/, drug_reviews/), a split folder (train/valid/test),
    /// a plain `<class>/<images>` folder, or a review CSV/TSV
    #[arg(long)]
    data_dir: PathBuf,
    /// Which part's models (default: each part the run has and the data holds)
    #[arg(long, value_enum)]
    part: Option<affect_lab::trained::evaluate::Part>,
    /// Comma-separated models (default: every trained row of the part)
    #[arg(long, value_delimiter = ',')]
    models: Vec<String>,
    /// Output folder under <run>/eval/ (default: the data folder's name and the part)
    #[arg(long)]
    name: Option<String>,
    /// Review file: the column holding the text (default: review or text)
    #[arg(long)]
    text_column: Option<String>,
    /// Review file: a rating column, binned with the run's threshold (default: rating)
    #[arg(long)]
    rating_column: Option<String>,
    /// Review file: a label column of 0/1 or negative/positive (default: label or sentiment)
    #[arg(long)]
    label_column: Option<String>,
    /// Skip unreadable images / malformed rows (and list them) instead of failing
    #[arg(long)]
    skip_bad_inputs: bool,
    /// Do not render figures
    #[arg(long)]
    no_figures: bool,
}

#[derive(Args)]
struct BenchArgs {
    /// Folder for rust.json (and pytorch.json with --pytorch), or holding both (--report)
    #[arg(long)]
    out: PathBuf,
    /// Pair rust.json with pytorch.json into bench.json and ratio charts, measuring nothing
    #[arg(long)]
    report: bool,
    /// Measure PyTorch too, taking turns with ours case by case: this reference script
    /// (scripts/bench_reference.py), run by --python, writes pytorch.json
    #[arg(long, value_name = "SCRIPT")]
    pytorch: Option<PathBuf>,
    /// The Python (with torch and torchvision) that runs --pytorch
    #[arg(long, default_value = "python3")]
    python: PathBuf,
    /// Input sides at which --pytorch counts every network's FLOPs (Part 1's FLOPs columns read them)
    #[arg(long, default_value = "32,48,64,96,128,224")]
    flops_sizes: String,
    /// Timed repeats per measurement
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Untimed calls before them
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// Image networks (registry names: res_net18, mobile_net_v2, emotion_net_v2, ...); default: the standard four
    #[arg(long, value_delimiter = ',')]
    archs: Vec<String>,
    /// Input sides for those networks (default: 96 and the size the quick profile trains each at)
    #[arg(long, value_delimiter = ',')]
    sizes: Vec<u32>,
    /// Numerics to time: fp32, fp32+cl, bf16, bf16+cl (default: all four)
    #[arg(long, value_delimiter = ',')]
    numerics: Vec<String>,
    /// Batch size of the image and BiLSTM cases
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Leave out MiniLM and the BiLSTM
    #[arg(long)]
    no_text: bool,
    /// Leave out the data pipeline and the epoch cases (they read the faces under the data root)
    #[arg(long)]
    no_data: bool,
    /// Training batches of real faces per timed call of the end-to-end epoch cases (0: none)
    #[arg(long, default_value_t = affect_lab::bench::cases::EPOCH_BATCHES)]
    epoch_batches: usize,
    /// Data root (default: $AFFECT_LAB_DATA, else data/ of the checkout, else ./data)
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

#[derive(Args)]
struct PredictArgs {
    /// A finished run directory
    #[arg(long)]
    run: PathBuf,
    /// A trained row of the run: a Part 1 model (mobilenet_v2, ...) or a Part 2 run (minilm_drugscom, ...)
    #[arg(long)]
    model: String,
    /// Face images to classify (Part 1 models)
    images: Vec<PathBuf>,
    /// A review to classify (Part 2 models); repeat for several
    #[arg(long)]
    text: Vec<String>,
    /// A file with one review per line (Part 2 models)
    #[arg(long)]
    file: Option<PathBuf>,
    /// How many classes to show per input
    #[arg(long, default_value_t = 3)]
    top_k: usize,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
    /// The images are ordinary photos: find the faces (OpenCV Haar cascade from Debian's
    /// opencv-data, or $AFFECT_LAB_FACE_CASCADE), classify each, and write <photo>.faces.png
    #[arg(long)]
    detect_faces: bool,
    /// With --detect-faces: where the annotated PNGs go
    #[arg(long, default_value = ".")]
    annotate_dir: PathBuf,
    /// With --detect-faces: smallest face side searched, in pixels
    #[arg(long, default_value_t = 24)]
    min_face: u32,
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
        Command::Info { data_dir } => {
            print!("{}", affect_lab::info::report(&paths::data_root(data_dir.as_deref())));
            Ok(())
        }
    }
}

fn run_parts(a: &RunArgs, dev: tch::Device, want1: bool, want2: bool) -> anyhow::Result<()> {
    // `--models` names rows of either part; a part none of them names is not run
    let names1: Vec<String> = affect_lab::experiments::part1::model_specs().into_iter().map(|s| s.name).collect();
    let names2 = affect_lab::experiments::part2::row_names();
    let known = |names: &[String]| a.models.iter().any(|m| names.contains(m));
    let (part1, part2) =
        if a.models.is_empty() { (want1, want2) } else { (want1 && known(&names1), want2 && known(&names2)) };
    let offered: Vec<&String> = names1.iter().filter(|_| want1).chain(names2.iter().filter(|_| want2)).collect();
    if let Some(bad) = a.models.iter().find(|m| !offered.contains(m)) {
        anyhow::bail!(
            "unknown model `{bad}` for this command; known: {}",
            offered.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        );
    }
    let out = a.out.clone().unwrap_or_else(|| paths::default_run_dir(a.profile));
    let data_root = paths::data_root(a.data_dir.as_deref());
    let mut plan_patch = a.plan.as_deref().map(affect_lab::config::plan_patch::read).transpose()?;
    let seed = a.seeds.first().copied().unwrap_or(a.seed);
    if a.seeds.len() > 1 {
        plan_patch = Some(affect_lab::config::plan_patch::with_extra_seeds(plan_patch, &a.seeds[1..]));
    }
    let config = run::RunConfig {
        skip_bad_inputs: a.skip_bad_inputs,
        models: a.models.clone(),
        plan_patch,
        reuse: a.reuse,
        fresh: a.fresh,
        ..run::RunConfig::new(a.profile, seed, data_root.clone(), out.clone(), dev)
    };
    // a bad --plan key must fail now, not after Part 1 has trained for twenty minutes
    affect_lab::experiments::part1::plan(&config)?;
    affect_lab::experiments::part2::plan(&config)?;
    let mut needed = Vec::new();
    if part1 {
        needed.extend(affect_lab::experiments::part1::DATASETS);
    }
    if part2 {
        needed.extend(affect_lab::experiments::part2::datasets());
    }
    paths::require(&data_root, &needed)?;
    let r = run::Run::new(config, dev)?;
    // another configuration in --out is refused before any part trains, not after the first
    use affect_lab::experiments::{part1 as p1, part2 as p2, reuse};
    if part1 {
        reuse::refuse_another::<p1::Results>(&r, &p1::plan(&r.config)?)?;
    }
    if part2 {
        reuse::refuse_another::<p2::Results>(&r, &p2::plan(&r.config)?)?;
    }
    eprintln!("profile {}, seed {seed}, data {}, out {}", a.profile, data_root.display(), out.display());
    if part1 {
        let res = affect_lab::experiments::part1::run(&r).context("part 1 failed")?;
        if !a.no_figures {
            let dir = r.part_dir(affect_lab::experiments::part1::PART);
            affect_lab::report::part1_outputs(&dir, &res).context("part 1 figures failed")?;
        }
        eprintln!("{}", affect_lab::experiments::part1::summary(&res));
    }
    if part2 {
        affect_lab::interrupt::check()?;
        let res = affect_lab::experiments::part2::run(&r).context("part 2 failed")?;
        if !a.no_figures {
            let dir = r.part_dir(affect_lab::experiments::part2::PART);
            affect_lab::report::part2_outputs(&dir, &res).context("part 2 figures failed")?;
        }
        eprintln!("{}", affect_lab::experiments::part2::summary(&res));
    }
    eprintln!("results in {}", out.display());
    Ok(())
}

fn figures(out: &std::path::Path) -> anyhow::Result<()> {
    let mut any = false;
    if let Some(r) =
        run::load_results::<affect_lab::experiments::part1::Results>(out, affect_lab::experiments::part1::PART)?
    {
        affect_lab::report::part1_outputs(&out.join("part1"), &r)?;
        any = true;
    }
    if let Some(r) =
        run::load_results::<affect_lab::experiments::part2::Results>(out, affect_lab::experiments::part2::PART)?
    {
        affect_lab::report::part2_outputs(&out.join("part2"), &r)?;
        any = true;
    }
    anyhow::ensure!(any, "no part1/results.json or part2/results.json under {}", out.display());
    eprintln!("figures written under {}", out.display());
    Ok(())
}

fn evaluate(a: &EvaluateArgs, dev: tch::Device) -> anyhow::Result<()> {
    use affect_lab::trained::{eval_data::ReviewColumns, evaluate as ev};
    let opts = ev::EvalOptions {
        run: a.run.clone(),
        data: a.data_dir.clone(),
        part: a.part,
        models: a.models.clone(),
        name: a.name.clone(),
        columns: ReviewColumns {
            text: a.text_column.clone(),
            rating: a.rating_column.clone(),
            label: a.label_column.clone(),
        },
        skip_bad_inputs: a.skip_bad_inputs,
        figures: !a.no_figures,
        device: dev,
    };
    for (dir, res) in ev::evaluate(&opts)? {
        println!("{}", ev::summary(&res));
        eprintln!("written to {}", dir.display());
    }
    Ok(())
}

fn predict(a: &PredictArgs, dev: tch::Device) -> anyhow::Result<()> {
    use affect_lab::trained::{predict as pr, RunDir, TrainedModel};
    let t0 = std::time::Instant::now();
    let model = RunDir::open(&a.run)?.load(&a.model, dev)?;
    let loaded = t0.elapsed().as_secs_f64();
    let t1 = std::time::Instant::now();
    let predictions = match &model {
        TrainedModel::Faces(m) => {
            anyhow::ensure!(
                a.text.is_empty() && a.file.is_none(),
                "`{}` classifies face images: pass image files, not --text/--file",
                a.model
            );
            anyhow::ensure!(!a.images.is_empty(), "no image files given for `{}`", a.model);
            if a.detect_faces {
                use affect_lab::trained::detect::{Cascade, DetectOptions};
                let cascade = Cascade::load(&Cascade::find()?)?;
                let opts = DetectOptions { min_size: a.min_face, ..Default::default() };
                let (preds, written) = pr::faces_in_photos(m, &cascade, &a.images, opts, a.top_k, &a.annotate_dir)?;
                written.iter().for_each(|w| eprintln!("annotated photo: {}", w.display()));
                preds
            } else {
                pr::faces(m, &a.images, a.top_k)?
            }
        }
        TrainedModel::Reviews(m) => {
            anyhow::ensure!(
                a.images.is_empty() && !a.detect_faces,
                "`{}` classifies reviews: use --text or --file, not image files",
                a.model
            );
            let mut inputs = pr::text_args(&a.text)?;
            if let Some(f) = &a.file {
                inputs.extend(pr::read_text_file(f)?);
            }
            anyhow::ensure!(!inputs.is_empty(), "no review given for `{}`: use --text \"...\" or --file F", a.model);
            pr::texts(m, &inputs, a.top_k)?
        }
    };
    let n = predictions.len();
    let secs = t1.elapsed().as_secs_f64();
    if a.json {
        let doc = serde_json::json!({"run": a.run.display().to_string(), "model": model.name(), "classes": model.classes(), "predictions": predictions});
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!("{}", pr::format(&predictions));
    }
    let plural = if n == 1 { "" } else { "s" };
    eprintln!(
        "model loaded in {loaded:.3} s; {n} prediction{plural} in {secs:.3} s ({:.1} ms each, batch 1)",
        secs * 1e3 / n.max(1) as f64
    );
    Ok(())
}

fn fetch_weights() -> anyhow::Result<()> {
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

fn bench(a: &BenchArgs, dev: tch::Device) -> anyhow::Result<()> {
    use affect_lab::bench;
    if dev != tch::Device::Cpu && !a.report {
        eprintln!("bench times the CPU, the machine kind the committed result is for; {dev:?} is not measured");
    }
    if a.report {
        let (rust, pytorch) =
            (bench::read_side(&a.out.join("rust.json"))?, bench::read_side(&a.out.join("pytorch.json"))?);
        let b = bench::report::pair(&rust, &pytorch);
        bench::report::write(&a.out, &b)?;
        for t in &b.targets {
            println!("{:<70} {:>6.2} (goal {:.2}) {}", t.what, t.value, t.goal, if t.met { "met" } else { "NOT met" });
        }
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
