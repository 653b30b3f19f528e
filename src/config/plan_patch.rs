//! Overriding a profile's plan from a JSON file (`--plan FILE`), so a variant of a recipe is a
//! file that can be kept next to its results rather than an edit of the source.
//!
//! The file holds one object per part, each a merge patch (RFC 7386) over that part's
//! [`crate::experiments::part1::Plan`] / [`crate::experiments::part2::Plan`] as serialised in `results.json`:
//! `{"part2": {"max_train": 3000, "minilm": {"lr": 2e-4}}}`. Unlike RFC 7386 the merge is
//! strict: a key the plan does not have is an error naming its path, because a misspelt key
//! that was silently ignored would label a run with a recipe it did not use.
use crate::error::{Error, Result};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;
use std::path::Path;

pub const PARTS: [&str; 2] = ["part1", "part2"];

/// Read and check the shape of a plan file (an object keyed by part names).
pub fn read(path: &Path) -> Result<Value> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| Error::Json { path: path.into(), source: e })?;
    let obj = v.as_object().ok_or_else(|| {
        Error::data(path, None, "a plan file holds a JSON object keyed by part (\"part1\", \"part2\")")
    })?;
    if let Some(k) = obj.keys().find(|k| !PARTS.contains(&k.as_str())) {
        return Err(Error::data(path, None, format!("unknown part `{k}`; expected one of {PARTS:?}")));
    }
    Ok(v)
}

/// `patch` with both parts' `seeds.extra` set to `extra` (what `--seeds 42,43,44` means beyond
/// the run's seed 42); the rows they apply to stay the plan's.
pub fn with_extra_seeds(patch: Option<Value>, extra: &[u64]) -> Value {
    let mut v = patch.unwrap_or_else(|| serde_json::json!({}));
    let seeds = serde_json::json!({"seeds": {"extra": extra}});
    merge(&mut v, &serde_json::json!({"part1": seeds, "part2": seeds}));
    v
}

/// RFC 7386 merge without the strictness: for patches the program makes itself.
fn merge(target: &mut Value, patch: &Value) {
    match (target.as_object_mut(), patch.as_object()) {
        (Some(t), Some(p)) => p.iter().for_each(|(k, pv)| merge(t.entry(k).or_insert(Value::Null), pv)),
        _ => *target = patch.clone(),
    }
}

/// The patch for `part` in a plan file's contents, if it has one.
pub fn for_part<'a>(patch: Option<&'a Value>, part: &str) -> Option<&'a Value> {
    patch.and_then(|p| p.get(part))
}

/// `plan` with `config`'s `--plan` patch for `part` merged over it, then checked with `check`:
/// how each part turns its profile's recipe into the plan a run uses.
pub fn patched<T: Serialize + DeserializeOwned>(
    plan: T,
    config: &crate::config::run::RunConfig,
    part: &str,
    check: impl Fn(&T) -> Result<()>,
) -> Result<T> {
    let plan = apply(plan, config.plan_patch.as_ref(), part)?;
    check(&plan)?;
    Ok(plan)
}

/// `plan` with `patch[part]` merged over it (unchanged when there is no patch for `part`).
pub fn apply<T: Serialize + DeserializeOwned>(plan: T, patch: Option<&Value>, part: &str) -> Result<T> {
    let Some(p) = for_part(patch, part) else { return Ok(plan) };
    let mut v = serde_json::to_value(&plan).map_err(|e| Error::Config(format!("{part} plan: {e}")))?;
    merge_strict(&mut v, p, part, "--plan")?;
    serde_json::from_value(v).map_err(|e| Error::Config(format!("{part} plan after --plan: {e}")))
}

