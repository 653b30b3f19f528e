//! Helpers for tests that need a little real data. Not part of the stable API.
use crate::config::paths;
use std::path::PathBuf;
use tch::nn::{self, ModuleT, OptimizerConfig};
use tch::{Kind, Tensor};

/// The data root for tests, by the one rule of [`paths::data_root`]. [`require`] panics with a
/// clear message when a dataset is missing, because a test that silently skips cannot fail.
pub fn data_root() -> PathBuf {
    paths::data_root(None)
}

pub fn require(spec: paths::DatasetSpec) -> PathBuf {
    let root = data_root();
    if let Err(e) = paths::require(&root, &[spec]) {
        panic!("this test needs real data: {e}\n(set AFFECT_LAB_DATA, e.g. to ../shared/data)");
    }
    spec.path(&root)
}

/// `per_class` training images of every face class, as `[N,3,size,size]` floats in [0,1]
/// (grey replicated to 3 channels) and `[N]` int64 labels in sorted-class order.
pub fn small_face_batch(per_class: usize, size: u32) -> (Tensor, Tensor) {
    let train = require(paths::FACES).join("train");
    let mut classes: Vec<PathBuf> =
        std::fs::read_dir(&train).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    classes.sort();
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for (label, dir) in classes.iter().enumerate() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files.iter().take(per_class) {
            let img = image::open(f).unwrap().to_rgb8();
            let img = image::imageops::resize(&img, size, size, image::imageops::FilterType::Triangle);
            let t = Tensor::from_slice(img.as_raw())
                .view([size as i64, size as i64, 3])
                .permute([2, 0, 1])
                .to_kind(Kind::Float)
                / 255.0;
            xs.push(t);
            ys.push(label as i64);
        }
    }
    (Tensor::stack(&xs, 0), Tensor::from_slice(&ys))
}

/// Trainable scalars only: at construction this equals `train::param_count`, which the
/// results report; the tests count what the optimiser sees, to catch a frozen or missing tensor.
pub fn param_count(vs: &nn::VarStore) -> i64 {
    vs.trainable_variables().iter().map(|t| t.numel() as i64).sum()
}

/// `steps` AdamW steps at `lr` on one fixed batch in training mode; the loss of every step.
pub fn overfit_losses(
    vs: &nn::VarStore,
    model: &dyn ModuleT,
    xs: &Tensor,
    ys: &Tensor,
    lr: f64,
    steps: usize,
) -> Vec<f64> {
    let mut opt = nn::AdamW { wd: 0.0, ..Default::default() }.build(vs, lr).unwrap();
    (0..steps)
        .map(|_| {
            let loss = model.forward_t(xs, true).cross_entropy_for_logits(ys);
            opt.backward_step(&loss);
            loss.double_value(&[])
        })
        .collect()
}

/// Fails unless the mean of the last 3 losses is below `ratio` times the first (the mean,
/// because dropout makes single training-mode losses noisy).
pub fn assert_loss_drops(name: &str, losses: &[f64], ratio: f64) {
    assert!(losses.len() >= 4, "{name}: too few steps");
    let first = losses[0];
    let last = losses[losses.len() - 3..].iter().sum::<f64>() / 3.0;
    eprintln!("{name} losses: {losses:.3?}");
    assert!(last < ratio * first, "{name}: loss {first:.4} -> {last:.4} (want < {ratio} x): {losses:?}");
}

/// A 48x48 grey picture of 8x8 blocks whose levels (20-119) are drawn from `k`, `lift` added to
/// each: pictures of different `k` are unrelated, a lifted one is the same picture brighter.
pub fn block_picture(k: u32, lift: u8) -> image::GrayImage {
    // lowbias32: neighbouring inputs give unrelated outputs
    let mix = |mut h: u32| {
        h ^= h >> 16;
        h = h.wrapping_mul(0x7feb_352d);
        h ^= h >> 15;
        h = h.wrapping_mul(0x846c_a68b);
        h ^ (h >> 16)
    };
    image::GrayImage::from_fn(48, 48, |x, y| {
        let h = mix(k * 4096 + (x / 8) * 64 + y / 8);
        image::Luma([20 + (h >> 24) as u8 % 200 / 2 + lift])
    })
}
