//! The bad-input corpus: a small data root generated here (never committed), then one thing
//! broken at a time. Each case runs the CLI and asserts: no panic, a failing exit, the file (and
//! line, where the format has lines) named in the message, and nothing written to `--out`.
use std::path::{Path, PathBuf};

mod common;
use common::bin;

const CLASSES: [&str; 3] = ["angry", "happy", "sad"];

/// A data root that runs: faces (3 classes of generated 48x48 JPEGs), Drugs.com, Druglib and IMDB.
fn mini_root(dir: &Path) -> PathBuf {
    let root = dir.join("data");
    for (split, n) in [("train", 4), ("valid", 2), ("test", 2)] {
        for (c, class) in CLASSES.iter().enumerate() {
            let d = root.join("faces").join(split).join(class);
            std::fs::create_dir_all(&d).unwrap();
            for i in 0..n {
                let img = image::GrayImage::from_fn(48, 48, |x, y| {
                    image::Luma([((x * 5 + y * 3 + i * 17 + c as u32 * 40) % 256) as u8])
                });
                img.save(d.join(format!("{i}.jpg"))).unwrap();
            }
        }
    }
    let dc = root.join("drug_reviews");
    std::fs::create_dir_all(&dc).unwrap();
    std::fs::write(dc.join("drugsComTrain_raw.csv"), drugs_com(0, 60)).unwrap();
    std::fs::write(dc.join("drugsComTest_raw.csv"), drugs_com(1000, 30)).unwrap();
    let dl = root.join("druglib");
    std::fs::create_dir_all(&dl).unwrap();
    std::fs::write(dl.join("drugLibTrain_raw.tsv"), druglib(0, 30)).unwrap();
    std::fs::write(dl.join("drugLibTest_raw.tsv"), druglib(500, 10)).unwrap();
    for split in ["train", "test"] {
        for (label, rating) in [("pos", 9), ("neg", 2)] {
            let d = root.join("imdb/aclImdb").join(split).join(label);
            std::fs::create_dir_all(&d).unwrap();
            for i in 0..8 {
                let words = if label == "pos" { "a wonderful moving film" } else { "a dull tedious film" };
                std::fs::write(d.join(format!("{i}_{rating}.txt")), format!("Review {i}: {words}, number {i}."))
                    .unwrap();
            }
        }
    }
    root
}

fn drugs_com(first_id: usize, n: usize) -> String {
    let mut s = String::from("uniqueID,drugName,condition,review,rating,date,usefulCount\n");
    for i in 0..n {
        let (rating, words) = if i % 3 == 0 { (2, "terrible side effects") } else { (9, "worked very well") };
        let day = 1 + i % 28;
        s += &format!(
            "{},Drug{},Pain,\"\"\"Review {}: {words}.\"\"\",{rating},{day}-Mar-1{},{}\n",
            first_id + i,
            i % 5,
            first_id + i,
            2 + i % 6,
            i % 7
        );
    }
    s
}

fn druglib(first: usize, n: usize) -> String {
    let mut s = String::from("num\turlDrugName\trating\teffectiveness\tsideEffects\tcondition\tbenefitsReview\tsideEffectsReview\tcommentsReview\n");
    for i in 0..n {
        let rating = if i % 3 == 0 { 2 } else { 9 };
        s += &format!(
            "{}\tdrug{}\t{rating}\tHighly Effective\tMild Side Effects\tpain\tbenefit {}\tside effect {}\tcomment {}\n",
            first + i,
            i % 4,
            first + i,
            first + i,
            first + i
        );
    }
    s
}

/// Run `part` in the smoke profile on `root` into a fresh `--out`: (exit success, stderr, out).
fn run(part: &str, root: &Path, extra: &[&str]) -> (bool, String, PathBuf) {
    let out = root.parent().unwrap().join(format!("out-{part}"));
    let _ = std::fs::remove_dir_all(&out);
    let models = if part == "part1" { "emotionnet_v1" } else { "bilstm_drugscom" };
    let o = bin()
        .args(["--device", "cpu", part, "--profile", "smoke", "--no-figures", "--models", models, "--data-dir"])
        .arg(root)
        .arg("--out")
        .arg(&out)
        .args(extra)
        .output()
        .unwrap();
    (o.status.success(), String::from_utf8_lossy(&o.stderr).into_owned(), out)
}

