//! Timing one measurement: warm-up calls, then timed repeats, summarised as min / median / max.
use crate::error::Result;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Values of one measurement over its repeats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub min: f64,
    pub median: f64,
    pub max: f64,
    pub repeats: Vec<f64>,
}

impl Stats {
    pub fn of(mut values: Vec<f64>) -> Stats {
        let repeats = values.clone();
        let median = crate::eval::bench::median(&mut values);
        Stats { min: *values.first().unwrap_or(&f64::NAN), median, max: *values.last().unwrap_or(&f64::NAN), repeats }
    }
}

/// How often a measurement runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repeats {
    pub warmup: usize,
    pub timed: usize,
}

/// Another process's timed rounds, taken in turn with ours one by one: its round k runs right
/// after ours in rounds 0, 3, 4, 7, 8, ... and right before it in the others (ABBA), so that
/// repeat k of each side is timed within seconds of the other's, and a drift over the run moves
/// both alike. `other(k)` returns once the other process has timed its round k.
pub struct Turns<'a> {
    other: Option<&'a mut dyn FnMut(usize) -> Result<()>>,
}

/// Quiet time before each of our rounds when another process times in turn: its threads spin
/// for a moment after their work before they sleep, and that must not fall into our round.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(10);

impl<'a> Turns<'a> {
    /// Timing alone.
    pub fn alone() -> Self {
        Turns { other: None }
    }

    pub fn with(other: &'a mut dyn FnMut(usize) -> Result<()>) -> Self {
        Turns { other: Some(other) }
    }

    /// Our round `k` (`ours`), in turn with the other process's round `k`.
    fn take<T>(&mut self, k: usize, ours: impl FnOnce() -> T) -> Result<T> {
        let Some(other) = self.other.as_mut() else {
            return Ok(ours());
        };
        let ours_first = first_in(k);
        if !ours_first {
            other(k)?;
        }
        std::thread::sleep(SETTLE);
        let value = ours();
        if ours_first {
            other(k)?;
        }
        Ok(value)
    }
}

/// Whether the first of two alternating parties goes first in `round`: in rounds 0, 3, 4, 7, 8, ...
/// (ABBA), so each goes first in one of the rounds 2k and 2k+1 and a steady drift cancels over
/// every four rounds.
pub(crate) fn first_in(round: usize) -> bool {
    (round + 1) % 4 < 2
}

/// Items per second of `call` (which processes `items` items and returns once the work is done).
pub fn throughput(r: Repeats, turns: &mut Turns, items: usize, mut call: impl FnMut()) -> Result<Stats> {
    Ok(Stats::of(seconds(r, turns, &mut call)?.into_iter().map(|s| items as f64 / s).collect()))
}

/// Milliseconds per item of `call`.
pub fn latency_ms(r: Repeats, turns: &mut Turns, items: usize, mut call: impl FnMut()) -> Result<Stats> {
    Ok(Stats::of(seconds(r, turns, &mut call)?.into_iter().map(|s| s * 1e3 / items as f64).collect()))
}

/// Items per second of two calls timed in alternating rounds: a machine whose speed drifts over
/// seconds moves the two alike, so their ratio holds where the ratio of two separate measurements
/// minutes apart does not. The order is ABBA ([`first_in`]: `a` first in rounds 0, 3, 4, 7, 8, ...).
/// Repeat `i` of the one is paired with repeat `i` of the other. A round of `turns` is both calls.
pub fn throughput_alternating(
    r: Repeats,
    turns: &mut Turns,
    items: usize,
    mut a: impl FnMut(),
    mut b: impl FnMut(),
) -> Result<(Stats, Stats)> {
    for _ in 0..r.warmup {
        a();
        b();
    }
    let time = |call: &mut dyn FnMut()| items as f64 / seconds_of(call);
    let (mut of_a, mut of_b) = (Vec::new(), Vec::new());
    for round in 0..r.timed.max(1) {
        let (a_k, b_k) = turns.take(round, || {
            if first_in(round) {
                (time(&mut a), time(&mut b))
            } else {
                let b_k = time(&mut b);
                (time(&mut a), b_k)
            }
        })?;
        of_a.push(a_k);
        of_b.push(b_k);
    }
    Ok((Stats::of(of_a), Stats::of(of_b)))
}

