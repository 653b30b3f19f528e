//! Latency of every network a run trained, timed together once training is over: round by
//! round, each network in turn at batch 1 and 64, so that whatever else the machine does
//! meanwhile falls on all of them alike; each row keeps its median over the rounds. Timed alone
//! right after its own training, one network's batch-1 time strayed up to 1.9x between seeds
//! (docs/speed.md, 2026-12-06 night).
use super::{Plan, Results, Row, PART};
use crate::config::run::Run;
use crate::error::Result;
use crate::eval::bench::{self, median};
use crate::experiments::seeds::key_at;
use crate::models::registry::Built;
use crate::models::weights;
use crate::numerics::Numerics;
use std::path::Path;
use tch::Device;

/// Rounds of the pass; each times every network once at each batch size.
pub const ROUNDS: usize = 3;

/// Time `n` networks in turns, `rounds` times over (`time(i)` gives network `i`'s batch-1 and
/// batch-64 ms/image once), and return each one's median over the rounds.
pub fn in_turns(n: usize, rounds: usize, mut time: impl FnMut(usize) -> (f64, f64)) -> Vec<(f64, f64)> {
    let mut seen: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); n];
    for _ in 0..rounds {
        for (i, (b1, b64)) in seen.iter_mut().enumerate() {
            let (a, b) = time(i);
            b1.push(a);
            b64.push(b);
        }
    }
    seen.into_iter().map(|(mut a, mut b)| (median(&mut a), median(&mut b))).collect()
}

/// The network of a Part 1 row (or seed run) with the weights of its checkpoint `ckpt`.
pub fn trained_net(row: &Row, classes: usize, ckpt: &Path, device: Device) -> Result<Built> {
    // the architecture only: the checkpoint replaces every weight
    let mut built = row.arch.model()?.build(super::Init::Random, classes as i64, row.image_size, device)?;
    weights::load_trained(&mut built.vs, ckpt)?;
    Ok(built)
}

/// Time every row and seed run of `results` whose checkpoint is in the run directory, in turns,
/// and keep the medians. Inputs and weights are channels-last fp32, as `predict` runs them.
pub fn retime(run: &Run, plan: &Plan, results: &mut Results) -> Result<()> {
    let seed = results.seed;
    let classes = results.classes.len();
    let rows: Vec<&mut Row> = results.rows.iter_mut().chain(results.seed_runs.iter_mut()).collect();
    let mut nets = Vec::new();
    let mut timed = Vec::new();
    for row in rows {
        let ckpt = run.checkpoint(PART, &key_at(&row.model, row.seed, seed));
        if !ckpt.is_file() {
            continue;
        }
        crate::interrupt::check()?;
        let built = trained_net(row, classes, &ckpt, run.device)?;
        let numerics = Numerics::SINGLE_IMAGES;
        numerics.prepare_for_inference(&built.vs);
        let input = |b| numerics.input(&bench::image_input(b, row.image_size as i64, run.device));
        nets.push((built, input(1), input(64)));
        timed.push(row);
    }
    if nets.is_empty() {
        return Ok(());
    }
    eprintln!("[latency] {} networks, {ROUNDS} rounds in turns", nets.len());
    let medians = in_turns(nets.len(), ROUNDS, |i| {
        let (built, one, batch) = &nets[i];
        let at = |x| bench::latency_ms_per_item(built.model.as_ref(), x, plan.latency);
        (at(one), at(batch))
    });
    for (row, (b1, b64)) in timed.into_iter().zip(medians) {
        (row.latency_ms_b1, row.latency_ms_b64) = (b1, b64);
    }
    results.latency_rounds = Some(ROUNDS);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::in_turns;

    #[test]
    fn every_network_is_timed_once_a_round_in_turn_and_keeps_its_median() {
        let mut order = Vec::new();
        // network i's k-th timing: (10 i + k, 100 + k), so the medians are known
        let mut count = [0usize; 3];
        let got = in_turns(3, 3, |i| {
            order.push(i);
            count[i] += 1;
            ((10 * i + count[i]) as f64, (100 + 5 * count[i]) as f64)
        });
        assert_eq!(order, [0, 1, 2, 0, 1, 2, 0, 1, 2]);
        assert_eq!(got, vec![(2.0, 110.0), (12.0, 110.0), (22.0, 110.0)]);
    }
}
