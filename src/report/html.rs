//! HTML for notebooks and decks: a fragment evcxr shows inline, and tables.

/// HTML shown inline by evcxr (and as a table in the slides).
#[derive(Debug, Clone)]
pub struct Html(pub String);

impl Html {
    pub fn evcxr_display(&self) {
        println!("EVCXR_BEGIN_CONTENT text/html\n{}\nEVCXR_END_CONTENT", self.0);
    }
}

/// An attribute on an output that says its slide stays out of the deck (`scripts/deck_outputs.py`
/// drops the slide): one that could only tell the audience what to configure to fill it. The
/// notebook still shows it.
pub const LEAVE_OUT_OF_DECK: &str = "data-deck=\"leave-out\"";

/// A fraction as a percentage to one decimal.
pub fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// A p-value as a reader takes it in: "p < 0.001" below that, else two significant digits.
pub fn p_value(p: f64) -> String {
    match p {
        p if p < 0.001 => "p < 0.001".into(),
        p if p < 0.01 => format!("p = {p:.4}"),
        p if p < 0.1 => format!("p = {p:.3}"),
        p => format!("p = {p:.2}"),
    }
}

/// A 95% interval of fractions as percentages: "50.8-59.5%".
pub fn ci([lo, hi]: [f64; 2]) -> String {
    format!("{:.1}-{:.1}%", lo * 100.0, hi * 100.0)
}

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A table from a header and rows of cells.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> Html {
    let mut h = String::from("<table><thead><tr>");
    header.iter().for_each(|c| h += &format!("<th>{}</th>", esc(c)));
    h += "</tr></thead><tbody>";
    for r in rows {
        h += "<tr>";
        r.iter().for_each(|c| h += &format!("<td>{}</td>", esc(c)));
        h += "</tr>";
    }
    Html(h + "</tbody></table>")
}

#[cfg(test)]
mod tests {
    #[test]
    fn p_values_read_as_a_bound_or_two_significant_digits() {
        let cases = [
            (1.4e-16, "p < 0.001"),
            (0.0009, "p < 0.001"),
            (0.0022, "p = 0.0022"),
            (0.012, "p = 0.012"),
            (0.52, "p = 0.52"),
        ];
        for (p, want) in cases {
            assert_eq!(super::p_value(p), want, "{p}");
        }
    }
}
