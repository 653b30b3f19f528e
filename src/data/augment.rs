//! Image transforms: train-time augmentation (random resized crop, horizontal flip, rotation,
//! colour jitter) and the plain eval resize, both ending in a normalised CHW float buffer.
//! Every random draw comes from an RNG seeded by (seed, epoch, sample), so a run is
//! reproducible whatever order rayon's threads finish in.
use image::{imageops, imageops::FilterType, RgbImage};
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde::{Deserialize, Serialize};

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
        let mut chw = match &self.augment {
            None => to_chw_unit(&imageops::resize(img, self.size, self.size, FilterType::Triangle)),
            Some(a) => {
                let crop = draw_crop(img, a, rng);
                let flip = rng.random::<f32>() < a.flip_prob;
                let angle = rng.random_range(-a.rotate_deg..=a.rotate_deg);
                let mut chw = warp(img, &Warp { crop, flip, degrees: angle }, self.size);
                colour_jitter(&mut chw, a, rng);
                chw
            }
        };
        self.normalise(&mut chw);
        chw
    }

    fn normalise(&self, chw: &mut [f32]) {
        let plane = (self.size * self.size) as usize;
        for c in 0..3 {
            for v in &mut chw[c * plane..(c + 1) * plane] {
                *v = (*v - self.mean[c]) / self.std[c];
            }
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

/// A crop box in source pixels: x, y, width, height.
type Crop = (u32, u32, u32, u32);

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

/// Crop-resize, flip and rotation as one geometric map.
struct Warp {
    crop: Crop,
    flip: bool,
    degrees: f32,
}

/// Crop-resize, flip and rotate in one pass: every output pixel is mapped back through the three
/// (inverse rotation about the centre, mirror, crop box scaled to the output) and sampled
/// bilinearly from the source once, straight into CHW floats in [0, 1]. Pixels the rotation
/// uncovers are black (torchvision's fill=0); inside the crop, edges clamp as a resize does.
/// A crop larger than the output is shrunk first with a filtered resize, since one bilinear tap
/// per pixel would alias there.
fn warp(img: &RgbImage, w: &Warp, size: u32) -> Vec<f32> {
    let (x0, y0, cw, ch) = w.crop;
    if cw > size || ch > size {
        let crop = imageops::crop_imm(img, x0, y0, cw, ch).to_image();
        let small = imageops::resize(&crop, size, size, FilterType::Triangle);
        return warp(&small, &Warp { crop: (0, 0, size, size), ..*w }, size);
    }
    let n = size as usize;
    let plane = n * n;
    let mut out = vec![0f32; plane * 3];
    let last = size as f32 - 1.0;
    let centre = last / 2.0;
    let (sin, cos) = w.degrees.to_radians().sin_cos();
    let (sx, sy) = (cw as f32 / size as f32, ch as f32 / size as f32);
    let (src_w, raw) = (img.width() as usize, img.as_raw());
    let (max_x, max_y) = ((x0 + cw - 1) as f32, (y0 + ch - 1) as f32);
    for oy in 0..n {
        for ox in 0..n {
            let (dx, dy) = (ox as f32 - centre, oy as f32 - centre);
            let rx = cos * dx + sin * dy + centre;
            let ry = -sin * dx + cos * dy + centre;
            // the share of the four bilinear neighbours in the crop-resized image that lie inside
            // it: the rest is black, as a separate rotation of that image would blend it
            let coverage = inside_share(rx, last) * inside_share(ry, last);
            let mut acc = [0f32; 3];
            if coverage > 0.0 {
                let mx = if w.flip { last - rx.clamp(0.0, last) } else { rx.clamp(0.0, last) };
                let my = ry.clamp(0.0, last);
                // the resized image's pixel centres, in source pixels, clamped to the crop box
                let px = (x0 as f32 + (mx + 0.5) * sx - 0.5).clamp(x0 as f32, max_x);
                let py = (y0 as f32 + (my + 0.5) * sy - 0.5).clamp(y0 as f32, max_y);
                sample(raw, src_w, px, py, max_x, max_y, coverage, &mut acc);
            }
            let i = oy * n + ox;
            for (c, v) in acc.into_iter().enumerate() {
                out[c * plane + i] = v / 255.0;
            }
        }
    }
    out
}

/// Along one axis, the bilinear weight at `v` that falls on pixels 0..=`last` (the two
/// neighbours' weights are 1 - frac and frac); the four neighbours' share is the product over
/// both axes.
fn inside_share(v: f32, last: f32) -> f32 {
    let (low, frac) = (v.floor(), v - v.floor());
    let inside = |p: f32| (0.0..=last).contains(&p);
    (if inside(low) { 1.0 - frac } else { 0.0 }) + if inside(low + 1.0) { frac } else { 0.0 }
}

/// Adds `weight` times the bilinear sample of the source at (x, y) to `acc`.
#[allow(clippy::too_many_arguments)]
fn sample(raw: &[u8], width: usize, x: f32, y: f32, max_x: f32, max_y: f32, weight: f32, acc: &mut [f32; 3]) {
    let (xf, yf) = (x.floor(), y.floor());
    let (tx, ty) = (x - xf, y - yf);
    let (xa, ya) = (xf as usize, yf as usize);
    let xb = if xf < max_x { xa + 1 } else { xa };
    let yb = if yf < max_y { ya + 1 } else { ya };
    let px = |x: usize, y: usize, c: usize| raw[(y * width + x) * 3 + c] as f32;
    for (c, a) in acc.iter_mut().enumerate() {
        let top = px(xa, ya, c) * (1.0 - tx) + px(xb, ya, c) * tx;
        let bottom = px(xa, yb, c) * (1.0 - tx) + px(xb, yb, c) * tx;
        *a += weight * (top * (1.0 - ty) + bottom * ty);
    }
}

fn to_chw_unit(img: &RgbImage) -> Vec<f32> {
    let plane = (img.width() * img.height()) as usize;
    let mut out = vec![0f32; plane * 3];
    for (i, p) in img.pixels().enumerate() {
        for c in 0..3 {
            out[c * plane + i] = p.0[c] as f32 / 255.0;
        }
    }
    out
}

/// torchvision-style ColorJitter on a CHW [0,1] buffer, in a random order of the three ops.
fn colour_jitter(chw: &mut [f32], a: &AugmentConfig, rng: &mut StdRng) {
    let plane = chw.len() / 3;
    let factor = |rng: &mut StdRng, amount: f32| {
        if amount > 0.0 {
            rng.random_range((1.0 - amount).max(0.0)..=1.0 + amount)
        } else {
            1.0
        }
    };
    let grey = |chw: &[f32], i: usize| 0.299 * chw[i] + 0.587 * chw[plane + i] + 0.114 * chw[2 * plane + i];
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
                    let g = grey(chw, i);
                    for c in 0..3 {
                        let v = &mut chw[c * plane + i];
                        *v = (g + f * (*v - g)).clamp(0.0, 1.0);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pipeline before the one-pass warp: crop, filtered resize, flip, then rotation of the
    /// resized image, each step rounded to bytes.
    fn stepwise(img: &RgbImage, w: &Warp, size: u32) -> Vec<f32> {
        let (x, y, cw, ch) = w.crop;
        let crop = imageops::crop_imm(img, x, y, cw, ch).to_image();
        let resized = imageops::resize(&crop, size, size, FilterType::Triangle);
        let flipped = if w.flip { imageops::flip_horizontal(&resized) } else { resized };
        to_chw_unit(&rotate(&flipped, w.degrees))
    }

    /// Rotate about the centre with bilinear sampling; uncovered corners are black (torchvision's fill=0).
    fn rotate(img: &RgbImage, degrees: f32) -> RgbImage {
        if degrees == 0.0 {
            return img.clone();
        }
        let (w, h) = (img.width() as i64, img.height() as i64);
        let (cx, cy) = ((w as f32 - 1.0) / 2.0, (h as f32 - 1.0) / 2.0);
        let (s, c) = degrees.to_radians().sin_cos();
        let mut out = RgbImage::new(w as u32, h as u32);
        let px = |x: i64, y: i64| -> [f32; 3] {
            if x < 0 || y < 0 || x >= w || y >= h {
                [0.0; 3]
            } else {
                let p = img.get_pixel(x as u32, y as u32).0;
                [p[0] as f32, p[1] as f32, p[2] as f32]
            }
        };
        for (ox, oy, pix) in out.enumerate_pixels_mut() {
            // inverse map: where in the source does this output pixel come from
            let (dx, dy) = (ox as f32 - cx, oy as f32 - cy);
            let sx = c * dx + s * dy + cx;
            let sy = -s * dx + c * dy + cy;
            let (x0, y0) = (sx.floor() as i64, sy.floor() as i64);
            let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
            let (a, b, cc, d) = (px(x0, y0), px(x0 + 1, y0), px(x0, y0 + 1), px(x0 + 1, y0 + 1));
            for k in 0..3 {
                let v =
                    a[k] * (1.0 - fx) * (1.0 - fy) + b[k] * fx * (1.0 - fy) + cc[k] * (1.0 - fx) * fy + d[k] * fx * fy;
                pix.0[k] = v.round().clamp(0.0, 255.0) as u8;
            }
        }
        out
    }

    /// Smooth enough that one bilinear tap and a filtered resize see the same picture.
    fn smooth(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let (u, v) = (x as f32 / w as f32, y as f32 / h as f32);
            let wave = |f: f32| (127.5 + 120.0 * f.sin()) as u8;
            image::Rgb([wave(5.0 * u + 1.0), wave(4.0 * v), wave(3.0 * (u + v))])
        })
    }

    #[test]
    fn the_one_pass_warp_matches_crop_resize_flip_rotate_done_stepwise() {
        let img = smooth(48, 48);
        // upsampling crops (the faces at 64 and 96 px), one at the source's own size, and a crop
        // larger than the output, which takes the filtered path
        let cases = [
            (Warp { crop: (3, 5, 40, 38), flip: false, degrees: 0.0 }, 96),
            (Warp { crop: (3, 5, 40, 38), flip: true, degrees: 12.0 }, 96),
            (Warp { crop: (0, 0, 48, 48), flip: true, degrees: -15.0 }, 64),
            (Warp { crop: (6, 2, 42, 46), flip: false, degrees: 7.5 }, 48),
            (Warp { crop: (0, 4, 46, 44), flip: true, degrees: 10.0 }, 32),
        ];
        for (w, size) in cases {
            let (ours, reference) = (warp(&img, &w, size), stepwise(&img, &w, size));
            assert_eq!(ours.len(), reference.len());
            let diffs: Vec<f32> = ours.iter().zip(&reference).map(|(a, b)| (a - b).abs()).collect();
            let mean = diffs.iter().sum::<f32>() / diffs.len() as f32;
            // the border a rotation blends with black differs by up to a pixel's share
            let interior = (0..3usize)
                .flat_map(|c| (8..size - 8).flat_map(move |y| (8..size - 8).map(move |x| (c, y, x))))
                .map(|(c, y, x)| diffs[(c * size as usize + y as usize) * size as usize + x as usize])
                .fold(0f32, f32::max);
            assert!(
                mean < 0.01 && interior < 0.04,
                "size {size}, {} deg: mean {mean}, interior max {interior}",
                w.degrees
            );
        }
    }

    #[test]
    fn rotation_uncovers_black_corners_and_keeps_the_centre() {
        let img = RgbImage::from_pixel(48, 48, image::Rgb([200, 100, 50]));
        let out = warp(&img, &Warp { crop: (0, 0, 48, 48), flip: false, degrees: 45.0 }, 64);
        let plane = 64 * 64;
        assert_eq!((out[0], out[plane], out[2 * plane]), (0.0, 0.0, 0.0), "a corner rotated away is black");
        let centre = 32 * 64 + 32;
        assert!((out[centre] - 200.0 / 255.0).abs() < 1e-5, "{}", out[centre]);
        assert!((out[2 * plane + centre] - 50.0 / 255.0).abs() < 1e-5);
    }

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
    fn rotation_by_180_reverses_pixels_and_90_keeps_centre() {
        let img = gradient(9, 9);
        let at = |out: &[f32], x: usize, y: usize| [0, 1, 2].map(|c| (out[c * 81 + y * 9 + x] * 255.0).round() as u8);
        let full = |degrees| Warp { crop: (0, 0, 9, 9), flip: false, degrees };
        let r = warp(&img, &full(180.0), 9);
        assert_eq!(at(&r, 0, 0), img.get_pixel(8, 8).0);
        assert_eq!(at(&r, 8, 3), img.get_pixel(0, 5).0);
        let q = warp(&img, &full(90.0), 9);
        assert_eq!(at(&q, 4, 4), img.get_pixel(4, 4).0);
        assert_eq!(at(&q, 4, 0), img.get_pixel(0, 4).0, "a quarter turn clockwise on screen");
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
