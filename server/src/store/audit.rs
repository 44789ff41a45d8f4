//! The audit log: who did what to which target, and how it went.

use sqlx::SqlitePool;

/// One audited event.
pub struct Entry<'a> {
    pub user: Option<&'a str>,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub result: &'a str,
    pub peer: Option<String>,
}

/// Record an entry. A failure to write is logged, never turned into a failed request:
/// the action itself already happened.
pub async fn record(db: &SqlitePool, e: Entry<'_>) {
    let res = sqlx::query(
        "INSERT INTO audit (user, action, target, result, peer) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(e.user)
    .bind(e.action)
    .bind(e.target)
    .bind(e.result)
    .bind(e.peer)
    .execute(db)
    .await;
    if let Err(err) = res {
        tracing::error!("cannot write the audit log: {err}");
    }
}

/// Record what a user's action came to: `ok`, or the error code.
pub async fn outcome<T>(
    db: &SqlitePool,
    user: &crate::auth::CurrentUser,
    action: &str,
    target: &str,
    res: &crate::error::AppResult<T>,
) {
    let result = match res {
        Ok(_) => "ok",
        Err(e) => e.code(),
    };
    record(
        db,
        Entry {
            user: Some(&user.username),
            action,
            target: Some(target),
            result,
            peer: user.peer.clone(),
        },
    )
    .await;
}

/// Does `work` and records how it went: the shape of every audited write.
pub async fn audited<T>(
    db: &SqlitePool,
    user: &crate::auth::CurrentUser,
    action: &str,
    target: &str,
    work: impl std::future::Future<Output = crate::error::AppResult<T>>,
) -> crate::error::AppResult<T> {
    let res = work.await;
    outcome(db, user, action, target, &res).await;
    res
}

/// Filters of `GET /api/audit`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Filter {
    pub limit: Option<i64>,
    pub user: Option<String>,
    pub action: Option<String>,
    /// Unix seconds.
    pub since: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Row {
    at: i64,
    user: Option<String>,
    action: String,
    target: Option<String>,
    result: String,
    peer: Option<String>,
}

/// The newest entries first. Action names are snake_case; rows written before that
/// (`volume.upload`) still match a filter for the new name (`volume_upload`).
pub async fn query(db: &SqlitePool, f: &Filter) -> sqlx::Result<Vec<wire::AuditEntry>> {
    let limit = f.limit.unwrap_or(200).clamp(1, 10_000);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT at, user, action, target, result, peer FROM audit
         WHERE (?1 IS NULL OR user = ?1) AND (?2 IS NULL OR action = ?2 OR action = replace(?2, '_', '.'))
           AND (?3 IS NULL OR at >= ?3)
         ORDER BY id DESC LIMIT ?4",
    )
    .bind(&f.user)
    .bind(&f.action)
    .bind(f.since)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| wire::AuditEntry {
            at: r.at,
            user: r.user,
            action: r.action,
            target: r.target,
            result: r.result,
            peer: r.peer,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_snake_case_filter_finds_rows_written_with_the_old_dotted_name() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::open(dir.path()).await.unwrap();
        for action in ["volume.upload", "volume_upload", "volume_create"] {
            record(
                &db,
                Entry {
                    user: Some("admin"),
                    action,
                    target: Some("v"),
                    result: "ok",
                    peer: None,
                },
            )
            .await;
        }
        let filter = Filter {
            action: Some("volume_upload".into()),
            ..Default::default()
        };
        let rows = query(&db, &filter).await.unwrap();
        let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(actions, ["volume_upload", "volume.upload"]);
    }
}
