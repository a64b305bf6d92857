//! Words as the index and the queries see them, the same way on both
//! databases: lower case, accents folded, and each word's French and
//! English stems beside it.
//!
//! The databases only match tokens (FTS5 on SQLite, a `simple` tsvector on
//! PostgreSQL): everything language-aware happens here, once, so a query
//! finds the same results on either.

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Longer "words" (hashes, base64, pasted URLs) are not indexed.
pub const MAX_WORD: usize = 40;

/// The words of `text`, lower case, accents kept (for the stemmers):
/// letters and digits, split on everything else.
pub fn split(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|ch: char| !ch.is_alphanumeric())
        .filter(|w| !w.is_empty() && w.chars().count() <= MAX_WORD)
        .map(str::to_lowercase)
}

/// `word` without accents or ligatures, lower case: "Lefèvre" → "lefevre",
/// "Œuvre" → "oeuvre".
pub fn fold(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for ch in word.nfd() {
        if is_combining_mark(ch) {
            continue;
        }
        match ch {
            'œ' | 'Œ' => out.push_str("oe"),
            'æ' | 'Æ' => out.push_str("ae"),
            'ß' => out.push_str("ss"),
            'ø' | 'Ø' => out.push('o'),
            'ł' | 'Ł' => out.push('l'),
            'đ' | 'Đ' => out.push('d'),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// `text` folded word by word, each word between single spaces (with one
/// before and one after), so that a phrase is a substring: `" a b "`.
pub fn folded_text(text: &str) -> String {
    let mut out = String::from(" ");
    for w in split(text) {
        out.push_str(&fold(&w));
        out.push(' ');
    }
    out
}

/// The text of a sanitised HTML fragment: tags become spaces, the
/// entities the sanitiser writes are read back.
pub fn html_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// The French and English stemmers.
pub struct Stems {
    fr: Stemmer,
    en: Stemmer,
}

impl Default for Stems {
    fn default() -> Self {
        Stems {
            fr: Stemmer::create(Algorithm::French),
            en: Stemmer::create(Algorithm::English),
        }
    }
}

impl Stems {
    /// The tokens that stand for the lower-case word `w`: its folded form,
    /// then its folded French and English stems when they differ.
    /// "réunions" → ["reunions", "reunion"]; "audits" → ["audits", "audit"].
    pub fn tokens(&self, w: &str) -> Vec<String> {
        let mut out = vec![fold(w)];
        for stem in [self.fr.stem(w), self.en.stem(w)] {
            let f = fold(&stem);
            if !f.is_empty() && !out.contains(&f) {
                out.push(f);
            }
        }
        out
    }

    /// The indexed form of `text`: every word's tokens, separated by
    /// spaces, at most `max_bytes` long (cut at a word).
    pub fn terms(&self, text: &str, max_bytes: usize) -> String {
        let mut out = String::new();
        for w in split(text) {
            for t in self.tokens(&w) {
                if out.len() + t.len() + 1 > max_bytes {
                    return out;
                }
                out.push_str(&t);
                out.push(' ');
            }
        }
        out
    }
}

/// Whether the folded word `w` is one a query may leave out: the commonest
/// French and English words, which would otherwise have to appear too.
pub fn is_stop_word(w: &str) -> bool {
    const STOP: [&str; 42] = [
        "a", "au", "aux", "avec", "ce", "ces", "dans", "de", "des", "du", "en", "et", "est", "il",
        "la", "le", "les", "l", "d", "un", "une", "ou", "par", "pour", "sur", "qui", "que", "an",
        "and", "are", "for", "in", "is", "of", "on", "or", "the", "to", "with", "who", "what",
        "at",
    ];
    STOP.contains(&w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_accents_and_ligatures() {
        assert_eq!(fold("Lefèvre"), "lefevre");
        assert_eq!(fold("RÉUNION"), "reunion");
        assert_eq!(fold("Œuvre"), "oeuvre");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("ça"), "ca");
        assert_eq!(
            folded_text("L'équipe Qualité, à Lyon!"),
            " l equipe qualite a lyon "
        );
    }

    #[test]
    fn stems_join_singular_and_plural_in_both_languages() {
        let s = Stems::default();
        let share = |a: &str, b: &str| s.tokens(a).iter().any(|t| s.tokens(b).contains(t));
        assert!(share("réunions", "Réunion".to_lowercase().as_str()));
        assert!(share("audits", "audit"));
        assert!(share("meetings", "meeting"));
        assert!(share("techniciennes", "technicien"));
        assert!(!share("audit", "lyon"));
        assert_eq!(s.tokens("lyon")[0], "lyon");
    }

    #[test]
    fn long_words_and_long_texts_are_bounded() {
        let s = Stems::default();
        let long = "x".repeat(MAX_WORD + 1);
        assert_eq!(s.terms(&format!("{long} ok"), 100), "ok ");
        let many = "audit ".repeat(1000);
        assert!(s.terms(&many, 64).len() <= 64);
    }
}
