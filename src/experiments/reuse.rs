//! One configuration per run directory, and reusing its finished rows. A part's results.json
//! already in the run directory belongs to the same configuration when it was written by this
//! results layout under the same profile, seed and plan, on the same test samples; another
//! configuration is refused (or cleared with `--fresh`). A row of the same configuration whose
//! checkpoint is still there is kept, and with `--reuse` not trained again. The CLI and the
//! notebooks share these rules.
use crate::config::json_diff;
use crate::config::run::{self, PartResults, Run};
use crate::error::{Error, Result};
use serde_json::Value;

/// What becomes of one row of the part.
pub enum Earlier<Row> {
    /// Take the earlier invocation's row as it is.
    Keep(Row),
    Train,
    /// Not asked for, and not there from before.
    Leave,
}

/// Row `name` of this run, given the earlier results of the same configuration: a row not asked
/// for this time is kept from before; one asked for is trained, unless `--reuse` finds it done.
pub fn earlier<R: PartResults>(previous: Option<&R>, name: &str, wanted: bool, run: &Run) -> Earlier<R::Row> {
    let done = previous.filter(|_| run.checkpoint(R::PART, name).is_file()).and_then(|p| p.find_row(name));
    match (wanted, done) {
        (true, Some(row)) if run.config.reuse => {
            eprintln!("[{name}] reused from {}", run.results_path(R::PART).display());
            Earlier::Keep(row.clone())
        }
        (true, _) => Earlier::Train,
        (false, Some(row)) => Earlier::Keep(row.clone()),
        (false, None) => Earlier::Leave,
    }
}

/// What a run directory already holds for a part.
pub enum Prior<R> {
    Empty,
    /// Results of the same configuration: their rows can be kept or reused.
    Same(R),
    /// Something else: another configuration (the differences), or a file that cannot be read.
    Other(String),
}

/// Compare the part's results in `run`'s directory with `run`, `plan` and, once the data is
/// loaded, this run's results header `now` (its data and test labels).
pub fn prior<R: PartResults>(run: &Run, plan: &R::Plan, now: Option<&R>) -> Prior<R> {
    let res: R = match run::load_results(&run.config.out, R::PART) {
        Ok(Some(res)) => res,
        Ok(None) => return Prior::Empty,
        Err(e) => return Prior::Other(format!("unreadable: {e}")),
    };
    let mut diff = Vec::new();
    if res.schema() != run::RESULTS_SCHEMA {
        diff.push(format!("results layout {} -> {}", res.schema(), run::RESULTS_SCHEMA));
    }
    if res.profile() != run.config.profile {
        diff.push(format!("profile {} -> {}", res.profile(), run.config.profile));
    }
    if res.seed() != run.config.seed {
        diff.push(format!("seed {} -> {}", res.seed(), run.config.seed));
    }
    if res.device() != run.config.device {
        diff.push(format!("device {} -> {}", res.device(), run.config.device));
    }
    let (old, new) = (serde_json::to_value(res.plan()).ok(), serde_json::to_value(plan).ok());
    let null = Value::Null;
    let changed = json_diff::changes(R::PART, old.as_ref().unwrap_or(&null), new.as_ref().unwrap_or(&null));
    diff.extend(json_diff::first(changed.iter().map(|c| c.to_string()).collect(), 5, "plan values"));
    if let Some(now) = now {
        if now.test_labels() != res.test_labels() {
            diff.push("the test data".into());
        } else if now.data() != res.data() {
            diff.push("the training data".into());
        }
    }
    if diff.is_empty() {
        Prior::Same(res)
    } else {
        Prior::Other(diff.join("; "))
    }
}

/// Begin a part in `run`'s directory: under `--fresh` clear what an earlier invocation left;
/// refuse a directory that holds another configuration (its rows, figures and checkpoints would
/// mix with this run's); else the earlier results, whose rows this run keeps or reuses.
pub fn begin<R: PartResults>(run: &Run, plan: &R::Plan, now: &R) -> Result<Option<R>> {
    let dir = run.part_dir(R::PART);
    if run.config.fresh {
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            eprintln!("--fresh: cleared {}", dir.display());
        }
        return Ok(None);
    }
    match prior::<R>(run, plan, Some(now)) {
        Prior::Empty => Ok(None),
        Prior::Same(res) => {
            let stray = crate::config::manifest::unlisted(&dir)?;
            if !stray.is_empty() {
                eprintln!(
                    "{}: not in its manifest (left by an invocation stopped between two writes; replaced as rows finish): {}",
                    dir.display(),
                    stray.join(", ")
                );
            }
            Ok(Some(res))
        }
        Prior::Other(what) => Err(refusal::<R>(run, &what)),
    }
}

