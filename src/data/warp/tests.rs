use super::*;
use rand::{rngs::StdRng, Rng, SeedableRng};

/// The warp as first written (a libm floor per coordinate, every product in the pixel loop):
/// the fast one must give the same bits.
fn plain(img: &RgbImage, w: &Warp, size: u32) -> Vec<f32> {
    let (x0, y0, cw, ch) = w.crop;
    if cw > size || ch > size {
        let crop = imageops::crop_imm(img, x0, y0, cw, ch).to_image();
        let small = imageops::resize(&crop, size, size, FilterType::Triangle);
        return plain(&small, &Warp { crop: (0, 0, size, size), ..*w }, size);
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
    let share = |v: f32| {
        let (low, frac) = (v.floor(), v - v.floor());
        let inside = |p: f32| (0.0..=last).contains(&p);
        (if inside(low) { 1.0 - frac } else { 0.0 }) + if inside(low + 1.0) { frac } else { 0.0 }
    };
    for oy in 0..n {
        for ox in 0..n {
            let (dx, dy) = (ox as f32 - centre, oy as f32 - centre);
            let rx = cos * dx + sin * dy + centre;
            let ry = -sin * dx + cos * dy + centre;
            let coverage = share(rx) * share(ry);
            let mut acc = [0f32; 3];
            if coverage > 0.0 {
                let mx = if w.flip { last - rx.clamp(0.0, last) } else { rx.clamp(0.0, last) };
                let my = ry.clamp(0.0, last);
                let x = (x0 as f32 + (mx + 0.5) * sx - 0.5).clamp(x0 as f32, max_x);
                let y = (y0 as f32 + (my + 0.5) * sy - 0.5).clamp(y0 as f32, max_y);
                let (xf, yf) = (x.floor(), y.floor());
                let (tx, ty) = (x - xf, y - yf);
                let (xa, ya) = (xf as usize, yf as usize);
                let xb = if xf < max_x { xa + 1 } else { xa };
                let yb = if yf < max_y { ya + 1 } else { ya };
                let px = |x: usize, y: usize, c: usize| raw[(y * src_w + x) * 3 + c] as f32;
                for (c, a) in acc.iter_mut().enumerate() {
                    let top = px(xa, ya, c) * (1.0 - tx) + px(xb, ya, c) * tx;
                    let bottom = px(xa, yb, c) * (1.0 - tx) + px(xb, yb, c) * tx;
                    *a += coverage * (top * (1.0 - ty) + bottom * ty);
                }
            }
            for (c, v) in acc.into_iter().enumerate() {
                out[c * plane + oy * n + ox] = v / 255.0;
            }
        }
    }
    out
}

fn noise(w: u32, h: u32, seed: u64) -> RgbImage {
    let mut rng = StdRng::seed_from_u64(seed);
    RgbImage::from_fn(w, h, |_, _| image::Rgb(rng.random()))
}

#[test]
fn the_fast_warp_gives_the_plain_warps_bits() {
    let mut rng = StdRng::seed_from_u64(7);
    let img = noise(48, 48, 1);
    // random crops, flips and angles at the sizes Part 1 trains at, plus the quarter turns,
    // a half turn and a crop larger than the output (the filtered path)
    let mut cases: Vec<(Warp, u32)> = (0..300)
        .map(|_| {
            let (cw, ch) = (rng.random_range(20..=48u32), rng.random_range(20..=48u32));
            let crop = (rng.random_range(0..=48 - cw), rng.random_range(0..=48 - ch), cw, ch);
            let w = Warp { crop, flip: rng.random(), degrees: rng.random_range(-30.0..=30.0) };
            (w, [48, 64, 96][rng.random_range(0..3)])
        })
        .collect();
    for degrees in [0.0, 90.0, -90.0, 180.0, 45.0] {
        cases.push((Warp { crop: (0, 0, 48, 48), flip: false, degrees }, 64));
    }
    cases.push((Warp { crop: (0, 4, 46, 44), flip: true, degrees: 10.0 }, 32));
    for (w, size) in cases {
        let (fast, reference) = (warp(&img, &w, size), plain(&img, &w, size));
        let same = fast.iter().zip(&reference).all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same && fast.len() == reference.len(), "{w:?} at {size} px");
    }
}

