//! `/api/webhooks` (made, listed, rotated and revoked by their owners) and `/api/hooks/{id}`,
//! the URL a CI pipeline calls: a deploy job starts and its id is answered at once.
//!
//! A call is judged on its secret (`X-Berth-Secret`, GitLab's `X-Gitlab-Token`, or GitHub's
//! `X-Hub-Signature-256` HMAC of the body), then acts with the rights of the webhook's
//! owner as they are *now*: a disabled owner, or one who is no longer an operator, gets the
//! call refused; what the deploy makes goes through the one policy as that owner. Every
//! call is audited, refused ones too. Unlike Portainer's hooks, which answer 204 whatever
//! happens, the answer names a job whose end says whether the deploy worked.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::{Role, WebhookKind};

use crate::auth::policy::resolve::Policy;
use crate::auth::{CurrentUser, Peer};
use crate::docker::Endpoint;
use crate::error::{AppError, AppResult, JsonBody, PathArgs, QueryArgs};
use crate::jobs;
use crate::registry::secret;
use crate::stacks::{check_name, files, ops};
use crate::state::AppState;
use crate::store::{self, audit, webhooks::Row};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, revoke))
        .routes(routes!(rotate))
        .routes(routes!(call))
}

/// How long a service without a healthcheck must run without restarting, unless the call
/// says `?settle=N`.
const DEFAULT_SETTLE: u64 = 5;

fn random(prefix: &str, n: usize) -> String {
    use rand::distributions::Alphanumeric;
    use rand::Rng;
    let body: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect();
    format!("{prefix}{body}")
}

/// Where berth is reached: the first `--public-url`, or the request's own host.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = state.config.public_urls.first() {
        let scheme = if u.https { "https" } else { "http" };
        return format!("{scheme}://{}", u.host_header());
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    let scheme = if state.config.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

fn info(row: &Row, owner: &str, base: &str) -> wire::WebhookInfo {
    wire::WebhookInfo {
        id: row.id.clone(),
        kind: WebhookKind::parse(&row.kind).unwrap_or(WebhookKind::Container),
        target: row.target.clone(),
        endpoint: row.endpoint.clone(),
        url: format!("{base}/api/hooks/{}", row.id),
        owner: owner.to_owned(),
        github: row.sealed_secret.is_some(),
        tag_variable: row.tag_variable.clone(),
        created_at: row.created_at,
        last_called: row.last_called,
    }
}

fn no_such(id: &str) -> AppError {
    AppError::NotFound(format!("no webhook {id}"))
}

fn endpoint(state: &AppState, name: &str) -> AppResult<Arc<Endpoint>> {
    state
        .daemons
        .get(name)
        .ok_or_else(|| AppError::NotFound(format!("no daemon endpoint named {name:?}")))
}

