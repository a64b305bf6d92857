//! Markdown in, sanitised HTML out. `#hashtags` link to their tag page and
//! `@mentions` of existing people to their profile; code is left alone.

use std::sync::LazyLock;

use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag, TagEnd};

/// Rendered HTML with the hashtags and mentions it links to.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Rendered {
    pub html: String,
    pub tags: Vec<String>,
    pub mentions: Vec<String>,
}

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    // No image may load from outside the instance.
    b.rm_tags(["img"]);
    b.add_allowed_classes("a", ["hashtag", "mention"]);
    b.link_rel(Some("noopener noreferrer nofollow"));
    b
});

/// Cleans HTML against the allow-list (for local and remote content alike).
pub fn sanitize(html: &str) -> String {
    SANITIZER.clean(html).to_string()
}

fn options() -> Options {
    Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS
}

/// Text written into HTML as text: `&`, `<`, `>`, `"` and `'` escaped.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Hashtag names, lowercased, in order of first appearance.
pub fn normalize_tag(tag: &str) -> String {
    tag.to_lowercase()
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

#[derive(Debug, PartialEq)]
enum Piece<'a> {
    Text(&'a str),
    Tag(&'a str),
    Mention(&'a str),
}

/// Length of an `@domain` suffix (as in `@bob@beta.example`) at the start of
/// `rest`, or 0. The domain needs a dot; a trailing dot ends the sentence.
fn remote_domain_len(rest: &str) -> usize {
    let Some(after) = rest.strip_prefix('@') else {
        return 0;
    };
    let domain: &str = &after[..after
        .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '-' || ch == '.'))
        .unwrap_or(after.len())];
    let domain = domain.trim_end_matches(['.', '-']);
    if !(domain.contains('.') && !domain.starts_with('.') && domain.len() <= 253) {
        return 0;
    }
    // An explicit port, as in `@bob@beta.example:8443`.
    let rest = &after[domain.len()..];
    let port = match rest.strip_prefix(':') {
        Some(p) => {
            let digits = p.bytes().take_while(u8::is_ascii_digit).count();
            if (1..=5).contains(&digits) {
                1 + digits
            } else {
                0
            }
        }
        None => 0,
    };
    1 + domain.len() + port
}

/// Splits plain text into text, `#tag` and `@name` (or `@name@domain`) pieces.
fn split(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev: Option<char> = None;
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let boundary = prev.is_none_or(|p| !is_word(p) && p != '&' && p != '/');
        if (c == '#' || c == '@') && boundary {
            let rest = &text[i + 1..];
            let len: usize = if c == '#' {
                rest.chars()
                    .take_while(|ch| is_word(*ch))
                    .map(char::len_utf8)
                    .sum()
            } else {
                let name: usize = rest
                    .chars()
                    .take_while(|ch| ch.is_ascii_alphanumeric() || *ch == '_')
                    .map(char::len_utf8)
                    .sum();
                name + remote_domain_len(&rest[name..])
            };
            let word = &rest[..len];
            let ok = if c == '#' {
                (1..=64).contains(&word.chars().count()) && word.chars().any(char::is_alphabetic)
            } else {
                (3..=30).contains(&word.split('@').next().unwrap_or("").len())
            };
            if ok {
                if start < i {
                    out.push(Piece::Text(&text[start..i]));
                }
                out.push(if c == '#' {
                    Piece::Tag(word)
                } else {
                    Piece::Mention(word)
                });
                start = i + 1 + len;
                // Skip the consumed word.
                while iter.peek().is_some_and(|(j, _)| *j < start) {
                    iter.next();
                }
                prev = word.chars().last();
                continue;
            }
        }
        prev = Some(c);
    }
    if start < text.len() {
        out.push(Piece::Text(&text[start..]));
    }
    out
}

/// Usernames that `src` may mention (to be checked against the database).
pub fn mention_candidates(src: &str) -> Vec<String> {
    let mut names = Vec::new();
    for_each_text(src, |t| {
        for p in split(t) {
            if let Piece::Mention(m) = p {
                let m = m.to_ascii_lowercase();
                if !names.contains(&m) {
                    names.push(m);
                }
            }
        }
    });
    names
}

