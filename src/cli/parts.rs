//! `part1`, `part2`, `all` and `figures`: train and report.
use super::args::*;
use affect_lab::config::{paths, run};
use anyhow::Context;

/// Train and report the parts asked for (`want1`, `want2`) as `a` says.
pub fn run_parts(a: &RunArgs, dev: tch::Device, want1: bool, want2: bool) -> anyhow::Result<()> {
    let (part1, part2) = parts_named(a, want1, want2)?;
    let config = config(a, dev)?;
    let (seed, data_root, out) = (config.seed, config.data_root.clone(), config.out.clone());
    let mut needed = Vec::new();
    if part1 {
        needed.extend(affect_lab::experiments::part1::DATASETS);
    }
    if part2 {
        needed.extend(affect_lab::experiments::part2::datasets());
    }
    paths::require(&data_root, &needed)?;
    let r = run::Run::new(config, dev)?;
    // another configuration in --out is refused before any part trains, not after the first
    use affect_lab::experiments::{part1 as p1, part2 as p2, reuse};
    if part1 {
        reuse::refuse_another::<p1::Results>(&r, &p1::plan(&r.config)?)?;
    }
    if part2 {
        reuse::refuse_another::<p2::Results>(&r, &p2::plan(&r.config)?)?;
    }
    eprintln!("profile {}, seed {seed}, data {}, out {}", a.profile, data_root.display(), out.display());
    if part1 {
        let res = affect_lab::experiments::part1::run(&r).context("part 1 failed")?;
        if !a.no_figures {
            let dir = r.part_dir(affect_lab::experiments::part1::PART);
            affect_lab::report::part1_outputs(&dir, &res).context("part 1 figures failed")?;
        }
        eprintln!("{}", affect_lab::experiments::part1::summary(&res));
    }
    if part2 {
        affect_lab::interrupt::check()?;
        let res = affect_lab::experiments::part2::run(&r).context("part 2 failed")?;
        if !a.no_figures {
            let dir = r.part_dir(affect_lab::experiments::part2::PART);
            affect_lab::report::part2_outputs(&dir, &res).context("part 2 figures failed")?;
        }
        eprintln!("{}", affect_lab::experiments::part2::summary(&res));
    }
    eprintln!("results in {}", out.display());
    Ok(())
}

/// Which parts run: `--models` names rows of either part, and a part none of them names is not
/// run; a name neither part offers is an error listing those it does.
fn parts_named(a: &RunArgs, want1: bool, want2: bool) -> anyhow::Result<(bool, bool)> {
    let names1: Vec<String> = affect_lab::experiments::part1::model_specs().into_iter().map(|s| s.name).collect();
    let names2 = affect_lab::experiments::part2::row_names();
    let known = |names: &[String]| a.models.iter().any(|m| names.contains(m));
    let offered: Vec<&String> = names1.iter().filter(|_| want1).chain(names2.iter().filter(|_| want2)).collect();
    if let Some(bad) = a.models.iter().find(|m| !offered.contains(m)) {
        anyhow::bail!(
            "unknown model `{bad}` for this command; known: {}",
            offered.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(if a.models.is_empty() { (want1, want2) } else { (want1 && known(&names1), want2 && known(&names2)) })
}

/// The run's configuration from the arguments, its plans checked.
fn config(a: &RunArgs, dev: tch::Device) -> anyhow::Result<run::RunConfig> {
    let out = a.out.clone().unwrap_or_else(|| paths::default_run_dir(a.profile));
    let data_root = paths::data_root(a.data_dir.as_deref());
    let mut plan_patch = a.plan.as_deref().map(affect_lab::config::plan_patch::read).transpose()?;
    let seed = a.seeds.first().copied().unwrap_or(a.seed);
    if a.seeds.len() > 1 {
        plan_patch = Some(affect_lab::config::plan_patch::with_extra_seeds(plan_patch, &a.seeds[1..]));
    }
    let config = run::RunConfig {
        skip_bad_inputs: a.skip_bad_inputs,
        models: a.models.clone(),
        plan_patch,
        reuse: a.reuse,
        fresh: a.fresh,
        ..run::RunConfig::new(a.profile, seed, data_root, out, dev)
    };
    // a bad --plan key must fail now, not after Part 1 has trained for twenty minutes
    affect_lab::experiments::part1::plan(&config)?;
    affect_lab::experiments::part2::plan(&config)?;
    Ok(config)
}

pub fn figures(out: &std::path::Path) -> anyhow::Result<()> {
    let mut any = false;
    if let Some(r) =
        run::load_results::<affect_lab::experiments::part1::Results>(out, affect_lab::experiments::part1::PART)?
    {
        affect_lab::report::part1_outputs(&out.join("part1"), &r)?;
        any = true;
    }
    if let Some(r) =
        run::load_results::<affect_lab::experiments::part2::Results>(out, affect_lab::experiments::part2::PART)?
    {
        affect_lab::report::part2_outputs(&out.join("part2"), &r)?;
        any = true;
    }
    anyhow::ensure!(any, "no part1/results.json or part2/results.json under {}", out.display());
    eprintln!("figures written under {}", out.display());
    Ok(())
}