/// The webhook, if this user may manage it: its owner's, or any for an admin. Another's
/// answers as a missing one.
async fn mine(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<Row> {
    let row = store::webhooks::get(&state.db, id)
        .await?
        .ok_or_else(|| no_such(id))?;
    if user.role == Role::Admin || row.created_by == user.id {
        Ok(row)
    } else {
        Err(no_such(id))
    }
}

/// The target as the webhook keeps it, after checking the user may deploy it now.
/// A stack webhook redeploys a Compose stack's containers; a swarm stack is redeployed
/// with `PUT /api/stacks/{name}`.
fn swarm_stack_hook(name: &str) -> AppError {
    AppError::coded(
        axum::http::StatusCode::CONFLICT,
        super::swarm_stacks::SWARM_STACK,
        format!(
            "stack {name} runs on the swarm: a stack webhook redeploys Compose stacks; redeploy \
             it with PUT /api/stacks/{name}"
        ),
    )
}

async fn check_target(
    state: &AppState,
    user: &CurrentUser,
    ep: &Endpoint,
    kind: WebhookKind,
    target: &str,
) -> AppResult<String> {
    let policy = Policy::new(user, ep, &state.db);
    match kind {
        WebhookKind::Container => jobs::container::target_name(policy, target).await,
        WebhookKind::Stack => {
            let name = check_name(target)?;
            let f = files::read(&state.config.data_dir, name).await?;
            ops::access(user, ep, name, f.as_ref(), Role::Operator).await?;
            if f.as_ref().is_some_and(|f| f.meta.swarm) {
                return Err(swarm_stack_hook(name));
            }
            if f.is_none() {
                return Err(AppError::Conflict(format!(
                    "berth keeps no compose file for {name}: it can only deploy stacks it manages"
                )));
            }
            Ok(name.to_owned())
        }
        WebhookKind::Service => jobs::service::target_name(policy, target).await,
    }
}

/// A new secret, its hash, and (for GitHub) the secret sealed.
fn new_secret(state: &AppState, github: bool) -> AppResult<(String, String, Option<String>)> {
    let secret = random("whs_", 40);
    let hash = store::tokens::digest(&secret);
    let sealed = github
        .then(|| secret::seal(&state.config.data_dir, &secret))
        .transpose()
        .map_err(AppError::Internal)?;
    Ok((secret, hash, sealed))
}

/// Make a webhook that redeploys a container, a stack or a Swarm service as the caller. The secret is
/// shown this once.
#[utoipa::path(post, path = "/api/webhooks", tag = "automation",
    request_body = wire::CreateWebhook,
    responses((status = 201, description = "the webhook and its secret, shown this once", body = wire::NewWebhook),
              (status = 403, description = "the caller may not deploy the target"), (status = 404, description = "no such target"),
              (status = 409, description = "a stack berth has no files for, or a container of a stack")))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    JsonBody(req): JsonBody<wire::CreateWebhook>,
) -> AppResult<(StatusCode, Json<wire::NewWebhook>)> {
    user.require(Role::Operator)?;
    let ep_name = req
        .endpoint
        .clone()
        .unwrap_or_else(|| crate::docker::LOCAL.to_owned());
    let res = audit::audited(&state.db, &user, "webhook_create", &req.target, async {
        let ep = endpoint(&state, &ep_name)?;
        let target = check_target(&state, &user, &ep, req.kind, &req.target).await?;
        if let Some(v) = &req.tag_variable {
            jobs::stack::check_variable(v, "")?;
        }
        let (secret, hash, sealed) = new_secret(&state, req.github)?;
        let row = Row {
            id: random("wh_", 20),
            kind: req.kind.as_str().to_owned(),
            target,
            endpoint: ep_name.clone(),
            created_by: user.id,
            secret_hash: hash,
            sealed_secret: sealed,
            tag_variable: req.tag_variable.clone(),
            created_at: 0,
            last_called: None,
        };
        store::webhooks::insert(&state.db, &row).await?;
        let row = store::webhooks::get(&state.db, &row.id)
            .await?
            .ok_or_else(|| no_such(&row.id))?;
        let webhook = info(&row, &user.username, &base_url(&state, &headers));
        Ok(wire::NewWebhook {
            id: row.id.clone(),
            url: webhook.url.clone(),
            secret,
            webhook,
        })
    })
    .await;
    Ok((StatusCode::CREATED, Json(res?)))
}

/// One's own webhooks (an admin sees everyone's); never their secrets.
#[utoipa::path(get, path = "/api/webhooks", tag = "automation",
    responses((status = 200, description = "the webhooks", body = Vec<wire::WebhookInfo>)))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
) -> AppResult<Json<Vec<wire::WebhookInfo>>> {
    let owner = (user.role != Role::Admin).then_some(user.id);
    let base = base_url(&state, &headers);
    Ok(Json(
        store::webhooks::list(&state.db, owner)
            .await?
            .iter()
            .map(|l| info(&l.row, &l.owner, &base))
            .collect(),
    ))
}

/// One webhook.
#[utoipa::path(get, path = "/api/webhooks/{id}", tag = "automation",
    params(("id" = String, Path, description = "webhook id")),
    responses((status = 200, description = "the webhook", body = wire::WebhookInfo), (status = 404, description = "no such webhook of yours")))]
pub async fn get_one(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    PathArgs(id): PathArgs<String>,
) -> AppResult<Json<wire::WebhookInfo>> {
    let row = mine(&state, &user, &id).await?;
    let owner = store::users::by_id(&state.db, row.created_by)
        .await?
        .map(|u| u.username)
        .unwrap_or_default();
    Ok(Json(info(&row, &owner, &base_url(&state, &headers))))
}

/// Revoke a webhook: its URL answers 401 from now on.
#[utoipa::path(delete, path = "/api/webhooks/{id}", tag = "automation",
    params(("id" = String, Path, description = "webhook id")),
    responses((status = 204, description = "revoked"), (status = 404, description = "no such webhook of yours")))]
