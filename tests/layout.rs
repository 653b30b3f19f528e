//! The shape of the source tree, checked on every test run: the layers of `src/lib.rs` only
//! use layers below them, no file grows past ~400 lines, and no function outside tests and the
//! plots' drawing code past 60 lines.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Top-level modules from the bottom up; a module may use its own layer and those before it.
const LAYERS: &[&[&str]] = &[
    &["error", "atomic", "device", "interrupt", "malloc", "numerics"],
    &["config"],
    &["data"],
    &["models"],
    &["train"],
    &["eval"],
    &["experiments"],
    &["report"],
    &["bench", "trained", "info"],
    &["notebook", "testing"],
];
const MAX_FILE_LINES: usize = 420;
const MAX_FN_LINES: usize = 60;
/// Drawing code: a chart's layout is one long, flat sequence of plotters calls.
const DRAWING: &str = "src/report/plots/";

struct Source {
    path: PathBuf,
    lines: Vec<String>,
    /// Lines of code compiled outside tests (test modules, `#[cfg(test)]` items and comments blank).
    code: Vec<String>,
    test_only: bool,
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The line without its `//` comment and with string and char literals emptied, so braces and
/// paths inside them do not count.
fn strip(line: &str) -> String {
    let (mut out, mut chars) = (String::new(), line.chars().peekable());
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => break,
            '"' => {
                while let Some(d) = chars.next() {
                    match d {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                out.push_str("\"\"");
            }
            '\'' => {
                // a char literal ('x', '\n', '{'); a lifetime has no closing quote within 3 chars
                let rest: String = chars.clone().take(4).collect();
                let close = match rest.strip_prefix('\\') {
                    Some(escaped) => escaped.find('\'').map(|i| i + 1),
                    None => rest.find('\''),
                };
                match close {
                    Some(n) if n <= 2 => {
                        for _ in 0..=n {
                            chars.next();
                        }
                        out.push_str("' '");
                    }
                    _ => out.push(c),
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Index of the line that closes the item starting at `start` (a `;` before any `{` ends it).
fn item_end(code: &[String], start: usize) -> usize {
    let mut depth = 0i32;
    let mut opened = false;
    for (i, line) in code.iter().enumerate().skip(start) {
        for c in line.chars() {
            match c {
                '{' => {
                    depth += 1;
                    opened = true;
                }
                '}' => depth -= 1,
                ';' if !opened && depth == 0 => return i,
                _ => {}
            }
        }
        if opened && depth == 0 {
            return i;
        }
    }
    code.len() - 1
}

fn is_test_attr(line: &str) -> bool {
    let t = line.trim();
    t.starts_with("#[cfg(test)]") || t.starts_with("#[cfg(any(test")
}

fn load() -> Vec<Source> {
    let mut paths = Vec::new();
    rs_files(Path::new("src"), &mut paths);
    paths.sort();
    let mut sources: Vec<Source> = paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let lines: Vec<String> = text.lines().map(str::to_string).collect();
            let mut code: Vec<String> = lines.iter().map(|l| strip(l)).collect();
            let mut i = 0;
            while i < code.len() {
                if is_test_attr(&code[i]) {
                    let end = item_end(&code, i + 1);
                    code[i..=end].iter_mut().for_each(String::clear);
                    i = end;
                }
                i += 1;
            }
            Source { path, lines, code, test_only: false }
        })
        .collect();
    // files declared by `#[cfg(test)] mod x;` are tests as a whole
    let (mut test_files, mut test_dirs) = (BTreeSet::new(), Vec::new());
    for s in &sources {
        let dir = match s.path.file_name().unwrap().to_str().unwrap() {
            "mod.rs" | "lib.rs" | "main.rs" => s.path.parent().unwrap().to_path_buf(),
            _ => s.path.with_extension(""),
        };
        for (i, line) in s.lines.iter().enumerate() {
            let t = line.trim();
            let decl =
                t.strip_prefix("pub(crate) ").unwrap_or(t).strip_prefix("mod ").and_then(|r| r.strip_suffix(';'));
            if let (Some(name), true) = (decl, i > 0 && is_test_attr(&s.lines[i - 1])) {
                test_files.insert(dir.join(format!("{name}.rs")));
                test_dirs.push(dir.join(name));
            }
        }
    }
    for s in &mut sources {
        s.test_only = test_files.contains(&s.path) || test_dirs.iter().any(|d| s.path.starts_with(d));
    }
    sources
}

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The top-level module a library file belongs to (None for lib.rs and the binary: main.rs and
/// its `cli` commands, which may use every layer).
fn module_of(path: &Path) -> Option<String> {
    let rel = path.strip_prefix("src").unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.trim_end_matches(".rs").to_string();
    (!matches!(first.as_str(), "lib" | "main" | "cli")).then_some(first)
}

/// `crate::x` paths in a line of code, `x` being a top-level module.
fn crate_uses(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + 7..];
        let name: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if name.is_empty() && after.starts_with('{') {
            // `use crate::{a::x, b};`
            let inner = &after[1..after.find('}').unwrap_or(after.len())];
            found.extend(inner.split(',').map(|p| p.trim().split("::").next().unwrap_or("").to_string()));
        } else {
            found.push(name);
        }
        rest = after;
    }
    found.retain(|n| layer(n).is_some());
    found
}

#[test]
fn every_layer_uses_only_layers_below_it() {
    let mut up = Vec::new();
    let mut unplaced = BTreeSet::new();
    for s in load().iter().filter(|s| !s.test_only) {
        let Some(module) = module_of(&s.path) else { continue };
        let Some(own) = layer(&module) else {
            unplaced.insert(module);
            continue;
        };
        for (i, line) in s.code.iter().enumerate() {
            for used in crate_uses(line) {
                if layer(&used).unwrap() > own {
                    up.push(format!("{}:{}: {module} uses {used}", s.path.display(), i + 1));
                }
            }
        }
    }
    assert!(unplaced.is_empty(), "top-level modules missing from LAYERS: {unplaced:?}");
    assert!(up.is_empty(), "uses of a higher layer:\n{}", up.join("\n"));
}

#[test]
fn no_file_is_long() {
    let long: Vec<String> = load()
        .iter()
        .filter(|s| s.lines.len() > MAX_FILE_LINES)
        .map(|s| format!("{} ({} lines)", s.path.display(), s.lines.len()))
        .collect();
    assert!(long.is_empty(), "files over {MAX_FILE_LINES} lines:\n{}", long.join("\n"));
}

/// A function (outside tests and drawing code) is as long as from its `fn` line to its closing brace.
#[test]
fn no_function_is_long() {
    let mut long = Vec::new();
    for s in load().iter().filter(|s| !s.test_only && !s.path.starts_with(DRAWING)) {
        let mut i = 0;
        while i < s.code.len() {
            let t = s.code[i].trim_start();
            let t = t.strip_prefix("pub(crate) ").or_else(|| t.strip_prefix("pub(super) ")).unwrap_or(t);
            let t = t.strip_prefix("pub ").unwrap_or(t);
            let t = t.strip_prefix("const ").or_else(|| t.strip_prefix("unsafe ")).unwrap_or(t);
            if let Some(name) = t.strip_prefix("fn ") {
                let end = item_end(&s.code, i);
                if end - i + 1 > MAX_FN_LINES {
                    let name: String = name.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    long.push(format!("{}:{} {name} ({} lines)", s.path.display(), i + 1, end - i + 1));
                }
            }
            i += 1;
        }
    }
    assert!(long.is_empty(), "functions over {MAX_FN_LINES} lines:\n{}", long.join("\n"));
}

/// The checks above see what they are meant to see.
#[test]
fn the_scanner_reads_code_as_code() {
    assert_eq!(strip(r#"let s = "crate::report {"; // crate::bench"#), r#"let s = ""; "#);
    assert_eq!(strip("let c = '{'; let r: &'a str;"), "let c = ' '; let r: &'a str;");
    assert_eq!(crate_uses("use crate::{config::run, report::x, Result};"), ["config", "report"]);
    assert_eq!(crate_uses("crate::train::fit(crate::models::x)"), ["train", "models"]);
    let code: Vec<String> = ["fn a() {", "  if x { y }", "}", "mod t;"].map(String::from).to_vec();
    assert_eq!((item_end(&code, 0), item_end(&code, 3)), (2, 3));
    assert_eq!(module_of(Path::new("src/report/plots/bars.rs")).as_deref(), Some("report"));
    assert_eq!(module_of(Path::new("src/numerics.rs")).as_deref(), Some("numerics"));
    assert_eq!((module_of(Path::new("src/main.rs")), module_of(Path::new("src/cli/parts.rs"))), (None, None));
    let sources = load();
    let tests = sources.iter().find(|s| s.path.ends_with("train/tests/mod.rs")).expect("train/tests/mod.rs exists");
    assert!(tests.test_only);
    assert!(sources.iter().find(|s| s.path.ends_with("train/tests/budgets.rs")).unwrap().test_only);
    let fit = sources.iter().find(|s| s.path.ends_with("train/mod.rs")).unwrap();
    assert!(fit.code.iter().any(|l| l.contains("fn fit")) && !fit.code.iter().any(|l| l.contains("mod tests")));
}
