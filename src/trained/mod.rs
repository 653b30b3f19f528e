//! Using a finished run's models after training: score them on other data (`evaluate`) and
//! classify new faces and reviews (`predict`), with exactly the preprocessing the run used.
pub mod detect;
pub mod eval_data;
mod eval_report;
pub mod eval_results;
pub mod evaluate;
pub mod loaded;
pub mod notebook;
pub mod predict;

pub use loaded::{FaceModel, RunDir, TextModel, TrainedModel};
