//! Jobs: long automated operations (a webhook's deploy, an image update) that answer at
//! once with an id and are followed through `GET /api/jobs/{id}`.
//!
//! One job at a time per target: every job of a target waits for the target's lock (a fair,
//! first-come tokio mutex), so two deploys of one stack never race. A call whose target
//! and parameters equal those of a job that is still *queued* joins that job instead of
//! queueing another: it has not started, so it will deploy what the new call wants. A job
//! that is already *running* is never joined — it may have pulled before the image the
//! new call is about was pushed — so the new call queues one follow-up, which later calls
//! join. Portainer's webhooks pile up; these coalesce, and none is lost.
//!
//! The log lives in memory while the job runs (followers are woken through a watch
//! channel) and is written to the database when the job is made, starts and ends.

pub mod container;
pub mod service;
pub mod stack;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sqlx::SqlitePool;
use tokio::sync::{mpsc, watch};

use crate::docker::stack_up::Progress;
use crate::error::AppResult;
use crate::store;

/// A job's log stops growing here (a pull of a large image reports a lot); the rest is
/// counted, not kept.
const MAX_LINES: usize = 2000;

/// Queued jobs per target beyond which a call is refused (429).
pub const MAX_QUEUED: usize = 8;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// A job in memory: its state and a counter bumped at every change.
pub struct Live {
    job: Mutex<wire::Job>,
    skipped: Mutex<usize>,
    changed: watch::Sender<u64>,
}

