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
}

impl Schedule {
    /// Learning rate at `step` of `total` for peak rate `lr`.
    pub fn lr_at(&self, lr: f64, step: usize, total: usize) -> f64 {
        let total = total.max(1) as f64;
        let t = step as f64;
        let cos =
            |a: f64, b: f64, frac: f64| b + (a - b) * 0.5 * (1.0 + (std::f64::consts::PI * frac.clamp(0.0, 1.0)).cos());
        match *self {
            Schedule::Constant => lr,
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

    #[test]
    fn schedules_have_the_right_shape() {
        let s = Schedule::WarmupCosine { warmup_frac: 0.1 };
        assert!((s.lr_at(1.0, 9, 100) - 1.0).abs() < 1e-12, "peak at end of warm-up");
        assert!(s.lr_at(1.0, 0, 100) < 0.2);
        assert!(s.lr_at(1.0, 99, 100) < 0.01);
        assert!(s.lr_at(1.0, 50, 100) < s.lr_at(1.0, 30, 100));
        let o = Schedule::OneCycle { pct_start: 0.3 };
        assert!((o.lr_at(1.0, 0, 100) - 0.04).abs() < 1e-12);
        assert!((o.lr_at(1.0, 30, 100) - 1.0).abs() < 1e-12);
        assert!(o.lr_at(1.0, 100, 100) < 1e-5);
    }
}
