//! The keeper's signing key on disk: 64 hex digits in one file (`site.key` at a site,
//! `hub.key` at the hub), made on first use with mode 0600.

use kakehashi_federation::sign::SiteKey;
use std::path::{Path, PathBuf};

/// The key file could not be read or written, or holds no key.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct KeyError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub reason: String,
}

/// Reads the key at `path` (64 hex digits), making a new one there on first use (mode 0600).
pub fn load_or_create(path: &Path) -> Result<SiteKey, KeyError> {
    let err = |m: String| KeyError {
        path: path.to_owned(),
        reason: m,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let bytes: [u8; 32] = hex::decode(text.trim())
                .map_err(|e| err(format!("not a hex key: {e}")))?
                .try_into()
                .map_err(|_| err("a site key is 32 bytes (64 hex digits)".into()))?;
            Ok(SiteKey::from_bytes(&bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = [0u8; 32];
            rand::Rng::fill(&mut rand::rng(), &mut bytes);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
            }
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, hex::encode(bytes)).map_err(|e| err(e.to_string()))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| err(e.to_string()))?;
            }
            std::fs::rename(&tmp, path).map_err(|e| err(e.to_string()))?;
            Ok(SiteKey::from_bytes(&bytes))
        }
        Err(e) => Err(err(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key is made once and read back the same; a damaged file is refused, naming it.
    #[test]
    fn a_key_is_made_once_and_a_damaged_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/site.key");
        let a = load_or_create(&path).unwrap();
        let b = load_or_create(&path).unwrap();
        assert_eq!(a.public_key(), b.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "abcd").unwrap();
        let e = load_or_create(&path).err().expect("refused").to_string();
        assert!(e.contains("site.key") && e.contains("32 bytes"), "{e}");
    }
}
