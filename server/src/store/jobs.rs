//! Jobs as stored: written when a job is made, starts and ends (the live log is in
//! memory meanwhile, see `crate::jobs`).

use sqlx::SqlitePool;

#[derive(Debug, Clone, sqlx::FromRow)]
struct Row {
    id: String,
    kind: String,
    target: String,
    endpoint: String,
    webhook_id: Option<String>,
    user_name: Option<String>,
    state: String,
    log: String,
    error_code: Option<String>,
    error: Option<String>,
    created_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
}

impl Row {
    fn job(self) -> wire::Job {
        wire::Job {
            id: self.id,
            kind: self.kind,
            target: self.target,
            endpoint: self.endpoint,
            state: wire::JobState::parse(&self.state),
            log: serde_json::from_str(&self.log).unwrap_or_default(),
            error: match (self.error_code, self.error) {
                (Some(code), Some(message)) => Some(wire::ErrorDetail { code, message }),
                _ => None,
            },
            webhook: self.webhook_id,
            user: self.user_name,
            created_at: self.created_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
        }
    }
}

const COLUMNS: &str = "id, kind, target, endpoint, webhook_id, user_name, state, log, \
                       error_code, error, created_at, started_at, finished_at";

/// Write a job as it stands (insert or replace).
pub async fn save(db: &SqlitePool, j: &wire::Job) -> sqlx::Result<()> {
    let log = serde_json::to_string(&j.log).unwrap_or_else(|_| "[]".into());
    sqlx::query(&format!(
        "INSERT OR REPLACE INTO jobs ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(&j.id)
    .bind(&j.kind)
    .bind(&j.target)
    .bind(&j.endpoint)
    .bind(&j.webhook)
    .bind(&j.user)
    .bind(j.state.as_str())
    .bind(log)
    .bind(j.error.as_ref().map(|e| e.code.clone()))
    .bind(j.error.as_ref().map(|e| e.message.clone()))
    .bind(j.created_at)
    .bind(j.started_at)
    .bind(j.finished_at)
    .execute(db)
    .await
    .map(|_| ())
}

pub async fn get(db: &SqlitePool, id: &str) -> sqlx::Result<Option<wire::Job>> {
    let row: Option<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM jobs WHERE id = ?"))
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(row.map(Row::job))
}

/// The newest jobs first, of one webhook or of all.
pub async fn list(
    db: &SqlitePool,
    webhook: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<wire::Job>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM jobs WHERE ?1 IS NULL OR webhook_id = ?1 \
         ORDER BY created_at DESC, rowid DESC LIMIT ?2"
    ))
    .bind(webhook)
    .bind(limit.clamp(1, 500))
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Row::job).collect())
}

/// At start: a job that was queued or running when berth stopped did not finish.
pub async fn fail_unfinished(db: &SqlitePool) -> sqlx::Result<u64> {
    let res = sqlx::query(
        "UPDATE jobs SET state = 'failed', error_code = 'interrupted', \
         error = 'berth stopped before this job ended: check the target and call the webhook again', \
         finished_at = strftime('%s', 'now') WHERE state IN ('queued', 'running')",
    )
    .execute(db)
    .await?;
    Ok(res.rows_affected())
}
