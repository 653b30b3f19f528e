//! The spread over seeds: a table, a figure and a sentence per part, computed from the rows the
//! plan ran at several seeds (`plan.seeds`).
use super::html::{pct, table, Html};
use super::names::shown;
use super::plots::{self, Figure};
use crate::error::Result;
use crate::eval::spread::Spread;
use crate::experiments::seeds::SeedPlan;
use crate::experiments::{part1, part2};

fn seed_list(seeds: &[u64]) -> String {
    seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
}

/// "48.4% ± 1.2": a mean and sample standard deviation of fractions, in points.
pub fn pct_sd(mean: f64, sd: f64) -> String {
    format!("{} ± {:.1}", pct(mean), sd * 100.0)
}

fn spread_table(spreads: &[Spread]) -> Html {
    let rows: Vec<Vec<String>> = spreads
        .iter()
        .map(|s| {
            vec![
                shown(&s.row),
                seed_list(&s.seeds),
                s.test_accuracy.iter().map(|&a| pct(a)).collect::<Vec<_>>().join(", "),
                pct_sd(s.test_mean, s.test_sd),
                pct_sd(s.valid_mean, s.valid_sd),
            ]
        })
        .collect();
    table(&["row", "seeds", "test acc. per seed", "test mean ± sd", "valid mean ± sd"], &rows)
}

/// Which rows ran at several seeds and which at the run's seed alone, and why.
fn coverage(spreads: &[Spread], seeds: &SeedPlan, seed: u64, all: &[String]) -> String {
    if spreads.is_empty() {
        return format!(
            "Every row ran at seed {seed} only (the profile's plan names no other seeds); `--seeds {seed},{},{}` adds runs.",
            seed + 1,
            seed + 2
        );
    }
    let multi: Vec<&str> = spreads.iter().map(|s| s.row.as_str()).collect();
    let single: Vec<String> = all.iter().map(String::as_str).filter(|r| !multi.contains(r)).map(shown).collect();
    let multi: Vec<String> = multi.into_iter().map(shown).collect();
    let mut s = format!("Seeds {} for {}", seed_list(&spreads[0].seeds), multi.join(", "));
    if !single.is_empty() {
        let why =
            if seeds.rows.is_empty() { "" } else { " (the plan runs several seeds only where a row is cheap enough)" };
        s += &format!("; seed {seed} only for {}{why}", single.join(", "));
    }
    s + "."
}

/// The widest spread in words.
fn widest(spreads: &[Spread]) -> Option<String> {
    let w = spreads.iter().max_by(|a, b| a.test_sd.total_cmp(&b.test_sd))?;
    let (lo, hi) = w.test_accuracy.iter().fold((f64::MAX, f64::MIN), |(l, h), &a| (l.min(a), h.max(a)));
    Some(format!(
        "The seed alone moves {} from {} to {} on test (sd {:.1} points): a single-seed gap smaller than that says little.",
        shown(&w.row),
        pct(lo),
        pct(hi),
        w.test_sd * 100.0
    ))
}

/// What the seeds show, and that the paired tests pool over them.
fn takeaway(spreads: &[Spread], seeds: &SeedPlan, seed: u64, all: &[String], pooled: usize) -> Html {
    let Some(headline) = widest(spreads) else {
        return super::takeaways::sentence(coverage(spreads, seeds, seed, all));
    };
    let mut parts = vec![coverage(spreads, seeds, seed, all)];
    if pooled > 0 {
        let tests = if pooled == 1 {
            "The paired test in the conclusions pools its"
        } else {
            "The paired tests in the conclusions pool their"
        };
        parts.push(format!("{tests} counts over these seeds."));
    }
    super::takeaways::lead(headline, parts.join(" "))
}

