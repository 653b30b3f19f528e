//! What the numbers say, in tables and sentences computed from a run's results.
use super::html::{ci, esc, p_value, pct, table, Html};
use super::names::shown;
use crate::experiments::{part1, part2};
use crate::train::StopReason;
use crate::Profile;

mod faces;
mod reviews;
#[cfg(test)]
mod tests;

pub use faces::*;
pub use reviews::*;

/// How a paired test reads: its verdict, and the seed notes behind it. Where the test paired one
/// run of each (one side ran at one seed only) and the other side ran at several, the gap is also
/// read against that side's spread over its seeds, which the test cannot see: within twice its
/// standard deviation, a gap at one seed says little.
fn paired_reading(
    c: &crate::eval::metrics::PairedTest,
    spread: &[crate::eval::spread::Spread],
) -> (&'static str, Vec<String>) {
    let seeds = |name: &str| spread.iter().find(|s| s.row == name && s.seeds.len() > 1).filter(|_| c.pairs == 1);
    let (sa, sb) = (seeds(&c.a), seeds(&c.b));
    let (mean_a, mean_b) = (sa.map_or(c.a_accuracy, |s| s.test_mean), sb.map_or(c.b_accuracy, |s| s.test_mean));
    let sd = sa.iter().chain(sb.iter()).map(|s| s.test_sd).fold(0.0, f64::max);
    let within_seeds = (sa.is_some() || sb.is_some()) && (mean_a - mean_b).abs() < 2.0 * sd;
    let verdict = match (c.p_value < 0.05, within_seeds) {
        (true, false) => "a real difference (5% level)",
        (true, true) => "real at this seed only: within the seed spread",
        (false, _) => "within noise (5% level)",
    };
    // a note where the spread over seeds changes the reading
    let notes = [(sa, mean_b), (sb, mean_a)]
        .into_iter()
        .filter(|_| within_seeds && c.p_value < 0.05)
        .filter_map(|(s, other)| {
            let s = s?;
            Some(format!(
                "Over its seeds {} scores {}, {:.1} points from the other's {:.1}%.",
                shown(&s.row),
                super::seeds::pct_sd(s.test_mean, s.test_sd),
                ((s.test_mean - other) * 100.0).abs(),
                other * 100.0
            ))
        })
        .collect();
    (verdict, notes)
}

/// The paired tests of a part as a table (one row per pair: accuracies, the samples only one of
/// them got right, McNemar's exact p, the reading), with the seed notes below it.
fn paired_table(tests: &[crate::eval::metrics::PairedTest], spread: &[crate::eval::spread::Spread]) -> String {
    if tests.is_empty() {
        return String::new();
    }
    let mut notes = Vec::new();
    let rows: Vec<Vec<String>> = tests
        .iter()
        .map(|c| {
            let (verdict, seed_notes) = paired_reading(c, spread);
            notes.extend(seed_notes);
            let mean = if c.pairs > 1 { format!("mean of {} seeds: ", c.pairs) } else { String::new() };
            let pooled = if c.pairs > 1 { format!(" ({} seed pairs)", c.pairs) } else { String::new() };
            vec![
                format!("{} vs {}", shown(&c.a), shown(&c.b)),
                format!("{mean}{} vs {}", pct(c.a_accuracy), pct(c.b_accuracy)),
                format!("{} vs {}", c.only_a, c.only_b),
                format!("{}{pooled}", p_value(c.p_value)),
                verdict.to_string(),
            ]
        })
        .collect();
    let header = ["on the same test images", "test accuracy", "right only by one", "McNemar exact", "reading"];
    let mut h = table(&header, &rows).0;
    for n in notes {
        h += &format!("<p class=\"caption\">{}</p>", esc(&n));
    }
    h
}

/// The device a run trained on, as a reader names it ("CPU", "CUDA 0", "MPS"), with the machine
/// where it was recorded.
pub fn device_label(device: &str, machine: &str) -> String {
    let name = match device {
        "Cpu" => "CPU".to_string(),
        "Mps" => "Apple MPS".to_string(),
        d => d.strip_prefix("Cuda(").and_then(|x| x.strip_suffix(')')).map_or(d.to_string(), |i| format!("CUDA {i}")),
    };
    if machine.is_empty() {
        name
    } else {
        format!("{name} ({machine})")
    }
}

