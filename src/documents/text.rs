//! The words of an uploaded document, for search: plain text and Markdown,
//! PDF, and the zipped XML of Office (docx, xlsx, pptx) and OpenDocument
//! (odt, ods, odp) files.
//!
//! Every file is hostile: what is read is bounded before it is read (the
//! file's size, the number of archive entries, the bytes inflated from
//! them, so a zip bomb stops at the bound), the text kept is bounded, and
//! reading stops at a time limit. A file that cannot be read is stored and
//! shared all the same, found by its name only; the reason is logged.

use std::io::Read;
use std::time::{Duration, Instant};

/// Larger files are not read for their words.
pub const MAX_INPUT: usize = 32 * 1024 * 1024;
/// At most this much text is kept (the index reads no more).
pub const MAX_TEXT: usize = crate::index::MAX_TERMS;
/// At most this many bytes are inflated from an archive, all entries
/// together.
pub const MAX_INFLATED: u64 = 64 * 1024 * 1024;
/// Archives with more entries are not read.
pub const MAX_ENTRIES: usize = 10_000;
/// Reading a file stops after this long.
pub const TIME_LIMIT: Duration = Duration::from_secs(5);

/// Why a file's words were not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Skipped {
    #[error("not a kind of file whose words are read")]
    Kind,
    #[error("larger than {MAX_INPUT} bytes")]
    TooLarge,
    #[error("not a readable {0} file: {1}")]
    Broken(&'static str, String),
    #[error("its archive inflates to more than {MAX_INFLATED} bytes")]
    Inflates,
    #[error("its archive has more than {MAX_ENTRIES} entries")]
    TooManyEntries,
    #[error("reading it took longer than {} s", TIME_LIMIT.as_secs())]
    TooSlow,
}

/// The kinds of files read.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Pdf,
    /// A zip of XML parts; which entries hold the text.
    Zipped(&'static str, fn(&str) -> bool),
}

fn kind_of(filename: &str, content_type: &str) -> Option<Kind> {
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let ct = content_type.to_ascii_lowercase();
    Some(match ext.as_str() {
        "txt" | "md" | "markdown" | "csv" | "log" => Kind::Text,
        "pdf" => Kind::Pdf,
        "docx" => Kind::Zipped("docx", |n| {
            n == "word/document.xml" || n == "word/footnotes.xml"
        }),
        "xlsx" => Kind::Zipped("xlsx", |n| {
            n == "xl/sharedStrings.xml"
                || (n.starts_with("xl/worksheets/sheet") && n.ends_with(".xml"))
        }),
        "pptx" => Kind::Zipped("pptx", |n| {
            (n.starts_with("ppt/slides/slide") || n.starts_with("ppt/notesSlides/notesSlide"))
                && n.ends_with(".xml")
        }),
        "odt" | "ods" | "odp" => Kind::Zipped("OpenDocument", |n| n == "content.xml"),
        _ if ct.starts_with("text/plain") || ct.starts_with("text/markdown") => Kind::Text,
        _ if ct == "application/pdf" => Kind::Pdf,
        _ => return None,
    })
}

/// The words of the file `filename` (of type `content_type`), at most
/// [`MAX_TEXT`] bytes of them.
pub fn extract(filename: &str, content_type: &str, bytes: &[u8]) -> Result<String, Skipped> {
    let kind = kind_of(filename, content_type).ok_or(Skipped::Kind)?;
    if bytes.len() > MAX_INPUT {
        return Err(Skipped::TooLarge);
    }
    let deadline = Instant::now() + TIME_LIMIT;
    let mut out = Text::default();
    match kind {
        Kind::Text => out.push(&String::from_utf8_lossy(bytes)),
        Kind::Pdf => pdf(bytes, deadline, &mut out)?,
        Kind::Zipped(name, wanted) => zipped(name, wanted, bytes, deadline, &mut out)?,
    }
    Ok(out.0)
}

/// [`extract`], logging why a file was not read (and returning no text).
pub fn extract_or_log(filename: &str, content_type: &str, bytes: &[u8]) -> String {
    match extract(filename, content_type, bytes) {
        Ok(text) => text,
        Err(Skipped::Kind) => String::new(),
        Err(why) => {
            tracing::warn!(file = %filename, reason = %why, "the words of a document were not read; it is found by its name only");
            String::new()
        }
    }
}

/// Text gathered up to [`MAX_TEXT`] bytes, cut at a character.
#[derive(Default)]
struct Text(String);

impl Text {
    fn full(&self) -> bool {
        self.0.len() >= MAX_TEXT
    }
    /// Adds `s`, its control characters (NUL included, which PostgreSQL
    /// cannot store) as spaces.
    fn push(&mut self, s: &str) {
        let cleaned;
        let s = if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            cleaned = s
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect::<String>();
            cleaned.as_str()
        } else {
            s
        };
        let room = MAX_TEXT.saturating_sub(self.0.len());
        let mut cut = s.len().min(room);
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        self.0.push_str(&s[..cut]);
    }
}

