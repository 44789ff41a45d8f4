//! Users and their teams.

use sqlx::SqlitePool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub disabled: bool,
    pub session_epoch: i64,
    pub created_at: i64,
}

impl UserRow {
    pub fn role(&self) -> wire::Role {
        // The column has a CHECK constraint; an unknown value can only come from a bad
        // manual edit, and then the least power is the safe reading.
        wire::Role::parse(&self.role).unwrap_or(wire::Role::Viewer)
    }
}

const COLUMNS: &str = "id, username, password_hash, role, disabled, session_epoch, created_at";

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

/// A user and their team names in one query: what every authenticated request needs.
pub async fn with_teams(db: &SqlitePool, id: i64) -> sqlx::Result<Option<(UserRow, Vec<String>)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        teams: String,
    }
    let row = sqlx::query_as::<_, Row>(&format!(
        "SELECT {COLUMNS}, (SELECT json_group_array(name) FROM (
             SELECT t.name FROM teams t JOIN team_members m ON m.team_id = t.id
             WHERE m.user_id = users.id ORDER BY t.name)) AS teams
         FROM users WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?;
    row.map(|r| {
        let teams = serde_json::from_str(&r.teams).map_err(|e| sqlx::Error::Decode(e.into()))?;
        Ok((r.user, teams))
    })
    .transpose()
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

pub async fn all(db: &SqlitePool) -> sqlx::Result<Vec<UserRow>> {
    sqlx::query_as::<_, UserRow>(&format!("SELECT {COLUMNS} FROM users ORDER BY username"))
        .fetch_all(db)
        .await
}

/// Every user's team names, in one query, for listing users.
pub async fn all_memberships(db: &SqlitePool) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query_as(
        "SELECT m.user_id, t.name FROM team_members m JOIN teams t ON t.id = m.team_id
         ORDER BY t.name",
    )
    .fetch_all(db)
    .await
}

pub async fn count_active_admins(db: &SqlitePool) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0")
        .fetch_one(db)
        .await
}

pub async fn set_password(db: &SqlitePool, id: i64, hash: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
        .bind(hash)
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}

pub async fn set_role(db: &SqlitePool, id: i64, role: wire::Role) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET role = ? WHERE id = ?")
        .bind(role.as_str())
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}

pub async fn set_disabled(db: &SqlitePool, id: i64, disabled: bool) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET disabled = ? WHERE id = ?")
        .bind(disabled)
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}

/// End every session of this user: sessions carry the epoch they were made in.
pub async fn bump_epoch(db: &SqlitePool, id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET session_epoch = session_epoch + 1 WHERE id = ?")
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}

pub async fn delete(db: &SqlitePool, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM users WHERE id = ?")
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}

/// Replace a user's teams. Unknown team names are an error the caller reports.
pub async fn set_teams(db: &SqlitePool, id: i64, teams: &[String]) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM team_members WHERE user_id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    for team in teams {
        sqlx::query(
            "INSERT INTO team_members (team_id, user_id) SELECT id, ? FROM teams WHERE name = ?",
        )
        .bind(id)
        .bind(team)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}
