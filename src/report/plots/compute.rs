//! Validation accuracy against cumulative training compute (seconds, FLOPs), one line per row
//! on a log axis: what each approach reaches for what it costs, and whether the cheap ones were
//! still improving when they stopped.
use super::style::{self, anchored, font, text_size};
use super::{render, Figure, OrPlot, Painter, Target, SINGLE, WIDE};
use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// One row's evaluations: (compute so far, validation accuracy as a fraction).
pub struct Trace<'a> {
    pub name: &'a str,
    pub points: Vec<(f64, f64)>,
    /// Index of the evaluation whose weights were kept.
    pub kept: Option<usize>,
    /// Training ended on a budget (drawn dashed, "(cap)" in the key).
    pub capped: bool,
}

/// One panel: its caption, x-axis title and lines (every panel draws the same rows, in order).
pub struct Axis<'a> {
    pub caption: &'a str,
    pub x_desc: &'a str,
    pub traces: Vec<Trace<'a>>,
    /// The equal-compute budget on this axis, drawn as a labelled vertical line.
    pub budget: Option<f64>,
}

/// One or two panels of validation accuracy against compute (log x), a key on the right.
pub fn compute_curves(title: &str, axes: Vec<Axis<'_>>) -> Result<Figure> {
    if axes.is_empty() || axes.len() > 2 {
        return Err(Error::Plot(format!("compute_curves {title:?}: one or two panels, got {}", axes.len())));
    }
    for a in &axes {
        let bad = a.traces.iter().find(|t| {
            t.points.iter().any(|(x, y)| !(x.is_finite() && *x > 0.0 && y.is_finite()))
                || t.kept.is_some_and(|k| k >= t.points.len())
        });
        if let Some(t) = bad {
            return Err(Error::Plot(format!(
                "compute_curves {title:?}: {:?} needs positive compute, finite accuracy and a kept point inside",
                t.name
            )));
        }
        if a.budget.is_some_and(|b| !(b.is_finite() && b > 0.0)) {
            return Err(Error::Plot(format!("compute_curves {title:?}: the budget must be positive")));
        }
        if a.traces.iter().all(|t| t.points.is_empty()) {
            return Err(Error::Plot(format!("compute_curves {title:?}: panel {:?} has no points", a.caption)));
        }
    }
    let size = if axes.len() == 2 { WIDE } else { SINGLE };
    render(size, &Compute { title, axes })
}

struct Compute<'a> {
    title: &'a str,
    axes: Vec<Axis<'a>>,
}

impl Painter for Compute<'_> {
    fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, _: Target) -> Result<()> {
        let body = style::titled(root, self.title)?;
        let (w, _) = body.dim_in_pixel();
        // the key is as wide as its longest entry
        let mut key_w = text_size(&body, "stopped on a cap", &font(style::TICK_PX))?.0;
        for t in &self.axes[0].traces {
            key_w = key_w.max(text_size(&body, &key_name(t), &font(style::TICK_PX))?.0);
        }
        let key_w = (key_w + 64).min(w / 3);
        let (plots, key) = body.split_horizontally(w - key_w);
        let panels = match self.axes.len() {
            1 => vec![plots],
            _ => {
                let (a, b) = plots.split_horizontally((w - key_w) / 2);
                vec![a, b]
            }
        };
        for (area, axis) in panels.iter().zip(&self.axes) {
            panel(area, axis)?;
        }
        draw_key(&key, &self.axes[0].traces)
    }
}

fn panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, axis: &Axis<'_>) -> Result<()> {
    let xs = axis.traces.iter().flat_map(|t| t.points.iter().map(|p| &p.0)).chain(&axis.budget);
    let (x_lo, x_hi) = style::finite_extent(xs).unwrap_or((1.0, 10.0));
    let ys = axis.traces.iter().flat_map(|t| t.points.iter().map(|p| &p.1));
    let y_hi = style::finite_extent(ys).map_or(1.0, |(_, hi)| (hi * 1.1).clamp(0.1, 1.0));
    let mut chart = ChartBuilder::on(area)
        .caption(axis.caption, font(style::CAPTION_PX))
        .margin(16)
        .x_label_area_size(70)
        .y_label_area_size(100)
        .build_cartesian_2d((x_lo / 1.5..x_hi * 1.5).log_scale(), 0.0..y_hi)
        .plot()?;
    chart
        .configure_mesh()
        .x_desc(axis.x_desc)
        .y_desc("validation accuracy")
        .x_labels(5)
        .x_label_formatter(&|v| si(*v))
        .y_labels(6)
        .light_line_style(WHITE)
        .bold_line_style(style::GRID_GREY.mix(0.6))
        .label_style(font(style::TICK_PX))
        .axis_desc_style(font(style::AXIS_PX))
        .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
        .draw()
        .plot()?;
    if let Some(b) = axis.budget {
        let grey = style::GRID_GREY.stroke_width(3);
        chart.draw_series(DashedLineSeries::new([(b, 0.0), (b, y_hi)], 8, 8, grey)).plot()?;
        // at the foot of the line, where the curves rarely are, on whichever side has room
        let (lo, hi) = ((x_lo / 1.5).ln(), (x_hi * 1.5).ln());
        let (side, x) = if (b.ln() - lo) / (hi - lo) > 0.6 { (HPos::Right, b / 1.05) } else { (HPos::Left, b * 1.05) };
        let label = anchored(font(style::TICK_PX), side, VPos::Bottom);
        chart.draw_series(std::iter::once(Text::new("equal compute", (x, y_hi * 0.02), label))).plot()?;
    }
    for (i, t) in axis.traces.iter().enumerate() {
        let colour = style::categorical(i);
        let line = colour.stroke_width(3);
        if t.capped {
            chart.draw_series(DashedLineSeries::new(t.points.iter().copied(), 10, 6, line)).plot()?;
        } else {
            chart.draw_series(LineSeries::new(t.points.iter().copied(), line)).plot()?;
        }
        chart.draw_series(t.points.iter().map(|&p| Circle::new(p, 4, colour.filled()))).plot()?;
        if let Some(&p) = t.kept.and_then(|k| t.points.get(k)) {
            // the kept checkpoint: a ring around the point
            chart.draw_series(std::iter::once(Circle::new(p, 11, colour.stroke_width(3)))).plot()?;
        }
    }
    Ok(())
}

