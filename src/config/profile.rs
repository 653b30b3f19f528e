//! Run profiles: how much compute an experiment may spend. Each profile's recipe is data:
//! `profiles/base.json` holds every key of both parts' plans (null where the profiles differ
//! and must say), and `profiles/<profile>.json` overrides it, merged strictly as `--plan` is.
//! The files are compiled in, so the binary needs no checkout; why each value was chosen is in
//! `docs/recipes.md`.
use crate::error::Result;
use serde::{Deserialize, Serialize};
use serde_json::Value;

const BASE: (&str, &str) = ("profiles/base.json", include_str!("../../profiles/base.json"));

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Seconds to a few minutes: tests and CI. Numbers are not meaningful.
    Smoke,
    /// The default: the whole experiment, every row to its plateau or cap, a few seeds for the
    /// cheap rows: 80-90 minutes on 2 CPU cores.
    Quick,
    /// The seed's budgets (224 px images, tens of epochs). Meant for a GPU.
    Full,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::Smoke => "smoke",
            Profile::Quick => "quick",
            Profile::Full => "full",
        }
    }
}

impl Profile {
    /// The profile's own file: (path in the repository, contents).
    pub fn recipe_file(self) -> (&'static str, &'static str) {
        match self {
            Profile::Smoke => ("profiles/smoke.json", include_str!("../../profiles/smoke.json")),
            Profile::Quick => ("profiles/quick.json", include_str!("../../profiles/quick.json")),
            Profile::Full => ("profiles/full.json", include_str!("../../profiles/full.json")),
        }
    }

    /// Both parts' plans of this profile, as JSON keyed by part: the base recipe with the
    /// profile's file merged over it.
    pub fn plans(self) -> Result<Value> {
        let parse = |(path, text): (&str, &str)| {
            serde_json::from_str::<Value>(text).map_err(|e| crate::Error::Json { path: path.into(), source: e })
        };
        let mut plans = parse(BASE)?;
        let (path, _) = self.recipe_file();
        crate::config::plan_patch::merge_strict(&mut plans, &parse(self.recipe_file())?, "", path)?;
        Ok(plans)
    }

    /// One part's plan of this profile, with `seed` as the seed of each training config named in
    /// `seeded` (the seed is the run's, not the recipe's).
    pub fn plan<T: serde::de::DeserializeOwned>(self, part: &str, seed: u64, seeded: &[&str]) -> Result<T> {
        let mut v = self.plans()?.get(part).cloned().unwrap_or(Value::Null);
        for key in seeded {
            if let Some(cfg) = v.get_mut(*key).and_then(Value::as_object_mut) {
                cfg.insert("seed".into(), seed.into());
            }
        }
        serde_json::from_value(v).map_err(|e| crate::Error::Config(format!("{part} plan of the {self} profile: {e}")))
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Profile {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "smoke" => Ok(Profile::Smoke),
            "quick" => Ok(Profile::Quick),
            "full" => Ok(Profile::Full),
            _ => Err(crate::Error::Config(format!("unknown profile `{s}` (smoke, quick, full)"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_files_only_set_keys_the_base_has() {
        for p in [Profile::Smoke, Profile::Quick, Profile::Full] {
            let plans = p.plans().unwrap();
            assert!(plans["part1"]["custom"]["epochs"].is_u64(), "{p}: part1 epochs unset");
        }
        let mut base: Value = serde_json::from_str(BASE.1).unwrap();
        let typo = serde_json::json!({"part1": {"custom": {"epoch": 3}}});
        let e = crate::config::plan_patch::merge_strict(&mut base, &typo, "", "profiles/x.json").unwrap_err();
        assert!(e.to_string().contains("profiles/x.json sets `part1.custom.epoch`"), "{e}");
    }
}
