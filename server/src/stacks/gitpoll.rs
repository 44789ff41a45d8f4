//! The poll loop of Git stacks: one task for every environment's stacks that looks each
//! second for stacks whose poll is due and runs each poll as a job (kind `stack`, so it
//! queues behind a webhook's deploy of the same stack and never races one).
//!
//! A stack has at most one poll in flight: the next is due an interval after the last one
//! *ended*, and a stack whose poll still runs (or waits its turn) is skipped, so a poll
//! slower than its interval delays the next instead of piling up (Portainer's stack polls
//! pile up or silently stop). A failed poll is recorded on the stack with its error, and
//! the next one comes as usual. A removed stack has no row any more and is not polled.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::auth::policy::resolve::Policy;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::jobs::{self, Submitted};
use crate::state::AppState;
use crate::store::{audit, git_stacks};

use super::gitsync;

/// Who a sync job acts as.
#[derive(Clone)]
pub enum Actor {
    /// The stack's maker, as that user is when the job starts (a poll).
    Owner(i64),
    /// The person who asked (a "Pull now").
    User(CurrentUser),
}

/// Submit a sync of stack `name` as a job. `None`: its queue is full.
pub fn submit(
    state: &AppState,
    row: &git_stacks::Row,
    actor: Actor,
    force: bool,
    pull_images: bool,
    done: Option<Box<dyn FnOnce() + Send>>,
) -> Option<Submitted> {
    let user = match &actor {
        Actor::User(u) => Some(u.username.clone()),
        Actor::Owner(_) => None,
    };
    let spec = jobs::Spec {
        kind: "stack",
        target: row.name.clone(),
        endpoint: row.endpoint.clone(),
        webhook: None,
        user,
        params: serde_json::json!(["git", force, pull_images]).to_string(),
    };
    let state2 = state.clone();
    let (name, endpoint) = (row.name.clone(), row.endpoint.clone());
    // Run when the job ends, fails or panics, and also when this call joins a queued job
    // (the closure is dropped unrun then).
    let done = Done(done);
    state
        .jobs
        .submit(&state.db, spec, move |live: Arc<jobs::Live>| async move {
            let _done = done;
            let job_id = live.snapshot().id;
            let res = async {
                let user = match actor {
                    Actor::User(u) => u,
                    Actor::Owner(uid) => {
                        crate::auth::webhook_owner(&state2, uid, &endpoint, None).await?
                    }
                };
                let ep = state2.daemons.get(&endpoint).ok_or_else(|| {
                    AppError::NotFound(format!("the environment {endpoint} of this stack is gone"))
                })?;
                let (progress, pump) = live.progress();
                let policy = Policy::new(&user, &ep, &state2.db);
                let res = gitsync::sync(
                    &state2,
                    policy,
                    &name,
                    force,
                    pull_images,
                    Some(&job_id),
                    &progress,
                )
                .await;
                drop(progress);
                let _ = pump.await;
                audit::outcome(&state2.db, &user, "stack_git_pull", &name, &res).await;
                res.map(|_| ())
            }
            .await;
            if let Err(e) = &res {
                // A refusal before the sync started (the owner cannot act any more) is
                // recorded on the stack too: a poll never fails silently.
                let row = git_stacks::get(&state2.db, &name).await.ok().flatten();
                if row.is_some_and(|r| r.last_job.as_deref() != Some(job_id.as_str())) {
                    let msg = e.to_string();
                    let _ = git_stacks::record(
                        &state2.db,
                        &name,
                        &git_stacks::Outcome {
                            result: "failed",
                            deployed: None,
                            error: Some(&msg),
                            error_commit: None,
                            job: Some(&job_id),
                        },
                    )
                    .await;
                }
            }
            res
        })
}

struct Done(Option<Box<dyn FnOnce() + Send>>);
impl Drop for Done {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Start the poll loop.
pub fn schedule(state: AppState) {
    tokio::spawn(async move {
        let in_flight: Arc<Mutex<HashSet<String>>> = Default::default();
        let mut every = tokio::time::interval(Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(e) = tick(&state, &in_flight).await {
                tracing::warn!("git poll: {e}");
            }
        }
    });
}

async fn tick(state: &AppState, in_flight: &Arc<Mutex<HashSet<String>>>) -> AppResult<()> {
    let now = now();
    for row in git_stacks::polling(&state.db).await? {
        if gitsync::next_due(&row) > now {
            continue;
        }
        {
            let Ok(mut set) = in_flight.lock() else {
                continue;
            };
            if !set.insert(row.name.clone()) {
                continue;
            }
        }
        let set = in_flight.clone();
        let name = row.name.clone();
        let done: Box<dyn FnOnce() + Send> = Box::new(move || {
            if let Ok(mut s) = set.lock() {
                s.remove(&name);
            }
        });
        if submit(
            state,
            &row,
            Actor::Owner(row.created_by),
            false,
            false,
            Some(done),
        )
        .is_none()
        {
            tracing::warn!("git poll of {}: its job queue is full", row.name);
            if let Ok(mut s) = in_flight.lock() {
                s.remove(&row.name);
            }
        }
    }
    Ok(())
}
