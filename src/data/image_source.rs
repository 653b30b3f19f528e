//! Face images as batches: decoded once and kept, augmented and assembled on a background thread
//! (rayon inside) straight into the batch tensor, so the model sets the pace.
use super::batches::{order, panic_text, Batch, BatchSource};
use crate::data::augment::{Layout, Transform};
use crate::data::faces::{self, FaceItem};
use crate::error::Result;
use image::RgbImage;
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, OnceLock};
use tch::{Device, Kind, Tensor};

/// Images on disk plus the transforms for training and evaluation.
#[derive(Clone)]
pub struct ImageSource {
    pub items: Arc<Vec<FaceItem>>,
    pub train_tf: Transform,
    pub eval_tf: Transform,
    pub seed: u64,
    /// Batches decoded ahead of the model.
    pub prefetch: usize,
    /// The memory format of the batches: NCHW, or channels-last (NHWC strides) for a model that
    /// runs in it, which then finds its input already converted.
    layout: Layout,
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
        ImageSource { items: Arc::new(items), train_tf, eval_tf, seed, prefetch: 3, layout: Layout::Chw, decoded }
    }

    /// The same source handing out channels-last batches when `on`.
    pub fn channels_last(self, on: bool) -> Self {
        ImageSource { layout: if on { Layout::Hwc } else { Layout::Chw }, ..self }
    }

    /// Decode and transform samples `idx` into one batch, written straight into the tensor's
    /// memory off the training thread: that thread then gets it without a copy (and without the
    /// zero fill and copy that `Tensor::from_slice` does, a parallel region of libtorch's).
    fn assemble(
        items: &[FaceItem],
        decoded: &Decoded,
        idx: &[usize],
        (tf, layout, seed, epoch): (&Transform, Layout, u64, u64),
    ) -> Result<(Tensor, Vec<i64>)> {
        let (n, s) = (idx.len() as i64, tf.size as i64);
        let shape = match layout {
            Layout::Chw => [n, 3, s, s],
            Layout::Hwc => [n, s, s, 3],
        };
        let x = new_f32_tensor(shape, |buf| {
            buf.par_chunks_mut(tf.sample_len()).zip(idx).try_for_each(|(out, &i)| {
                decoded.with(i, &items[i].path, |img| {
                    tf.apply_into_as(img, &mut Transform::rng(seed, epoch, i), out, layout)
                })
            })
        })?;
        let x = if layout == Layout::Hwc { x.permute([0, 3, 1, 2]) } else { x };
        Ok((x, idx.iter().map(|&i| items[i].label).collect()))
    }
}

/// A new contiguous f32 CPU tensor of `shape` whose memory `fill` writes. The memory is zeroed
/// first by a plain memset on this thread, so a slot `fill` misses reads as zero, as it did from a
/// zeroed buffer.
fn new_f32_tensor(shape: [i64; 4], fill: impl FnOnce(&mut [f32]) -> Result<()>) -> Result<Tensor> {
    let x = Tensor::empty(shape, (Kind::Float, Device::Cpu));
    let len = x.numel();
    if len == 0 {
        fill(&mut [])?;
        return Ok(x);
    }
    let ptr = x.data_ptr() as *mut f32;
    // SAFETY: `x` was just allocated here as a contiguous f32 CPU tensor of `len` elements and
    // no other handle to it exists yet, so `ptr` points to `len` writable, aligned f32s that
    // nothing else reads or writes; they are initialised (zeroed) before the slice is made, and
    // the slice does not outlive this function, while `x` (which owns the memory) lives on.
    let buf = unsafe {
        std::ptr::write_bytes(ptr, 0, len);
        std::slice::from_raw_parts_mut(ptr, len)
    };
    fill(buf)?;
    Ok(x)
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
        let (items, seed, decoded, layout) = (self.items.clone(), self.seed, self.decoded.clone(), self.layout);
        let (tx, rx) = mpsc::sync_channel(self.prefetch.max(1));
        std::thread::spawn(move || {
            // augmentation is seeded per sample, so skipped batches need not be decoded
            for chunk in idx.chunks(batch_size.max(1)).skip(skip) {
                // a panic here would end the channel like the end of the data: deliver it as an error
                let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    Self::assemble(&items, &decoded, chunk, (&tf, layout, seed, epoch))
                }))
                .unwrap_or_else(|p| Err(crate::Error::Config(format!("image batch thread failed: {}", panic_text(&p)))))
                .map(|(x, y)| Batch { x, y: Tensor::from_slice(&y), index: chunk.to_vec() });
                let stop = out.is_err();
                if tx.send(out).is_err() || stop {
                    return; // receiver dropped (early stop) or an error was delivered
                }
            }
        });
        Box::new(rx.into_iter())
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
        for cl in [false, true] {
            let src = ImageSource::new(items.clone(), train.clone(), eval.clone(), 11).channels_last(cl);
            every_slot_as_apply_gives_it(&src, &items, [(3, true, &train), (0, false, &eval)]);
        }
    }

    /// Each batch's samples (in NCHW order, whatever the batch's memory format) have the bits
    /// `Transform::apply` gives each alone, and the batch has the source's memory format.
    fn every_slot_as_apply_gives_it(src: &ImageSource, items: &[FaceItem], cases: [(u64, bool, &Transform); 2]) {
        for (epoch, is_train, tf) in cases {
            let mut seen = 0;
            for b in src.batches(epoch, is_train, 3) {
                let b = b.unwrap();
                let (n, s) = (b.index.len() as i64, tf.size as i64);
                let strides = match src.layout {
                    Layout::Chw => [3 * s * s, s * s, s, 1],
                    Layout::Hwc => [3 * s * s, 1, 3 * s, 3],
                };
                assert_eq!((b.x.size(), b.x.stride()), (vec![n, 3, s, s], strides.to_vec()), "{:?}", src.layout);
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
