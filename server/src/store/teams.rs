//! Teams and their members.

use sqlx::SqlitePool;

pub async fn names(db: &SqlitePool) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT name FROM teams ORDER BY name")
        .fetch_all(db)
        .await
}

/// (team, member) pairs, members in name order; teams without members appear with None.
pub async fn with_members(db: &SqlitePool) -> sqlx::Result<Vec<(String, Option<String>)>> {
    sqlx::query_as(
        "SELECT t.name, u.username FROM teams t
         LEFT JOIN team_members m ON m.team_id = t.id
         LEFT JOIN users u ON u.id = m.user_id
         ORDER BY t.name, u.username",
    )
    .fetch_all(db)
    .await
}

/// Create a team; false if one with that name exists.
pub async fn create(db: &SqlitePool, name: &str) -> sqlx::Result<bool> {
    let res = sqlx::query("INSERT OR IGNORE INTO teams (name) VALUES (?)")
        .bind(name)
        .execute(db)
        .await?;
    Ok(res.rows_affected() == 1)
}

/// Delete a team; false if there was none.
pub async fn delete(db: &SqlitePool, name: &str) -> sqlx::Result<bool> {
    let res = sqlx::query("DELETE FROM teams WHERE name = ?")
        .bind(name)
        .execute(db)
        .await?;
    Ok(res.rows_affected() == 1)
}
