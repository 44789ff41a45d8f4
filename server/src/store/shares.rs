//! Shares added through the API (`POST /api/shares`).

use sqlx::SqlitePool;

#[derive(Debug, sqlx::FromRow)]
pub struct Row {
    pub name: String,
    pub path: String,
    pub writable: bool,
    /// JSON array of team names.
    pub teams: String,
}

impl Row {
    pub fn team_list(&self) -> Vec<String> {
        serde_json::from_str(&self.teams).unwrap_or_default()
    }
}

pub async fn all(db: &SqlitePool) -> sqlx::Result<Vec<Row>> {
    sqlx::query_as("SELECT name, path, writable, teams FROM shares ORDER BY name")
        .fetch_all(db)
        .await
}

pub async fn get(db: &SqlitePool, name: &str) -> sqlx::Result<Option<Row>> {
    sqlx::query_as("SELECT name, path, writable, teams FROM shares WHERE name = ?")
        .bind(name)
        .fetch_optional(db)
        .await
}

/// Add a share; false if one with that name exists.
pub async fn insert(
    db: &SqlitePool,
    name: &str,
    path: &str,
    writable: bool,
    teams: &[String],
) -> sqlx::Result<bool> {
    let teams = serde_json::to_string(teams).unwrap_or_else(|_| "[]".into());
    let res = sqlx::query(
        "INSERT OR IGNORE INTO shares (name, path, writable, teams) VALUES (?, ?, ?, ?)",
    )
    .bind(name)
    .bind(path)
    .bind(writable)
    .bind(teams)
    .execute(db)
    .await?;
    Ok(res.rows_affected() == 1)
}

/// Remove a share; false if there was none.
pub async fn delete(db: &SqlitePool, name: &str) -> sqlx::Result<bool> {
    let res = sqlx::query("DELETE FROM shares WHERE name = ?")
        .bind(name)
        .execute(db)
        .await?;
    Ok(res.rows_affected() == 1)
}
