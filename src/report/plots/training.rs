//! Learning curves: loss and accuracy per epoch, train vs validation, side by side.
use super::style::{self, Key, Marker};
use super::{render, Figure, OrPlot, Painter, Target, WIDE};
use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

const TRAIN: RGBColor = style::OKABE_ITO[0];
const VALID: RGBColor = style::OKABE_ITO[1];

/// Two panels (loss, accuracy) against epoch (1-based), train solid with circles, validation
/// dashed with triangles. Series may have different lengths (an empty validation series is
/// simply not drawn); non-finite values are skipped. Accuracy may be fractions or percent.
pub fn training_curves(
    title: &str,
    train_loss: &[f64],
    valid_loss: &[f64],
    train_acc: &[f64],
    valid_acc: &[f64],
) -> Result<Figure> {
    let epochs: Vec<f64> = (1..=longest(&[train_loss, valid_loss, train_acc, valid_acc])).map(|e| e as f64).collect();
    training_curves_at(title, &epochs, train_loss, valid_loss, train_acc, valid_acc, None)
}

/// As [`training_curves`], with point `i` of every series drawn at `epochs[i]` (epochs
/// completed, fractional when a run validates several times per epoch), and the evaluation
/// `kept` (an index into the series: the checkpoint training kept) marked in both panels.
pub fn training_curves_at(
    title: &str,
    epochs: &[f64],
    train_loss: &[f64],
    valid_loss: &[f64],
    train_acc: &[f64],
    valid_acc: &[f64],
    kept: Option<usize>,
) -> Result<Figure> {
    let n = longest(&[train_loss, valid_loss, train_acc, valid_acc]);
    if n == 0 {
        return Err(Error::Plot(format!("training_curves {title:?}: no epochs to plot")));
    }
    if epochs.len() < n || epochs.iter().any(|e| !e.is_finite() || *e < 0.0) {
        return Err(Error::Plot(format!(
            "training_curves {title:?}: need {n} finite, non-negative epoch positions, got {epochs:?}"
        )));
    }
    if kept.is_some_and(|k| k >= n) {
        return Err(Error::Plot(format!("training_curves {title:?}: kept evaluation {kept:?} of {n}")));
    }
    let kept = kept.map(|k| epochs[k]);
    render(WIDE, &Curves { title, epochs, loss: [train_loss, valid_loss], acc: [train_acc, valid_acc], kept })
}

fn longest(series: &[&[f64]]) -> usize {
    series.iter().map(|s| s.len()).max().unwrap_or(0)
}

struct Curves<'a> {
    title: &'a str,
    epochs: &'a [f64],
    loss: [&'a [f64]; 2],
    acc: [&'a [f64]; 2],
    /// Where the kept checkpoint sits on the epoch axis.
    kept: Option<f64>,
}

const KEPT: RGBColor = RGBColor(90, 90, 90);

impl Painter for Curves<'_> {
    fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, _: Target) -> Result<()> {
        let body = style::titled(root, self.title)?;
        let mut keys = vec![
            ("train", TRAIN, Key::Line { dashed: false, marker: Marker::Circle }),
            ("validation", VALID, Key::Line { dashed: true, marker: Marker::Triangle }),
        ];
        if self.kept.is_some() {
            keys.push(("kept checkpoint", KEPT, Key::Line { dashed: true, marker: Marker::None }));
        }
        let body = style::legend_strip(&body, &keys)?;
        let (w, _) = body.dim_in_pixel();
        let (left, right) = body.split_horizontally(w / 2);
        let loss_hi = style::finite_extent(self.loss.iter().flat_map(|s| s.iter())).map_or(1.0, |(_, hi)| hi.max(0.0));
        panel(&left, "Loss", "loss", self.epochs, (0.0, nice_top(loss_hi)), self.loss, self.kept)?;
        let acc_hi = style::finite_extent(self.acc.iter().flat_map(|s| s.iter())).map_or(1.0, |(_, hi)| hi);
        // Fractions get the full [0, 1] range, percentages [0, 100]: comparable across runs.
        let acc_top = if acc_hi <= 1.0 {
            1.0
        } else if acc_hi <= 100.0 {
            100.0
        } else {
            nice_top(acc_hi)
        };
        panel(&right, "Accuracy", "accuracy", self.epochs, (0.0, acc_top), self.acc, self.kept)
    }
}

