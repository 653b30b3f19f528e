//! Charts for the slides and the notebooks.
//!
//! Every chart takes plain data (slices, nested vectors, strings) so this module depends on no
//! other part of the crate, and returns a [`Figure`]: the same drawing code run once into a
//! bitmap (encoded as PNG with `image`) and once into an SVG string, so the slide PNG and the
//! vector version can never disagree.
mod bars;
mod benchmark;
mod boxes;
mod compute;
mod heatmap;
mod samples;
mod style;
mod timeline;
mod training;

pub use bars::{bar_chart, bar_chart_with_cut, bar_chart_with_intervals, bar_chart_with_reference};
pub use benchmark::benchmark_chart;
pub use boxes::labelled_boxes;
pub use compute::{compute_curves, Axis as ComputePanel, Trace};
pub use heatmap::{confusion_with_shares, correlation_heatmap};
pub use samples::{pair_grid, sample_grid, sample_grid_with};
pub use timeline::{timeline, Line, Panel};
pub use training::{training_curves, training_curves_at};

use crate::error::{Error, Result};
use base64::Engine as _;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

// Canvases are sized for a 1280x720 slide: under a heading and a line of text a chart shows at
// about 85% of its size, so the smallest text (20 px) stays above 16 px on the screen.
/// Canvas for charts with two panels side by side (and the 2x2 / 2x5 grids).
pub const WIDE: (u32, u32) = (1440, 640);
/// Canvas for single-panel charts.
pub const SINGLE: (u32, u32) = (1200, 640);

/// A rendered chart: PNG bytes and SVG text of the same drawing.
#[derive(Clone)]
pub struct Figure {
    width: u32,
    height: u32,
    png: Vec<u8>,
    svg: String,
}

impl std::fmt::Debug for Figure {
    // The payloads are kilobytes of binary and markup; their sizes are what is worth printing.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Figure")
            .field("size", &(self.width, self.height))
            .field("png_bytes", &self.png.len())
            .field("svg_chars", &self.svg.len())
            .finish()
    }
}

impl Figure {
    pub fn png(&self) -> &[u8] {
        &self.png
    }

    pub fn svg(&self) -> &str {
        &self.svg
    }

    /// Pixel size of the PNG, `(width, height)`.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Write `dir/stem.png` and `dir/stem.svg` (each atomically; `dir` is created) and return
    /// their paths in that order. `stem` must be a plain file name without extension.
    pub fn save(&self, dir: impl AsRef<Path>, stem: &str) -> Result<(PathBuf, PathBuf)> {
        let (png, svg) = Self::files(dir.as_ref(), stem)?;
        crate::atomic::write_bytes(&png, &self.png)?;
        crate::atomic::write_bytes(&svg, self.svg.as_bytes())?;
        Ok((png, svg))
    }

    /// Remove what `save` writes for `stem` in `dir`, so that a figure a run no longer draws does
    /// not stay behind from an earlier one; a file that is not there is no error.
    pub fn remove_saved(dir: impl AsRef<Path>, stem: &str) -> Result<()> {
        let (png, svg) = Self::files(dir.as_ref(), stem)?;
        for path in [png, svg] {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(Error::io(&path, e)),
                _ => {}
            }
        }
        Ok(())
    }

    /// The PNG and SVG paths of `stem` in `dir`, refusing a stem that is not a plain file name.
    fn files(dir: &Path, stem: &str) -> Result<(PathBuf, PathBuf)> {
        let plain = !stem.is_empty()
            && stem != "."
            && stem != ".."
            && !stem.contains(['/', '\\'])
            && Path::new(stem).file_name().is_some_and(|n| n == stem);
        if !plain {
            return Err(Error::Config(format!("figure stem {stem:?} must be a plain file name")));
        }
        Ok((dir.join(format!("{stem}.png")), dir.join(format!("{stem}.svg"))))
    }

    /// The text evcxr (the Rust Jupyter kernel) reads from stdout to show rich output: the PNG,
    /// base64-encoded, between its begin/end markers.
    pub fn evcxr_content(&self) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(&self.png);
        format!("EVCXR_BEGIN_CONTENT image/png\n{b64}\nEVCXR_END_CONTENT")
    }

    /// Called by evcxr when a notebook cell evaluates to a `Figure`: shows the chart inline.
    pub fn evcxr_display(&self) {
        println!("{}", self.evcxr_content());
    }
}

/// Which backend a [`Painter`] is drawing into. Only raster images care: plotters' SVG backend
/// would emit them one `<rect>` per pixel, so painters leave them to [`Painter::svg_overlay`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    Bitmap,
    Svg,
}

/// One chart's drawing code. A generic method rather than a closure because the same code has
/// to be instantiated for two backend types.
pub(crate) trait Painter {
    fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, target: Target) -> Result<()>;

    /// Raw SVG elements appended on top of the SVG drawing (embedded raster images).
    fn svg_overlay(&self, _size: (u32, u32)) -> Result<String> {
        Ok(String::new())
    }
}

/// Turn plotters' backend-generic errors into the crate error.
pub(crate) trait OrPlot<T> {
    fn plot(self) -> Result<T>;
}

impl<T, E: std::error::Error + Send + Sync> OrPlot<T> for std::result::Result<T, DrawingAreaErrorKind<E>> {
    fn plot(self) -> Result<T> {
        self.map_err(|e| Error::Plot(e.to_string()))
    }
}

