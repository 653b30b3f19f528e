//! Face-emotion images in a Roboflow classification export.
//!
//! Two layouts are read: folders (`{train,valid,test}/<class>/*.jpg|png`) and the CSV export
//! (`{split}/_classes.csv` with `filename` then one one-hot column per class, images beside it).
//! Class names come from the train split in a stable order (sorted folder names, or the CSV's
//! column order) and valid/test may not introduce a class train lacks.
use crate::error::{Error, Result};
use image::RgbImage;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const SPLITS: [&str; 3] = ["train", "valid", "test"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaceItem {
    pub path: PathBuf,
    pub label: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FaceDataset {
    pub root: PathBuf,
    pub classes: Vec<String>,
    pub train: Vec<FaceItem>,
    pub valid: Vec<FaceItem>,
    pub test: Vec<FaceItem>,
    /// Images that failed to decode and were skipped (only with `skip_bad_images`).
    pub skipped: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    pub skip_bad_images: bool,
}

fn is_image(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()).as_deref(),
        Some("jpg" | "jpeg" | "png")
    )
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    v.sort();
    Ok(v)
}

/// Read the split folders under `root`, then decode every image once to prove it is readable.
pub fn load(root: &Path, opts: LoadOptions) -> Result<FaceDataset> {
    let csv_layout = root.join("train/_classes.csv").is_file();
    let mut classes: Vec<String> = Vec::new();
    let mut splits: Vec<Vec<FaceItem>> = Vec::new();
    for split in SPLITS {
        let dir = root.join(split);
        if !dir.is_dir() {
            let why = if dir.exists() { "is a file where a split folder should be" } else { "split folder is missing" };
            return Err(Error::data(&dir, None, why));
        }
        let items = if csv_layout {
            read_csv_split(&dir, &mut classes, split == "train")?
        } else {
            read_folder_split(&dir, &mut classes, split == "train", 2)?
        };
        if items.is_empty() {
            return Err(Error::data(&dir, None, "split holds no images"));
        }
        splits.push(items);
    }
    let mut skipped = Vec::new();
    for items in splits.iter_mut() {
        skipped.extend(validate(items, opts)?);
        if items.is_empty() {
            return Err(Error::data(root, None, "a split has no readable images left"));
        }
    }
    let test = splits.pop().unwrap_or_default();
    let valid = splits.pop().unwrap_or_default();
    let train = splits.pop().unwrap_or_default();
    Ok(FaceDataset { root: root.to_path_buf(), classes, train, valid, test, skipped })
}

fn read_folder_split(
    dir: &Path,
    classes: &mut Vec<String>,
    is_train: bool,
    min_classes: usize,
) -> Result<Vec<FaceItem>> {
    let class_dirs: Vec<PathBuf> = sorted_entries(dir)?.into_iter().filter(|p| p.is_dir()).collect();
    if is_train {
        *classes =
            class_dirs.iter().map(|d| d.file_name().unwrap_or_default().to_string_lossy().into_owned()).collect();
        if classes.len() < min_classes {
            return Err(Error::data(
                dir,
                None,
                format!("found {} class folders; need at least {min_classes}", classes.len()),
            ));
        }
    }
    let mut items = Vec::new();
    for cdir in class_dirs {
        let name = cdir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let label = classes.iter().position(|c| *c == name).ok_or_else(|| {
            Error::data(&cdir, None, format!("class folder `{name}` is not a training class ({})", classes.join(", ")))
        })?;
        let before = items.len();
        for f in sorted_entries(&cdir)?.into_iter().filter(|p| is_image(p)) {
            items.push(FaceItem { path: f, label: label as i64 });
        }
        // in train an empty folder would still become a class (a phantom one, with no images)
        if is_train && items.len() == before {
            return Err(Error::data(
                &cdir,
                None,
                "class folder holds no images (remove the folder of an absent class)",
            ));
        }
    }
    Ok(items)
}

