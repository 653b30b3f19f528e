//! `affect-lab predict`: the top classes of a trained model for new face images or reviews.
use super::detect::{Cascade, DetectOptions};
use super::loaded::{probabilities, FaceModel, TextModel};
use crate::data::faces::{self, FaceItem};
use crate::data::text::clean_text;
use crate::error::{Error, Result};
use crate::numerics::Numerics;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Inputs are scored one at a time, as a deployed model would see them.
pub const PREDICT_BATCH: usize = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassProbability {
    pub class: String,
    pub probability: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// An image path, `--text N`, or `file:line`.
    pub input: String,
    /// The review as the model saw it (cleaned), for text inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The `k` most probable classes, most probable first.
    pub top: Vec<ClassProbability>,
}

/// The `k` most probable classes; ties keep the model's class order.
pub fn top_k(probs: &[f32], classes: &[String], k: usize) -> Vec<ClassProbability> {
    let mut idx: Vec<usize> = (0..probs.len()).collect();
    idx.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]).then(a.cmp(&b)));
    idx.into_iter()
        .take(k.max(1))
        .map(|i| ClassProbability { class: classes[i].clone(), probability: probs[i] })
        .collect()
}

/// A file that does not decode stops it with an error naming the file (from the batch source).
pub fn faces(model: &FaceModel, images: &[PathBuf], k: usize) -> Result<Vec<Prediction>> {
    let items: Vec<FaceItem> = images.iter().map(|p| FaceItem { path: p.clone(), label: 0 }).collect();
    let probs = probabilities(model.net(), &model.source(items), model.device, model.numerics(), PREDICT_BATCH)?;
    Ok(images
        .iter()
        .zip(probs)
        .map(|(p, pr)| Prediction { input: p.display().to_string(), text: None, top: top_k(&pr, &model.classes, k) })
        .collect())
}

/// Faces found in each photo, each crop classified; an annotated copy of every photo
/// (`<stem>.faces.png`, boxes and top labels) is written into `annotate_dir`.
pub fn faces_in_photos(
    model: &FaceModel,
    cascade: &Cascade,
    photos: &[PathBuf],
    opts: DetectOptions,
    k: usize,
    annotate_dir: &Path,
) -> Result<(Vec<Prediction>, Vec<PathBuf>)> {
    let decoded: Vec<image::RgbImage> = photos.iter().map(|p| faces::decode(p)).collect::<Result<_>>()?;
    let mut predictions = Vec::new();
    let mut annotated = Vec::new();
    for (path, photo) in photos.iter().zip(&decoded) {
        let boxes = cascade.detect(&image::imageops::grayscale(photo), opts);
        let crops: Vec<image::RgbImage> =
            boxes.iter().map(|b| image::imageops::crop_imm(photo, b.x, b.y, b.w, b.h).to_image()).collect();
        let probs = model.classify(&crops)?;
        let mut labels = Vec::new();
        for (i, (b, pr)) in boxes.iter().zip(&probs).enumerate() {
            let top = top_k(pr, &model.classes, k);
            labels.push(([b.x, b.y, b.w, b.h], format!("{} {:.2}", top[0].class, top[0].probability)));
            predictions.push(Prediction {
                input: format!("{} face {} at x={} y={} w={} h={}", path.display(), i + 1, b.x, b.y, b.w, b.h),
                text: None,
                top,
            });
        }
        if boxes.is_empty() {
            eprintln!("{}: no face found", path.display());
        }
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "photo".into());
        let out = annotate_dir.join(format!("{stem}.faces.png"));
        crate::atomic::write_bytes(&out, &crate::report::plots::labelled_boxes(photo, &labels)?)?;
        annotated.push(out);
    }
    Ok((predictions, annotated))
}

/// A review to classify and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct TextInput {
    pub origin: String,
    pub text: String,
}

/// `--text` values, cleaned; an empty one is an error naming it.
pub fn text_args(texts: &[String]) -> Result<Vec<TextInput>> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let text = clean_text(t);
            if text.is_empty() {
                return Err(Error::Config(format!("--text number {} is empty", i + 1)));
            }
            Ok(TextInput { origin: format!("--text {}", i + 1), text })
        })
        .collect()
}

