//! Held-out images that are near-copies of a training image: the same photograph cropped,
//! watermarked or re-encoded, which an exact-pixel deduplication misses. A test image with a copy
//! in train measures memory, not generalisation, so the decks report how many there are and the
//! test accuracy without them.
//!
//! Each image becomes a 16x16 grey thumbnail standardised to zero mean and unit length, so the
//! dot product of two thumbnails is their Pearson correlation: blind to brightness and contrast,
//! tolerant of small crops and of JPEG noise.
use crate::data::faces::{self, FaceDataset, FaceItem};
use crate::error::Result;
use image::imageops::{self, FilterType};
use rayon::prelude::*;
use std::path::PathBuf;
use tch::{Kind, Tensor};

/// Thumbnail correlation at which two images count as one photograph. On the FER-2013 pool every
/// cross-split pair at or above it was the same picture; at 0.93 different people already appear
/// (docs/data.md has the inspection).
pub const SAME_PHOTO: f32 = 0.95;
const SIDE: u32 = 16;
/// Thumbnails flatter than this (grey levels, 0-255) carry no picture to compare.
const FLAT_STD: f32 = 2.0;

/// One held-out image and the training image it copies.
#[derive(Debug, Clone, PartialEq)]
pub struct NearCopy {
    pub split: &'static str,
    /// Position in its split (`FaceDataset::valid` or `test`).
    pub index: usize,
    pub path: PathBuf,
    pub label: i64,
    pub train_path: PathBuf,
    pub train_label: i64,
    pub similarity: f32,
}

impl NearCopy {
    pub fn same_label(&self) -> bool {
        self.label == self.train_label
    }
}

/// The near-copies of training images among the validation and test images, most similar first
/// within each split (validation, then test).
#[derive(Debug, Clone)]
pub struct NearCopies {
    pub threshold: f32,
    pub classes: Vec<String>,
    pub sizes: [usize; 3],
    pub copies: Vec<NearCopy>,
}

impl NearCopies {
    pub fn in_split<'a>(&'a self, split: &'a str) -> impl Iterator<Item = &'a NearCopy> + 'a {
        self.copies.iter().filter(move |c| c.split == split)
    }

    /// How many images of `split` copy a training image, and how many of them under another label.
    pub fn counts(&self, split: &str) -> (usize, usize) {
        (self.in_split(split).count(), self.in_split(split).filter(|c| !c.same_label()).count())
    }

    /// The name of class `label` (its number where the classes do not name it).
    pub fn class(&self, label: i64) -> String {
        self.classes.get(label as usize).cloned().unwrap_or_else(|| label.to_string())
    }

    /// Positions in the test split of the test images that copy a training image.
    pub fn test_indices(&self) -> Vec<usize> {
        self.in_split("test").map(|c| c.index).collect()
    }
}

/// Compare every validation and test image of `ds` with every training image.
pub fn across_splits(ds: &FaceDataset) -> Result<NearCopies> {
    let train = thumbnails(&ds.train)?;
    let mut copies = Vec::new();
    for (split, items) in [("valid", &ds.valid), ("test", &ds.test)] {
        let held_out = thumbnails(items)?;
        for (index, t, similarity) in best_matches(&held_out, &train, SAME_PHOTO) {
            let (it, tr) = (&items[index], &ds.train[t]);
            copies.push(NearCopy {
                split,
                index,
                path: it.path.clone(),
                label: it.label,
                train_path: tr.path.clone(),
                train_label: tr.label,
                similarity,
            });
        }
    }
    let sizes = [ds.train.len(), ds.valid.len(), ds.test.len()];
    Ok(NearCopies { threshold: SAME_PHOTO, classes: ds.classes.clone(), sizes, copies })
}

/// The standardised thumbnail of each item (`None` for a flat image).
fn thumbnails(items: &[FaceItem]) -> Result<Vec<Option<Vec<f32>>>> {
    items.par_iter().map(|it| faces::decode(&it.path).map(|img| thumbnail(&img))).collect()
}

/// Grey 16x16, zero mean, unit length; `None` when there is no picture to compare.
pub fn thumbnail(img: &image::RgbImage) -> Option<Vec<f32>> {
    let grey = imageops::grayscale(img);
    let small = imageops::resize(&grey, SIDE, SIDE, FilterType::Triangle);
    let v: Vec<f32> = small.pixels().map(|p| f32::from(p.0[0])).collect();
    let mean = v.iter().sum::<f32>() / v.len() as f32;
    let centred: Vec<f32> = v.iter().map(|x| x - mean).collect();
    let norm = centred.iter().map(|x| x * x).sum::<f32>().sqrt();
    (norm / (v.len() as f32).sqrt() >= FLAT_STD).then(|| centred.iter().map(|x| x / norm).collect())
}

