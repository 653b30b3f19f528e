//! HTML for notebooks and decks: a fragment evcxr shows inline, and tables.

/// HTML shown inline by evcxr (and as a table in the slides).
#[derive(Debug, Clone)]
pub struct Html(pub String);

impl Html {
    pub fn evcxr_display(&self) {
        println!("EVCXR_BEGIN_CONTENT text/html\n{}\nEVCXR_END_CONTENT", self.0);
    }
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
