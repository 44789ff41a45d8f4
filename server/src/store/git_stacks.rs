//! Git-backed stacks: a stack's repository, ref and compose path, its sealed credentials,
//! and how its last poll went.

use sqlx::SqlitePool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub name: String,
    pub endpoint: String,
    pub url: String,
    pub git_ref: String,
    pub path: String,
    pub poll_seconds: i64,
    /// Sealed JSON of `wire::GitCredentials`; never sent back.
    pub credentials: Option<String>,
    pub created_by: i64,
    pub commit_id: Option<String>,
    pub commit_summary: Option<String>,
    pub last_poll: Option<i64>,
    pub last_result: Option<String>,
    pub last_error: Option<String>,
    pub error_commit: Option<String>,
    pub last_job: Option<String>,
    pub created_at: i64,
}

const COLUMNS: &str = "name, endpoint, url, git_ref, path, poll_seconds, credentials, \
    created_by, commit_id, commit_summary, last_poll, last_result, last_error, error_commit, \
    last_job, created_at";

pub async fn insert(db: &SqlitePool, r: &Row) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO git_stacks (name, endpoint, url, git_ref, path, poll_seconds, credentials, \
         created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&r.name)
    .bind(&r.endpoint)
    .bind(&r.url)
    .bind(&r.git_ref)
    .bind(&r.path)
    .bind(r.poll_seconds)
    .bind(&r.credentials)
    .bind(r.created_by)
    .execute(db)
    .await
    .map(|_| ())
}

pub async fn get(db: &SqlitePool, name: &str) -> sqlx::Result<Option<Row>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM git_stacks WHERE name = ?"))
        .bind(name)
        .fetch_optional(db)
        .await
}

/// Every Git stack that polls.
pub async fn polling(db: &SqlitePool) -> sqlx::Result<Vec<Row>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM git_stacks WHERE poll_seconds > 0 ORDER BY name"
    ))
    .fetch_all(db)
    .await
}

/// What a PATCH changes (None: unchanged; `credentials: Some(None)` removes them).
pub async fn update(
    db: &SqlitePool,
    name: &str,
    git_ref: Option<&str>,
    path: Option<&str>,
    poll_seconds: Option<i64>,
    credentials: Option<Option<&str>>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE git_stacks SET git_ref = COALESCE(?, git_ref), path = COALESCE(?, path), \
         poll_seconds = COALESCE(?, poll_seconds), \
         credentials = CASE WHEN ? THEN ? ELSE credentials END WHERE name = ?",
    )
    .bind(git_ref)
    .bind(path)
    .bind(poll_seconds)
    .bind(credentials.is_some())
    .bind(credentials.flatten())
    .bind(name)
    .execute(db)
    .await
    .map(|_| ())
}

/// How a poll ended. `deployed` names the commit that runs now.
pub struct Outcome<'a> {
    pub result: &'a str,
    pub deployed: Option<(&'a str, &'a str)>,
    pub error: Option<&'a str>,
    pub error_commit: Option<&'a str>,
    pub job: Option<&'a str>,
}

pub async fn record(db: &SqlitePool, name: &str, o: &Outcome<'_>) -> sqlx::Result<()> {
    let (commit, summary) = o.deployed.unzip();
    sqlx::query(
        "UPDATE git_stacks SET last_poll = strftime('%s', 'now'), last_result = ?, \
         last_error = ?, error_commit = ?, last_job = COALESCE(?, last_job), \
         commit_id = COALESCE(?, commit_id), commit_summary = COALESCE(?, commit_summary) \
         WHERE name = ?",
    )
    .bind(o.result)
    .bind(o.error)
    .bind(o.error_commit)
    .bind(o.job)
    .bind(commit)
    .bind(summary)
    .bind(name)
    .execute(db)
    .await
    .map(|_| ())
}

pub async fn delete(db: &SqlitePool, name: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM git_stacks WHERE name = ?")
        .bind(name)
        .execute(db)
        .await
        .map(|_| ())
}
