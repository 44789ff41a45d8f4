//! The Swarm pages (issue 15), on an environment whose daemon is a manager: the cluster and
//! its nodes (`overview`), services and a service's page (`services`), and the visualiser
//! (`visualizer`), secrets and configs (`files`), the new-service form (`new_service`). What they share is here: the tabs, the "not a swarm" panel, copying to
//! the clipboard, and the live task feed.

pub mod files;
pub mod new_service;
pub mod overview;
pub mod services;
pub mod visualizer;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use leptos_router::components::A;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;
use wire::{DaemonEvent, TaskSummary};

use crate::api::ApiError;
use crate::components::live::{use_daemon_events, LiveState};
use crate::components::status::ErrorPanel;
use crate::i18n::swarm::{tr, Key};

/// The code of every swarm route on a daemon that is no manager.
const NOT_A_MANAGER: &str = "not_a_swarm_manager";

/// Cluster, Services, Visualizer: the Swarm pages' own row of tabs.
#[component]
pub fn SwarmTabs() -> impl IntoView {
    view! {
        <nav class="tabs swarm-tabs" data-testid="swarm-tabs">
            <A href="/swarm" exact=true attr:class="tab" attr:data-testid="swarm-tab-cluster">
                {tr(Key::Cluster)}
            </A>
            <A href="/swarm/services" attr:class="tab" attr:data-testid="swarm-tab-services">
                {tr(Key::Services)}
            </A>
            <A href="/swarm/visualizer" attr:class="tab" attr:data-testid="swarm-tab-visualizer">
                {tr(Key::Visualizer)}
            </A>
            <A href="/swarm/secrets" attr:class="tab" attr:data-testid="swarm-tab-secrets">
                {tr(Key::SecretsConfigs)}
            </A>
        </nav>
    }
}

/// An error of a swarm route: "not a swarm manager" says so in the UI's language (with the
/// server's reason below), anything else is the usual error panel.
#[component]
pub fn SwarmError(err: ApiError, #[prop(into)] retry: Callback<()>) -> impl IntoView {
    if err.code == NOT_A_MANAGER {
        view! {
            <div class="panel state-panel" data-testid="not-a-swarm">
                <p>{tr(Key::NotASwarm)}</p>
                <p class="muted">{err.message.clone()}</p>
            </div>
        }
        .into_any()
    } else {
        view! { <ErrorPanel err retry /> }.into_any()
    }
}

/// A read-only field with its text and a Copy button (`data-testid` `{testid}` and
/// `{testid}-copy`). Uses the Clipboard API where the page may (https, localhost), else the
/// field's selection and `execCommand("copy")`.
#[component]
pub fn CopyField(#[prop(into)] text: Signal<String>, testid: &'static str) -> impl IntoView {
    let copied = RwSignal::new(false);
    let input = NodeRef::<leptos::html::Input>::new();
    let copy = move |_| {
        let value = text.get_untracked();
        let by_api = js_sys::Reflect::get(&window().navigator(), &"clipboard".into())
            .ok()
            .filter(|c| !c.is_undefined())
            .and_then(|c| {
                let f = js_sys::Reflect::get(&c, &"writeText".into()).ok()?;
                f.dyn_ref::<js_sys::Function>()?
                    .call1(&c, &value.clone().into())
                    .ok()
            })
            .is_some();
        if !by_api {
            if let Some(el) = input.get_untracked() {
                el.select();
                if let Ok(doc) = document().dyn_into::<web_sys::HtmlDocument>() {
                    let _ = doc.exec_command("copy");
                }
            }
        }
        copied.set(true);
        set_timeout(move || copied.set(false), Duration::from_secs(2));
    };
    view! {
        <div class="copy-field">
            <input
                class="input mono"
                readonly
                data-testid=testid
                node_ref=input
                prop:value=move || text.get()
                on:focus=move |_| {
                    if let Some(el) = input.get_untracked() {
                        el.select();
                    }
                }
            />
            <button type="button" class="btn btn-sm" data-testid=format!("{testid}-copy") on:click=copy>
                {move || if copied.get() { tr(Key::Copied)() } else { tr(Key::Copy)() }}
            </button>
        </div>
    }
}

