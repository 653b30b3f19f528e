//! Batches for the training loop. One trait over image and text data; image batches are
//! decoded and augmented on a background thread (rayon inside) so the model sets the pace.
use crate::data::augment::Transform;
use crate::data::faces::{self, FaceItem};
use crate::error::Result;
use image::RgbImage;
use rand::{seq::SliceRandom, SeedableRng};
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, OnceLock};
use tch::{Kind, Tensor};

pub struct Batch {
    pub x: Tensor,
    pub y: Tensor,
    /// Positions of the batch's samples in the source, for per-sample reporting.
    pub index: Vec<usize>,
}

pub trait BatchSource {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn labels(&self) -> Vec<i64>;
    /// All batches of one epoch. `train` shuffles (seeded by `seed`, `epoch`) and augments.
    fn batches(&self, epoch: u64, train: bool, batch_size: usize) -> Box<dyn Iterator<Item = Result<Batch>>> {
        self.batches_from(epoch, train, batch_size, 0)
    }
    /// The batches of one epoch from batch `skip` on: the same batches `batches` yields after its
    /// first `skip` (a resumed run continues mid-epoch).
    fn batches_from(
        &self,
        epoch: u64,
        train: bool,
        batch_size: usize,
        skip: usize,
    ) -> Box<dyn Iterator<Item = Result<Batch>>>;
}

fn order(n: usize, shuffle: bool, seed: u64, epoch: u64) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    if shuffle {
        idx.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed.wrapping_add(epoch.wrapping_mul(0x9E37_79B9))));
    }
    idx
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

/// Images on disk plus the transforms for training and evaluation.
#[derive(Clone)]
pub struct ImageSource {
    pub items: Arc<Vec<FaceItem>>,
    pub train_tf: Transform,
    pub eval_tf: Transform,
    pub seed: u64,
    /// Batches decoded ahead of the model.
    pub prefetch: usize,
    decoded: Arc<Decoded>,
}

/// Decoded images kept after their first epoch, up to a byte budget: the faces are small, so
/// every epoch after the first augments from memory instead of decoding the JPEG again.
struct Decoded {
    images: Vec<OnceLock<RgbImage>>,
    /// Bytes still allowed; images that do not fit are decoded every time.
    budget: AtomicUsize,
}

/// Memory the decoded images of one source may keep.
pub const DECODED_BUDGET: usize = 256 << 20;

impl Decoded {
    fn new(n: usize) -> Self {
        Decoded { images: (0..n).map(|_| OnceLock::new()).collect(), budget: AtomicUsize::new(DECODED_BUDGET) }
    }

    /// Apply `f` to image `i`, decoded from `path` unless kept from an earlier epoch.
    fn with<T>(&self, i: usize, path: &std::path::Path, f: impl FnOnce(&RgbImage) -> T) -> Result<T> {
        if let Some(img) = self.images[i].get() {
            return Ok(f(img));
        }
        let img = faces::decode(path)?;
        let bytes = img.as_raw().len();
        let fits = self.budget.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| b.checked_sub(bytes)).is_ok();
        if !fits {
            return Ok(f(&img));
        }
        let out = f(&img);
        let _ = self.images[i].set(img);
        Ok(out)
    }
}

impl ImageSource {
    pub fn new(items: Vec<FaceItem>, train_tf: Transform, eval_tf: Transform, seed: u64) -> Self {
        let decoded = Arc::new(Decoded::new(items.len()));
        ImageSource { items: Arc::new(items), train_tf, eval_tf, seed, prefetch: 3, decoded }
    }

    /// Decode and transform samples `idx` into one NCHW buffer.
    fn assemble(
        items: &[FaceItem],
        decoded: &Decoded,
        idx: &[usize],
        (tf, seed, epoch): (&Transform, u64, u64),
    ) -> Result<(Vec<f32>, Vec<i64>)> {
        let mut x = vec![0f32; idx.len() * tf.sample_len()];
        x.par_chunks_mut(tf.sample_len()).zip(idx).try_for_each(|(out, &i)| {
            decoded.with(i, &items[i].path, |img| tf.apply_into(img, &mut Transform::rng(seed, epoch, i), out))
        })?;
        Ok((x, idx.iter().map(|&i| items[i].label).collect()))
    }
}

