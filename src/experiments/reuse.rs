//! Reusing finished rows. A row of the results.json already in the run directory stands for a
//! new one when that file was written by this results layout under the same profile, seed and
//! plan, on the same test samples, and the row's checkpoint is still there. The CLI (`--reuse`)
//! and the notebooks share this rule.
use crate::config::run::{self, Run};
use crate::Profile;
use serde::{de::DeserializeOwned, Serialize};

/// What a part's results must tell about themselves to be reused.
pub trait PartResults: DeserializeOwned {
    type Plan: Serialize;
    const PART: &'static str;
    fn schema(&self) -> u32;
    fn profile(&self) -> Profile;
    fn seed(&self) -> u64;
    fn plan(&self) -> &Self::Plan;
    fn test_labels(&self) -> &[i64];
    /// Names of its rows, in order.
    fn row_names(&self) -> Vec<String>;
}

/// The results of an earlier invocation in `run`'s directory that match `run` and `plan`; None
/// (saying why on stderr) when there are none or they do not match, or when `run` does not reuse.
pub fn previous<R: PartResults>(run: &Run, plan: &R::Plan) -> Option<R> {
    if !run.config.reuse {
        return None;
    }
    let path = run.results_path(R::PART);
    let res: R = match run::load_results(&run.config.out, R::PART) {
        Ok(Some(res)) => res,
        Ok(None) => return None,
        Err(e) => {
            eprintln!("not reusing {}: {e}", path.display());
            return None;
        }
    };
    let why = if res.schema() != run::RESULTS_SCHEMA {
        Some(format!("written by results layout {} (now {})", res.schema(), run::RESULTS_SCHEMA))
    } else if res.profile() != run.config.profile || res.seed() != run.config.seed {
        Some(format!(
            "profile {} seed {} (now {} seed {})",
            res.profile(),
            res.seed(),
            run.config.profile,
            run.config.seed
        ))
    } else if serde_json::to_value(res.plan()).ok() != serde_json::to_value(plan).ok() {
        Some("another plan".to_string())
    } else {
        None
    };
    match why {
        Some(why) => {
            eprintln!("not reusing {}: {why}; training again", path.display());
            None
        }
        None => Some(res),
    }
}

/// Whether `previous`'s row `name` can stand for this run's: scored on the same test labels, and
/// its checkpoint is still in the run directory.
pub fn row_is_reusable<R: PartResults>(previous: &R, name: &str, test_labels: &[i64], run: &Run) -> bool {
    previous.test_labels() == test_labels
        && previous.row_names().iter().any(|n| n == name)
        && run.checkpoint(R::PART, name).is_file()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::run::RunConfig;
    use crate::experiments::part2::{Plan, Results};

    fn results(seed: u64, plan: &Plan) -> serde_json::Value {
        serde_json::json!({
            "schema": run::RESULTS_SCHEMA, "profile": "quick", "seed": seed, "device": "Cpu",
            "plan": plan, "test_examples": 0, "test_dates": null, "sources": [],
            "eda": {"correlation": {"names": [], "values": []},
                    "rating_distribution": {"labels": [], "counts": []},
                    "label_distribution": {"labels": [], "counts": []},
                    "test_label_distribution": {"labels": [], "counts": []}},
            "test_labels": [1, 0], "rows": [], "comparisons": []
        })
    }

    #[test]
    fn saved_results_are_reused_only_under_the_same_seed_and_plan() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = RunConfig::new(Profile::Quick, 42, "d".into(), dir.path().join("r"), tch::Device::Cpu);
        cfg.reuse = true;
        let r = Run::new(cfg, tch::Device::Cpu).unwrap();
        let now = Plan::for_profile(Profile::Quick, 42).unwrap();
        let write = |v: serde_json::Value| crate::atomic::write_json(&r.results_path("part2"), &v).unwrap();
        assert!(previous::<Results>(&r, &now).is_none(), "nothing saved yet");
        write(results(42, &now));
        assert!(previous::<Results>(&r, &now).is_some());
        write(results(7, &now));
        assert!(previous::<Results>(&r, &now).is_none(), "another seed");
        let older = Plan { max_len: 96, ..now.clone() };
        write(results(42, &older));
        assert!(previous::<Results>(&r, &now).is_none(), "another recipe");
        let mut old_schema = results(42, &now);
        old_schema["schema"] = 0.into();
        write(old_schema);
        assert!(previous::<Results>(&r, &now).is_none(), "an older results layout");
        write(results(42, &now));
        let no_reuse = Run::new(RunConfig { reuse: false, ..r.config.clone() }, tch::Device::Cpu).unwrap();
        assert!(previous::<Results>(&no_reuse, &now).is_none(), "not asked to reuse");
    }
}
