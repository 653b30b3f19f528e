//! Look shared by all charts: fonts sized for slides, colour-blind-safe colours, and the small
//! drawing pieces (title, legend strip, colour bar) that plotters does not lay out the way a
//! slide needs.
use super::OrPlot;
use crate::error::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub(crate) const FONT: &str = "sans-serif";
// Sizes are the em height in pixels (the SVG font-size); see `font`.
pub(crate) const TITLE_PX: u32 = 34;
pub(crate) const CAPTION_PX: u32 = 28;
pub(crate) const AXIS_PX: u32 = 24;
pub(crate) const TICK_PX: u32 = 22;
pub(crate) const VALUE_PX: u32 = 22;

/// Okabe-Ito, reordered so the first colours are the most distinct from each other: black comes
/// sixth, because sky blue beside blue could not be told apart on a projector in a six-line chart.
pub(crate) const OKABE_ITO: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(0, 0, 0),       // black
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(240, 228, 66),  // yellow
];

/// Right / wrong marks: Okabe-Ito bluish green and vermillion differ in lightness as well as
/// hue, so they stay apart under red-green colour blindness (text marks carry the meaning too).
pub(crate) const CORRECT: RGBColor = RGBColor(0, 158, 115);
pub(crate) const WRONG: RGBColor = RGBColor(213, 94, 0);
pub(crate) const GRID_GREY: RGBColor = RGBColor(200, 200, 200);
pub(crate) const MISSING_GREY: RGBColor = RGBColor(170, 170, 170);

pub(crate) fn categorical(i: usize) -> RGBColor {
    OKABE_ITO[i % OKABE_ITO.len()]
}

/// Text style whose em is `px` pixels. Plotters treats its size as 1.24 em (and writes
/// size / 1.24 as the SVG font-size), so scale up to get what the constants promise.
pub(crate) fn font(px: u32) -> TextStyle<'static> {
    TextStyle::from((FONT, px as f64 * 1.24)).color(&BLACK)
}

pub(crate) fn anchored<'a>(style: TextStyle<'a>, h: HPos, v: VPos) -> TextStyle<'a> {
    style.pos(Pos::new(h, v))
}

fn lerp_stops(stops: &[(f64, (u8, u8, u8))], t: f64) -> RGBColor {
    let t = t.clamp(stops[0].0, stops[stops.len() - 1].0);
    let i = stops.windows(2).position(|w| t <= w[1].0).unwrap_or(stops.len() - 2);
    let ((t0, a), (t1, b)) = (stops[i], stops[i + 1]);
    let f = if t1 > t0 { (t - t0) / (t1 - t0) } else { 0.0 };
    let mix = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Viridis (perceptually uniform, colour-blind safe) on [0, 1], from its nine standard stops.
pub(crate) fn viridis(t: f64) -> RGBColor {
    const STOPS: [(f64, (u8, u8, u8)); 9] = [
        (0.0, (0x44, 0x01, 0x54)),
        (0.125, (0x47, 0x2D, 0x7B)),
        (0.25, (0x3B, 0x52, 0x8B)),
        (0.375, (0x2C, 0x72, 0x8E)),
        (0.5, (0x21, 0x91, 0x8C)),
        (0.625, (0x28, 0xAE, 0x80)),
        (0.75, (0x5E, 0xC9, 0x62)),
        (0.875, (0xAD, 0xDC, 0x30)),
        (1.0, (0xFD, 0xE7, 0x25)),
    ];
    lerp_stops(&STOPS, if t.is_finite() { t } else { 0.0 })
}

/// ColorBrewer RdBu on [-1, 1]: blue for negative, near-white at 0, red for positive.
pub(crate) fn diverging(v: f64) -> RGBColor {
    const STOPS: [(f64, (u8, u8, u8)); 5] = [
        (-1.0, (0x05, 0x71, 0xB0)),
        (-0.5, (0x92, 0xC5, 0xDE)),
        (0.0, (0xF7, 0xF7, 0xF7)),
        (0.5, (0xF4, 0xA5, 0x82)),
        (1.0, (0xCA, 0x00, 0x20)),
    ];
    lerp_stops(&STOPS, if v.is_finite() { v } else { 0.0 })
}

/// Black or white, whichever contrasts more with `bg` (WCAG relative luminance).
pub(crate) fn text_on(bg: RGBColor) -> RGBColor {
    let lin = |c: u8| {
        let c = c as f64 / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * lin(bg.0) + 0.7152 * lin(bg.1) + 0.0722 * lin(bg.2);
    // Contrast with white (1.05 / (l + 0.05)) beats contrast with black ((l + 0.05) / 0.05)
    // exactly when l is below this point.
    if l < 0.179 {
        WHITE
    } else {
        BLACK
    }
}

/// Compact number for axes and bar labels: integers as integers, small fractions with
/// `decimals`, large values with k/M suffixes.
pub(crate) fn fmt_number(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.1}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.decimals$}")
    }
}