impl BatchSource for ImageSource {
    fn len(&self) -> usize {
        self.items.len()
    }
    fn labels(&self) -> Vec<i64> {
        self.items.iter().map(|i| i.label).collect()
    }
    fn batches_from(
        &self,
        epoch: u64,
        train: bool,
        batch_size: usize,
        skip: usize,
    ) -> Box<dyn Iterator<Item = Result<Batch>>> {
        let idx = order(self.items.len(), train, self.seed, epoch);
        let tf = if train { self.train_tf.clone() } else { self.eval_tf.clone() };
        let (items, seed, decoded) = (self.items.clone(), self.seed, self.decoded.clone());
        let (tx, rx) = mpsc::sync_channel(self.prefetch.max(1));
        std::thread::spawn(move || {
            // augmentation is seeded per sample, so skipped batches need not be decoded
            for chunk in idx.chunks(batch_size.max(1)).skip(skip) {
                // a panic here would end the channel like the end of the data: deliver it as an error
                let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    Self::assemble(&items, &decoded, chunk, (&tf, seed, epoch))
                }))
                .unwrap_or_else(|p| Err(crate::Error::Config(format!("image batch thread failed: {}", panic_text(&p)))))
                .map(|(x, y)| (x, y, chunk.to_vec()));
                let stop = out.is_err();
                if tx.send(out).is_err() || stop {
                    return; // receiver dropped (early stop) or an error was delivered
                }
            }
        });
        let s = self.eval_tf.size as i64;
        Box::new(rx.into_iter().map(move |r| {
            r.map(|(x, y, index)| {
                let n = y.len() as i64;
                Batch { x: Tensor::from_slice(&x).view([n, 3, s, s]), y: Tensor::from_slice(&y), index }
            })
        }))
    }
}

/// Training batches are formed inside windows of this many batches, sorted by length: the
/// batches stay random at the scale of an epoch while each pads to nearly its own length.
/// (The same idea as `group_by_length` in transformers' Trainer, which uses 50.)
pub const LENGTH_GROUP_WINDOW: usize = 50;

/// Token id sequences (already encoded, unpadded) with labels; batches are padded to their longest.
#[derive(Clone)]
pub struct TokenSource {
    pub ids: Arc<Vec<Vec<i64>>>,
    pub labels: Arc<Vec<i64>>,
    pub pad_id: i64,
    pub seed: u64,
    /// Batch texts of similar length together (cuts padding; on drug reviews at 128 tokens the
    /// padded length per text falls from ~128 to ~94). Evaluation batches are then length-sorted.
    pub group_by_length: bool,
}

impl TokenSource {
    pub fn new(ids: Vec<Vec<i64>>, labels: Vec<i64>, pad_id: i64, seed: u64) -> Self {
        assert_eq!(ids.len(), labels.len(), "ids and labels differ in length");
        TokenSource { ids: Arc::new(ids), labels: Arc::new(labels), pad_id, seed, group_by_length: true }
    }

    /// Rows of each batch of one epoch.
    fn batch_rows(&self, epoch: u64, train: bool, batch_size: usize) -> Vec<Vec<usize>> {
        let bs = batch_size.max(1);
        let idx = order(self.ids.len(), train, self.seed, epoch);
        if !self.group_by_length {
            return idx.chunks(bs).map(<[usize]>::to_vec).collect();
        }
        let len = |i: &usize| std::cmp::Reverse(self.ids[*i].len());
        if !train {
            let mut idx = idx;
            idx.sort_by_key(len);
            return idx.chunks(bs).map(<[usize]>::to_vec).collect();
        }
        let mut rows: Vec<Vec<usize>> = Vec::new();
        for window in idx.chunks(bs * LENGTH_GROUP_WINDOW) {
            let mut w = window.to_vec();
            w.sort_by_key(len); // stable: ties keep the shuffled order
            rows.extend(w.chunks(bs).map(<[usize]>::to_vec));
        }
        // without this, every window would run from its longest batch to its shortest
        rows.shuffle(&mut rand::rngs::StdRng::seed_from_u64(
            self.seed ^ epoch.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x5EED,
        ));
        rows
    }

    /// Pad `rows` of `ids` into an `[N,L]` tensor, L = longest row (at least 1).
    pub fn pad(ids: &[Vec<i64>], rows: &[usize], pad_id: i64) -> Tensor {
        let l = rows.iter().map(|&i| ids[i].len()).max().unwrap_or(0).max(1);
        let mut flat = vec![pad_id; rows.len() * l];
        for (r, &i) in rows.iter().enumerate() {
            flat[r * l..r * l + ids[i].len()].copy_from_slice(&ids[i]);
        }
        Tensor::from_slice(&flat).view([rows.len() as i64, l as i64])
    }
}

