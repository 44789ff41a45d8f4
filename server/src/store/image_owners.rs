//! Which team owns an image tag on a daemon (see `auth::policy::images`).

use sqlx::SqlitePool;

/// The owning team of each of these names (tags or ids) that has one.
pub async fn owners(
    db: &SqlitePool,
    endpoint: &str,
    names: &[String],
) -> sqlx::Result<Vec<(String, String)>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; names.len()].join(",");
    let sql =
        format!("SELECT name, team FROM image_owners WHERE endpoint = ? AND name IN ({marks})");
    let mut q = sqlx::query_as(&sql).bind(endpoint);
    for n in names {
        q = q.bind(n);
    }
    q.fetch_all(db).await
}

/// Every owned name on a daemon (for the image list: one query, not one per image).
pub async fn all(db: &SqlitePool, endpoint: &str) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as("SELECT name, team FROM image_owners WHERE endpoint = ?")
        .bind(endpoint)
        .fetch_all(db)
        .await
}

/// Record (or hand over) ownership of these names.
pub async fn set(
    db: &SqlitePool,
    endpoint: &str,
    names: &[String],
    team: &str,
) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    for n in names {
        sqlx::query(
            "INSERT INTO image_owners (endpoint, name, team) VALUES (?, ?, ?)
             ON CONFLICT (endpoint, name) DO UPDATE SET team = excluded.team",
        )
        .bind(endpoint)
        .bind(n)
        .bind(team)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// Forget these names (an untagged tag, a removed image).
pub async fn forget(db: &SqlitePool, endpoint: &str, names: &[String]) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    for n in names {
        sqlx::query("DELETE FROM image_owners WHERE endpoint = ? AND name = ?")
            .bind(endpoint)
            .bind(n)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}