/// A little headroom above the highest point so the curve does not touch the frame.
fn nice_top(hi: f64) -> f64 {
    if hi > 0.0 {
        hi * 1.08
    } else {
        1.0
    }
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    y_desc: &str,
    epochs: &[f64],
    (y_lo, y_hi): (f64, f64),
    [train, valid]: [&[f64]; 2],
    kept: Option<f64>,
) -> Result<()> {
    // Whole epochs start the axis at 1, mid-epoch evaluations at 0; at least one epoch wide so
    // a single-epoch run still gets a proper axis.
    let x_lo = if epochs.iter().all(|e| *e >= 1.0) { 1.0 } else { 0.0 };
    let x_hi = epochs.iter().copied().fold(x_lo + 1.0, f64::max);
    let whole = epochs.iter().all(|e| e.fract() == 0.0);
    let ticks = if whole { (x_hi - x_lo) as usize + 1 } else { 2 * (x_hi - x_lo).ceil() as usize + 1 };
    let mut chart = ChartBuilder::on(area)
        .caption(caption, style::font(style::CAPTION_PX))
        .margin(16)
        .x_label_area_size(70)
        .y_label_area_size(100)
        .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)
        .plot()?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_desc)
        .x_labels(ticks.clamp(2, 11))
        .x_label_formatter(&|v| if v.fract().abs() < 1e-9 { format!("{v:.0}") } else { format!("{v:.1}") })
        .y_labels(6)
        .light_line_style(WHITE)
        .bold_line_style(style::GRID_GREY.mix(0.6))
        .label_style(style::font(style::TICK_PX))
        .axis_desc_style(style::font(style::AXIS_PX))
        .y_label_formatter(&|v| style::axis_label(*v, y_hi, y_hi - y_lo))
        .draw()
        .plot()?;

    let points = |s: &[f64]| -> Vec<(f64, f64)> {
        s.iter().zip(epochs).filter(|(v, _)| v.is_finite()).map(|(&v, &e)| (e, v)).collect()
    };
    let train = points(train);
    chart.draw_series(LineSeries::new(train.iter().copied(), TRAIN.stroke_width(3))).plot()?;
    chart.draw_series(train.iter().map(|&p| Circle::new(p, 6, TRAIN.filled()))).plot()?;
    let valid = points(valid);
    chart.draw_series(DashedLineSeries::new(valid.iter().copied(), 10, 6, VALID.stroke_width(3))).plot()?;
    chart.draw_series(valid.iter().map(|&p| TriangleMarker::new(p, 8, VALID.filled()))).plot()?;
    if let Some(x) = kept {
        chart.draw_series(DashedLineSeries::new([(x, y_lo), (x, y_hi)], 8, 6, KEPT.stroke_width(2))).plot()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::plots::{assert_rendered, keep_for_review, text_el};

    #[test]
    fn renders_two_panels_with_both_series() {
        let tl = [1.9, 1.5, 1.2, 1.0, 0.9, 0.85];
        let vl = [1.8, 1.6, 1.4, 1.35, 1.4, 1.45];
        let ta = [0.25, 0.4, 0.52, 0.6, 0.65, 0.68];
        let va = [0.27, 0.38, 0.45, 0.5, 0.49, 0.48];
        let fig = training_curves("CNN-A training", &tl, &vl, &ta, &va).unwrap();
        assert_rendered(&fig, WIDE, "CNN-A training");
        for text in ["Loss", "Accuracy", "epoch", "train", "validation"] {
            assert!(fig.svg().contains(&text_el(text)), "missing {text}");
        }
        // Each series is drawn in its own colour.
        for c in [TRAIN, VALID] {
            assert!(fig.svg().contains(&format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)));
        }
        keep_for_review(&fig, "training_curves");
    }

    #[test]
    fn the_kept_checkpoint_is_marked_and_must_exist() {
        let (l, a) = ([1.0, 0.8, 0.9], [0.4, 0.6, 0.5]);
        let at = [1.0, 2.0, 3.0];
        let kept = training_curves_at("kept", &at, &l, &l, &a, &a, Some(1)).unwrap();
        let plain = training_curves_at("kept", &at, &l, &l, &a, &a, None).unwrap();
        let grey = format!("#{:02X}{:02X}{:02X}", KEPT.0, KEPT.1, KEPT.2);
        assert!(kept.svg().contains(&text_el("kept checkpoint")) && kept.svg().contains(&grey));
        assert!(!plain.svg().contains(&text_el("kept checkpoint")) && !plain.svg().contains(&grey));
        assert!(training_curves_at("kept", &at, &l, &l, &a, &a, Some(3)).is_err());
    }

    #[test]
    fn single_epoch_and_missing_validation_still_render() {
        let fig = training_curves("one epoch", &[0.7], &[], &[55.0], &[]).unwrap();
        assert_rendered(&fig, WIDE, "one epoch");
    }

    #[test]
    fn mid_epoch_evaluations_are_placed_at_their_fraction() {
        let at = [0.25, 0.5, 0.75, 1.0];
        let fig = training_curves_at(
            "quarters",
            &at,
            &[0.7, 0.6, 0.5, 0.45],
            &[0.65, 0.6, 0.55, 0.5],
            &[0.5, 0.6, 0.7, 0.75],
            &[0.5, 0.6, 0.65, 0.7],
            None,
        )
        .unwrap();
        assert_rendered(&fig, WIDE, "quarters");
        assert!(fig.svg().contains(&text_el("0.5")), "half-epoch tick missing");
        assert!(matches!(training_curves_at("short", &[1.0], &[0.7, 0.6], &[], &[], &[], None), Err(Error::Plot(_))));
        assert!(matches!(training_curves_at("nan", &[f64::NAN], &[0.7], &[], &[], &[], None), Err(Error::Plot(_))));
    }

    #[test]
    fn no_epochs_is_an_error() {
        assert!(matches!(training_curves("empty", &[], &[], &[], &[]), Err(Error::Plot(_))));
    }
}
