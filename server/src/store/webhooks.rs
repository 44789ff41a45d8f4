//! Deploy webhooks. Only a SHA-256 of each secret is kept (the secrets are long and
//! random, as API tokens are); a webhook that checks GitHub's HMAC signatures also keeps
//! the secret sealed with the data dir's key.

use sqlx::SqlitePool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub id: String,
    pub kind: String,
    pub target: String,
    pub endpoint: String,
    pub created_by: i64,
    pub secret_hash: String,
    pub sealed_secret: Option<String>,
    pub tag_variable: Option<String>,
    pub created_at: i64,
    pub last_called: Option<i64>,
}

/// A row with its owner's name, for listing.
#[derive(Debug, Clone)]
pub struct Listed {
    pub row: Row,
    pub owner: String,
}

const COLUMNS: &str = "id, kind, target, endpoint, created_by, secret_hash, sealed_secret, \
                       tag_variable, created_at, last_called";

pub async fn insert(db: &SqlitePool, r: &Row) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO webhooks (id, kind, target, endpoint, created_by, secret_hash, \
         sealed_secret, tag_variable) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&r.id)
    .bind(&r.kind)
    .bind(&r.target)
    .bind(&r.endpoint)
    .bind(r.created_by)
    .bind(&r.secret_hash)
    .bind(&r.sealed_secret)
    .bind(&r.tag_variable)
    .execute(db)
    .await
    .map(|_| ())
}

pub async fn get(db: &SqlitePool, id: &str) -> sqlx::Result<Option<Row>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM webhooks WHERE id = ?"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Webhooks of one owner, or (None) of everyone, with their owners' names.
pub async fn list(db: &SqlitePool, owner: Option<i64>) -> sqlx::Result<Vec<Listed>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM webhooks WHERE ?1 IS NULL OR created_by = ?1 ORDER BY created_at, id"
    ))
    .bind(owner)
    .fetch_all(db)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let owner: Option<String> = sqlx::query_scalar("SELECT username FROM users WHERE id = ?")
            .bind(row.created_by)
            .fetch_optional(db)
            .await?;
        out.push(Listed {
            row,
            owner: owner.unwrap_or_default(),
        });
    }
    Ok(out)
}

/// A new secret for a webhook (rotation): the old one stops working at once.
pub async fn set_secret(
    db: &SqlitePool,
    id: &str,
    hash: &str,
    sealed: Option<&str>,
) -> sqlx::Result<bool> {
    let res = sqlx::query("UPDATE webhooks SET secret_hash = ?, sealed_secret = ? WHERE id = ?")
        .bind(hash)
        .bind(sealed)
        .bind(id)
        .execute(db)
        .await?;
    Ok(res.rows_affected() == 1)
}

pub async fn touch(db: &SqlitePool, id: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE webhooks SET last_called = strftime('%s', 'now') WHERE id = ?")
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}

pub async fn delete(db: &SqlitePool, id: &str) -> sqlx::Result<bool> {
    let res = sqlx::query("DELETE FROM webhooks WHERE id = ?")
        .bind(id)
        .execute(db)
        .await?;
    Ok(res.rows_affected() == 1)
}