fn seconds(r: Repeats, turns: &mut Turns, call: &mut impl FnMut()) -> Result<Vec<f64>> {
    for _ in 0..r.warmup {
        call();
    }
    (0..r.timed.max(1)).map(|k| turns.take(k, || seconds_of(call))).collect()
}

/// Wall-clock seconds of one call.
fn seconds_of(call: &mut dyn FnMut()) -> f64 {
    let t = Instant::now();
    call();
    t.elapsed().as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_of_known_values() {
        let s = Stats::of(vec![3.0, 1.0, 2.0]);
        assert_eq!((s.min, s.median, s.max), (1.0, 2.0, 3.0));
        assert_eq!(s.repeats, [3.0, 1.0, 2.0], "repeats keep their order");
        assert_eq!(Stats::of(vec![4.0, 1.0, 2.0, 3.0]).median, 2.5);
    }

    #[test]
    fn throughput_counts_warmup_apart_and_divides_items_by_time() {
        let mut calls = 0;
        let s = throughput(Repeats { warmup: 2, timed: 3 }, &mut Turns::alone(), 10, || {
            calls += 1;
            std::thread::sleep(std::time::Duration::from_millis(20));
        })
        .unwrap();
        assert_eq!(calls, 5);
        assert_eq!(s.repeats.len(), 3);
        // 10 items in a bit over 20 ms: below 500/s, not far below
        assert!(s.max < 500.0 && s.min > 250.0, "{s:?}");
        let nap = || std::thread::sleep(std::time::Duration::from_millis(8));
        let l = latency_ms(Repeats { warmup: 0, timed: 2 }, &mut Turns::alone(), 4, nap).unwrap();
        assert!(l.min >= 2.0 && l.max < 4.0, "{l:?}");
    }

    #[test]
    fn alternating_rounds_run_abba_and_time_each_call_alone() {
        let order = std::cell::RefCell::new(String::new());
        let nap = |ms| std::thread::sleep(std::time::Duration::from_millis(ms));
        let (a, b) = throughput_alternating(
            Repeats { warmup: 1, timed: 4 },
            &mut Turns::alone(),
            10,
            || {
                order.borrow_mut().push('a');
                nap(5);
            },
            || {
                order.borrow_mut().push('b');
                nap(50);
            },
        )
        .unwrap();
        // a warm-up round, then ab, ba, ba, ab
        assert_eq!(order.into_inner(), "ababbabaab");
        assert_eq!((a.repeats.len(), b.repeats.len()), (4, 4));
        // 10 items in a bit over 5 ms and 50 ms: each call's own speed, not its neighbour's
        assert!(a.max < 2000.0 && b.max < 200.0 && a.min > b.max, "{a:?} {b:?}");
    }

    #[test]
    fn another_process_takes_its_rounds_in_turn_abba_after_our_warm_up() {
        let order = std::cell::RefCell::new(String::new());
        let mut other = |k: usize| {
            order.borrow_mut().push_str(&format!("O{k} "));
            Ok(())
        };
        let mut turns = Turns::with(&mut other);
        let s =
            throughput(Repeats { warmup: 1, timed: 5 }, &mut turns, 1, || order.borrow_mut().push_str("u ")).unwrap();
        assert_eq!(s.repeats.len(), 5);
        // the warm-up alone, then ours first in rounds 0, 3, 4
        assert_eq!(order.borrow().as_str(), "u u O0 O1 u O2 u u O3 u O4 ");
        order.borrow_mut().clear();
        let mut turns = Turns::with(&mut other);
        throughput_alternating(
            Repeats { warmup: 0, timed: 2 },
            &mut turns,
            1,
            || order.borrow_mut().push('a'),
            || order.borrow_mut().push('b'),
        )
        .unwrap();
        assert_eq!(order.borrow().as_str(), "abO0 O1 ba", "both calls of a round, then the other's round");
    }

    #[test]
    fn a_failing_other_round_ends_the_measurement_with_its_error() {
        let mut calls = 0;
        let mut other = |k: usize| if k == 1 { Err(crate::Error::Config("the reference died".into())) } else { Ok(()) };
        let e = throughput(Repeats { warmup: 0, timed: 5 }, &mut Turns::with(&mut other), 1, || calls += 1);
        assert!(e.unwrap_err().to_string().contains("the reference died"));
        assert_eq!(calls, 1, "round 1 waits for the other first, and it failed");
    }
}
