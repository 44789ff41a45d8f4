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

/// Keeps the table small: of each target's finished jobs the newest `keep` stay, and none
/// finished more than `max_age_secs` ago (a Git stack polled each minute, or a CI calling a
/// hook on every push, would otherwise add rows for ever). Queued and running jobs stay.
pub async fn prune(db: &SqlitePool, keep: i64, max_age_secs: i64) -> sqlx::Result<u64> {
    let res = sqlx::query(
        "DELETE FROM jobs WHERE state IN ('succeeded', 'failed') AND ( \
           finished_at < CAST(strftime('%s', 'now') AS INTEGER) - ?2 \
           OR id IN (SELECT id FROM ( \
             SELECT id, ROW_NUMBER() OVER ( \
               PARTITION BY endpoint, kind, target ORDER BY created_at DESC, rowid DESC) AS n \
             FROM jobs WHERE state IN ('succeeded', 'failed')) WHERE n > ?1))",
    )
    .bind(keep)
    .bind(max_age_secs)
    .execute(db)
    .await?;
    Ok(res.rows_affected())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str, target: &str, state: wire::JobState, at: i64) -> wire::Job {
        wire::Job {
            id: id.into(),
            kind: "stack".into(),
            target: target.into(),
            endpoint: "local".into(),
            state,
            log: vec![],
            error: None,
            webhook: None,
            user: None,
            created_at: at,
            started_at: Some(at),
            finished_at: (state != wire::JobState::Running).then_some(at),
        }
    }

    #[tokio::test]
    async fn prune_keeps_the_newest_of_each_target_and_what_is_unfinished() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::open(dir.path()).await.unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        for i in 0..10 {
            save(
                &db,
                &job(
                    &format!("a{i}"),
                    "shop",
                    wire::JobState::Succeeded,
                    now - 100 + i,
                ),
            )
            .await
            .unwrap();
        }
        save(&db, &job("b0", "blog", wire::JobState::Failed, now - 10))
            .await
            .unwrap();
        save(
            &db,
            &job("old", "wiki", wire::JobState::Failed, now - 90_000),
        )
        .await
        .unwrap();
        save(&db, &job("run", "shop", wire::JobState::Running, now - 200))
            .await
            .unwrap();

        let gone = prune(&db, 3, 86_400).await.unwrap();
        assert_eq!(gone, 8, "7 of shop's finished jobs and wiki's day-old one");
        let left: Vec<String> = list(&db, None, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|j| j.id)
            .collect();
        for id in ["a9", "a8", "a7", "b0", "run"] {
            assert!(left.contains(&id.to_owned()), "{id} stays: {left:?}");
        }
        assert_eq!(left.len(), 5, "{left:?}");
    }
}
