//! Template sources: the lists as they were read, parsed again when the catalogue is asked
//! for (a list is small; parsing it is cheaper than keeping two copies in step).

use sqlx::SqlitePool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub id: i64,
    pub name: String,
    pub url: Option<String>,
    pub content: Vec<u8>,
    pub created_at: i64,
    /// The adding user's name (None once that user is removed).
    pub added_by: Option<String>,
}

const SELECT: &str = "SELECT s.id, s.name, s.url, s.content, s.created_at, u.username AS added_by \
                      FROM template_sources s LEFT JOIN users u ON u.id = s.created_by";

pub async fn insert(
    db: &SqlitePool,
    name: &str,
    url: Option<&str>,
    content: &[u8],
    created_by: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO template_sources (name, url, content, created_by) VALUES (?, ?, ?, ?) \
         RETURNING id",
    )
    .bind(name)
    .bind(url)
    .bind(content)
    .bind(created_by)
    .fetch_one(db)
    .await
}

pub async fn list(db: &SqlitePool) -> sqlx::Result<Vec<Row>> {
    sqlx::query_as(&format!("{SELECT} ORDER BY s.id"))
        .fetch_all(db)
        .await
}

pub async fn get(db: &SqlitePool, id: i64) -> sqlx::Result<Option<Row>> {
    sqlx::query_as(&format!("{SELECT} WHERE s.id = ?"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Whether a source was removed.
pub async fn delete(db: &SqlitePool, id: i64) -> sqlx::Result<bool> {
    let r = sqlx::query("DELETE FROM template_sources WHERE id = ?")
        .bind(id)
        .execute(db)
        .await?;
    Ok(r.rows_affected() > 0)
}
