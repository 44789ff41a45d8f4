//! `/swarm/secrets`: the swarm's secrets and configs (name, created, updated, team,
//! labels; a value is never shown, it goes in once), made from a typed value or a file read
//! in the browser, removed after a confirmation. An error shows next to its form or row.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use wire::{CreateSwarmFile, SwarmFileSummary};

use super::{pairs, SwarmError, SwarmTabs};
use crate::api::{self, ApiError, Method};
use crate::components::confirm::ConfirmButton;
use crate::components::status::Loading;
use crate::format;
use crate::i18n::swarm::{question, tr, Ask, Key};
use crate::i18n::{error_text, use_i18n};

/// Secrets or configs: the API path and the test ids of one section.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Secret,
    Config,
}

impl Kind {
    fn url(self) -> &'static str {
        match self {
            Kind::Secret => "/api/secrets",
            Kind::Config => "/api/configs",
        }
    }

    /// The prefix of the section's test ids (`secret-name`, `config-row`, ...).
    fn id(self, what: &str) -> String {
        match self {
            Kind::Secret => format!("secret-{what}"),
            Kind::Config => format!("config-{what}"),
        }
    }
}

#[component]
pub fn SwarmFiles() -> impl IntoView {
    view! {
        <section class="page swarm-page" data-testid="swarm-files-page">
            <div class="page-head"><h1>{tr(Key::SecretsConfigs)}</h1></div>
            <SwarmTabs />
            <p class="muted" data-testid="rotation-hint">{tr(Key::RotationHint)}</p>
            <FileSection kind=Kind::Secret />
            <FileSection kind=Kind::Config />
        </section>
    }
}

#[component]
fn FileSection(kind: Kind) -> impl IntoView {
    let i18n = use_i18n();
    let list = RwSignal::new(None::<Result<Vec<SwarmFileSummary>, ApiError>>);
    let load = move || async move {
        let got = api::get::<Vec<SwarmFileSummary>>(kind.url()).await;
        super::set_if_changed(list, got);
    };
    spawn_local(load());
    let retry = Callback::new(move |_| spawn_local(load()));

    let name = RwSignal::new(String::new());
    let value = RwSignal::new(String::new());
    let labels = RwSignal::new(String::new());
    let form_error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // A file chosen in the browser is read as text into the value field (so what is sent
    // is what the field shows).
    let read_file = move |ev: leptos::ev::Event| {
        let Some(file) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|i| i.files())
            .and_then(|f| f.get(0))
        else {
            return;
        };
        spawn_local(async move {
            match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                Ok(v) => value.set(v.as_string().unwrap_or_default()),
                Err(_) => form_error.set(Some(tr(Key::FileUnreadable)().to_owned())),
            }
        });
    };
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = CreateSwarmFile {
            name: name.get_untracked().trim().to_owned(),
            data: value.get_untracked(),
            labels: pairs(&labels.get_untracked()),
            team: None,
        };
        busy.set(true);
        spawn_local(async move {
            let res =
                api::call::<_, serde_json::Value>(Method::Post, kind.url(), Some(&body)).await;
            busy.set(false);
            match res {
                Ok(_) => {
                    // The value leaves the page as soon as it is stored.
                    for f in [name, value, labels] {
                        f.set(String::new());
                    }
                    form_error.set(None);
                    load().await;
                }
                Err(e) => form_error.set(Some(error_text(i18n.lang.get_untracked(), &e))),
            }
        });
    };

    let (title, empty, ask) = match kind {
        Kind::Secret => (Key::Secrets, Key::NoSecrets, Ask::RemoveSecret),
        Kind::Config => (Key::Configs, Key::NoConfigs, Ask::RemoveConfig),
    };
    view! {
        <div class="panel swarm-files" data-testid=kind.id("section")>
            <h2 class="section-title">{tr(title)}</h2>
            <form class="swarm-file-form" on:submit=create>
                <input class="input" data-testid=kind.id("name") placeholder=tr(Key::Name) aria-label=tr(Key::Name) required bind:value=name />
                <input class="input" data-testid=kind.id("labels") placeholder=tr(Key::LabelsHint) aria-label=tr(Key::Labels) bind:value=labels />
                <textarea class="input mono" rows="3" data-testid=kind.id("value") placeholder=tr(Key::Value) aria-label=tr(Key::Value)
                    prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))></textarea>
                <label class="field-inline small">
                    <span>{tr(Key::FromFile)}</span>
                    <input type="file" data-testid=kind.id("file") on:change=read_file />
                </label>
                <button class="btn btn-primary" type="submit" data-testid=kind.id("create") disabled=move || busy.get()>
                    {tr(Key::Create)}
                </button>
            </form>
            {move || form_error.get().map(|e| view! {
                <div class="banner banner-error" role="alert" data-testid=kind.id("form-error")>{e}</div>
            })}
            {move || match list.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(err)) => view! { <SwarmError err retry /> }.into_any(),
                Some(Ok(rows)) if rows.is_empty() => view! { <p class="muted" data-testid=kind.id("none")>{tr(empty)}</p> }.into_any(),
                Some(Ok(rows)) => view! {
                    <div class="table-wrap">
                        <table class="table" data-testid=kind.id("table")>
                            <thead><tr>
                                <th>{tr(Key::Name)}</th><th>{tr(Key::Created)}</th><th>{tr(Key::Updated)}</th>
                                <th>{tr(Key::Team)}</th><th>{tr(Key::Labels)}</th><th>{tr(Key::Actions)}</th>
                            </tr></thead>
                            <tbody>
                                {rows.into_iter().map(|f| view! { <FileRow kind f ask reload=retry /> }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any(),
            }}
        </div>
    }
}

#[component]
fn FileRow(kind: Kind, f: SwarmFileSummary, ask: Ask, reload: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let lang = i18n.lang;
    let error = RwSignal::new(None::<String>);
    let when = move |t: &Option<String>| {
        t.as_deref()
            .map(|t| format::local_time(t, lang.get_untracked().code()))
            .unwrap_or_default()
    };
    let (created, updated) = (when(&f.created), when(&f.updated));
    let labels: Vec<String> = f
        .labels
        .iter()
        .filter(|(k, _)| !k.starts_with("berth."))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let (id, name) = (f.id.clone(), f.name.clone());
    let remove = Callback::new(move |()| {
        let url = format!("{}/{}", kind.url(), api::enc(&id));
        spawn_local(async move {
            match api::call_unit(Method::Delete, &url).await {
                Ok(()) => {
                    error.set(None);
                    reload.run(());
                }
                Err(e) => error.set(Some(error_text(lang.get_untracked(), &e))),
            }
        });
    });
    let asked = name.clone();
    view! {
        <tr data-testid=kind.id("row") data-name=name.clone()>
            <td class="mono">{name.clone()}</td>
            <td>{created}</td>
            <td>{updated}</td>
            <td>{f.team.clone().unwrap_or_else(|| "—".into())}</td>
            <td><span class="chips">{labels.into_iter().map(|l| view! { <span class="badge label-chip">{l}</span> }).collect_view()}</span></td>
            <td class="col-actions">
                <ConfirmButton
                    label=Signal::derive(move || tr(Key::Remove)().to_string())
                    question=Signal::derive(move || question(lang.get(), ask, &asked))
                    testid=kind.id("remove")
                    on_confirm=remove
                />
                {move || error.get().map(|e| view! { <p class="form-error row-error" role="alert" data-testid=kind.id("row-error")>{e}</p> })}
            </td>
        </tr>
    }
}
