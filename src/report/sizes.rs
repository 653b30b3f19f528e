//! The input size each row trained from scratch ran at, and the validation evidence that chose it.
use super::html::{pct, table, Html};
use super::names::shown;
use crate::experiments::part1;

/// One line per candidate size of every row that tried several.
pub fn part1_size_table(r: &part1::Results) -> Html {
    let mut rows = Vec::new();
    for x in r.rows.iter().filter(|x| !x.size_trials.is_empty()) {
        for t in &x.size_trials {
            rows.push(vec![
                shown(&x.model),
                format!("{} px", t.image_size),
                pct(t.valid_accuracy),
                format!("{:.3}", t.valid_loss),
                format!("{} ({})", t.epochs, t.stopped_by.map_or("compared here", |s| s.name())),
                format!("{:.0}", t.train_seconds),
                if t.chosen { "chosen".into() } else { String::new() },
            ]);
        }
    }
    table(&["row", "input", "valid acc.", "valid loss", "epochs (stopped by)", "train s", ""], &rows)
}

/// Which size validation chose for each row (the headline), and how it was chosen and what the
/// trials not kept cost (the details); or that the plan gave one size only.
pub fn part1_size_takeaway(r: &part1::Results) -> Html {
    let tried: Vec<&part1::Row> = r.rows.iter().filter(|x| !x.size_trials.is_empty()).collect();
    if tried.is_empty() {
        return super::takeaways::sentence(format!(
            "The EmotionNets trained at {} px only: this plan gives no candidate sizes (part1.custom_sizes).",
            r.plan.custom_image_size
        ));
    }
    let mut by_size: Vec<(u32, Vec<String>)> = Vec::new();
    for x in &tried {
        match by_size.iter_mut().find(|(s, _)| *s == x.image_size) {
            Some((_, names)) => names.push(shown(&x.model)),
            None => by_size.push((x.image_size, vec![shown(&x.model)])),
        }
    }
    by_size.sort_by_key(|(s, _)| *s);
    let chosen: Vec<String> = by_size.iter().map(|(s, names)| format!("{s} px for {}", names.join(", "))).collect();
    let mut candidates: Vec<u32> = tried.iter().flat_map(|x| x.size_trials.iter().map(|t| t.image_size)).collect();
    candidates.sort_unstable();
    candidates.dedup();
    let candidates: Vec<String> = candidates.iter().map(u32::to_string).collect();
    let extra: f64 =
        tried.iter().flat_map(|x| x.size_trials.iter().filter(|t| !t.chosen).map(|t| t.train_seconds)).sum();
    let compared = tried.iter().flat_map(|x| &x.size_trials).find_map(|t| t.compared_at_epoch);
    let how = match compared {
        Some(e) => format!(
            "each row trained from scratch ran {e} epochs at every candidate size ({} px), validation then chose one, \
             and only that one trained on",
            candidates.join("/")
        ),
        None => format!(
            "each row trained from scratch ran at every candidate size ({} px) and kept the one its validation score \
             preferred",
            candidates.join("/")
        ),
    };
    super::takeaways::lead(
        format!("Validation chose {}.", chosen.join("; ")),
        format!(
            "The faces are 48x48; {how} (the monitored metric decides; test was read for the chosen size only). \
             The trials not kept cost {extra:.0} s of training beyond the rows' own."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiments::part1::sizes::SizeTrial;
    use crate::train::StopReason;

    #[test]
    fn the_table_and_sentence_show_the_evidence_and_the_choice() {
        let mut r = crate::report::fixtures::part1();
        for x in &mut r.rows {
            x.size_trials.clear();
        }
        assert!(part1_size_takeaway(&r).0.contains("trained at 64 px only"));
        let trial = |size, acc, chosen| SizeTrial {
            image_size: size,
            valid_accuracy: acc,
            valid_loss: 1.3,
            epochs: 9,
            best_epoch: 6,
            train_seconds: 100.0,
            stopped_by: Some(StopReason::Plateau),
            compared_at_epoch: None,
            chosen,
        };
        r.plan.custom_sizes = vec![48, 64];
        r.rows[1].image_size = 48;
        r.rows[1].size_trials = vec![trial(48, 0.5, true), trial(64, 0.45, false)];
        let s = part1_size_takeaway(&r).0;
        assert!(s.contains("Validation chose 48 px for EmotionNetV2.</p>"), "{s}");
        assert!(s.contains("candidate size (48/64 px)"), "{s}");
        assert!(s.contains("cost 100 s"), "{s}");
        let t = part1_size_table(&r).0;
        assert_eq!(t.matches("<tr>").count(), 3, "{t}");
        assert!(t.contains("50.0%") && t.contains("chosen") && t.contains("9 (plateau)"), "{t}");
        // a race: compared at epoch 4, the loser left there
        for t in &mut r.rows[1].size_trials {
            (t.compared_at_epoch, t.stopped_by, t.epochs) = (Some(4), None, 4);
        }
        let s = part1_size_takeaway(&r).0;
        assert!(s.contains("ran 4 epochs at every candidate size") && s.contains("only that one trained on"), "{s}");
        assert!(part1_size_table(&r).0.contains("4 (compared here)"));
    }
}
