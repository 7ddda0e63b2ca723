//! Plain text typed by a person, rendered to the small, safe HTML subset that
//! Mastodon clients display: paragraphs, line breaks and links.
use linkify::{LinkFinder, LinkKind};

fn escape(s: &str) -> String {
    html_escape::encode_text(s).into_owned()
}

/// Escapes the text and turns http(s) URLs into links.
pub fn linkify_line(line: &str) -> String {
    let mut finder = LinkFinder::new();
    finder.kinds(&[LinkKind::Url]);
    let mut out = String::with_capacity(line.len());
    for span in finder.spans(line) {
        let s = span.as_str();
        let is_web = s.starts_with("http://") || s.starts_with("https://");
        if span.kind() == Some(&LinkKind::Url) && is_web {
            let href = html_escape::encode_double_quoted_attribute(s);
            let shown = s.split_once("://").map_or(s, |(_, rest)| rest);
            out.push_str(&format!(
                "<a href=\"{href}\" target=\"_blank\" rel=\"nofollow noopener noreferrer\">{}</a>",
                escape(shown)
            ));
        } else {
            out.push_str(&escape(s));
        }
    }
    out
}

/// Blank lines separate paragraphs; single newlines become `<br>`.
pub fn plain_to_html(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let paras: Vec<String> = text
        .split("\n\n")
        .map(|p| p.trim_matches('\n'))
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let lines: Vec<String> = p.split('\n').map(linkify_line).collect();
            format!("<p>{}</p>", lines.join("<br>"))
        })
        .collect();
    paras.join("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_links() {
        assert_eq!(
            plain_to_html("<b>hi</b>\nsee https://example.com/a?b=1&c=2\n\nbye"),
            "<p>&lt;b&gt;hi&lt;/b&gt;<br>see <a href=\"https://example.com/a?b=1&amp;c=2\" target=\"_blank\" \
             rel=\"nofollow noopener noreferrer\">example.com/a?b=1&amp;c=2</a></p><p>bye</p>"
        );
        assert_eq!(plain_to_html(""), "");
        assert_eq!(linkify_line("javascript:alert(1)"), "javascript:alert(1)");
    }
}
