//! Atomic file output: write beside the target, fsync, then rename, so a crash or a failed
//! serialisation never leaves a half-written result behind.
use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Write `bytes` to `path` atomically, creating parent directories.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with(path, |tmp| {
        let mut f = std::fs::File::create(tmp).map_err(|e| Error::io(tmp, e))?;
        f.write_all(bytes).map_err(|e| Error::io(tmp, e))?;
        f.sync_all().map_err(|e| Error::io(tmp, e))
    })
}

/// Serialise `value` as pretty JSON to `path` atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| Error::Json { path: path.into(), source: e })?;
    write_bytes(path, &bytes)
}

/// Let `produce` write a temporary file (e.g. a tensor saver that only takes a path), then
/// move it into place. The temp file is removed if `produce` fails.
pub fn write_with(path: &Path, produce: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let tmp = temp_path(path);
    if let Err(e) = produce(&tmp) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// Fill a whole directory at once: `produce` writes into a temporary sibling, which then takes
/// the place of `dir` (an older `dir` is removed only after that). If `produce` fails, the
/// temporary directory goes, and so does `dir`'s parent if this call created it: the tree looks
/// as it did before.
pub fn write_dir(dir: &Path, produce: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let parent = dir.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let created_parent = !parent.exists();
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    let tmp = temp_path(dir);
    let old = tmp.with_extension("old");
    let result = std::fs::create_dir(&tmp).map_err(|e| Error::io(&tmp, e)).and_then(|_| produce(&tmp)).and_then(|_| {
        if dir.exists() {
            std::fs::rename(dir, &old).map_err(|e| Error::io(dir, e))?;
        }
        std::fs::rename(&tmp, dir).map_err(|e| Error::io(dir, e))
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
        if old.exists() && !dir.exists() {
            let _ = std::fs::rename(&old, dir);
        }
        if created_parent {
            let _ = std::fs::remove_dir(parent);
        }
    }
    let _ = std::fs::remove_dir_all(&old);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_dir_replaces_whole_or_leaves_no_trace() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("eval/x");
        let failed = write_dir(&dir, |tmp| {
            std::fs::write(tmp.join("a.json"), b"half").unwrap();
            Err(Error::Config("boom".into()))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0, "eval/ was created by the call and must go");
        write_dir(&dir, |tmp| write_bytes(&tmp.join("a.json"), b"1")).unwrap();
        write_dir(&dir, |tmp| write_bytes(&tmp.join("b.json"), b"2")).unwrap();
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("b.json")]);
        assert!(write_dir(&dir, |_| Err(Error::Config("boom".into()))).is_err());
        assert!(dir.join("b.json").is_file(), "a failed rewrite keeps the old directory");
        assert_eq!(std::fs::read_dir(root.path().join("eval")).unwrap().count(), 1, "no temp dirs left");
    }

    #[test]
    fn failed_write_leaves_no_file_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.json");
        let r = write_with(&target, |tmp| {
            std::fs::write(tmp, b"partial").unwrap();
            Err(Error::Config("boom".into()))
        });
        assert!(r.is_err());
        assert!(!target.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn json_round_trip_replaces_old_content() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a/b/r.json");
        write_json(&target, &vec![1, 2, 3]).unwrap();
        write_json(&target, &vec![4]).unwrap();
        let back: Vec<i32> = serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
        assert_eq!(back, vec![4]);
    }
}
