//! Finding faces in ordinary photos with a Viola-Jones Haar cascade, read from OpenCV's
//! published XML (Debian's `opencv-data` ships `haarcascade_frontalface_default.xml`), so no model
//! is downloaded at run time. The search follows OpenCV's `CascadeClassifier::detectMultiScale`:
//! the image is shrunk step by step, every window is variance-normalised and run through the
//! boosted stages, and overlapping hits are merged (`groupRectangles`).
use crate::error::{Error, Result};
use image::GrayImage;
use std::path::{Path, PathBuf};

/// Environment variable naming a cascade XML file.
pub const CASCADE_ENV: &str = "AFFECT_LAB_FACE_CASCADE";
const CASCADE_FILE: &str = "haarcascade_frontalface_default.xml";
const SYSTEM_DIRS: [&str; 2] = ["/usr/share/opencv4/haarcascades", "/usr/share/opencv/haarcascades"];

/// A node of a weak classifier's tree: `feature < threshold` goes left. A child `<= 0` is a
/// leaf, `-child` indexing the leaf values.
#[derive(Debug, Clone)]
struct Node {
    left: i32,
    right: i32,
    feature: usize,
    threshold: f64,
}

#[derive(Debug, Clone)]
struct Weak {
    nodes: Vec<Node>,
    leaves: Vec<f64>,
}

#[derive(Debug, Clone)]
struct Stage {
    threshold: f64,
    weak: Vec<Weak>,
}

/// Weighted rectangles `(x, y, w, h, weight)` in window coordinates.
#[derive(Debug, Clone)]
struct Feature {
    rects: Vec<(usize, usize, usize, usize, f64)>,
}

/// A face box in image pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FaceBox {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

#[derive(Debug, Clone)]
pub struct Cascade {
    pub path: PathBuf,
    width: usize,
    height: usize,
    stages: Vec<Stage>,
    features: Vec<Feature>,
}

#[derive(Debug, Clone, Copy)]
pub struct DetectOptions {
    /// Smallest face side searched, in pixels.
    pub min_size: u32,
    /// Window growth per step (OpenCV's `scaleFactor`).
    pub scale_factor: f64,
    /// Overlapping hits a face needs to be kept (OpenCV's `minNeighbors`).
    pub min_neighbors: usize,
}

/// One `<_>` of `<stages>`: its threshold and weak classifiers.
fn stage(path: &Path, s: roxmltree::Node) -> Result<Stage> {
    let threshold = numbers(path, child(path, s, "stageThreshold")?, "stageThreshold")?.first().copied().unwrap_or(0.0);
    let mut weak = Vec::new();
    for w in items(child(path, s, "weakClassifiers")?) {
        let raw = numbers(path, child(path, w, "internalNodes")?, "internalNodes")?;
        if raw.is_empty() || raw.len() % 4 != 0 {
            return Err(Error::data(
                path,
                Some(node_line(w)),
                "internalNodes must hold groups of 4 numbers (left right feature threshold)",
            ));
        }
        let nodes = raw
            .chunks(4)
            .map(|c| Node { left: c[0] as i32, right: c[1] as i32, feature: c[2] as usize, threshold: c[3] })
            .collect();
        weak.push(Weak { nodes, leaves: numbers(path, child(path, w, "leafValues")?, "leafValues")? });
    }
    Ok(Stage { threshold, weak })
}

/// One `<_>` of `<features>`: upright rectangles inside the `(width, height)` window.
fn feature(path: &Path, f: roxmltree::Node, (width, height): (usize, usize)) -> Result<Feature> {
    if f.children().any(|c| c.has_tag_name("tilted") && c.text().unwrap_or("").trim() == "1") {
        return Err(Error::data(path, Some(node_line(f)), "tilted Haar features are not supported"));
    }
    let mut rects = Vec::new();
    for r in items(child(path, f, "rects")?) {
        let v = numbers(path, r, "rect")?;
        if v.len() != 5 || v[..4].iter().any(|&x| x < 0.0) || v[0] + v[2] > width as f64 || v[1] + v[3] > height as f64
        {
            return Err(Error::data(path, Some(node_line(r)), "a rect is `x y w h weight` inside the window"));
        }
        rects.push((v[0] as usize, v[1] as usize, v[2] as usize, v[3] as usize, v[4]));
    }
    Ok(Feature { rects })
}

