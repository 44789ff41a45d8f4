//! Users and their teams.

use sqlx::SqlitePool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub disabled: bool,
}

impl UserRow {
    pub fn role(&self) -> wire::Role {
        // The column has a CHECK constraint; an unknown value can only come from a bad
        // manual edit, and then the least power is the safe reading.
        wire::Role::parse(&self.role).unwrap_or(wire::Role::Viewer)
    }
}

const COLUMNS: &str = "id, username, password_hash, role, disabled";

pub async fn by_name(db: &SqlitePool, username: &str) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as::<_, UserRow>(&format!("SELECT {COLUMNS} FROM users WHERE username = ?"))
        .bind(username)
        .fetch_optional(db)
        .await
}

pub async fn by_id(db: &SqlitePool, id: i64) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as::<_, UserRow>(&format!("SELECT {COLUMNS} FROM users WHERE id = ?"))
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn count(db: &SqlitePool) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(db)
        .await
}

pub async fn insert(
    db: &SqlitePool,
    username: &str,
    password_hash: &str,
    role: wire::Role,
) -> sqlx::Result<i64> {
    let res = sqlx::query("INSERT INTO users (username, password_hash, role) VALUES (?, ?, ?)")
        .bind(username)
        .bind(password_hash)
        .bind(role.as_str())
        .execute(db)
        .await?;
    Ok(res.last_insert_rowid())
}

pub async fn teams_of(db: &SqlitePool, user_id: i64) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT t.name FROM teams t JOIN team_members m ON m.team_id = t.id
         WHERE m.user_id = ? ORDER BY t.name",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}