/// The vector rows give the scalar rows' bits, and both the plain warp's first plane, on a
/// grey image: random crops, flips and angles, sizes with and without a remainder of eight,
/// quarter and half turns, a crop larger than the output.
#[test]
fn the_grey_warps_eight_at_a_time_give_the_scalar_bits() {
    if !avx2::available() {
        eprintln!("skipped: this CPU has no AVX2, so the vector rows never run here");
        return;
    }
    let mut rng = StdRng::seed_from_u64(11);
    let grey = RgbImage::from_fn(48, 48, |x, y| {
        let v = ((x * 37 + y * 101 + x * y * 7) % 256) as u8;
        image::Rgb([v, v, v])
    });
    let mut cases: Vec<(Warp, u32)> = (0..400)
        .map(|_| {
            let (cw, ch) = (rng.random_range(8..=48u32), rng.random_range(8..=48u32));
            let crop = (rng.random_range(0..=48 - cw), rng.random_range(0..=48 - ch), cw, ch);
            let w = Warp { crop, flip: rng.random(), degrees: rng.random_range(-45.0..=45.0) };
            (w, [32, 37, 48, 50, 64, 96][rng.random_range(0..6)])
        })
        .collect();
    for degrees in [0.0, 90.0, -90.0, 180.0, 15.0] {
        cases.push((Warp { crop: (0, 0, 48, 48), flip: true, degrees }, 64));
    }
    cases.push((Warp { crop: (2, 3, 44, 45), flip: false, degrees: 7.5 }, 21));
    // an angle that is no number: black on every path (the vector rows leave it to the scalar ones)
    cases.push((Warp { crop: (0, 0, 48, 48), flip: false, degrees: f32::NAN }, 64));
    for (w, size) in cases {
        let (vector, scalar) = (warp_channels::<1>(&grey, &w, size, true), warp_channels::<1>(&grey, &w, size, false));
        let reference = plain(&grey, &w, size);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
        assert_eq!(bits(&vector), bits(&scalar), "{w:?} at {size} px");
        assert_eq!(bits(&vector), bits(&reference[..vector.len()]), "{w:?} at {size} px against the plain warp");
    }
}

#[test]
fn the_floor_is_the_floor() {
    for v in [-3.5f32, -3.0, -0.25, 0.0, 0.25, 0.999_999_9, 1.0, 2.5, 95.0, -1e-7, 1e-7, -96.4] {
        assert_eq!(floor(v).to_bits(), v.floor().to_bits(), "{v}");
    }
    assert_eq!((inside_share(-0.0, 9.0), inside_share(0.0, 9.0)), (1.0, 1.0));
}

/// The pipeline before the one-pass warp: crop, filtered resize, flip, then rotation of the
/// resized image, each step rounded to bytes.
fn stepwise(img: &RgbImage, w: &Warp, size: u32) -> Vec<f32> {
    let (x, y, cw, ch) = w.crop;
    let crop = imageops::crop_imm(img, x, y, cw, ch).to_image();
    let resized = imageops::resize(&crop, size, size, FilterType::Triangle);
    let flipped = if w.flip { imageops::flip_horizontal(&resized) } else { resized };
    super::super::augment::to_chw_unit(&rotate(&flipped, w.degrees))
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
            let v = a[k] * (1.0 - fx) * (1.0 - fy) + b[k] * fx * (1.0 - fy) + cc[k] * (1.0 - fx) * fy + d[k] * fx * fy;
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
        assert!(mean < 0.01 && interior < 0.04, "size {size}, {} deg: mean {mean}, interior max {interior}", w.degrees);
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
