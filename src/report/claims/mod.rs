//! The original deck's claims about its results, checked against a run. Each claim is a page, the
//! original's words and a check that reads this run's results and returns a verdict with our numbers,
//! so another run or profile gets its own verdicts.
use super::html::{esc, pct, Html};
use crate::experiments::{part1, part2};

mod faces;
mod reviews;
#[cfg(test)]
mod tests;
use crate::train::EpochRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Reproduced,
    Partly,
    NotReproduced,
    /// The run has no row to check it with (say, weights not installed).
    NotTested,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Verdict::Reproduced => "reproduced",
            Verdict::Partly => "partly",
            Verdict::NotReproduced => "not reproduced",
            Verdict::NotTested => "not tested here",
        }
    }
}

/// One claim with its verdict and the evidence from the run.
#[derive(Debug, Clone)]
pub struct Checked {
    pub page: &'static str,
    pub claim: &'static str,
    pub verdict: Verdict,
    pub evidence: String,
}

struct Claim<R> {
    page: &'static str,
    claim: &'static str,
    check: fn(&R) -> (Verdict, String),
}

/// The class a confusion matrix (rows true, columns predicted) predicts most, and its share.
pub fn most_predicted(confusion: &[Vec<u64>]) -> (usize, f64) {
    let n = confusion.len();
    let predicted: Vec<u64> = (0..n).map(|j| confusion.iter().map(|row| row[j]).sum()).collect();
    let total: u64 = predicted.iter().sum();
    let (class, count) = predicted.iter().enumerate().max_by_key(|(_, c)| **c).map(|(i, c)| (i, *c)).unwrap_or((0, 0));
    (class, count as f64 / total.max(1) as f64)
}

/// How a training history ends: train minus validation accuracy at the last evaluation with whole
/// training numbers ([`crate::train::EpochRecord::last_whole`]), and the
/// epoch (1-based position) with the lowest validation loss.
struct Ending {
    gap: f64,
    train: f64,
    valid: f64,
    lowest_loss_at: usize,
    evaluations: usize,
}

fn ending(h: &[EpochRecord]) -> Option<Ending> {
    let last = crate::train::EpochRecord::last_whole(h)?;
    let lowest = h.iter().enumerate().min_by(|a, b| a.1.valid_loss.total_cmp(&b.1.valid_loss))?.0 + 1;
    Some(Ending {
        gap: last.train_accuracy - last.valid_accuracy,
        train: last.train_accuracy,
        valid: last.valid_accuracy,
        lowest_loss_at: lowest,
        evaluations: h.len(),
    })
}

/// A share of predictions above which a classifier is said to have collapsed to one class.
pub(crate) const COLLAPSED: f64 = 0.9;
/// Train minus validation accuracy (fraction) from which we call the gap overfitting.
const OVERFIT_GAP: f64 = 0.10;

fn check_all<R>(claims: &[Claim<R>], r: &R) -> Vec<Checked> {
    claims
        .iter()
        .map(|c| {
            let (verdict, evidence) = (c.check)(r);
            Checked { page: c.page, claim: c.claim, verdict, evidence }
        })
        .collect()
}

pub fn part1_claims(r: &part1::Results) -> Vec<Checked> {
    check_all(faces::PART1, r)
}

pub fn part2_claims(r: &part2::Results) -> Vec<Checked> {
    check_all(reviews::PART2, r)
}

/// How many claims a slide holds.
pub const PER_SLIDE: usize = 8;

/// The claims as a four-column table: the original deck's page and claim, verdict, our evidence.
pub fn claims_table(claims: &[Checked]) -> Html {
    let mut h = String::from(
        "<table class=\"claims\"><thead><tr><th>page</th><th>the original deck says</th><th>here</th><th>this run's numbers</th></tr></thead><tbody>",
    );
    for c in claims {
        h += &format!(
            "<tr><td>{}</td><td>{}</td><td class=\"verdict {}\">{}</td><td>{}</td></tr>",
            esc(c.page),
            esc(c.claim),
            c.verdict.label().replace(' ', "-"),
            c.verdict.label(),
            esc(&c.evidence)
        );
    }
    Html(h + "</tbody></table>")
}

/// Whether a claim's page ("26", "24-25", "32, 42", "curves") covers `key` (a page number or a
/// section name).
fn covers(page: &str, key: &str) -> bool {
    page.split(", ").any(|part| match (part.split_once('-'), key.parse::<u32>()) {
        (Some((a, b)), Ok(k)) => a.parse::<u32>().is_ok_and(|a| a <= k) && b.parse::<u32>().is_ok_and(|b| k <= b),
        _ => part == key,
    })
}

/// For the speaker notes of the slide that covers the original deck's page `key`: its claims
/// there with this run's verdicts, so a presenter reading the original's words sees where this
/// run disagrees. Empty where the page makes no checked claim.
pub fn said_on(claims: &[Checked], key: &str) -> Html {
    let items: String = claims
        .iter()
        .filter(|c| covers(c.page, key))
        .map(|c| {
            format!("<li>\u{201c}{}\u{201d}: <b>{}</b>. {}.</li>", esc(c.claim), c.verdict.label(), esc(&c.evidence))
        })
        .collect();
    if items.is_empty() {
        return Html(String::new());
    }
    Html(format!("<p><b>Checked against this run:</b></p><ul>{items}</ul>"))
}

/// [`said_on`] for Part 1's claims.
pub fn part1_said(r: &part1::Results, key: &str) -> Html {
    said_on(&part1_claims(r), key)
}

/// [`said_on`] for Part 2's claims.
pub fn part2_said(r: &part2::Results, key: &str) -> Html {
    said_on(&part2_claims(r), key)
}
