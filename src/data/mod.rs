//! Datasets: faces (images, augmentation, batches) and reviews (`text`), plus the EDA numbers.
pub mod augment;
pub mod batches;
pub mod eda;
pub mod faces;
pub mod image_source;
pub mod near_copies;
pub mod text;
mod warp;