pub async fn revoke(
    State(state): State<AppState>,
    user: CurrentUser,
    PathArgs(id): PathArgs<String>,
) -> AppResult<StatusCode> {
    audit::audited(&state.db, &user, "webhook_delete", &id, async {
        mine(&state, &user, &id).await?;
        store::webhooks::delete(&state.db, &id).await?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

/// A new secret for a webhook; the old one stops working at once.
#[utoipa::path(post, path = "/api/webhooks/{id}/rotate", tag = "automation",
    params(("id" = String, Path, description = "webhook id")),
    responses((status = 200, description = "the new secret, shown this once", body = wire::NewWebhook),
              (status = 404, description = "no such webhook of yours")))]
pub async fn rotate(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    PathArgs(id): PathArgs<String>,
) -> AppResult<Json<wire::NewWebhook>> {
    let res = audit::audited(&state.db, &user, "webhook_rotate", &id, async {
        let row = mine(&state, &user, &id).await?;
        let (secret, hash, sealed) = new_secret(&state, row.sealed_secret.is_some())?;
        store::webhooks::set_secret(&state.db, &id, &hash, sealed.as_deref()).await?;
        let owner = store::users::by_id(&state.db, row.created_by)
            .await?
            .map(|u| u.username)
            .unwrap_or_default();
        let webhook = info(&row, &owner, &base_url(&state, &headers));
        Ok(wire::NewWebhook {
            id: row.id.clone(),
            url: webhook.url.clone(),
            secret,
            webhook,
        })
    })
    .await;
    res.map(Json)
}

/// Equal, in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether the request proves it knows the webhook's secret.
pub fn verify(state: &AppState, row: &Row, headers: &HeaderMap, body: &[u8]) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    for name in ["x-berth-secret", "x-gitlab-token"] {
        if let Some(s) = header(name) {
            return same(
                store::tokens::digest(s.trim()).as_bytes(),
                row.secret_hash.as_bytes(),
            );
        }
    }
    if let Some(sig) = header("x-hub-signature-256") {
        let Some(sealed) = &row.sealed_secret else {
            return false;
        };
        let Ok(key) = secret::open(&state.config.data_dir, sealed) else {
            return false;
        };
        let Some(want) = sig.trim().strip_prefix("sha256=").and_then(unhex) else {
            return false;
        };
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
            return false;
        };
        mac.update(body);
        return mac.verify_slice(&want).is_ok();
    }
    false
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// What a call asks: from the query (`tag`, `pull`, `settle`, and any other name is a
/// stack variable) and a JSON body's `variables`.
struct Ask {
    tag: Option<String>,
    pull: bool,
    settle: u64,
    variables: BTreeMap<String, String>,
}

