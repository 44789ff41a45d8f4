//! Live container updates from `/api/events/ws`, without polling.
//!
//! Each text frame is a `wire::StreamNotice` (tagged `berth`, tried first) or a
//! `wire::DaemonEvent`. Matching events are batched for ~250 ms and then trigger a single
//! refresh, so a `docker compose up` of ten containers costs one list request, not forty.
//! A closed socket is reopened after 1 s, 2 s, then every 5 s; after a reconnect, or when
//! the server says the daemon is back, the page refreshes too, since events may have been
//! missed in between.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use send_wrapper::SendWrapper;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, WebSocket};
use wire::{DaemonEvent, StreamNotice};

use crate::api;
use crate::i18n::{use_i18n, Key};

/// How the events socket is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveState {
    Connecting,
    Live,
    /// The server is up but cannot reach the daemon; the message says why.
    DaemonLost(String),
    /// The socket closed; a reconnect is scheduled.
    Reconnecting,
}

/// A socket event handler, kept alive on the Rust side for as long as the socket uses it.
type Handler = Closure<dyn FnMut(web_sys::Event)>;

const BATCH: Duration = Duration::from_millis(250);
const BACKOFF_SECS: [u64; 3] = [1, 2, 5];

struct Feed {
    state: RwSignal<LiveState>,
    /// The event types (`container`, `service`, `node`, ...) the page listens to.
    kinds: &'static [&'static str],
    wants: Box<dyn Fn(&DaemonEvent) -> bool>,
    on_change: Box<dyn Fn()>,
    socket: RefCell<Option<WebSocket>>,
    // The socket's handlers; kept here so they live exactly as long as the socket.
    handlers: RefCell<Vec<Handler>>,
    stopped: Cell<bool>,
    failures: Cell<usize>,
    connected_once: Cell<bool>,
    batch_pending: Cell<bool>,
}