fn key_name(t: &Trace<'_>) -> String {
    if t.capped {
        format!("{} (cap)", t.name)
    } else {
        t.name.to_string()
    }
}

/// A log-axis tick: 10, 100, 1k, 10G, 1T (one decimal only where needed).
fn si(v: f64) -> String {
    let (scaled, unit) = [(1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
        .into_iter()
        .find(|(u, _)| v.abs() >= *u)
        .map_or((v, ""), |(u, name)| (v / u, name));
    if (scaled - scaled.round()).abs() < 1e-6 {
        format!("{:.0}{unit}", scaled)
    } else {
        format!("{scaled:.1}{unit}")
    }
}

/// The rows, one per line, with the marks explained below them.
fn draw_key<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, traces: &[Trace<'_>]) -> Result<()> {
    let style = anchored(font(style::TICK_PX), HPos::Left, VPos::Center);
    let line_h = text_size(area, "Xg", &font(style::TICK_PX))?.1 as i32 + 14;
    let mut y = 110;
    for (i, t) in traces.iter().enumerate() {
        let colour = style::categorical(i);
        let seg = if t.capped { vec![(8, 20), (26, 38)] } else { vec![(8, 38)] };
        for (a, b) in seg {
            area.draw(&PathElement::new(vec![(a, y), (b, y)], colour.stroke_width(3))).plot()?;
        }
        area.draw(&Circle::new((23, y), 4, colour.filled())).plot()?;
        area.draw(&Text::new(key_name(t), (48, y), style.clone())).plot()?;
        y += line_h;
    }
    y += line_h / 2;
    area.draw(&Circle::new((23, y), 11, BLACK.stroke_width(3))).plot()?;
    area.draw(&Text::new("kept checkpoint", (48, y), style.clone())).plot()?;
    y += line_h;
    for (a, b) in [(8, 20), (26, 38)] {
        area.draw(&PathElement::new(vec![(a, y), (b, y)], BLACK.stroke_width(3))).plot()?;
    }
    area.draw(&Text::new("stopped on a cap", (48, y), style)).plot()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::plots::{assert_rendered, keep_for_review, text_el};

    fn trace(name: &'static str, scale: f64, capped: bool) -> Trace<'static> {
        let points = (1..=5).map(|i| (scale * i as f64, 0.2 + 0.05 * i as f64)).collect();
        Trace { name, points, kept: Some(3), capped }
    }

    #[test]
    fn draws_every_row_on_a_log_axis_with_kept_points_and_caps_in_the_key() {
        let axes = vec![
            Axis {
                caption: "time",
                x_desc: "training seconds",
                traces: vec![trace("a", 10.0, false), trace("b", 300.0, true)],
                budget: Some(40.0),
            },
            Axis {
                caption: "work",
                x_desc: "training FLOPs",
                traces: vec![trace("a", 1e12, false), trace("b", 3e14, true)],
                budget: None,
            },
        ];
        let fig = compute_curves("Accuracy against compute", axes).unwrap();
        assert_rendered(&fig, WIDE, "Accuracy against compute");
        let texts = ["a", "b (cap)", "kept checkpoint", "stopped on a cap", "training seconds", "training FLOPs"];
        for text in texts.into_iter().chain(["equal compute"]) {
            assert!(fig.svg().contains(&text_el(text)), "missing {text}");
        }
        // the x axis spans orders of magnitude: log ticks such as 1k and 1T appear
        assert!(fig.svg().contains(&text_el("1k")), "no log ticks");
        assert_eq!(fig.svg().matches(&text_el("equal compute")).count(), 1, "on the time panel only");
        assert_eq!((si(10.0), si(1000.0), si(1e12), si(2.5e9)), ("10".into(), "1k".into(), "1T".into(), "2.5G".into()));
        keep_for_review(&fig, "compute_curves");
    }

    #[test]
    fn refuses_what_a_log_axis_cannot_draw() {
        let bad = |points: Vec<(f64, f64)>, kept| {
            let axes = vec![Axis {
                caption: "c",
                x_desc: "x",
                traces: vec![Trace { name: "a", points, kept, capped: false }],
                budget: None,
            }];
            compute_curves("t", axes).is_err()
        };
        assert!(bad(vec![(0.0, 0.5)], None), "zero compute");
        assert!(bad(vec![(1.0, f64::NAN)], None));
        assert!(bad(vec![(1.0, 0.5)], Some(1)), "kept point outside");
        assert!(bad(vec![], None), "no points");
        assert!(!bad(vec![(1.0, 0.5)], Some(0)));
        assert!(compute_curves("t", vec![]).is_err());
        let axis = |budget| Axis { caption: "c", x_desc: "x", traces: vec![trace("a", 1.0, false)], budget };
        assert!(compute_curves("t", vec![axis(Some(0.0))]).is_err(), "a budget a log axis cannot place");
        assert!(compute_curves("t", vec![axis(Some(3.0))]).is_ok());
    }
}
