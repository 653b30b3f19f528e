//! Delimited text (CSV/TSV) read with polars, plus the one thing polars cannot tell us: the
//! physical line where each record starts. A small quote-aware scan finds record boundaries
//! (records may hold quoted `\r\n`), their start lines and field counts; records with the wrong
//! field count are set aside as bad, and the rest go to polars as all-string columns.
use crate::error::{Error, Result};
use polars::prelude::*;
use std::io::Cursor;
use std::path::{Path, PathBuf};

/// One record found by the scan: bytes `start..end` (line terminator excluded), starting on
/// 1-based physical line `line` (lines end at `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub line: usize,
    pub start: usize,
    pub end: usize,
    pub fields: usize,
    /// A quoted field was still open at the end of the input.
    pub unterminated: bool,
}

/// Split `text` into records. A `"` opens a quoted field only at the start of a field; inside
/// one, `""` is a literal quote and separators and newlines are data. Blank lines are skipped.
pub fn scan_records(text: &[u8], sep: u8) -> Vec<Span> {
    let mut spans = Vec::new();
    let (mut i, mut line) = (0usize, 1usize);
    while i < text.len() {
        let (start, start_line) = (i, line);
        let (mut fields, mut field_start, mut in_quotes) = (1usize, true, false);
        let mut end = text.len();
        while i < text.len() {
            let b = text[i];
            i += 1;
            if in_quotes {
                match b {
                    b'"' if text.get(i) == Some(&b'"') => i += 1,
                    b'"' => in_quotes = false,
                    b'\n' => line += 1,
                    _ => {}
                }
                continue;
            }
            if b == b'\n' {
                end = i - 1;
                line += 1;
                break;
            } else if b == sep {
                fields += 1;
                field_start = true;
            } else {
                in_quotes = b == b'"' && field_start;
                field_start = false;
            }
        }
        let end = if end > start && text[end - 1] == b'\r' { end - 1 } else { end };
        if !in_quotes && text[start..end].iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        spans.push(Span { line: start_line, start, end, fields, unterminated: in_quotes });
    }
    spans
}

/// A data record: either a row of the frame, or a record set aside with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Row { line: usize, index: usize },
    Bad { line: usize, msg: String },
}

/// A delimited file: header names, data records in file order, and the good rows as an
/// all-string frame with columns `c0..c{n-1}` in header order.
#[derive(Debug)]
pub struct Table {
    pub path: PathBuf,
    pub header: Vec<String>,
    pub header_line: usize,
    pub records: Vec<Record>,
    pub frame: DataFrame,
}

/// Read a delimited file. Invalid UTF-8 is replaced (U+FFFD), never a panic.
pub fn read_table(path: &Path, sep: u8) -> Result<Table> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    read_table_bytes(path, &bytes, sep)
}

/// As `read_table`, from bytes already in memory; `path` names them in errors.
pub fn read_table_bytes(path: &Path, bytes: &[u8], sep: u8) -> Result<Table> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text).as_bytes();
    let spans = scan_records(text, sep);
    let Some((head, body)) = spans.split_first() else {
        return Err(Error::data(path, None, "file is empty (no header)"));
    };
    if head.unterminated {
        return Err(Error::data(path, Some(head.line), "header has an unterminated quoted field"));
    }
    if let Some(at) = text.iter().position(|&b| b == 0) {
        let line = 1 + text[..at].iter().filter(|&&b| b == b'\n').count();
        return Err(Error::data(path, Some(line), "NUL byte: binary data, not delimited text"));
    }
    let header = split_fields(&text[head.start..head.end], sep);
    if let Some((i, name)) = header.iter().enumerate().find(|(i, h)| !h.is_empty() && header[..*i].contains(h)) {
        let first = header.iter().position(|h| h == name).unwrap_or(0) + 1;
        let why =
            format!("column `{name}` appears twice (columns {first} and {}): which one is meant is unclear", i + 1);
        return Err(Error::data(path, Some(head.line), why));
    }
    let (records, good, rows) = sort_records(text, body, header.len());
    let frame = read_strings(&good, sep, header.len(), rows).map_err(|e| {
        let line = records.iter().find_map(|r| match r {
            Record::Row { line, index } => {
                let Span { start, end, .. } = body.iter().find(|s| s.line == *line)?;
                let one = [&text[*start..*end], b"\n"].concat();
                read_strings(&one, sep, header.len(), 1).is_err().then_some((*line, *index))
            }
            Record::Bad { .. } => None,
        });
        // polars' message is long and written for its Python users: keep its first line
        let first = e.to_string().lines().next().unwrap_or_default().to_string();
        Error::data(
            path,
            line.map(|(l, _)| l),
            format!(
                "cannot be read as {} text: {first}",
                if sep == b'\t' { "tab-separated" } else { "comma-separated" }
            ),
        )
    })?;
    if frame.height() != rows {
        return Err(Error::data(
            path,
            None,
            format!(
                "polars read {} rows where the quote-aware scan found {rows}; the quoting is ambiguous",
                frame.height()
            ),
        ));
    }
    Ok(Table { path: path.to_path_buf(), header, header_line: head.line, records, frame })
}