impl Default for DetectOptions {
    fn default() -> Self {
        DetectOptions { min_size: 24, scale_factor: 1.1, min_neighbors: 3 }
    }
}

fn numbers(path: &Path, node: roxmltree::Node, what: &str) -> Result<Vec<f64>> {
    node.text()
        .unwrap_or("")
        .split_whitespace()
        .map(|t| {
            t.parse::<f64>()
                .map_err(|_| Error::data(path, Some(node_line(node)), format!("{what}: `{t}` is not a number")))
        })
        .collect()
}

fn node_line(node: roxmltree::Node) -> usize {
    node.document().text_pos_at(node.range().start).row as usize
}

fn child<'a, 'i>(path: &Path, node: roxmltree::Node<'a, 'i>, name: &str) -> Result<roxmltree::Node<'a, 'i>> {
    node.children().find(|c| c.has_tag_name(name)).ok_or_else(|| {
        Error::data(path, Some(node_line(node)), format!("<{}> has no <{name}>", node.tag_name().name()))
    })
}

fn items<'a, 'i>(node: roxmltree::Node<'a, 'i>) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
    node.children().filter(|c| c.has_tag_name("_"))
}

impl Cascade {
    /// `$AFFECT_LAB_FACE_CASCADE`, else OpenCV's frontal-face cascade where Debian installs it.
    pub fn find() -> Result<PathBuf> {
        if let Some(v) = std::env::var_os(CASCADE_ENV).filter(|v| !v.is_empty()) {
            return Ok(PathBuf::from(v));
        }
        SYSTEM_DIRS.iter().map(|d| Path::new(d).join(CASCADE_FILE)).find(|p| p.is_file()).ok_or_else(|| {
            Error::weights(
                Path::new(SYSTEM_DIRS[0]).join(CASCADE_FILE),
                format!("face detector not found: install Debian's opencv-data (apt-get install opencv-data) or set {CASCADE_ENV} to an OpenCV Haar cascade XML"),
            )
        })
    }

