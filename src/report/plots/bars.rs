//! Grouped bar charts (class distributions, per-run metric comparisons) and the shared drawing
//! of value-labelled bars.
use super::style::{self, anchored, font, text_size, Key};
use super::{render, Figure, OrPlot, Painter, Target, SINGLE};
use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::FontTransform;

/// One group of bars per category, one bar per series (coloured by series, Okabe-Ito), each
/// bar labelled with its value. Values that are all whole numbers print as integers, others
/// with 2 decimals. Non-finite values leave a gap.
pub fn bar_chart(title: &str, categories: &[String], series: &[(&str, Vec<f64>)], y_label: &str) -> Result<Figure> {
    bar_chart_with_intervals(title, categories, series, &[], y_label)
}

/// [`bar_chart`] with an interval whisker (e.g. a 95% confidence interval) on the bars of the
/// series that have one: `intervals[s]`, when present, holds one `[lo, hi]` per category.
pub fn bar_chart_with_intervals(
    title: &str,
    categories: &[String],
    series: &[(&str, Vec<f64>)],
    intervals: &[Option<Vec<[f64; 2]>>],
    y_label: &str,
) -> Result<Figure> {
    bar_chart_inner(title, categories, series, intervals, None, None, (None, y_label))
}

/// [`bar_chart_with_intervals`] with a dashed reference line across the chart at `reference.1`,
/// labelled `reference.0` (e.g. what always answering the majority class scores).
pub fn bar_chart_with_reference(
    title: &str,
    categories: &[String],
    series: &[(&str, Vec<f64>)],
    intervals: &[Option<Vec<[f64; 2]>>],
    reference: (&str, f64),
    y_label: &str,
) -> Result<Figure> {
    bar_chart_inner(title, categories, series, intervals, Some(reference), None, (None, y_label))
}

/// [`bar_chart`] with a dashed vertical line before category `cut.0`, labelled `cut.1` (e.g. the
/// rating at which reviews turn positive).
pub fn bar_chart_with_cut(
    title: &str,
    categories: &[String],
    series: &[(&str, Vec<f64>)],
    cut: (usize, &str),
    (x_label, y_label): (&str, &str),
) -> Result<Figure> {
    if cut.0 == 0 || cut.0 >= categories.len() {
        return Err(Error::Plot(format!(
            "bar_chart {title:?}: a cut before category {} of {}",
            cut.0,
            categories.len()
        )));
    }
    bar_chart_inner(title, categories, series, &[], None, Some(cut), (Some(x_label), y_label))
}

fn bar_chart_inner(
    title: &str,
    categories: &[String],
    series: &[(&str, Vec<f64>)],
    intervals: &[Option<Vec<[f64; 2]>>],
    reference: Option<(&str, f64)>,
    cut: Option<(usize, &str)>,
    (x_label, y_label): (Option<&str>, &str),
) -> Result<Figure> {
    if intervals.iter().flatten().any(|iv| iv.len() != categories.len()) || intervals.len() > series.len() {
        return Err(Error::Plot(format!("bar_chart {title:?}: intervals must match the series and categories")));
    }
    if categories.is_empty() || series.is_empty() {
        return Err(Error::Plot(format!("bar_chart {title:?}: needs at least one category and one series")));
    }
    for (name, values) in series {
        if values.len() != categories.len() {
            return Err(Error::Plot(format!(
                "bar_chart {title:?}: series {name:?} has {} values for {} categories",
                values.len(),
                categories.len()
            )));
        }
    }
    let integral = series.iter().flat_map(|(_, v)| v).filter(|v| v.is_finite()).all(|v| v.fract() == 0.0);
    render(SINGLE, &Bars { title, categories, series, intervals, reference, cut, x_label, y_label, integral })
}

/// The label printed on a bar: whole numbers as integers (k/M for large counts), fractions
/// such as metrics to 2 decimals.
pub(crate) fn value_label(v: f64, integral: bool) -> String {
    if integral || v.abs() >= 100.0 {
        style::fmt_number(v, 1)
    } else if v.is_finite() {
        format!("{v:.2}")
    } else {
        "n/a".into()
    }
}