fn for_each_text(src: &str, mut f: impl FnMut(&str)) {
    let mut depth = 0usize;
    let mut buf = String::new();
    for ev in Parser::new_ext(src, options()) {
        match ev {
            Event::Text(t) if depth == 0 => buf.push_str(&t),
            other => {
                if !buf.is_empty() {
                    f(&buf);
                    buf.clear();
                }
                match other {
                    Event::Start(Tag::CodeBlock(_)) | Event::Start(Tag::Link { .. }) => depth += 1,
                    Event::End(TagEnd::CodeBlock) | Event::End(TagEnd::Link) => {
                        depth = depth.saturating_sub(1)
                    }
                    _ => {}
                }
            }
        }
    }
    if !buf.is_empty() {
        f(&buf);
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes one URL path segment.
pub fn encode_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The words of a Markdown text without its marks (for an e-mail's quote
/// or a preview): text and code kept, blocks and breaks as spaces, no HTML.
pub fn plain_text(src: &str) -> String {
    let mut out = String::new();
    for event in Parser::new_ext(src, Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            // A block ends with a space; inline marks (emphasis, links)
            // leave their words as they were.
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::BlockQuote(_)
                | TagEnd::CodeBlock
                | TagEnd::TableCell,
            ) => out.push(' '),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Renders Markdown to sanitised HTML; `is_person` says whether a mentioned
/// username exists (only those become links and count as mentions).
pub fn render(src: &str, is_person: impl Fn(&str) -> bool) -> Rendered {
    let mut tags: Vec<String> = Vec::new();
    let mut mentions: Vec<String> = Vec::new();
    let mut events: Vec<Event<'_>> = Vec::new();
    let mut depth = 0usize;
    let mut buf = String::new();

    let mut flush = |buf: &mut String, events: &mut Vec<Event<'_>>| {
        if buf.is_empty() {
            return;
        }
        let mut html_out = String::new();
        for p in split(buf) {
            match p {
                Piece::Text(t) => html_out.push_str(&escape(t)),
                Piece::Tag(t) => {
                    let norm = normalize_tag(t);
                    html_out.push_str(&format!(
                        "<a href=\"/tags/{}\" class=\"hashtag\">#{}</a>",
                        encode_segment(&norm),
                        escape(t)
                    ));
                    if !tags.contains(&norm) {
                        tags.push(norm);
                    }
                }
                Piece::Mention(m) => {
                    let norm = m.to_ascii_lowercase();
                    if is_person(&norm) {
                        html_out.push_str(&format!(
                            "<a href=\"/people/{norm}\" class=\"mention\">@{}</a>",
                            escape(m)
                        ));
                        if !mentions.contains(&norm) {
                            mentions.push(norm);
                        }
                    } else {
                        html_out.push('@');
                        html_out.push_str(&escape(m));
                    }
                }
            }
        }
        events.push(Event::InlineHtml(CowStr::from(html_out)));
        buf.clear();
    };

    for ev in Parser::new_ext(src, options()) {
        match ev {
            Event::Text(t) if depth == 0 => buf.push_str(&t),
            other => {
                flush(&mut buf, &mut events);
                match &other {
                    Event::Start(Tag::CodeBlock(_)) | Event::Start(Tag::Link { .. }) => depth += 1,
                    Event::End(TagEnd::CodeBlock) | Event::End(TagEnd::Link) => {
                        depth = depth.saturating_sub(1)
                    }
                    _ => {}
                }
                events.push(other);
            }
        }
    }
    flush(&mut buf, &mut events);

    let mut raw = String::new();
    html::push_html(&mut raw, events.into_iter());
    Rendered {
        html: sanitize(&raw),
        tags,
        mentions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(src: &str) -> Rendered {
        render(src, |n| n == "alice" || n == "bob_2")
    }

    #[test]
    fn markdown_basics() {
        let out = r("**bold** and *it*\n\n- a\n- b");
        assert!(out.html.contains("<strong>bold</strong>"), "{}", out.html);
        assert!(out.html.contains("<li>a</li>"), "{}", out.html);
    }

    #[test]
    fn remote_mentions_keep_their_domain() {
        assert_eq!(
            mention_candidates(
                "hi @bob@beta.test. and @carol@Gamma.Example, @dan@nodot @eve@e.test:8080"
            ),
            vec![
                "bob@beta.test",
                "carol@gamma.example",
                "dan",
                "eve@e.test:8080"
            ]
        );
    }

    #[test]
    fn hashtags_and_mentions() {
        let out =
            r("Hello @Alice and @nobody, see #Rust and #rust, #1 and #Café. mail a@alice.com");
        assert_eq!(out.tags, vec!["rust", "café"]);
        assert_eq!(out.mentions, vec!["alice"]);
        assert!(
            out.html
                .contains("<a href=\"/tags/rust\" class=\"hashtag\""),
            "{}",
            out.html
        );
        assert!(
            out.html.contains("href=\"/tags/caf%C3%A9\""),
            "{}",
            out.html
        );
        assert!(
            out.html
                .contains("<a href=\"/people/alice\" class=\"mention\""),
            "{}",
            out.html
        );
        assert!(out.html.contains("@nobody"), "{}", out.html);
        assert!(!out.html.contains("/people/nobody"));
        assert!(!out.html.contains("/people/alice.com"));
    }

    #[test]
    fn code_is_not_linked() {
        let out = r("`#notatag` and\n\n```\n#nope @alice\n```\n");
        assert!(out.tags.is_empty());
        assert!(out.mentions.is_empty());
    }

    #[test]
    fn scripts_and_javascript_urls_are_removed() {
        let out = r("hello <script>alert(1)</script> there");
        assert!(!out.html.contains("<script"), "{}", out.html);
        let out = r("see [x](javascript:alert(1)) and <a href=\"javascript:alert(2)\">y</a>");
        assert!(!out.html.contains("href=\"javascript"), "{}", out.html);
        assert!(
            out.html.contains(">x</a>") || out.html.contains("x"),
            "{}",
            out.html
        );
        let out = r(
            "<img src=x onerror=alert(1)> <a href=\"https://ok.example\" onclick=\"x()\">ok</a>",
        );
        assert!(!out.html.contains("onerror"), "{}", out.html);
        assert!(!out.html.contains("onclick"), "{}", out.html);
        assert!(!out.html.contains("<img"), "{}", out.html);
        assert!(
            out.html.contains("href=\"https://ok.example\""),
            "{}",
            out.html
        );
    }

    #[test]
    fn malformed_markdown_still_renders_safely() {
        let out = r("**unclosed *emph [link](  <div><p>unclosed");
        assert!(out.html.contains("unclosed"));
        assert!(out.html.starts_with("<p>"), "{}", out.html);
    }

    #[test]
    fn candidates() {
        assert_eq!(
            mention_candidates("hi @Bob_2 and @x and `@code`"),
            vec!["bob_2"]
        );
    }

    #[test]
    fn plain_text_keeps_the_words_and_drops_the_marks() {
        assert_eq!(
            plain_text(
                "**Audit** of _line 3_:\n\n- `a < b`\n- <b>see</b> [the report](https://x.example)"
            ),
            "Audit of line 3: a < b see the report"
        );
    }
}
