//! Where uploaded files live (documents, attachments of posts). One
//! interface, [`Storage`]; the local disk is the default backend, and an
//! object-storage backend can implement the same three calls later. Keys
//! are random hexadecimal names chosen by Ruche, never derived from what
//! the uploader typed. Also what every upload and download shares: the
//! checks of a file's name and declared type, and how a file is served.

use std::io::Write;
use std::path::PathBuf;

use crate::error::{AppError, AppResult};

pub trait Storage: Send + Sync {
    /// Stores `bytes` under `key`, all or nothing.
    fn put(&self, key: &str, bytes: &[u8]) -> AppResult<()>;
    fn get(&self, key: &str) -> AppResult<Vec<u8>>;
    /// Removes a file; a missing file is not an error.
    fn delete(&self, key: &str) -> AppResult<()>;
}

/// A fresh storage key: 32 random hexadecimal characters.
pub fn new_key() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn valid_key(key: &str) -> bool {
    key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Files in a folder of the local disk, spread over 256 sub-folders.
pub struct LocalDisk {
    root: PathBuf,
}

impl LocalDisk {
    pub fn new(root: PathBuf) -> LocalDisk {
        LocalDisk { root }
    }

    fn path(&self, key: &str) -> AppResult<PathBuf> {
        if !valid_key(key) {
            return Err(AppError::internal(format!("invalid storage key {key:?}")));
        }
        Ok(self.root.join(&key[..2]).join(key))
    }
}

impl Storage for LocalDisk {
    fn put(&self, key: &str, bytes: &[u8]) -> AppResult<()> {
        let path = self.path(key)?;
        let dir = path
            .parent()
            .ok_or_else(|| AppError::internal("no folder"))?;
        std::fs::create_dir_all(dir).map_err(AppError::internal)?;
        // Written beside, synced, then renamed: a crash leaves no half file.
        let tmp = path.with_extension("part");
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(AppError::internal(e));
        }
        Ok(())
    }

    fn get(&self, key: &str) -> AppResult<Vec<u8>> {
        std::fs::read(self.path(key)?).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => AppError::not_found(),
            _ => AppError::internal(e),
        })
    }

    fn delete(&self, key: &str) -> AppResult<()> {
        match std::fs::remove_file(self.path(key)?) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(AppError::internal(e)),
        }
    }
}

/// Longest file name kept.
pub const MAX_NAME: usize = 200;

/// A file name as sent, if acceptable: no folders, no parent references,
/// no control characters, not hidden, at most [`MAX_NAME`] characters.
pub fn check_filename(raw: &str) -> Option<String> {
    let name = raw.trim();
    let bad = name.is_empty()
        || name.chars().count() > MAX_NAME
        || name.contains(['/', '\\', '\0'])
        || name.chars().any(char::is_control)
        || name.starts_with('.')
        || name.contains("..")
        || name.contains(':');
    (!bad).then(|| name.to_string())
}

/// A sane media type from what a client declared (anything else is
/// `application/octet-stream`).
pub fn check_content_type(raw: &str) -> String {
    let t = raw
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let ok = !t.is_empty()
        && t.len() <= 100
        && t.split_once('/').is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && t.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"/.+-_".contains(&c))
        });
    if ok {
        t
    } else {
        "application/octet-stream".into()
    }
}

/// The media type a download is served with: the type recorded for the file
/// when it is one of the known-safe types below, else
/// `application/octet-stream`. What the uploader claimed is not trusted:
/// `text/html`, `image/svg+xml` or `application/javascript` served from this
/// site's origin would run in it.
pub fn served_type(recorded: &str) -> &'static str {
    const SAFE: &[&str] = &[
        "application/pdf",
        "application/zip",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
        "audio/mpeg",
        "audio/ogg",
        "image/gif",
        "image/jpeg",
        "image/png",
        "image/webp",
        "text/csv",
        "text/markdown",
        "text/plain",
        "video/mp4",
        "video/webm",
    ];
    let t = check_content_type(recorded);
    SAFE.iter()
        .find(|s| **s == t)
        .copied()
        .unwrap_or("application/octet-stream")
}

/// `Content-Disposition` for a file: an attachment (saved, never shown
/// inside this site), or `inline` for what the browser shows itself (a
/// picture, a PDF), with the name in RFC 5987 form.
pub fn disposition(filename: &str, inline: bool) -> String {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._- ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "{}; filename=\"{ascii}\"; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        crate::markdown::encode_segment(filename)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_disk_round_trip_and_refuses_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let s = LocalDisk::new(dir.path().to_path_buf());
        let key = new_key();
        s.put(&key, b"hello").unwrap();
        assert_eq!(s.get(&key).unwrap(), b"hello");
        s.delete(&key).unwrap();
        assert_eq!(s.get(&key).unwrap_err().code, "not_found");
        s.delete(&key).unwrap();
        for bad in ["../../etc/passwd", "", "zz", &"g".repeat(32)] {
            assert!(s.put(bad, b"x").is_err(), "{bad}");
        }
    }
}
