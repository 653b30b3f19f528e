//! One error type for the library. Every variant that comes from user input names the file
//! (and line, where there is one) so the CLI can print something actionable.
use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },

    /// Malformed content in a data file. `line` is 1-based where the format has lines.
    #[error("{}{}: {msg}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Data { path: PathBuf, line: Option<usize>, msg: String },

    #[error("missing data:\n{0}")]
    MissingData(String),

    #[error("weights {path}: {msg}")]
    Weights { path: PathBuf, msg: String },

    #[error("invalid configuration: {0}")]
    Config(String),

    #[error("torch: {0}")]
    Torch(#[from] tch::TchError),

    #[error("polars: {0}")]
    Polars(#[from] polars::error::PolarsError),

    #[error("tokenizer {path}: {msg}")]
    Tokenizer { path: PathBuf, msg: String },

    #[error("json {path}: {source}")]
    Json { path: PathBuf, source: serde_json::Error },

    /// Ctrl-C or SIGTERM asked the run to stop (see `interrupt`).
    #[error("interrupted by signal {signal}")]
    Interrupted { signal: i32 },

    /// A chart could not be drawn or encoded (bad input shape, font or backend failure).
    #[error("plot: {0}")]
    Plot(String),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
    pub fn data(path: impl Into<PathBuf>, line: Option<usize>, msg: impl Into<String>) -> Self {
        Error::Data { path: path.into(), line, msg: msg.into() }
    }
    pub fn weights(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        Error::Weights { path: path.into(), msg: msg.into() }
    }
}
