//! Daemon events, fanned out: one `GET /events` stream per daemon, however many browser
//! tabs watch it. The stream is (re)opened while anyone listens; when the daemon goes away
//! listeners get a `daemon_lost` notice, and `daemon_back` when it answers again.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use bollard::query_parameters::EventsOptions;
use futures::StreamExt;
use tokio::sync::broadcast;

use super::Endpoint;

/// How many frames a slow listener may fall behind before it is told to resync.
const BACKLOG: usize = 256;

/// One frame for every listener: the event (to decide who may see it) and its JSON text,
/// encoded once.
pub struct Frame {
    /// None for berth's own notices, which everyone gets.
    pub event: Option<wire::DaemonEvent>,
    pub text: Utf8Bytes,
    /// For a service event, the service's labels (its team), looked up once when the event
    /// came, for every listener; None when it could not be (a removed service): then only
    /// admins get the event.
    pub owner: Option<std::collections::BTreeMap<String, String>>,
}

pub struct EventHub {
    tx: broadcast::Sender<Arc<Frame>>,
    /// Whether the pump task runs. Checked and set under the lock, together with the
    /// receiver count, so a subscriber never joins a pump that is about to stop.
    running: Mutex<bool>,
}

impl Default for EventHub {
    fn default() -> Self {
        Self::new()
    }
}

impl EventHub {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(BACKLOG);
        EventHub {
            tx,
            running: Mutex::new(false),
        }
    }
}

impl Endpoint {
    /// Listen to this daemon's events as JSON text frames (`wire::DaemonEvent` or
    /// `wire::StreamNotice`).
    pub fn subscribe_events(self: &Arc<Self>) -> broadcast::Receiver<Arc<Frame>> {
        let mut running = self
            .events
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let rx = self.events.tx.subscribe();
        if !*running {
            *running = true;
            tokio::spawn(pump(self.clone()));
        }
        rx
    }

    /// Stop the pump if nobody listens any more. Returns true when it should stop.
    fn events_idle(&self) -> bool {
        let mut running = self
            .events
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if self.events.tx.receiver_count() == 0 {
            *running = false;
            true
        } else {
            false
        }
    }

    fn notify(&self, notice: &wire::StreamNotice) {
        if let Ok(json) = serde_json::to_string(notice) {
            let _ = self.events.tx.send(Arc::new(Frame {
                event: None,
                text: json.into(),
                owner: None,
            }));
        }
    }
}

async fn pump(ep: Arc<Endpoint>) {
    let mut lost = false;
    loop {
        if ep.events_idle() {
            return;
        }
        let client = match ep.client().await {
            Ok(c) => c,
            Err(err) => {
                if !lost {
                    ep.notify(&wire::StreamNotice::DaemonLost {
                        message: err.to_string(),
                    });
                    lost = true;
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        let mut stream = client.events(None::<EventsOptions>);
        // The events stream says nothing until something happens: a ping tells us now
        // whether the daemon is back.
        if client.ping().await.is_err() {
            ep.reset().await;
            tokio::time::sleep(Duration::from_secs(2)).await;
            continue;
        }
        if lost {
            ep.notify(&wire::StreamNotice::DaemonBack);
        }
        loop {
            tokio::select! {
                item = stream.next() => match item {
                    Some(Ok(msg)) => {
                        let event = convert(msg);
                        let owner = if event.kind == "service" {
                            service_labels(&client, &event.id).await
                        } else {
                            None
                        };
                        if let Ok(json) = serde_json::to_string(&event) {
                            let _ = ep.events.tx.send(Arc::new(Frame {
                                event: Some(event),
                                text: json.into(),
                                owner,
                            }));
                        }
                    }
                    Some(Err(err)) => {
                        tracing::warn!(daemon = %ep.name, "event stream failed: {err}");
                        break;
                    }
                    None => break,
                },
                _ = tokio::time::sleep(Duration::from_secs(30)) => {
                    if ep.events_idle() {
                        return;
                    }
                }
            }
        }
        ep.reset().await;
        ep.notify(&wire::StreamNotice::DaemonLost {
            message: "the daemon's event stream ended".into(),
        });
        lost = true;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// A service's labels, for deciding who sees its events (the event itself carries only
/// the name); None when the service is gone (or the daemon did not answer in time).
async fn service_labels(
    client: &bollard::Docker,
    id: &str,
) -> Option<std::collections::BTreeMap<String, String>> {
    let inspect =
        client.inspect_service(id, None::<bollard::query_parameters::InspectServiceOptions>);
    let service = tokio::time::timeout(Duration::from_secs(2), inspect)
        .await
        .ok()?
        .ok()?;
    Some(
        service
            .spec
            .and_then(|s| s.labels)
            .unwrap_or_default()
            .into_iter()
            .collect(),
    )
}

fn convert(msg: bollard::models::EventMessage) -> wire::DaemonEvent {
    let actor = msg.actor.unwrap_or_default();
    wire::DaemonEvent {
        kind: msg.typ.map(|t| t.to_string()).unwrap_or_default(),
        action: msg.action.unwrap_or_default(),
        id: actor.id.unwrap_or_default(),
        attributes: actor.attributes.unwrap_or_default().into_iter().collect(),
        time: msg.time.unwrap_or_default(),
    }
}
