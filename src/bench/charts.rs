//! Charts of the ratios ours / PyTorch: `train_ratio.png`, `infer_ratio.png`, `epoch_ratio.png`,
//! `text_ratio.png`, written beside `bench.json`.
use super::cases::Case;
use super::report::Bench;
use crate::error::Result;
use crate::numerics::Numerics;
use crate::report::plots::bar_chart_with_reference;
use std::path::Path;

/// Write `bench.json` and the ratio charts into `dir`.
pub fn write(dir: &Path, bench: &Bench) -> Result<()> {
    crate::atomic::write_json(&dir.join("bench.json"), bench)?;
    for (stem, title, keep) in [
        ("train_ratio", "Training speed, ours / PyTorch eager (batch 64, same threads)", is_train as fn(&Case) -> bool),
        ("infer_ratio", "Inference speed at batch 64, ours / PyTorch eager", is_infer64),
        ("epoch_ratio", "Training on the faces, data + steps, ours / PyTorch eager", is_epoch),
    ] {
        ratio_chart(bench, title, keep)?.save(dir, stem)?;
    }
    text_chart(bench)?.save(dir, "text_ratio")?;
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

fn ratio_chart(bench: &Bench, title: &str, keep: fn(&Case) -> bool) -> Result<crate::report::plots::Figure> {
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
}

fn text_chart(bench: &Bench) -> Result<crate::report::plots::Figure> {
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
    bar_chart_with_reference(
        "Text models: training speed, ours / PyTorch eager",
        &categories,
        &series,
        &[],
        ("PyTorch, same setting", 1.0),
        "ours / PyTorch (x)",
    )
}