/// Each record as a row or as bad (unterminated quote, wrong field count), the rows' bytes one
/// per line, and how many rows there are.
fn sort_records(text: &[u8], body: &[Span], columns: usize) -> (Vec<Record>, Vec<u8>, usize) {
    let mut records = Vec::with_capacity(body.len());
    let mut good = Vec::with_capacity(text.len());
    let mut rows = 0usize;
    for s in body {
        let bad = if s.unterminated {
            Some("a quoted field is never closed (runs to the end of the file)".to_string())
        } else if s.fields != columns {
            Some(format!("{} fields, the header has {columns}", s.fields))
        } else {
            None
        };
        match bad {
            Some(msg) => records.push(Record::Bad { line: s.line, msg }),
            None => {
                good.extend_from_slice(&text[s.start..s.end]);
                good.push(b'\n');
                records.push(Record::Row { line: s.line, index: rows });
                rows += 1;
            }
        }
    }
    (records, good, rows)
}

fn read_strings(good: &[u8], sep: u8, ncols: usize, rows: usize) -> Result<DataFrame> {
    let schema: Schema = (0..ncols).map(|i| Field::new(format!("c{i}").into(), DataType::String)).collect();
    if rows == 0 {
        return Ok(DataFrame::empty_with_schema(&schema));
    }
    let parse = CsvParseOptions::default().with_separator(sep).with_quote_char(Some(b'"')).with_missing_is_null(false);
    let df = CsvReadOptions::default()
        .with_has_header(false)
        .with_schema(Some(Arc::new(schema)))
        .with_parse_options(parse)
        .into_reader_with_file_handle(Cursor::new(good.to_vec()))
        .finish()?;
    Ok(df)
}

/// Header fields: split outside quotes, unquote, trim (a blank name stays "").
fn split_fields(rec: &[u8], sep: u8) -> Vec<String> {
    let (mut out, mut cur, mut in_quotes, mut field_start) = (Vec::new(), Vec::new(), false, true);
    let mut i = 0;
    while i < rec.len() {
        let b = rec[i];
        i += 1;
        if in_quotes {
            match b {
                b'"' if rec.get(i) == Some(&b'"') => {
                    cur.push(b'"');
                    i += 1;
                }
                b'"' => in_quotes = false,
                _ => cur.push(b),
            }
        } else if b == sep {
            out.push(String::from_utf8_lossy(&cur).trim().to_string());
            cur.clear();
            field_start = true;
            continue;
        } else if b == b'"' && field_start {
            in_quotes = true;
        } else {
            cur.push(b);
        }
        field_start = false;
    }
    out.push(String::from_utf8_lossy(&cur).trim().to_string());
    out
}

impl Table {
    /// Index of the first header name among `names` (exact match after trimming).
    pub fn find_column(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.header.iter().position(|h| h == n))
    }

    pub fn require_column(&self, names: &[&str]) -> Result<usize> {
        self.find_column(names).ok_or_else(|| {
            let want: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
            Error::data(
                &self.path,
                Some(self.header_line),
                format!("no column named {}; the header has {:?}", want.join(" or "), self.header),
            )
        })
    }

    /// Column `i` of the frame, one entry per row (`None` for a null).
    pub fn strings(&self, i: usize) -> Result<Vec<Option<&str>>> {
        let col = self.frame.column(&format!("c{i}"))?.str()?;
        Ok(col.iter().collect())
    }
}