/// Which columns of a results table to show: a slide holds about six, so each table is one
/// view of the rows (the notebook shows all of them, the deck one per slide).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Columns {
    /// What the rows score on test.
    Accuracy,
    /// What a row costs to keep and to run: size, FLOPs, latency.
    Cost,
    /// How it was trained: input size, epochs, seconds, our speed against PyTorch's.
    Training,
}

/// Epochs run and, when training ended on a budget rather than a plateau, which: "12 (epoch cap)".
fn epochs_stopped(epochs: usize, stop: Option<StopReason>) -> String {
    match stop {
        Some(s) => format!("{epochs} ({})", s.name()),
        None => epochs.to_string(),
    }
}

/// Where the kept checkpoint sits in epochs: "12", or "0.75" where it was taken mid-epoch
/// (evaluations several times an epoch), so a reader does not take it for a whole epoch.
fn kept_epoch(history: &[crate::train::EpochRecord], kept: Option<usize>, best_epoch: usize) -> String {
    match crate::train::EpochRecord::kept(history, kept) {
        Some(k) if k.progress.fract() > 1e-9 => format!("{:.2}", k.progress),
        _ => best_epoch.to_string(),
    }
}

fn or_dash(x: Option<String>) -> String {
    x.unwrap_or_else(|| "-".into())
}

/// A table view: its header and how a row fills it.
type View<R> = (&'static [&'static str], fn(&R) -> Vec<String>);

/// A takeaway paragraph: `s` escaped, styled as the sentence that leads a slide.
pub(crate) fn sentence(s: String) -> Html {
    Html(format!("<p class=\"takeaway\">{}</p>", esc(&s)))
}

/// A takeaway with its details: the short sentence an audience reads (bold), then the details a
/// reader checks it by, in regular type, so that no slide leads with a paragraph in bold.
pub(crate) fn lead(headline: String, detail: String) -> Html {
    Html(format!("<p class=\"takeaway\">{}</p><p class=\"detail\">{}</p>", esc(&headline), esc(&detail)))
}

/// How a training curve ends, in one sentence: train and validation accuracy at the last
/// evaluation, and whether validation was still improving when training stopped (its best
/// evaluation is the last) or which evaluation's weights were kept.
pub fn curves_takeaway(
    history: &[crate::train::EpochRecord],
    kept: Option<usize>,
    stopped_by: Option<StopReason>,
) -> Html {
    let Some(last) = crate::train::EpochRecord::last_whole(history) else {
        return sentence("No training history.".into());
    };
    let at = if std::ptr::eq(last, &history[history.len() - 1]) { "at the end" } else { "at the last whole epoch" };
    let best = history
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.valid_accuracy.total_cmp(&b.1.valid_accuracy))
        .map(|(i, _)| i + 1)
        .unwrap_or(1);
    let improving = best == history.len();
    let end = match (stopped_by, kept) {
        (Some(StopReason::Plateau), Some(k)) => {
            format!("stopped on a plateau, kept evaluation {} of {}", k + 1, history.len())
        }
        (Some(cap), _) if improving => format!("stopped on its {} with validation still improving", cap.name()),
        (Some(cap), Some(k)) => {
            format!("stopped on its {}, kept evaluation {} of {}", cap.name(), k + 1, history.len())
        }
        _ if improving => "validation still improving when stopped".to_string(),
        (_, Some(k)) => format!("kept evaluation {} of {}", k + 1, history.len()),
        (_, None) => format!("validation peaked at evaluation {best} of {}", history.len()),
    };
    sentence(format!("Train {} vs validation {} {at}; {end}.", pct(last.train_accuracy), pct(last.valid_accuracy)))
}

/// How training ended, as a phrase: "on a plateau", "on its epoch cap".
pub fn stopped_phrase(s: StopReason) -> &'static str {
    match s {
        StopReason::Plateau => "on a plateau",
        StopReason::EpochCap => "on its epoch cap",
        StopReason::TimeCap => "on its time cap",
    }
}

/// " (seeds 42, 43, 44: 47.2% ± 1.1)" where row `name` ran at several seeds, else nothing.
fn over_seeds(spread: &[crate::eval::spread::Spread], name: &str) -> String {
    spread.iter().find(|s| s.row == name).map_or_else(String::new, |s| {
        let seeds: Vec<String> = s.seeds.iter().map(u64::to_string).collect();
        format!(" (seeds {}: {})", seeds.join(", "), super::seeds::pct_sd(s.test_mean, s.test_sd))
    })
}