/// Tick label for an axis running up to `hi` over `span`: one unit (plain, k or M) and one
/// number of decimals for every tick, so the labels line up and read as a scale.
pub(crate) fn axis_label(v: f64, hi: f64, span: f64) -> String {
    let (scale, suffix) = if hi.abs() >= 1e6 {
        (1e6, "M")
    } else if hi.abs() >= 1e4 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    let s = span.abs() / scale;
    // Ticks computed as sums of floats land a hair off zero and would print as "-0.0".
    let v = if v.abs() < span.abs() * 1e-9 { 0.0 } else { v };
    if v == 0.0 && !suffix.is_empty() {
        return "0".into();
    }
    let decimals = if s >= 10.0 {
        0
    } else if s >= 1.0 {
        1
    } else {
        2
    };
    format!("{:.decimals$}{suffix}", v / scale)
}

/// Finite-value extent of `values`, or `None` when there is none.
pub(crate) fn finite_extent<'a>(values: impl IntoIterator<Item = &'a f64>) -> Option<(f64, f64)> {
    values.into_iter().filter(|v| v.is_finite()).fold(None, |acc, &v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

pub(crate) fn text_size<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle,
) -> Result<(u32, u32)> {
    area.estimate_text_size(text, style).plot()
}

/// Draw the chart title at the top of `root` and return the area below it.
pub(crate) fn titled<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str) -> Result<DrawingArea<DB, Shift>> {
    let below = root.titled(title, font(TITLE_PX)).plot()?;
    Ok(below.margin(10, 0, 0, 0))
}

/// How a legend entry shows its series.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Key {
    /// A filled square (bars, heatmap classes).
    Swatch,
    /// A line sample with a marker; `dashed` and the marker tell series apart without colour.
    Line { dashed: bool, marker: Marker },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Marker {
    Circle,
    Triangle,
    /// A bare line (a reference, not data points).
    None,
}

pub(crate) const LEGEND_HEIGHT: u32 = 44;

/// Draw `marker` centred on `at`, in pixel coordinates of `area`.
pub(crate) fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    at: (i32, i32),
    marker: Marker,
    color: RGBColor,
) -> Result<()> {
    match marker {
        Marker::Circle => area.draw(&Circle::new(at, 6, color.filled())).plot(),
        Marker::Triangle => area.draw(&TriangleMarker::new(at, 8, color.filled())).plot(),
        Marker::None => Ok(()),
    }
}

/// One row of legend entries, centred in a strip of [`LEGEND_HEIGHT`] at the top of `area`;
/// returns the area below. Kept outside the plot so it can never hide data.
pub(crate) fn legend_strip<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(&str, RGBColor, Key)],
) -> Result<DrawingArea<DB, Shift>> {
    let (strip, rest) = area.split_vertically(LEGEND_HEIGHT);
    let style = font(TICK_PX);
    let key_w = 44;
    let gap = 36;
    let mut widths = Vec::with_capacity(entries.len());
    for (label, _, _) in entries {
        widths.push(text_size(&strip, label, &style)?.0 as i32);
    }
    let total: i32 = widths.iter().map(|w| key_w + 8 + w).sum::<i32>() + gap * (entries.len() as i32 - 1).max(0);
    let (w, h) = strip.dim_in_pixel();
    let mut x = ((w as i32 - total) / 2).max(0);
    let cy = h as i32 / 2;
    for ((label, color, key), tw) in entries.iter().zip(&widths) {
        match key {
            Key::Swatch => {
                strip.draw(&Rectangle::new([(x + 10, cy - 12), (x + 34, cy + 12)], color.filled())).plot()?;
            }
            Key::Line { dashed, marker } => {
                let line = color.stroke_width(3);
                if *dashed {
                    for s in (x..x + key_w).step_by(12) {
                        strip.draw(&PathElement::new(vec![(s, cy), ((s + 7).min(x + key_w), cy)], line)).plot()?;
                    }
                } else {
                    strip.draw(&PathElement::new(vec![(x, cy), (x + key_w, cy)], line)).plot()?;
                }
                draw_marker(&strip, (x + key_w / 2, cy), *marker, *color)?;
            }
        }
        let text = anchored(style.clone(), HPos::Left, VPos::Center);
        strip.draw(&Text::new(label.to_string(), (x + key_w + 8, cy), text)).plot()?;
        x += key_w + 8 + tw + gap;
    }
    Ok(rest)
}

