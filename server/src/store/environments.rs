//! Stored environments. Keys arrive here already sealed (see `registry::secret`).

use sqlx::SqlitePool;

#[derive(Clone, Default, sqlx::FromRow)]
pub struct Row {
    pub name: String,
    pub url: String,
    pub tls_ca: Option<String>,
    pub tls_cert: Option<String>,
    /// Sealed.
    pub tls_key: Option<String>,
    pub skip_verify: bool,
    /// Sealed.
    pub ssh_key: Option<String>,
    pub ssh_known_hosts: Option<String>,
    /// A JSON array of team names.
    pub teams: String,
    /// A JSON object: team (or `*`) → the most its members may do here.
    pub roles: String,
    pub paused: bool,
}

impl Row {
    pub fn teams(&self) -> Vec<String> {
        serde_json::from_str(&self.teams).unwrap_or_default()
    }

    pub fn roles(&self) -> std::collections::BTreeMap<String, wire::Role> {
        serde_json::from_str(&self.roles).unwrap_or_default()
    }
}

const COLUMNS: &str =
    "name, url, tls_ca, tls_cert, tls_key, skip_verify, ssh_key, ssh_known_hosts, teams, roles, paused";

pub async fn list(db: &SqlitePool) -> sqlx::Result<Vec<Row>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM environments ORDER BY name"))
        .fetch_all(db)
        .await
}

pub async fn get(db: &SqlitePool, name: &str) -> sqlx::Result<Option<Row>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM environments WHERE name = ?"
    ))
    .bind(name)
    .fetch_optional(db)
    .await
}

pub async fn insert(db: &SqlitePool, r: &Row) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO environments ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(&r.name)
    .bind(&r.url)
    .bind(&r.tls_ca)
    .bind(&r.tls_cert)
    .bind(&r.tls_key)
    .bind(r.skip_verify)
    .bind(&r.ssh_key)
    .bind(&r.ssh_known_hosts)
    .bind(&r.teams)
    .bind(&r.roles)
    .bind(r.paused)
    .execute(db)
    .await?;
    Ok(())
}

/// Replace the row stored as `old_name` (a rename moves the image ownership with it).
pub async fn update(db: &SqlitePool, old_name: &str, r: &Row) -> sqlx::Result<bool> {
    let mut tx = db.begin().await?;
    let res = sqlx::query(
        "UPDATE environments SET name = ?, url = ?, tls_ca = ?, tls_cert = ?, tls_key = ?, \
         skip_verify = ?, ssh_key = ?, ssh_known_hosts = ?, teams = ?, roles = ?, paused = ? WHERE name = ?",
    )
    .bind(&r.name)
    .bind(&r.url)
    .bind(&r.tls_ca)
    .bind(&r.tls_cert)
    .bind(&r.tls_key)
    .bind(r.skip_verify)
    .bind(&r.ssh_key)
    .bind(&r.ssh_known_hosts)
    .bind(&r.teams)
    .bind(&r.roles)
    .bind(r.paused)
    .bind(old_name)
    .execute(&mut *tx)
    .await?;
    if old_name != r.name {
        // What berth keeps per host follows its new name: image owners, the webhooks
        // that deploy on it and the jobs they ran.
        for table in ["image_owners", "webhooks", "jobs"] {
            sqlx::query(&format!(
                "UPDATE {table} SET endpoint = ? WHERE endpoint = ?"
            ))
            .bind(&r.name)
            .bind(old_name)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(res.rows_affected() > 0)
}

pub async fn delete(db: &SqlitePool, name: &str) -> sqlx::Result<bool> {
    let mut tx = db.begin().await?;
    let res = sqlx::query("DELETE FROM environments WHERE name = ?")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM image_owners WHERE endpoint = ?")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(res.rows_affected() > 0)
}
