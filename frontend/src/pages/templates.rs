//! `/templates`: the app-template catalogue (search, source filter), a form per template
//! asking for its variables (defaults filled, selects offered, required ones marked) that
//! deploys it with its progress and links to what it made; admins add sources by URL or
//! file and remove them.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use wire::{
    AddTemplateSource, DeployTemplate, DeployedContainer, StackProgress, TemplateInfo,
    TemplateSource,
};

use crate::api::{self, ApiError, Method};
use crate::app::use_session;
use crate::components::confirm::{self, ConfirmButton, What};
use crate::components::status::{ErrorPanel, Loading};
use crate::i18n::templates::{tr, Key};
use crate::i18n::{error_text, use_i18n};
use crate::pages::stacks::{follow_progress, ProgressLog};

#[component]
pub fn Templates() -> impl IntoView {
    let session = use_session();
    let is_admin = move || {
        session
            .me
            .with(|m| m.as_ref().is_some_and(|m| m.role == wire::Role::Admin))
    };
    let list = LocalResource::new(|| api::get::<Vec<TemplateInfo>>("/api/templates"));
    let sources = LocalResource::new(|| api::get::<Vec<TemplateSource>>("/api/templates/sources"));
    let retry = Callback::new(move |_| list.refetch());
    let search = RwSignal::new(String::new());
    let source = RwSignal::new(String::new());
    let open = RwSignal::new(None::<TemplateInfo>);
    let reload = move || {
        list.refetch();
        sources.refetch();
    };

    view! {
        <section class="page" data-testid="templates-page">
            <div class="page-head"><h1>{tr(Key::Templates)}</h1></div>
            <div class="inline-form">
                <input class="input" type="search" data-testid="template-search" placeholder=tr(Key::Search) bind:value=search />
                <select class="input" data-testid="template-source" bind:value=source>
                    <option value="">{tr(Key::AllSources)}</option>
                    <option value="builtin">"berth"</option>
                    {move || sources.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|s| {
                        view! { <option value=s.id.clone()>{s.name.clone()}</option> }
                    }).collect_view()}
                </select>
            </div>
            {move || open.get().map(|t| view! { <DeployForm template=t on_close=Callback::new(move |_| open.set(None)) /> })}
            {move || match list.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(err)) => view! { <ErrorPanel err retry /> }.into_any(),
                Some(Ok(all)) => {
                    let q = search.get().to_lowercase();
                    let src = source.get();
                    let shown: Vec<TemplateInfo> = all.into_iter().filter(|t| {
                        (src.is_empty() || t.source == src)
                            && (q.is_empty()
                                || t.title.to_lowercase().contains(&q)
                                || t.description.to_lowercase().contains(&q)
                                || t.categories.iter().any(|c| c.to_lowercase().contains(&q)))
                    }).collect();
                    if shown.is_empty() {
                        view! { <p>{tr(Key::NoTemplates)}</p> }.into_any()
                    } else {
                        view! {
                            <div class="card-grid">
                                {shown.into_iter().map(|t| {
                                    let pick = t.clone();
                                    let kind = if t.kind == "stack" { tr(Key::Stack) } else { tr(Key::Container) };
                                    view! {
                                        <div class="card" data-testid="template-card" data-id=t.id.clone()>
                                            <h3>{t.title.clone()}</h3>
                                            <p class="muted small">{kind} " · " {t.source_name.clone()}</p>
                                            <p>{t.description.clone()}</p>
                                            {t.unavailable.clone().map(|u| view! { <p class="muted small">{tr(Key::Unavailable)} " " {u}</p> })}
                                            <button class="btn btn-primary btn-sm" data-testid="template-open"
                                                on:click=move |_| open.set(Some(pick.clone()))>{tr(Key::Deploy)}</button>
                                        </div>
                                    }
                                }).collect_view()}
                            </div>
                        }.into_any()
                    }
                }
            }}
            <Show when=is_admin>
                <SourcesPanel sources on_change=Callback::new(move |_| reload()) />
            </Show>
        </section>
    }
}

/// What a deploy made, for the result's link.
#[derive(Clone)]
enum Made {
    Container(String),
    Stack(String),
}

