//! Where a row trains: beside its checkpoint under a hidden name, moved into place by
//! [`Staged::commit`] only when the row is done, so an interrupted or failed retrain never leaves
//! new weights under a finished row.
use crate::config::run::Run;
use crate::error::{Error, Result};
use std::path::PathBuf;

/// A checkpoint being trained, removed unless committed.
#[derive(Debug)]
pub struct Staged {
    pub training: PathBuf,
    pub done: PathBuf,
}

impl Staged {
    /// Row `model`'s checkpoint of `part`, trained under a hidden name.
    pub fn row(run: &Run, part: &str, model: &str) -> Staged {
        let done = run.checkpoint(part, model);
        Staged { training: done.with_file_name(format!(".{model}.training.safetensors")), done }
    }

    /// One of several trainings of row `model` (e.g. one per candidate input size) under its own
    /// hidden name `tag`: the one committed becomes the row's checkpoint, the others are discarded.
    pub fn trial(run: &Run, part: &str, model: &str, tag: &str) -> Staged {
        let done = run.checkpoint(part, model);
        Staged { training: done.with_file_name(format!(".{model}.{tag}.training.safetensors")), done }
    }

    /// Put the trained checkpoint in place of the row's; the row's training snapshot goes.
    pub fn commit(self) -> Result<()> {
        std::fs::rename(&self.training, &self.done).map_err(|e| Error::io(&self.done, e))?;
        super::resume::remove(&self.training);
        let _ = std::fs::remove_file(super::within_path(&self.training));
        Ok(())
    }

    /// Remove the training file and its snapshot: a trial that was not chosen.
    pub fn discard(self) {
        super::resume::remove(&self.training);
        let _ = std::fs::remove_file(&self.training);
        let _ = std::fs::remove_file(super::within_path(&self.training));
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        // after a commit the file is gone; otherwise it is an unfinished row's, kept only with
        // the snapshot that continues it
        if !super::resume::exists(&self.training) {
            let _ = std::fs::remove_file(&self.training);
        }
        // a snapshot holds these weights too
        let _ = std::fs::remove_file(super::within_path(&self.training));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::run::RunConfig;
    use crate::Profile;
    use tch::Device;

    #[test]
    fn a_staged_checkpoint_replaces_the_row_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let run =
            Run::new(RunConfig::new(Profile::Smoke, 1, "d".into(), dir.path().join("r"), Device::Cpu), Device::Cpu)
                .unwrap();
        let done = run.checkpoint("part1", "m");
        std::fs::create_dir_all(done.parent().unwrap()).unwrap();
        std::fs::write(&done, "old").unwrap();
        let staged = Staged::row(&run, "part1", "m");
        std::fs::write(&staged.training, "half-trained").unwrap();
        drop(staged); // an interrupted retrain
        assert_eq!(std::fs::read_to_string(&done).unwrap(), "old");
        assert_eq!(std::fs::read_dir(done.parent().unwrap()).unwrap().count(), 1, "the training file is gone");
        let staged = Staged::row(&run, "part1", "m");
        std::fs::write(&staged.training, "new").unwrap();
        staged.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&done).unwrap(), "new");
        assert_eq!(std::fs::read_dir(done.parent().unwrap()).unwrap().count(), 1);
    }
}
