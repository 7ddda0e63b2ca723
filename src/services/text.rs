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

/// What a status text refers to: mentioned accounts (`user` or `user@host`,
/// lower-case, as typed) and hashtags (lower-case), each once, in order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct References {
    pub mentions: Vec<String>,
    pub tags: Vec<String>,
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A mention or hashtag starting at byte `i` of `s` (which holds `@` or `#`):
/// returns its name and the byte length consumed, or None.
fn token_at(s: &str, i: usize, prev: Option<char>) -> Option<(String, usize)> {
    let sigil = s[i..].chars().next()?;
    if prev.is_some_and(|p| is_word(p) || p == '@' || p == '#' || p == '/' || p == '&') {
        return None;
    }
    let rest = &s[i + 1..];
    match sigil {
        '@' => {
            let user_len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if user_len == 0 {
                return None;
            }
            let mut len = user_len;
            if let Some(after) = rest[user_len..].strip_prefix('@') {
                let host_len = after
                    .find(|c: char| {
                        !(c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == ':')
                    })
                    .unwrap_or(after.len());
                let host = after[..host_len].trim_end_matches(['.', ':', '-']);
                if host.contains('.') || host.contains(':') || host == "localhost" {
                    len = user_len + 1 + host.len();
                }
            }
            Some((rest[..len].to_lowercase(), 1 + len))
        }
        '#' => {
            let len = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
            let name = &rest[..len];
            if len == 0 || name.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            Some((name.to_lowercase(), 1 + len))
        }
        _ => None,
    }
}

/// Finds mentions and hashtags outside URLs.
pub fn references(text: &str) -> References {
    let mut refs = References::default();
    let mut finder = LinkFinder::new();
    finder.kinds(&[LinkKind::Url]);
    for span in finder.spans(text) {
        if span.kind().is_some() {
            continue;
        }
        let part = span.as_str();
        let mut prev = None;
        let mut skip_to = 0;
        for (i, c) in part.char_indices() {
            if i >= skip_to
                && (c == '@' || c == '#')
                && let Some((name, len)) = token_at(part, i, prev)
            {
                let list = if c == '@' {
                    &mut refs.mentions
                } else {
                    &mut refs.tags
                };
                if !list.contains(&name) {
                    list.push(name);
                }
                skip_to = i + len;
            }
            prev = Some(c);
        }
    }
    refs
}

/// Renders a status: paragraphs, links, and mentions/hashtags as Mastodon marks
/// them up. `mention_url` resolves a mention (lower-case) to (profile URL, username);
/// unresolved mentions stay plain text.
pub fn render_status(
    text: &str,
    mention_url: &dyn Fn(&str) -> Option<(String, String)>,
    base_url: &str,
) -> String {
    let render_plain = |part: &str| -> String {
        let mut out = String::new();
        let mut prev = None;
        let mut i = 0;
        while i < part.len() {
            let c = part[i..].chars().next().unwrap_or(' ');
            if (c == '@' || c == '#')
                && let Some((name, len)) = token_at(part, i, prev)
            {
                if c == '#' {
                    let shown = &part[i + 1..i + len];
                    out.push_str(&format!(
                        "<a href=\"{}\" class=\"mention hashtag\" rel=\"tag\">#<span>{}</span></a>",
                        html_escape::encode_double_quoted_attribute(&tag_url(base_url, &name)),
                        escape(shown)
                    ));
                    prev = part[..i + len].chars().last();
                    i += len;
                    continue;
                }
                if let Some((url, username)) = mention_url(&name) {
                    out.push_str(&format!(
                        "<span class=\"h-card\" translate=\"no\"><a href=\"{}\" class=\"u-url mention\">@<span>{}</span></a></span>",
                        html_escape::encode_double_quoted_attribute(&url),
                        escape(&username)
                    ));
                    prev = part[..i + len].chars().last();
                    i += len;
                    continue;
                }
            }
            out.push_str(&escape(&c.to_string()));
            prev = Some(c);
            i += c.len_utf8();
        }
        out
    };
    let text = text.replace("\r\n", "\n");
    let mut finder = LinkFinder::new();
    finder.kinds(&[LinkKind::Url]);
    let render_line = |line: &str| -> String {
        finder
            .spans(line)
            .map(|span| match span.kind() {
                Some(_)
                    if span.as_str().starts_with("http://")
                        || span.as_str().starts_with("https://") =>
                {
                    linkify_line(span.as_str())
                }
                _ => render_plain(span.as_str()),
            })
            .collect()
    };
    text.split("\n\n")
        .map(|p| p.trim_matches('\n'))
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            format!(
                "<p>{}</p>",
                p.split('\n')
                    .map(render_line)
                    .collect::<Vec<_>>()
                    .join("<br>")
            )
        })
        .collect()
}

