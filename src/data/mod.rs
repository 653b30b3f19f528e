//! Datasets: one file per dataset, plus shared text and image utilities.
pub mod augment;
pub mod batches;
pub mod faces;
pub mod tokenize;
pub mod vocab;
pub mod delimited;
pub mod druglib;
pub mod drugs_com;
pub mod eda;
pub mod imdb;
pub mod text;
#[cfg(test)]
pub(crate) mod review_sample;
