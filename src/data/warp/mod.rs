//! The geometric half of train-time augmentation: crop-resize, flip and rotation as one
//! inverse-mapped bilinear pass from the source bytes straight into CHW floats.
//!
//! It runs for every training image of every epoch, on the cores that also train, so it is written
//! to stay cheap at the opt-level the main job is built with: no libm calls per pixel (an exact
//! floor by truncation), the rotation's products hoisted out of the pixel loop, the four
//! neighbours addressed once. The arithmetic per pixel is the same as the plain formulation
//! (kept in the tests), so its output is identical to the bit.
use image::{imageops, imageops::FilterType, RgbImage};

mod avx2;

/// A crop box in source pixels: x, y, width, height.
pub(super) type Crop = (u32, u32, u32, u32);

/// Crop-resize, flip and rotation as one geometric map.
#[derive(Debug, Clone, Copy)]
pub(super) struct Warp {
    pub crop: Crop,
    pub flip: bool,
    pub degrees: f32,
}

/// Crop-resize, flip and rotate in one pass: every output pixel is mapped back through the three
/// (inverse rotation about the centre, mirror, crop box scaled to the output) and sampled
/// bilinearly from the source once, straight into CHW floats in [0, 1]. Pixels the rotation
/// uncovers are black (torchvision's fill=0); inside the crop, edges clamp as a resize does.
/// A crop larger than the output is shrunk first with a filtered resize, since one bilinear tap
/// per pixel would alias there.
pub(super) fn warp(img: &RgbImage, w: &Warp, size: u32) -> Vec<f32> {
    warp_channels::<3>(img, w, size, false)
}

/// [`warp`] of a grey image (every pixel's three bytes equal): its first channel only, one plane,
/// the same bits as each of the three planes [`warp`] would give, at a third of the cost, eight
/// pixels at a time where the CPU has AVX2.
pub(super) fn warp_grey(img: &RgbImage, w: &Warp, size: u32) -> Vec<f32> {
    warp_channels::<1>(img, w, size, avx2::available())
}

/// The warp of the first `C` channels of `img`, C planes; `simd`: one channel's rows eight pixels
/// at a time ([`avx2::row`]; the caller checked the CPU), the rest of each row as below.
fn warp_channels<const C: usize>(img: &RgbImage, w: &Warp, size: u32, simd: bool) -> Vec<f32> {
    let (x0, y0, cw, ch) = w.crop;
    if cw > size || ch > size {
        let crop = imageops::crop_imm(img, x0, y0, cw, ch).to_image();
        let small = imageops::resize(&crop, size, size, FilterType::Triangle);
        return warp_channels::<C>(&small, &Warp { crop: (0, 0, size, size), ..*w }, size, simd);
    }
    let n = size as usize;
    let plane = n * n;
    let mut out = vec![0f32; plane * C];
    let map = Map::new(img, w, size);
    let offsets: Vec<f32> = (0..n).map(|o| o as f32 - map.centre).collect();
    let cos_dx: Vec<f32> = offsets.iter().map(|&dx| map.cos * dx).collect();
    let neg_sin_dx: Vec<f32> = offsets.iter().map(|&dx| -map.sin * dx).collect();
    // the source's first channel as floats, for the vector rows' gathers
    let source: Vec<f32> =
        if simd && C == 1 { map.raw.iter().step_by(3).map(|&b| b as f32).collect() } else { Vec::new() };
    for (oy, &dy) in offsets.iter().enumerate() {
        let (sin_dy, cos_dy) = (map.sin * dy, map.cos * dy);
        let done = if source.is_empty() {
            0
        } else {
            let rotation = (&cos_dx[..], &neg_sin_dx[..], sin_dy, cos_dy);
            avx2::row(&map, &source, rotation, &mut out[oy * n..(oy + 1) * n])
        };
        for ox in done..n {
            let rx = cos_dx[ox] + sin_dy + map.centre;
            let ry = neg_sin_dx[ox] + cos_dy + map.centre;
            if let Some(rgb) = map.pixel::<C>(rx, ry) {
                let i = oy * n + ox;
                for (c, v) in rgb.into_iter().enumerate() {
                    out[c * plane + i] = v / 255.0;
                }
            }
        }
    }
    out
}

/// What `warp` needs per pixel once the rotation is applied: the mirror, the crop box's scale
/// and clamps, and the source bytes.
struct Map<'a> {
    raw: &'a [u8],
    width: usize,
    flip: bool,
    last: f32,
    centre: f32,
    sin: f32,
    cos: f32,
    origin: (f32, f32),
    scale: (f32, f32),
    max: (f32, f32),
}

