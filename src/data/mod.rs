//! Datasets: one file per dataset, plus shared text and image utilities.
pub mod augment;
pub mod batches;
pub mod delimited;
pub mod druglib;
pub mod drugs_com;
pub mod eda;
pub mod faces;
pub mod imdb;
#[cfg(test)]
pub(crate) mod review_sample;
pub mod text;
pub mod tokenize;
pub mod vocab;
