//! Stored registries. Passwords arrive here already sealed (see `registry::secret`).

use sqlx::SqlitePool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub host: String,
    pub username: Option<String>,
    /// Sealed: base64 of nonce and ciphertext.
    pub password: Option<String>,
}

impl Row {
    pub fn info(&self) -> wire::RegistryInfo {
        wire::RegistryInfo {
            id: self.id,
            name: self.name.clone(),
            url: self.url.clone(),
            host: self.host.clone(),
            username: self.username.clone(),
            has_password: self.password.is_some(),
            insecure_hint: None,
        }
    }
}

const COLUMNS: &str = "id, name, url, host, username, password";

pub async fn list(db: &SqlitePool) -> sqlx::Result<Vec<Row>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM registries ORDER BY name"))
        .fetch_all(db)
        .await
}

pub async fn get(db: &SqlitePool, id: i64) -> sqlx::Result<Option<Row>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM registries WHERE id = ?"))
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn insert(db: &SqlitePool, r: &Row) -> sqlx::Result<i64> {
    let res = sqlx::query(
        "INSERT INTO registries (name, url, host, username, password) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(&r.name)
    .bind(&r.url)
    .bind(&r.host)
    .bind(&r.username)
    .bind(&r.password)
    .execute(db)
    .await?;
    Ok(res.last_insert_rowid())
}

pub async fn update(db: &SqlitePool, r: &Row) -> sqlx::Result<bool> {
    let res = sqlx::query(
        "UPDATE registries SET name = ?, url = ?, host = ?, username = ?, password = ? WHERE id = ?",
    )
    .bind(&r.name)
    .bind(&r.url)
    .bind(&r.host)
    .bind(&r.username)
    .bind(&r.password)
    .bind(r.id)
    .execute(db)
    .await?;
    Ok(res.rows_affected() > 0)
}

pub async fn delete(db: &SqlitePool, id: i64) -> sqlx::Result<bool> {
    let res = sqlx::query("DELETE FROM registries WHERE id = ?")
        .bind(id)
        .execute(db)
        .await?;
    Ok(res.rows_affected() > 0)
}
