//! The notebooks' "try it" and "other data" cells: a finished run's models on inputs given in a
//! cell, and on data the user points at, as HTML tables for the notebook and the deck.
use super::evaluate::{self, EvalOptions, Part};
use super::predict::{self, Prediction};
use super::{RunDir, TrainedModel};
use crate::config::run::Run;
use crate::error::Result;
use crate::report::html::{esc, table, Html};
use crate::report::names::shown;
use std::path::PathBuf;

/// Environment variables naming other labelled data for the cross-data cells.
pub const EVAL_FACES_ENV: &str = "AFFECT_LAB_EVAL_FACES";
pub const EVAL_REVIEWS_ENV: &str = "AFFECT_LAB_EVAL_REVIEWS";

fn top1(p: &Prediction) -> String {
    p.top.first().map(|c| format!("{} ({:.0}%)", c.class, c.probability * 100.0)).unwrap_or_default()
}

/// `n` test images of the data root spread over the classes, with their true class.
pub fn example_faces(n: usize) -> Result<Vec<(PathBuf, String)>> {
    let set = super::eval_data::load_faces(&crate::config::paths::data_root(None), false)?;
    let step = (set.items.len() / n.max(1)).max(1);
    Ok(set
        .items
        .iter()
        .step_by(step)
        .take(n)
        .map(|it| (it.path.clone(), set.classes[it.label as usize].clone()))
        .collect())
}

/// Loaded models among `names` that the run trained; the others are listed as missing.
fn load_some(r: &Run, names: &[&str]) -> Result<(Vec<TrainedModel>, Vec<String>)> {
    let run = RunDir::open(&r.config.out)?;
    let known = run.model_names();
    let (mut models, mut missing) = (Vec::new(), Vec::new());
    for n in names {
        if known.iter().any(|k| k == n) {
            // scored one at a time, as `predict` scores them
            models.push(run.load(n, r.device)?.for_single_inputs());
        } else {
            missing.push(n.to_string());
        }
    }
    Ok((models, missing))
}

fn missing_note(missing: &[String]) -> String {
    if missing.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = missing.iter().map(|m| shown(m)).collect();
        format!("<p>Not in this run: {}.</p>", esc(&names.join(", ")))
    }
}

/// Side of a face in the try-it table, in pixels: decks show images at their natural size.
const FACE_PX: u32 = 128;

/// A face image as base64 PNG at `FACE_PX`, for an inline `<img>`.
fn png_base64(path: &std::path::Path) -> Result<String> {
    use base64::Engine;
    let mut png = Vec::new();
    let face = crate::data::faces::decode(path)?;
    let face = image::imageops::resize(&face, FACE_PX, FACE_PX, image::imageops::FilterType::Triangle);
    image::DynamicImage::ImageRgb8(face)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| crate::Error::Plot(e.to_string()))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(&png))
}

/// Each image with its true class and every model's most probable class.
pub fn try_faces(r: &Run, models: &[&str], images: &[(PathBuf, String)]) -> Result<Html> {
    let (loaded, missing) = load_some(r, models)?;
    let paths: Vec<PathBuf> = images.iter().map(|(p, _)| p.clone()).collect();
    let mut cols = Vec::new();
    for m in &loaded {
        if let TrainedModel::Faces(f) = m {
            cols.push((f.name.clone(), predict::faces(f, &paths, 1)?));
        }
    }
    // one column per face, so six faces and two models fit one 16:9 slide
    let mut h = String::from("<table><thead><tr><th></th>");
    for (path, truth) in images {
        h += &format!(
            "<th><img src=\"data:image/png;base64,{}\" width=\"{FACE_PX}\" height=\"{FACE_PX}\" alt=\"{}\"></th>",
            png_base64(path)?,
            esc(truth)
        );
    }
    h += "</tr></thead><tbody><tr><td>labelled</td>";
    images.iter().for_each(|(_, truth)| h += &format!("<td>{}</td>", esc(truth)));
    h += "</tr>";
    for (name, preds) in &cols {
        h += &format!("<tr><td>{}</td>", esc(&shown(name)));
        preds.iter().for_each(|p| h += &format!("<td>{}</td>", esc(&top1(p))));
        h += "</tr>";
    }
    Ok(Html(h + "</tbody></table>" + &missing_note(&missing)))
}

