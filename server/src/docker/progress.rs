//! Long image operations — pull, push, build, load — as streams of progress lines.
//!
//! Each runs in its own task that owns the daemon client and its stream, and hands lines
//! over a small bounded channel: when the browser reads slowly the task waits, and so does
//! the daemon's response; when the browser goes away the send fails, the task drops the
//! daemon stream and the daemon cancels the operation. The last item is either a `done`
//! line or an error.

use std::sync::{Arc, Mutex};

use bollard::auth::DockerCredentials;
use bollard::query_parameters::{
    BuildImageOptions, CreateImageOptions, ImportImageOptions, PushImageOptions, TagImageOptions,
};
use bollard::{body_try_stream, Docker};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use http::StatusCode;
use tokio::sync::mpsc;
use wire::{ProgressLine, StreamDone};

use super::reference::Reference;
use super::Endpoint;
use crate::error::{AppError, AppResult};

/// Progress lines, ending with `done` or an error.
pub type Lines = mpsc::Receiver<AppResult<ProgressLine>>;

/// Where a policy refusal made while an upload flows (see `tar_gate`) waits to be reported
/// in place of the daemon's "upload broke off".
pub type Refusal = Arc<Mutex<Option<AppError>>>;

fn refused(slot: &Refusal) -> Option<AppError> {
    slot.lock().ok().and_then(|mut s| s.take())
}

/// Lines waiting for a slow reader; the daemon waits beyond this.
const BACKLOG: usize = 32;

/// What kind of operation failed, for wording its error.
#[derive(Clone, Copy)]
pub enum Op {
    Pull,
    Push,
    Build,
    Load,
}

/// Turn a daemon error (its response, or an error line in its stream) into one a person
/// can act on, with a specific code.
pub fn classify(op: Op, registry: Option<&str>, err: bollard::errors::Error) -> AppError {
    use bollard::errors::Error as E;
    let message = match err {
        E::DockerStreamError { error } => error,
        E::DockerResponseServerError {
            status_code: 404,
            message,
        } => return AppError::NotFound(message),
        E::DockerResponseServerError { message, .. } => message,
        other => return AppError::from(other),
    };
    classify_message(op, registry, message)
}

pub fn classify_message(op: Op, registry: Option<&str>, message: String) -> AppError {
    let lower = message.to_lowercase();
    let host = registry.unwrap_or("the registry");
    if lower.contains("invalid reference format") {
        return AppError::bad_request("invalid_reference", message);
    }
    if lower.contains("server gave http response to https client") {
        return AppError::coded(
            StatusCode::BAD_GATEWAY,
            "registry_insecure",
            format!(
                "the daemon refused to talk plain HTTP to {host}. To allow it, add \"{host}\" to \
                 \"insecure-registries\" in the daemon's daemon.json (usually \
                 /etc/docker/daemon.json) and restart the daemon; registries on 127.0.0.0/8 are \
                 always allowed. The daemon said: {message}"
            ),
        );
    }
    let unreachable = [
        "connection refused",
        "no such host",
        "i/o timeout",
        "dial tcp",
        "context deadline exceeded",
        "tls handshake timeout",
        "network is unreachable",
        "connection reset",
    ];
    if unreachable.iter().any(|s| lower.contains(s)) {
        return AppError::coded(
            StatusCode::BAD_GATEWAY,
            "registry_unreachable",
            format!("{host} does not answer: {message}"),
        );
    }
    let denied = [
        "unauthorized",
        "authentication required",
        "denied",
        "no basic auth credentials",
        "incorrect username or password",
    ];
    if denied.iter().any(|s| lower.contains(s)) {
        return AppError::coded(
            StatusCode::FORBIDDEN,
            "registry_denied",
            format!(
                "{host} refused access: {message}. Check the user and password stored for it \
                 under Registries"
            ),
        );
    }
    match op {
        Op::Build => AppError::coded(StatusCode::BAD_REQUEST, "build_failed", message),
        Op::Load => AppError::coded(StatusCode::BAD_REQUEST, "invalid_archive", message),
        Op::Pull | Op::Push
            if lower.contains("manifest unknown")
                || lower.contains("not found")
                || lower.contains("does not exist") =>
        {
            AppError::NotFound(message)
        }
        Op::Pull | Op::Push => AppError::Docker(message),
    }
}

