//! Translation layer: every user-visible string is looked up here by key.
//! Catalogues are embedded TOML files (`locales/en.toml`, `locales/fr.toml`).

use std::collections::HashMap;
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Fr,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "fr" => Some(Lang::Fr),
            _ => None,
        }
    }

    /// Picks the best language from an `Accept-Language` header.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|v| v.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(lang) = Lang::parse(primary) {
                if best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, lang));
                }
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }
}

type Catalogue = HashMap<String, String>;

fn load(src: &str) -> Catalogue {
    let table: toml::Table = toml::from_str(src).expect("embedded catalogue is valid TOML");
    let mut out = HashMap::new();
    flatten("", &table, &mut out);
    out
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut Catalogue) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => {
                out.insert(key, format!("{other:?}"));
            }
        }
    }
}

static EN: LazyLock<Catalogue> = LazyLock::new(|| load(include_str!("../../locales/en.toml")));
static FR: LazyLock<Catalogue> = LazyLock::new(|| load(include_str!("../../locales/fr.toml")));

fn catalogue(lang: Lang) -> &'static Catalogue {
    match lang {
        Lang::En => &EN,
        Lang::Fr => &FR,
    }
}

/// The text for `key`; falls back to English, then to the key itself.
pub fn t(lang: Lang, key: &str) -> &str {
    catalogue(lang)
        .get(key)
        .or_else(|| EN.get(key))
        .map(String::as_str)
        .unwrap_or(key)
}

/// The text for `key` with `{name}` placeholders replaced.
pub fn tf(lang: Lang, key: &str, args: &[(&str, String)]) -> String {
    let mut s = t(lang, key).to_string();
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), value);
    }
    s
}

/// Template helper bound to one language.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    pub fn t(&self, key: &str) -> &'static str {
        // Catalogues are 'static; re-borrow through the static map.
        match catalogue(self.0).get(key).or_else(|| EN.get(key)) {
            Some(s) => s.as_str(),
            None => "??",
        }
    }
    pub fn tf1(&self, key: &str, name: &str, value: &dyn std::fmt::Display) -> String {
        tf(self.0, key, &[(name, value.to_string())])
    }
    /// [`Tr::tf1`] with two values.
    pub fn tf2(
        &self,
        key: &str,
        a: &str,
        av: &dyn std::fmt::Display,
        b: &str,
        bv: &dyn std::fmt::Display,
    ) -> String {
        tf(self.0, key, &[(a, av.to_string()), (b, bv.to_string())])
    }
    /// A count with its noun in the right number: `{key}_one` or
    /// `{key}_other`, with `{n}` replaced. English says "1 member", "0
    /// members"; French says "0 membre", "1 membre", "2 membres".
    pub fn count(&self, key: &str, n: &i64) -> String {
        let n = *n;
        let one = match self.0 {
            Lang::En => n == 1,
            Lang::Fr => n == 0 || n == 1,
        };
        let form = if one { "one" } else { "other" };
        tf(self.0, &format!("{key}_{form}"), &[("n", n.to_string())])
    }
    /// A file size as the reader's language writes it: "1.5 MB", "1,5 Mo"
    /// (French counts in octets), bytes below a kilobyte.
    pub fn size(&self, bytes: &i64) -> String {
        let b = (*bytes).max(0) as f64;
        let (value, unit) = if b < 1000.0 {
            (b, 0)
        } else if b < 1e6 {
            (b / 1e3, 1)
        } else if b < 1e9 {
            (b / 1e6, 2)
        } else {
            (b / 1e9, 3)
        };
        let units: [&str; 4] = match self.0 {
            Lang::En => ["B", "kB", "MB", "GB"],
            Lang::Fr => ["o", "ko", "Mo", "Go"],
        };
        let mut number = if unit == 0 || value >= 100.0 {
            format!("{value:.0}")
        } else {
            format!("{value:.1}")
        };
        if self.0 == Lang::Fr {
            number = number.replace('.', ",");
        }
        // A narrow no-break space keeps the number with its unit.
        format!("{number}\u{202f}{}", units[unit])
    }
    /// The translation of `prefix` followed by a value (`communities.role_` +
    /// `owner`), for labels of stored values.
    pub fn tv(&self, prefix: &str, value: &str) -> &'static str {
        self.t(&format!("{prefix}{value}"))
    }
    /// Label of a reaction kind.
    pub fn reaction(&self, kind: &str) -> &'static str {
        self.t(&format!("reaction.{kind}"))
    }
    pub fn lang(&self) -> &'static str {
        self.0.code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogues_have_the_same_keys() {
        let mut en: Vec<_> = EN.keys().collect();
        let mut fr: Vec<_> = FR.keys().collect();
        en.sort();
        fr.sort();
        let missing_fr: Vec<_> = en.iter().filter(|k| !FR.contains_key(**k)).collect();
        let missing_en: Vec<_> = fr.iter().filter(|k| !EN.contains_key(**k)).collect();
        assert!(missing_fr.is_empty(), "missing in fr: {missing_fr:?}");
        assert!(missing_en.is_empty(), "missing in en: {missing_en:?}");
    }

    #[test]
    fn accept_language_picks_highest_quality_supported() {
        assert_eq!(
            Lang::from_accept_language("fr-FR,fr;q=0.9,en;q=0.8"),
            Lang::Fr
        );
        assert_eq!(Lang::from_accept_language("de,en;q=0.5,fr;q=0.4"), Lang::En);
        assert_eq!(Lang::from_accept_language("de"), Lang::En);
        assert_eq!(Lang::from_accept_language(""), Lang::En);
    }

    /// Every error code and message key used in the code and the templates
    /// has a text in both languages.
    #[test]
    fn every_key_in_use_is_translated() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        let mut dirs = vec![root.join("src"), root.join("templates")];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else {
                    files.push(p);
                }
            }
        }
        let codes = regex::Regex::new(
            r#"(?:bad_request|forbidden|unauthorized|conflict|ErrorKind::[A-Za-z]+,)\s*\(?\s*"([a-z_]+)""#,
        )
        .unwrap();
        // t("…"), tf1("…", …), and tf(lang, "…", …) with its language first.
        let keys =
            regex::Regex::new(r#"\b(?:t|tf1|tf)\(\s*(?:[a-z_.]+,\s*)?"([a-z_]+\.[a-z_.0-9]+)""#)
                .unwrap();
        let mut missing = Vec::new();
        let mut seen = 0;
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let wanted = codes
                .captures_iter(&text)
                .map(|c| format!("error.{}", &c[1]))
                .chain(keys.captures_iter(&text).map(|c| c[1].to_string()));
            for key in wanted {
                seen += 1;
                if !EN.contains_key(&key) || !FR.contains_key(&key) {
                    missing.push(format!("{key} ({})", f.display()));
                }
            }
        }
        assert!(seen > 100, "the scan found only {seen} keys");
        assert!(missing.is_empty(), "untranslated: {missing:#?}");
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            tf(Lang::En, "error.post_too_long", &[("max", "5000".into())]),
            "A post can have at most 5000 characters."
        );
    }
}
