//! One row of the one-channel warp, eight output pixels at a time with AVX2. Each lane does the
//! scalar loop's operations in the same order (IEEE f32 adds, multiplies and the one division; no
//! fused multiply-add; the clamps and the floor by truncation as compares and blends), so the
//! output has the same bits; the four bilinear neighbours are gathered from the source's first
//! channel as floats. The warp is most of the data pipeline's time, which the training shares
//! the cores with.
use super::Map;

/// Whether this CPU can run [`row`].
pub(super) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The row's precomputed rotation terms: `cos * dx` and `-sin * dx` per output column, and
/// `sin * dy`, `cos * dy` of the row.
pub(super) type Rotation<'a> = (&'a [f32], &'a [f32], f32, f32);

/// Fill `out` (one output row) from its start in steps of eight; returns how many pixels it
/// filled (the rest, fewer than eight, is the caller's). `source` is the image's first channel
/// as floats. Only called where [`available`] said so.
pub(super) fn row(map: &Map, source: &[f32], rotation: Rotation, out: &mut [f32]) -> usize {
    assert_eq!(source.len() * 3, map.raw.len(), "one float per source pixel");
    assert!(rotation.0.len() >= out.len() && rotation.1.len() >= out.len());
    // every gather reads inside the crop box: it must lie inside the image
    let height = source.len() / map.width.max(1);
    assert!(map.max.0 < map.width as f32 && map.max.1 < height as f32, "crop box outside the image");
    assert!(source.len() <= i32::MAX as usize);
    // an angle that is no number rotates to no number, which the box's clamps cannot hold: the
    // scalar rows paint it black (a finite angle gives finite terms: they are its sine and cosine
    // times offsets within the output)
    if !(map.sin.is_finite() && map.cos.is_finite()) {
        return 0;
    }
    #[cfg(target_arch = "x86_64")]
    {
        assert!(available(), "avx2::row called on a CPU without AVX2");
        // SAFETY: the CPU has AVX2 (checked above). Loads and stores stay below `out.len()`,
        // which both rotation slices cover. Every rotated position is finite (the angle is), so
        // after the clamps to the crop box each gathered index is a pixel of the box, and the box
        // lies inside the image whose first channel `source` holds (checked above).
        unsafe { x86::row(map, source, rotation, out) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (map, source, rotation, out);
        0
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Map, Rotation};
    use std::arch::x86_64::*;

    /// `min` where `x < min`, then `max` where it is above `max`: `f32::clamp`, lane by lane.
    macro_rules! clamp {
        ($x:expr, $min:expr, $max:expr) => {{
            let x = _mm256_blendv_ps($x, $min, _mm256_cmp_ps::<_CMP_LT_OQ>($x, $min));
            _mm256_blendv_ps(x, $max, _mm256_cmp_ps::<_CMP_GT_OQ>(x, $max))
        }};
    }

    /// The bilinear weight at `v` that falls on pixels 0..=last (the scalar `inside_share`,
    /// its floor by truncation included).
    macro_rules! inside_share {
        ($v:expr, $k:expr) => {{
            let t = _mm256_cvtepi32_ps(_mm256_cvttps_epi32($v));
            let low = _mm256_blendv_ps(t, _mm256_sub_ps(t, $k.one), _mm256_cmp_ps::<_CMP_GT_OQ>(t, $v));
            let frac = _mm256_sub_ps($v, low);
            let inside = |p: __m256| {
                _mm256_and_ps(_mm256_cmp_ps::<_CMP_GE_OQ>(p, $k.zero), _mm256_cmp_ps::<_CMP_LE_OQ>(p, $k.last))
            };
            let below = _mm256_and_ps(inside(low), _mm256_sub_ps($k.one, frac));
            _mm256_add_ps(below, _mm256_and_ps(inside(_mm256_add_ps(low, $k.one)), frac))
        }};
    }

    /// The map's constants in every lane.
    struct Consts {
        zero: __m256,
        one: __m256,
        half: __m256,
        last: __m256,
        centre: __m256,
        origin: (__m256, __m256),
        scale: (__m256, __m256),
        max: (__m256, __m256),
        width: __m256i,
    }

    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn row(map: &Map, source: &[f32], rotation: Rotation, out: &mut [f32]) -> usize {
        let ps = |v: f32| _mm256_set1_ps(v);
        let k = Consts {
            zero: ps(0.0),
            one: ps(1.0),
            half: ps(0.5),
            last: ps(map.last),
            centre: ps(map.centre),
            origin: (ps(map.origin.0), ps(map.origin.1)),
            scale: (ps(map.scale.0), ps(map.scale.1)),
            max: (ps(map.max.0), ps(map.max.1)),
            width: _mm256_set1_epi32(map.width as i32),
        };
        let (cos_dx, neg_sin_dx, sin_dy, cos_dy) = rotation;
        let (sin_dy, cos_dy) = (ps(sin_dy), ps(cos_dy));
        let filled = out.len() / 8 * 8;
        for ox in (0..filled).step_by(8) {
            let rx = _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(cos_dx.as_ptr().add(ox)), sin_dy), k.centre);
            let ry = _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(neg_sin_dx.as_ptr().add(ox)), cos_dy), k.centre);
            let v = eight(&k, map.flip, source, rx, ry);
            _mm256_storeu_ps(out.as_mut_ptr().add(ox), v);
        }
        filled
    }

    /// Eight output pixels at rotated positions (rx, ry): the scalar `pixel`, `bilinear_at` and
    /// `bilinear`, divided by 255, and 0 where the rotation uncovered them.
    #[target_feature(enable = "avx2")]
    unsafe fn eight(k: &Consts, flip: bool, source: &[f32], rx: __m256, ry: __m256) -> __m256 {
        let coverage = _mm256_mul_ps(inside_share!(rx, k), inside_share!(ry, k));
        let cx = clamp!(rx, k.zero, k.last);
        let mx = if flip { _mm256_sub_ps(k.last, cx) } else { cx };
        let my = clamp!(ry, k.zero, k.last);
        let at = |m: __m256, origin: __m256, scale: __m256| {
            _mm256_sub_ps(_mm256_add_ps(origin, _mm256_mul_ps(_mm256_add_ps(m, k.half), scale)), k.half)
        };
        // inside the crop box, so inside the image and not negative: truncation is the floor
        let px = clamp!(at(mx, k.origin.0, k.scale.0), k.origin.0, k.max.0);
        let py = clamp!(at(my, k.origin.1, k.scale.1), k.origin.1, k.max.1);
        let (xa, ya) = (_mm256_cvttps_epi32(px), _mm256_cvttps_epi32(py));
        let (xaf, yaf) = (_mm256_cvtepi32_ps(xa), _mm256_cvtepi32_ps(ya));
        let (tx, ty) = (_mm256_sub_ps(px, xaf), _mm256_sub_ps(py, yaf));
        // the next pixel where there is one inside the box (a true compare is -1)
        let xb = _mm256_sub_epi32(xa, _mm256_castps_si256(_mm256_cmp_ps::<_CMP_LT_OQ>(xaf, k.max.0)));
        let yb = _mm256_sub_epi32(ya, _mm256_castps_si256(_mm256_cmp_ps::<_CMP_LT_OQ>(yaf, k.max.1)));
        let (top_row, bottom_row) = (_mm256_mullo_epi32(ya, k.width), _mm256_mullo_epi32(yb, k.width));
        let gather = |i: __m256i| _mm256_i32gather_ps::<4>(source.as_ptr(), i);
        let (a, b) = (gather(_mm256_add_epi32(top_row, xa)), gather(_mm256_add_epi32(top_row, xb)));
        let (c, d) = (gather(_mm256_add_epi32(bottom_row, xa)), gather(_mm256_add_epi32(bottom_row, xb)));
        let (rest_x, rest_y) = (_mm256_sub_ps(k.one, tx), _mm256_sub_ps(k.one, ty));
        let top = _mm256_add_ps(_mm256_mul_ps(a, rest_x), _mm256_mul_ps(b, tx));
        let bottom = _mm256_add_ps(_mm256_mul_ps(c, rest_x), _mm256_mul_ps(d, tx));
        let sample = _mm256_mul_ps(coverage, _mm256_add_ps(_mm256_mul_ps(top, rest_y), _mm256_mul_ps(bottom, ty)));
        let covered = _mm256_cmp_ps::<_CMP_GT_OQ>(coverage, k.zero);
        _mm256_and_ps(covered, _mm256_div_ps(sample, _mm256_set1_ps(255.0)))
    }
}
