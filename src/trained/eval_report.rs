//! What `evaluate` shows: its figures and a plain-text summary.
use super::evaluate::{EvalResults, Part};
use crate::error::Result;
use crate::experiments::part1;
use crate::report::plots::{self, Figure};

/// Accuracy here beside the run's own test accuracy, then per model the confusion matrix (and
/// for faces the highest-loss images).
pub(super) fn figures(r: &EvalResults, label: &str) -> Result<Vec<(String, Figure)>> {
    let names: Vec<String> = r.rows.iter().map(|x| x.model.clone()).collect();
    let ours: Vec<[f64; 2]> = r.rows.iter().map(|x| x.accuracy_ci95).collect();
    let mut out = vec![(
        "accuracy".to_string(),
        plots::bar_chart_with_intervals(
            &format!("Accuracy: own test split ({} examples) vs {label} ({})", r.run_test_examples, r.examples),
            &names,
            &[
                ("own test split", r.rows.iter().map(|x| x.run_test_accuracy).collect()),
                (label, r.rows.iter().map(|x| x.accuracy).collect()),
            ],
            &[None, Some(ours)],
            "accuracy",
        )?,
    )];
    for row in &r.rows {
        let title = format!("{} on {label}: confusion (acc {:.1}%)", row.model, row.accuracy * 100.0);
        out.push((
            format!("{}_confusion", row.model),
            plots::confusion_with_shares(&title, &r.classes, &row.confusion)?,
        ));
        if r.part == Part::Part1 && !row.top_losses.is_empty() {
            let samples: Vec<part1::Sample> = row
                .top_losses
                .iter()
                .map(|s| part1::Sample {
                    path: s.input.clone(),
                    truth: s.truth.clone(),
                    pred: s.pred.clone(),
                    confidence: s.confidence,
                    loss: s.loss,
                })
                .collect();
            out.push((
                format!("{}_top_losses", row.model),
                crate::report::samples_figure(
                    &format!("{} on {label}: highest-loss images", row.model),
                    &samples,
                    true,
                )?,
            ));
        }
    }
    Ok(out)
}

/// A plain-text table: the run's test numbers beside this data's.
pub fn summary(r: &EvalResults) -> String {
    let mut s = format!(
        "{} models of {} ({} profile, seed {}) on {}\n",
        r.part.name(),
        r.run,
        r.run_profile,
        r.run_seed,
        r.data_description
    );
    s += &format!(
        "{} examples; per class: {}\n",
        r.examples,
        r.classes.iter().zip(&r.class_counts).map(|(c, n)| format!("{c} {n}")).collect::<Vec<_>>().join(", ")
    );
    if !r.absent_classes.is_empty() {
        s += &format!("absent from the data (scored over the other classes): {}\n", r.absent_classes.join(", "));
    }
    if r.duplicates_removed > 0 {
        s += &format!("{} duplicate texts removed first\n", r.duplicates_removed);
    }
    if r.run_test_examples != r.examples {
        s += &format!("the run's own test numbers are over its {} test examples\n", r.run_test_examples);
    }
    if r.skipped_count > 0 {
        s += &format!(
            "skipped {} bad inputs (--skip-bad-inputs), first: {}\n",
            r.skipped_count,
            r.skipped_inputs.first().cloned().unwrap_or_default()
        );
    }
    s += &format!(
        "{:<22} {:>14} {:>10} {:>13} {:>9} {:>10}\n",
        "model", "run test acc", "acc here", "95% CI", "macroF1", "run mF1"
    );
    for x in &r.rows {
        let [lo, hi] = x.accuracy_ci95;
        s += &format!(
            "{:<22} {:>14.3} {:>10.3} {:>13} {:>9.3} {:>10.3}\n",
            x.model,
            x.run_test_accuracy,
            x.accuracy,
            format!("{lo:.3}-{hi:.3}"),
            x.macro_f1,
            x.run_test_macro_f1
        );
    }
    s
}
