//! Input size chosen on validation: an EmotionNet trains at each candidate size of the plan, and
//! the size whose kept checkpoint scores best on validation becomes the row (test is read for
//! that one only). The trials stay in the row as the evidence.
use crate::train::{Monitor, StopReason, TrainOutcome};
use serde::{Deserialize, Serialize};

/// One training of a row at one candidate input size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizeTrial {
    pub image_size: u32,
    /// Validation accuracy and loss at the trial's kept checkpoint.
    pub valid_accuracy: f64,
    pub valid_loss: f64,
    pub epochs: usize,
    pub best_epoch: usize,
    pub train_seconds: f64,
    pub stopped_by: StopReason,
    pub chosen: bool,
}

impl SizeTrial {
    pub fn of(image_size: u32, o: &TrainOutcome) -> SizeTrial {
        let kept = &o.history[o.best_eval];
        SizeTrial {
            image_size,
            valid_accuracy: kept.valid_accuracy,
            valid_loss: kept.valid_loss,
            epochs: o.epochs(),
            best_epoch: o.best_epoch,
            train_seconds: o.train_seconds,
            stopped_by: o.stop,
            chosen: false,
        }
    }
}

/// Index of the trial to keep: the best validation score by the row's monitor (the same rule
/// that picks checkpoints), the smaller input on a tie (it is cheaper to run).
pub fn choose(trials: &[SizeTrial], monitor: Monitor) -> usize {
    let key = |t: &SizeTrial| {
        let (a, b) = monitor.score(t.valid_accuracy, t.valid_loss);
        (a, b, -(t.image_size as f64))
    };
    (0..trials.len())
        .max_by(|&i, &j| key(&trials[i]).partial_cmp(&key(&trials[j])).unwrap_or(std::cmp::Ordering::Equal))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trial(size: u32, acc: f64, loss: f64) -> SizeTrial {
        SizeTrial {
            image_size: size,
            valid_accuracy: acc,
            valid_loss: loss,
            epochs: 1,
            best_epoch: 1,
            train_seconds: 1.0,
            stopped_by: StopReason::Plateau,
            chosen: false,
        }
    }

    #[test]
    fn the_best_validation_score_wins_and_ties_go_to_the_smaller_input() {
        use Monitor::{ValidAccuracy as Acc, ValidLoss as Loss};
        type Case<'a> = (&'a str, Monitor, &'a [(u32, f64, f64)], u32);
        #[rustfmt::skip]
        let cases: &[Case] = &[
            ("lower loss", Loss, &[(48, 0.50, 1.30), (64, 0.48, 1.25)], 64),
            ("higher accuracy", Acc, &[(48, 0.50, 1.30), (64, 0.48, 1.25)], 48),
            ("accuracy tie goes to the loss", Acc, &[(48, 0.50, 1.30), (64, 0.50, 1.20)], 64),
            ("a full tie goes to the smaller input", Loss, &[(64, 0.5, 1.2), (48, 0.5, 1.2)], 48),
            ("one candidate", Loss, &[(96, 0.1, 9.0)], 96),
        ];
        for (name, monitor, trials, want) in cases {
            let t: Vec<SizeTrial> = trials.iter().map(|&(s, a, l)| trial(s, a, l)).collect();
            assert_eq!(t[choose(&t, *monitor)].image_size, *want, "{name}");
        }
    }
}
