//! The arguments of the commands that take more than a path.
use affect_lab::Profile;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Clone)]
pub struct RunArgs {
    #[arg(long, value_enum, default_value_t = Profile::Quick)]
    pub profile: Profile,
    /// Data root holding faces/, drug_reviews/, druglib/, imdb/ (default: $AFFECT_LAB_DATA, else
    /// data/ of the checkout, else ./data)
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Run directory (default: runs/<profile> of the checkout, else ./runs/<profile>)
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Keep the rows an earlier invocation finished in --out under the same profile, seed, plan and
    /// test data (and their checkpoints); train only the others. A row that was interrupted
    /// continues from its last snapshot (with or without this flag)
    #[arg(long, visible_alias = "resume")]
    pub reuse: bool,
    /// Clear what an earlier invocation left in --out (a directory holding another configuration is
    /// refused otherwise, so two configurations never mix in one run directory)
    #[arg(long)]
    pub fresh: bool,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Comma-separated seeds, e.g. 42,43,44: the first is the run's seed, the others train the
    /// rows the profile's plan names in `seeds.rows` again (all rows where it names none); results
    /// get per-seed runs, mean and sd, and paired tests pooled over seeds
    #[arg(long, value_delimiter = ',', conflicts_with = "seed")]
    pub seeds: Vec<u64>,
    /// Skip unreadable images / malformed rows (and count them) instead of failing
    #[arg(long)]
    pub skip_bad_inputs: bool,
    /// Comma-separated rows to run (default: all). Part 1: model names (mobilenet_v2, ...);
    /// Part 2: a model (minilm, bilstm) or a model_source run (minilm_drugscom, ...)
    #[arg(long, value_delimiter = ',')]
    pub models: Vec<String>,
    /// JSON file overriding the profile's plans, e.g. {"part2": {"max_train": 3000}} (keys as in
    /// results.json's `plan`; a key the plan lacks is an error)
    #[arg(long)]
    pub plan: Option<PathBuf>,
    /// Do not render figures
    #[arg(long)]
    pub no_figures: bool,
}

#[derive(Args)]
pub struct EvaluateArgs {
    /// A finished run directory (holding part1/ and/or part2/)
    #[arg(long)]
    pub run: PathBuf,
    /// Data to score on: a data root (faces/, drug_reviews/), a split folder (train/valid/test),
    /// a plain `<class>/<images>` folder, or a review CSV/TSV
    #[arg(long)]
    pub data_dir: PathBuf,
    /// Which part's models (default: each part the run has and the data holds)
    #[arg(long, value_enum)]
    pub part: Option<affect_lab::trained::evaluate::Part>,
    /// Comma-separated models (default: every trained row of the part)
    #[arg(long, value_delimiter = ',')]
    pub models: Vec<String>,
    /// Output folder under <run>/eval/ (default: the data folder's name and the part)
    #[arg(long)]
    pub name: Option<String>,
    /// Review file: the column holding the text (default: review or text)
    #[arg(long)]
    pub text_column: Option<String>,
    /// Review file: a rating column, binned with the run's threshold (default: rating)
    #[arg(long)]
    pub rating_column: Option<String>,
    /// Review file: a label column of 0/1 or negative/positive (default: label or sentiment)
    #[arg(long)]
    pub label_column: Option<String>,
    /// Skip unreadable images / malformed rows (and list them) instead of failing
    #[arg(long)]
    pub skip_bad_inputs: bool,
    /// Do not render figures
    #[arg(long)]
    pub no_figures: bool,
}

#[derive(Args)]
pub struct BenchArgs {
    /// Folder for rust.json (and pytorch.json with --pytorch), or holding both (--report)
    #[arg(long)]
    pub out: PathBuf,
    /// Pair rust.json with pytorch.json into bench.json and ratio charts, measuring nothing
    #[arg(long)]
    pub report: bool,
    /// Measure PyTorch too, taking turns with ours case by case: this reference script
    /// (scripts/bench_reference.py), run by --python, writes pytorch.json
    #[arg(long, value_name = "SCRIPT")]
    pub pytorch: Option<PathBuf>,
    /// The Python (with torch and torchvision) that runs --pytorch
    #[arg(long, default_value = "python3")]
    pub python: PathBuf,
    /// Input sides at which --pytorch counts every network's FLOPs (Part 1's FLOPs columns read them)
    #[arg(long, default_value = "32,48,64,96,128,224")]
    pub flops_sizes: String,
    /// Timed repeats per measurement
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    /// Untimed calls before them
    #[arg(long, default_value_t = 2)]
    pub warmup: usize,
    /// Image networks (registry names: res_net18, mobile_net_v2, emotion_net_v2, ...); default: the standard four
    #[arg(long, value_delimiter = ',')]
    pub archs: Vec<String>,
    /// Input sides for those networks (default: 96 and the size the quick profile trains each at)
    #[arg(long, value_delimiter = ',')]
    pub sizes: Vec<u32>,
    /// Numerics to time: fp32, fp32+cl, bf16, bf16+cl (default: all four)
    #[arg(long, value_delimiter = ',')]
    pub numerics: Vec<String>,
    /// Batch size of the image and BiLSTM cases
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Leave out MiniLM and the BiLSTM
    #[arg(long)]
    pub no_text: bool,
    /// Leave out the data pipeline and the epoch cases (they read the faces under the data root)
    #[arg(long)]
    pub no_data: bool,
    /// Training batches of real faces per timed call of the end-to-end epoch cases (0: none)
    #[arg(long, default_value_t = affect_lab::bench::cases::EPOCH_BATCHES)]
    pub epoch_batches: usize,
    /// Data root (default: $AFFECT_LAB_DATA, else data/ of the checkout, else ./data)
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Args)]
pub struct PredictArgs {
    /// A finished run directory
    #[arg(long)]
    pub run: PathBuf,
    /// A trained row of the run: a Part 1 model (mobilenet_v2, ...) or a Part 2 run (minilm_drugscom, ...)
    #[arg(long)]
    pub model: String,
    /// Face images to classify (Part 1 models)
    pub images: Vec<PathBuf>,
    /// A review to classify (Part 2 models); repeat for several
    #[arg(long)]
    pub text: Vec<String>,
    /// A file with one review per line (Part 2 models)
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// How many classes to show per input
    #[arg(long, default_value_t = 3)]
    pub top_k: usize,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
    /// The images are ordinary photos: find the faces (OpenCV Haar cascade from Debian's
    /// opencv-data, or $AFFECT_LAB_FACE_CASCADE), classify each, and write <photo>.faces.png
    #[arg(long)]
    pub detect_faces: bool,
    /// With --detect-faces: where the annotated PNGs go
    #[arg(long, default_value = ".")]
    pub annotate_dir: PathBuf,
    /// With --detect-faces: smallest face side searched, in pixels
    #[arg(long, default_value_t = 24)]
    pub min_face: u32,
}