/// One broken thing: the part it breaks, what to do to a fresh mini root, and what the message
/// must contain (a file name, and `:line` where there is one).
struct Case {
    name: &'static str,
    part: &'static str,
    breaks: fn(&Path),
    says: &'static [&'static str],
}

fn write(path: PathBuf, text: &str) {
    std::fs::write(path, text).unwrap();
}

fn edit(path: PathBuf, f: impl Fn(String) -> String) {
    let s = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, f(s)).unwrap();
}

/// Replace line `n` (1-based) of a text file.
fn set_line(path: PathBuf, n: usize, line: &str) {
    edit(path, |s| {
        let mut lines: Vec<String> = s.lines().map(str::to_string).collect();
        lines[n - 1] = line.to_string();
        lines.join("\n") + "\n"
    });
}

const DC: &str = "drug_reviews/drugsComTrain_raw.csv";
const DL: &str = "druglib/drugLibTrain_raw.tsv";

fn cases() -> Vec<Case> {
    vec![
        // ---- faces
        Case {
            name: "jpeg cut in half",
            part: "part1",
            breaks: |r| edit_bytes(r.join("faces/train/angry/1.jpg"), |b| b[..b.len() / 2].to_vec()),
            says: &["train/angry/1.jpg"],
        },
        Case {
            name: "text saved as .jpg",
            part: "part1",
            breaks: |r| write(r.join("faces/train/happy/2.jpg"), "not an image"),
            says: &["train/happy/2.jpg"],
        },
        Case {
            name: "zero-byte jpeg",
            part: "part1",
            breaks: |r| write(r.join("faces/valid/sad/0.jpg"), ""),
            says: &["valid/sad/0.jpg"],
        },
        Case {
            name: "empty class folder in train",
            part: "part1",
            breaks: |r| std::fs::create_dir_all(r.join("faces/train/fear")).unwrap(),
            says: &["fear"],
        },
        Case {
            name: "class only in test",
            part: "part1",
            breaks: |r| {
                let d = r.join("faces/test/surprise");
                std::fs::create_dir_all(&d).unwrap();
                std::fs::copy(r.join("faces/test/sad/0.jpg"), d.join("0.jpg")).unwrap();
            },
            says: &["surprise"],
        },
        Case {
            name: "valid split is a file",
            part: "part1",
            breaks: |r| {
                std::fs::remove_dir_all(r.join("faces/valid")).unwrap();
                write(r.join("faces/valid"), "x");
            },
            says: &["valid"],
        },
        Case {
            name: "empty valid split",
            part: "part1",
            breaks: |r| {
                for c in CLASSES {
                    std::fs::remove_dir_all(r.join("faces/valid").join(c)).unwrap();
                }
            },
            says: &["valid"],
        },
        Case {
            name: "no faces folder",
            part: "part1",
            breaks: |r| std::fs::remove_dir_all(r.join("faces")).unwrap(),
            says: &["faces", "AFFECT_LAB_DATA"],
        },
        // ---- Drugs.com
        Case {
            name: "rating not a number",
            part: "part2",
            breaks: |r| set_line(r.join(DC), 5, "3,DrugA,Pain,\"Fine.\",ten,3-Mar-12,1"),
            says: &["drugsComTrain_raw.csv:5", "rating"],
        },
        Case {
            name: "rating out of range",
            part: "part2",
            breaks: |r| set_line(r.join(DC), 6, "4,DrugA,Pain,\"Fine.\",11,3-Mar-12,1"),
            says: &["drugsComTrain_raw.csv:6", "1 to 10"],
        },
        Case {
            name: "rating 0",
            part: "part2",
            breaks: |r| set_line(r.join(DC), 6, "4,DrugA,Pain,\"Fine.\",0,3-Mar-12,1"),
            says: &["drugsComTrain_raw.csv:6"],
        },
        Case {
            name: "date in the future",
            part: "part2",
            breaks: |r| set_line(r.join(DC), 7, "5,DrugA,Pain,\"Fine.\",8,3-Mar-45,1"),
            says: &["drugsComTrain_raw.csv:7", "future"],
        },
        Case {
            name: "date not a date",
            part: "part2",
            breaks: |r| set_line(r.join(DC), 8, "6,DrugA,Pain,\"Fine.\",8,yesterday,1"),
            says: &["drugsComTrain_raw.csv:8", "date"],
        },
        Case {
            name: "too few fields",
            part: "part2",
            breaks: |r| set_line(r.join(DC), 9, "7,DrugA,Pain,\"Fine.\",8"),
            says: &["drugsComTrain_raw.csv:9", "fields"],
        },
        Case {
            name: "too many fields",
            part: "part2",
            breaks: |r| set_line(r.join(DC), 9, "7,DrugA,Pain,\"Fine.\",8,3-Mar-12,1,extra"),
            says: &["drugsComTrain_raw.csv:9", "fields"],
        },
        Case {
            name: "a quote never closed",
            part: "part2",
            breaks: |r| set_line(r.join(DC), 10, "8,DrugA,Pain,\"Fine.,8,3-Mar-12,1"),
            says: &["drugsComTrain_raw.csv:10"],
        },
        Case {
            name: "empty review",
            part: "part2",
            breaks: |r| set_line(r.join(DC), 11, "9,DrugA,Pain,\"\",8,3-Mar-12,1"),
            says: &["drugsComTrain_raw.csv:11"],
        },
        Case {
            name: "empty rating",
            part: "part2",
            breaks: |r| set_line(r.join(DC), 12, "10,DrugA,Pain,\"Fine.\",,3-Mar-12,1"),
            says: &["drugsComTrain_raw.csv:12"],
        },
        Case {
            name: "NUL byte",
            part: "part2",
            breaks: |r| set_line(r.join(DC), 13, "11,DrugA,Pain,\"Fi\0ne.\",8,3-Mar-12,1"),
            says: &["drugsComTrain_raw.csv:13", "NUL"],
        },
        Case {
            name: "a column twice",
            part: "part2",
            breaks: |r| set_line(r.join(DC), 1, "uniqueID,drugName,condition,review,rating,date,rating"),
            says: &["drugsComTrain_raw.csv:1", "twice"],
        },
        Case {
            name: "no review column",
            part: "part2",
            breaks: |r| edit(r.join(DC), |s| s.replacen("review,", "text_of_review,", 1)),
            says: &["drugsComTrain_raw.csv", "review"],
        },
        Case {
            name: "no rating column",
            part: "part2",
            breaks: |r| edit(r.join(DC), |s| s.replacen(",rating,", ",stars,", 1)),
            says: &["drugsComTrain_raw.csv", "rating"],
        },
        Case {
            name: "header only",
            part: "part2",
            breaks: |r| write(r.join(DC), "uniqueID,drugName,condition,review,rating,date,usefulCount\n"),
            says: &["drugsComTrain_raw.csv"],
        },
        Case { name: "empty file", part: "part2", breaks: |r| write(r.join(DC), ""), says: &["drugsComTrain_raw.csv"] },
        Case {
            name: "tab-separated content in a .csv",
            part: "part2",
            breaks: |r| edit(r.join(DC), |s| s.replace(',', "\t")),
            says: &["drugsComTrain_raw.csv"],
        },
        Case {
            name: "one id, two different reviews",
            part: "part2",
            breaks: |r| set_line(r.join(DC), 14, "1,Drug1,Pain,\"Another text entirely.\",8,3-Mar-12,1"),
            says: &["drugsComTrain_raw.csv", "1"],
        },
        Case {
            name: "test file missing",
            part: "part2",
            breaks: |r| std::fs::remove_file(r.join("drug_reviews/drugsComTest_raw.csv")).unwrap(),
            says: &["drugsComTest_raw", "drug_reviews"],
        },
        // ---- Druglib
        Case {
            name: "druglib rating not a number",
            part: "part2",
            breaks: |r| set_line(r.join(DL), 4, "3\tdrugA\tgood\tHighly Effective\tMild Side Effects\tpain\tb\ts\tc"),
            says: &["drugLibTrain_raw.tsv:4", "rating"],
        },
        Case {
            name: "druglib column missing",
            part: "part2",
            breaks: |r| edit(r.join(DL), |s| s.replacen("commentsReview", "comments", 1)),
            says: &["drugLibTrain_raw.tsv", "commentsReview"],
        },
        Case {
            name: "druglib saved with commas",
            part: "part2",
            breaks: |r| edit(r.join(DL), |s| s.replace('\t', ",")),
            says: &["drugLibTrain_raw.tsv"],
        },
        Case {
            name: "druglib too few fields",
            part: "part2",
            breaks: |r| set_line(r.join(DL), 5, "4\tdrugA\t9"),
            says: &["drugLibTrain_raw.tsv:5", "fields"],
        },
        // ---- IMDB
        Case {
            name: "imdb empty pos and neg",
            part: "part2",
            breaks: |r| {
                for l in ["pos", "neg"] {
                    let d = r.join("imdb/aclImdb/test").join(l);
                    std::fs::remove_dir_all(&d).unwrap();
                    std::fs::create_dir_all(&d).unwrap();
                }
            },
            says: &["aclImdb/test"],
        },
        Case {
            name: "imdb file name without a rating",
            part: "part2",
            breaks: |r| write(r.join("imdb/aclImdb/train/pos/review.txt"), "Great."),
            says: &["review.txt"],
        },
        Case {
            name: "imdb empty review",
            part: "part2",
            breaks: |r| write(r.join("imdb/aclImdb/train/neg/99_1.txt"), ""),
            says: &["99_1.txt"],
        },
    ]
}