/// Each review (cut for the slide) with every model's most probable class.
pub fn try_reviews(r: &Run, models: &[&str], texts: &[&str]) -> Result<Html> {
    let (loaded, missing) = load_some(r, models)?;
    let owned: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
    let inputs = predict::text_args(&owned)?;
    let mut cols = Vec::new();
    for m in &loaded {
        if let TrainedModel::Reviews(t) = m {
            cols.push((t.name.clone(), predict::texts(t, &inputs, 1)?));
        }
    }
    let mut header = vec!["review".to_string()];
    header.extend(cols.iter().map(|(n, _)| shown(n)));
    let rows: Vec<Vec<String>> = inputs
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let cut: String = t.text.chars().take(90).collect();
            let mut row = vec![if cut.len() < t.text.len() { format!("{cut}...") } else { cut }];
            row.extend(cols.iter().map(|(_, p)| top1(&p[i])));
            row
        })
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    Ok(Html(table(&header, &rows).0 + &missing_note(&missing)))
}

/// What to set to fill the other-data slide; marked so that the deck leaves the slide out.
fn not_configured(r: &Run, var: &str, what: &str) -> Html {
    Html(format!(
        "<p {}>No other data configured. Set <code>{var}</code> to labelled {} and run this again, or use \
         <code>affect-lab evaluate --run {} --data-dir D</code>. The deck leaves this slide out.</p>",
        crate::report::html::LEAVE_OUT_OF_DECK,
        esc(what),
        esc(&r.config.out.display().to_string())
    ))
}

/// The run's models on the data named by `AFFECT_LAB_EVAL_FACES` (part 1) or
/// `AFFECT_LAB_EVAL_REVIEWS` (part 2), beside their own test accuracy; one line when unset.
pub fn cross_data(r: &Run, part: Part) -> Result<Html> {
    let var = if part == Part::Part1 { EVAL_FACES_ENV } else { EVAL_REVIEWS_ENV };
    let what = if part == Part::Part1 {
        "face images (a data root, a split folder or a <class>/<images> folder)"
    } else {
        "reviews (a Drugs.com folder or a CSV/TSV with a text and a rating or label column)"
    };
    let Some(data) = std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from) else {
        return Ok(not_configured(r, var, what));
    };
    let opts = EvalOptions {
        run: r.config.out.clone(),
        data,
        part: Some(part),
        models: Vec::new(),
        name: Some(format!("notebook-{}", part.name())),
        columns: Default::default(),
        // a presenter's folder may hold what the models cannot score (a third review class, an
        // unreadable image): the slide says what was left out rather than failing
        skip_bad_inputs: true,
        figures: true,
        device: r.device,
    };
    let (_, res) = evaluate::evaluate(&opts)?.remove(0);
    // one line per model (no wrapping), so a run's six or eight models fit one slide
    let cell = |c: &str| format!("<td style=\"white-space:nowrap\">{}</td>", esc(c));
    let mut h = format!("<p>{} ({} examples).</p>", esc(&res.data_description), res.examples);
    h += &format!(
        "<table><thead><tr><th>model</th><th>own test ({})</th><th>here, 95% CI</th><th>macro-F1 here</th></tr></thead><tbody>",
        res.run_test_examples
    );
    for x in &res.rows {
        let [lo, hi] = x.accuracy_ci95;
        h += "<tr>";
        h += &cell(&shown(&x.model));
        h += &cell(&format!("{:.1}%", x.run_test_accuracy * 100.0));
        h += &cell(&format!("{:.1}% ({:.1}-{:.1})", x.accuracy * 100.0, lo * 100.0, hi * 100.0));
        h += &cell(&format!("{:.3}", x.macro_f1));
        h += "</tr>";
    }
    h += "</tbody></table>";
    if res.skipped_count > 0 {
        h += &format!(
            "<p>Left out: {} inputs, e.g. {}.</p>",
            res.skipped_count,
            esc(res.skipped_inputs.first().map(String::as_str).unwrap_or(""))
        );
    }
    if !res.absent_classes.is_empty() {
        h += &format!(
            "<p>Absent from this data, so scored over the other classes: {}.</p>",
            esc(&res.absent_classes.join(", "))
        );
    }
    Ok(Html(h))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_face_in_the_try_it_table_is_shown_at_its_slide_size_not_48_px() {
        use base64::Engine;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("face.png");
        image::GrayImage::from_fn(48, 48, |x, _| image::Luma([x as u8 * 5])).save(&path).unwrap();
        let png = base64::engine::general_purpose::STANDARD.decode(super::png_base64(&path).unwrap()).unwrap();
        let img = image::load_from_memory(&png).unwrap();
        assert_eq!((img.width(), img.height()), (super::FACE_PX, super::FACE_PX));
    }
}