impl<'a> Map<'a> {
    fn new(img: &'a RgbImage, w: &Warp, size: u32) -> Self {
        let (x0, y0, cw, ch) = w.crop;
        let last = size as f32 - 1.0;
        let (sin, cos) = w.degrees.to_radians().sin_cos();
        Map {
            raw: img.as_raw(),
            width: img.width() as usize,
            flip: w.flip,
            last,
            centre: last / 2.0,
            sin,
            cos,
            origin: (x0 as f32, y0 as f32),
            scale: (cw as f32 / size as f32, ch as f32 / size as f32),
            max: ((x0 + cw - 1) as f32, (y0 + ch - 1) as f32),
        }
    }

    /// The pixel at (rx, ry) of the crop-resized, flipped image, in bytes' units; None where the
    /// rotation uncovered it entirely (black).
    fn pixel<const C: usize>(&self, rx: f32, ry: f32) -> Option<[f32; C]> {
        // the share of the four bilinear neighbours in the crop-resized image that lie inside
        // it: the rest is black, as a separate rotation of that image would blend it
        let coverage = inside_share(rx, self.last) * inside_share(ry, self.last);
        // written as the plain warp tests it, so a NaN coverage would be black here as there
        if coverage > 0.0 {
            Some(self.bilinear_at(rx, ry, coverage))
        } else {
            None
        }
    }

    /// The bilinear sample under (rx, ry) once the mirror and the crop box's scale and clamps
    /// are applied, times `coverage`.
    fn bilinear_at<const C: usize>(&self, rx: f32, ry: f32, coverage: f32) -> [f32; C] {
        let mx = if self.flip { self.last - rx.clamp(0.0, self.last) } else { rx.clamp(0.0, self.last) };
        let my = ry.clamp(0.0, self.last);
        // the resized image's pixel centres, in source pixels, clamped to the crop box
        let px = (self.origin.0 + (mx + 0.5) * self.scale.0 - 0.5).clamp(self.origin.0, self.max.0);
        let py = (self.origin.1 + (my + 0.5) * self.scale.1 - 0.5).clamp(self.origin.1, self.max.1);
        self.bilinear(px, py, coverage)
    }

    /// `weight` times the bilinear sample of the source at (x, y), both inside the crop box (so
    /// not negative: truncation is their floor).
    fn bilinear<const C: usize>(&self, x: f32, y: f32, weight: f32) -> [f32; C] {
        let (xa, ya) = (x as usize, y as usize);
        let (tx, ty) = (x - xa as f32, y - ya as f32);
        let xb = if (xa as f32) < self.max.0 { xa + 1 } else { xa };
        let yb = if (ya as f32) < self.max.1 { ya + 1 } else { ya };
        let at = |x: usize, y: usize| {
            let i = (y * self.width + x) * 3;
            let p = &self.raw[i..i + C];
            std::array::from_fn::<f32, C, _>(|k| p[k] as f32)
        };
        let (a, b, c, d) = (at(xa, ya), at(xb, ya), at(xa, yb), at(xb, yb));
        std::array::from_fn(|k| {
            let top = a[k] * (1.0 - tx) + b[k] * tx;
            let bottom = c[k] * (1.0 - tx) + d[k] * tx;
            weight * (top * (1.0 - ty) + bottom * ty)
        })
    }
}

/// `v.floor()` for the coordinates a warp meets (finite, far inside i32) without a libm call,
/// which the main job's opt-level leaves in the pixel loop. It differs from `floor` only on -0.0,
/// which it returns as +0.0: the one use, `inside_share`, gives the same share for either.
fn floor(v: f32) -> f32 {
    let t = v as i32 as f32;
    if t > v {
        t - 1.0
    } else {
        t
    }
}

/// Along one axis, the bilinear weight at `v` that falls on pixels 0..=`last` (the two
/// neighbours' weights are 1 - frac and frac); the four neighbours' share is the product over
/// both axes.
fn inside_share(v: f32, last: f32) -> f32 {
    let low = floor(v);
    let frac = v - low;
    let inside = |p: f32| (0.0..=last).contains(&p);
    (if inside(low) { 1.0 - frac } else { 0.0 }) + if inside(low + 1.0) { frac } else { 0.0 }
}

#[cfg(test)]
mod tests;
