//! Annotated heatmaps: the confusion matrix in counts and in shares of each true class, and
//! correlation matrices.
//!
//! Drawn by hand in pixel coordinates rather than through a plotters chart: the cells, the
//! class labels under their columns and the numbers inside must line up exactly, and plotters'
//! numeric axes put ticks at "nice" numbers, not at cell centres.
use super::style::{self, anchored, font, text_on, text_size};
use super::{render, Figure, OrPlot, Painter, Target, SINGLE, WIDE};
use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::FontTransform;

/// Width kept for a colour bar to the right of the heatmaps.
const BAR_W: u32 = 150;

/// Two heatmaps side by side: the model's confusion matrix (rows = true class, columns =
/// predicted) with the count in each cell, and the same matrix row-normalised (the share of each
/// true class given to each prediction, in percent); both shaded by that share.
pub fn confusion_with_shares(title: &str, class_names: &[String], confusion: &[Vec<u64>]) -> Result<Figure> {
    let n = class_names.len();
    if n == 0 {
        return Err(Error::Plot(format!("confusion_with_shares {title:?}: no classes")));
    }
    check_square(title, n, confusion.iter().map(|r| r.len()), confusion.len())?;
    let totals: Vec<u64> = confusion.iter().map(|r| r.iter().sum()).collect();
    let share = |count: u64, total: u64| if total == 0 { 0.0 } else { count as f64 / total as f64 };
    let model: Vec<Vec<Cell>> = confusion
        .iter()
        .zip(&totals)
        .map(|(row, &t)| row.iter().map(|&c| cell(style::viridis(share(c, t)), c.to_string())).collect())
        .collect();
    let shares: Vec<Vec<Cell>> = confusion
        .iter()
        .zip(&totals)
        .map(|(row, &t)| {
            row.iter().map(|&c| cell(style::viridis(share(c, t)), format!("{:.0}%", 100.0 * share(c, t)))).collect()
        })
        .collect();
    let all: u64 = totals.iter().sum();
    let correct: u64 = (0..n).map(|i| confusion[i][i]).sum();
    let model_caption = if all == 0 {
        "Model (no samples)".to_string()
    } else {
        format!("Model: accuracy {:.1}% of {all}", 100.0 * correct as f64 / all as f64)
    };
    let grid = |caption: String, cells: Vec<Vec<Cell>>| Grid {
        caption,
        rows: class_names,
        row_desc: "true",
        col_desc: "predicted",
        cells,
    };
    render(
        WIDE,
        &ConfusionPair {
            title,
            model: grid(model_caption, model),
            shares: grid("Share of each true class".into(), shares),
        },
    )
}

/// A heatmap of a correlation matrix on a blue-white-red scale from -1 to 1, each cell labelled
/// with its value to 2 decimals (non-finite values show as grey "n/a").
pub fn correlation_heatmap(title: &str, names: &[String], matrix: &[Vec<f64>]) -> Result<Figure> {
    let n = names.len();
    if n == 0 {
        return Err(Error::Plot(format!("correlation_heatmap {title:?}: no variables")));
    }
    check_square(title, n, matrix.iter().map(|r| r.len()), matrix.len())?;
    let cells = matrix
        .iter()
        .map(|row| {
            row.iter()
                .map(|&v| {
                    if v.is_finite() {
                        cell(style::diverging(v), format!("{v:.2}"))
                    } else {
                        cell(style::MISSING_GREY, "n/a".into())
                    }
                })
                .collect()
        })
        .collect();
    render(
        SINGLE,
        &Correlation { title, grid: Grid { caption: String::new(), rows: names, row_desc: "", col_desc: "", cells } },
    )
}

fn check_square(title: &str, n: usize, row_lens: impl Iterator<Item = usize>, rows: usize) -> Result<()> {
    if rows != n {
        return Err(Error::Plot(format!("{title:?}: {rows} matrix rows for {n} names")));
    }
    for (i, len) in row_lens.enumerate() {
        if len != n {
            return Err(Error::Plot(format!("{title:?}: matrix row {i} has {len} values, expected {n}")));
        }
    }
    Ok(())
}

struct Cell {
    fill: RGBColor,
    text: String,
}

fn cell(fill: RGBColor, text: String) -> Cell {
    Cell { fill, text }
}

/// A square matrix of labelled cells; the same names label rows and columns.
struct Grid<'a> {
    caption: String,
    rows: &'a [String],
    row_desc: &'a str,
    col_desc: &'a str,
    cells: Vec<Vec<Cell>>,
}

struct ConfusionPair<'a> {
    title: &'a str,
    model: Grid<'a>,
    shares: Grid<'a>,
}

