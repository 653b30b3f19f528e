//! Learning-rate schedules: the rate at each optimizer step.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// Linear warm-up over `warmup_frac` of the steps, then cosine decay to 0.
    WarmupCosine {
        warmup_frac: f64,
    },
    /// One-cycle: cosine rise from lr/25 to lr over `pct_start`, then cosine fall to lr/1e4.
    OneCycle {
        pct_start: f64,
    },
    Constant,
    /// Linear warm-up over `warmup_epochs`, then the peak rate, cut by `factor` each time
    /// validation goes `patience` epochs without a gain (reduce-on-plateau). The rate follows the
    /// run rather than its epoch cap, so early stopping (the run's own `patience`, which must be
    /// longer) ends training, not the cap.
    Plateau {
        warmup_epochs: f64,
        factor: f64,
        patience: usize,
    },
}

/// Where a run stands for its schedule: optimizer step `step` of at most `total`, `per_epoch`
/// steps an epoch, and the rate cuts a plateau schedule has made so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clock {
    pub step: usize,
    pub total: usize,
    pub per_epoch: usize,
    pub cuts: usize,
}

/// Cuts a reduce-on-plateau schedule has made after evaluations whose gains (whether each
/// improved the monitored metric) are `gains`: one each time `patience` evaluations pass
/// without a gain since the last gain or cut.
pub fn plateau_cuts(gains: &[bool], patience: usize) -> usize {
    let (mut cuts, mut since) = (0, 0);
    for &gain in gains {
        since = if gain { 0 } else { since + 1 };
        if since >= patience.max(1) {
            (cuts, since) = (cuts + 1, 0);
        }
    }
    cuts
}

impl Schedule {
    /// Learning rate at `at` for peak rate `lr`.
    pub fn lr_at(&self, lr: f64, at: Clock) -> f64 {
        let total = at.total.max(1) as f64;
        let t = at.step as f64;
        let cos =
            |a: f64, b: f64, frac: f64| b + (a - b) * 0.5 * (1.0 + (std::f64::consts::PI * frac.clamp(0.0, 1.0)).cos());
        match *self {
            Schedule::Constant => lr,
            Schedule::Plateau { warmup_epochs, factor, .. } => {
                let warm = (warmup_epochs * at.per_epoch as f64).max(1.0);
                lr * ((t + 1.0) / warm).min(1.0) * factor.powi(at.cuts as i32)
            }
            Schedule::WarmupCosine { warmup_frac } => {
                let warm = (warmup_frac * total).max(1.0);
                if t < warm {
                    lr * (t + 1.0) / warm
                } else {
                    cos(lr, 0.0, (t - warm) / (total - warm).max(1.0))
                }
            }
            Schedule::OneCycle { pct_start } => {
                let up = (pct_start * total).max(1.0);
                if t < up {
                    cos(lr / 25.0, lr, t / up)
                } else {
                    cos(lr, lr / 25.0 / 1e4, (t - up) / (total - up).max(1.0))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(step: usize, total: usize) -> Clock {
        Clock { step, total, per_epoch: 10, cuts: 0 }
    }

    #[test]
    fn schedules_have_the_right_shape() {
        let s = Schedule::WarmupCosine { warmup_frac: 0.1 };
        assert!((s.lr_at(1.0, at(9, 100)) - 1.0).abs() < 1e-12, "peak at end of warm-up");
        assert!(s.lr_at(1.0, at(0, 100)) < 0.2);
        assert!(s.lr_at(1.0, at(99, 100)) < 0.01);
        assert!(s.lr_at(1.0, at(50, 100)) < s.lr_at(1.0, at(30, 100)));
        let o = Schedule::OneCycle { pct_start: 0.3 };
        assert!((o.lr_at(1.0, at(0, 100)) - 0.04).abs() < 1e-12);
        assert!((o.lr_at(1.0, at(30, 100)) - 1.0).abs() < 1e-12);
        assert!(o.lr_at(1.0, at(100, 100)) < 1e-5);
    }

    #[test]
    fn the_plateau_schedule_warms_up_then_follows_its_cuts_not_the_cap() {
        let p = Schedule::Plateau { warmup_epochs: 0.5, factor: 0.2, patience: 2 };
        // 10 steps an epoch: warm-up over 5 steps
        assert!((p.lr_at(1.0, at(0, 100)) - 0.2).abs() < 1e-12);
        assert!((p.lr_at(1.0, at(4, 100)) - 1.0).abs() < 1e-12);
        assert_eq!(p.lr_at(1.0, at(99, 100)), 1.0, "the cap does not lower the rate");
        let cut = |cuts| p.lr_at(1.0, Clock { cuts, ..at(50, 100) });
        assert!((cut(1) - 0.2).abs() < 1e-12 && (cut(2) - 0.04).abs() < 1e-12);
    }

    #[test]
    fn cuts_count_patience_runs_without_a_gain() {
        let (g, n) = (true, false);
        #[rustfmt::skip]
        let cases: &[(&[bool], usize, usize)] = &[
            (&[g, g, g], 2, 0),
            (&[g, n, n], 2, 1),
            (&[g, n, n, n], 2, 1),
            (&[g, n, n, n, n], 2, 2),
            (&[g, n, g, n, n], 2, 1),
            (&[g, n, n, g, n, n], 2, 2),
            (&[g, n, n, n], 1, 3),
            (&[], 2, 0),
        ];
        for (gains, patience, want) in cases {
            assert_eq!(plateau_cuts(gains, *patience), *want, "{gains:?} patience {patience}");
        }
    }
}