    /// Read an OpenCV (2.4+ format) Haar cascade.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let doc = roxmltree::Document::parse(&text)
            .map_err(|e| Error::data(path, Some(e.pos().row as usize), format!("not XML: {e}")))?;
        let cascade = doc
            .descendants()
            .find(|n| n.has_tag_name("cascade"))
            .ok_or_else(|| Error::data(path, None, "no <cascade> (an OpenCV Haar cascade XML is expected)"))?;
        let kind =
            child(path, cascade, "featureType").map(|n| n.text().unwrap_or("").trim().to_string()).unwrap_or_default();
        if kind != "HAAR" {
            return Err(Error::data(
                path,
                Some(node_line(cascade)),
                format!("feature type `{kind}`: only HAAR cascades are supported"),
            ));
        }
        let dim = |name: &str| -> Result<usize> {
            Ok(numbers(path, child(path, cascade, name)?, name)?.first().copied().unwrap_or(0.0) as usize)
        };
        let (width, height) = (dim("width")?, dim("height")?);
        let stages = items(child(path, cascade, "stages")?).map(|s| stage(path, s)).collect::<Result<Vec<_>>>()?;
        let features = items(child(path, cascade, "features")?)
            .map(|f| feature(path, f, (width, height)))
            .collect::<Result<Vec<_>>>()?;
        let c = Cascade { path: path.to_path_buf(), width, height, stages, features };
        c.validate()?;
        Ok(c)
    }

    fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::data(&self.path, None, msg));
        if self.width < 3 || self.height < 3 || self.stages.is_empty() {
            return bad("a cascade needs a window of at least 3x3 and one stage".into());
        }
        for (si, s) in self.stages.iter().enumerate() {
            for w in &s.weak {
                for n in &w.nodes {
                    let child_ok =
                        |c: i32| if c <= 0 { ((-c) as usize) < w.leaves.len() } else { (c as usize) < w.nodes.len() };
                    if n.feature >= self.features.len() || !child_ok(n.left) || !child_ok(n.right) {
                        return bad(format!("stage {si}: a node refers to a feature or child that does not exist"));
                    }
                }
            }
        }
        Ok(())
    }

    /// Face boxes in `img`, left to right.
    pub fn detect(&self, img: &GrayImage, opts: DetectOptions) -> Vec<FaceBox> {
        let (w, h) = img.dimensions();
        let mut hits = Vec::new();
        let mut factor = 1.0f64;
        loop {
            let win = (self.width as f64 * factor).round() as u32;
            let (sw, sh) = ((w as f64 / factor).round() as u32, (h as f64 / factor).round() as u32);
            if sw < self.width as u32 || sh < self.height as u32 || win > w.min(h) {
                break;
            }
            if win >= opts.min_size {
                let scaled = resize_linear(img, sw, sh);
                let ii = Integral::new(&scaled);
                let step = if factor > 2.0 { 1 } else { 2 };
                for y in (0..=(sh as usize - self.height)).step_by(step) {
                    for x in (0..=(sw as usize - self.width)).step_by(step) {
                        if self.passes(&ii, x, y) {
                            let at = |v: usize| (v as f64 * factor).round() as u32;
                            hits.push(FaceBox {
                                x: at(x),
                                y: at(y),
                                w: win,
                                h: (self.height as f64 * factor).round() as u32,
                            });
                        }
                    }
                }
            }
            factor *= opts.scale_factor.max(1.01);
        }
        group(&hits, opts.min_neighbors, 0.2)
    }

    /// Does the window at `(x, y)` pass every stage?
    fn passes(&self, ii: &Integral, x: usize, y: usize) -> bool {
        // OpenCV normalises by the window shrunk by one pixel on each side
        let (nw, nh) = (self.width - 2, self.height - 2);
        let area = (nw * nh) as f64;
        let sum = ii.sum(x + 1, y + 1, nw, nh);
        let sq = ii.sq_sum(x + 1, y + 1, nw, nh);
        let var = area * sq - sum * sum;
        let nf = if var > 0.0 { var.sqrt() } else { 1.0 };
        let feature = |f: usize| {
            self.features[f].rects.iter().map(|&(rx, ry, rw, rh, wt)| wt * ii.sum(x + rx, y + ry, rw, rh)).sum::<f64>()
                / nf
        };
        self.stages.iter().all(|s| {
            let score: f64 = s
                .weak
                .iter()
                .map(|w| {
                    let mut i = 0usize;
                    loop {
                        let n = &w.nodes[i];
                        let next = if feature(n.feature) < n.threshold { n.left } else { n.right };
                        if next <= 0 {
                            break w.leaves[(-next) as usize];
                        }
                        i = next as usize;
                    }
                })
                .sum();
            score >= s.threshold
        })
    }
}

/// Bilinear resampling without an anti-aliasing filter, as OpenCV's `INTER_LINEAR` shrinks the
/// image for each scale (the cascade's thresholds were tuned on such images).
fn resize_linear(img: &GrayImage, w: u32, h: u32) -> GrayImage {
    let (sw, sh) = img.dimensions();
    let taps = |dst: u32, src_n: u32, dst_n: u32| {
        let s = (dst as f64 + 0.5) * src_n as f64 / dst_n as f64 - 0.5;
        let (i0, a) = if s <= 0.0 { (0, 0.0) } else { (s.floor() as u32, s - s.floor()) };
        if i0 + 1 >= src_n {
            (src_n - 1, src_n - 1, 0.0)
        } else {
            (i0, i0 + 1, a)
        }
    };
    let cols: Vec<(u32, u32, f64)> = (0..w).map(|x| taps(x, sw, w)).collect();
    GrayImage::from_fn(w, h, |x, y| {
        let (y0, y1, b) = taps(y, sh, h);
        let (x0, x1, a) = cols[x as usize];
        let p = |x, y| img.get_pixel(x, y).0[0] as f64;
        let v = (1.0 - b) * ((1.0 - a) * p(x0, y0) + a * p(x1, y0)) + b * ((1.0 - a) * p(x0, y1) + a * p(x1, y1));
        image::Luma([v.round().clamp(0.0, 255.0) as u8])
    })
}

/// Summed-area tables of pixel values and their squares.
struct Integral {
    stride: usize,
    sum: Vec<f64>,
    sq: Vec<f64>,
}

