//! Shared application state, handed to every handler as `State<AppState>`.

use std::ops::Deref;
use std::sync::Arc;

use anyhow::Context;
use sqlx::SqlitePool;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions_sqlx_store::SqliteStore;

use crate::auth::{password, sessions::Sessions};
use crate::config::Config;
use crate::docker::Daemons;
use crate::store;

pub struct App {
    pub config: Config,
    /// Shares from `--share` flags, checked at start.
    pub shares: Vec<crate::files::shares::Share>,
    pub db: SqlitePool,
    pub sessions: Sessions,
    pub daemons: Daemons,
    pub throttle: crate::auth::throttle::Throttle,
    pub tickets: crate::auth::tickets::Tickets,
    /// Open websockets per user (`--max-websockets-per-user`).
    pub sockets: crate::auth::sockets::Sockets,
    /// User ids whose sessions were just ended; open websockets of theirs close.
    pub revoked: tokio::sync::broadcast::Sender<i64>,
    /// Automated deploys (webhooks, updates): one at a time per target.
    pub jobs: Arc<crate::jobs::Jobs>,
    /// Registry digests asked for update detection, kept a few minutes.
    pub updates: crate::updates::Cache,
}

#[derive(Clone)]
pub struct AppState(pub Arc<App>);

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

impl AppState {
    /// Open the database, make the first admin if there is nobody yet, and prepare the
    /// daemon endpoints (connected lazily: a daemon that is down now is not an error).
    pub async fn start(config: Config) -> anyhow::Result<AppState> {
        // A bad --share stops the start with a message naming it, before anything else.
        let shares = crate::files::shares::from_flags(&config.shares)?;
        let db = store::open(&config.data_dir).await?;
        let sqlite = SqliteStore::new(db.clone());
        sqlite
            .migrate()
            .await
            .context("cannot create the sessions table")?;
        // Expired sessions are refused when loaded; this only keeps the tables small.
        let cleaner = sqlite.clone();
        let jobs_db = db.clone();
        tokio::spawn(async move {
            let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
            loop {
                hourly.tick().await;
                if let Err(e) = cleaner.delete_expired().await {
                    tracing::warn!("could not delete expired sessions: {e}");
                }
                // Each target's last 100 finished jobs, none older than 30 days.
                if let Err(e) = store::jobs::prune(&jobs_db, 100, 30 * 86_400).await {
                    tracing::warn!("could not prune old jobs: {e}");
                }
            }
        });
        let sessions = crate::auth::sessions::sessions(sqlite);
        bootstrap_admin(&db).await?;
        if let Some(dir) = &config.import_docker_contexts {
            let added = crate::docker::contexts::import(dir, &db, &config.data_dir).await?;
            if !added.is_empty() {
                tracing::info!(
                    "imported docker contexts as environments: {}",
                    added.join(", ")
                );
            }
        }
        let interrupted = store::jobs::fail_unfinished(&db).await?;
        if interrupted > 0 {
            tracing::warn!(
                "{interrupted} jobs were cut short by the last stop and are marked failed"
            );
        }
        let daemons = Daemons::start(&config.docker_host, &db, &config.data_dir).await?;
        let state = AppState(Arc::new(App {
            config,
            shares,
            db,
            sessions,
            daemons,
            throttle: Default::default(),
            tickets: Default::default(),
            sockets: Default::default(),
            revoked: tokio::sync::broadcast::channel(64).0,
            jobs: Default::default(),
            updates: Default::default(),
        }));
        crate::updates::schedule(state.clone());
        crate::stacks::gitpoll::schedule(state.clone());
        Ok(state)
    }
}

async fn bootstrap_admin(db: &SqlitePool) -> anyhow::Result<()> {
    if store::users::count(db).await? > 0 {
        return Ok(());
    }
    let given = std::env::var("BERTH_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    let generated = given.is_none();
    let pw = given.unwrap_or_else(password::random_password);
    let hash = password::hash(pw.clone()).await?;
    store::users::insert(db, "admin", &hash, wire::Role::Admin).await?;
    if generated {
        // Printed once: it is not stored anywhere in clear.
        tracing::warn!("created user admin with the generated password: {pw}");
    } else {
        tracing::info!("created user admin with the password from BERTH_ADMIN_PASSWORD");
    }
    Ok(())
}
