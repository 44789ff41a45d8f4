//! argon2id password hashes, computed off the async threads.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::OnceLock;

/// argon2 costs ~19 MiB and tens of milliseconds a run: at most this many run at once, so
/// a login flood queues instead of starving the server of threads and memory.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Hash a password with argon2id and a random salt (PHC string).
pub async fn hash(password: String) -> anyhow::Result<String> {
    let _slot = HASHING.acquire().await?;
    tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
}

fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash password: {e}"))
}

/// Check a password against a stored hash. Without a stored hash (unknown user) a dummy
/// hash is checked instead, so both answers take the same time.
pub async fn verify(stored: Option<String>, password: String) -> bool {
    let known = stored.is_some();
    let Ok(_slot) = HASHING.acquire().await else {
        return false;
    };
    let res = tokio::task::spawn_blocking(move || {
        let phc = stored.unwrap_or_else(|| dummy_hash().to_owned());
        let Ok(parsed) = PasswordHash::new(&phc) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
    .await;
    known && res.unwrap_or(false)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking("berth-dummy-password").unwrap_or_default())
}

/// Refuse passwords too weak to be worth hashing.
pub fn check_strength(password: &str) -> crate::error::AppResult<()> {
    if password.chars().count() < 8 {
        return Err(crate::error::AppError::bad_request(
            "weak_password",
            "a password needs at least 8 characters",
        ));
    }
    Ok(())
}

/// A random password for the first admin when none was given.
pub fn random_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..20)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let h = hash("s3cret".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify(Some(h.clone()), "s3cret".into()).await);
        assert!(!verify(Some(h), "wrong".into()).await);
        assert!(!verify(None, "berth-dummy-password".into()).await);
    }
}