fn read_csv_split(dir: &Path, classes: &mut Vec<String>, is_train: bool) -> Result<Vec<FaceItem>> {
    let path = dir.join("_classes.csv");
    let text = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let text = String::from_utf8_lossy(&text);
    let mut lines = text.lines().enumerate();
    let (_, header) = lines.next().ok_or_else(|| Error::data(&path, Some(1), "empty file"))?;
    // Roboflow writes headers like `filename, angry, disgust`: trim the padding.
    let cols: Vec<String> = header.split(',').map(|s| s.trim().to_string()).collect();
    if cols.first().map(|c| c.as_str()) != Some("filename") || cols.len() < 3 {
        return Err(Error::data(&path, Some(1), "header must be `filename,<class>,<class>,...`"));
    }
    let split_classes = &cols[1..];
    if is_train {
        *classes = split_classes.to_vec();
    } else if split_classes != classes.as_slice() {
        return Err(Error::data(
            &path,
            Some(1),
            format!("class columns [{}] differ from train's [{}]", split_classes.join(", "), classes.join(", ")),
        ));
    }
    let mut items = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let lineno = Some(i + 1);
        if fields.len() != cols.len() {
            return Err(Error::data(&path, lineno, format!("expected {} fields, found {}", cols.len(), fields.len())));
        }
        let hot: Vec<usize> = fields[1..].iter().enumerate().filter(|(_, v)| **v == "1").map(|(k, _)| k).collect();
        if hot.len() != 1 || fields[1..].iter().any(|v| *v != "0" && *v != "1") {
            return Err(Error::data(&path, lineno, "expected exactly one `1` among the class columns (single-label)"));
        }
        let name = Path::new(fields[0]);
        if name.is_absolute() || name.components().any(|c| !matches!(c, std::path::Component::Normal(_))) {
            return Err(Error::data(
                &path,
                lineno,
                format!("image `{}` is not a file inside {}", fields[0], dir.display()),
            ));
        }
        let file = dir.join(name);
        if !file.is_file() {
            return Err(Error::data(&path, lineno, format!("image `{}` does not exist", fields[0])));
        }
        items.push(FaceItem { path: file, label: hot[0] as i64 });
    }
    // as with folders: a training class column no row marks would be a phantom class
    let unused = |k: usize| !items.iter().any(|it| it.label == k as i64);
    if let Some(empty) = classes.iter().enumerate().find(|(k, _)| is_train && unused(*k)) {
        let msg = format!("class `{}` has no images (remove the column of an absent class)", empty.1);
        return Err(Error::data(&path, None, msg));
    }
    Ok(items)
}

/// One labelled image folder read on its own, for scoring a trained model on other data: the
/// class names are the folder's own (`<class>/<images>`, or `_classes.csv` with its one-hot
/// columns), and every image is decoded once. An empty class folder is an error, not a class
/// with no images: leave an absent class out instead.
pub fn load_labelled_folder(dir: &Path, opts: LoadOptions) -> Result<(Vec<String>, Vec<FaceItem>, Vec<PathBuf>)> {
    if !dir.is_dir() {
        return Err(Error::data(dir, None, "not a folder of labelled images"));
    }
    let mut classes = Vec::new();
    let mut items = if dir.join("_classes.csv").is_file() {
        read_csv_split(dir, &mut classes, true)?
    } else {
        read_folder_split(dir, &mut classes, true, 1)?
    };
    let skipped = validate(&mut items, opts)?;
    if items.is_empty() {
        return Err(Error::data(dir, None, "no readable images left"));
    }
    Ok((classes, items, skipped))
}

/// Decode every image in parallel. A bad one is an error naming it, or (with `skip_bad_images`)
/// is dropped and returned.
fn validate(items: &mut Vec<FaceItem>, opts: LoadOptions) -> Result<Vec<PathBuf>> {
    let bad: Vec<(usize, String)> =
        items.par_iter().enumerate().filter_map(|(i, it)| decode(&it.path).err().map(|e| (i, e.to_string()))).collect();
    if let Some((i, msg)) = bad.first().filter(|_| !opts.skip_bad_images) {
        let _ = i;
        return Err(Error::data(&items[*i].path, None, format!("unreadable image: {msg}")));
    }
    let bad_idx: std::collections::HashSet<usize> = bad.iter().map(|(i, _)| *i).collect();
    let skipped = bad.iter().map(|(i, _)| items[*i].path.clone()).collect();
    let mut k = 0;
    items.retain(|_| {
        k += 1;
        !bad_idx.contains(&(k - 1))
    });
    Ok(skipped)
}