impl Feed {
    fn connect(self: &Rc<Self>) {
        if self.stopped.get() {
            return;
        }
        self.detach();
        let ws = match api::open_ws("/api/events/ws") {
            Ok(ws) => ws,
            Err(_) => return self.schedule_reconnect(),
        };

        // Whether this socket ever opened: a refused upgrade never does.
        let opened = Rc::new(Cell::new(false));
        let this = Rc::clone(self);
        let was_opened = Rc::clone(&opened);
        let on_open = Handler::new(move |_| {
            was_opened.set(true);
            this.failures.set(0);
            this.state.try_set(LiveState::Live);
            if this.connected_once.replace(true) {
                this.schedule_change();
            }
        });
        let this = Rc::clone(self);
        let on_message = Handler::new(move |ev: web_sys::Event| {
            if let Some(text) = ev
                .dyn_ref::<MessageEvent>()
                .and_then(|m| m.data().as_string())
            {
                this.frame(&text);
            }
        });
        let this = Rc::clone(self);
        let on_close = Handler::new(move |_| {
            if this.stopped.get() {
                return;
            }
            this.state.try_set(LiveState::Reconnecting);
            this.schedule_reconnect();
            if !opened.get() {
                // The browser hides why an upgrade failed. If it was an expired session,
                // this request's 401 sends the user to the login page instead of retrying
                // here forever.
                spawn_local(async {
                    let _ = api::get::<wire::Me>("/api/auth/me").await;
                });
            }
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        *self.handlers.borrow_mut() = vec![on_open, on_message, on_close];
        *self.socket.borrow_mut() = Some(ws);
    }

    fn frame(self: &Rc<Self>, text: &str) {
        // The notice first: it is tagged, so it never mistakes an event for itself.
        if let Ok(notice) = serde_json::from_str::<StreamNotice>(text) {
            match notice {
                StreamNotice::DaemonLost { message } => {
                    self.state.try_set(LiveState::DaemonLost(message));
                }
                StreamNotice::DaemonBack => {
                    self.state.try_set(LiveState::Live);
                    self.schedule_change();
                }
            }
        } else if let Ok(event) = serde_json::from_str::<DaemonEvent>(text) {
            if self.kinds.contains(&event.kind.as_str()) && (self.wants)(&event) {
                self.schedule_change();
            }
        }
    }

    /// Coalesces everything within `BATCH` into one `on_change`.
    fn schedule_change(self: &Rc<Self>) {
        if self.batch_pending.replace(true) {
            return;
        }
        let this = Rc::clone(self);
        set_timeout(
            move || {
                this.batch_pending.set(false);
                if !this.stopped.get() {
                    (this.on_change)();
                }
            },
            BATCH,
        );
    }

    fn schedule_reconnect(self: &Rc<Self>) {
        let failures = self.failures.get();
        self.failures.set(failures + 1);
        let secs = BACKOFF_SECS[failures.min(BACKOFF_SECS.len() - 1)];
        let this = Rc::clone(self);
        set_timeout(move || this.connect(), Duration::from_secs(secs));
    }

    /// Drops the current socket without triggering a reconnect.
    fn detach(&self) {
        if let Some(ws) = self.socket.borrow_mut().take() {
            ws.set_onopen(None);
            ws.set_onmessage(None);
            ws.set_onclose(None);
            let _ = ws.close();
        }
        self.handlers.borrow_mut().clear();
    }
}

/// Listens to daemon events for as long as the calling component lives.
///
/// `wants` picks the container events that matter to the page; `on_change` runs (batched)
/// after those, after a reconnect and when the daemon comes back.
pub fn use_container_events(
    wants: impl Fn(&DaemonEvent) -> bool + 'static,
    on_change: impl Fn() + 'static,
) -> ReadSignal<LiveState> {
    use_daemon_events(&["container"], wants, on_change)
}

/// [`use_container_events`] for other event types too: the Swarm pages listen to `service`
/// and `node` events (which a manager sends) beside the containers of its own tasks.
pub fn use_daemon_events(
    kinds: &'static [&'static str],
    wants: impl Fn(&DaemonEvent) -> bool + 'static,
    on_change: impl Fn() + 'static,
) -> ReadSignal<LiveState> {
    let state = RwSignal::new(LiveState::Connecting);
    let feed = Rc::new(Feed {
        state,
        kinds,
        wants: Box::new(wants),
        on_change: Box::new(on_change),
        socket: RefCell::new(None),
        handlers: RefCell::new(Vec::new()),
        stopped: Cell::new(false),
        failures: Cell::new(0),
        connected_once: Cell::new(false),
        batch_pending: Cell::new(false),
    });
    feed.connect();
    // Leaving the page closes the socket; the handlers go with it, which also ends the
    // Rc cycle between them and the feed. The browser runs everything on one thread, so
    // the `SendWrapper` never has to move.
    let feed = SendWrapper::new(feed);
    on_cleanup(move || {
        feed.stopped.set(true);
        feed.detach();
    });
    state.read_only()
}

/// Container events that change nothing a list or detail page shows.
pub fn is_noise(event: &DaemonEvent) -> bool {
    let action = event.action.as_str();
    action.starts_with("exec_")
        || matches!(
            action,
            "attach" | "detach" | "resize" | "top" | "archive-path" | "extract-to-dir" | "copy"
        )
}

/// The "live" dot of a page fed by `use_container_events` (`data-testid="live-indicator"`,
/// `data-state` = `connecting` | `live` | `daemon_lost` | `reconnecting`).
#[component]
pub fn LiveIndicator(state: ReadSignal<LiveState>) -> impl IntoView {
    let i18n = use_i18n();
    let kind = move || match state.get() {
        LiveState::Connecting => "connecting",
        LiveState::Live => "live",
        LiveState::DaemonLost(_) => "daemon_lost",
        LiveState::Reconnecting => "reconnecting",
    };
    view! {
        <span
            class=move || format!("live live-{}", kind())
            data-testid="live-indicator"
            data-state=kind
            role="status"
            title=move || match state.get() {
                LiveState::DaemonLost(message) => message,
                _ => String::new(),
            }
        >
            <span class="live-dot" aria-hidden="true"></span>
            {move || {
                let key = match state.get() {
                    LiveState::Connecting => Key::LiveConnecting,
                    LiveState::Live => Key::LiveOn,
                    LiveState::DaemonLost(_) => Key::LiveDaemonLost,
                    LiveState::Reconnecting => Key::LiveReconnecting,
                };
                i18n.t(key)
            }}
        </span>
    }
}
