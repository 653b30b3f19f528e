//! Where two JSON configurations differ, leaf by leaf: what a refused resume or a refused reuse
//! of a run directory names in its message.
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One leaf that differs: its dotted path and both values (`null` where a side lacks it).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub path: String,
    pub old: Value,
    pub new: Value,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} -> {}", self.path, self.old, self.new)
    }
}

/// Every leaf of `old` and `new` that differs, in path order, each path under `prefix`.
pub fn changes(prefix: &str, old: &Value, new: &Value) -> Vec<Change> {
    let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
    flatten(prefix, old, &mut a);
    flatten(prefix, new, &mut b);
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| Change {
            path: if k.is_empty() { "the configuration".to_string() } else { k.clone() },
            old: a.get(k).cloned().unwrap_or(Value::Null),
            new: b.get(k).cloned().unwrap_or(Value::Null),
        })
        .collect()
}

/// The first `keep` entries, then a count of the rest.
pub fn first(mut lines: Vec<String>, keep: usize, what: &str) -> Vec<String> {
    if lines.len() > keep {
        let more = lines.len() - keep;
        lines.truncate(keep);
        lines.push(format!("{more} more {what}"));
    }
    lines
}

fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v.as_object() {
        Some(o) if !o.is_empty() => o.iter().for_each(|(k, x)| {
            let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            flatten(&path, x, out)
        }),
        _ => {
            out.insert(prefix.to_string(), v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_name_each_differing_leaf_with_both_values() {
        let a = json!({"config": {"lr": 0.1, "epochs": 3}, "train": 10});
        let b = json!({"config": {"lr": 0.2, "epochs": 3}, "train": 11, "extra": {"x": 1}});
        let got: Vec<String> = changes("", &a, &b).iter().map(Change::to_string).collect();
        assert_eq!(got, ["config.lr 0.1 -> 0.2", "extra.x null -> 1", "train 10 -> 11"]);
        assert!(changes("", &a, &a).is_empty());
        let under: Vec<String> = changes("part1", &a, &b).into_iter().map(|c| c.path).collect();
        assert_eq!(under[0], "part1.config.lr");
        assert_eq!(changes("", &json!(1), &json!(2))[0].path, "the configuration");
    }

    #[test]
    fn first_keeps_a_few_and_counts_the_rest() {
        let lines = |n: usize| (0..n).map(|i| i.to_string()).collect::<Vec<_>>();
        assert_eq!(first(lines(2), 5, "values"), ["0", "1"]);
        assert_eq!(first(lines(7), 5, "values"), ["0", "1", "2", "3", "4", "2 more values"]);
    }
}
