//! Charts of the ratios ours / PyTorch: `train_ratio.png`, `infer_ratio.png`, `epoch_ratio.png`,
//! `text_ratio.png`, written beside `bench.json`.
use super::cases::Case;
use super::report::Bench;
use crate::error::Result;
use crate::numerics::Numerics;
use crate::report::plots::{bar_chart_with_reference, Figure};
use std::path::Path;

/// Write `bench.json` and the ratio charts into `dir`. A chart none of whose cases were measured
/// (a run with `--no-data` has no epochs, one with `--no-text` no text models) is not drawn, and
/// one left in `dir` by an earlier report is removed, so that every chart there shows this run.
pub fn write(dir: &Path, bench: &Bench) -> Result<()> {
    let mut charts = Vec::new();
    for (stem, title, keep) in [
        ("train_ratio", "Training speed, ours / PyTorch eager (batch 64, same threads)", is_train as fn(&Case) -> bool),
        ("infer_ratio", "Inference speed at batch 64, ours / PyTorch eager", is_infer64),
        ("epoch_ratio", "Training on the faces, data + steps, ours / PyTorch eager", is_epoch),
    ] {
        charts.push((stem, ratio_chart(bench, title, keep)?));
    }
    charts.push(("text_ratio", text_chart(bench)?));
    crate::atomic::write_json(&dir.join("bench.json"), bench)?;
    for (stem, chart) in charts {
        match chart {
            Some(figure) => drop(figure.save(dir, stem)?),
            None => Figure::remove_saved(dir, stem)?,
        }
    }
    Ok(())
}

fn is_train(c: &Case) -> bool {
    matches!(c, Case::Train { .. })
}

fn is_epoch(c: &Case) -> bool {
    matches!(c, Case::Epoch { .. })
}

fn is_infer64(c: &Case) -> bool {
    matches!(c, Case::Infer { batch, .. } if *batch > 1)
}

fn ratio_chart(bench: &Bench, title: &str, keep: fn(&Case) -> bool) -> Result<Option<Figure>> {
    let image = |c: &Case| match c {
        Case::Train { arch, size, numerics, .. }
        | Case::Infer { arch, size, numerics, .. }
        | Case::Epoch { arch, size, numerics, .. } => {
            Some((format!("{}\n{size} px", super::cases::short_name(arch)), *numerics))
        }
        _ => None,
    };
    let mut categories: Vec<String> = Vec::new();
    for p in bench.pairs.iter().filter(|p| keep(&p.case)) {
        if let Some((cat, _)) = image(&p.case) {
            if !categories.contains(&cat) {
                categories.push(cat);
            }
        }
    }
    if categories.is_empty() {
        return Ok(None);
    }
    let labels: Vec<String> = Numerics::ALL.iter().map(Numerics::label).collect();
    let series: Vec<(&str, Vec<f64>)> = Numerics::ALL
        .iter()
        .zip(&labels)
        .map(|(n, label)| {
            let values = categories
                .iter()
                .map(|cat| {
                    bench
                        .pairs
                        .iter()
                        .filter(|p| keep(&p.case))
                        .find(|p| image(&p.case) == Some((cat.clone(), *n)))
                        .and_then(|p| p.speedup)
                        .unwrap_or(f64::NAN)
                })
                .collect();
            (label.as_str(), values)
        })
        // a setting no case of this chart measured gets no legend entry
        .filter(|(_, values): &(&str, Vec<f64>)| values.iter().any(|v| v.is_finite()))
        .collect();
    bar_chart_with_reference(title, &categories, &series, &[], ("PyTorch, same setting", 1.0), "ours / PyTorch (x)")
        .map(Some)
}

fn text_chart(bench: &Bench) -> Result<Option<Figure>> {
    let categories =
        vec!["MiniLM fine-tuning\n16 x 128 tokens".to_string(), "BiLSTM training\n64 x 128 tokens".to_string()];
    let value = |minilm: bool, bf16: bool| {
        bench
            .pairs
            .iter()
            .find(|p| match p.case {
                Case::MinilmTrain { numerics, .. } => minilm && numerics.bf16 == bf16,
                Case::BilstmTrain { numerics, .. } => !minilm && numerics.bf16 == bf16,
                _ => false,
            })
            .and_then(|p| p.speedup)
            .unwrap_or(f64::NAN)
    };
    let series = [
        ("fp32", vec![value(true, false), value(false, false)]),
        ("bf16", vec![value(true, true), value(false, true)]),
    ];
    if series.iter().all(|(_, values)| values.iter().all(|v| v.is_nan())) {
        return Ok(None);
    }
    bar_chart_with_reference(
        "Text models: training speed, ours / PyTorch eager",
        &categories,
        &series,
        &[],
        ("PyTorch, same setting", 1.0),
        "ours / PyTorch (x)",
    )
    .map(Some)
}

#[cfg(test)]
mod tests {
    use super::super::report::{pair, tests::side};
    use super::*;

    #[test]
    fn a_chart_with_nothing_measured_is_not_drawn_and_an_old_one_goes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("epoch_ratio.png"), "an earlier run's").unwrap();
        let train = Case::Train { arch: "res_net18".into(), size: 96, batch: 64, numerics: Numerics::FP32 };
        let infer = Case::Infer { arch: "res_net18".into(), size: 96, batch: 64, numerics: Numerics::FP32 };
        let run = [(train, 90.0), (infer, 3.0)];
        write(dir.path(), &pair(&side(&run), &side(&run))).unwrap();
        let written = |stem: &str| dir.path().join(format!("{stem}.png")).is_file();
        assert!(written("train_ratio") && written("infer_ratio") && dir.path().join("bench.json").is_file());
        assert!(!written("epoch_ratio") && !written("text_ratio"));
    }
}