/// For each of `queries`, its most similar of `pool` when at least `threshold`:
/// (query index, pool index, similarity), most similar first.
pub fn best_matches(
    queries: &[Option<Vec<f32>>],
    pool: &[Option<Vec<f32>>],
    threshold: f32,
) -> Vec<(usize, usize, f32)> {
    let (q, p) = (matrix(queries), matrix(pool));
    let (Some(q), Some(p)) = (q, p) else { return Vec::new() };
    let (best, at) = q.matmul(&p.tr()).max_dim(1, false);
    let best = Vec::<f32>::try_from(&best).unwrap_or_default();
    let at = Vec::<i64>::try_from(&at).unwrap_or_default();
    let mut out: Vec<(usize, usize, f32)> = (0..queries.len())
        .filter(|&i| queries[i].is_some() && best[i] >= threshold)
        .map(|i| (i, at[i] as usize, best[i]))
        .collect();
    out.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
    out
}

/// The thumbnails as rows of a matrix, a flat image's row all zeros (similar to nothing).
fn matrix(rows: &[Option<Vec<f32>>]) -> Option<Tensor> {
    let width = (SIDE * SIDE) as usize;
    let flat: Vec<f32> = rows.iter().flat_map(|r| r.clone().unwrap_or_else(|| vec![0.0; width])).collect();
    (!rows.is_empty()).then(|| Tensor::from_slice(&flat).view([rows.len() as i64, width as i64]).to_kind(Kind::Float))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    /// A 48x48 picture of 8x8 blocks whose grey levels are drawn from `k`.
    fn picture(k: u32) -> RgbImage {
        image::DynamicImage::ImageLuma8(crate::testing::block_picture(k, 0)).to_rgb8()
    }

    fn similarity(a: &RgbImage, b: &RgbImage) -> f32 {
        let (a, b) = (thumbnail(a).unwrap(), thumbnail(b).unwrap());
        a.iter().zip(&b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn a_brighter_noisier_copy_is_the_same_photo_and_another_picture_is_not() {
        let a = picture(1);
        let mut copy = a.clone();
        for (i, p) in copy.pixels_mut().enumerate() {
            let v = (f32::from(p.0[0]) * 0.8 + 30.0 + (i % 7) as f32 - 3.0) as u8;
            *p = Rgb([v, v, v]);
        }
        assert!(similarity(&a, &copy) >= SAME_PHOTO, "{}", similarity(&a, &copy));
        assert!(similarity(&a, &picture(6)) < SAME_PHOTO, "{}", similarity(&a, &picture(6)));
        assert!((similarity(&a, &a) - 1.0).abs() < 1e-4, "unit length");
    }

    #[test]
    fn a_flat_image_has_no_thumbnail_and_matches_nothing() {
        let flat = RgbImage::from_pixel(48, 48, Rgb([128, 128, 128]));
        assert!(thumbnail(&flat).is_none());
        let pool = vec![thumbnail(&picture(1)), None];
        let queries = vec![None, thumbnail(&picture(1)), thumbnail(&picture(9))];
        assert_eq!(best_matches(&queries, &pool, SAME_PHOTO), vec![(1, 0, best_matches(&queries, &pool, 0.0)[0].2)]);
        assert!(best_matches(&[], &pool, 0.0).is_empty());
    }

    #[test]
    fn matches_are_the_most_similar_pool_image_most_similar_first() {
        let pool: Vec<_> = (0..8).map(|k| thumbnail(&picture(k))).collect();
        let mut noisy = picture(5);
        for (i, p) in noisy.pixels_mut().enumerate() {
            let v = p.0[0].saturating_add((i % 5) as u8 * 6);
            *p = Rgb([v, v, v]);
        }
        let queries = vec![thumbnail(&noisy), thumbnail(&picture(2)), thumbnail(&picture(11))];
        let m = best_matches(&queries, &pool, 0.9);
        assert_eq!(m.iter().map(|x| (x.0, x.1)).collect::<Vec<_>>(), vec![(1, 2), (0, 5)], "the exact copy first");
        assert!(m[0].2 > m[1].2 && m[1].2 >= 0.9, "{m:?}");
    }

    #[test]
    fn the_fer_pool_has_a_known_test_image_copied_in_train_under_another_label() {
        let root = crate::testing::require(crate::config::paths::FACES);
        let ds = faces::load(&root, Default::default()).unwrap();
        let found = across_splits(&ds).unwrap();
        let name = |p: &PathBuf| p.file_name().unwrap().to_string_lossy().into_owned();
        let fear = found.in_split("test").find(|c| name(&c.path) == "PublicTest_60377876.jpg").expect("the known copy");
        assert_eq!(name(&fear.train_path), "PublicTest_93768797.jpg");
        assert!(!fear.same_label(), "fear in test, surprise in train");
        assert!(found.copies.iter().all(|c| c.similarity >= SAME_PHOTO));
        let n = found.test_indices().len();
        assert!((1..=25).contains(&n), "a handful of the 500 test images, not {n}");
        assert!(found
            .test_indices()
            .iter()
            .all(|&i| ds.test[i].path == found.in_split("test").find(|c| c.index == i).unwrap().path));
    }
}
