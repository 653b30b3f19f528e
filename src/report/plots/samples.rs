//! A grid of example images, each with two caption lines and, for predictions, a right/wrong
//! frame.
use super::style::{self, anchored, font, Key};
use super::{encode_png, render, Figure, OrPlot, Painter, Target, WIDE};
use crate::error::{Error, Result};
use base64::Engine as _;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

const COLS: usize = 5;
const ROWS: usize = 2;
/// Title and legend sit in a fixed header so the image boxes can be computed without a
/// drawing area (the SVG overlay needs them too).
const HEADER: i32 = 116;
const CAPTION_H: i32 = 76;
const FRAME: i32 = 5;
const CAPTION_GREY: RGBColor = RGBColor(34, 34, 34);

/// Up to 10 images (packed RGB, width, height) in a 2x5 grid, each captioned "true: X" and
/// "✓ pred: Y" / "✗ pred: Y"; right predictions are framed and captioned in bluish green,
/// wrong ones in vermillion, and the tick / cross keeps the meaning without colour.
pub fn sample_grid(title: &str, images: &[(Vec<u8>, u32, u32)], truth: &[String], pred: &[String]) -> Result<Figure> {
    if truth.len() != images.len() || pred.len() != images.len() {
        return Err(Error::Plot(format!(
            "sample_grid {title:?}: {} images but {} true and {} predicted labels",
            images.len(),
            truth.len(),
            pred.len()
        )));
    }
    let right: Vec<bool> = truth.iter().zip(pred).map(|(t, p)| t == p).collect();
    let captions: Vec<[String; 2]> = truth
        .iter()
        .zip(pred)
        .zip(&right)
        .map(|((t, p), ok)| [format!("true: {t}"), format!("{} pred: {p}", if *ok { "✓" } else { "✗" })])
        .collect();
    sample_grid_with(title, images, &captions, Some(&right))
}

/// The grid with free captions (two lines per image). With `right`, frames and second lines are
/// coloured right/wrong under a legend; without, frames are neutral and there is no legend
/// (examples that are not predictions, such as augmentations).
pub fn sample_grid_with(
    title: &str,
    images: &[(Vec<u8>, u32, u32)],
    captions: &[[String; 2]],
    right: Option<&[bool]>,
) -> Result<Figure> {
    if images.is_empty() || images.len() > COLS * ROWS {
        return Err(Error::Plot(format!("sample_grid {title:?}: {} images, expected 1 to 10", images.len())));
    }
    if captions.len() != images.len() || right.is_some_and(|r| r.len() != images.len()) {
        return Err(Error::Plot(format!(
            "sample_grid {title:?}: {} images but {} captions and {} right/wrong marks",
            images.len(),
            captions.len(),
            right.map_or(0, |r| r.len())
        )));
    }
    let mut decoded = Vec::with_capacity(images.len());
    for (i, (rgb, w, h)) in images.iter().enumerate() {
        let img = image::RgbImage::from_raw(*w, *h, rgb.clone())
            .filter(|_| *w > 0 && *h > 0 && rgb.len() == *w as usize * *h as usize * 3)
            .ok_or_else(|| {
                Error::Plot(format!("sample_grid {title:?}: image {i} has {} bytes, not {w}x{h} RGB", rgb.len()))
            })?;
        decoded.push(img);
    }
    render(WIDE, &Samples { title, images: decoded, captions, right, cols: COLS })
}

/// Up to 5 pairs in columns: each image of `top` above its partner in `bottom`, every image with
/// its two caption lines (`captions`: the top row's, then the bottom row's) in neutral frames.
pub fn pair_grid(
    title: &str,
    top: &[image::RgbImage],
    bottom: &[image::RgbImage],
    captions: &[[String; 2]],
) -> Result<Figure> {
    let n = top.len();
    if n == 0 || n > COLS || bottom.len() != n || captions.len() != 2 * n {
        return Err(Error::Plot(format!(
            "pair_grid {title:?}: {n} top and {} bottom images (1 to {COLS} pairs), {} captions",
            bottom.len(),
            captions.len()
        )));
    }
    let images = top.iter().chain(bottom).cloned().collect();
    render(WIDE, &Samples { title, images, captions, right: None, cols: n })
}

struct Samples<'a> {
    title: &'a str,
    images: Vec<image::RgbImage>,
    captions: &'a [[String; 2]],
    right: Option<&'a [bool]>,
    /// Images per row (the grid has two rows).
    cols: usize,
}

/// The square box (left, top, side) of image `k` on a canvas of `size`.
fn image_box((w, h): (u32, u32), k: usize, cols: usize) -> (i32, i32, i32) {
    let col_w = w as i32 / cols as i32;
    let row_h = (h as i32 - HEADER) / ROWS as i32;
    let side = (col_w - 40).min(row_h - CAPTION_H - 2 * FRAME - 8);
    let (r, c) = ((k / cols) as i32, (k % cols) as i32);
    (c * col_w + (col_w - side) / 2, HEADER + r * row_h + FRAME + 4, side)
}