/// Decode one image as RGB (grey images are replicated to 3 channels).
pub fn decode(path: &Path) -> Result<RgbImage> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    // The JPEG decoder fills a file cut short with grey instead of failing; a complete JPEG ends
    // with the end-of-image marker (some writers pad after it).
    let trimmed = bytes.iter().rposition(|&b| b != 0 && !b.is_ascii_whitespace()).map_or(&bytes[..0], |i| &bytes[..=i]);
    if bytes.starts_with(&[0xFF, 0xD8]) && !trimmed.ends_with(&[0xFF, 0xD9]) {
        return Err(Error::data(path, None, "truncated JPEG: the end-of-image marker is missing"));
    }
    let img = image::ImageReader::new(std::io::Cursor::new(&bytes))
        .with_guessed_format()
        .map_err(|e| Error::io(path, e))?
        .decode()
        .map_err(|e| Error::data(path, None, format!("cannot decode image: {e}")))?;
    Ok(img.to_rgb8())
}

impl FaceDataset {
    pub fn class_counts(&self, items: &[FaceItem]) -> Vec<u64> {
        let mut c = vec![0u64; self.classes.len()];
        items.iter().for_each(|it| c[it.label as usize] += 1);
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_png(path: &Path, v: u8) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        image::GrayImage::from_pixel(6, 6, image::Luma([v])).save(path).unwrap();
    }

    fn folder_fixture(root: &Path) {
        for split in SPLITS {
            for (k, class) in ["sad", "happy"].iter().enumerate() {
                write_png(&root.join(split).join(class).join(format!("{k}a.png")), 10 * k as u8);
            }
        }
    }

    #[test]
    fn folder_layout_sorted_classes() {
        let dir = tempfile::tempdir().unwrap();
        folder_fixture(dir.path());
        let ds = load(dir.path(), LoadOptions::default()).unwrap();
        assert_eq!(ds.classes, vec!["happy", "sad"]);
        assert_eq!(ds.train.len(), 2);
        assert!(ds.train.iter().all(
            |it| ds.classes[it.label as usize] == it.path.parent().unwrap().file_name().unwrap().to_str().unwrap()
        ));
    }

