//! `evaluate` and `predict`: a finished run's models on other data.
use super::args::*;

pub fn evaluate(a: &EvaluateArgs, dev: tch::Device) -> anyhow::Result<()> {
    use affect_lab::trained::{eval_data::ReviewColumns, evaluate as ev};
    let opts = ev::EvalOptions {
        run: a.run.clone(),
        data: a.data_dir.clone(),
        part: a.part,
        models: a.models.clone(),
        name: a.name.clone(),
        columns: ReviewColumns {
            text: a.text_column.clone(),
            rating: a.rating_column.clone(),
            label: a.label_column.clone(),
        },
        skip_bad_inputs: a.skip_bad_inputs,
        figures: !a.no_figures,
        device: dev,
    };
    for (dir, res) in ev::evaluate(&opts)? {
        println!("{}", ev::summary(&res));
        eprintln!("written to {}", dir.display());
    }
    Ok(())
}

pub fn predict(a: &PredictArgs, dev: tch::Device) -> anyhow::Result<()> {
    use affect_lab::trained::{predict as pr, RunDir, TrainedModel};
    let t0 = std::time::Instant::now();
    let model = RunDir::open(&a.run)?.load(&a.model, dev)?.for_single_inputs();
    let loaded = t0.elapsed().as_secs_f64();
    let t1 = std::time::Instant::now();
    let predictions = match &model {
        TrainedModel::Faces(m) => {
            anyhow::ensure!(
                a.text.is_empty() && a.file.is_none(),
                "`{}` classifies face images: pass image files, not --text/--file",
                a.model
            );
            anyhow::ensure!(!a.images.is_empty(), "no image files given for `{}`", a.model);
            if a.detect_faces {
                use affect_lab::trained::detect::{Cascade, DetectOptions};
                let cascade = Cascade::load(&Cascade::find()?)?;
                let opts = DetectOptions { min_size: a.min_face, ..Default::default() };
                let (preds, written) = pr::faces_in_photos(m, &cascade, &a.images, opts, a.top_k, &a.annotate_dir)?;
                written.iter().for_each(|w| eprintln!("annotated photo: {}", w.display()));
                preds
            } else {
                pr::faces(m, &a.images, a.top_k)?
            }
        }
        TrainedModel::Reviews(m) => {
            anyhow::ensure!(
                a.images.is_empty() && !a.detect_faces,
                "`{}` classifies reviews: use --text or --file, not image files",
                a.model
            );
            let mut inputs = pr::text_args(&a.text)?;
            if let Some(f) = &a.file {
                inputs.extend(pr::read_text_file(f)?);
            }
            anyhow::ensure!(!inputs.is_empty(), "no review given for `{}`: use --text \"...\" or --file F", a.model);
            pr::texts(m, &inputs, a.top_k)?
        }
    };
    let n = predictions.len();
    let secs = t1.elapsed().as_secs_f64();
    if a.json {
        let doc = serde_json::json!({"run": a.run.display().to_string(), "model": model.name(), "classes": model.classes(), "predictions": predictions});
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!("{}", pr::format(&predictions));
    }
    let plural = if n == 1 { "" } else { "s" };
    eprintln!(
        "model loaded in {loaded:.3} s; {n} prediction{plural} in {secs:.3} s ({:.1} ms each, batch 1)",
        secs * 1e3 / n.max(1) as f64
    );
    Ok(())
}