fn pdf(bytes: &[u8], deadline: Instant, out: &mut Text) -> Result<(), Skipped> {
    let doc =
        lopdf::Document::load_mem(bytes).map_err(|e| Skipped::Broken("PDF", e.to_string()))?;
    if doc.is_encrypted() {
        return Err(Skipped::Broken("PDF", "it is encrypted".into()));
    }
    for (number, _) in doc.get_pages() {
        if Instant::now() > deadline {
            return Err(Skipped::TooSlow);
        }
        if out.full() {
            break;
        }
        // A page that cannot be read is left out; the others count.
        if let Ok(t) = doc.extract_text(&[number]) {
            out.push(&t);
            out.push(" ");
        }
    }
    Ok(())
}

fn zipped(
    name: &'static str,
    wanted: fn(&str) -> bool,
    bytes: &[u8],
    deadline: Instant,
    out: &mut Text,
) -> Result<(), Skipped> {
    let broken = |e: &dyn std::fmt::Display| Skipped::Broken(name, e.to_string());
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| broken(&e))?;
    if archive.len() > MAX_ENTRIES {
        return Err(Skipped::TooManyEntries);
    }
    let mut names: Vec<String> = archive
        .file_names()
        .filter(|n| wanted(n))
        .map(str::to_string)
        .collect();
    if names.is_empty() {
        return Err(broken(&"none of the parts that hold its text"));
    }
    // Slides and sheets in their order (slide2 before slide10).
    names.sort_by_key(|n| {
        let digits: String = n.chars().filter(|c| c.is_ascii_digit()).collect();
        (digits.len(), digits, n.clone())
    });
    let mut budget = MAX_INFLATED;
    for entry in names {
        if out.full() {
            break;
        }
        let file = archive.by_name(&entry).map_err(|e| broken(&e))?;
        // Read one byte more than the budget: reaching it means the
        // archive inflates past the bound, whatever its header declares.
        let mut xml = Vec::new();
        file.take(budget + 1)
            .read_to_end(&mut xml)
            .map_err(|e| broken(&e))?;
        if xml.len() as u64 > budget {
            return Err(Skipped::Inflates);
        }
        budget -= xml.len() as u64;
        if Instant::now() > deadline {
            return Err(Skipped::TooSlow);
        }
        xml_text(&xml, out).map_err(|e| broken(&e))?;
        out.push(" ");
    }
    Ok(())
}

/// The character data of an XML part, a space after each element (a cell,
/// a paragraph, a run), so that words of two elements do not join.
fn xml_text(xml: &[u8], out: &mut Text) -> Result<(), quick_xml::Error> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf)? {
            Event::Text(t) => out.push(&String::from_utf8_lossy(t.as_ref())),
            Event::CData(t) => out.push(&String::from_utf8_lossy(t.as_ref())),
            // `&amp;`, `&#233;`: the character it stands for.
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref() {
                    Ok(Some(ch)) => Some(ch),
                    _ => match &*r as &[u8] {
                        b"amp" => Some('&'),
                        b"lt" => Some('<'),
                        b"gt" => Some('>'),
                        b"quot" => Some('"'),
                        b"apos" => Some('\''),
                        _ => None,
                    },
                };
                if let Some(ch) = ch {
                    out.push(ch.encode_utf8(&mut [0; 4]));
                }
            }
            Event::End(_) if !out.0.ends_with(' ') => out.push(" "),
            Event::Eof => return Ok(()),
            _ => {}
        }
        if out.full() {
            return Ok(());
        }
        buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in parts {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn office_and_opendocument_files_give_their_words() {
        let docx = zip_of(&[(
            "word/document.xml",
            b"<w:document><w:body><w:p><w:r><w:t>Plan qualit\xc3\xa9</w:t></w:r></w:p><w:p><w:r><w:t>audits &amp; suivi</w:t></w:r></w:p></w:body></w:document>",
        )]);
        let t = extract("plan.docx", "application/octet-stream", &docx).unwrap();
        assert_eq!(
            t.split_whitespace().collect::<Vec<_>>(),
            ["Plan", "qualité", "audits", "&", "suivi"]
        );
        let odt = zip_of(&[(
            "content.xml",
            b"<office:text><text:p>R\xc3\xa9union</text:p><text:p>Lyon</text:p></office:text>",
        )]);
        let t = extract("cr.odt", "", &odt).unwrap();
        assert!(t.contains("Réunion") && t.contains("Lyon"), "{t}");
    }

    #[test]
    fn control_characters_become_spaces() {
        let t = extract("a.txt", "text/plain", b"audit\0plan\x07fin").unwrap();
        assert_eq!(t, "audit plan fin");
    }

    #[test]
    fn hostile_files_are_skipped_with_a_reason() {
        assert!(matches!(
            extract("broken.pdf", "application/pdf", b"%PDF-1.4 not really"),
            Err(Skipped::Broken("PDF", _))
        ));
        assert_eq!(
            extract("x.exe", "application/octet-stream", b"MZ"),
            Err(Skipped::Kind)
        );
        // 100 MB of zeros, a few hundred kilobytes zipped, named as a docx.
        let zeros = vec![b'0'; 100 * 1024 * 1024];
        let bomb = zip_of(&[("word/document.xml", &zeros)]);
        assert!(bomb.len() < 1024 * 1024);
        assert_eq!(extract("bomb.docx", "", &bomb), Err(Skipped::Inflates));
        assert!(matches!(
            extract("nozip.docx", "", b"PK not a zip"),
            Err(Skipped::Broken("docx", _))
        ));
    }
}