struct Bars<'a> {
    title: &'a str,
    categories: &'a [String],
    series: &'a [(&'a str, Vec<f64>)],
    intervals: &'a [Option<Vec<[f64; 2]>>],
    reference: Option<(&'a str, f64)>,
    cut: Option<(usize, &'a str)>,
    x_label: Option<&'a str>,
    y_label: &'a str,
    integral: bool,
}

/// Share of a category's width taken by its group of bars.
const GROUP: f64 = 0.8;

impl Painter for Bars<'_> {
    fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, _: Target) -> Result<()> {
        let body = style::titled(root, self.title)?;
        let mut legend: Vec<_> =
            self.series.iter().enumerate().map(|(i, (name, _))| (*name, style::categorical(i), Key::Swatch)).collect();
        // The reference is keyed in the legend: a label at the line's end would sit on the bars.
        if let Some((label, _)) = self.reference {
            legend.push((label, BLACK, Key::Line { dashed: true, marker: style::Marker::None }));
        }
        let body = style::legend_strip(&body, &legend)?;
        let (body_w, body_h) = body.dim_in_pixel();
        let (margin, y_area) = (16, 110);
        let n = self.categories.len();
        let n_series = self.series.len();
        let cat_px = (body_w as i32 - y_area - 2 * margin) / n as i32;
        let bar_px = (cat_px as f64 * GROUP / n_series as f64) as i32;

        let tick = font(style::TICK_PX);
        // Category names may hold line breaks: each line is drawn centred under its group.
        let (mut cat_w, mut line_h, mut lines, mut joined_w) = (0, 0, 1, 0);
        for c in self.categories {
            joined_w = joined_w.max(text_size(&body, &c.replace('\n', " "), &tick)?.0 as i32);
            lines = lines.max(c.lines().count() as i32);
            for line in c.lines() {
                let (w, h) = text_size(&body, line, &tick)?;
                cat_w = cat_w.max(w as i32);
                line_h = line_h.max(h as i32 + 4);
            }
        }
        let cat_h = line_h * lines;
        let vertical_cats = cat_w + 8 > cat_px;
        let x_title_h = match self.x_label {
            Some(t) => text_size(&body, t, &font(style::AXIS_PX))?.1 as i32 + 12,
            None => 0,
        };
        let x_area = 16 + if vertical_cats { joined_w } else { cat_h } + x_title_h;

        let value_style = font(style::VALUE_PX);
        let mut label_w = 0;
        let mut label_h = 0;
        for v in self.series.iter().flat_map(|(_, v)| v) {
            let (w, h) = text_size(&body, &value_label(*v, self.integral), &value_style)?;
            label_w = label_w.max(w as i32);
            label_h = label_h.max(h as i32);
        }
        // Labels wider than their bar are turned to read upwards rather than collide.
        let vertical_values = label_w + 4 > bar_px;
        let label_extent = if vertical_values { label_w } else { label_h } + 10;

        let whisker_ends = self.intervals.iter().flatten().flatten().flatten();
        let reference = self.reference.iter().map(|(_, v)| v);
        let (lo, hi) =
            style::finite_extent(self.series.iter().flat_map(|(_, v)| v).chain(whisker_ends).chain(reference))
                .unwrap_or((0.0, 1.0));
        let plot_h = body_h as f64 - x_area as f64 - 2.0 * margin as f64;
        let (y_lo, y_hi) = value_range(lo, hi, label_extent as f64 / plot_h.max(1.0));

        let mut chart = ChartBuilder::on(&body)
            .margin(margin)
            .x_label_area_size(x_area)
            .y_label_area_size(y_area)
            .build_cartesian_2d(0.0..n as f64, y_lo..y_hi)
            .plot()?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(8)
            .y_desc(self.y_label)
            .light_line_style(WHITE)
            .bold_line_style(style::GRID_GREY.mix(0.6))
            .label_style(font(style::TICK_PX))
            .axis_desc_style(font(style::AXIS_PX))
            .y_label_formatter(&|v| style::axis_label(*v, y_hi.abs().max(y_lo.abs()), y_hi - y_lo))
            .draw()
            .plot()?;

        let bar_w = GROUP / n_series as f64;
        let mut labels = Vec::new();
        for (s, (_, values)) in self.series.iter().enumerate() {
            let color = style::categorical(s);
            for (c, &v) in values.iter().enumerate() {
                if !v.is_finite() {
                    continue;
                }
                let x0 = c as f64 + (1.0 - GROUP) / 2.0 + bar_w * s as f64;
                let x1 = x0 + bar_w * 0.92;
                chart.draw_series(std::iter::once(Rectangle::new([(x0, 0.0), (x1, v)], color.filled()))).plot()?;
                let xm = (x0 + x1) / 2.0;
                let mut top = v;
                if let Some([lo, hi]) = self.intervals.get(s).and_then(|iv| iv.as_ref()).map(|iv| iv[c]) {
                    let cap = (x1 - x0) * 0.25;
                    let ink = BLACK.stroke_width(2);
                    for line in [
                        vec![(xm, lo), (xm, hi)],
                        vec![(xm - cap, lo), (xm + cap, lo)],
                        vec![(xm - cap, hi), (xm + cap, hi)],
                    ] {
                        chart.draw_series(std::iter::once(PathElement::new(line, ink))).plot()?;
                    }
                    // the value label sits above the whisker, not inside it
                    top = if v < 0.0 { lo.min(v) } else { hi.max(v) };
                }
                labels.push((value_label(v, self.integral), chart.backend_coord(&(xm, top)), v < 0.0));
            }
        }

        if let Some((_, v)) = self.reference.filter(|(_, v)| v.is_finite()) {
            let line = [(0.0, v), (n as f64, v)];
            chart.draw_series(DashedLineSeries::new(line, 12, 8, BLACK.stroke_width(3))).plot()?;
        }
        // After the reference line, on a white backing: a value near it would be struck through.
        for (text, at, negative) in &labels {
            draw_value_label(root, text, *at, *negative, vertical_values)?;
        }

        if let Some((k, label)) = self.cut {
            let line = [(k as f64, y_lo), (k as f64, y_hi)];
            chart.draw_series(DashedLineSeries::new(line, 12, 8, BLACK.stroke_width(3))).plot()?;
            let (px, py) = chart.backend_coord(&(k as f64, y_hi));
            let text = anchored(font(style::VALUE_PX), HPos::Left, VPos::Top);
            root.draw(&Text::new(label.to_string(), (px + 8, py + 4), text)).plot()?;
        }

        for (c, name) in self.categories.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(c as f64 + 0.5, y_lo));
            if vertical_cats {
                let style = anchored(tick.clone(), HPos::Right, VPos::Center).transform(FontTransform::Rotate270);
                root.draw(&Text::new(name.replace('\n', " "), (px, py + 8), style)).plot()?;
            } else {
                for (i, line) in name.lines().enumerate() {
                    let style = anchored(tick.clone(), HPos::Center, VPos::Top);
                    root.draw(&Text::new(line.to_string(), (px, py + 8 + i as i32 * line_h), style)).plot()?;
                }
            }
        }
        if let Some(t) = self.x_label {
            let (px, py) = chart.backend_coord(&(n as f64 / 2.0, y_lo));
            let style = anchored(font(style::AXIS_PX), HPos::Center, VPos::Bottom);
            root.draw(&Text::new(t.to_string(), (px, py + x_area - 2), style)).plot()?;
        }
        Ok(())
    }
}