fn edit_bytes(path: PathBuf, f: impl Fn(Vec<u8>) -> Vec<u8>) {
    let b = std::fs::read(&path).unwrap();
    std::fs::write(&path, f(b)).unwrap();
}

/// Plans out of range: every key named, nothing run.
const BAD_PLANS: [(&str, &str, &str); 8] = [
    ("part1", r#"{"part1": {"custom": {"epochs": 0}}}"#, "part1.custom.epochs"),
    ("part1", r#"{"part1": {"transfer": {"batch_size": 0}}}"#, "part1.transfer.batch_size"),
    ("part1", r#"{"part1": {"augment": {"rotate_deg": -5}}}"#, "part1.augment.rotate_deg"),
    ("part1", r#"{"part1": {"augment": {"crop_scale": [1.0, 0.5]}}}"#, "part1.augment.crop_scale"),
    ("part1", r#"{"part1": {"image_size": 16}}"#, "part1.image_size"),
    ("part2", r#"{"part2": {"max_len": 0}}"#, "part2.max_len"),
    ("part2", r#"{"part2": {"threshold": 11}}"#, "part2.threshold"),
    ("part2", r#"{"part2": {"bilstm": {"lr": -1}}}"#, "part2.bilstm.lr"),
];

#[test]
fn the_generated_root_runs_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let root = mini_root(dir.path());
    for part in ["part1", "part2"] {
        let (ok, err, out) = run(part, &root, &[]);
        assert!(ok, "{part} on the intact mini root: {err}");
        assert!(out.join(part).join("results.json").is_file());
    }
}

#[test]
fn every_broken_input_is_a_clear_error_naming_its_file_and_nothing_is_written() {
    let mut failures = Vec::new();
    let all = cases();
    for case in &all {
        let dir = tempfile::tempdir().unwrap();
        let root = mini_root(dir.path());
        (case.breaks)(&root);
        let (ok, err, out) = run(case.part, &root, &[]);
        let missing: Vec<&&str> = case.says.iter().filter(|s| !err.contains(**s)).collect();
        let wrote = out.join(case.part).join("results.json").exists();
        if ok || err.contains("panicked") || !missing.is_empty() || wrote {
            failures.push(format!("{}: ok={ok} wrote={wrote} missing {missing:?} in: {}", case.name, err.trim()));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let root = mini_root(dir.path());
    for (part, plan, key) in BAD_PLANS {
        let file = dir.path().join("plan.json");
        std::fs::write(&file, plan).unwrap();
        let (ok, err, out) = run(part, &root, &["--plan", file.to_str().unwrap()]);
        if ok || err.contains("panicked") || !err.contains(key) || out.exists() {
            failures.push(format!("plan {key}: ok={ok} in: {}", err.trim()));
        }
    }
    assert!(all.len() + BAD_PLANS.len() >= 40, "the corpus has {} cases", all.len() + BAD_PLANS.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        all.len() + BAD_PLANS.len(),
        failures.join("\n")
    );
}