/// An empty string and a null both mean "no value".
pub fn present(v: Option<&str>) -> Option<&str> {
    v.filter(|s| !s.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_counts_lines_through_quoted_newlines() {
        let text = b"a,b\r\n1,\"x\r\ny\"\r\n\r\n2,\"he said \"\"hi\"\"\"\n3,z,extra\n4,\"open";
        let s = scan_records(text, b',');
        let lines: Vec<usize> = s.iter().map(|s| s.line).collect();
        assert_eq!(lines, [1, 2, 5, 6, 7]);
        let fields: Vec<usize> = s.iter().map(|s| s.fields).collect();
        assert_eq!(fields, [2, 2, 2, 3, 2]);
        assert_eq!(&text[s[1].start..s[1].end], b"1,\"x\r\ny\"");
        assert!(s[4].unterminated && !s[3].unterminated);
        // Separators inside quotes are data; a quote inside an unquoted field is literal.
        let s = scan_records(b"h1\th2\n\"a\tb\"\tc\"d\n", b'\t');
        assert_eq!(s.iter().map(|s| s.fields).collect::<Vec<_>>(), [2, 2]);
    }

    #[test]
    fn table_sets_aside_bad_records_and_reads_the_rest() {
        let text = "\tname\tnote\r\n1\tA\t\"multi\r\nline \"\"q\"\"\"\r\n2\tB\r\n3\tC\tplain\r\n";
        let t = read_table_bytes(Path::new("t.tsv"), text.as_bytes(), b'\t').unwrap();
        assert_eq!(t.header, ["", "name", "note"]);
        assert_eq!(
            t.records,
            vec![
                Record::Row { line: 2, index: 0 },
                Record::Bad { line: 4, msg: "2 fields, the header has 3".into() },
                Record::Row { line: 5, index: 1 }
            ]
        );
        assert_eq!(t.strings(2).unwrap(), [Some("multi\r\nline \"q\""), Some("plain")]);
        assert_eq!(t.find_column(&["num", ""]), Some(0));
        let err = t.require_column(&["rating"]).unwrap_err().to_string();
        assert!(err.starts_with("t.tsv:1: no column named \"rating\""), "{err}");
    }

    #[test]
    fn invalid_utf8_and_bom_do_not_panic() {
        let mut bytes = b"\xef\xbb\xbfa,b\n1,caf".to_vec();
        bytes.extend_from_slice(&[0xff, 0xfe]);
        bytes.extend_from_slice(b"\n");
        let t = read_table_bytes(Path::new("x.csv"), &bytes, b',').unwrap();
        assert_eq!(t.header, ["a", "b"]);
        assert_eq!(t.strings(1).unwrap(), [Some("caf\u{fffd}\u{fffd}")]);
        assert!(read_table_bytes(Path::new("x.csv"), b"", b',').is_err());
    }

    #[test]
    fn quoting_polars_cannot_read_is_an_error_naming_the_file_and_record() {
        for (text, at) in [
            ("id,text,rating\n1,\"abc,5\n2,ok,7\n3,\"fine\" yes,4\n", Some(2)),
            ("id,text,rating\n1,ok,7\n2,\"ab\"c,5\n", Some(3)),
            ("id,text,rating\n1,ab\"c,5\n2,ok,7\n", None),
        ] {
            let err = read_table_bytes(Path::new("q.csv"), text.as_bytes(), b',').unwrap_err().to_string();
            let place = at.map_or("q.csv: ".to_string(), |l| format!("q.csv:{l}: "));
            assert!(err.starts_with(&place) && err.contains("cannot be read as comma-separated text"), "{err}");
            assert!(err.lines().count() == 1 && err.len() < 300, "one short line, not polars' essay: {err}");
        }
    }

    #[test]
    fn nul_bytes_and_repeated_column_names_are_errors_with_the_line() {
        let err = read_table_bytes(Path::new("n.csv"), b"a,b\n1,2\n3,\x004\n", b',').unwrap_err().to_string();
        assert!(err.starts_with("n.csv:3: NUL byte"), "{err}");
        let err =
            read_table_bytes(Path::new("d.csv"), b"id,rating,text,rating\n1,2,x,3\n", b',').unwrap_err().to_string();
        assert!(err.starts_with("d.csv:1:") && err.contains("`rating` appears twice (columns 2 and 4)"), "{err}");
        // UCI's blank first header name is not a repeat of anything
        assert!(read_table_bytes(Path::new("u.tsv"), b"\tname\n1\tA\n", b'\t').is_ok());
    }
}