/// Axis range covering 0 and the data, with `headroom` (a fraction of the plot height) left
/// beyond the extreme bars for their labels.
pub(crate) fn value_range(lo: f64, hi: f64, headroom: f64) -> (f64, f64) {
    let (lo, hi) = (lo.min(0.0), hi.max(0.0));
    let f = headroom.clamp(0.02, 0.45);
    let span = if hi > lo { hi - lo } else { 1.0 };
    // Solve for the padded span whose top (and bottom, for negative bars) fraction `f` is empty.
    let padded = span / (1.0 - f * (if lo < 0.0 { 2.0 } else { 1.0 }));
    let pad = f * padded;
    let y_hi = if hi > 0.0 || lo == 0.0 { hi + pad } else { hi };
    let y_lo = if lo < 0.0 { lo - pad } else { 0.0 };
    (y_lo, if y_hi > y_lo { y_hi } else { y_lo + 1.0 })
}

/// A value label just beyond the end of a vertical bar whose end is at pixel `end` of `root`.
fn draw_value_label<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    (px, py): (i32, i32),
    negative: bool,
    vertical: bool,
) -> Result<()> {
    let base = font(style::VALUE_PX);
    let (w, h) = text_size(root, text, &base)?;
    let (w, h) = (w as i32, h as i32);
    // the text's box as drawn (rotated labels read upwards from the bar's end), 2 px wider
    let (style, pos, backing) = match (vertical, negative) {
        (false, false) => {
            (anchored(base, HPos::Center, VPos::Bottom), (px, py - 5), [(px - w / 2, py - 5 - h), (px + w / 2, py - 5)])
        }
        (false, true) => {
            (anchored(base, HPos::Center, VPos::Top), (px, py + 5), [(px - w / 2, py + 5), (px + w / 2, py + 5 + h)])
        }
        (true, false) => (
            anchored(base, HPos::Left, VPos::Center).transform(FontTransform::Rotate270),
            (px, py - 6),
            [(px - h / 2, py - 6 - w), (px + h / 2, py - 6)],
        ),
        (true, true) => (
            anchored(base, HPos::Right, VPos::Center).transform(FontTransform::Rotate270),
            (px, py + 6),
            [(px - h / 2, py + 6), (px + h / 2, py + 6 + w)],
        ),
    };
    let [(x0, y0), (x1, y1)] = backing;
    root.draw(&Rectangle::new([(x0 - 2, y0 - 1), (x1 + 2, y1 + 1)], WHITE.filled())).plot()?;
    root.draw(&Text::new(text.to_string(), pos, style)).plot()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::plots::{assert_rendered, keep_for_review, text_el};

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn class_counts_render_with_integer_labels() {
        let classes = strings(&["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]);
        let before = vec![3995.0, 436.0, 4097.0, 7215.0, 4965.0, 4830.0, 3171.0];
        let after = vec![4000.0, 4000.0, 4000.0, 4000.0, 4000.0, 4000.0, 3171.0];
        let fig = bar_chart("Class distribution", &classes, &[("before", before), ("after", after)], "images").unwrap();
        assert_rendered(&fig, SINGLE, "Class distribution");
        for text in ["3995", "436", "7215", "4000", "before", "after", "surprise", "images"] {
            assert!(fig.svg().contains(&text_el(text)), "missing {text}");
        }
        keep_for_review(&fig, "bar_classes");
    }

    #[test]
    fn value_labels_sit_on_a_white_backing_above_the_reference_line() {
        let cats = strings(&["a", "b"]);
        let series = [("fp32", vec![0.94, 1.27]), ("cl", vec![0.97, 1.0])];
        let fig = bar_chart_with_reference("Ratios", &cats, &series, &[], ("same", 1.0), "x").unwrap();
        let svg = fig.svg();
        // the dashed reference line is the last path drawn before the labels
        let line_at = svg.rfind("<polyline").or_else(|| svg.rfind("<path")).expect("a line");
        for label in ["0.94", "1.27", "0.97", "1.00"] {
            let at = svg.find(&text_el(label)).unwrap_or_else(|| panic!("missing {label}"));
            assert!(at > line_at, "{label} is drawn before the reference line, which would strike it through");
            let before = &svg[..at];
            let rect = before.rfind("<rect").expect("a backing rectangle");
            assert!(before[rect..].contains("#FFFFFF"), "{label}'s backing is white: {}", &before[rect..]);
        }
        keep_for_review(&fig, "bar_reference_labels");
    }

    #[test]
    fn metric_comparison_labels_fractions_and_colours_each_series() {
        let metrics = strings(&["accuracy", "precision", "recall", "F1"]);
        let runs = [
            ("MiniLM direct", vec![0.873, 0.861, 0.855, 0.858]),
            ("MiniLM indirect", vec![0.741, 0.702, 0.733, 0.717]),
            ("BiLSTM direct", vec![0.812, 0.79, 0.801, 0.795]),
            ("BiLSTM indirect", vec![0.655, 0.62, 0.64, 0.63]),
        ];
        let fig = bar_chart("Part 2 metrics", &metrics, &runs, "score").unwrap();
        assert_rendered(&fig, SINGLE, "Part 2 metrics");
        for text in ["0.87", "0.74", "0.79", "0.66", "BiLSTM indirect"] {
            assert!(fig.svg().contains(&text_el(text)), "missing {text}");
        }
        for i in 0..4 {
            let c = style::categorical(i);
            assert!(fig.svg().contains(&format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)), "series {i} colour");
        }
        keep_for_review(&fig, "bar_metrics");
    }

    #[test]
    fn intervals_draw_whiskers_on_their_series_only() {
        let cats = strings(&["a", "b"]);
        let series = [("accuracy", vec![0.5, 0.6]), ("F1", vec![0.4, 0.5])];
        let plain = bar_chart("x", &cats, &series, "score").unwrap();
        let iv = vec![Some(vec![[0.45, 0.55], [0.55, 0.97]]), None];
        let fig = bar_chart_with_intervals("x", &cats, &series, &iv, "score").unwrap();
        keep_for_review(&fig, "bar_intervals");
        assert_rendered(&fig, SINGLE, "x");
        // whiskers are the only 2-px black strokes (axes and ticks are 1 px)
        let count = |f: &Figure| f.svg().matches(r##"stroke="#000000" stroke-width="2""##).count();
        assert_eq!((count(&plain), count(&fig)), (0, 6), "3 strokes (whisker + 2 caps) per bar with an interval");
        assert!(bar_chart_with_intervals("x", &cats, &series, &[Some(vec![[0.0, 1.0]])], "score").is_err());
    }

    #[test]
    fn a_cut_is_drawn_between_its_categories_and_must_fall_inside() {
        let cats = strings(&["1", "2", "3", "4"]);
        let series = [("n", vec![4.0, 3.0, 5.0, 9.0])];
        let fig = bar_chart_with_cut("cut", &cats, &series, (2, "positive from 3"), ("rating", "reviews")).unwrap();
        assert!(fig.svg().contains(&text_el("positive from 3")));
        assert!(fig.svg().contains(&text_el("rating")), "the category axis has its title");
        assert!(!bar_chart("cut", &cats, &series, "reviews").unwrap().svg().contains(&text_el("positive from 3")));
        assert!(bar_chart_with_cut("cut", &cats, &series, (0, "x"), ("rating", "reviews")).is_err());
        assert!(bar_chart_with_cut("cut", &cats, &series, (4, "x"), ("rating", "reviews")).is_err());
    }

    #[test]
    fn mismatched_series_is_an_error() {
        let cats = strings(&["a", "b"]);
        assert!(bar_chart("x", &cats, &[("s", vec![1.0])], "y").is_err());
        assert!(bar_chart("x", &cats, &[], "y").is_err());
    }

    #[test]
    fn value_range_leaves_headroom_and_keeps_zero() {
        let (lo, hi) = value_range(10.0, 100.0, 0.1);
        assert_eq!(lo, 0.0);
        assert!((hi - 100.0 / 0.9).abs() < 1e-9);
        let (lo, hi) = value_range(-50.0, 50.0, 0.1);
        assert!((hi - 62.5).abs() < 1e-9 && (lo + 62.5).abs() < 1e-9);
        assert_eq!(value_range(0.0, 0.0, 0.1).0, 0.0);
        assert!(value_range(0.0, 0.0, 0.1).1 > 0.0);
        assert_eq!(value_label(4000.0, true), "4000");
        assert_eq!(value_label(0.8734, false), "0.87");
    }
}