impl Integral {
    fn new(img: &GrayImage) -> Self {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let stride = w + 1;
        let (mut sum, mut sq) = (vec![0.0; stride * (h + 1)], vec![0.0; stride * (h + 1)]);
        for y in 0..h {
            let (mut row, mut row_sq) = (0.0, 0.0);
            for x in 0..w {
                let v = img.get_pixel(x as u32, y as u32).0[0] as f64;
                row += v;
                row_sq += v * v;
                sum[(y + 1) * stride + x + 1] = sum[y * stride + x + 1] + row;
                sq[(y + 1) * stride + x + 1] = sq[y * stride + x + 1] + row_sq;
            }
        }
        Integral { stride, sum, sq }
    }
    fn rect(t: &[f64], stride: usize, x: usize, y: usize, w: usize, h: usize) -> f64 {
        t[(y + h) * stride + x + w] - t[y * stride + x + w] - t[(y + h) * stride + x] + t[y * stride + x]
    }
    fn sum(&self, x: usize, y: usize, w: usize, h: usize) -> f64 {
        Self::rect(&self.sum, self.stride, x, y, w, h)
    }
    fn sq_sum(&self, x: usize, y: usize, w: usize, h: usize) -> f64 {
        Self::rect(&self.sq, self.stride, x, y, w, h)
    }
}

/// OpenCV's `groupRectangles`: cluster similar boxes, keep clusters of more than `min_neighbors`
/// hits as their average box, and drop boxes inside a better-supported one.
fn group(hits: &[FaceBox], min_neighbors: usize, eps: f64) -> Vec<FaceBox> {
    let similar = |a: &FaceBox, b: &FaceBox| {
        let delta = eps * (a.w.min(b.w) + a.h.min(b.h)) as f64 * 0.5;
        let close = |p: u32, q: u32| (p as f64 - q as f64).abs() <= delta;
        close(a.x, b.x) && close(a.y, b.y) && close(a.x + a.w, b.x + b.w) && close(a.y + a.h, b.y + b.h)
    };
    let mut parent: Vec<usize> = (0..hits.len()).collect();
    fn root(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    for i in 0..hits.len() {
        for j in 0..i {
            if similar(&hits[i], &hits[j]) {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                parent[a] = b;
            }
        }
    }
    let mut clusters: std::collections::BTreeMap<usize, (usize, [f64; 4])> = Default::default();
    for (i, b) in hits.iter().enumerate() {
        let e = clusters.entry(root(&mut parent, i)).or_insert((0, [0.0; 4]));
        e.0 += 1;
        for (acc, v) in e.1.iter_mut().zip([b.x, b.y, b.w, b.h]) {
            *acc += v as f64;
        }
    }
    let avg: Vec<(usize, FaceBox)> = clusters
        .into_values()
        .filter(|(n, _)| *n > min_neighbors)
        .map(|(n, s)| {
            let m = |k: usize| (s[k] / n as f64).round() as u32;
            (n, FaceBox { x: m(0), y: m(1), w: m(2), h: m(3) })
        })
        .collect();
    let inside = |(n1, r1): &(usize, FaceBox), (n2, r2): &(usize, FaceBox)| {
        let (dx, dy) = ((r2.w as f64 * eps).round() as i64, (r2.h as f64 * eps).round() as i64);
        let (x1, y1, x2, y2) = (r1.x as i64, r1.y as i64, r2.x as i64, r2.y as i64);
        x1 >= x2 - dx
            && y1 >= y2 - dy
            && x1 + r1.w as i64 <= x2 + r2.w as i64 + dx
            && y1 + r1.h as i64 <= y2 + r2.h as i64 + dy
            && (*n2 > (*n1).max(3) || *n1 < 3)
    };
    let mut kept: Vec<(usize, FaceBox)> = avg
        .iter()
        .enumerate()
        .filter(|(i, a)| !avg.iter().enumerate().any(|(j, b)| *i != j && inside(a, b)))
        .map(|(_, a)| *a)
        .collect();
    // left to right, as a reader numbers the faces in a photo
    kept.sort_by_key(|(_, b)| (b.x, b.y));
    kept.into_iter().map(|(_, b)| b).collect()
}

#[cfg(test)]
mod tests;