/// Refuse before anything runs when `run`'s directory holds another configuration of this part
/// (the data is compared later, in [`begin`]).
pub fn refuse_another<R: PartResults>(run: &Run, plan: &R::Plan) -> Result<()> {
    match prior::<R>(run, plan, None) {
        Prior::Other(what) if !run.config.fresh => Err(refusal::<R>(run, &what)),
        _ => Ok(()),
    }
}

fn refusal<R: PartResults>(run: &Run, what: &str) -> Error {
    Error::Config(format!(
        "{} holds a {} run of another configuration ({what}); run with --fresh to start over there, or choose another --out",
        run.part_dir(R::PART).display(),
        R::PART
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::run::RunConfig;
    use crate::experiments::part2::{Plan, Results};
    use crate::Profile;

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

    fn other(p: Prior<Results>) -> String {
        match p {
            Prior::Other(what) => what,
            Prior::Empty => "empty".into(),
            Prior::Same(_) => "same".into(),
        }
    }

    #[test]
    fn another_configuration_is_named_refused_or_cleared_and_the_same_one_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = RunConfig::new(Profile::Quick, 42, "d".into(), dir.path().join("r"), tch::Device::Cpu);
        let r = Run::new(cfg, tch::Device::Cpu).unwrap();
        let now = Plan::for_profile(Profile::Quick, 42).unwrap();
        let write = |v: serde_json::Value| crate::atomic::write_json(&r.results_path("part2"), &v).unwrap();
        let header: Results = serde_json::from_value(results(42, &now)).unwrap();
        let labels = &header;
        assert_eq!(other(prior(&r, &now, Some(labels))), "empty");
        assert!(begin::<Results>(&r, &now, labels).unwrap().is_none());
        write(results(42, &now));
        assert_eq!(other(prior(&r, &now, Some(labels))), "same");
        assert!(begin::<Results>(&r, &now, labels).unwrap().is_some());
        let other_test = Results { test_labels: vec![0, 0], ..header.clone() };
        assert_eq!(other(prior(&r, &now, Some(&other_test))), "the test data");
        let other_train = Results { test_examples: 5, ..header.clone() };
        assert_eq!(other(prior(&r, &now, Some(&other_train))), "the training data");
        let mut on_cuda = results(42, &now);
        on_cuda["device"] = "Cuda(0)".into();
        write(on_cuda);
        assert_eq!(other(prior(&r, &now, Some(labels))), "device Cuda(0) -> Cpu");
        write(results(7, &now));
        assert_eq!(other(prior(&r, &now, Some(labels))), "seed 7 -> 42");
        assert!(refuse_another::<Results>(&r, &now).unwrap_err().to_string().contains("seed 7 -> 42"));
        let older = Plan { max_len: 96, ..now.clone() };
        write(results(42, &older));
        assert_eq!(other(prior(&r, &now, None)), "part2.max_len 96 -> 128");
        let err = begin::<Results>(&r, &now, labels).err().unwrap().to_string();
        assert!(err.contains("part2.max_len 96 -> 128") && err.contains("--fresh"), "{err}");
        let mut old_schema = results(42, &now);
        old_schema["schema"] = 0.into();
        write(old_schema);
        assert!(other(prior(&r, &now, None)).starts_with("results layout 0 ->"));
        std::fs::write(r.results_path("part2"), "{").unwrap();
        assert!(other(prior(&r, &now, None)).starts_with("unreadable"));
        // --fresh clears the part's folder and starts over
        let fresh = Run::new(RunConfig { fresh: true, ..r.config.clone() }, tch::Device::Cpu).unwrap();
        assert!(refuse_another::<Results>(&fresh, &now).is_ok());
        assert!(begin::<Results>(&fresh, &now, labels).unwrap().is_none());
        assert!(!r.part_dir("part2").exists());
    }
}
