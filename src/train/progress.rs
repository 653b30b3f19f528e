//! Progress while training: a bar on a terminal, one plain line per evaluation otherwise
//! (notebooks, CI logs).
use super::EpochRecord;
use std::io::IsTerminal;

/// Progress reporting: a bar on a terminal, one plain line per epoch otherwise (notebooks, CI logs).
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    label: String,
    fractional: bool,
}

impl Progress {
    pub fn new(label: &str, batches: u64, fractional: bool) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new(batches);
            b.set_style(
                indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b.set_prefix(label.to_string());
            b
        });
        Progress { bar, label: label.to_string(), fractional }
    }
    pub fn tick(&self, msg: String) {
        if let Some(b) = &self.bar {
            b.set_message(msg);
            b.inc(1);
        }
    }
    pub fn record(&self, r: &EpochRecord, epochs: usize, best: bool) {
        let at = if self.fractional { format!("{:.2}", r.progress) } else { r.epoch.to_string() };
        let line = format!(
            "{} epoch {at}/{}: train loss {:.4} acc {:.3} | valid loss {:.4} acc {:.3} | lr {:.2e} | {:.1}s (data {:.1}, forward {:.1}, backward {:.1}, step {:.1}, validation {:.1}){}{}",
            self.label,
            epochs,
            r.train_loss,
            r.train_accuracy,
            r.valid_loss,
            r.valid_accuracy,
            r.lr,
            r.seconds,
            r.time.data,
            r.time.forward,
            r.time.backward,
            r.time.step,
            r.time.validation,
            if r.backbone_frozen { " (backbone frozen)" } else { "" },
            if best { " *" } else { "" }
        );
        match &self.bar {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
    }
    pub fn next_epoch(&self) {
        if let Some(b) = &self.bar {
            b.reset();
        }
    }
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
