//! Model benchmark overview: parameters, size on disk, latency and accuracy, one horizontal-bar
//! panel each, bars coloured by how the model started (from scratch or pretrained), on a log axis
//! where a panel's values span orders of magnitude.
use super::style::{self, anchored, font, text_size};
use super::{render, Figure, OrPlot, Painter, Target, WIDE};
use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// A 2x2 panel of horizontal bars, one bar per model (first model on top), each labelled with
/// its value and coloured by `pretrained[i]`. Accuracy given as fractions (all <= 1) is printed as
/// percent; a panel whose positive values span more than [`LOG_SPAN`]x gets a log axis.
pub fn benchmark_chart(
    models: &[String],
    pretrained: &[bool],
    params: &[f64],
    size_mb: &[f64],
    latency_ms: &[f64],
    accuracy: &[f64],
) -> Result<Figure> {
    if models.is_empty() {
        return Err(Error::Plot("benchmark_chart: no models".into()));
    }
    if pretrained.len() != models.len() {
        return Err(Error::Plot(format!(
            "benchmark_chart: {} init flags for {} models",
            pretrained.len(),
            models.len()
        )));
    }
    for (what, values) in [("params", params), ("size_mb", size_mb), ("latency_ms", latency_ms), ("accuracy", accuracy)]
    {
        if values.len() != models.len() {
            return Err(Error::Plot(format!(
                "benchmark_chart: {what} has {} values for {} models",
                values.len(),
                models.len()
            )));
        }
    }
    let fraction = accuracy.iter().filter(|v| v.is_finite()).all(|v| *v <= 1.0);
    render(WIDE, &Benchmark { models, pretrained, panels: [params, size_mb, latency_ms, accuracy], fraction })
}

struct Benchmark<'a> {
    models: &'a [String],
    pretrained: &'a [bool],
    panels: [&'a [f64]; 4],
    fraction: bool,
}

/// Largest / smallest positive value above which a panel's axis is logarithmic.
pub const LOG_SPAN: f64 = 30.0;
const SCRATCH: RGBColor = style::OKABE_ITO[0];
const PRETRAINED: RGBColor = style::OKABE_ITO[1];

/// A power of ten, short: 0.1, 1, 10, 100, 1k, 10k, 100k, 1M ...
fn decade(v: f64) -> String {
    let (scaled, unit) = match v {
        v if v >= 1e9 => (v / 1e9, "G"),
        v if v >= 1e6 => (v / 1e6, "M"),
        v if v >= 1e3 => (v / 1e3, "k"),
        v => (v, ""),
    };
    if scaled >= 1.0 {
        format!("{scaled:.0}{unit}")
    } else {
        format!("{scaled}{unit}")
    }
}

fn log_axis(values: &[f64]) -> bool {
    let positive: Vec<f64> = values.iter().copied().filter(|v| v.is_finite() && *v > 0.0).collect();
    style::finite_extent(&positive).is_some_and(|(lo, hi)| hi / lo > LOG_SPAN)
}

pub(crate) const TITLE: &str = "Model benchmark";

fn fixed(v: f64) -> String {
    if !v.is_finite() {
        "n/a".into()
    } else if v.abs() < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.1}")
    }
}

impl Painter for Benchmark<'_> {
    fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, _: Target) -> Result<()> {
        let body = style::titled(root, TITLE)?;
        let body = style::legend_strip(
            &body,
            &[("from scratch", SCRATCH, style::Key::Swatch), ("pretrained (ImageNet)", PRETRAINED, style::Key::Swatch)],
        )?;
        let mut name_w = 0;
        for m in self.models {
            name_w = name_w.max(text_size(&body, m, &font(style::TICK_PX))?.0 as i32);
        }
        let fraction = self.fraction;
        let accuracy = move |v: f64| {
            if fraction && v.is_finite() {
                format!("{:.1}%", 100.0 * v)
            } else {
                fixed(v)
            }
        };
        let params = |v: f64| style::fmt_number(v, 1);
        let formats: [(&str, &dyn Fn(f64) -> String); 4] = [
            ("Parameters", &params),
            ("Size on disk (MB)", &fixed),
            ("Latency (ms/image, batch 1)", &fixed),
            ("Accuracy", &accuracy),
        ];
        let areas = body.split_evenly((2, 2));
        for (k, ((area, values), (caption, fmt))) in areas.iter().zip(self.panels).zip(formats).enumerate() {
            let log = k < 3 && log_axis(values);
            let caption = if log { format!("{caption}, log scale") } else { caption.to_string() };
            let spec = Panel { caption: &caption, values, fmt, percent_axis: k == 3 && fraction, log };
            panel(root, area, &spec, self.models, self.pretrained, name_w)?;
        }
        Ok(())
    }
}

