//! Helpers for tests that need a little real data. Not part of the stable API.
use crate::paths;
use std::path::PathBuf;
use tch::{Kind, Tensor};

/// The data root for tests: `AFFECT_LAB_DATA`, else `<project>/data`. Panics with a clear
/// message when a dataset is missing, because a test that silently skips cannot fail.
pub fn data_root() -> PathBuf {
    let root = paths::data_root(None);
    if root.is_absolute() { root } else { paths::project_root().join(root) }
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
    let mut classes: Vec<PathBuf> = std::fs::read_dir(&train).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    classes.sort();
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for (label, dir) in classes.iter().enumerate() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files.iter().take(per_class) {
            let img = image::open(f).unwrap().to_rgb8();
            let img = image::imageops::resize(&img, size, size, image::imageops::FilterType::Triangle);
            let t = Tensor::from_slice(img.as_raw()).view([size as i64, size as i64, 3]).permute([2, 0, 1]).to_kind(Kind::Float) / 255.0;
            xs.push(t);
            ys.push(label as i64);
        }
    }
    (Tensor::stack(&xs, 0), Tensor::from_slice(&ys))
}

/// Total number of scalar parameters in a VarStore.
pub fn param_count(vs: &tch::nn::VarStore) -> i64 {
    vs.trainable_variables().iter().map(|t| t.numel() as i64).sum()
}
