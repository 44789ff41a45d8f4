//! Running pulls (several at once) and loads: a card each, with a progress bar per layer.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wire::{ProgressLine, RegistryInfo};

use crate::i18n::error_text;
use crate::i18n::images::{tr, Key};
use crate::i18n::use_i18n;
use crate::stream::{self, Layer, Payload};

#[derive(Debug, Clone, PartialEq)]
pub enum TaskState {
    Running,
    /// What it produced (an image id, loaded names).
    Done(String),
    Failed(String),
}

/// One long operation as the page shows it, folded from its progress lines.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamTask {
    pub key: u32,
    /// Bumped on every change, so a keyed list re-renders the card.
    pub version: u32,
    pub title: String,
    pub layers: Vec<Layer>,
    /// Lines without a layer ("Digest: ...", "Loaded image: ...").
    pub notes: Vec<String>,
    pub state: TaskState,
}

impl StreamTask {
    pub fn new(key: u32, title: String) -> Self {
        StreamTask {
            key,
            version: 0,
            title,
            layers: Vec::new(),
            notes: Vec::new(),
            state: TaskState::Running,
        }
    }

    pub fn fold(&mut self, lines: &[ProgressLine]) {
        self.version += 1;
        for line in lines {
            if let Some(err) = &line.error {
                self.state = TaskState::Failed(err.message.clone());
            } else if let Some(done) = &line.done {
                let what = done
                    .id
                    .clone()
                    .or_else(|| done.image.clone())
                    .unwrap_or_else(|| done.loaded.join(", "));
                self.state = TaskState::Done(what);
            } else if line.id.is_some() {
                stream::apply(&mut self.layers, line);
            } else if let Some(text) = line.status.as_deref().or(line.stream.as_deref()) {
                let text = text.trim();
                if !text.is_empty() {
                    self.notes.push(text.to_string());
                    if self.notes.len() > 6 {
                        self.notes.remove(0);
                    }
                }
            }
        }
    }

    pub fn fail(&mut self, message: String) {
        self.version += 1;
        self.state = TaskState::Failed(message);
    }
}

/// The pull form and every pull started from it.
#[component]
pub fn PullPanel(
    pulls: RwSignal<Vec<StreamTask>>,
    #[prop(into)] registries: Signal<Vec<RegistryInfo>>,
    on_done: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let image = RwSignal::new(String::new());
    let registry = RwSignal::new(String::new());
    let next_key = StoredValue::new(0u32);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = image.get_untracked().trim().to_string();
        if name.is_empty() {
            return;
        }
        let key = next_key.get_value() + 1;
        next_key.set_value(key);
        pulls.update(|p| p.insert(0, StreamTask::new(key, name.clone())));
        image.set(String::new());
        let body = wire::PullRequest {
            image: name,
            registry: registry.get_untracked().parse().ok(),
        };
        let json = serde_json::to_string(&body).unwrap_or_default();
        spawn_local(async move {
            let update = move |f: &dyn Fn(&mut StreamTask)| {
                pulls.update(|p| {
                    if let Some(t) = p.iter_mut().find(|t| t.key == key) {
                        f(t);
                    }
                })
            };
            let res = stream::post_lines("/api/images/pull", Payload::Json(json), move |lines| {
                update(&|t: &mut StreamTask| t.fold(&lines));
            })
            .await;
            if let Err(e) = res {
                let message = error_text(i18n.lang.get_untracked(), &e);
                update(&|t: &mut StreamTask| t.fail(message.clone()));
            }
            on_done.run(());
        });
    };
    view! {
        <form class="panel form-row" data-testid="pull-form" on:submit=submit>
            <h2>{tr(Key::PullTitle)}</h2>
            <label class="field grow">
                <span>{tr(Key::ImageRef)}</span>
                <input
                    class="input"
                    data-testid="pull-image"
                    placeholder=tr(Key::ImageRefHint)
                    bind:value=image
                />
            </label>
            <label class="field">
                <span>{tr(Key::Registry)}</span>
                <select class="input" data-testid="pull-registry" bind:value=registry>
                    <option value="">{tr(Key::NoRegistry)}</option>
                    {move || {
                        registries
                            .get()
                            .into_iter()
                            .map(|r| view! { <option value=r.id.to_string()>{r.name}</option> })
                            .collect_view()
                    }}
                </select>
            </label>
            <button type="submit" class="btn btn-primary" data-testid="pull-submit">
                {tr(Key::StartPull)}
            </button>
        </form>
        <For each=move || pulls.get() key=|t| (t.key, t.version) let:task>
            <TaskCard task />
        </For>
    }
}

/// A running or finished pull/load: state, per-layer bars, last notes, the error.
#[component]
pub fn TaskCard(task: StreamTask) -> impl IntoView {
    let (state, outcome) = match &task.state {
        TaskState::Running => ("running", None),
        TaskState::Done(what) => ("done", Some(what.clone())),
        TaskState::Failed(why) => ("failed", Some(why.clone())),
    };
    let state_key = match state {
        "running" => Key::Running,
        "done" => Key::Done,
        _ => Key::Failed,
    };
    view! {
        <div class="panel task" data-testid="task" data-state=state data-title=task.title.clone()>
            <div class="task-head">
                <strong class="mono">{task.title.clone()}</strong>
                <span class=format!("badge task-{state}") data-testid="task-state">
                    {tr(state_key)}
                </span>
            </div>
            <ul class="layers">
                {task
                    .layers
                    .iter()
                    .map(|l| {
                        let pct = l.percent();
                        view! {
                            <li class="layer" data-testid="layer" data-layer=l.id.clone()>
                                <span class="mono layer-id">{l.id.clone()}</span>
                                <progress
                                    data-testid="layer-progress"
                                    max="100"
                                    value=pct.map(|p| format!("{p:.0}")).unwrap_or_default()
                                ></progress>
                                <span class="muted layer-status" data-testid="layer-status">
                                    {l.status.clone()}
                                </span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            {task
                .notes
                .iter()
                .map(|n| view! { <div class="muted mono small">{n.clone()}</div> })
                .collect_view()}
            {match (state, outcome) {
                ("failed", Some(why)) => {
                    view! { <p class="form-error" data-testid="task-error" role="alert">{why}</p> }
                        .into_any()
                }
                ("done", Some(what)) => {
                    view! { <p class="mono small break" data-testid="task-result">{what}</p> }.into_any()
                }
                _ => ().into_any(),
            }}
        </div>
    }
}
