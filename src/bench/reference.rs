//! PyTorch measured beside us: `scripts/bench_reference.py --serve` runs as a child process that
//! reads one case (with its unit) per line on stdin and answers on stdout. The two sides take
//! their timed rounds in turn, one by one (`measure::Turns`): PyTorch builds and warms up, says
//! `{"ready": true}`, then times round k when told `{"go": k}` and answers `{"done": k}`; its
//! stats come last. So repeat k of either side is timed within seconds of the other's, on a
//! machine whose speed drifts by 10-20% over minutes. (Runs without `paired_rounds` took turns
//! case by case, tens of seconds apart; before 2026-12-01 evening all of ours ran first, twelve
//! minutes before PyTorch's.) Inference and the data pipeline still take turns case by case,
//! in ABBA order over those cases.
use super::cases::{Case, Timing};
use super::measure::{first_in, Stats, Turns};
use super::Side;
use crate::error::{Error, Result};
use serde::Deserialize;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// The running reference process.
pub struct Reference {
    script: PathBuf,
    child: Child,
    to: Option<ChildStdin>,
    from: BufReader<ChildStdout>,
    /// Cases timed case by case so far, for their ABBA order.
    alone: usize,
}

/// `{"stats": null}` for a case the reference has no counterpart of; `bare` for an epoch case.
#[derive(Deserialize)]
struct Answer {
    stats: Option<Stats>,
    #[serde(default)]
    bare: Option<Stats>,
}

