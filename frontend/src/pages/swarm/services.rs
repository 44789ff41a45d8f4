//! `/swarm/services`: the services (image, mode, replicas running of wanted), and
//! `/swarm/services/:id`: one service's tasks (node, state, error), scale, a new image,
//! rollback, remove, and every task's logs followed live. Both refresh on swarm events.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use wire::{ScaleService, ServiceSummary, TaskSummary, UpdateService};

use super::{in_flight, state_class, SwarmError, SwarmTabs};
use crate::api::{self, ApiError, Method};
use crate::components::confirm::ConfirmButton;
use crate::components::live::LiveIndicator;
use crate::components::logs_view::LogsView;
use crate::components::status::Loading;
use crate::format;
use crate::i18n::swarm::{question, running_of, tr, Ask, Key};
use crate::i18n::{error_text, use_i18n};

/// Whether a service is short of (or over) what it wants, or in a rolling update.
fn moving(s: &ServiceSummary) -> bool {
    s.running != s.desired
        || s.update_state
            .as_deref()
            .is_some_and(|u| u == "updating" || u == "rollback_started")
}

fn ports(s: &ServiceSummary) -> String {
    s.ports
        .iter()
        .map(|p| match p.published {
            Some(h) => format!("{h}→{}", p.target),
            None => p.target.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[component]
pub fn Services() -> impl IntoView {
    let list = RwSignal::new(None::<Result<Vec<ServiceSummary>, ApiError>>);
    let load = move || async move {
        let got = api::get::<Vec<ServiceSummary>>("/api/services").await;
        let busy = got.as_ref().is_ok_and(|l| l.iter().any(moving));
        super::set_if_changed(list, got);
        busy
    };
    let live = super::use_swarm_feed(move |done| spawn_local(async move { done(load().await) }));
    let retry = Callback::new(move |_| {
        spawn_local(async move {
            load().await;
        })
    });
    let new_open = RwSignal::new(false);
    view! {
        <section class="page swarm-page" data-testid="services-page">
            <div class="page-head">
                <h1>{tr(Key::Services)}</h1>
                <LiveIndicator state=live />
                <button class="btn btn-primary" type="button" data-testid="new-service"
                    on:click=move |_| new_open.update(|o| *o = !*o)>{tr(Key::NewService)}</button>
            </div>
            <SwarmTabs />
            <super::new_service::NewService open=new_open />
            {move || match list.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(err)) => view! { <SwarmError err retry /> }.into_any(),
                Some(Ok(rows)) if rows.is_empty() => view! { <p class="muted" data-testid="no-services">{tr(Key::NoServices)}</p> }.into_any(),
                Some(Ok(rows)) => view! {
                    <div class="table-wrap">
                        <table class="table" data-testid="services-table">
                            <thead><tr>
                                <th>{tr(Key::Name)}</th><th>{tr(Key::Image)}</th><th>{tr(Key::Mode)}</th>
                                <th>{tr(Key::Replicas)}</th><th>{tr(Key::Ports)}</th><th>{tr(Key::UpdateStatus)}</th>
                            </tr></thead>
                            <tbody>
                                {rows.into_iter().map(|s| {
                                    let href = format!("/swarm/services/{}", api::enc(&s.name));
                                    let ok = s.running == s.desired;
                                    let (row_name, link_name) = (s.name.clone(), s.name.clone());
                                    view! {
                                        <tr data-testid="service-row" data-name=row_name>
                                            <td><A href=href attr:data-testid="service-link">{link_name}</A></td>
                                            <td class="mono">{s.image.clone()}</td>
                                            <td>{s.mode.clone()}</td>
                                            <td>
                                                <span class="badge" class:state-running=ok class:state-restarting=!ok data-testid="service-replicas">
                                                    {running_of(s.running, s.desired)}
                                                </span>
                                            </td>
                                            <td class="mono">{ports(&s)}</td>
                                            <td>{s.update_state.clone().unwrap_or_default()}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
pub fn ServicePage() -> impl IntoView {
    let i18n = use_i18n();
    let navigate = use_navigate();
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let service = RwSignal::new(None::<Result<ServiceSummary, ApiError>>);
    let tasks = RwSignal::new(Vec::<TaskSummary>::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let replicas = RwSignal::new(String::new());
    let image = RwSignal::new(String::new());
    let show_stopped = RwSignal::new(false);

    let load = move || async move {
        let wanted = id.get_untracked();
        // The list row, for the running/desired counts (a service's inspect has none).
        let row = api::get::<Vec<ServiceSummary>>("/api/services")
            .await
            .and_then(|l| {
                l.into_iter()
                    .find(|s| s.id == wanted || s.name == wanted)
                    .ok_or_else(|| ApiError {
                        status: 404,
                        code: "not_found".into(),
                        message: format!("service {wanted:?} not found"),
                    })
            });
        let mut busy = false;
        if let Ok(s) = &row {
            let url = format!("/api/services/{}/tasks", api::enc(&s.id));
            if let Ok(t) = api::get::<Vec<TaskSummary>>(&url).await {
                busy = t.iter().any(in_flight);
                if tasks.try_with_untracked(|old| *old != t) == Some(true) {
                    tasks.set(t);
                }
            }
            busy |= moving(s);
            // The forms start from what the service has, until the user types.
            if replicas.get_untracked().is_empty() {
                replicas.set(s.replicas.map(|r| r.to_string()).unwrap_or_default());
            }
            if image.get_untracked().is_empty() {
                image.set(s.image.clone());
            }
        }
        super::set_if_changed(service, row);
        busy
    };
    let live = super::use_swarm_feed(move |done| spawn_local(async move { done(load().await) }));
    let retry = Callback::new(move |_| {
        spawn_local(async move {
            load().await;
        })
    });
    // An action on the service, then a fresh look (the events bring the tasks' steps).
    let act = move |path: &'static str, body: Option<serde_json::Value>| {
        let sid = id.get_untracked();
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let url = format!("/api/services/{}{path}", api::enc(&sid));
            let res = api::call::<_, serde_json::Value>(Method::Post, &url, body.as_ref()).await;
            busy.set(false);
            error.set(res.err());
            load().await;
        });
    };
    let scale = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match replicas.get_untracked().trim().parse::<u64>() {
            Ok(n) => act(
                "/scale",
                serde_json::to_value(ScaleService { replicas: n }).ok(),
            ),
            Err(_) => error.set(Some(ApiError {
                status: 400,
                code: "invalid_replicas".into(),
                message: "replicas: a whole number, 0 or more".into(),
            })),
        }
    };
    let update = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = UpdateService {
            image: Some(image.get_untracked().trim().to_owned()),
            ..Default::default()
        };
        act("/update", serde_json::to_value(body).ok());
    };
    let remove = Callback::new(move |()| {
        let sid = id.get_untracked();
        let navigate = navigate.clone();
        spawn_local(async move {
            let url = format!("/api/services/{}", api::enc(&sid));
            match api::call_unit(Method::Delete, &url).await {
                Ok(()) => navigate("/swarm/services", Default::default()),
                Err(e) => error.set(Some(e)),
            }
        });
    });
    // What does not change while the page is open: the service's id, name and mode.
    let fixed = Memo::new(move |_| {
        service.with(|s| match s {
            Some(Ok(s)) => Some((s.id.clone(), s.name.clone(), s.mode == "replicated")),
            _ => None,
        })
    });
    let shown = move || {
        let all = show_stopped.get();
        tasks.with(|t| {
            t.iter()
                .filter(|t| all || t.desired_state == "running")
                .cloned()
                .collect::<Vec<_>>()
        })
    };

    view! {
        <section class="page swarm-page" data-testid="service-page">
            <div class="page-head">
                <h1 data-testid="service-name">{move || id.get()}</h1>
                <LiveIndicator state=live />
            </div>
            <SwarmTabs />
            {move || error.get().map(|e| view! {
                <div class="banner banner-error" role="alert" data-testid="service-error">{error_text(i18n.lang.get(), &e)}</div>
            })}
            {move || match service.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(err)) if err.status == 404 => view! {
                    <div class="panel state-panel" data-testid="not-found">
                        <p>{tr(Key::ServiceNotFound)}</p>
                        <A href="/swarm/services" attr:class="btn">{tr(Key::BackToServices)}</A>
                    </div>
                }.into_any(),
                Some(Err(err)) => view! { <SwarmError err retry /> }.into_any(),
                Some(Ok(s)) => view! {
                    <div class="cards">
                        <div class="card stat stat-wide"><div class="stat-label">{tr(Key::Image)}</div>
                            <div class="stat-value stat-text mono" data-testid="service-image-now">{s.image.clone()}</div></div>
                        <div class="card stat"><div class="stat-label">{tr(Key::Mode)}</div>
                            <div class="stat-value stat-text">{s.mode.clone()}</div></div>
                        <div class="card stat"><div class="stat-label">{tr(Key::Running)}</div>
                            <div class="stat-value" data-testid="service-running">{running_of(s.running, s.desired)}</div></div>
                        <div class="card stat"><div class="stat-label">{tr(Key::UpdateStatus)}</div>
                            <div class="stat-value stat-text" title=s.update_message.clone().unwrap_or_default()>
                                {s.update_state.clone().unwrap_or_else(|| "—".into())}
                            </div></div>
                    </div>
                }.into_any(),
            }}
            // Drawn once per service, not on every refresh: a confirmation being asked
            // stays open while the tasks move.
            {move || fixed.get().map(|(_, name, replicated)| {
                let lang = i18n.lang;
                view! {
                    <div class="toolbar service-actions">
                        {replicated.then(|| view! {
                            <form class="inline-form" on:submit=scale>
                                <label class="field-inline">
                                    <span>{tr(Key::Replicas)}</span>
                                    <input class="input input-sm num-input" type="number" min="0"
                                        data-testid="service-replicas-input" bind:value=replicas />
                                </label>
                                <button class="btn btn-sm btn-primary" type="submit" data-testid="service-scale"
                                    disabled=move || busy.get()>{tr(Key::Scale)}</button>
                            </form>
                        })}
                        <form class="inline-form" on:submit=update>
                            <input class="input input-sm mono" data-testid="service-image-input"
                                aria-label=tr(Key::Image) bind:value=image />
                            <button class="btn btn-sm" type="submit" data-testid="service-update"
                                disabled=move || busy.get()>{tr(Key::UpdateImage)}</button>
                        </form>
                        <button class="btn btn-sm" type="button" data-testid="service-rollback"
                            disabled=move || busy.get() on:click=move |_| act("/rollback", None)>
                            {tr(Key::Rollback)}
                        </button>
                        <ConfirmButton
                            label=Signal::derive(move || tr(Key::Remove)().to_string())
                            question=Signal::derive(move || question(lang.get(), Ask::RemoveService, &name))
                            testid="service-remove"
                            on_confirm=remove
                        />
                    </div>
                }
            })}
            <Show when=move || fixed.with(Option::is_some)>
                <div class="section-head">
                    <h2 class="section-title">{tr(Key::Tasks)}</h2>
                    <label class="check">
                        <input type="checkbox" data-testid="tasks-show-stopped" bind:checked=show_stopped />
                        <span>{tr(Key::ShowStopped)}</span>
                    </label>
                </div>
                <div class="table-wrap">
                    <table class="table" data-testid="tasks-table">
                        <thead><tr>
                            <th>{tr(Key::Name)}</th><th>{tr(Key::Node)}</th><th>{tr(Key::State)}</th>
                            <th>{tr(Key::Desired)}</th><th>{tr(Key::Error)}</th><th>{tr(Key::Updated)}</th>
                        </tr></thead>
                        <tbody>
                            <For each=shown key=|t| format!("{t:?}") let:t>
                                <tr data-testid="task-row" data-state=t.state.clone() data-desired=t.desired_state.clone() data-image=t.image.clone()>
                                    <td class="mono">{t.name.clone()}</td>
                                    <td>{t.node.clone().unwrap_or_else(|| "—".into())}</td>
                                    <td><span class=format!("badge {}", state_class(&t.state)) data-testid="task-state">{t.state.clone()}</span></td>
                                    <td>{t.desired_state.clone()}</td>
                                    {match (t.error.clone(), t.message.clone()) {
                                        (Some(e), _) => view! { <td class="task-error" data-testid="task-error">{e}</td> }.into_any(),
                                        (None, m) => view! { <td class="task-message">{m.unwrap_or_default()}</td> }.into_any(),
                                    }}
                                    <td>{t.updated.as_deref().map(|u| format::local_time(u, i18n.lang.get_untracked().code())).unwrap_or_default()}</td>
                                </tr>
                            </For>
                        </tbody>
                    </table>
                    {move || tasks.with(|t| t.is_empty()).then(|| view! { <p class="muted">{tr(Key::NoTasks)}</p> })}
                </div>
                <h2 class="section-title">{tr(Key::Logs)}</h2>
                {move || fixed.get().map(|(sid, ..)| view! { <LogsView id=sid service=true /> })}
            </Show>
        </section>
    }
}