fn spread_figure(title: &str, spreads: &[Spread]) -> Result<Figure> {
    let names: Vec<String> = spreads.iter().map(|s| shown(&s.row).replace(" (", "\n(")).collect();
    let range = |xs: &[f64]| [xs.iter().copied().fold(f64::MAX, f64::min), xs.iter().copied().fold(f64::MIN, f64::max)];
    let test_iv: Vec<[f64; 2]> = spreads.iter().map(|s| range(&s.test_accuracy)).collect();
    let valid_iv: Vec<[f64; 2]> = spreads.iter().map(|s| range(&s.valid_accuracy)).collect();
    plots::bar_chart_with_intervals(
        title,
        &names,
        &[
            ("test, mean over seeds", spreads.iter().map(|s| s.test_mean).collect()),
            ("validation, mean over seeds", spreads.iter().map(|s| s.valid_mean).collect()),
        ],
        &[Some(test_iv), Some(valid_iv)],
        "accuracy (whiskers: lowest to highest seed)",
    )
}

fn title(part: &str, spreads: &[Spread]) -> String {
    let seeds = spreads.first().map(|s| seed_list(&s.seeds)).unwrap_or_default();
    format!("{part}: accuracy over seeds {seeds}")
}

pub fn part1_spread_table(r: &part1::Results) -> Html {
    spread_table(&r.spread)
}

pub fn part2_spread_table(r: &part2::Results) -> Html {
    spread_table(&r.spread)
}

pub fn part1_spread_takeaway(r: &part1::Results) -> Html {
    let all: Vec<String> = r.rows.iter().map(|x| x.model.clone()).collect();
    let pooled = r.comparisons.iter().filter(|c| c.pairs > 1).count();
    takeaway(&r.spread, &r.plan.seeds, r.seed, &all, pooled)
}

pub fn part2_spread_takeaway(r: &part2::Results) -> Html {
    let all: Vec<String> = r.rows.iter().map(part2::Row::name).collect();
    let pooled = r.comparisons.iter().filter(|c| c.pairs > 1).count();
    takeaway(&r.spread, &r.plan.seeds, r.seed, &all, pooled)
}

/// None where no row ran at several seeds.
pub fn part1_spread(r: &part1::Results) -> Result<Option<Figure>> {
    (!r.spread.is_empty()).then(|| spread_figure(&title("Part 1", &r.spread), &r.spread)).transpose()
}

pub fn part2_spread(r: &part2::Results) -> Result<Option<Figure>> {
    (!r.spread.is_empty()).then(|| spread_figure(&title("Part 2", &r.spread), &r.spread)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::spread::SeedResult;

    fn spread(row: &str, test: &[f64]) -> Spread {
        let runs: Vec<SeedResult> =
            test.iter().enumerate().map(|(i, &t)| SeedResult { seed: 42 + i as u64, test: t, valid: t }).collect();
        Spread::of(row, &runs)
    }

    #[test]
    fn the_sentence_names_rows_seeds_and_the_widest_spread() {
        let plan = SeedPlan { extra: vec![43, 44], rows: vec!["a".into(), "b".into()] };
        let all = ["a".to_string(), "b".into(), "c".into()];
        let s = takeaway(&[spread("a", &[0.40, 0.46, 0.52]), spread("b", &[0.5, 0.5, 0.5])], &plan, 42, &all, 1).0;
        assert!(s.contains("Seeds 42, 43, 44 for a, b; seed 42 only for c"), "{s}");
        assert!(
            s.starts_with("<p class=\"takeaway\">The seed alone moves a from 40.0% to 52.0% on test (sd 6.0 points)"),
            "{s}"
        );
        assert!(s.contains("The paired test in the conclusions pools its counts over these seeds."), "{s}");
        let none = takeaway(&[], &SeedPlan::default(), 42, &all, 0).0;
        assert!(none.contains("seed 42 only") && none.contains("--seeds 42,43,44"), "{none}");
        let t = spread_table(&[spread("a", &[0.40, 0.46, 0.52])]).0;
        assert!(t.contains("40.0%, 46.0%, 52.0%") && t.contains("46.0% ± 6.0"), "{t}");
    }

    #[test]
    fn the_figure_draws_only_where_there_is_a_spread() {
        let mut r = crate::report::fixtures::part1();
        r.spread.clear();
        assert!(part1_spread(&r).unwrap().is_none());
        r.spread = vec![spread("emotionnet_v2", &[0.45, 0.48, 0.47])];
        let f = part1_spread(&r).unwrap().unwrap();
        assert!(f.svg().contains("seeds 42, 43, 44"));
    }
}
