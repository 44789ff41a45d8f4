//! Start/stop/... buttons for one container, offered by its state.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError, Method};
use crate::i18n::{tr, Key};

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
/// all are disabled; `on_done` gets the outcome. Remove asks for an in-page confirmation
/// (`confirm-remove` / `cancel-remove`) rather than `window.confirm`, which would block the
/// page and cannot be styled or translated.
#[component]
pub fn ActionButtons(
    #[prop(into)] id: Signal<String>,
    #[prop(into)] state: Signal<String>,
    #[prop(into)] on_done: Callback<(ContainerAction, Result<(), ApiError>)>,
    /// Where the running action is kept; pass one that outlives re-renders of this view.
    #[prop(optional)]
    busy: Option<RwSignal<Option<ContainerAction>>>,
) -> impl IntoView {
    let busy = busy.unwrap_or_else(|| RwSignal::new(None));
    let confirming = RwSignal::new(false);

    let run = move |action: ContainerAction| {
        if busy.get_untracked().is_some() {
            return;
        }
        confirming.set(false);
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
                    if action == ContainerAction::Remove {
                        confirming.set(true);
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
            <Show when=move || confirming.get()>
                <span class="confirm" role="alertdialog">
                    <span>{tr(Key::ConfirmRemove)}</span>
                    <button
                        type="button"
                        class="btn btn-sm btn-danger"
                        data-testid="confirm-remove"
                        on:click=move |_| run(ContainerAction::Remove)
                    >
                        {tr(Key::ActionRemove)}
                    </button>
                    <button
                        type="button"
                        class="btn btn-sm btn-ghost"
                        data-testid="cancel-remove"
                        on:click=move |_| confirming.set(false)
                    >
                        {tr(Key::Cancel)}
                    </button>
                </span>
            </Show>
        </div>
    }
}