fn ask(query: Vec<(String, String)>, body: &[u8], row: &Row) -> AppResult<Ask> {
    let mut a = Ask {
        tag: None,
        pull: true,
        settle: DEFAULT_SETTLE,
        variables: BTreeMap::new(),
    };
    for (k, v) in query {
        match k.as_str() {
            "tag" => a.tag = Some(crate::docker::reference::check_tag(&v)?.to_owned()),
            "pull" => {
                a.pull = match v.as_str() {
                    "true" | "1" | "" => true,
                    "false" | "0" => false,
                    _ => {
                        return Err(AppError::bad_request(
                            "invalid_query",
                            "pull: true or false",
                        ))
                    }
                }
            }
            "settle" => {
                a.settle = v.parse::<u64>().ok().filter(|s| *s <= 600).ok_or_else(|| {
                    AppError::bad_request("invalid_query", "settle: seconds, 0 to 600")
                })?
            }
            _ => {
                jobs::stack::check_variable(&k, &v)?;
                a.variables.insert(k, v);
            }
        }
    }
    // A body is optional; GitHub and GitLab send their event, which says nothing to us.
    if let Ok(serde_json::Value::Object(o)) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Some(serde_json::Value::Object(vars)) = o.get("variables") {
            for (k, v) in vars {
                let v = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                jobs::stack::check_variable(k, &v)?;
                a.variables.insert(k.clone(), v);
            }
        }
    }
    if row.kind == "stack" {
        if let Some(tag) = a.tag.take() {
            let var = row.tag_variable.clone().unwrap_or_else(|| "TAG".into());
            a.variables.insert(var, tag);
        }
    } else if !a.variables.is_empty() {
        return Err(AppError::bad_request(
            "invalid_query",
            format!(
                "a {} webhook takes tag, pull and settle, not variables ({})",
                row.kind,
                a.variables.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    Ok(a)
}

/// Record a call that was refused before it had an owner to act as.
async fn refused(
    state: &AppState,
    peer: Option<String>,
    id: &str,
    user: Option<&str>,
    e: &AppError,
) {
    audit::record(
        &state.db,
        audit::Entry {
            user,
            action: "webhook_call",
            target: Some(id),
            result: e.code(),
            peer,
        },
    )
    .await;
}

/// Call a webhook: start (or join) a deploy job of its target, answered at once. Follow the
/// job at `GET /api/jobs/{job}` with the same secret.
#[utoipa::path(post, path = "/api/hooks/{id}", tag = "automation",
    params(("id" = String, Path, description = "webhook id"),
           ("tag" = Option<String>, Query, description = "run this tag of the image (a stack: sets its tag variable, TAG by default)"),
           ("pull" = Option<bool>, Query, description = "pull images first (default true)"),
           ("settle" = Option<u64>, Query, description = "seconds a container without a healthcheck must run without restarting (default 5)")),
    request_body(content = super::Binary, content_type = "application/octet-stream", description = "optional, any: a JSON object's \"variables\" ({\"TAG\": \"v2\"}) are a stack's variables; anything else (a GitHub or GitLab event) is only signed over"),
    responses((status = 202, description = "the job", body = wire::JobStarted),
              (status = 400, description = "a bad tag or variable"), (status = 401, description = "no or a wrong secret, or no such webhook"),
              (status = 403, description = "the webhook's owner may not deploy any more"), (status = 429, description = "too many calls queued for this target")))]
pub async fn call(
    State(state): State<AppState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    PathArgs(id): PathArgs<String>,
    QueryArgs(query): QueryArgs<Vec<(String, String)>>,
    body: Bytes,
) -> AppResult<(StatusCode, Json<wire::JobStarted>)> {
    let bad_secret = || {
        AppError::Unauthorized(
            "this webhook does not exist, or the secret is wrong: send it in X-Berth-Secret".into(),
        )
    };
    let row = match store::webhooks::get(&state.db, &id).await? {
        Some(row) if verify(&state, &row, &headers, &body) => row,
        _ => {
            let e = bad_secret();
            refused(&state, peer, &id, None, &e).await;
            return Err(e);
        }
    };
    let owner =
        match crate::auth::webhook_owner(&state, row.created_by, &row.endpoint, peer.clone()).await
        {
            Ok(u) => u,
            Err(e) => {
                refused(&state, peer, &id, None, &e).await;
                return Err(e);
            }
        };
    let target = format!("{} {} ({id})", row.kind, row.target);
    let started = audit::audited(&state.db, &owner, "webhook_call", &target, async {
        let a = ask(query, &body, &row)?;
        let ep = endpoint(&state, &row.endpoint)?;
        let kind = WebhookKind::parse(&row.kind).unwrap_or(WebhookKind::Container);
        check_target(&state, &owner, &ep, kind, &row.target).await?;
        let params = serde_json::json!([a.tag, a.pull, a.settle, a.variables]).to_string();
        let spec = jobs::Spec {
            kind: kind.as_str(),
            target: row.target.clone(),
            endpoint: row.endpoint.clone(),
            webhook: Some(row.id.clone()),
            user: Some(owner.username.clone()),
            params,
        };
        let work = {
            let state = state.clone();
            let row = row.clone();
            move |live: Arc<jobs::Live>| async move {
                // Re-read at the start too: a job may have waited its turn a while.
                let owner =
                    crate::auth::webhook_owner(&state, row.created_by, &row.endpoint, None).await?;
                let (progress, pump) = live.progress();
                let policy = Policy::new(&owner, &ep, &state.db);
                let window = Duration::from_secs(a.settle);
                let res = match kind {
                    WebhookKind::Stack => {
                        let plan = jobs::stack::Plan {
                            variables: a.variables,
                            pull: a.pull,
                            window,
                        };
                        // A Git stack follows its repository first (a CI calls after a
                        // push), then is redeployed as any stack.
                        let git = match store::git_stacks::get(&state.db, &row.target).await {
                            Ok(Some(_)) => crate::stacks::gitsync::sync(
                                &state,
                                policy,
                                &row.target,
                                false,
                                false,
                                Some(&live.snapshot().id),
                                &progress,
                            )
                            .await
                            .map(|_| ()),
                            Ok(None) => Ok(()),
                            Err(e) => Err(e.into()),
                        };
                        match git {
                            Ok(()) => {
                                jobs::stack::redeploy(&state, policy, &row.target, plan, &progress)
                                    .await
                            }
                            Err(e) => Err(e),
                        }
                    }
                    WebhookKind::Service => {
                        let plan = jobs::container::Plan {
                            tag: a.tag,
                            pull: a.pull,
                            window,
                        };
                        jobs::service::redeploy(&state, policy, &row.target, plan, &progress).await
                    }
                    WebhookKind::Container => {
                        let plan = jobs::container::Plan {
                            tag: a.tag,
                            pull: a.pull,
                            window,
                        };
                        jobs::container::redeploy(&state, policy, &row.target, plan, &progress)
                            .await
                    }
                };
                drop(progress);
                let _ = pump.await;
                let what = format!("{} {} ({})", row.kind, row.target, row.id);
                audit::outcome(&state.db, &owner, "webhook_deploy", &what, &res).await;
                res
            }
        };
        state
            .jobs
            .submit(&state.db, spec, work)
            .ok_or_else(|| super::jobs::queue_full(&row.target))
    })
    .await?;
    let _ = store::webhooks::touch(&state.db, &id).await;
    Ok(super::jobs::started(&state, &headers, started))
}