/// Remote HTML made safe to show: the allow-list Mastodon keeps (paragraphs,
/// line breaks, links, emphasis, lists, quotes, code); links get
/// `rel="nofollow noopener noreferrer"` and open outside.
/// The page of a hashtag: `BASE/tags/NAME`, the name percent-encoded (a URL
/// must be ASCII; Mastodon encodes the same way).
pub fn tag_url(base_url: &str, name: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    format!("{base_url}/tags/{}", encoded.replace('+', "%20"))
}

/// The tags remote HTML keeps (Mastodon's set); everything else is dropped.
pub const ALLOWED_TAGS: &[&str] = &[
    "p",
    "br",
    "a",
    "span",
    "del",
    "pre",
    "code",
    "em",
    "strong",
    "b",
    "i",
    "u",
    "ul",
    "ol",
    "li",
    "blockquote",
];

pub fn sanitize(html: &str) -> String {
    use std::sync::LazyLock;
    static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
        let mut b = ammonia::Builder::default();
        b.tags(ALLOWED_TAGS.iter().copied().collect())
            .tag_attributes(
                [
                    ("a", ["href", "class"].into_iter().collect()),
                    ("span", ["class"].into_iter().collect()),
                ]
                .into_iter()
                .collect(),
            )
            .url_schemes(["http", "https"].into_iter().collect())
            .link_rel(Some("nofollow noopener noreferrer"))
            .set_tag_attribute_value("a", "target", "_blank");
        b
    });
    CLEANER.clean(html).to_string()
}

/// Text without any markup (display names, field names).
pub fn strip_html(html: &str) -> String {
    let cleaned = ammonia::Builder::empty().clean(html).to_string();
    html_escape::decode_html_entities(&cleaned).into_owned()
}

/// Whether `s` is a web address a page or an app may link to: http(s), at
/// most 2048 bytes. Every URL taken from a remote document passes this
/// before it is stored (a `javascript:` one would end up in a link).
pub fn is_web_url(s: &str) -> bool {
    s.len() <= 2048
        && url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

/// Same origin (scheme, host, port) — FEP-fe34.
pub fn same_origin(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(a), Ok(b)) => a.origin() == b.origin(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_mentions_and_tags() {
        let r = references(
            "Hi @Taro and @bob@Beta.example. #Alumni #2024 #同窓会 mail@x.example https://x.example/#frag @taro",
        );
        assert_eq!(r.mentions, vec!["taro", "bob@beta.example"]);
        assert_eq!(r.tags, vec!["alumni", "同窓会"]);
    }

    #[test]
    fn renders_status_markup() {
        let resolve = |n: &str| {
            (n == "taro").then(|| ("https://a.test/@taro".to_string(), "taro".to_string()))
        };
        let html = render_status(
            "@taro see #Osaka <3\n\nhttps://x.example/a @ghost",
            &resolve,
            "https://a.test",
        );
        assert_eq!(
            html,
            "<p><span class=\"h-card\" translate=\"no\"><a href=\"https://a.test/@taro\" class=\"u-url mention\">@<span>taro</span></a></span> \
             see <a href=\"https://a.test/tags/osaka\" class=\"mention hashtag\" rel=\"tag\">#<span>Osaka</span></a> &lt;3</p>\
             <p><a href=\"https://x.example/a\" target=\"_blank\" rel=\"nofollow noopener noreferrer\">x.example/a</a> @ghost</p>"
        );
    }

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

    #[test]
    fn remote_html_is_sanitised() {
        let dirty = r#"<p onclick="x()">Hi <script>alert(1)</script><a href="javascript:alert(1)">x</a> <a href="https://ok.example/">ok</a><img src=x onerror=y><iframe src="https://evil"></iframe></p>"#;
        let clean = sanitize(dirty);
        for bad in [
            "onclick",
            "<script",
            "javascript:",
            "<img",
            "onerror",
            "<iframe",
        ] {
            assert!(!clean.contains(bad), "{bad} survived: {clean}");
        }
        assert!(clean.contains(r#"href="https://ok.example/""#), "{clean}");
        assert!(clean.contains("nofollow noopener noreferrer"), "{clean}");
        assert_eq!(strip_html("<b>Bob</b> &amp; <i>co</i>"), "Bob & co");
    }

    #[test]
    fn deeply_nested_markup_is_handled_without_recursion_limits() {
        // An inbox body may carry about a megabyte: 150,000 nested tags.
        let depth = 150_000;
        let html = format!("{}x{}", "<span>".repeat(depth), "</span>".repeat(depth));
        let run = move || {
            let clean = sanitize(&html);
            assert!(clean.contains('x'));
            assert_eq!(strip_html(&html), "x");
        };
        // On a thread with a small stack, as the runtime's workers have.
        std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(run)
            .unwrap()
            .join()
            .unwrap();
    }
}