/// Draw `painter` into a white RGB bitmap and into an SVG string of the same size.
pub(crate) fn render(size: (u32, u32), painter: &impl Painter) -> Result<Figure> {
    let (width, height) = size;
    let mut rgb = vec![255u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        root.fill(&WHITE).plot()?;
        painter.paint(&root, Target::Bitmap)?;
        root.present().plot()?;
    }
    let png = encode_png(rgb, width, height)?;

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).plot()?;
        painter.paint(&root, Target::Svg)?;
        root.present().plot()?;
    }
    let overlay = painter.svg_overlay(size)?;
    if !overlay.is_empty() {
        let end = svg.rfind("</svg>").ok_or_else(|| Error::Plot("SVG backend wrote no </svg>".into()))?;
        svg.insert_str(end, &overlay);
    }
    Ok(Figure { width, height, png, svg })
}

/// PNG-encode a packed RGB buffer.
pub(crate) fn encode_png(rgb: Vec<u8>, width: u32, height: u32) -> Result<Vec<u8>> {
    let img = image::RgbImage::from_raw(width, height, rgb)
        .ok_or_else(|| Error::Plot(format!("RGB buffer does not match {width}x{height}")))?;
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).map_err(|e| Error::Plot(format!("PNG encoding: {e}")))?;
    Ok(out.into_inner())
}

/// Shared checks for the chart tests: the PNG decodes to `size` and is not one flat colour,
/// the SVG is an SVG and carries `title`.
#[cfg(test)]
pub(crate) fn assert_rendered(fig: &Figure, size: (u32, u32), title: &str) {
    let img = image::load_from_memory(fig.png()).expect("PNG decodes").to_rgb8();
    assert_eq!(img.dimensions(), size);
    assert_eq!(fig.size(), size);
    let first = *img.get_pixel(0, 0);
    let differing = img.pixels().filter(|p| **p != first).count();
    // A chart is mostly background, but text, axes and marks must cover a visible share.
    assert!(differing > (size.0 * size.1 / 100) as usize, "only {differing} non-background pixels");
    assert!(fig.svg().contains("<svg"));
    assert!(fig.svg().contains(title), "SVG lacks the title {title:?}");
}

/// How the SVG backend writes a text element's content, for finding drawn strings in tests.
#[cfg(test)]
pub(crate) fn text_el(text: &str) -> String {
    format!(">\n{text}\n</text>")
}

/// Keep a copy of a test figure for eyeballing when `AFFECT_LAB_PLOT_DIR` is set.
#[cfg(test)]
pub(crate) fn keep_for_review(fig: &Figure, stem: &str) {
    if let Ok(dir) = std::env::var("AFFECT_LAB_PLOT_DIR") {
        fig.save(Path::new(&dir), stem).expect("save review copy");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Stripes;

    impl Painter for Stripes {
        fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, _: Target) -> Result<()> {
            let (w, h) = root.dim_in_pixel();
            root.draw(&Rectangle::new([(0, 0), (w as i32 / 2, h as i32)], style::OKABE_ITO[0].filled())).plot()?;
            root.draw(&Text::new("stripes", (10, 10), style::font(style::TICK_PX))).plot()
        }
    }

    fn figure() -> Figure {
        render((200, 100), &Stripes).unwrap()
    }

    #[test]
    fn render_fills_both_backends() {
        let fig = figure();
        let img = image::load_from_memory(fig.png()).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (200, 100));
        let blue = style::OKABE_ITO[0];
        assert_eq!(img.get_pixel(50, 80).0, [blue.0, blue.1, blue.2]);
        assert_eq!(img.get_pixel(150, 80).0, [255, 255, 255]);
        assert!(fig.svg().contains("<svg") && fig.svg().contains(&text_el("stripes")));
        assert!(fig.svg().contains(&format!("#{:02X}{:02X}{:02X}", blue.0, blue.1, blue.2)));
    }

    #[test]
    fn save_writes_both_files_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let fig = figure();
        let (png, svg) = fig.save(dir.path().join("out"), "chart").unwrap();
        assert_eq!(png, dir.path().join("out/chart.png"));
        assert_eq!(svg, dir.path().join("out/chart.svg"));
        assert_eq!(std::fs::read(&png).unwrap(), fig.png());
        assert_eq!(std::fs::read_to_string(&svg).unwrap(), fig.svg());
        let mut names: Vec<String> = std::fs::read_dir(dir.path().join("out"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["chart.png", "chart.svg"], "temp files left behind");
    }

    #[test]
    fn save_rejects_stems_that_are_paths() {
        let dir = tempfile::tempdir().unwrap();
        for stem in ["", "a/b", "..", "a\\b"] {
            assert!(matches!(figure().save(dir.path(), stem), Err(Error::Config(_))), "{stem:?}");
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn remove_saved_takes_away_what_save_wrote_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        figure().save(dir.path(), "chart").unwrap();
        std::fs::write(dir.path().join("chart.json"), "{}").unwrap();
        Figure::remove_saved(dir.path(), "chart").unwrap();
        let names: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
        assert_eq!(names, ["chart.json"]);
        Figure::remove_saved(dir.path(), "chart").expect("nothing left to remove is no error");
        assert!(matches!(Figure::remove_saved(dir.path(), "../chart"), Err(Error::Config(_))));
    }

    #[test]
    fn evcxr_content_wraps_base64_png() {
        let fig = figure();
        let text = fig.evcxr_content();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], "EVCXR_BEGIN_CONTENT image/png");
        assert_eq!(lines[2], "EVCXR_END_CONTENT");
        let decoded = base64::engine::general_purpose::STANDARD.decode(lines[1]).unwrap();
        assert_eq!(decoded, fig.png());
    }
}