#[component]
fn DeployForm(template: TemplateInfo, on_close: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let name = RwSignal::new(String::new());
    let values: Vec<(wire::TemplateVariable, RwSignal<String>)> = template
        .variables
        .iter()
        .map(|v| {
            (
                v.clone(),
                RwSignal::new(v.default.clone().unwrap_or_default()),
            )
        })
        .collect();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let made = RwSignal::new(None::<Made>);
    let progress = RwSignal::new(Vec::<StackProgress>::new());
    let id = template.id.clone();
    let is_stack = template.kind == "stack";
    let signals = values.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let n = name.get_untracked().trim().to_owned();
        let variables: BTreeMap<String, String> = signals
            .iter()
            .map(|(v, s)| (v.name.clone(), s.get_untracked()))
            .collect();
        let body = DeployTemplate {
            name: n.clone(),
            variables,
            endpoint: None,
            team: None,
        };
        let url = format!("/api/templates/{}/deploy", api::enc(&id));
        busy.set(true);
        error.set(None);
        made.set(None);
        progress.set(Vec::new());
        spawn_local(async move {
            let lang = i18n.lang.get_untracked();
            if is_stack {
                match follow_progress(Method::Post, &url, Some(&body), progress).await {
                    Ok(true) => made.set(Some(Made::Stack(n))),
                    Ok(false) => {}
                    Err(e) => error.set(Some(error_text(lang, &e))),
                }
            } else {
                let res: Result<DeployedContainer, ApiError> =
                    api::call(Method::Post, &url, Some(&body)).await;
                match res {
                    Ok(c) => made.set(Some(Made::Container(c.id))),
                    Err(e) => error.set(Some(error_text(lang, &e))),
                }
            }
            busy.set(false);
        });
    };
    view! {
        <div class="panel" data-testid="template-form" data-id=template.id.clone()>
            <div class="page-head">
                <h2>{template.title.clone()}</h2>
                <button class="btn btn-sm" on:click=move |_| on_close.run(())>{tr(Key::Close)}</button>
            </div>
            {(!template.note.is_empty()).then(|| view! { <p class="muted">{template.note.clone()}</p> })}
            <form class="form" on:submit=submit>
                <label class="field"><span>{tr(Key::Name)} " *"</span>
                    <input class="input" data-testid="template-name" required bind:value=name />
                </label>
                {values.into_iter().map(|(v, sig)| {
                    let label = format!("{}{}", v.label, if v.required { " *" } else { "" });
                    let field = v.name.clone();
                    let input = if v.select.is_empty() {
                        view! {
                            <input class="input" data-testid="template-var" data-name=field.clone()
                                required=v.required placeholder=v.default.clone().unwrap_or_default()
                                bind:value=sig />
                        }.into_any()
                    } else {
                        view! {
                            <select class="input" data-testid="template-var" data-name=field.clone() bind:value=sig>
                                {v.select.iter().map(|c| view! { <option value=c.value.clone()>{c.text.clone()}</option> }).collect_view()}
                            </select>
                        }.into_any()
                    };
                    view! {
                        <label class="field">
                            <span>{label}{v.required.then(|| view! { " " <span class="badge">{tr(Key::Required)}</span> })}</span>
                            {input}
                            {(!v.description.is_empty()).then(|| view! { <small class="muted">{v.description.clone()}</small> })}
                        </label>
                    }
                }).collect_view()}
                <button class="btn btn-primary" data-testid="template-deploy" type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { tr(Key::Deploying)() } else { tr(Key::Deploy)() }}
                </button>
            </form>
            {move || error.get().map(|e| view! { <div class="banner banner-error" role="alert" data-testid="template-error">{e}</div> })}
            <ProgressLog lines=progress />
            {move || made.get().map(|m| {
                let (href, label) = match m {
                    Made::Container(id) => (format!("/containers/{}", api::enc(&id)), tr(Key::OpenContainer)),
                    Made::Stack(n) => (format!("/stacks/{}", api::enc(&n)), tr(Key::OpenStack)),
                };
                view! {
                    <div class="banner" data-testid="template-done">
                        {tr(Key::Deployed)} " " <A href=href attr:data-testid="template-result">{label}</A>
                    </div>
                }
            })}
        </div>
    }
}

#[component]
fn SourcesPanel(
    sources: LocalResource<Result<Vec<TemplateSource>, ApiError>>,
    on_change: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let url = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let add = move |body: AddTemplateSource| {
        spawn_local(async move {
            let res: Result<TemplateSource, ApiError> =
                api::call(Method::Post, "/api/templates/sources", Some(&body)).await;
            match res {
                Ok(_) => {
                    error.set(None);
                    url.set(String::new());
                }
                Err(e) => error.set(Some(error_text(i18n.lang.get_untracked(), &e))),
            }
            on_change.run(());
        });
    };
    let add_url = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        add(AddTemplateSource {
            url: Some(url.get_untracked().trim().to_owned()),
            ..Default::default()
        });
    };
    let upload = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let Some(file) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|i| i.files())
            .and_then(|f| f.get(0))
        else {
            return;
        };
        spawn_local(async move {
            if let Ok(v) = wasm_bindgen_futures::JsFuture::from(file.text()).await {
                add(AddTemplateSource {
                    content: v.as_string(),
                    name: Some(file.name()),
                    ..Default::default()
                });
            }
        });
    };
    let remove = move |id: String| {
        spawn_local(async move {
            let res = api::call_unit(
                Method::Delete,
                &format!("/api/templates/sources/{}", api::enc(&id)),
            )
            .await;
            if let Err(e) = res {
                error.set(Some(error_text(i18n.lang.get_untracked(), &e)));
            }
            on_change.run(());
        });
    };
    view! {
        <div class="panel" data-testid="template-sources">
            <h2>{tr(Key::Sources)}</h2>
            <form class="inline-form" on:submit=add_url>
                <input class="input" type="url" data-testid="source-url" placeholder=tr(Key::AddUrl) required bind:value=url />
                <button class="btn btn-primary" data-testid="source-add" type="submit">{tr(Key::Add)}</button>
                <label class="small">{tr(Key::AddFile)} " "
                    <input type="file" data-testid="source-file" accept=".json,.yml,.yaml" on:change=upload />
                </label>
            </form>
            {move || error.get().map(|e| view! { <div class="banner banner-error" role="alert" data-testid="source-error">{e}</div> })}
            <ul class="plain-list">
                {move || sources.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|s| {
                    let id = s.id.clone();
                    let asked = s.name.clone();
                    view! {
                        <li data-testid="source-row" data-id=s.id.clone()>
                            <strong>{s.name.clone()}</strong>
                            " · " {s.format.clone()} " · " {s.templates}
                            {(!s.errors.is_empty()).then(|| format!(" · {} ", s.errors.len()))}
                            {(!s.errors.is_empty()).then(|| tr(Key::Skipped))}
                            " "
                            <ConfirmButton
                                label=Signal::derive(move || tr(Key::Remove)().to_string())
                                question=Signal::derive(move || confirm::question(i18n.lang.get(), What::TemplateSource, &asked))
                                testid="source-remove"
                                on_confirm=Callback::new(move |()| remove(id.clone()))
                            />
                        </li>
                    }
                }).collect_view()}
            </ul>
        </div>
    }
}