    #[test]
    fn class_only_in_test_is_an_error_naming_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        folder_fixture(dir.path());
        write_png(&dir.path().join("test/angry/x.png"), 3);
        let err = load(dir.path(), LoadOptions::default()).unwrap_err().to_string();
        assert!(err.contains("test/angry") && err.contains("not a training class"), "{err}");
    }

    #[test]
    fn corrupt_image_errors_or_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        folder_fixture(dir.path());
        let bad = dir.path().join("train/sad/zz.jpg");
        std::fs::write(&bad, b"not a jpeg").unwrap();
        let err = load(dir.path(), LoadOptions::default()).unwrap_err().to_string();
        assert!(err.contains("zz.jpg"), "{err}");
        let ds = load(dir.path(), LoadOptions { skip_bad_images: true }).unwrap();
        assert_eq!(ds.skipped, vec![bad]);
        assert_eq!(ds.train.len(), 2);
    }

    #[test]
    fn an_empty_training_class_or_a_path_outside_the_split_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        folder_fixture(dir.path());
        std::fs::create_dir_all(dir.path().join("train/contempt")).unwrap();
        let err = load(dir.path(), LoadOptions::default()).unwrap_err().to_string();
        assert!(err.contains("train/contempt") && err.contains("no images"), "{err}");

        let csv = tempfile::tempdir().unwrap();
        for split in SPLITS {
            let d = csv.path().join(split);
            write_png(&d.join("a.png"), 1);
            write_png(&d.join("b.png"), 2);
            std::fs::write(d.join("_classes.csv"), "filename,x,y\na.png,1,0\nb.png,0,1\n").unwrap();
        }
        std::fs::write(csv.path().join("test/_classes.csv"), "filename,x,y\na.png,1,0\n../train/b.png,0,1\n").unwrap();
        let err = load(csv.path(), LoadOptions::default()).unwrap_err().to_string();
        assert!(err.contains("test/_classes.csv:3") && err.contains("not a file inside"), "{err}");
        std::fs::write(csv.path().join("train/_classes.csv"), "filename,x,y,z\na.png,1,0,0\nb.png,0,1,0\n").unwrap();
        let err = load(csv.path(), LoadOptions::default()).unwrap_err().to_string();
        assert!(err.contains("train/_classes.csv") && err.contains("class `z` has no images"), "{err}");
    }

    #[test]
    fn a_split_that_is_a_file_says_so() {
        let dir = tempfile::tempdir().unwrap();
        folder_fixture(dir.path());
        std::fs::remove_dir_all(dir.path().join("valid")).unwrap();
        std::fs::write(dir.path().join("valid"), b"oops").unwrap();
        let err = load(dir.path(), LoadOptions::default()).unwrap_err().to_string();
        assert!(err.contains("valid") && err.contains("is a file"), "{err}");
    }

    #[test]
    fn a_jpeg_cut_short_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.jpg");
        image::RgbImage::from_pixel(16, 16, image::Rgb([200, 10, 10])).save(&p).unwrap();
        let whole = std::fs::read(&p).unwrap();
        assert_eq!(decode(&p).unwrap().dimensions(), (16, 16));
        std::fs::write(&p, [whole.as_slice(), b"\0\0\n"].concat()).unwrap();
        assert!(decode(&p).is_ok(), "padding after the end marker is fine");
        std::fs::write(&p, &whole[..whole.len() * 2 / 3]).unwrap();
        let err = decode(&p).unwrap_err().to_string();
        assert!(err.contains("a.jpg") && err.contains("truncated JPEG"), "{err}");
    }

    #[test]
    fn empty_split_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        folder_fixture(dir.path());
        for class in ["sad", "happy"] {
            std::fs::remove_dir_all(dir.path().join("valid").join(class)).unwrap();
        }
        let err = load(dir.path(), LoadOptions::default()).unwrap_err().to_string();
        assert!(err.contains("valid") && err.contains("no images"), "{err}");
    }

    #[test]
    fn csv_layout_and_mismatched_columns() {
        let dir = tempfile::tempdir().unwrap();
        for split in SPLITS {
            let d = dir.path().join(split);
            write_png(&d.join("a.png"), 1);
            write_png(&d.join("b.png"), 2);
            std::fs::write(d.join("_classes.csv"), "filename, neutral, angry\na.png,0,1\nb.png,1,0\n").unwrap();
        }
        let ds = load(dir.path(), LoadOptions::default()).unwrap();
        assert_eq!(ds.classes, vec!["neutral", "angry"]);
        assert_eq!(ds.test[0].label, 1);
        std::fs::write(dir.path().join("valid/_classes.csv"), "filename,angry,neutral\na.png,0,1\n").unwrap();
        let err = load(dir.path(), LoadOptions::default()).unwrap_err().to_string();
        assert!(err.contains("valid/_classes.csv:1"), "{err}");
        std::fs::write(dir.path().join("valid/_classes.csv"), "filename,neutral,angry\na.png,1,1\n").unwrap();
        let err = load(dir.path(), LoadOptions::default()).unwrap_err().to_string();
        assert!(err.contains("valid/_classes.csv:2") && err.contains("exactly one"), "{err}");
    }

    #[test]
    fn real_faces_counts() {
        let root = crate::testing::require(crate::config::paths::FACES);
        let ds = load(&root, LoadOptions::default()).unwrap();
        assert_eq!(ds.classes, vec!["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]);
        assert_eq!((ds.train.len(), ds.valid.len(), ds.test.len()), (3500, 1000, 500));
        assert_eq!(ds.class_counts(&ds.train), vec![466, 54, 499, 872, 605, 613, 391]);
    }
}