fn line_of(
    id: Option<String>,
    status: Option<String>,
    progress: Option<String>,
    detail: Option<bollard::models::ProgressDetail>,
) -> ProgressLine {
    ProgressLine {
        id,
        status,
        progress,
        progress_detail: detail.map(|d| wire::ProgressDetail {
            current: d.current,
            total: d.total,
        }),
        ..Default::default()
    }
}

fn done(d: StreamDone) -> ProgressLine {
    ProgressLine {
        done: Some(d),
        ..Default::default()
    }
}

/// Run `work` in its own task, feeding a bounded channel.
fn spawn<F, Fut>(work: F) -> Lines
where
    F: FnOnce(mpsc::Sender<AppResult<ProgressLine>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(BACKLOG);
    tokio::spawn(work(tx));
    rx
}

/// `docker pull`.
pub async fn pull(
    ep: &Endpoint,
    reference: Reference,
    credentials: Option<DockerCredentials>,
) -> AppResult<Lines> {
    let client = ep.client().await?;
    let host = reference.registry_host();
    Ok(spawn(move |tx| async move {
        let opts = CreateImageOptions {
            from_image: Some(reference.name.clone()),
            tag: Some(
                reference
                    .digest
                    .clone()
                    .or_else(|| reference.tag.clone())
                    .unwrap_or_else(|| "latest".into()),
            ),
            ..Default::default()
        };
        let mut stream = client.create_image(Some(opts), None, credentials);
        while let Some(item) = stream.next().await {
            let line = item
                .map(|i| line_of(i.id, i.status, i.progress, i.progress_detail))
                .map_err(|e| classify(Op::Pull, Some(&host), e));
            let failed = line.is_err();
            if tx.send(line).await.is_err() || failed {
                return;
            }
        }
        let image = match &reference.digest {
            Some(d) => format!("{}@{d}", reference.name),
            None => reference.full(),
        };
        let id = client.inspect_image(&image).await.ok().and_then(|i| i.id);
        let _ = tx
            .send(Ok(done(StreamDone {
                id,
                image: Some(image),
                ..Default::default()
            })))
            .await;
    }))
}

/// `docker push`.
pub async fn push(
    ep: &Endpoint,
    reference: Reference,
    credentials: Option<DockerCredentials>,
) -> AppResult<Lines> {
    let client = ep.client().await?;
    let host = reference.registry_host();
    Ok(spawn(move |tx| async move {
        let tag = reference.tag.clone().unwrap_or_else(|| "latest".into());
        let opts = PushImageOptions {
            tag: Some(tag),
            ..Default::default()
        };
        let mut digest = None;
        let mut stream = client.push_image(&reference.name, Some(opts), credentials);
        while let Some(item) = stream.next().await {
            if let Ok(info) = &item {
                // "latest: digest: sha256:... size: 527": the pushed manifest.
                if let Some(d) = info
                    .status
                    .as_deref()
                    .and_then(|s| s.split("digest: ").nth(1))
                    .and_then(|s| s.split_whitespace().next())
                {
                    digest = Some(d.to_owned());
                }
            }
            let line = item
                .map(|i| line_of(None, i.status, i.progress, i.progress_detail))
                .map_err(|e| classify(Op::Push, Some(&host), e));
            let failed = line.is_err();
            if tx.send(line).await.is_err() || failed {
                return;
            }
        }
        let _ = tx
            .send(Ok(done(StreamDone {
                image: Some(reference.full()),
                digest,
                ..Default::default()
            })))
            .await;
    }))
}

