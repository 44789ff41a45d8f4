//! Start/stop/... buttons for one container, offered by its state.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError, Method};
use crate::components::confirm::{question, ConfirmPrompt, What};
use crate::i18n::{t, tr, use_i18n, Key};

/// Something a user can do to a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerAction {
    Start,
    Stop,
    Restart,
    Pause,
    Unpause,
    Kill,
    Remove,
}

impl ContainerAction {
    /// The route segment and the `data-testid` suffix (`action-start`, ...).
    pub fn slug(self) -> &'static str {
        match self {
            ContainerAction::Start => "start",
            ContainerAction::Stop => "stop",
            ContainerAction::Restart => "restart",
            ContainerAction::Pause => "pause",
            ContainerAction::Unpause => "unpause",
            ContainerAction::Kill => "kill",
            ContainerAction::Remove => "remove",
        }
    }

    fn label(self) -> Key {
        match self {
            ContainerAction::Start => Key::ActionStart,
            ContainerAction::Stop => Key::ActionStop,
            ContainerAction::Restart => Key::ActionRestart,
            ContainerAction::Pause => Key::ActionPause,
            ContainerAction::Unpause => Key::ActionUnpause,
            ContainerAction::Kill => Key::ActionKill,
            ContainerAction::Remove => Key::ActionRemove,
        }
    }

    /// What makes sense in a state, in the order the buttons appear; the daemon would
    /// refuse the rest (e.g. pausing a stopped container).
    pub fn for_state(state: &str) -> &'static [ContainerAction] {
        use ContainerAction::*;
        match state {
            "running" => &[Stop, Restart, Pause, Kill, Remove],
            "paused" => &[Unpause, Kill, Remove],
            "restarting" => &[Stop, Kill, Remove],
            "created" | "exited" => &[Start, Restart, Remove],
            "dead" => &[Remove],
            // `removing`, or a state we do not know: nothing to offer.
            _ => &[],
        }
    }

    /// Sends the action to the server; `Ok` once the daemon has done it (204).
    pub async fn run(self, id: &str) -> Result<(), ApiError> {
        let id = api::enc(id);
        match self {
            ContainerAction::Remove => {
                api::call_unit(Method::Delete, &format!("/api/containers/{id}?force=true")).await
            }
            _ => {
                api::call_unit(
                    Method::Post,
                    &format!("/api/containers/{id}/{}", self.slug()),
                )
                .await
            }
        }
    }
}

/// The buttons for container `id` in `state`. While an action runs its button spins and
/// all are disabled; `on_done` gets the outcome. Remove and Kill ask first with the shared
/// [`ConfirmPrompt`], naming the container (`name`, else the short id).
#[component]
pub fn ActionButtons(
    #[prop(into)] id: Signal<String>,
    #[prop(into)] state: Signal<String>,
    #[prop(into)] on_done: Callback<(ContainerAction, Result<(), ApiError>)>,
    /// Where the running action is kept; pass one that outlives re-renders of this view.
    #[prop(optional)]
    busy: Option<RwSignal<Option<ContainerAction>>>,
    /// The name the confirmation shows; the short id when not given.
    #[prop(into, optional)]
    name: Option<Signal<String>>,
) -> impl IntoView {
    let busy = busy.unwrap_or_else(|| RwSignal::new(None));
    let lang = use_i18n().lang;
    // The destructive action waiting for its confirmation.
    let confirming = RwSignal::new(None::<ContainerAction>);
    let open = RwSignal::new(false);

    let run = move |action: ContainerAction| {
        if busy.get_untracked().is_some() {
            return;
        }
        open.set(false);
        busy.set(Some(action));
        let id = id.get_untracked();
        spawn_local(async move {
            let result = action.run(&id).await;
            // The view may be gone by now (the container was removed): `try_` stays quiet.
            busy.try_set(None);
            on_done.try_run((action, result));
        });
    };

    let button = move |action: ContainerAction| {
        let danger = matches!(action, ContainerAction::Kill | ContainerAction::Remove);
        view! {
            <button
                type="button"
                class="btn btn-sm"
                class:btn-danger=danger
                data-testid=format!("action-{}", action.slug())
                disabled=move || busy.get().is_some()
                aria-busy=move || (busy.get() == Some(action)).to_string()
                on:click=move |_| {
                    if danger {
                        confirming.set(Some(action));
                        open.set(true);
                    } else {
                        run(action);
                    }
                }
            >
                {move || {
                    (busy.get() == Some(action))
                        .then(|| view! { <span class="spinner spinner-sm" aria-hidden="true"></span> })
                }}
                {tr(action.label())}
            </button>
        }
    };

    view! {
        <div class="actions">
            {move || ContainerAction::for_state(&state.get()).iter().map(|a| button(*a)).collect_view()}
            <ConfirmPrompt
                open
                question=Signal::derive(move || {
                    let shown = match name {
                        Some(n) if !n.get().is_empty() => n.get().trim_start_matches('/').to_string(),
                        _ => id.get().chars().take(12).collect(),
                    };
                    let what = match confirming.get() {
                        Some(ContainerAction::Kill) => What::KillContainer,
                        _ => What::Container,
                    };
                    question(lang.get(), what, &shown)
                })
                confirm_label=Signal::derive(move || {
                    let key = match confirming.get() {
                        Some(ContainerAction::Kill) => Key::ActionKill,
                        _ => Key::ActionRemove,
                    };
                    t(lang.get(), key).to_string()
                })
                on_confirm=Callback::new(move |()| {
                    if let Some(a) = confirming.get_untracked() {
                        run(a);
                    }
                })
            />
        </div>
    }
}
