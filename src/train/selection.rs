//! Which evaluation's weights are kept, and when training stops early.
use super::config::{Monitor, TrainConfig};
use super::EpochRecord;

/// What one evaluation means for the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Its weights are the best so far: checkpoint them.
    pub keep: bool,
    /// Patience ran out: stop training.
    pub stop: bool,
    /// The monitored metric itself improved (a tie-break win is kept but is no gain).
    pub gain: bool,
}

/// Best-checkpoint selection on the monitored validation metric, with patience counted in
/// epochs (`patience` epochs' worth of evaluations without a gain in the metric itself).
#[derive(Debug, Clone)]
pub struct Selection {
    monitor: Monitor,
    patience: Option<usize>,
    evals_per_epoch: usize,
    seen: usize,
    best: Option<Best>,
}

#[derive(Debug, Clone, Copy)]
struct Best {
    eval: usize,
    /// (monitored metric, tie-breaker), higher is better.
    score: (f64, f64),
    /// The last evaluation that improved the monitored metric itself.
    last_gain: usize,
}

impl Selection {
    pub fn new(cfg: &TrainConfig, evals_per_epoch: usize) -> Self {
        Selection { monitor: cfg.monitor, patience: cfg.patience, evals_per_epoch, seen: 0, best: None }
    }

    /// Judge the next evaluation.
    pub fn observe(&mut self, rec: &EpochRecord) -> Verdict {
        // e.g. an annealed end wins over a mid-epoch checkpoint of the same accuracy
        let score = self.monitor.score(rec.valid_accuracy, rec.valid_loss);
        let at = self.seen;
        self.seen += 1;
        let keep = self.best.is_none_or(|b| score > b.score);
        let gain = self.best.is_none_or(|b| score.0 > b.score.0);
        if keep {
            // patience counts from gains in the monitored metric itself, not from tie-breaks
            let last_gain = match self.best {
                Some(b) if score.0 <= b.score.0 => b.last_gain,
                _ => at,
            };
            self.best = Some(Best { eval: at, score, last_gain });
        }
        let stop = match (self.patience, self.best) {
            (Some(p), Some(b)) => at - b.last_gain >= p * self.evals_per_epoch,
            _ => false,
        };
        Verdict { keep, stop, gain }
    }

    pub fn evals_per_epoch(&self) -> usize {
        self.evals_per_epoch
    }

    /// Index of the evaluation whose weights were kept (None before any evaluation).
    pub fn best_eval(&self) -> Option<usize> {
        self.best.map(|b| b.eval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(acc: f64, loss: f64) -> EpochRecord {
        EpochRecord {
            epoch: 1,
            progress: 1.0,
            train_loss: 0.0,
            train_accuracy: 0.0,
            valid_loss: loss,
            valid_accuracy: acc,
            lr: 0.0,
            seconds: 0.0,
            backbone_frozen: false,
            time: Default::default(),
        }
    }

    #[test]
    fn the_kept_record_is_the_named_evaluation_never_a_guess() {
        let history = [rec(0.4, 1.0), rec(0.6, 0.9), rec(0.5, 0.8)];
        assert_eq!(EpochRecord::kept(&history, Some(1)).map(|r| r.valid_accuracy), Some(0.6));
        assert!(EpochRecord::kept(&history, None).is_none(), "no kept evaluation named: none, not the last");
        assert!(EpochRecord::kept(&history, Some(3)).is_none());
        let s = crate::eval::spread::SeedResult::kept(42, 0.5, &history, Some(0));
        assert_eq!((s.valid, s.test), (0.4, 0.5));
        assert!(crate::eval::spread::SeedResult::kept(42, 0.5, &history, None).valid.is_nan());
    }

    /// (kept evaluation, evaluation at which it stopped) for a sequence of (accuracy, loss).
    fn run(
        monitor: Monitor,
        patience: Option<usize>,
        per_epoch: usize,
        evals: &[(f64, f64)],
    ) -> (usize, Option<usize>) {
        let cfg = TrainConfig { monitor, patience, ..Default::default() };
        let mut s = Selection::new(&cfg, per_epoch);
        let stopped = evals.iter().position(|&(a, l)| s.observe(&rec(a, l)).stop);
        (s.best_eval().unwrap(), stopped)
    }

    /// Name, monitor, patience, evaluations per epoch, (accuracy, loss) per evaluation, and the
    /// expected (kept evaluation, stopping evaluation).
    type Case<'a> = (&'a str, Monitor, Option<usize>, usize, &'a [(f64, f64)], (usize, Option<usize>));

    #[test]
    fn kept_evaluation_and_stopping_point() {
        use Monitor::{ValidAccuracy as Acc, ValidLoss as Loss};
        #[rustfmt::skip]
        let cases: &[Case] = &[
            ("accuracy ties go to the lower loss", Acc, None, 1, &[(0.768, 0.535), (0.768, 0.482), (0.768, 0.490)], (1, None)),
            ("accuracy first", Acc, None, 1, &[(0.70, 0.3), (0.71, 0.9)], (1, None)),
            ("loss first", Loss, None, 1, &[(0.70, 0.3), (0.71, 0.9)], (0, None)),
            ("loss ties go to accuracy", Loss, None, 1, &[(0.70, 0.3), (0.72, 0.3)], (1, None)),
            ("no patience never stops", Loss, None, 1, &[(0.5, 0.5), (0.5, 0.6), (0.5, 0.7), (0.5, 0.8)], (0, None)),
            ("patience 2 stops two evaluations after the best", Loss, Some(2), 1, &[(0.5, 0.5), (0.5, 0.6), (0.5, 0.7), (0.5, 0.4)], (0, Some(2))),
            ("a gain resets patience", Loss, Some(2), 1, &[(0.5, 0.5), (0.5, 0.6), (0.5, 0.4), (0.5, 0.6), (0.5, 0.7)], (2, Some(4))),
            // a tie-break win is kept but does not reset patience
            ("tie-breaks do not reset patience", Acc, Some(1), 1, &[(0.8, 0.5), (0.8, 0.4), (0.8, 0.3)], (1, Some(1))),
            ("patience counts epochs", Loss, Some(1), 3, &[(0.5, 0.5), (0.5, 0.6), (0.5, 0.6), (0.5, 0.6), (0.5, 0.6)], (0, Some(3))),
        ];
        for (name, monitor, patience, per_epoch, evals, want) in cases {
            assert_eq!(run(*monitor, *patience, *per_epoch, evals), *want, "{name}");
        }
    }

    #[test]
    fn the_first_evaluation_is_always_kept() {
        let mut s = Selection::new(&TrainConfig::default(), 1);
        assert_eq!(s.best_eval(), None);
        assert_eq!(s.observe(&rec(0.0, f64::MAX)), Verdict { keep: true, stop: false, gain: true });
        assert_eq!(s.best_eval(), Some(0));
        assert_eq!(s.observe(&rec(0.0, 1.0)), Verdict { keep: true, stop: false, gain: true });
        assert_eq!(s.best_eval(), Some(1));
        assert_eq!(s.observe(&rec(0.1, 1.0)), Verdict { keep: true, stop: false, gain: false }, "a tie-break");
    }
}