/// Where an image of `w`x`h` lands inside a box of `side`, keeping its aspect ratio:
/// (x offset, y offset, width, height).
fn fit(w: u32, h: u32, side: i32) -> (i32, i32, u32, u32) {
    let scale = side as f64 / w.max(h) as f64;
    let (fw, fh) = (((w as f64 * scale).round() as u32).max(1), ((h as f64 * scale).round() as u32).max(1));
    ((side - fw as i32) / 2, (side - fh as i32) / 2, fw, fh)
}

/// Frame and second caption line of an image that is not a prediction.
const NEUTRAL: RGBColor = RGBColor(120, 120, 120);

impl Samples<'_> {
    fn mark(&self, k: usize) -> RGBColor {
        match self.right.map(|r| r[k]) {
            Some(true) => style::CORRECT,
            Some(false) => style::WRONG,
            None => NEUTRAL,
        }
    }
}

impl Painter for Samples<'_> {
    fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, target: Target) -> Result<()> {
        let size = root.dim_in_pixel();
        let title = anchored(font(style::TITLE_PX), HPos::Center, VPos::Top);
        root.draw(&Text::new(self.title.to_string(), (size.0 as i32 / 2, 8), title)).plot()?;
        if self.right.is_some() {
            let (_, below_title) = root.split_vertically(HEADER - style::LEGEND_HEIGHT as i32 - 10);
            style::legend_strip(
                &below_title,
                &[("✓ correct", style::CORRECT, Key::Swatch), ("✗ wrong", style::WRONG, Key::Swatch)],
            )?;
        }

        for (k, img) in self.images.iter().enumerate() {
            let (x, y, side) = image_box(size, k, self.cols);
            let mark = self.mark(k);
            root.draw(&Rectangle::new([(x - FRAME, y - FRAME), (x + side + FRAME, y + side + FRAME)], mark.filled()))
                .plot()?;
            root.draw(&Rectangle::new([(x, y), (x + side, y + side)], WHITE.filled())).plot()?;
            // SVG gets the picture as one embedded PNG in `svg_overlay`; plotters would write
            // one <rect> per pixel.
            if target == Target::Bitmap {
                let (dx, dy, fw, fh) = fit(img.width(), img.height(), side);
                let scaled = image::imageops::resize(img, fw, fh, image::imageops::FilterType::Triangle);
                let element =
                    BitMapElement::<(i32, i32)>::with_owned_buffer((x + dx, y + dy), (fw, fh), scaled.into_raw())
                        .ok_or_else(|| Error::Plot("scaled image buffer has the wrong size".into()))?;
                root.draw(&element).plot()?;
            }
            let cx = x + side / 2;
            let line1 = y + side + FRAME + 8;
            let truth_style = anchored(font(style::TICK_PX).color(&CAPTION_GREY), HPos::Center, VPos::Top);
            let [first, second] = &self.captions[k];
            root.draw(&Text::new(first.clone(), (cx, line1), truth_style)).plot()?;
            let pred_style = anchored(font(style::TICK_PX).color(&mark), HPos::Center, VPos::Top);
            root.draw(&Text::new(second.clone(), (cx, line1 + CAPTION_H / 2), pred_style)).plot()?;
        }
        Ok(())
    }

    fn svg_overlay(&self, size: (u32, u32)) -> Result<String> {
        let mut out = String::new();
        for (k, img) in self.images.iter().enumerate() {
            let (x, y, side) = image_box(size, k, self.cols);
            let (dx, dy, fw, fh) = fit(img.width(), img.height(), side);
            let png = encode_png(img.as_raw().clone(), img.width(), img.height())?;
            let b64 = base64::engine::general_purpose::STANDARD.encode(png);
            out.push_str(&format!(
                "<image x=\"{}\" y=\"{}\" width=\"{fw}\" height=\"{fh}\" preserveAspectRatio=\"none\" \
                 href=\"data:image/png;base64,{b64}\"/>\n",
                x + dx,
                y + dy
            ));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::plots::{assert_rendered, keep_for_review, text_el};

    /// A 48x48 test card: a diagonal gradient in one channel, so every image differs from its
    /// neighbours and is not flat.
    fn card(k: usize) -> (Vec<u8>, u32, u32) {
        let mut rgb = Vec::with_capacity(48 * 48 * 3);
        for y in 0..48u32 {
            for x in 0..48u32 {
                let g = ((x + y) * 255 / 94) as u8;
                rgb.extend_from_slice(&[(k * 25) as u8, g, 255 - g]);
            }
        }
        (rgb, 48, 48)
    }

    fn labels(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn fill_of_text(svg: &str, text: &str) -> String {
        let at = svg.find(&text_el(text)).unwrap_or_else(|| panic!("no text {text:?}"));
        let open = svg[..at].rfind("<text").unwrap();
        let tag = &svg[open..at];
        let fill = tag.find("fill=\"").unwrap() + 6;
        tag[fill..fill + 7].to_string()
    }

    #[test]
    fn captions_and_frames_mark_right_and_wrong() {
        let images: Vec<_> = (0..10).map(card).collect();
        let truth =
            labels(&["happy", "sad", "fear", "angry", "neutral", "surprise", "disgust", "happy", "sad", "fear"]);
        let pred =
            labels(&["happy", "neutral", "fear", "sad", "neutral", "surprise", "angry", "happy", "sad", "surprise"]);
        let fig = sample_grid("Validation samples", &images, &truth, &pred).unwrap();
        assert_rendered(&fig, WIDE, "Validation samples");
        let svg = fig.svg();
        let hex = |c: RGBColor| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
        assert_eq!(fill_of_text(svg, "✓ pred: happy"), hex(style::CORRECT));
        assert_eq!(fill_of_text(svg, "✗ pred: neutral"), hex(style::WRONG));
        assert_ne!(hex(style::CORRECT), hex(style::WRONG));
        assert!(svg.contains(&text_el("true: disgust")));
        assert_eq!(svg.matches("<image ").count(), 10);

        // In the PNG: frames in the right colour, and the picture inside its box.
        let png = image::load_from_memory(fig.png()).unwrap().to_rgb8();
        for (k, colour) in [(0, style::CORRECT), (1, style::WRONG)] {
            let (x, y, side) = image_box(WIDE, k, COLS);
            assert_eq!(png.get_pixel((x - 2) as u32, (y + side / 2) as u32).0, [colour.0, colour.1, colour.2]);
        }
        let (x, y, side) = image_box(WIDE, 3, COLS);
        let centre = png.get_pixel((x + side / 2) as u32, (y + side / 2) as u32).0;
        assert!(centre[0].abs_diff(75) <= 2 && centre[1].abs_diff(centre[2]) < 20, "{centre:?}");
        keep_for_review(&fig, "samples");
    }

    #[test]
    fn bad_inputs_are_errors() {
        let one = vec![card(0)];
        assert!(sample_grid("x", &one, &labels(&["a"]), &[]).is_err());
        assert!(sample_grid("x", &[(vec![0; 5], 2, 2)], &labels(&["a"]), &labels(&["a"])).is_err());
        let eleven: Vec<_> = (0..11).map(card).collect();
        let l = labels(&["a"; 11]);
        assert!(sample_grid("x", &eleven, &l, &l).is_err());
    }

    #[test]
    fn boxes_fit_the_canvas_without_overlap() {
        for k in 0..10 {
            let (x, y, side) = image_box(WIDE, k, COLS);
            // 2 x 5 faces on a slide-sized canvas: each at least 160 px (about 135 px on screen)
            assert!(x - FRAME >= 0 && y - FRAME >= HEADER && side >= 160, "side {side}");
            assert!(y + side + FRAME + CAPTION_H <= WIDE.1 as i32);
            if k % COLS + 1 < COLS {
                assert!(x + side + FRAME < image_box(WIDE, k + 1, COLS).0 - FRAME);
            }
        }
    }

    #[test]
    fn pairs_stand_in_columns_each_image_above_its_partner() {
        let img = |k| image::RgbImage::from_raw(48, 48, card(k).0).unwrap();
        let (top, bottom): (Vec<_>, Vec<_>) = (0..3).map(|k| (img(k), img(k + 5))).unzip();
        let caps: Vec<[String; 2]> = (0..6).map(|k| [format!("image {k}"), "r 0.99".into()]).collect();
        let fig = pair_grid("Near-copies", &top, &bottom, &caps).unwrap();
        assert_rendered(&fig, WIDE, "Near-copies");
        assert_eq!(fig.svg().matches("<image ").count(), 6);
        let (above, below) = (image_box(WIDE, 1, 3), image_box(WIDE, 4, 3));
        assert_eq!(above.0, below.0, "partners share a column");
        assert!(below.1 > above.1 + above.2, "the partner is below");
        let png = image::load_from_memory(fig.png()).unwrap().to_rgb8();
        let centre = png.get_pixel((below.0 + below.2 / 2) as u32, (below.1 + below.2 / 2) as u32).0;
        assert!(centre[0].abs_diff(150) <= 2, "column 1 holds card 6 below card 1: {centre:?}");
        assert!(pair_grid("x", &top, &bottom[..2], &caps).is_err());
        assert!(pair_grid("x", &[], &[], &[]).is_err());
        assert!(pair_grid("x", &top, &bottom, &caps[..5]).is_err());
    }
}