/// One metric's panel: its caption, one value per model, how a value is printed, and whether
/// the axis shows fractions as percent.
struct Panel<'a> {
    caption: &'a str,
    values: &'a [f64],
    fmt: &'a dyn Fn(f64) -> String,
    percent_axis: bool,
    /// Bars drawn on log10 of the values (the axis is labelled in the values themselves).
    log: bool,
}

fn panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    area: &DrawingArea<DB, Shift>,
    spec: &Panel,
    models: &[String],
    pretrained: &[bool],
    name_w: i32,
) -> Result<()> {
    let Panel { caption, values, fmt, percent_axis, log } = *spec;
    // On a log axis a bar runs from the decade below the smallest value to log10 of its value.
    let positive = values.iter().copied().filter(|v| v.is_finite() && *v > 0.0);
    let floor = if log { positive.fold(f64::INFINITY, f64::min).log10().floor() } else { 0.0 };
    let at = |v: f64| if log { v.max(f64::MIN_POSITIVE).log10() } else { v.max(0.0) };
    let n = models.len();
    let value_style = font(style::VALUE_PX);
    let mut label_w = 0;
    for &v in values {
        label_w = label_w.max(text_size(area, &fmt(v), &value_style)?.0 as i32);
    }
    let (area_w, _) = area.dim_in_pixel();
    let (margin, y_area) = (14, name_w + 16);
    let plot_w = (area_w as i32 - y_area - margin - 36).max(1) as f64;
    let hi = style::finite_extent(values).map_or(1.0, |(_, hi)| at(hi));
    let x_hi = floor + super::bars::value_range(0.0, hi - floor, (label_w + 14) as f64 / plot_w).1;

    let mut chart = ChartBuilder::on(area)
        .caption(caption, font(style::CAPTION_PX))
        .margin(margin)
        // Room for the last tick label, which is centred on the plot's right edge.
        .margin_right(36)
        .x_label_area_size(44)
        .y_label_area_size(y_area)
        .build_cartesian_2d(floor..x_hi, 0.0..n as f64)
        .plot()?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        // percent labels are wider than numbers: three fit where five ran together
        .x_labels(if percent_axis { 3 } else { 5 })
        .light_line_style(WHITE)
        .bold_line_style(style::GRID_GREY.mix(0.6))
        .label_style(font(style::TICK_PX))
        .x_label_formatter(&|v| {
            if log {
                // decades only, and none past the largest value (they would crowd the edge)
                let k = v.round();
                if (v - k).abs() < 1e-9 && k <= hi + 1e-9 {
                    decade(10f64.powf(k))
                } else {
                    String::new()
                }
            } else if percent_axis {
                format!("{:.0}%", 100.0 * v)
            } else {
                style::axis_label(*v, x_hi, x_hi)
            }
        })
        .draw()
        .plot()?;

    for (i, (name, &v)) in models.iter().zip(values).enumerate() {
        // Row 0 is the top one, so the list reads in the order it was given.
        let y = (n - 1 - i) as f64;
        let centre = y + 0.5;
        let colour = if pretrained[i] { PRETRAINED } else { SCRATCH };
        if v.is_finite() {
            let bar = Rectangle::new([(floor, y + 0.15), (at(v).max(floor), y + 0.85)], colour.filled());
            chart.draw_series(std::iter::once(bar)).plot()?;
        }
        let (px, py) = chart.backend_coord(&(at(v).max(floor), centre));
        let end = if v.is_finite() { px } else { chart.backend_coord(&(floor, centre)).0 };
        let label = anchored(value_style.clone(), HPos::Left, VPos::Center);
        root.draw(&Text::new(fmt(v), (end + 8, py), label)).plot()?;
        let (nx, ny) = chart.backend_coord(&(floor, centre));
        let name_style = anchored(font(style::TICK_PX), HPos::Right, VPos::Center);
        root.draw(&Text::new(name.clone(), (nx - 8, ny), name_style)).plot()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::plots::{assert_rendered, keep_for_review, text_el};

    #[test]
    fn four_panels_label_every_model_and_value() {
        let models: Vec<String> =
            ["CNN-A (scratch)", "CNN-B (scratch)", "ResNet-18 (ImageNet)", "MobileNetV3 (ImageNet)"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        let params = [1_234_567.0, 420_000.0, 11_180_103.0, 1_525_991.0];
        let size = [4.7, 1.6, 42.7, 5.9];
        let latency = [1.83, 0.92, 6.41, 2.37];
        let acc = [0.612, 0.574, 0.684, 0.655];
        let fig = benchmark_chart(&models, &[false, false, true, true], &params, &size, &latency, &acc).unwrap();
        assert_rendered(&fig, WIDE, TITLE);
        let svg = fig.svg();
        for text in ["1.2M", "420.0k", "11.2M", "42.7", "0.92", "68.4%", "57.4%", "MobileNetV3 (ImageNet)"] {
            assert!(svg.contains(&text_el(text)), "missing {text}");
        }
        for caption in [
            "Parameters",
            "Size on disk (MB)",
            "Latency (ms/image, batch 1)",
            "Accuracy",
            "from scratch",
            "pretrained (ImageNet)",
        ] {
            assert!(svg.contains(caption), "missing {caption}");
        }
        // 420k to 11.2M parameters spans 27x: linear; sizes 1.6 to 42.7 MB likewise
        assert!(!svg.contains("log scale"));
        let hex = |c: RGBColor| format!("fill=\"#{:02X}{:02X}{:02X}\"", c.0, c.1, c.2);
        assert!(svg.contains(&hex(SCRATCH)) && svg.contains(&hex(PRETRAINED)));
        // Every model's name appears once per panel.
        assert_eq!(svg.matches(&text_el("CNN-B (scratch)")).count(), 4);
        keep_for_review(&fig, "benchmark");
    }

    #[test]
    fn values_spanning_orders_of_magnitude_get_a_log_axis() {
        let models: Vec<String> = ["v1", "v3", "mobilenet"].iter().map(|s| s.to_string()).collect();
        let params = [33_573_415.0, 74_441.0, 2_232_839.0];
        let flat = [1.0, 2.0, 3.0];
        let fig = benchmark_chart(&models, &[false, false, true], &params, &flat, &flat, &[0.25, 0.28, 0.55]).unwrap();
        let svg = fig.svg();
        assert_eq!(svg.matches("log scale").count(), 1, "only the parameters panel");
        assert!(svg.contains(&text_el("Parameters, log scale")));
        for tick in ["100k", "1M", "10M"] {
            assert!(svg.contains(&text_el(tick)), "missing decade tick {tick}");
        }
        assert!(!svg.contains(&text_el("100M")), "no tick past the largest value");
        assert_eq!(
            (decade(0.1), decade(1.0), decade(1e3), decade(1e7)),
            ("0.1".into(), "1".into(), "1k".into(), "10M".into())
        );
        assert!(log_axis(&params) && !log_axis(&flat));
    }

    #[test]
    fn length_mismatch_is_an_error() {
        let models = vec!["a".to_string(), "b".to_string()];
        let two = [1.0, 2.0];
        let init = [false, true];
        assert!(benchmark_chart(&models, &init, &two, &two, &[1.0], &two).is_err());
        assert!(benchmark_chart(&models, &[true], &two, &two, &two, &two).is_err());
        assert!(benchmark_chart(&[], &[], &[], &[], &[], &[]).is_err());
    }
}
