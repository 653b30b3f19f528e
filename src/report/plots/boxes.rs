//! A photo with labelled boxes drawn on it (faces found and classified in an ordinary photo).
use super::style::{anchored, font, CORRECT};
use super::{encode_png, OrPlot};
use crate::error::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// PNG bytes of `photo` with each box `[x, y, w, h]` outlined and its label on a solid strip
/// above it (below it when the box touches the top edge).
pub fn labelled_boxes(photo: &image::RgbImage, boxes: &[([u32; 4], String)]) -> Result<Vec<u8>> {
    let (w, h) = photo.dimensions();
    let mut rgb = photo.as_raw().clone();
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        // labels scale with the photo so they stay readable on large images
        let px = (h.max(w) / 40).clamp(14, 48);
        let stroke = (px / 6).max(2);
        for ([x, y, bw, bh], label) in boxes {
            let (x, y, bw, bh) = (*x as i32, *y as i32, *bw as i32, *bh as i32);
            root.draw(&Rectangle::new([(x, y), (x + bw, y + bh)], CORRECT.stroke_width(stroke))).plot()?;
            let strip_h = px as i32 + 8;
            let top = if y >= strip_h { y - strip_h } else { y + bh };
            let text_w = (label.chars().count() as i32 * px as i32 * 6 / 10 + 10).max(bw);
            root.draw(&Rectangle::new([(x, top), (x + text_w, top + strip_h)], CORRECT.filled())).plot()?;
            let style = anchored(font(px).color(&WHITE), HPos::Left, VPos::Top);
            root.draw(&Text::new(label.clone(), (x + 5, top + 4), style)).plot()?;
        }
        root.present().plot()?;
    }
    encode_png(rgb, w, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_and_labels_are_drawn_on_the_photo() {
        let photo = image::RgbImage::from_pixel(200, 120, image::Rgb([40, 40, 40]));
        let png = labelled_boxes(&photo, &[([60, 40, 50, 50], "happy 0.81".into())]).unwrap();
        let img = image::load_from_memory(&png).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (200, 120));
        let box_edge = img.get_pixel(60, 70);
        assert_ne!(*box_edge, image::Rgb([40, 40, 40]), "left edge of the box");
        assert_eq!(*img.get_pixel(85, 65), image::Rgb([40, 40, 40]), "inside the box stays the photo");
        assert_ne!(*img.get_pixel(62, 30), image::Rgb([40, 40, 40]), "label strip above the box");
    }
}
