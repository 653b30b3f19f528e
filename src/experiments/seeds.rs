//! Rows trained at more than one seed: which rows and which seeds (a plan value, set by a
//! profile or by `--seeds`), and the names their runs are stored under.
use crate::config::plan_check::Checks;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedPlan {
    /// Seeds run besides the run's own (`--seeds 42,43,44` runs at 42 and sets these to 43, 44).
    pub extra: Vec<u64>,
    /// Rows run at the extra seeds too, by row name or model name (empty: every row).
    pub rows: Vec<String>,
}

impl SeedPlan {
    /// The extra seeds of a row known by `names` (its row name, its model name), in plan order,
    /// without the run's own seed `first` or repeats.
    pub fn extra_for(&self, names: &[&str], first: u64) -> Vec<u64> {
        if !self.rows.is_empty() && !self.rows.iter().any(|r| names.contains(&r.as_str())) {
            return Vec::new();
        }
        let mut out: Vec<u64> = Vec::new();
        for &s in &self.extra {
            if s != first && !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }

    /// `rows` names only rows of the part (`known`: every row and model name).
    pub fn check(&self, key: &str, known: &[String], c: &mut Checks) {
        for r in &self.rows {
            c.that(known.contains(r), || format!("{key}.rows names `{r}`, which is no row or model of this part"));
        }
    }
}

/// The name a row's run at a seed other than the run's own is stored under (checkpoint file,
/// reuse).
pub fn run_key(row: &str, seed: u64) -> String {
    format!("{row}_seed{seed}")
}

/// The name a row's run at `seed` is stored under when the run's own seed is `run_seed`: the
/// row's own name at the run's seed, else [`run_key`].
pub fn key_at(row: &str, seed: u64, run_seed: u64) -> String {
    if seed == run_seed {
        row.to_string()
    } else {
        run_key(row, seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_seeds_per_row() {
        let all = SeedPlan { extra: vec![43, 42, 44, 43], rows: vec![] };
        assert_eq!(all.extra_for(&["resnet18"], 42), vec![43, 44]);
        let some = SeedPlan { extra: vec![43, 44], rows: vec!["emotionnet_v2".into(), "bilstm".into()] };
        assert_eq!(some.extra_for(&["emotionnet_v2"], 42), vec![43, 44]);
        assert_eq!(some.extra_for(&["bilstm_imdb", "bilstm"], 42), vec![43, 44]);
        assert!(some.extra_for(&["resnet18"], 42).is_empty());
        assert!(SeedPlan::default().extra_for(&["x"], 42).is_empty());
        assert_eq!(run_key("emotionnet_v2", 43), "emotionnet_v2_seed43");
        assert_eq!(key_at("emotionnet_v2", 43, 42), "emotionnet_v2_seed43");
        assert_eq!(key_at("emotionnet_v2", 42, 42), "emotionnet_v2");
    }

    #[test]
    fn unknown_rows_are_named() {
        let mut c = Checks::default();
        let p = SeedPlan { extra: vec![1], rows: vec!["emotionet_v2".into()] };
        p.check("part1.seeds", &["emotionnet_v2".into()], &mut c);
        let e = c.finish("bad").unwrap_err().to_string();
        assert!(e.contains("part1.seeds.rows names `emotionet_v2`"), "{e}");
    }
}
