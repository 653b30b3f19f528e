//! Image transforms: train-time augmentation (random resized crop, horizontal flip and rotation,
//! whose geometry is `warp`'s, then colour jitter) and the plain eval resize, both ending in a
//! normalised CHW float buffer.
//! Every random draw comes from an RNG seeded by (seed, epoch, sample), so a run is
//! reproducible whatever order rayon's threads finish in.
use image::{imageops, imageops::FilterType, RgbImage};
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::warp::{warp, warp_grey, Crop, Warp};

pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AugmentConfig {
    /// RandomResizedCrop area fraction range.
    pub crop_scale: (f32, f32),
    /// RandomResizedCrop aspect ratio range.
    pub crop_ratio: (f32, f32),
    pub flip_prob: f32,
    /// Uniform rotation in [-deg, deg].
    pub rotate_deg: f32,
    pub brightness: f32,
    pub contrast: f32,
    pub saturation: f32,
}

impl AugmentConfig {
    /// Ranges the samplers can draw from (an empty range panics in a worker thread).
    pub fn check(&self, key: &str, c: &mut crate::config::plan_check::Checks) {
        let (lo, hi) = self.crop_scale;
        c.that(0.0 < lo && lo <= hi && hi <= 1.0, || {
            format!("{key}.crop_scale must satisfy 0 < min <= max <= 1, got [{lo}, {hi}]")
        });
        let (lo, hi) = self.crop_ratio;
        c.that(0.0 < lo && lo <= hi && hi.is_finite(), || {
            format!("{key}.crop_ratio must satisfy 0 < min <= max, got [{lo}, {hi}]")
        });
        c.within(&format!("{key}.flip_prob"), self.flip_prob as f64, 0.0, 1.0);
        c.within(&format!("{key}.rotate_deg"), self.rotate_deg as f64, 0.0, 180.0);
        for (name, v) in [("brightness", self.brightness), ("contrast", self.contrast), ("saturation", self.saturation)]
        {
            c.within(&format!("{key}.{name}"), v as f64, 0.0, 1.0);
        }
    }
}

impl Default for AugmentConfig {
    fn default() -> Self {
        AugmentConfig {
            crop_scale: (0.8, 1.0),
            crop_ratio: (0.75, 4.0 / 3.0),
            flip_prob: 0.5,
            rotate_deg: 15.0,
            brightness: 0.2,
            contrast: 0.2,
            saturation: 0.2,
        }
    }
}

