//! Range checks on a plan before anything runs: a value that would crash a worker thread, train on
//! nothing or be silently clamped (batch size 0, a negative rotation, crop scales out of order) is
//! an error naming its key, as `--plan` and results.json spell it.
use crate::error::{Error, Result};
use std::fmt::Display;

#[derive(Debug, Default)]
pub struct Checks {
    problems: Vec<String>,
}

impl Checks {
    /// `ok`, else the problem `msg` (which names the key).
    pub fn that(&mut self, ok: bool, msg: impl FnOnce() -> String) {
        if !ok {
            self.problems.push(msg());
        }
    }

    pub fn at_least<T: PartialOrd + Display + Copy>(&mut self, key: &str, v: T, min: T) {
        self.that(v >= min, || format!("{key} must be at least {min}, got {v}"));
    }

    /// `lo <= v <= hi`, and finite.
    pub fn within(&mut self, key: &str, v: f64, lo: f64, hi: f64) {
        self.that(v.is_finite() && lo <= v && v <= hi, || format!("{key} must be in [{lo}, {hi}], got {v}"));
    }

    /// A cap that is set must keep at least one item.
    pub fn cap(&mut self, key: &str, v: Option<usize>) {
        self.that(v != Some(0), || format!("{key} is 0: nothing would be used (null means no cap)"));
    }

    pub fn finish(self, what: &str) -> Result<()> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Config(format!("{what}: {}", self.problems.join("; "))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_reported_with_its_key() {
        let mut c = Checks::default();
        c.at_least("p.epochs", 0usize, 1);
        c.within("p.flip_prob", 1.5, 0.0, 1.0);
        c.within("p.lr", f64::NAN, 0.0, 1.0);
        c.cap("p.max_test", Some(0));
        c.cap("p.max_valid", None);
        c.at_least("p.batch_size", 8usize, 1);
        let err = c.finish("part1 plan").unwrap_err().to_string();
        for key in ["p.epochs must be at least 1, got 0", "p.flip_prob", "p.lr", "p.max_test is 0"] {
            assert!(err.contains(key), "{key} missing in {err}");
        }
        assert!(!err.contains("max_valid") && !err.contains("batch_size"), "{err}");
        assert!(Checks::default().finish("x").is_ok());
    }
}