/// Merge `patch` over `target` (RFC 7386, strictly: a key `target` lacks is an error naming its
/// `path` and the `source` of the patch).
pub fn merge_strict(target: &mut Value, patch: &Value, path: &str, source: &str) -> Result<()> {
    let (Some(t), Some(p)) = (target.as_object_mut(), patch.as_object()) else {
        *target = patch.clone();
        return Ok(());
    };
    for (k, pv) in p {
        let here = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
        let tv = t
            .get_mut(k)
            .ok_or_else(|| Error::Config(format!("{source} sets `{here}`, which the plan does not have")))?;
        // An object replaces a null (an unset Option) or another variant of a tagged enum
        // (`{"kind": ...}`) whole; otherwise recurse key by key.
        let same_variant = pv.get("kind").is_none_or(|k| tv.get("kind") == Some(k));
        if pv.is_object() && tv.is_object() && same_variant {
            merge_strict(tv, pv, &here, source)?
        } else {
            *tv = pv.clone()
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiments::part2::Plan;
    use crate::Profile;
    use serde_json::json;

    #[test]
    fn patches_nested_fields_and_leaves_the_rest() {
        let base = Plan::for_profile(Profile::Quick, 42).unwrap();
        let patch = json!({"part2": {"max_train": 3000, "minilm": {"lr": 2e-4}, "max_test": 100}});
        let p = apply(base.clone(), Some(&patch), "part2").unwrap();
        assert_eq!((p.max_train, p.max_test, p.minilm.lr), (Some(3000), Some(100), 2e-4));
        assert_eq!(
            (p.minilm.batch_size, p.bilstm.lr, p.max_len),
            (base.minilm.batch_size, base.bilstm.lr, base.max_len)
        );
        // null unsets an Option
        let p = apply(base.clone(), Some(&json!({"part2": {"max_train": null}})), "part2").unwrap();
        assert_eq!(p.max_train, None);
        // another part's patch does not touch this one
        let p = apply(base.clone(), Some(&json!({"part1": {"image_size": 1}})), "part2").unwrap();
        assert_eq!(serde_json::to_value(&p).unwrap(), serde_json::to_value(&base).unwrap());
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_errors() {
        let base = Plan::for_profile(Profile::Quick, 42).unwrap();
        let e = apply(base.clone(), Some(&json!({"part2": {"minilm": {"learning_rate": 1.0}}})), "part2").unwrap_err();
        assert!(e.to_string().contains("part2.minilm.learning_rate"), "{e}");
        let e = apply(base, Some(&json!({"part2": {"max_len": "long"}})), "part2").unwrap_err();
        assert!(e.to_string().contains("part2 plan"), "{e}");
    }

    #[test]
    fn read_names_the_file_and_rejects_unknown_parts() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("plan.json");
        std::fs::write(&f, r#"{"part3": {}}"#).unwrap();
        let e = read(&f).unwrap_err().to_string();
        assert!(e.contains("plan.json") && e.contains("part3"), "{e}");
        std::fs::write(&f, "{not json").unwrap();
        assert!(read(&f).unwrap_err().to_string().contains("plan.json"));
        std::fs::write(&f, r#"{"part2": {"max_train": 10}}"#).unwrap();
        assert_eq!(read(&f).unwrap()["part2"]["max_train"], 10);
    }

    #[test]
    fn seeds_from_the_command_line_join_a_plan_file_without_losing_its_keys() {
        let file = serde_json::json!({"part2": {"max_train": 10, "seeds": {"rows": ["bilstm"]}}});
        let v = with_extra_seeds(Some(file), &[43, 44]);
        assert_eq!(v["part2"]["max_train"], 10);
        assert_eq!(v["part2"]["seeds"], serde_json::json!({"rows": ["bilstm"], "extra": [43, 44]}));
        assert_eq!(v["part1"]["seeds"]["extra"], serde_json::json!([43, 44]));
        let plan = apply(Plan::for_profile(crate::Profile::Smoke, 42).unwrap(), Some(&v), "part2").unwrap();
        assert_eq!((plan.seeds.extra, plan.seeds.rows), (vec![43, 44], vec!["bilstm".to_string()]));
    }
}
