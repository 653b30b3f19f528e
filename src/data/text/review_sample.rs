//! Test-only: a few real Drugs.com training reviews, read with a minimal CSV reader so the text
//! model tests do not depend on the full dataset loader.
use crate::config::paths::DRUGS_COM;
use crate::testing::require;

/// Split CSV text into records of fields (RFC 4180 quoting, newlines allowed inside quotes).
fn records(text: &str) -> impl Iterator<Item = Vec<String>> + '_ {
    let mut chars = text.chars().peekable();
    std::iter::from_fn(move || {
        chars.peek()?;
        let (mut fields, mut field, mut quoted) = (Vec::new(), String::new(), false);
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                ('"', _) => quoted = !quoted,
                (',', false) => fields.push(std::mem::take(&mut field)),
                ('\n', false) => break,
                ('\r', false) => {}
                (c, _) => field.push(c),
            }
        }
        fields.push(field);
        Some(fields)
    })
}

/// `per_class` reviews with rating >= 7 (label 1) and `per_class` with rating < 7 (label 0), in
/// file order, interleaved. Review text is unquoted and HTML-unescaped.
pub fn balanced_reviews(per_class: usize) -> (Vec<String>, Vec<i64>) {
    let path = require(DRUGS_COM).join("drugsComTrain_raw.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut by_label: [Vec<String>; 2] = [Vec::new(), Vec::new()];
    for rec in records(&text).skip(1) {
        assert_eq!(rec.len(), 7, "{}: expected 7 fields, got {rec:?}", path.display());
        let rating: f64 = rec[4].parse().unwrap_or_else(|_| panic!("{}: bad rating {:?}", path.display(), rec[4]));
        let label = usize::from(rating >= 7.0);
        if by_label[label].len() < per_class {
            let review = html_escape::decode_html_entities(rec[3].trim().trim_matches('"')).into_owned();
            by_label[label].push(review);
        }
        if by_label.iter().all(|v| v.len() == per_class) {
            break;
        }
    }
    assert!(by_label.iter().all(|v| v.len() == per_class), "{}: not enough reviews", path.display());
    let [neg, pos] = by_label;
    let texts = neg.into_iter().zip(pos).flat_map(|(n, p)| [n, p]).collect();
    let labels = (0..per_class).flat_map(|_| [0, 1]).collect();
    (texts, labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_records_handle_quotes_and_newlines() {
        let recs: Vec<Vec<String>> = records("a,b\n1,\"x \"\"y\"\"\r\nz\"\n").collect();
        assert_eq!(recs, vec![vec!["a", "b"], vec!["1", "x \"y\"\r\nz"]]);
    }

    #[test]
    fn reads_balanced_real_reviews() {
        let (texts, labels) = balanced_reviews(4);
        assert_eq!(labels, [0, 1, 0, 1, 0, 1, 0, 1]);
        assert!(texts.iter().all(|t| t.len() > 20 && !t.starts_with('"') && !t.contains("&#039;")), "{texts:?}");
    }
}