impl BatchSource for TokenSource {
    fn len(&self) -> usize {
        self.ids.len()
    }
    fn labels(&self) -> Vec<i64> {
        self.labels.to_vec()
    }
    fn batches_from(
        &self,
        epoch: u64,
        train: bool,
        batch_size: usize,
        skip: usize,
    ) -> Box<dyn Iterator<Item = Result<Batch>>> {
        let chunks: Vec<Vec<usize>> = self.batch_rows(epoch, train, batch_size).into_iter().skip(skip).collect();
        let (ids, labels, pad) = (self.ids.clone(), self.labels.clone(), self.pad_id);
        Box::new(chunks.into_iter().map(move |rows| {
            let y: Vec<i64> = rows.iter().map(|&i| labels[i]).collect();
            Ok(Batch { x: Self::pad(&ids, &rows, pad), y: Tensor::from_slice(&y).to_kind(Kind::Int64), index: rows })
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_preparing_images_is_an_error_not_the_end_of_the_data() {
        let dir = tempfile::tempdir().unwrap();
        let items: Vec<FaceItem> = (0..4)
            .map(|i| {
                let path = dir.path().join(format!("{i}.png"));
                image::GrayImage::from_pixel(8, 8, image::Luma([i as u8 * 40])).save(&path).unwrap();
                FaceItem { path, label: i % 2 }
            })
            .collect();
        // an empty rotation range makes the sampler panic, as an unchecked plan once did
        let bad = crate::data::augment::AugmentConfig { rotate_deg: -5.0, ..Default::default() };
        let src = ImageSource::new(items, Transform::train(8, bad), Transform::eval(8), 1);
        let first = src.batches(1, true, 2).next().expect("an item, not the end of the data");
        let err = first.err().expect("an error").to_string();
        assert!(err.contains("image batch thread failed"), "{err}");
        assert_eq!(src.batches(1, false, 2).filter(|b| b.is_ok()).count(), 2, "evaluation does not augment");
    }

    #[test]
    fn token_batches_pad_and_cover_every_sample_once() {
        let src = TokenSource::new(vec![vec![5, 6, 7], vec![8], vec![9, 10]], vec![1, 0, 1], 0, 3);
        let batches: Vec<Batch> = src.batches(0, true, 2).collect::<Result<_>>().unwrap();
        let mut seen: Vec<usize> = batches.iter().flat_map(|b| b.index.clone()).collect();
        seen.sort();
        assert_eq!(seen, vec![0, 1, 2]);
        let eval: Vec<Batch> = src.batches(0, false, 3).collect::<Result<_>>().unwrap();
        assert_eq!(eval[0].x.size(), vec![3, 3]);
        // evaluation batches are sorted longest first
        assert_eq!(eval[0].index, vec![0, 2, 1]);
        assert_eq!(Vec::<i64>::try_from(eval[0].x.view([-1])).unwrap(), vec![5, 6, 7, 9, 10, 0, 8, 0, 0]);
        let plain = TokenSource { group_by_length: false, ..src };
        let eval: Vec<Batch> = plain.batches(0, false, 3).collect::<Result<_>>().unwrap();
        assert_eq!(Vec::<i64>::try_from(eval[0].x.view([-1])).unwrap(), vec![5, 6, 7, 8, 0, 0, 9, 10, 0]);
    }

    fn padded_tokens(src: &TokenSource, train: bool) -> i64 {
        src.batches(0, train, 8).map(|b| b.unwrap().x.numel() as i64).sum()
    }

    #[test]
    fn length_grouping_cuts_padding_and_keeps_every_sample_once() {
        // lengths 1..=400 in a scrambled order
        let ids: Vec<Vec<i64>> = (0..400).map(|i| vec![1; 1 + (i * 7919) % 400]).collect();
        let labels = vec![0; 400];
        let grouped = TokenSource::new(ids.clone(), labels.clone(), 0, 5);
        let plain = TokenSource { group_by_length: false, ..grouped.clone() };
        for train in [true, false] {
            let mut seen: Vec<usize> = grouped.batches(0, train, 8).flat_map(|b| b.unwrap().index).collect();
            seen.sort();
            assert_eq!(seen, (0..400).collect::<Vec<_>>());
            let (g, p) = (padded_tokens(&grouped, train), padded_tokens(&plain, train));
            assert!(g * 10 < p * 6, "grouped {g} vs plain {p} padded tokens (train: {train})");
        }
        // reproducible per epoch, different across epochs, batch order not sorted by length
        let rows = |e| grouped.batch_rows(e, true, 8);
        assert_eq!(rows(1), rows(1));
        assert_ne!(rows(1), rows(2));
        let longest: Vec<usize> = rows(1).iter().map(|r| ids[r[0]].len()).collect();
        assert!(longest.windows(2).any(|w| w[0] < w[1]) && longest.windows(2).any(|w| w[0] > w[1]));
    }

    #[test]
    fn shuffling_depends_on_epoch_and_is_reproducible() {
        assert_eq!(order(50, true, 1, 2), order(50, true, 1, 2));
        assert_ne!(order(50, true, 1, 2), order(50, true, 1, 3));
        assert_eq!(order(5, false, 1, 2), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn image_batches_from_real_faces() {
        let root = crate::testing::require(crate::config::paths::FACES);
        let ds = faces::load(&root, Default::default()).unwrap();
        let items: Vec<FaceItem> = ds.test.iter().take(10).cloned().collect();
        let src = ImageSource::new(items, Transform::train(32, Default::default()), Transform::eval(32), 7);
        let b: Vec<Batch> = src.batches(0, false, 4).collect::<Result<_>>().unwrap();
        assert_eq!(b.len(), 3);
        assert_eq!(b[0].x.size(), vec![4, 3, 32, 32]);
        assert_eq!(b[2].x.size(), vec![2, 3, 32, 32]);
        // grey faces: the three channels carry the same picture before normalisation
        let a1: Vec<Batch> = src.batches(1, true, 10).collect::<Result<_>>().unwrap();
        let a2: Vec<Batch> = src.batches(1, true, 10).collect::<Result<_>>().unwrap();
        assert!(a1[0].x.equal(&a2[0].x), "augmented epoch must be reproducible");
        let a3: Vec<Batch> = src.batches(2, true, 10).collect::<Result<_>>().unwrap();
        assert!(!a1[0].x.equal(&a3[0].x), "a new epoch draws new augmentations");
    }

    /// `n` 48x48 PNG faces `0.png`, `1.png`, ... in `dir`, face `k` labelled `k` with pixels `px(k, x, y)`.
    fn faces_on_disk(dir: &std::path::Path, n: u8, px: impl Fn(u8, u32, u32) -> image::Rgb<u8>) -> Vec<FaceItem> {
        (0..n)
            .map(|k| {
                let path = dir.join(format!("{k}.png"));
                image::RgbImage::from_fn(48, 48, |x, y| px(k, x, y)).save(&path).unwrap();
                FaceItem { path, label: k as i64 }
            })
            .collect()
    }

    #[test]
    fn each_slot_of_a_batch_holds_its_own_sample_as_apply_gives_it() {
        let dir = tempfile::tempdir().unwrap();
        // grey and coloured faces: both augmentation paths write into the batch
        let items = faces_on_disk(dir.path(), 7, |k, x, y| {
            let v = (x * 5 + y * 3 + k as u32 * 29) as u8;
            image::Rgb(if k % 2 == 0 { [v, v, v] } else { [v, k * 30, y as u8] })
        });
        let (train, eval) = (Transform::train(24, Default::default()), Transform::eval(24));
        let src = ImageSource::new(items.clone(), train.clone(), eval.clone(), 11);
        for (epoch, is_train, tf) in [(3, true, &train), (0, false, &eval)] {
            let mut seen = 0;
            for b in src.batches(epoch, is_train, 3) {
                let b = b.unwrap();
                let x: Vec<f32> = b.x.flatten(0, -1).try_into().unwrap();
                assert_eq!(x.len(), b.index.len() * tf.sample_len());
                for (slot, &i) in x.chunks(tf.sample_len()).zip(&b.index) {
                    let img = image::open(&items[i].path).unwrap().to_rgb8();
                    let alone = tf.apply(&img, &mut Transform::rng(11, epoch, i));
                    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(slot), bits(&alone), "sample {i}, epoch {epoch}");
                }
                seen += b.index.len();
            }
            assert_eq!(seen, items.len());
        }
    }

    #[test]
    fn decoded_images_are_kept_after_the_first_epoch() {
        let dir = tempfile::tempdir().unwrap();
        let items = faces_on_disk(dir.path(), 4, |k, x, y| image::Rgb([k * 40, x as u8, y as u8]));
        let tf = Transform::eval(32);
        let src = ImageSource::new(items.clone(), tf.clone(), tf.clone(), 1);
        let first: Vec<Batch> = src.batches(1, false, 4).collect::<Result<_>>().unwrap();
        for it in &items {
            std::fs::remove_file(&it.path).unwrap();
        }
        let again: Vec<Batch> = src.batches(2, false, 4).collect::<Result<_>>().unwrap();
        assert!(first[0].x.equal(&again[0].x), "the second epoch comes from memory, unchanged");
        // a source that never decoded them still reads the disk, and says which file is missing
        let fresh = ImageSource::new(items, tf.clone(), tf, 1);
        let err = fresh.batches(1, false, 4).find_map(|b| b.err()).unwrap().to_string();
        // the batch's images decode in parallel: whichever is found missing first is named
        assert!((0..4).any(|k| err.contains(&format!("{k}.png"))) && err.contains("No such file"), "{err}");
    }
}