/// `docker build`: `context` is the filtered tar; `more_tags` are applied after success;
/// `context_error` explains a context that broke off mid-stream.
pub async fn build(
    ep: &Endpoint,
    opts: BuildImageOptions,
    context: impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    more_tags: Vec<Reference>,
    context_error: Arc<Mutex<Option<String>>>,
    refusal: Refusal,
) -> AppResult<Lines> {
    let client = ep.client().await?;
    let first_tag = opts.t.clone();
    Ok(spawn(move |tx| async move {
        let mut built = None;
        let failure = {
            let mut stream = client.build_image(opts, None, Some(body_try_stream(context)));
            let mut failure = None;
            while let Some(item) = stream.next().await {
                match item {
                    Ok(info) => {
                        if let Some(id) = info.aux.and_then(|a| a.id) {
                            built = Some(id);
                        }
                        let mut line =
                            line_of(info.id, info.status, info.progress, info.progress_detail);
                        line.stream = info.stream;
                        if tx.send(Ok(line)).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            failure
        };
        if let Some(e) = failure {
            let err = match (
                refused(&refusal),
                context_error.lock().ok().and_then(|s| s.clone()),
            ) {
                (Some(denied), _) => denied,
                (None, Some(why)) => AppError::bad_request("invalid_context", why),
                (None, None) => classify(Op::Build, None, e),
            };
            let _ = tx.send(Err(err)).await;
            return;
        }
        let Some(id) = built else {
            let _ = tx
                .send(Err(AppError::Docker(
                    "the daemon finished the build without naming an image".into(),
                )))
                .await;
            return;
        };
        let mut tags: Vec<String> = first_tag.into_iter().collect();
        for r in more_tags {
            let res = client
                .tag_image(
                    &id,
                    Some(TagImageOptions {
                        repo: Some(r.name.clone()),
                        tag: r.tag.clone(),
                    }),
                )
                .await;
            if let Err(e) = res {
                let _ = tx.send(Err(AppError::from(e))).await;
                return;
            }
            tags.push(r.full());
        }
        let _ = tx
            .send(Ok(done(StreamDone {
                id: Some(id),
                tags,
                ..Default::default()
            })))
            .await;
    }))
}

/// `docker load`: the tar flows from the request into the daemon as it arrives.
pub async fn load(
    ep: &Endpoint,
    archive: impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    refusal: Refusal,
) -> AppResult<Lines> {
    let client: Docker = ep.client().await?;
    Ok(spawn(move |tx| async move {
        let mut loaded = Vec::new();
        let mut stream = client.import_image(
            ImportImageOptions {
                quiet: false,
                ..Default::default()
            },
            body_try_stream(archive),
            None,
        );
        while let Some(item) = stream.next().await {
            let line = match item {
                Ok(info) => {
                    if let Some(text) = info.stream.as_deref() {
                        for l in text.lines() {
                            if let Some(what) = l
                                .strip_prefix("Loaded image ID: ")
                                .or_else(|| l.strip_prefix("Loaded image: "))
                            {
                                loaded.push(what.trim().to_owned());
                            }
                        }
                    }
                    let mut line =
                        line_of(info.id, info.status, info.progress, info.progress_detail);
                    line.stream = info.stream;
                    Ok(line)
                }
                Err(e) => Err(refused(&refusal).unwrap_or_else(|| classify(Op::Load, None, e))),
            };
            let failed = line.is_err();
            if tx.send(line).await.is_err() || failed {
                return;
            }
        }
        let _ = tx
            .send(Ok(done(StreamDone {
                loaded,
                ..Default::default()
            })))
            .await;
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_messages_become_actionable_errors() {
        let e = classify_message(
            Op::Pull,
            Some("10.0.0.2:5000"),
            "Get \"https://10.0.0.2:5000/v2/\": http: server gave HTTP response to HTTPS client"
                .into(),
        );
        assert_eq!(e.code(), "registry_insecure");
        let msg = e.to_string();
        assert!(msg.contains("\"10.0.0.2:5000\"") && msg.contains("insecure-registries"));
        assert!(msg.contains("daemon.json"));

        let e = classify_message(
            Op::Pull,
            Some("127.0.0.1:1"),
            "Get \"http://127.0.0.1:1/v2/\": dial tcp 127.0.0.1:1: connect: connection refused"
                .into(),
        );
        assert_eq!(e.code(), "registry_unreachable");
        let e = classify_message(
            Op::Push,
            None,
            "unauthorized: authentication required".into(),
        );
        assert_eq!((e.code(), e.status().as_u16()), ("registry_denied", 403));
        let e = classify_message(
            Op::Build,
            None,
            "The command '/bin/sh -c exit 3' returned a non-zero code: 3".into(),
        );
        assert_eq!(e.code(), "build_failed");
    }
}
