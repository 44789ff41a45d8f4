//! Registry passwords at rest: ChaCha20-Poly1305 with a random 256-bit key in the data
//! dir's `registry.key` (mode 0600, made on first use). A copy of `berth.db` alone does
//! not give the passwords away; the key file and the database together do, so back them
//! up apart.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{bail, Context};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

pub const KEY_FILE: &str = "registry.key";

/// The key, made on first use. `create_new` makes two starts at once agree on one key.
fn key(data_dir: &Path) -> anyhow::Result<Key> {
    let path = data_dir.join(KEY_FILE);
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
    {
        Ok(mut f) => {
            let key = ChaCha20Poly1305::generate_key(&mut OsRng);
            f.write_all(&key)
                .and_then(|()| f.sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let bytes =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            if bytes.len() != 32 {
                bail!(
                    "{} is not a 32-byte key: restore it from a backup, or delete it and \
                     enter the registry passwords again",
                    path.display()
                );
            }
            Ok(*Key::from_slice(&bytes))
        }
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}

/// Seal a password: base64 of a fresh nonce and the ciphertext.
pub fn seal(data_dir: &Path, plain: &str) -> anyhow::Result<String> {
    let cipher = ChaCha20Poly1305::new(&key(data_dir)?);
    let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
    let sealed = cipher
        .encrypt(&nonce, plain.as_bytes())
        .map_err(|_| anyhow::anyhow!("cannot encrypt the password"))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(B64.encode(out))
}

/// Open a sealed password.
pub fn open(data_dir: &Path, sealed: &str) -> anyhow::Result<String> {
    let bytes = B64
        .decode(sealed)
        .context("a stored password is not base64")?;
    if bytes.len() < 12 {
        bail!("a stored password is truncated");
    }
    let (nonce, body) = bytes.split_at(12);
    let cipher = ChaCha20Poly1305::new(&key(data_dir)?);
    let plain = cipher
        .decrypt(Nonce::from_slice(nonce), body)
        .map_err(|_| {
            anyhow::anyhow!(
            "a stored registry password does not open with {KEY_FILE}: was the key file replaced?"
        )
        })?;
    String::from_utf8(plain).context("a stored password is not UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn seal_open_and_key_file_mode() {
        let dir = tempfile::tempdir().unwrap();
        let a = seal(dir.path(), "hunter2").unwrap();
        let b = seal(dir.path(), "hunter2").unwrap();
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(!a.contains("hunter2"));
        assert_eq!(open(dir.path(), &a).unwrap(), "hunter2");
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // Another key cannot open it.
        let other = tempfile::tempdir().unwrap();
        assert!(open(other.path(), &a).is_err());
    }
}
