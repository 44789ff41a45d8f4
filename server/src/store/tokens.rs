//! Personal API tokens. Only a SHA-256 of each secret is stored: a leaked database does not
//! leak working tokens (the secrets are long and random, so a fast hash is enough).

use sha2::{Digest, Sha256};
use sqlx::SqlitePool;

pub fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new secret: `berth_` and 40 random alphanumerics (~238 bits).
pub fn new_secret() -> String {
    use rand::distributions::Alphanumeric;
    use rand::Rng;
    let body: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(40)
        .map(char::from)
        .collect();
    format!("berth_{body}")
}

pub async fn create(db: &SqlitePool, user_id: i64, name: &str, secret: &str) -> sqlx::Result<i64> {
    let res = sqlx::query("INSERT INTO tokens (user_id, name, hash) VALUES (?, ?, ?)")
        .bind(user_id)
        .bind(name)
        .bind(digest(secret))
        .execute(db)
        .await?;
    Ok(res.last_insert_rowid())
}

/// The user id owning this secret, marking the token used now.
pub async fn use_secret(db: &SqlitePool, secret: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "UPDATE tokens SET last_used = strftime('%s', 'now') WHERE hash = ? RETURNING user_id",
    )
    .bind(digest(secret))
    .fetch_optional(db)
    .await
}

/// Tokens, of one user or (None) of everyone.
pub async fn list(db: &SqlitePool, user_id: Option<i64>) -> sqlx::Result<Vec<wire::TokenInfo>> {
    let rows: Vec<(i64, String, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT t.id, t.name, u.username, t.created_at, t.last_used FROM tokens t
         JOIN users u ON u.id = t.user_id
         WHERE ?1 IS NULL OR t.user_id = ?1 ORDER BY t.id",
    )
    .bind(user_id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, name, username, created_at, last_used)| wire::TokenInfo {
                id,
                name,
                username,
                created_at,
                last_used,
            },
        )
        .collect())
}

/// Revoke a token; `owner` limits it to that user's tokens. False if nothing matched.
pub async fn delete(db: &SqlitePool, id: i64, owner: Option<i64>) -> sqlx::Result<bool> {
    let res = sqlx::query("DELETE FROM tokens WHERE id = ?1 AND (?2 IS NULL OR user_id = ?2)")
        .bind(id)
        .bind(owner)
        .execute(db)
        .await?;
    Ok(res.rows_affected() == 1)
}

/// Revoke every token of a user (a new password, a disable); how many there were.
pub async fn delete_all_of(db: &SqlitePool, user_id: i64) -> sqlx::Result<u64> {
    let res = sqlx::query("DELETE FROM tokens WHERE user_id = ?")
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(res.rows_affected())
}
