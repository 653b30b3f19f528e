//! Input size chosen on validation: an EmotionNet trains at each candidate size of the plan, and
//! the size whose kept checkpoint scores best on validation becomes the row (test is read for
//! that one only). The trials stay in the row as the evidence. With a comparison epoch
//! (`size_trial_epochs`) the sizes race: each trains that many epochs, they are compared there,
//! and only the chosen one goes on training (successive halving with one rung).
use crate::train::selection::Selection;
use crate::train::{cumulative_seconds, EpochRecord, Monitor, StopReason, TrainConfig, TrainOutcome};
use serde::{Deserialize, Serialize};

/// One training of a row at one candidate input size, as it stood when the sizes were compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizeTrial {
    pub image_size: u32,
    /// Validation accuracy and loss at the trial's kept checkpoint.
    pub valid_accuracy: f64,
    pub valid_loss: f64,
    pub epochs: usize,
    pub best_epoch: usize,
    pub train_seconds: f64,
    /// Why the trial had ended (None: it was still improving at the comparison epoch).
    pub stopped_by: Option<StopReason>,
    /// The epoch the sizes were compared at (None: each trained to its own end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compared_at_epoch: Option<usize>,
    pub chosen: bool,
}

impl SizeTrial {
    /// The trial `o` up to epoch `compared_at` (all of it with None): its kept evaluation by the
    /// run's own selection rule over those evaluations.
    pub fn of(image_size: u32, o: &TrainOutcome, cfg: &TrainConfig, compared_at: Option<usize>) -> SizeTrial {
        let seen: &[EpochRecord] = match compared_at {
            Some(e) => &o.history[..o.history.iter().take_while(|r| r.epoch <= e).count()],
            None => &o.history,
        };
        let mut selection = Selection::new(cfg, cfg.evals_per_epoch.max(1));
        seen.iter().for_each(|r| {
            selection.observe(r);
        });
        let kept = &seen[selection.best_eval().unwrap_or(0)];
        let whole = seen.len() == o.history.len() && !o.paused;
        SizeTrial {
            image_size,
            valid_accuracy: kept.valid_accuracy,
            valid_loss: kept.valid_loss,
            epochs: seen.last().map_or(0, |r| r.epoch),
            best_epoch: kept.epoch,
            train_seconds: cumulative_seconds(seen).last().copied().unwrap_or(0.0),
            stopped_by: whole.then_some(o.stop),
            compared_at_epoch: compared_at,
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
            stopped_by: Some(StopReason::Plateau),
            compared_at_epoch: None,
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

    #[test]
    fn a_trial_is_read_up_to_the_comparison_epoch_by_the_runs_own_rule() {
        let losses = [1.5, 1.4, 1.3, 1.35, 1.2, 1.1];
        let history: Vec<EpochRecord> = losses
            .iter()
            .enumerate()
            .map(|(i, &l)| EpochRecord {
                epoch: i + 1,
                progress: (i + 1) as f64,
                train_loss: 0.0,
                train_accuracy: 0.0,
                valid_loss: l,
                valid_accuracy: 0.1 * i as f64,
                lr: 0.0,
                seconds: 10.0,
                backbone_frozen: false,
                time: Default::default(),
            })
            .collect();
        let outcome = TrainOutcome {
            history,
            best_epoch: 6,
            best_eval: 5,
            train_seconds: 60.0,
            train_examples: 1,
            checkpoint: "x".into(),
            stop: StopReason::Plateau,
            numerics: Default::default(),
            paused: false,
            within: None,
        };
        let cfg = TrainConfig { monitor: Monitor::ValidLoss, ..Default::default() };
        let at4 = SizeTrial::of(48, &outcome, &cfg, Some(4));
        assert_eq!((at4.best_epoch, at4.epochs, at4.valid_loss, at4.train_seconds), (3, 4, 1.3, 40.0));
        assert_eq!((at4.stopped_by, at4.compared_at_epoch), (None, Some(4)), "still training at the comparison");
        let whole = SizeTrial::of(48, &outcome, &cfg, None);
        assert_eq!((whole.best_epoch, whole.epochs, whole.stopped_by), (6, 6, Some(StopReason::Plateau)));
        // a trial that ended before the comparison epoch says why
        let early = SizeTrial::of(48, &outcome, &cfg, Some(8));
        assert_eq!((early.epochs, early.stopped_by), (6, Some(StopReason::Plateau)));
        let paused = TrainOutcome { paused: true, ..outcome };
        assert_eq!(SizeTrial::of(48, &paused, &cfg, Some(6)).stopped_by, None);
    }
}
