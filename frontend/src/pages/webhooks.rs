//! `/webhooks`: deploy webhooks (make, rotate, revoke; the secret shown once) and the jobs
//! their calls ran, with each job's log.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wire::{CreateWebhook, Job, NewWebhook, WebhookInfo, WebhookKind};

use crate::api::{self, ApiError, Method};
use crate::components::confirm::{self, ConfirmButton, What};
use crate::components::picker::{Kind, Picker};
use crate::components::status::{ErrorPanel, Loading};
use crate::i18n::automation::{tr, Key};
use crate::i18n::{error_text, use_i18n};

#[component]
pub fn Webhooks() -> impl IntoView {
    let i18n = use_i18n();
    let list = LocalResource::new(|| api::get::<Vec<WebhookInfo>>("/api/webhooks"));
    let retry = Callback::new(move |_| list.refetch());
    let error = RwSignal::new(None::<ApiError>);
    let fresh = RwSignal::new(None::<NewWebhook>);
    let kind = RwSignal::new("stack".to_owned());
    let target = RwSignal::new(String::new());
    let github = RwSignal::new(false);
    let selected = RwSignal::new(None::<String>);

    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = CreateWebhook {
            kind: WebhookKind::parse(&kind.get_untracked()).unwrap_or(WebhookKind::Stack),
            target: target.get_untracked().trim().to_owned(),
            endpoint: None,
            github: github.get_untracked(),
            tag_variable: None,
        };
        spawn_local(async move {
            match api::call::<_, NewWebhook>(Method::Post, "/api/webhooks", Some(&body)).await {
                Ok(n) => {
                    error.set(None);
                    selected.set(Some(n.id.clone()));
                    fresh.set(Some(n));
                }
                Err(e) => error.set(Some(e)),
            }
            list.refetch();
        });
    };
    let rotate = move |id: String| {
        spawn_local(async move {
            let url = format!("/api/webhooks/{}/rotate", api::enc(&id));
            match api::call::<(), NewWebhook>(Method::Post, &url, None).await {
                Ok(n) => {
                    error.set(None);
                    fresh.set(Some(n));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let revoke = move |id: String| {
        spawn_local(async move {
            let url = format!("/api/webhooks/{}", api::enc(&id));
            match api::call_unit(Method::Delete, &url).await {
                Ok(()) => error.set(None),
                Err(e) => error.set(Some(e)),
            }
            if selected.get_untracked().as_deref() == Some(id.as_str()) {
                selected.set(None);
            }
            list.refetch();
        });
    };

    view! {
        <section class="page" data-testid="webhooks-page">
            <div class="page-head"><h1>{tr(Key::Webhooks)}</h1></div>
            <form class="inline-form" on:submit=create>
                <select class="input" data-testid="webhook-kind" bind:value=kind>
                    <option value="stack">"stack"</option>
                    <option value="container">"container"</option>
                </select>
                // The one field offers the stacks or the containers, as the kind says.
                <Picker kind=Signal::derive(move || if kind.get() == "container" { Kind::Container } else { Kind::Stack })
                    value=target testid="webhook-target" required=true
                    placeholder=Signal::derive(move || tr(Key::TargetHint)().to_owned()) />
                <label class="check"><input type="checkbox" bind:checked=github /><span>{tr(Key::GitHub)}</span></label>
                <button class="btn btn-primary" data-testid="webhook-create" type="submit">{tr(Key::Create)}</button>
            </form>
            {move || error.get().map(|e| view! { <div class="banner banner-error" role="alert">{error_text(i18n.lang.get(), &e)}</div> })}
            {move || fresh.get().map(|n| view! {
                <div class="banner" data-testid="webhook-fresh">
                    <p>{tr(Key::SecretOnce)}</p>
                    <p class="mono" data-testid="webhook-url">{n.url.clone()}</p>
                    <p class="mono" data-testid="webhook-secret">{n.secret.clone()}</p>
                </div>
            })}
            {move || match list.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(err)) => view! { <ErrorPanel err retry /> }.into_any(),
                Some(Ok(rows)) if rows.is_empty() => view! { <p>{tr(Key::NoWebhooks)}</p> }.into_any(),
                Some(Ok(rows)) => view! {
                    <div class="table-wrap">
                        <table class="table">
                            <thead><tr>
                                <th>{tr(Key::Kind)}</th><th>{tr(Key::Target)}</th><th>{tr(Key::Url)}</th>
                                <th>{tr(Key::Owner)}</th><th>{tr(Key::LastCalled)}</th><th class="col-actions"></th>
                            </tr></thead>
                            <tbody>
                                {rows.into_iter().map(|w| {
                                    let (a, b, c) = (w.id.clone(), w.id.clone(), w.id.clone());
                                    // Named by what it acts on: a webhook has no name of its own.
                                    let what = format!("{} {}", w.kind.as_str(), w.target);
                                    view! {
                                        <tr data-testid="webhook-row" data-id=w.id.clone()>
                                            <td>{w.kind.as_str()}</td>
                                            <td class="mono">{w.target.clone()}</td>
                                            <td class="mono muted">{w.url.clone()}</td>
                                            <td>{w.owner.clone()}</td>
                                            <td>{match w.last_called {
                                                Some(t) => crate::format::local_time_secs(t, i18n.lang.get_untracked().code()).into_any(),
                                                None => view! { {tr(Key::Never)} }.into_any(),
                                            }}</td>
                                            <td class="col-actions">
                                                <button class="btn btn-sm" data-testid="webhook-jobs" on:click=move |_| selected.set(Some(a.clone()))>{tr(Key::Jobs)}</button>
                                                <button class="btn btn-sm" on:click=move |_| rotate(b.clone())>{tr(Key::Rotate)}</button>
                                                <ConfirmButton
                                                    label=Signal::derive(move || tr(Key::Revoke)().to_string())
                                                    question=Signal::derive(move || confirm::question(i18n.lang.get(), What::Webhook, &what))
                                                    testid="webhook-revoke"
                                                    on_confirm=Callback::new(move |()| revoke(c.clone()))
                                                />
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any(),
            }}
            {move || selected.get().map(|id| view! { <HookJobs id /> })}
        </section>
    }
}

/// The jobs a webhook's calls ran, newest first; a click shows one's log.
#[component]
fn HookJobs(id: String) -> impl IntoView {
    let url = format!("/api/jobs?webhook={}", api::enc(&id));
    let jobs = LocalResource::new(move || {
        let url = url.clone();
        async move { api::get::<Vec<Job>>(&url).await }
    });
    let retry = Callback::new(move |_| jobs.refetch());
    let open = RwSignal::new(None::<String>);
    let lang = use_i18n().lang.get_untracked().code();
    view! {
        <div class="panel" data-testid="webhook-job-list">
            <div class="page-head">
                <h2>{tr(Key::Jobs)}</h2>
                <button class="btn btn-sm" data-testid="jobs-refresh" on:click=move |_| jobs.refetch()>{tr(Key::Refresh)}</button>
            </div>
            {move || match jobs.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(err)) => view! { <ErrorPanel err retry /> }.into_any(),
                Some(Ok(rows)) if rows.is_empty() => view! { <p>{tr(Key::NoJobs)}</p> }.into_any(),
                Some(Ok(rows)) => rows.into_iter().map(|j| {
                    let jid = j.id.clone();
                    let shown = j.id.clone();
                    let state = j.state.as_str();
                    let log = j.log.clone();
                    let error = j.error.clone().map(|e| e.message);
                    view! {
                        <div class="job" data-testid="job-row" data-state=state>
                            <button class="btn btn-sm" on:click=move |_| open.set(Some(jid.clone()))>
                                <span class=format!("badge badge-{state}")>{state}</span>
                                " " {crate::format::local_time_secs(j.created_at, lang)}
                            </button>
                            {error.map(|e| view! { <span class="muted" data-testid="job-error">{e}</span> })}
                            <Show when=move || open.get().as_deref() == Some(shown.as_str())>
                                <pre class="log" data-testid="job-log">
                                    {log.iter().map(|l| {
                                        let who = l.service.clone().map(|s| format!("[{s}] ")).unwrap_or_default();
                                        format!("{} {who}{}\n", l.step, l.message)
                                    }).collect::<String>()}
                                </pre>
                            </Show>
                        </div>
                    }
                }).collect_view().into_any(),
            }}
        </div>
    }
}
