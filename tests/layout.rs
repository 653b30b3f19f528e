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
    text: String,
    /// The file's code as compiled outside tests, line for line: comments, the insides of string
    /// and char literals, test modules and `#[cfg(test)]` items are blanked.
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

/// `text` with comments and the contents of string and char literals blanked (newlines kept,
/// so lines still count), so braces and paths inside them do not count.
fn blank_literals(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let keep_newlines = |s: &[char], out: &mut String| s.iter().filter(|&&x| x == '\n').for_each(|_| out.push('\n'));
    let mut i = 0;
    while i < c.len() {
        let rest = &c[i..];
        let at = |s: &str| rest.iter().zip(s.chars()).filter(|(a, b)| *a == b).count() == s.len();
        if at("//") {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if at("/*") {
            let end =
                (i + 2..c.len().saturating_sub(1)).find(|&j| c[j] == '*' && c[j + 1] == '/').map_or(c.len(), |j| j + 2);
            keep_newlines(&c[i..end], &mut out);
            i = end;
        } else if (at("r\"") || at("r#") || at("br\"") || at("br#")) && !prev_is_ident(&c, i) {
            // a raw string: r"..", r#".."#, the same with b
            let start = i + if c[i] == 'b' { 2 } else { 1 };
            let hashes = c[start..].iter().take_while(|&&x| x == '#').count();
            if c.get(start + hashes) != Some(&'"') {
                out.push(c[i]);
                i += 1;
                continue;
            }
            let close: String = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            let body = start + hashes + 1;
            let end = (body..c.len())
                .find(|&j| c[j..].iter().zip(close.chars()).filter(|(a, b)| **a == *b).count() == close.len());
            let end = end.map_or(c.len(), |j| j + close.len());
            out.push_str("\"\"");
            keep_newlines(&c[i..end], &mut out);
            i = end;
        } else if c[i] == '"' {
            let mut j = i + 1;
            while j < c.len() && c[j] != '"' {
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            keep_newlines(&c[i..j.min(c.len())], &mut out);
            i = j + 1;
        } else if c[i] == '\'' {
            // a char literal ('x', '\n', '{'); a lifetime has no closing quote within 3 chars
            let close = if c.get(i + 1) == Some(&'\\') {
                (i + 3..(i + 12).min(c.len())).find(|&j| c[j] == '\'')
            } else {
                (c.get(i + 2) == Some(&'\'')).then_some(i + 2)
            };
            match close {
                Some(j) => {
                    out.push_str("' '");
                    i = j + 1;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

fn prev_is_ident(c: &[char], i: usize) -> bool {
    i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_')
}

/// Index of the line that closes the item starting at line `start`: the line where its braces
/// close, or a `;` outside any bracket before its first `{`.
fn item_end(code: &[String], start: usize) -> usize {
    let (mut braces, mut brackets, mut opened) = (0i32, 0i32, false);
    for (i, line) in code.iter().enumerate().skip(start) {
        for ch in line.chars() {
            match ch {
                '{' => {
                    braces += 1;
                    opened = true;
                }
                '}' => braces -= 1,
                '(' | '[' => brackets += 1,
                ')' | ']' => brackets -= 1,
                ';' if !opened && braces == 0 && brackets == 0 => return i,
                _ => {}
            }
        }
        if opened && braces == 0 {
            return i;
        }
    }
    code.len() - 1
}

fn is_test_attr(line: &str) -> bool {
    let t = line.trim();
    t.starts_with("#[cfg(test)]") || t.starts_with("#[cfg(any(test")
}

/// The line without leading attributes, visibility and qualifiers: what an item starts with.
fn item_head(line: &str) -> &str {
    let mut t = line.trim_start();
    loop {
        let before = t.len();
        if t.starts_with("#[") {
            t = t.find(']').map_or("", |j| &t[j + 1..]);
        }
        if t.starts_with("pub(") {
            t = t.find(')').map_or("", |j| &t[j + 1..]);
        }
        for word in ["pub ", "const ", "async ", "unsafe ", "default ", "extern \"\" ", "extern "] {
            t = t.strip_prefix(word).unwrap_or(t);
        }
        t = t.trim_start();
        if t.len() == before {
            return t;
        }
    }
}

fn load() -> Vec<Source> {
    let mut paths = Vec::new();
    rs_files(Path::new("src"), &mut paths);
    paths.sort();
    let mut sources: Vec<Source> = paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let mut code: Vec<String> = blank_literals(&text).split('\n').map(str::to_string).collect();
            let mut i = 0;
            while i < code.len() {
                if is_test_attr(&code[i]) {
                    // the item follows the attribute, on its line or the next
                    let after = code[i].trim().split_once(']').map_or("", |x| x.1).trim().to_string();
                    let end = item_end(&code, if after.is_empty() { i + 1 } else { i });
                    code[i..=end].iter_mut().for_each(String::clear);
                    i = end;
                }
                i += 1;
            }
            Source { path, text, code, test_only: false }
        })
        .collect();
    // files declared by `#[cfg(test)] mod x;` are tests as a whole, and everything under them
    let (mut test_files, mut test_dirs) = (BTreeSet::new(), Vec::new());
    for s in &sources {
        let dir = match s.path.file_name().unwrap().to_str().unwrap() {
            "mod.rs" | "lib.rs" | "main.rs" => s.path.parent().unwrap().to_path_buf(),
            _ => s.path.with_extension(""),
        };
        let lines: Vec<&str> = s.text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let head = item_head(line);
            let decl = head.strip_prefix("mod ").and_then(|r| r.trim_end().strip_suffix(';'));
            let attributed = is_test_attr(line) || (i > 0 && is_test_attr(lines[i - 1]));
            if let (Some(name), true) = (decl, attributed) {
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

/// The module path of a file under src/: `src/report/claims/faces.rs` is report::claims::faces,
/// a `mod.rs` is its folder's module, lib.rs and main.rs the crate root.
fn module_path(path: &Path) -> Vec<String> {
    let rel = path.strip_prefix("src").unwrap().with_extension("");
    let mut parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_str().unwrap().to_string()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

/// The top-level module a library file belongs to (None for lib.rs and the binary: main.rs and
/// its `cli` commands, which may use every layer).
fn module_of(path: &Path) -> Option<String> {
    let first = module_path(path).into_iter().next()?;
    (first != "cli").then_some(first)
}

/// The first segments of the paths in a `{..}` group starting at `code[open]` (nested groups and
/// lines included), and the index after its closing brace.
fn group_heads(code: &[char], open: usize) -> (Vec<String>, usize) {
    let (mut heads, mut depth, mut item_start, mut i) = (Vec::new(), 0, true, open);
    while i < code.len() {
        match code[i] {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return (heads, i + 1);
                }
            }
            ',' if depth == 1 => item_start = true,
            ch if depth == 1 && item_start && (ch.is_alphanumeric() || ch == '_') => {
                let name: String = code[i..].iter().take_while(|c| c.is_alphanumeric() || **c == '_').collect();
                i += name.len();
                heads.push(name);
                item_start = false;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    (heads, i)
}

/// The top-level modules a file's code names by path (`crate::x`, `crate::{x, y::z}`, and
/// `super::` chains that climb to the crate root), with their line numbers (1-based).
fn crate_uses(code: &str, module: &[String]) -> Vec<(usize, String)> {
    let c: Vec<char> = code.chars().collect();
    let line_of = |i: usize| c[..i].iter().filter(|&&x| x == '\n').count() + 1;
    let ident_at = |i: usize| -> String { c[i..].iter().take_while(|x| x.is_alphanumeric() || **x == '_').collect() };
    let mut found = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if prev_is_ident(&c, i) || !(c[i..].starts_with(&['c', 'r']) || c[i..].starts_with(&['s', 'u'])) {
            i += 1;
            continue;
        }
        // where the path reaches the crate root, if it does
        let mut j = i;
        let root = if ident_at(i) == "crate" && c[i + 5..].starts_with(&[':', ':']) {
            j = i + 7;
            true
        } else {
            let mut supers = 0;
            while ident_at(j) == "super" && c[j + 5..].starts_with(&[':', ':']) {
                (j, supers) = (j + 7, supers + 1);
            }
            supers > 0 && supers >= module.len()
        };
        if !root {
            i = if j > i { j } else { i + 1 };
            continue;
        }
        let heads = if c.get(j) == Some(&'{') {
            let (heads, end) = group_heads(&c, j);
            j = end;
            heads
        } else {
            let name = ident_at(j);
            j += name.len();
            vec![name]
        };
        found.extend(heads.into_iter().filter(|h| layer(h).is_some()).map(|h| (line_of(i), h)));
        i = j.max(i + 1);
    }
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
        for (line, used) in crate_uses(&s.code.join("\n"), &module_path(&s.path)) {
            if layer(&used).unwrap() > own {
                up.push(format!("{}:{line}: {module} uses {used}", s.path.display()));
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
        .map(|s| (s, s.text.lines().count()))
        .filter(|&(_, lines)| lines > MAX_FILE_LINES)
        .map(|(s, lines)| format!("{} ({lines} lines)", s.path.display()))
        .collect();
    assert!(long.is_empty(), "files over {MAX_FILE_LINES} lines:\n{}", long.join("\n"));
}

/// Where each function of a file's code starts and ends (line indices).
fn functions(code: &[String]) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    for (i, line) in code.iter().enumerate() {
        if let Some(rest) = item_head(line).strip_prefix("fn ") {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            out.push((name, i, item_end(code, i)));
        }
    }
    out
}

/// A function (outside tests and drawing code) is as long as from its `fn` line to its closing brace.
#[test]
fn no_function_is_long() {
    let mut long = Vec::new();
    for s in load().iter().filter(|s| !s.test_only && !s.path.starts_with(DRAWING)) {
        for (name, start, end) in functions(&s.code) {
            if end - start + 1 > MAX_FN_LINES {
                long.push(format!("{}:{} {name} ({} lines)", s.path.display(), start + 1, end - start + 1));
            }
        }
    }
    assert!(long.is_empty(), "functions over {MAX_FN_LINES} lines:\n{}", long.join("\n"));
}

/// The checks above see what they are meant to see.
#[test]
fn the_scanner_reads_code_as_code() {
    let lines = |s: &str| s.split('\n').map(str::to_string).collect::<Vec<String>>();
    assert_eq!(blank_literals("let s = \"crate::report {\"; // crate::bench"), "let s = \"\"; ");
    assert_eq!(blank_literals("let c = '{'; let r: &'a str;"), "let c = ' '; let r: &'a str;");
    assert_eq!(blank_literals("f(\"a\\\n  crate::report\", r#\"}\"#) /* {\n */ x"), "f(\"\"\n, \"\") \n x");
    let root: Vec<String> = vec!["report".into(), "claims".into(), "faces".into()];
    let uses = |code: &str, module: &[String]| crate_uses(code, module).into_iter().map(|u| u.1).collect::<Vec<_>>();
    assert_eq!(uses("use crate::{config::run, report::x, Result};", &[]), ["config", "report"]);
    assert_eq!(uses("crate::train::fit(crate::models::x)", &[]), ["train", "models"]);
    assert_eq!(uses("use crate::{\n    a::{b, c},\n    bench::x,\n};", &[]), ["bench"]);
    assert_eq!(uses("use super::super::super::bench::x; use super::super::html;", &root), ["bench"]);
    assert_eq!(uses("mycrate::bench::x; super::eval::y", &["info".into()]), ["eval"]);
    let code = lines("fn a(x: [f32; 3]) -> u8 {\n  if x { y }\n}\nmod t;");
    assert_eq!((item_end(&code, 0), item_end(&code, 3)), (2, 3));
    let code = lines("#[inline] pub(crate) const unsafe fn f() {\n}\npub(in crate::x) async fn g() {}");
    assert_eq!(functions(&code), [("f".to_string(), 0, 1), ("g".to_string(), 2, 2)]);
    assert_eq!(module_path(Path::new("src/report/claims/mod.rs")), ["report", "claims"]);
    assert_eq!(module_of(Path::new("src/report/plots/bars.rs")).as_deref(), Some("report"));
    assert_eq!(module_of(Path::new("src/numerics.rs")).as_deref(), Some("numerics"));
    assert_eq!((module_of(Path::new("src/main.rs")), module_of(Path::new("src/cli/parts.rs"))), (None, None));
    let sources = load();
    let find = |end: &str| sources.iter().find(|s| s.path.ends_with(end)).unwrap_or_else(|| panic!("{end} exists"));
    assert!(find("train/tests/mod.rs").test_only && find("train/tests/budgets.rs").test_only);
    let fit = find("train/mod.rs");
    assert!(fit.code.iter().any(|l| l.contains("fn fit")) && !fit.code.iter().any(|l| l.contains("mod tests")));
}