/// One review per line; a blank line is an error naming the file and line.
pub fn read_text_file(path: &Path) -> Result<Vec<TextInput>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let content = String::from_utf8(bytes).map_err(|e| Error::data(path, None, format!("not UTF-8 text: {e}")))?;
    let mut out = Vec::new();
    for (i, line) in content.lines().enumerate() {
        let text = clean_text(line);
        if text.is_empty() {
            return Err(Error::data(path, Some(i + 1), "empty review (one review per line, no blank lines)"));
        }
        out.push(TextInput { origin: format!("{}:{}", path.display(), i + 1), text });
    }
    if out.is_empty() {
        return Err(Error::data(path, None, "no reviews in the file"));
    }
    Ok(out)
}

pub fn texts(model: &TextModel, inputs: &[TextInput], k: usize) -> Result<Vec<Prediction>> {
    let refs: Vec<&str> = inputs.iter().map(|t| t.text.as_str()).collect();
    let source = model.source(&refs, vec![0; refs.len()])?;
    let probs = probabilities(model.net(), &source, model.device, Numerics::FP32, PREDICT_BATCH)?;
    Ok(inputs
        .iter()
        .zip(probs)
        .map(|(t, pr)| Prediction {
            input: t.origin.clone(),
            text: Some(t.text.clone()),
            top: top_k(&pr, &model.classes, k),
        })
        .collect())
}

/// One line per input: where it came from, then `class probability` pairs.
pub fn format(predictions: &[Prediction]) -> String {
    let mut s = String::new();
    for p in predictions {
        let top: Vec<String> = p.top.iter().map(|c| format!("{} {:.3}", c.class, c.probability)).collect();
        s += &format!("{}: {}", p.input, top.join(", "));
        if let Some(t) = &p.text {
            let cut: String = t.chars().take(70).collect();
            s += &format!("   \"{cut}{}\"", if cut.len() < t.len() { "..." } else { "" });
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_orders_by_probability_and_keeps_class_order_on_ties() {
        let classes: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let top = top_k(&[0.1, 0.4, 0.1, 0.4], &classes, 3);
        assert_eq!(top.iter().map(|c| c.class.as_str()).collect::<Vec<_>>(), ["b", "d", "a"]);
        assert_eq!(top_k(&[0.3, 0.7], &classes[..2], 0).len(), 1, "k 0 still gives the best class");
        assert_eq!(top_k(&[0.3, 0.7], &classes[..2], 9).len(), 2);
    }

    #[test]
    fn text_inputs_are_cleaned_and_empty_ones_named() {
        let t = text_args(&["  Works &amp; no  side effects ".into()]).unwrap();
        assert_eq!(t[0].text, "Works & no side effects");
        let err = text_args(&["fine".into(), " \t".into()]).unwrap_err().to_string();
        assert!(err.contains("--text number 2 is empty"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("reviews.txt");
        std::fs::write(&f, "good\nbad\n").unwrap();
        assert_eq!(
            read_text_file(&f)
                .unwrap()
                .iter()
                .map(|t| t.origin.rsplit(':').next().unwrap().to_string())
                .collect::<Vec<_>>(),
            ["1", "2"]
        );
        std::fs::write(&f, "good\n\nbad\n").unwrap();
        let err = read_text_file(&f).unwrap_err().to_string();
        assert!(err.contains("reviews.txt:2") && err.contains("empty review"), "{err}");
        std::fs::write(&f, b"ok\n\xff\xfe\n").unwrap();
        assert!(read_text_file(&f).unwrap_err().to_string().contains("not UTF-8"));
    }

    #[test]
    fn format_shows_each_input_with_its_classes() {
        let p = Prediction {
            input: "x.png".into(),
            text: None,
            top: vec![ClassProbability { class: "happy".into(), probability: 0.75 }],
        };
        assert_eq!(format(&[p]), "x.png: happy 0.750\n");
    }
}