impl Live {
    pub fn snapshot(&self) -> wire::Job {
        self.job
            .lock()
            .map(|j| j.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Follow changes: the receiver wakes at each new line and at the end.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    fn update(&self, f: impl FnOnce(&mut wire::Job)) {
        if let Ok(mut j) = self.job.lock() {
            f(&mut j);
        }
        self.changed.send_modify(|n| *n += 1);
    }

    /// Add a line to the log.
    pub fn say(&self, step: &str, service: Option<&str>, message: impl Into<String>) {
        let line = wire::JobLine {
            at: now_ms(),
            step: step.to_owned(),
            service: service.map(str::to_owned),
            message: message.into(),
        };
        let full = self
            .job
            .lock()
            .map(|j| j.log.len() >= MAX_LINES)
            .unwrap_or(true);
        if full {
            if let Ok(mut s) = self.skipped.lock() {
                *s += 1;
            }
            return;
        }
        self.update(|j| j.log.push(line));
    }

    /// A stack-engine progress channel whose lines land in this log; await the handle
    /// after dropping the `Progress` to be sure every line is in.
    pub fn progress(self: &Arc<Self>) -> (Progress, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<wire::StackProgress>(64);
        let me = self.clone();
        let pump = tokio::spawn(async move {
            while let Some(p) = rx.recv().await {
                // Byte counts of layers are for progress bars, not for a log.
                if p.progress.is_some() && p.step == "pull" {
                    continue;
                }
                me.say(&p.step, p.service.as_deref(), p.message);
            }
        });
        (Progress(tx), pump)
    }
}

/// What a new job is.
pub struct Spec {
    pub kind: &'static str,
    pub target: String,
    pub endpoint: String,
    pub webhook: Option<String>,
    pub user: Option<String>,
    /// Jobs with equal parameters for one target are the same deploy (see the module doc).
    pub params: String,
}

#[derive(Default)]
struct Queue {
    lock: Arc<tokio::sync::Mutex<()>>,
    /// Jobs waiting for the lock: (parameters, job id).
    waiting: Vec<(String, String)>,
}

/// Every live job, and the queues of their targets.
#[derive(Default)]
pub struct Jobs {
    live: Mutex<HashMap<String, Arc<Live>>>,
    queues: Mutex<HashMap<String, Queue>>,
}

/// What a submission came to.
pub enum Submitted {
    New(String),
    Joined(String),
}

/// A new job id: `job_` and 24 random alphanumerics (unguessable: a job's log may name
/// what a CI pipeline deploys).
fn new_id() -> String {
    use rand::distributions::Alphanumeric;
    use rand::Rng;
    let body: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    format!("job_{body}")
}

impl Jobs {
    /// A job still in memory (queued, running, or just ended).
    pub fn live(&self, id: &str) -> Option<Arc<Live>> {
        self.live.lock().ok()?.get(id).cloned()
    }

    /// The job as it stands: from memory if live, else from the database.
    pub async fn get(&self, db: &SqlitePool, id: &str) -> AppResult<Option<wire::Job>> {
        if let Some(l) = self.live(id) {
            return Ok(Some(l.snapshot()));
        }
        Ok(store::jobs::get(db, id).await?)
    }

    /// Queue a job (or join an equal one that has not started); `work` runs when the
    /// target is free. `None` when the target's queue is full.
    pub fn submit<F, Fut>(
        self: &Arc<Self>,
        db: &SqlitePool,
        spec: Spec,
        work: F,
    ) -> Option<Submitted>
    where
        F: FnOnce(Arc<Live>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = AppResult<()>> + Send + 'static,
    {
        let key = format!("{}\u{0}{}\u{0}{}", spec.endpoint, spec.kind, spec.target);
        let (id, lock, live) = {
            let mut queues = self.queues.lock().ok()?;
            let q = queues.entry(key.clone()).or_default();
            if let Some((_, id)) = q.waiting.iter().find(|(p, _)| *p == spec.params) {
                return Some(Submitted::Joined(id.clone()));
            }
            if q.waiting.len() >= MAX_QUEUED {
                return None;
            }
            let id = new_id();
            q.waiting.push((spec.params.clone(), id.clone()));
            let job = wire::Job {
                id: id.clone(),
                kind: spec.kind.to_owned(),
                target: spec.target.clone(),
                endpoint: spec.endpoint.clone(),
                state: wire::JobState::Queued,
                log: vec![],
                error: None,
                webhook: spec.webhook.clone(),
                user: spec.user.clone(),
                created_at: now_ms() / 1000,
                started_at: None,
                finished_at: None,
            };
            let live = Arc::new(Live {
                job: Mutex::new(job),
                skipped: Mutex::new(0),
                changed: watch::channel(0).0,
            });
            if let Ok(mut l) = self.live.lock() {
                l.insert(id.clone(), live.clone());
            }
            (id, q.lock.clone(), live)
        };
        let db = db.clone();
        let job_id = id.clone();
        let this = self.clone();
        tokio::spawn(async move {
            save(&db, &live).await;
            let _turn = lock.lock_owned().await;
            this.started(&key, &job_id);
            live.update(|j| {
                j.state = wire::JobState::Running;
                j.started_at = Some(now_ms() / 1000);
            });
            save(&db, &live).await;
            // The work runs in its own task: a panic in it fails the job, not the queue.
            let res = match tokio::spawn(work(live.clone())).await {
                Ok(res) => res,
                Err(e) => Err(crate::error::AppError::Internal(anyhow::anyhow!(
                    "the job stopped unexpectedly: {e}"
                ))),
            };
            let skipped = live.skipped.lock().map(|s| *s).unwrap_or(0);
            if skipped > 0 {
                if let Ok(mut j) = live.job.lock() {
                    j.log.push(wire::JobLine {
                        at: now_ms(),
                        step: "skipped".into(),
                        service: None,
                        message: format!("{skipped} more lines were not kept"),
                    });
                }
            }
            live.update(|j| {
                j.finished_at = Some(now_ms() / 1000);
                match &res {
                    Ok(()) => j.state = wire::JobState::Succeeded,
                    Err(e) => {
                        j.state = wire::JobState::Failed;
                        j.error = Some(e.body().error);
                    }
                }
            });
            save(&db, &live).await;
            this.forget(&job_id);
        });
        Some(Submitted::New(id))
    }

    fn started(&self, key: &str, id: &str) {
        if let Ok(mut queues) = self.queues.lock() {
            if let Some(q) = queues.get_mut(key) {
                q.waiting.retain(|(_, j)| j != id);
            }
        }
    }

    fn forget(&self, id: &str) {
        if let Ok(mut l) = self.live.lock() {
            l.remove(id);
        }
    }
}

async fn save(db: &SqlitePool, live: &Live) {
    if let Err(e) = store::jobs::save(db, &live.snapshot()).await {
        tracing::error!("cannot write job {}: {e}", live.snapshot().id);
    }
}
