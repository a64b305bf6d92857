//! Where document files live. One interface, [`Storage`]; the local disk is
//! the default backend, and an object-storage backend can implement the same
//! three calls later. Keys are random hexadecimal names chosen by Ruche,
//! never derived from what the uploader typed.

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
