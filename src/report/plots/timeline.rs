//! Values by calendar period (month), two panels side by side: one line per series, periods
//! without a value (too few samples) left as gaps in the line.
use super::style::{self, Key, Marker};
use super::{render, Figure, OrPlot, Painter, Target, WIDE};
use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One line: a name for the legend and a value per period (`None`: not drawn).
pub struct Line<'a> {
    pub name: &'a str,
    pub values: Vec<Option<f64>>,
}

/// A panel: caption, y-axis title, the labelled periods (e.g. "2016-11") and lines over them.
pub struct Panel<'a> {
    pub caption: &'a str,
    pub y_desc: &'a str,
    pub periods: &'a [String],
    pub lines: Vec<Line<'a>>,
}

/// Two panels of lines by period; values are fractions in [0, 1].
pub fn timeline(title: &str, panels: [Panel<'_>; 2]) -> Result<Figure> {
    for p in &panels {
        if p.periods.is_empty() {
            return Err(Error::Plot(format!("timeline {title:?}: panel {:?} has no periods", p.caption)));
        }
        if let Some(l) = p.lines.iter().find(|l| l.values.len() != p.periods.len()) {
            return Err(Error::Plot(format!(
                "timeline {title:?}: line {:?} has {} values for {} periods",
                l.name,
                l.values.len(),
                p.periods.len()
            )));
        }
    }
    render(WIDE, &Timeline { title, panels })
}

struct Timeline<'a> {
    title: &'a str,
    panels: [Panel<'a>; 2],
}

impl Painter for Timeline<'_> {
    fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, _: Target) -> Result<()> {
        let body = style::titled(root, self.title)?;
        let (w, _) = body.dim_in_pixel();
        let (left, right) = body.split_horizontally(w / 2);
        panel(&left, &self.panels[0])?;
        panel(&right, &self.panels[1])
    }
}

const MARKERS: [Marker; 2] = [Marker::Circle, Marker::Triangle];

fn panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, p: &Panel<'_>) -> Result<()> {
    let periods = p.periods;
    let keys: Vec<(&str, RGBColor, Key)> = p
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| (l.name, style::categorical(i), Key::Line { dashed: false, marker: MARKERS[i % 2] }))
        .collect();
    let area = style::legend_strip(area, &keys)?;
    let n = periods.len();
    let x_hi = (n.max(2) - 1) as f64;
    let mut chart = ChartBuilder::on(&area)
        .caption(p.caption, style::font(style::CAPTION_PX))
        .margin(16)
        .x_label_area_size(70)
        .y_label_area_size(100)
        .build_cartesian_2d(0.0..x_hi, 0.0..1.0)
        .plot()?;
    let label = |v: &f64| {
        let i = v.round();
        if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
            periods[i as usize].clone()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .x_desc("month")
        .y_desc(p.y_desc)
        .x_labels(n.min(5))
        .x_label_formatter(&label)
        .y_labels(6)
        .light_line_style(WHITE)
        .bold_line_style(style::GRID_GREY.mix(0.6))
        .label_style(style::font(style::TICK_PX))
        .axis_desc_style(style::font(style::AXIS_PX))
        .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
        .draw()
        .plot()?;
    for (i, line) in p.lines.iter().enumerate() {
        let colour = style::categorical(i);
        // a gap (None) ends a segment: lines never bridge periods without data
        let mut segment: Vec<(f64, f64)> = Vec::new();
        for (x, v) in line.values.iter().enumerate() {
            match v.filter(|v| v.is_finite()) {
                Some(v) => segment.push((x as f64, v)),
                None if !segment.is_empty() => {
                    chart.draw_series(LineSeries::new(segment.drain(..), colour.stroke_width(3))).plot()?;
                }
                None => {}
            }
        }
        chart.draw_series(LineSeries::new(segment, colour.stroke_width(3))).plot()?;
        let points =
            line.values.iter().enumerate().filter_map(|(x, v)| v.filter(|v| v.is_finite()).map(|v| (x as f64, v)));
        chart.draw_series(points.map(|p| Circle::new(p, 4, colour.filled()))).plot()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::assert_rendered;
    use super::*;

    #[test]
    fn draws_with_gaps_and_rejects_mismatched_lengths() {
        let periods: Vec<String> = (1..=6).map(|m| format!("2016-{m:02}")).collect();
        let lines = || {
            vec![
                Line { name: "train", values: vec![Some(0.6), Some(0.7), None, Some(0.65), None, None] },
                Line { name: "test", values: vec![None, None, None, None, Some(0.5), Some(0.55)] },
            ]
        };
        let fig = timeline(
            "Drift",
            [
                Panel { caption: "positive share", y_desc: "positive", periods: &periods, lines: lines() },
                Panel { caption: "test accuracy", y_desc: "accuracy", periods: &periods, lines: lines() },
            ],
        )
        .unwrap();
        assert_rendered(&fig, WIDE, "Drift");
        let short = Panel {
            caption: "x",
            y_desc: "y",
            periods: &periods,
            lines: vec![Line { name: "a", values: vec![Some(0.1)] }],
        };
        let ok = Panel { caption: "x", y_desc: "y", periods: &periods, lines: lines() };
        assert!(timeline("Drift", [short, ok]).is_err());
    }
}
