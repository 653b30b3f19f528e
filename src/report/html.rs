//! HTML for notebooks and decks: a fragment evcxr shows inline, and tables.

/// HTML shown inline by evcxr (and as a table in the slides).
#[derive(Debug, Clone)]
pub struct Html(pub String);

impl Html {
    pub fn evcxr_display(&self) {
        println!("EVCXR_BEGIN_CONTENT text/html\n{}\nEVCXR_END_CONTENT", self.0);
    }
}

/// A fraction as a percentage to one decimal.
pub fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
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