/// A vertical colour bar for a heatmap: `map` sampled from `lo` (bottom) to `hi` (top), tick
/// labels at `ticks`, and `label` above it.
pub(crate) fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (lo, hi): (f64, f64),
    ticks: &[f64],
    map: impl Fn(f64) -> RGBColor,
    label: &str,
    decimals: usize,
    (top, bottom): (i32, i32),
) -> Result<()> {
    const STEPS: i32 = 128;
    let (x0, x1) = (16, 46);
    let span = (bottom - top).max(1);
    area.draw(&Text::new(label.to_string(), (x0, top - 12), anchored(font(VALUE_PX), HPos::Left, VPos::Bottom)))
        .plot()?;
    for s in 0..STEPS {
        let y_hi = top + span * s / STEPS;
        let y_lo = top + span * (s + 1) / STEPS;
        let v = hi - (hi - lo) * (s as f64 + 0.5) / STEPS as f64;
        area.draw(&Rectangle::new([(x0, y_hi), (x1, y_lo)], map(v).filled())).plot()?;
    }
    area.draw(&Rectangle::new([(x0, top), (x1, bottom)], BLACK.stroke_width(1))).plot()?;
    for &t in ticks {
        let y = bottom - ((t - lo) / (hi - lo) * span as f64).round() as i32;
        area.draw(&PathElement::new(vec![(x1, y), (x1 + 6, y)], BLACK.stroke_width(1))).plot()?;
        let text = anchored(font(VALUE_PX), HPos::Left, VPos::Center);
        area.draw(&Text::new(format!("{t:.decimals$}"), (x1 + 10, y), text)).plot()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_maps_hit_their_end_stops_and_interpolate() {
        assert_eq!(viridis(0.0), RGBColor(0x44, 0x01, 0x54));
        assert_eq!(viridis(1.0), RGBColor(0xFD, 0xE7, 0x25));
        assert_eq!(viridis(0.5), RGBColor(0x21, 0x91, 0x8C));
        // Halfway between the 0.75 and 0.875 stops.
        assert_eq!(viridis(0.8125), RGBColor(0x86, 0xD3, 0x49));
        assert_eq!(viridis(7.0), viridis(1.0));
        assert_eq!(diverging(-1.0), RGBColor(0x05, 0x71, 0xB0));
        assert_eq!(diverging(0.0), RGBColor(0xF7, 0xF7, 0xF7));
        assert_eq!(diverging(1.0), RGBColor(0xCA, 0x00, 0x20));
        // Negative is bluer than red, positive redder than blue.
        assert!(diverging(-0.7).2 > diverging(-0.7).0 && diverging(0.7).0 > diverging(0.7).2);
    }

    #[test]
    fn text_contrast_switches_on_dark_backgrounds() {
        assert_eq!(text_on(viridis(0.0)), WHITE);
        assert_eq!(text_on(viridis(1.0)), BLACK);
        assert_eq!(text_on(diverging(1.0)), WHITE);
        assert_eq!(text_on(diverging(0.0)), BLACK);
    }

    #[test]
    fn numbers_are_compact() {
        assert_eq!(fmt_number(11_689_512.0, 2), "11.7M");
        assert_eq!(fmt_number(42_000.0, 2), "42.0k");
        assert_eq!(fmt_number(8989.0, 2), "8989");
        assert_eq!(fmt_number(0.8734, 2), "0.87");
        assert_eq!(fmt_number(-0.5, 2), "-0.50");
        assert_eq!(fmt_number(f64::NAN, 2), "n/a");
    }

    #[test]
    fn axis_labels_share_unit_and_decimals() {
        let params: Vec<String> = [0.0, 5e6, 10e6].iter().map(|&v| axis_label(v, 13.4e6, 13.4e6)).collect();
        assert_eq!(params, ["0", "5M", "10M"]);
        let loss: Vec<String> = [0.0, 0.5, 1.0, 2.0].iter().map(|&v| axis_label(v, 2.05, 2.05)).collect();
        assert_eq!(loss, ["0.0", "0.5", "1.0", "2.0"]);
        assert_eq!(axis_label(0.2, 0.9, 0.9), "0.20");
        assert_eq!(axis_label(-1e-17, 0.8, 1.6), "0.0");
        assert_eq!(axis_label(3000.0, 7500.0, 7500.0), "3000");
        assert_eq!(axis_label(20_000.0, 45_000.0, 45_000.0), "20k");
    }

    #[test]
    fn extent_skips_non_finite() {
        assert_eq!(finite_extent(&[f64::NAN, 2.0, -1.0, f64::INFINITY]), Some((-1.0, 2.0)));
        assert_eq!(finite_extent(&[f64::NAN]), None);
    }
}