impl Reference {
    /// Starts `python script --serve --out pytorch_json`, sends it `header` (threads, repeats,
    /// weights and faces to load; its measurements are ignored) and waits until it has loaded torch,
    /// so that its start does not share the cores with our first case. The script writes
    /// `pytorch_json`, with FLOPs per image at `flops_sizes`, only when [`Reference::finish`] ends
    /// the run.
    pub fn start(python: &Path, script: &Path, pytorch_json: &Path, flops_sizes: &str, header: &Side) -> Result<Self> {
        let mut child = Command::new(python)
            .arg(script)
            .args(["--serve", "--flops-sizes", flops_sizes, "--out"])
            .arg(pytorch_json)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Config(format!("cannot start {} {}: {e}", python.display(), script.display())))?;
        let (to, from) = (child.stdin.take(), child.stdout.take().map(BufReader::new));
        let from = from.ok_or_else(|| Error::Config("the reference's stdout was not captured".into()))?;
        let mut r = Reference { script: script.to_path_buf(), child, to, from, alone: 0 };
        r.send(&serde_json::to_string(header).expect("a bench side serialises"))?;
        match r.answer("getting ready")?.get("ready") {
            Some(serde_json::Value::Bool(true)) => Ok(r),
            _ => Err(Error::Config(format!("{}: expected {{\"ready\": true}} first", script.display()))),
        }
    }

    /// `case` on both sides, their timed rounds in turn where the case takes them so, else case by
    /// case in ABBA order over such cases (ours first in the first, fourth, fifth, ...): ours
    /// (`ours`, given the turns to take) and PyTorch's, None for a case it has no counterpart of
    /// (the data pipeline, then timed alone).
    pub fn measure_beside(
        &mut self,
        case: &Case,
        ours: impl FnOnce(&mut Turns) -> Result<Timing>,
    ) -> Result<(Timing, Option<Timing>)> {
        let rounds = case.rounds_in_turn();
        let request = serde_json::json!({ "case": case, "unit": case.unit(), "rounds": rounds });
        if !rounds {
            self.alone += 1;
            if first_in(self.alone - 1) {
                let timing = ours(&mut Turns::alone())?;
                return Ok((timing, self.ask(request, case)?));
            }
            let theirs = self.ask(request, case)?;
            return Ok((ours(&mut Turns::alone())?, theirs));
        }
        self.send(&request.to_string())?;
        let first = self.answer(&format!("getting ready for {}", case.label()))?;
        if first.get("ready") != Some(&serde_json::Value::Bool(true)) {
            // no counterpart there: its answer came at once
            let theirs = self.timing(first)?;
            return Ok((ours(&mut Turns::alone())?, theirs));
        }
        let mut round = |k: usize| self.round(k);
        let timing = ours(&mut Turns::with(&mut round))?;
        let answer = self.answer(&format!("answering {}", case.label()))?;
        Ok((timing, self.timing(answer)?))
    }

    /// PyTorch's round `k` of the case under way, timed while we wait.
    fn round(&mut self, k: usize) -> Result<()> {
        self.send(&serde_json::json!({ "go": k }).to_string())?;
        let done = self.answer(&format!("timing round {k}"))?;
        if done.get("done").and_then(|d| d.as_u64()) != Some(k as u64) {
            return Err(Error::Config(format!("{}: expected {{\"done\": {k}}}, got {done}", self.script.display())));
        }
        Ok(())
    }

    /// `case` measured and left out of the reference's file (see `bench::warm_up`).
    pub fn warm_up(&mut self, case: &Case) -> Result<()> {
        self.ask(serde_json::json!({ "case": case, "unit": case.unit(), "warmup": true }), case).map(drop)
    }

    fn ask(&mut self, request: serde_json::Value, case: &Case) -> Result<Option<Timing>> {
        self.send(&request.to_string())?;
        let answer = self.answer(&format!("answering {}", case.label()))?;
        self.timing(answer)
    }

    /// A case's final answer: its stats, or None for a case PyTorch has no counterpart of.
    fn timing(&self, answer: serde_json::Value) -> Result<Option<Timing>> {
        serde_json::from_value::<Answer>(answer)
            .map(|a| a.stats.map(|stats| Timing { stats, bare: a.bare }))
            .map_err(|e| Error::Config(format!("{}: unreadable stats: {e}", self.script.display())))
    }

    /// Ends the run: the reference writes its side and exits. Closing its input without this
    /// (we were killed) makes it exit without writing.
    pub fn finish(mut self) -> Result<()> {
        self.send(r#"{"end": true}"#)?;
        drop(self.to.take());
        let status = self.child.wait().map_err(|e| Error::io(&self.script, e))?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::Config(format!("{} exited with {status}", self.script.display())))
        }
    }

    /// The next line of the reference's output as JSON; `what` names what it was doing, for errors.
    fn answer(&mut self, what: &str) -> Result<serde_json::Value> {
        let mut line = String::new();
        let n = self.from.read_line(&mut line).map_err(|e| Error::io(&self.script, e))?;
        if n == 0 {
            return Err(self.died(&format!("ended before {what}")));
        }
        serde_json::from_str(&line)
            .map_err(|e| Error::Config(format!("{}: unreadable answer {:?}: {e}", self.script.display(), line.trim())))
    }

    fn send(&mut self, line: &str) -> Result<()> {
        let to = self.to.as_mut().expect("input open until finish");
        if writeln!(to, "{line}").and_then(|_| to.flush()).is_err() {
            return Err(self.died("stopped reading"));
        }
        Ok(())
    }

    fn died(&mut self, what: &str) -> Error {
        // Ctrl-C reaches the child too: the run was stopped, the reference did not fail
        if let Some(signal) = crate::interrupt::requested() {
            let _ = self.child.wait();
            return Error::Interrupted { signal };
        }
        let status = self.child.wait().map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
        Error::Config(format!("{} {what} ({status}; its messages are above)", self.script.display()))
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        if self.to.is_some() {
            // an error or a stop ended the run early: the child would wait for input forever
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reference that logs each case it is asked for to `<out>.log` and has no counterpart of any.
    const LOGGING_REFERENCE: &str = "import json, sys\n\
        log = sys.argv[sys.argv.index('--out') + 1] + '.log'\n\
        sys.stdin.readline(); print(json.dumps({'ready': True}), flush=True)\n\
        for line in sys.stdin:\n    \
            if 'end' in json.loads(line): sys.exit(0)\n    \
            open(log, 'a').write('theirs ')\n    \
            print(json.dumps({'stats': None}), flush=True)\n";

    #[test]
    fn cases_timed_case_by_case_alternate_abba() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("logs.py");
        std::fs::write(&script, LOGGING_REFERENCE).unwrap();
        let out = dir.path().join("pytorch.json");
        let header: Side = serde_json::from_value(serde_json::json!({"library": "test", "machine": "test",
            "threads": 1, "repeats": {"warmup": 0, "timed": 1}, "measured": []}))
        .unwrap();
        let mut r = Reference::start(Path::new("python3"), &script, &out, "32", &header).unwrap();
        let case: Case = serde_json::from_value(serde_json::json!({"kind": "data", "size": 32, "batch": 4})).unwrap();
        assert!(!case.rounds_in_turn());
        let log = out.with_extension("json.log");
        for _ in 0..4 {
            let ours = |_: &mut Turns| {
                std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap().write_all(b"ours ").unwrap();
                Ok(Timing { stats: Stats::of(vec![1.0]), bare: None })
            };
            let (_, theirs) = r.measure_beside(&case, ours).unwrap();
            assert!(theirs.is_none());
        }
        r.finish().unwrap();
        let logged = std::fs::read_to_string(&log).unwrap();
        assert_eq!(logged.trim(), "ours theirs theirs ours theirs ours ours theirs");
    }
}
