//! A report as plain blocks ([`Block`]), and its two renderings:
//! Markdown ([`to_markdown`]) and a self-contained HTML page
//! ([`to_html`], inline CSS, no external assets). Text is plain: no
//! inline markup, escaped as each format needs.

use std::fmt::Write as _;

/// One block of a report.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    /// A heading, level 1 to 4.
    Heading(u8, String),
    /// A paragraph.
    Paragraph(String),
    /// A bulleted list.
    List(Vec<String>),
    /// A table: header cells, then rows of cells.
    Table(Vec<String>, Vec<Vec<String>>),
    /// Preformatted text, such as a command.
    Code(String),
    /// A chart: `charts/<stem>.png` in Markdown, the SVG inline in HTML.
    Figure {
        /// File name without extension.
        stem: String,
        /// What it shows (the image's alternative text).
        title: String,
        /// What was run and how to read it.
        caption: String,
        /// The SVG document, inlined into the HTML.
        svg: String,
    },
}

/// Where the chart files go, relative to the report.
pub const CHART_DIR: &str = "charts";

/// Markdown, as GitHub renders it.
pub fn to_markdown(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "{} {}\n", "#".repeat(usize::from(*level)), md(text));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "{}\n", md(text));
            }
            Block::List(items) => {
                for item in items {
                    let _ = writeln!(out, "- {}", md(item));
                }
                out.push('\n');
            }
            Block::Table(header, rows) => {
                let cells = |cells: &[String]| {
                    let cells: Vec<String> =
                        cells.iter().map(|c| md(c).replace('|', "\\|")).collect();
                    format!("| {} |", cells.join(" | "))
                };
                let _ = writeln!(out, "{}", cells(header));
                let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
                for row in rows {
                    let _ = writeln!(out, "{}", cells(row));
                }
                out.push('\n');
            }
            Block::Code(text) => {
                let _ = writeln!(out, "```\n{}\n```\n", text.trim_end());
            }
            Block::Figure {
                stem,
                title,
                caption,
                ..
            } => {
                let _ = writeln!(
                    out,
                    "![{}]({CHART_DIR}/{stem}.png)\n\n{}\n",
                    md(title),
                    md(caption)
                );
            }
        }
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push('\n');
    out
}

/// Escape the characters Markdown would read as markup.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '*' | '_' | '`' | '<' | '>' | '[' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The page's style sheet.
const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;padding:0 1em;color:#222;line-height:1.4}\
table{border-collapse:collapse;margin:0.5em 0 1.5em}\
th,td{border:1px solid #ccc;padding:0.25em 0.6em;text-align:right}\
th{background:#f0f0f0}\
td:first-child,th:first-child{text-align:left}\
pre{background:#f6f6f6;padding:0.6em;overflow-x:auto}\
h1,h2,h3,h4{margin-top:1.4em}\
figure{margin:1em 0 2em}\
figure svg{max-width:100%;height:auto;display:block}\
figcaption{color:#555;font-size:0.9em;margin-top:0.3em}";

/// A self-contained HTML page titled `title`.
pub fn to_html(title: &str, blocks: &[Block]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        html(title)
    );
    for block in blocks {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "<h{level}>{}</h{level}>", html(text));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "<p>{}</p>", html(text));
            }
            Block::List(items) => {
                out.push_str("<ul>\n");
                for item in items {
                    let _ = writeln!(out, "<li>{}</li>", html(item));
                }
                out.push_str("</ul>\n");
            }
            Block::Table(header, rows) => {
                out.push_str("<table>\n<thead><tr>");
                for cell in header {
                    let _ = write!(out, "<th>{}</th>", html(cell));
                }
                out.push_str("</tr></thead>\n<tbody>\n");
                for row in rows {
                    out.push_str("<tr>");
                    for cell in row {
                        let _ = write!(out, "<td>{}</td>", html(cell));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody>\n</table>\n");
            }
            Block::Code(text) => {
                let _ = writeln!(out, "<pre><code>{}</code></pre>", html(text.trim_end()));
            }
            Block::Figure {
                stem,
                title,
                caption,
                svg,
            } => {
                let _ = writeln!(
                    out,
                    "<figure id=\"{}\" aria-label=\"{}\">\n{}<figcaption>{}</figcaption>\n</figure>",
                    html(stem),
                    html(title),
                    svg,
                    html(caption)
                );
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// Escape text for HTML.
fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_formats_escape() {
        let blocks = vec![
            Block::Heading(2, "a <b>".into()),
            Block::Table(vec!["x|y".into()], vec![vec!["1_2".into()]]),
        ];
        let m = to_markdown(&blocks);
        assert_eq!(m, "## a \\<b\\>\n\n| x\\|y |\n|---|\n| 1\\_2 |\n");
        let h = to_html("t&", &blocks);
        assert!(h.contains("<title>t&amp;</title>"));
        assert!(h.contains("<h2>a &lt;b&gt;</h2>"));
        assert!(!h.contains("http"));
    }
}