/// How a sample's floats are ordered: channel planes (CHW, an NCHW batch's slot) or each pixel's
/// channels together (HWC, a channels-last batch's slot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Chw,
    Hwc,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transform {
    pub size: u32,
    /// None at eval time.
    pub augment: Option<AugmentConfig>,
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

impl Transform {
    pub fn eval(size: u32) -> Self {
        Transform { size, augment: None, mean: IMAGENET_MEAN, std: IMAGENET_STD }
    }
    pub fn train(size: u32, aug: AugmentConfig) -> Self {
        Transform { size, augment: Some(aug), mean: IMAGENET_MEAN, std: IMAGENET_STD }
    }

    /// The RNG for one sample of one epoch.
    pub fn rng(seed: u64, epoch: u64, index: usize) -> StdRng {
        // splitmix-style mixing so neighbouring (epoch, index) pairs give unrelated streams
        let mut z =
            seed ^ epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (index as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        StdRng::seed_from_u64(z ^ (z >> 31))
    }

    /// Apply to one image; returns `size*size*3` floats in CHW order, normalised.
    pub fn apply(&self, img: &RgbImage, rng: &mut StdRng) -> Vec<f32> {
        let mut chw = vec![0f32; self.sample_len()];
        self.apply_into(img, rng, &mut chw);
        chw
    }

    /// Floats per sample: `size*size*3`.
    pub fn sample_len(&self) -> usize {
        3 * (self.size * self.size) as usize
    }

    /// [`Transform::apply`] written into `out` (`self.sample_len()` floats, a batch's slot), so a
    /// batch of grey faces is assembled without a buffer per sample and a copy of each (a coloured
    /// one still warps into its own buffer first).
    pub fn apply_into(&self, img: &RgbImage, rng: &mut StdRng, out: &mut [f32]) {
        self.apply_into_as(img, rng, out, Layout::Chw);
    }

    /// [`Transform::apply_into`] in either layout: the same values, HWC interleaving the three
    /// channels of each pixel (a channels-last batch's slot).
    pub fn apply_into_as(&self, img: &RgbImage, rng: &mut StdRng, out: &mut [f32], layout: Layout) {
        assert_eq!(out.len(), self.sample_len(), "a sample's slot holds size*size*3 floats");
        let grey_augment = self.augment.as_ref().filter(|_| is_grey(img));
        // the faces are grey: one plane augmented and spread to three gives the same bits as
        // three equal planes augmented, for a third of the warp
        if let Some(a) = grey_augment {
            return self.augment_grey(img, a, rng, out, layout);
        }
        match (layout, &self.augment) {
            (Layout::Chw, _) => self.colour_or_eval_into(img, rng, out),
            // the resized image is already HWC: each byte to its slot, no CHW buffer between
            (Layout::Hwc, None) => {
                for (k, (o, &v)) in out.iter_mut().zip(self.resized(img).as_raw()).enumerate() {
                    *o = self.normalised(v as f32 / 255.0, k % 3);
                }
            }
            (Layout::Hwc, Some(_)) => {
                let mut chw = vec![0f32; out.len()];
                self.colour_or_eval_into(img, rng, &mut chw);
                let plane = chw.len() / 3;
                for (i, px) in out.chunks_exact_mut(3).enumerate() {
                    px.iter_mut().enumerate().for_each(|(c, v)| *v = chw[c * plane + i]);
                }
            }
        }
    }

    /// The evaluation resize, one for both layouts: they must give the same bits.
    fn resized(&self, img: &RgbImage) -> RgbImage {
        imageops::resize(img, self.size, self.size, FilterType::Triangle)
    }

    /// A sample that is not a grey face under augmentation, in CHW order.
    fn colour_or_eval_into(&self, img: &RgbImage, rng: &mut StdRng, chw: &mut [f32]) {
        match &self.augment {
            None => {
                to_chw_unit_into(&self.resized(img), chw);
                self.normalise(chw);
            }
            Some(a) => self.augment_rgb(img, a, rng, chw),
        }
    }

    fn augment_rgb(&self, img: &RgbImage, a: &AugmentConfig, rng: &mut StdRng, out: &mut [f32]) {
        let mut chw = warp(img, &draw_warp(img, a, rng), self.size);
        colour_jitter(&mut chw, 3, a, rng);
        self.normalise(&mut chw);
        out.copy_from_slice(&chw);
    }

    fn augment_grey(&self, img: &RgbImage, a: &AugmentConfig, rng: &mut StdRng, out: &mut [f32], layout: Layout) {
        let mut grey = warp_grey(img, &draw_warp(img, a, rng), self.size);
        colour_jitter(&mut grey, 1, a, rng);
        match layout {
            Layout::Chw => {
                for (c, plane) in out.chunks_exact_mut(grey.len()).enumerate() {
                    plane.iter_mut().zip(&grey).for_each(|(o, &v)| *o = self.normalised(v, c));
                }
            }
            Layout::Hwc => {
                for (px, &v) in out.chunks_exact_mut(3).zip(&grey) {
                    px.iter_mut().enumerate().for_each(|(c, o)| *o = self.normalised(v, c));
                }
            }
        }
    }

    /// Value `v` of channel `c` normalised: the one formula every layout and path writes, so
    /// that they give the same bits.
    fn normalised(&self, v: f32, c: usize) -> f32 {
        (v - self.mean[c]) / self.std[c]
    }

    fn normalise(&self, chw: &mut [f32]) {
        let plane = (self.size * self.size) as usize;
        for (c, p) in chw.chunks_exact_mut(plane).enumerate() {
            p.iter_mut().for_each(|v| *v = self.normalised(*v, c));
        }
    }

    /// Undo normalisation of a CHW buffer back to RGB bytes (for showing samples).
    pub fn denormalise_to_rgb(&self, chw: &[f32]) -> Vec<u8> {
        let plane = (self.size * self.size) as usize;
        let mut out = vec![0u8; plane * 3];
        for c in 0..3 {
            for i in 0..plane {
                let v = chw[c * plane + i] * self.std[c] + self.mean[c];
                out[i * 3 + c] = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
            }
        }
        out
    }
}

/// Whether every pixel's three bytes are equal.
fn is_grey(img: &RgbImage) -> bool {
    img.pixels().all(|p| p.0[0] == p.0[1] && p.0[1] == p.0[2])
}

/// The geometric half of one sample's augmentation, drawn in the order the RNG has always been
/// read: crop, flip, angle.
fn draw_warp(img: &RgbImage, a: &AugmentConfig, rng: &mut StdRng) -> Warp {
    let crop = draw_crop(img, a, rng);
    let flip = rng.random::<f32>() < a.flip_prob;
    let degrees = rng.random_range(-a.rotate_deg..=a.rotate_deg);
    Warp { crop, flip, degrees }
}

/// RandomResizedCrop's box (torchvision's sampler: ten tries, then the whole image).
fn draw_crop(img: &RgbImage, a: &AugmentConfig, rng: &mut StdRng) -> Crop {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let area = w * h;
    for _ in 0..10 {
        let target = area * rng.random_range(a.crop_scale.0..=a.crop_scale.1);
        let log_ratio = rng.random_range(a.crop_ratio.0.ln()..=a.crop_ratio.1.ln());
        let ratio = log_ratio.exp();
        let cw = (target * ratio).sqrt().round();
        let ch = (target / ratio).sqrt().round();
        if cw >= 1.0 && ch >= 1.0 && cw <= w && ch <= h {
            let x = rng.random_range(0..=(w - cw) as u32);
            let y = rng.random_range(0..=(h - ch) as u32);
            return (x, y, cw as u32, ch as u32);
        }
    }
    (0, 0, img.width(), img.height())
}

#[cfg(test)]
pub(super) fn to_chw_unit(img: &RgbImage) -> Vec<f32> {
    let mut out = vec![0f32; (img.width() * img.height()) as usize * 3];
    to_chw_unit_into(img, &mut out);
    out
}

fn to_chw_unit_into(img: &RgbImage, out: &mut [f32]) {
    let plane = (img.width() * img.height()) as usize;
    for (i, p) in img.pixels().enumerate() {
        for c in 0..3 {
            out[c * plane + i] = p.0[c] as f32 / 255.0;
        }
    }
}

/// torchvision-style ColorJitter on a CHW [0,1] buffer of `channels` planes (3, or 1 standing
/// for three equal ones: the grey value is then computed from it three times, so each step gives
/// the bits it gives on the three), in a random order of the three ops.
fn colour_jitter(chw: &mut [f32], channels: usize, a: &AugmentConfig, rng: &mut StdRng) {
    let plane = chw.len() / channels;
    let (g, b) = if channels == 3 { (plane, 2 * plane) } else { (0, 0) };
    let factor = |rng: &mut StdRng, amount: f32| {
        if amount > 0.0 {
            rng.random_range((1.0 - amount).max(0.0)..=1.0 + amount)
        } else {
            1.0
        }
    };
    let grey = |chw: &[f32], i: usize| 0.299 * chw[i] + 0.587 * chw[g + i] + 0.114 * chw[b + i];
    let mut order = [0u8, 1, 2];
    for i in (1..3).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    for op in order {
        match op {
            0 => {
                let f = factor(rng, a.brightness);
                chw.iter_mut().for_each(|v| *v = (*v * f).clamp(0.0, 1.0));
            }
            1 => {
                let f = factor(rng, a.contrast);
                let mean = (0..plane).map(|i| grey(chw, i)).sum::<f32>() / plane as f32;
                chw.iter_mut().for_each(|v| *v = (mean + f * (*v - mean)).clamp(0.0, 1.0));
            }
            _ => {
                let f = factor(rng, a.saturation);
                for i in 0..plane {
                    let y = grey(chw, i);
                    for c in 0..channels {
                        let v = &mut chw[c * plane + i];
                        *v = (y + f * (*v - y)).clamp(0.0, 1.0);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 128]))
    }

    #[test]
    fn eval_is_deterministic_resize_and_normalise() {
        let img = RgbImage::from_pixel(10, 10, image::Rgb([255, 0, 128]));
        let t = Transform::eval(4);
        let out = t.apply(&img, &mut Transform::rng(0, 0, 0));
        assert_eq!(out.len(), 48);
        assert!((out[0] - (1.0 - IMAGENET_MEAN[0]) / IMAGENET_STD[0]).abs() < 1e-5);
        assert!((out[16] - (0.0 - IMAGENET_MEAN[1]) / IMAGENET_STD[1]).abs() < 1e-5);
        assert_eq!(t.denormalise_to_rgb(&out)[..3], [255, 0, 128]);
        // no randomness at eval: a different rng gives the same output
        assert_eq!(out, t.apply(&img, &mut Transform::rng(9, 9, 9)));
    }

    #[test]
    fn a_grey_face_augmented_on_one_plane_gives_the_three_plane_bits() {
        use rand::RngCore;
        let mut noise = StdRng::seed_from_u64(5);
        // grey noise (every step sees sharp edges) and the faces' own size; larger for the
        // shrinking path of a crop bigger than the output
        let grey = |w: u32, h: u32, rng: &mut StdRng| {
            RgbImage::from_fn(w, h, |_, _| {
                let v = (rng.next_u32() & 0xff) as u8;
                image::Rgb([v, v, v])
            })
        };
        let strong = AugmentConfig { brightness: 0.6, contrast: 0.6, saturation: 0.6, ..AugmentConfig::default() };
        for (i, (w, size)) in [(48, 64), (48, 48), (48, 96), (130, 64)].into_iter().cycle().take(120).enumerate() {
            let img = grey(w, w, &mut noise);
            assert!(is_grey(&img));
            let a = if i % 2 == 0 { AugmentConfig::default() } else { strong.clone() };
            let t = Transform::train(size, a.clone());
            let (mut rgb, mut one) = (vec![0f32; t.sample_len()], vec![0f32; t.sample_len()]);
            t.augment_rgb(&img, &a, &mut Transform::rng(7, 1, i), &mut rgb);
            t.augment_grey(&img, &a, &mut Transform::rng(7, 1, i), &mut one, Layout::Chw);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&rgb), bits(&one), "sample {i}: {w} px to {size} px");
            assert_eq!(bits(&t.apply(&img, &mut Transform::rng(7, 1, i))), bits(&rgb));
        }
        let mut colour = grey(48, 48, &mut noise);
        colour.put_pixel(3, 4, image::Rgb([10, 11, 10]));
        assert!(!is_grey(&colour), "one coloured pixel takes the three-plane path");
    }

    #[test]
    fn train_augmentation_is_seeded_and_varies() {
        let img = gradient(48, 48);
        let t = Transform::train(32, AugmentConfig::default());
        let a = t.apply(&img, &mut Transform::rng(1, 0, 5));
        let b = t.apply(&img, &mut Transform::rng(1, 0, 5));
        let c = t.apply(&img, &mut Transform::rng(1, 1, 5));
        assert_eq!(a, b, "same seed/epoch/index must give the same sample");
        assert_ne!(a, c, "a new epoch must give a new augmentation");
        assert_eq!(a.len(), 32 * 32 * 3);
    }

    #[test]
    fn flip_only_config_flips_exactly() {
        let img = gradient(8, 8);
        let aug = AugmentConfig {
            crop_scale: (1.0, 1.0),
            crop_ratio: (1.0, 1.0),
            flip_prob: 1.0,
            rotate_deg: 0.0,
            brightness: 0.0,
            contrast: 0.0,
            saturation: 0.0,
        };
        let t = Transform::train(8, aug);
        let out = t.apply(&img, &mut Transform::rng(0, 0, 0));
        let back = t.denormalise_to_rgb(&out);
        let flipped = imageops::flip_horizontal(&img);
        assert_eq!(back, flipped.into_raw());
    }
}