impl Painter for ConfusionPair<'_> {
    fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, _: Target) -> Result<()> {
        let body = style::titled(root, self.title)?;
        let (w, _) = body.dim_in_pixel();
        let (panels, bar) = body.split_horizontally(w - BAR_W);
        let (left, right) = panels.split_horizontally((w - BAR_W) / 2);
        let span = draw_grid(&left, &self.model)?;
        draw_grid(&right, &self.shares)?;
        style::colour_bar(&bar, (0.0, 1.0), &[0.0, 0.25, 0.5, 0.75, 1.0], style::viridis, "row share", 2, span)
    }
}

struct Correlation<'a> {
    title: &'a str,
    grid: Grid<'a>,
}

impl Painter for Correlation<'_> {
    fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, _: Target) -> Result<()> {
        let body = style::titled(root, self.title)?;
        let (w, _) = body.dim_in_pixel();
        let (left, bar) = body.split_horizontally(w - BAR_W);
        let span = draw_grid(&left, &self.grid)?;
        style::colour_bar(&bar, (-1.0, 1.0), &[-1.0, -0.5, 0.0, 0.5, 1.0], style::diverging, "correlation", 1, span)
    }
}

/// Lay out and draw `g` in `area`; returns the grid's top and bottom y (pixels in `area`) so a
/// colour bar beside it can match.
fn draw_grid<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, g: &Grid) -> Result<(i32, i32)> {
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let n = g.rows.len() as i32;
    let tick = font(style::TICK_PX);
    let axis = font(style::AXIS_PX);

    let top = style::CAPTION_PX as i32 * 2;
    let mut label_w = 0;
    let mut label_h = 0;
    for name in g.rows {
        let (tw, th) = text_size(area, name, &tick)?;
        label_w = label_w.max(tw as i32);
        label_h = label_h.max(th as i32);
    }
    let desc_room = if g.row_desc.is_empty() { 0 } else { style::AXIS_PX as i32 + 16 };
    let left = desc_room + label_w + 14;
    let avail_w = w - left - 12;
    let cell_for = |bottom: i32| (avail_w / n).min((h - top - bottom - 8) / n).max(4);
    let mut cell = cell_for(label_h + 12 + desc_room);
    // Names too wide for their column are turned to read upwards instead of overlapping.
    let vertical = label_w + 8 > cell;
    let label_extent = if vertical { label_w } else { label_h };
    if vertical {
        cell = cell_for(label_w + 12 + desc_room);
    }
    let side = cell * n;
    let x0 = left + (avail_w - side) / 2;
    // Centre the block (caption, grid, labels) vertically when the width limits the grid.
    let bottom = 8 + label_extent + if desc_room > 0 { 8 + style::AXIS_PX as i32 + 8 } else { 0 };
    let shift = ((h - top - side - bottom) / 2).max(0);
    let y0 = top + shift;
    if !g.caption.is_empty() {
        let style = anchored(font(style::CAPTION_PX), HPos::Center, VPos::Top);
        area.draw(&Text::new(g.caption.clone(), (w / 2, shift + 6), style)).plot()?;
    }

    let value_px = (style::VALUE_PX + 2).min((cell / 3).max(10) as u32);
    for (i, row) in g.cells.iter().enumerate() {
        for (j, c) in row.iter().enumerate() {
            let (cx, cy) = (x0 + cell * j as i32, y0 + cell * i as i32);
            area.draw(&Rectangle::new([(cx, cy), (cx + cell, cy + cell)], c.fill.filled())).plot()?;
            let fg = text_on(c.fill);
            let text = anchored(font(value_px).color(&fg), HPos::Center, VPos::Center);
            area.draw(&Text::new(c.text.clone(), (cx + cell / 2, cy + cell / 2), text)).plot()?;
        }
    }
    area.draw(&Rectangle::new([(x0, y0), (x0 + side, y0 + side)], BLACK.stroke_width(1))).plot()?;

    for (k, name) in g.rows.iter().enumerate() {
        let centre = cell * k as i32 + cell / 2;
        let row_style = anchored(tick.clone(), HPos::Right, VPos::Center);
        area.draw(&Text::new(name.clone(), (x0 - 8, y0 + centre), row_style)).plot()?;
        let col_pos = (x0 + centre, y0 + side + 8);
        let col_style = if vertical {
            anchored(tick.clone(), HPos::Right, VPos::Center).transform(FontTransform::Rotate270)
        } else {
            anchored(tick.clone(), HPos::Center, VPos::Top)
        };
        area.draw(&Text::new(name.clone(), col_pos, col_style)).plot()?;
    }
    if !g.row_desc.is_empty() {
        let style = anchored(axis.clone(), HPos::Center, VPos::Center).transform(FontTransform::Rotate270);
        let x = x0 - label_w - 14 - style::AXIS_PX as i32 / 2 - 4;
        area.draw(&Text::new(g.row_desc.to_string(), (x, y0 + side / 2), style)).plot()?;
    }
    if !g.col_desc.is_empty() {
        let style = anchored(axis, HPos::Center, VPos::Top);
        let y = y0 + side + 8 + label_extent + 8;
        area.draw(&Text::new(g.col_desc.to_string(), (x0 + side / 2, y), style)).plot()?;
    }
    Ok((y0, y0 + side))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::plots::{assert_rendered, keep_for_review, text_el};

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    const EMOTIONS: [&str; 7] = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"];

    fn confusion() -> Vec<Vec<u64>> {
        vec![
            vec![310, 4, 51, 27, 41, 58, 9],
            vec![12, 21, 5, 4, 3, 9, 2],
            vec![60, 2, 250, 22, 60, 91, 43],
            vec![18, 0, 15, 783, 40, 22, 17],
            vec![40, 1, 44, 45, 430, 60, 6],
            vec![70, 3, 80, 30, 90, 370, 11],
            vec![9, 0, 30, 21, 12, 8, 335],
        ]
    }

    #[test]
    fn confusion_prints_every_count_and_every_row_share() {
        let m = confusion();
        let fig = confusion_with_shares("Face CNN confusion", &names(&EMOTIONS), &m).unwrap();
        assert_rendered(&fig, WIDE, "Face CNN confusion");
        let svg = fig.svg();
        for row in &m {
            for c in row {
                assert!(svg.contains(&text_el(&c.to_string())), "count {c} not printed");
            }
            // the right panel: each count as a share of its true class
            let total: u64 = row.iter().sum();
            for c in row {
                let pct = format!("{:.0}%", 100.0 * *c as f64 / total as f64);
                assert!(svg.contains(&text_el(&pct)), "share {pct} not printed");
            }
        }
        for text in ["true", "predicted", "surprise"] {
            assert!(svg.contains(&text_el(text)), "missing {text}");
        }
        let correct: u64 = (0..7).map(|i| m[i][i]).sum();
        let all: u64 = m.iter().flatten().sum();
        assert!(svg.contains(&format!("accuracy {:.1}%", 100.0 * correct as f64 / all as f64)));
        keep_for_review(&fig, "confusion");
    }

    #[test]
    fn confusion_shades_by_row_share_and_switches_text_colour() {
        // Row 0 has 90% on the diagonal, row 1 only 10%: same count 9, different shading.
        let m = vec![vec![9, 1], vec![81, 9]];
        let fig = confusion_with_shares("shares", &names(&["a", "b"]), &m).unwrap();
        let hex = |c: RGBColor| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
        let svg = fig.svg();
        // Shares, not counts: normalising by the largest count (81) would give neither 0.9 nor 0.1.
        assert!(svg.contains(&text_el("90%")) && svg.contains(&text_el("10%")));
        for share in [0.9, 0.1] {
            assert!(svg.contains(&format!("fill=\"{}\"", hex(style::viridis(share)))), "share {share}");
        }
        // Dark cells (low share) get white numbers, light ones black.
        assert!(svg.contains(&format!("fill=\"{}\"", hex(WHITE))) && svg.contains("fill=\"#000000\""));
    }

    #[test]
    fn confusion_rejects_ragged_or_mismatched_matrices() {
        let two = names(&["a", "b"]);
        assert!(confusion_with_shares("x", &two, &[vec![1, 2]]).is_err());
        assert!(confusion_with_shares("x", &two, &[vec![1, 2], vec![3]]).is_err());
        assert!(confusion_with_shares("x", &[], &[]).is_err());
    }

    #[test]
    fn correlation_prints_two_decimals_on_a_diverging_scale() {
        let vars = names(&["rating", "useful count", "review length", "drug count"]);
        let m = vec![
            vec![1.0, 0.234, -0.61, 0.05],
            vec![0.234, 1.0, 0.42, -0.18],
            vec![-0.61, 0.42, 1.0, f64::NAN],
            vec![0.05, -0.18, f64::NAN, 1.0],
        ];
        let fig = correlation_heatmap("Feature correlation", &vars, &m).unwrap();
        assert_rendered(&fig, SINGLE, "Feature correlation");
        let svg = fig.svg();
        for text in ["1.00", "0.23", "-0.61", "0.05", "-0.18", "n/a", "review length"] {
            assert!(svg.contains(&text_el(text)), "missing {text}");
        }
        let hex = |c: RGBColor| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
        assert!(svg.contains(&hex(style::diverging(-0.61))) && svg.contains(&hex(style::diverging(1.0))));
        keep_for_review(&fig, "correlation");
        assert!(correlation_heatmap("x", &vars, &m[..3]).is_err());
    }
}
