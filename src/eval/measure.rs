//! Timing one measurement: warm-up calls, then timed repeats, summarised as min / median / max.
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

/// Items per second of `call` (which processes `items` items and returns once the work is done).
pub fn throughput(r: Repeats, items: usize, mut call: impl FnMut()) -> Stats {
    Stats::of(seconds(r, &mut call).into_iter().map(|s| items as f64 / s).collect())
}

/// Milliseconds per item of `call`.
pub fn latency_ms(r: Repeats, items: usize, mut call: impl FnMut()) -> Stats {
    Stats::of(seconds(r, &mut call).into_iter().map(|s| s * 1e3 / items as f64).collect())
}

/// Items per second of two calls timed in alternating rounds: a machine whose speed drifts over
/// seconds moves the two alike, so their ratio holds where the ratio of two separate measurements
/// minutes apart does not. The order is ABBA (`a` first in rounds 0, 3, 4, 7, 8, ...): each call
/// goes first in one of the rounds 2k and 2k+1, and a steady drift cancels over every four rounds.
/// Repeat `i` of the one is paired with repeat `i` of the other.
pub fn throughput_alternating(r: Repeats, items: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> (Stats, Stats) {
    for _ in 0..r.warmup {
        a();
        b();
    }
    let time = |call: &mut dyn FnMut()| items as f64 / seconds_of(call);
    let (mut of_a, mut of_b) = (Vec::new(), Vec::new());
    for round in 0..r.timed.max(1) {
        if (round + 1) % 4 < 2 {
            of_a.push(time(&mut a));
            of_b.push(time(&mut b));
        } else {
            of_b.push(time(&mut b));
            of_a.push(time(&mut a));
        }
    }
    (Stats::of(of_a), Stats::of(of_b))
}

fn seconds(r: Repeats, call: &mut impl FnMut()) -> Vec<f64> {
    for _ in 0..r.warmup {
        call();
    }
    (0..r.timed.max(1)).map(|_| seconds_of(call)).collect()
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
        let s = throughput(Repeats { warmup: 2, timed: 3 }, 10, || {
            calls += 1;
            std::thread::sleep(std::time::Duration::from_millis(20));
        });
        assert_eq!(calls, 5);
        assert_eq!(s.repeats.len(), 3);
        // 10 items in a bit over 20 ms: below 500/s, not far below
        assert!(s.max < 500.0 && s.min > 250.0, "{s:?}");
        let l =
            latency_ms(Repeats { warmup: 0, timed: 2 }, 4, || std::thread::sleep(std::time::Duration::from_millis(8)));
        assert!(l.min >= 2.0 && l.max < 4.0, "{l:?}");
    }

    #[test]
    fn alternating_rounds_run_abba_and_time_each_call_alone() {
        let order = std::cell::RefCell::new(String::new());
        let nap = |ms| std::thread::sleep(std::time::Duration::from_millis(ms));
        let (a, b) = throughput_alternating(
            Repeats { warmup: 1, timed: 4 },
            10,
            || {
                order.borrow_mut().push('a');
                nap(5);
            },
            || {
                order.borrow_mut().push('b');
                nap(50);
            },
        );
        // a warm-up round, then ab, ba, ba, ab
        assert_eq!(order.into_inner(), "ababbabaab");
        assert_eq!((a.repeats.len(), b.repeats.len()), (4, 4));
        // 10 items in a bit over 5 ms and 50 ms: each call's own speed, not its neighbour's
        assert!(a.max < 2000.0 && b.max < 200.0 && a.min > b.max, "{a:?} {b:?}");
    }
}