/// Whether a task is on its way somewhere: wanted running but not running yet, or wanted
/// stopped but still running. The daemon sends no event for a task's own steps (only for
/// the service, the node, and the containers on this manager), so such a task is fetched
/// again a moment later, until it settles; see [`use_swarm_feed`].
pub fn in_flight(t: &TaskSummary) -> bool {
    let settled = matches!(
        t.state.as_str(),
        "running" | "complete" | "failed" | "shutdown" | "rejected" | "orphaned" | "remove"
    );
    if t.desired_state == "running" {
        t.state != "running" && !settled
    } else {
        t.state == "running" || !settled
    }
}

/// How long after a change the tasks are looked at again while some are in flight, and how
/// many times at most (then the next event takes over).
const SETTLE: Duration = Duration::from_millis(1000);
const SETTLE_ROUNDS: u32 = 60;

/// What a page's refresh calls once loaded: with `true` while something it shows is still
/// on its way (a task [`in_flight`], a service short of its replicas).
pub type Loaded = Rc<dyn Fn(bool)>;

struct Feed {
    refresh: Box<dyn Fn(Loaded)>,
    /// Rounds left in the current settle; a change starts them over.
    rounds: Cell<u32>,
    /// A follow-up is scheduled.
    pending: Cell<bool>,
    alive: Cell<bool>,
}

impl Feed {
    fn load(self: &Rc<Self>) {
        if !self.alive.get() {
            return;
        }
        let this = Rc::clone(self);
        (self.refresh)(Rc::new(move |moving: bool| this.loaded(moving)));
    }

    fn loaded(self: &Rc<Self>, moving: bool) {
        if !self.alive.get() || self.rounds.get() == 0 || !moving {
            return;
        }
        if self.pending.replace(true) {
            return;
        }
        self.rounds.set(self.rounds.get() - 1);
        let this = Rc::clone(self);
        set_timeout(
            move || {
                this.pending.set(false);
                this.load();
            },
            SETTLE,
        );
    }
}

/// The live feed of a Swarm page: `refresh` runs at once, then (batched) on every service
/// or node event, on a container event of a swarm task (the manager's own), after a
/// reconnect — and, while what `refresh` loaded is still on its way (it says so through
/// its argument), again after [`SETTLE`], up to [`SETTLE_ROUNDS`] times per change. This is
/// no polling timer: with nothing changing, nothing is fetched.
pub fn use_swarm_feed(refresh: impl Fn(Loaded) + 'static) -> ReadSignal<LiveState> {
    let feed = Rc::new(Feed {
        refresh: Box::new(refresh),
        rounds: Cell::new(SETTLE_ROUNDS),
        pending: Cell::new(false),
        alive: Cell::new(true),
    });
    feed.load();
    let on_event = Rc::clone(&feed);
    let state = use_daemon_events(&["service", "node", "container"], wants, move || {
        on_event.rounds.set(SETTLE_ROUNDS);
        on_event.load();
    });
    // The browser runs everything on one thread, so the `SendWrapper` never has to move.
    let feed = SendWrapper::new(feed);
    on_cleanup(move || feed.alive.set(false));
    state
}

/// Events that may change what a Swarm page shows: any service or node event, and the
/// container events of swarm tasks (their containers carry `com.docker.swarm.task.id`).
fn wants(event: &DaemonEvent) -> bool {
    match event.kind.as_str() {
        "container" => {
            event.attributes.contains_key("com.docker.swarm.task.id")
                && !crate::components::live::is_noise(event)
        }
        _ => true,
    }
}

/// The CSS class of a task state: running, starting (on its way), failed, stopped.
pub fn state_class(state: &str) -> &'static str {
    match state {
        "running" => "task-running",
        "failed" | "rejected" | "orphaned" => "task-failed",
        "complete" | "shutdown" | "remove" => "task-stopped",
        _ => "task-starting",
    }
}

/// Sets what a refresh loaded, unless it is what the page shows already: a refresh (after
/// any swarm event) then redraws nothing that did not change. Does nothing once the page
/// is gone.
pub fn set_if_changed<T: PartialEq + Send + Sync + 'static>(signal: RwSignal<Option<T>>, value: T) {
    if signal.try_with_untracked(|old| old.as_ref() != Some(&value)) == Some(true) {
        signal.set(Some(value));
    }
}

/// `a=1, b=2` → labels (the networks page's reading).
pub use crate::pages::networks::pairs;
