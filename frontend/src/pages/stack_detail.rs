//! `/stacks/:name`: a stack's services and containers, its compose file in the editor
//! (save and deploy), up/down/restart/pull, and every service's logs merged, live,
//! coloured by service.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use send_wrapper::SendWrapper;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::MessageEvent;
use wire::{SaveStack, StackDetail, StackLogLine, StackProgress, TaskSummary};

use super::stacks::{use_validation_with, ProfilePreview, ProgressLog};
use super::swarm::{in_flight, set_if_changed, state_class, use_swarm_feed};
use crate::api::{self, ApiError, Method};
use crate::components::confirm::{self, ConfirmButton, What};
use crate::components::live::LiveIndicator;
use crate::components::status::{ErrorPanel, Loading, StateBadge};
use crate::components::update_mark::{Target, UpdateMark, UpdateRuns};
use crate::components::yaml_editor::{ProblemList, YamlEditor};
use crate::i18n::containers_more as cm;
use crate::i18n::logs_ux as lx;
use crate::i18n::stacks::{t, tr, Key};
use crate::i18n::swarm as sw;
use crate::i18n::{error_text, use_i18n};

/// Lines kept in the log panel.
const KEEP_LINES: usize = 2000;

/// A service's colour: one of eight, the same for a name every time.
fn colour(service: &str) -> String {
    let h = service
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
    format!("svc-c{}", h % 8)
}

#[component]
pub fn StackDetailPage() -> impl IntoView {
    let i18n = use_i18n();
    UpdateRuns::provide();
    let navigate = use_navigate();
    let params = use_params_map();
    let name = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    let detail = LocalResource::new(move || {
        let n = name.get();
        async move { api::get::<StackDetail>(&format!("/api/stacks/{}", api::enc(&n))).await }
    });
    let text = RwSignal::new(String::new());
    let env = RwSignal::new(String::new());
    let loaded = RwSignal::new(false);
    // Fill the editor once from the server; later refreshes keep what the user typed.
    Effect::new(move |_| {
        if let Some(Ok(d)) = detail.get() {
            if !loaded.get_untracked() {
                text.set(d.compose.clone().unwrap_or_default());
                env.set(d.env.clone().unwrap_or_default());
                loaded.set(true);
            }
        }
    });
    let profiles = RwSignal::new(String::new());
    let check = RwSignal::new(None::<wire::ComposeCheck>);
    let problems = use_validation_with(text, env, name.into(), profiles, check);
    let progress = RwSignal::new(Vec::<StackProgress>::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let retry = Callback::new(move |_| detail.refetch());
    // `Some(true)`: a swarm stack (services and tasks, not containers); `None`: not loaded.
    let swarm = Memo::new(move |_| {
        detail
            .get()
            .map(|r| matches!(r, Ok(d) if d.mode == "swarm"))
    });

    // Long actions answer with ndjson progress; short ones with JSON or nothing.
    let run = move |action: &'static str| {
        let n = name.get_untracked();
        busy.set(true);
        error.set(None);
        progress.set(vec![]);
        spawn_local(async move {
            let url = format!("/api/stacks/{}/{action}", api::enc(&n));
            let res = match action {
                "up" | "pull" => {
                    super::stacks::follow_progress::<()>(Method::Post, &url, None, progress)
                        .await
                        .map(|_| ())
                }
                "down-volumes" => {
                    let url = format!("/api/stacks/{}/down?volumes=true", api::enc(&n));
                    api::call::<(), serde_json::Value>(Method::Post, &url, None)
                        .await
                        .map(|_| ())
                }
                _ => api::call::<(), serde_json::Value>(Method::Post, &url, None)
                    .await
                    .map(|_| ()),
            };
            busy.set(false);
            if let Err(e) = res {
                error.set(Some(e));
            }
            detail.refetch();
        });
    };
    let save_and_deploy = move |_| {
        let n = name.get_untracked();
        let body = SaveStack {
            compose: text.get_untracked(),
            env: Some(env.get_untracked()).filter(|e| !e.trim().is_empty()),
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let url = format!("/api/stacks/{}", api::enc(&n));
            match api::call::<_, StackDetail>(Method::Put, &url, Some(&body)).await {
                Ok(_) => run("up"),
                Err(e) => {
                    busy.set(false);
                    error.set(Some(e));
                }
            }
        });
    };
    // Asked first, by the confirmation next to the button.
    let delete = Callback::new(move |()| {
        let n = name.get_untracked();
        let navigate = navigate.clone();
        spawn_local(async move {
            let url = format!("/api/stacks/{}?volumes=true", api::enc(&n));
            match api::call::<(), serde_json::Value>(Method::Delete, &url, None).await {
                Ok(_) => navigate("/stacks", Default::default()),
                Err(e) => error.set(Some(e)),
            }
        });
    });

    let button = move |key: Key, action: &'static str, testid: &'static str| {
        view! {
            <button class="btn btn-sm" data-testid=testid disabled=move || busy.get() on:click=move |_| run(action)>
                {tr(key)}
            </button>
        }
    };

    view! {
        <section class="page" data-testid="stack-page">
            <div class="page-head">
                <h1>{move || name.get()}</h1>
                // A swarm stack's state is drawn (live) by its own view.
                {move || {
                    detail
                        .get()
                        .and_then(|d| d.ok())
                        .filter(|d| d.mode != "swarm")
                        .map(|d| view! { <StateBadge state=d.status /> })
                }}
                {move || {
                    let managed = detail.get().and_then(|d| d.ok()).is_some_and(|d| d.managed);
                    (managed && swarm.get() == Some(false))
                        .then(|| view! { <UpdateMark target=Target::Stack(name.get_untracked()) /> })
                }}
            </div>
            {move || match swarm.get() {
                None => view! { <Loading /> }.into_any(),
                Some(true) => view! { <SwarmStack name text env problems /> }.into_any(),
                Some(false) => view! {
            <div class="toolbar">
                {move || {
                    let managed = detail.get().and_then(|d| d.ok()).is_some_and(|d| d.managed);
                    managed.then(|| view! { {button(Key::Up, "up", "stack-up")} {button(Key::Pull, "pull", "stack-pull")} })
                }}
                {button(Key::Restart, "restart", "stack-restart")}
                {button(Key::Stop, "stop", "stack-stop")}
                {button(Key::Start, "start", "stack-start")}
                {button(Key::Down, "down", "stack-down")}
                {button(Key::DownVolumes, "down-volumes", "stack-down-volumes")}
                <ConfirmButton
                    label=Signal::derive(move || tr(Key::Delete)().to_string())
                    question=Signal::derive(move || confirm::question(i18n.lang.get(), What::Stack, &name.get()))
                    testid="stack-delete"
                    on_confirm=delete
                />
            </div>
            {move || error.get().map(|e| {
                view! { <div class="banner banner-error" role="alert" data-testid="stack-error">{error_text(i18n.lang.get(), &e)}</div> }
            })}
            <ProgressLog lines=progress />
            {move || match detail.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(err)) => view! { <ErrorPanel err retry /> }.into_any(),
                Some(Ok(d)) => view! { <Services detail=d /> }.into_any(),
            }}
            <super::git_stack::GitPanel name detail />
            {move || {
                let managed = detail.get().and_then(|d| d.ok()).map(|d| d.managed);
                match managed {
                    Some(true) => view! {
                        <h2>{tr(Key::Editor)}</h2>
                        <YamlEditor text problems label=t(i18n.lang.get_untracked(), Key::Editor).to_owned() />
                        <ProblemList problems line_word=t(i18n.lang.get_untracked(), Key::Line) />
                        <ProfilePreview profiles check />
                        <details class="env-box">
                            <summary>{tr(Key::EnvFile)}</summary>
                            <textarea class="input mono" data-testid="stack-env" rows="4" bind:value=env></textarea>
                        </details>
                        <div class="form-actions">
                            <button class="btn btn-primary" data-testid="save-deploy" disabled=move || busy.get()
                                on:click=save_and_deploy>
                                {move || if busy.get() { tr(Key::Working)() } else { tr(Key::Deploy)() }}
                            </button>
                        </div>
                    }.into_any(),
                    Some(false) => view! { <p class="muted">{tr(Key::NotManaged)}</p> }.into_any(),
                    None => ().into_any(),
                }
            }}
            <h2>{tr(Key::Logs)}</h2>
            {move || view! { <StackLogs name=name.get() /> }}
                }.into_any(),
            }}
        </section>
    }
}

/// A swarm stack (`docker stack deploy`): its services with their tasks running of wanted
/// (each a link to its Swarm page), every task with its node, state and error, the file to
/// edit and redeploy (only the services whose spec changed are updated), and Remove.
/// Follows the swarm's events as the Swarm pages do.
#[component]
fn SwarmStack(
    name: Memo<String>,
    text: RwSignal<String>,
    env: RwSignal<String>,
    problems: RwSignal<Vec<wire::ComposeProblem>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let navigate = use_navigate();
    let stack = RwSignal::new(None::<Result<StackDetail, ApiError>>);
    let tasks = RwSignal::new(Vec::<TaskSummary>::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let prune = RwSignal::new(false);
    let load = move || async move {
        let n = name.get_untracked();
        let got = api::get::<StackDetail>(&format!("/api/stacks/{}", api::enc(&n))).await;
        let mut moving = got
            .as_ref()
            .is_ok_and(|d| d.swarm_services.iter().any(|s| s.running != s.desired));
        if got.is_ok() {
            let url = format!("/api/stacks/{}/tasks", api::enc(&n));
            if let Ok(t) = api::get::<Vec<TaskSummary>>(&url).await {
                moving |= t.iter().any(in_flight);
                if tasks.try_with_untracked(|old| *old != t) == Some(true) {
                    tasks.set(t);
                }
            }
        }
        set_if_changed(stack, got);
        moving
    };
    let live = use_swarm_feed(move |done| spawn_local(async move { done(load().await) }));
    let retry = Callback::new(move |_| {
        spawn_local(async move {
            load().await;
        })
    });
    let redeploy = move |_| {
        let n = name.get_untracked();
        let body = SaveStack {
            compose: text.get_untracked(),
            env: Some(env.get_untracked()).filter(|e| !e.trim().is_empty()),
        };
        let query = if prune.get_untracked() {
            "?prune=true"
        } else {
            ""
        };
        let url = format!("/api/stacks/{}{query}", api::enc(&n));
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api::call::<_, StackDetail>(Method::Put, &url, Some(&body)).await {
                Ok(d) => set_if_changed(stack, Ok(d)),
                Err(e) => error.set(Some(e)),
            }
            busy.try_set(false);
        });
    };
    let remove = Callback::new(move |()| {
        let n = name.get_untracked();
        let navigate = navigate.clone();
        busy.set(true);
        spawn_local(async move {
            let url = format!("/api/stacks/{}", api::enc(&n));
            match api::call::<(), serde_json::Value>(Method::Delete, &url, None).await {
                Ok(_) => navigate("/stacks", Default::default()),
                Err(e) => {
                    busy.try_set(false);
                    error.try_set(Some(e));
                }
            }
        });
    });
    let managed = Memo::new(move |_| stack.with(|s| matches!(s, Some(Ok(d)) if d.managed)));
    view! {
        <div class="toolbar" data-testid="swarm-stack">
            <span class="badge" data-testid="stack-swarm-badge">{sw::tr(sw::Key::SwarmBadge)}</span>
            {move || stack.get().and_then(|r| r.ok()).map(|d| view! { <StateBadge state=d.status /> })}
            <LiveIndicator state=live />
            <ConfirmButton
                label=Signal::derive(move || sw::tr(sw::Key::Remove)().to_string())
                question=Signal::derive(move || sw::question(i18n.lang.get(), sw::Ask::RemoveStack, &name.get()))
                testid="stack-remove"
                disabled=busy
                on_confirm=remove
            />
        </div>
        {move || error.get().map(|e| {
            view! { <div class="banner banner-error" role="alert" data-testid="stack-error">{error_text(i18n.lang.get(), &e)}</div> }
        })}
        {move || match stack.get() {
            None => view! { <Loading /> }.into_any(),
            Some(Err(err)) => view! { <ErrorPanel err retry /> }.into_any(),
            Some(Ok(d)) => view! {
                <div class="table-wrap">
                    <table class="table" data-testid="swarm-stack-services">
                        <thead>
                            <tr>
                                <th>{tr(Key::ServiceCol)}</th>
                                <th>{sw::tr(sw::Key::Name)}</th>
                                <th>{sw::tr(sw::Key::Image)}</th>
                                <th>{sw::tr(sw::Key::Mode)}</th>
                                <th>{sw::tr(sw::Key::Replicas)}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {d.swarm_services.into_iter().map(|s| {
                                let href = format!("/swarm/services/{}", api::enc(&s.id));
                                let ok = s.running == s.desired;
                                view! {
                                    <tr data-testid="service-row" data-service=s.service.clone() data-mode=s.mode.clone()>
                                        <td><span class=colour(&s.service)>{s.service.clone()}</span></td>
                                        <td><A href=href attr:data-testid="service-link">{s.name.clone()}</A></td>
                                        <td class="mono">{s.image.clone()}</td>
                                        <td>{s.mode.clone()}</td>
                                        <td>
                                            <span class="badge" class:state-running=ok class:state-restarting=!ok data-testid="service-replicas">
                                                {sw::running_of(s.running, s.desired)}
                                            </span>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any(),
        }}
        <h2>{sw::tr(sw::Key::StackTasks)}</h2>
        <Show when=move || tasks.with(|t| !t.is_empty())
            fallback=|| view! { <p class="muted" data-testid="no-tasks">{sw::tr(sw::Key::NoTasks)}</p> }>
            <div class="table-wrap">
                <table class="table" data-testid="stack-tasks">
                    <thead>
                        <tr>
                            <th>{sw::tr(sw::Key::Name)}</th>
                            <th>{sw::tr(sw::Key::Node)}</th>
                            <th>{sw::tr(sw::Key::State)}</th>
                            <th>{sw::tr(sw::Key::Desired)}</th>
                            <th>{sw::tr(sw::Key::Error)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || tasks.get().into_iter().map(|t| {
                            let node = t.node.clone().unwrap_or_else(|| sw::t(i18n.lang.get_untracked(), sw::Key::Unassigned).to_owned());
                            view! {
                                <tr data-testid="task-row" data-service=t.service.clone().unwrap_or_default()
                                    data-node=t.node.clone().unwrap_or_default() data-desired=t.desired_state.clone()>
                                    <td class="mono">{t.name.clone()}</td>
                                    <td>{node}</td>
                                    <td><span class=format!("badge {}", state_class(&t.state)) data-testid="task-state">{t.state.clone()}</span></td>
                                    <td>{t.desired_state.clone()}</td>
                                    <td class="muted" data-testid="task-error">{t.error.clone().unwrap_or_default()}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </Show>
        <Show when=move || managed.get()>
            <h2>{tr(Key::Editor)}</h2>
            <YamlEditor text problems label=t(i18n.lang.get_untracked(), Key::Editor).to_owned() />
            <ProblemList problems line_word=t(i18n.lang.get_untracked(), Key::Line) />
            <details class="env-box">
                <summary>{tr(Key::EnvFile)}</summary>
                <textarea class="input mono" data-testid="stack-env" rows="4" bind:value=env></textarea>
            </details>
            <label class="check">
                <input type="checkbox" data-testid="stack-prune" bind:checked=prune />
                <span>{sw::tr(sw::Key::Prune)}</span>
            </label>
            <div class="form-actions">
                <button class="btn btn-primary" data-testid="stack-redeploy" disabled=move || busy.get()
                    on:click=redeploy>
                    {move || if busy.get() { tr(Key::Working)() } else { sw::tr(sw::Key::Redeploy)() }}
                </button>
            </div>
        </Show>
    }
}

#[component]
fn Services(detail: StackDetail) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table" data-testid="services">
                <thead>
                    <tr>
                        <th>{tr(Key::ServiceCol)}</th>
                        <th>{tr(Key::State)}</th>
                        <th>{tr(Key::Image)}</th>
                        <th>{tr(Key::Containers)}</th>
                        <th>{tr(Key::Ports)}</th>
                        <th>{tr(Key::Addresses)}</th>
                    </tr>
                </thead>
                <tbody>
                    {detail
                        .services
                        .into_iter()
                        .map(|s| {
                            let names = s.containers.iter().map(|c| c.name.clone()).collect::<Vec<_>>().join(", ");
                            let ports = s
                                .containers
                                .iter()
                                .flat_map(|c| c.ports.iter())
                                .filter_map(|p| p.host_port.map(|h| format!("{}:{}→{}", p.host_ip.clone().unwrap_or_default(), h, p.container_port)))
                                .collect::<Vec<_>>()
                                .join(", ");
                            let addrs = s
                                .containers
                                .iter()
                                .flat_map(|c| c.networks.iter())
                                .map(|(n, ip)| format!("{n}: {ip}"))
                                .collect::<Vec<_>>()
                                .join(", ");
                            view! {
                                <tr data-testid="service-row" data-service=s.service.clone()>
                                    <td><span class=colour(&s.service)>{s.service.clone()}</span></td>
                                    <td><StateBadge state=s.status.clone() /></td>
                                    <td class="mono">{s.image.clone().unwrap_or_default()}</td>
                                    <td>{names}</td>
                                    <td class="mono">{ports}</td>
                                    <td class="mono">{addrs}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// `text` with the (ASCII case-insensitive) occurrences of `needle` in `<mark>`s.
fn marked(text: &str, needle: &str) -> Vec<AnyView> {
    let hay = text.to_lowercase();
    if needle.is_empty() || hay.len() != text.len() {
        return vec![text.to_string().into_any()];
    }
    let mut out = Vec::new();
    let mut cut = 0;
    for (i, m) in hay.match_indices(needle) {
        if !text.is_char_boundary(i) || !text.is_char_boundary(i + m.len()) {
            continue;
        }
        out.push(text[cut..i].to_string().into_any());
        let hit = text[i..i + m.len()].to_string();
        out.push(view! { <mark data-testid="log-match">{hit}</mark> }.into_any());
        cut = i + m.len();
    }
    out.push(text[cut..].to_string().into_any());
    out
}

/// The merged, live log of every service. Frames are buffered and shown every 250 ms.
#[component]
fn StackLogs(name: String) -> impl IntoView {
    let lines = RwSignal::new(Vec::<StackLogLine>::new());
    let paused = RwSignal::new(false);
    let buffer: Rc<RefCell<Vec<StackLogLine>>> = Rc::new(RefCell::new(Vec::new()));

    let path = format!("/api/stacks/{}/logs/ws?tail=200", api::enc(&name));
    let socket = api::open_ws(&path).ok();
    let incoming = Rc::clone(&buffer);
    let on_message = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
        if let Some(text) = ev
            .dyn_ref::<MessageEvent>()
            .and_then(|m| m.data().as_string())
        {
            if let Ok(batch) = serde_json::from_str::<Vec<StackLogLine>>(&text) {
                incoming.borrow_mut().extend(batch);
            }
        }
    });
    if let Some(ws) = &socket {
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    }
    let flush_from = Rc::clone(&buffer);
    let flush = set_interval_with_handle(
        move || {
            if paused.get_untracked() {
                return;
            }
            let new: Vec<StackLogLine> = flush_from.borrow_mut().drain(..).collect();
            if new.is_empty() {
                return;
            }
            lines.update(|l| {
                l.extend(new);
                let excess = l.len().saturating_sub(KEEP_LINES);
                l.drain(..excess);
            });
        },
        Duration::from_millis(250),
    )
    .ok();
    // The socket, its handler and the timer live until the panel goes away.
    let held = SendWrapper::new((socket, on_message, buffer));
    on_cleanup(move || {
        if let Some(f) = flush {
            f.clear();
        }
        let (socket, _handler, _buffer) = held.take();
        if let Some(ws) = socket {
            ws.set_onmessage(None);
            let _ = ws.close();
        }
    });

    let search = RwSignal::new(String::new());
    let streams = RwSignal::new("all".to_string());
    let wrap = RwSignal::new(true);
    view! {
        <div class="toolbar logs-toolbar">
            <button class="btn btn-sm" data-testid="logs-pause" on:click=move |_| paused.update(|p| *p = !*p)>
                {move || if paused.get() { tr(Key::Resume)() } else { tr(Key::Pause)() }}
            </button>
            <button class="btn btn-sm" on:click=move |_| lines.set(vec![])>{tr(Key::Clear)}</button>
            <input
                type="search"
                class="input filter"
                data-testid="stack-logs-search"
                placeholder=cm::tr(cm::Key::Search)
                aria-label=cm::tr(cm::Key::Search)
                bind:value=search
            />
            <select class="input input-sm" data-testid="stack-logs-streams" aria-label=lx::tr(lx::Key::Streams)
                on:change=move |ev| streams.set(event_target_value(&ev))>
                <option value="all">{lx::tr(lx::Key::AllStreams)}</option>
                <option value="stdout">{lx::tr(lx::Key::StdoutOnly)}</option>
                <option value="stderr">{lx::tr(lx::Key::StderrOnly)}</option>
            </select>
            <label class="check">
                <input type="checkbox" bind:checked=wrap />
                <span>{lx::tr(lx::Key::Wrap)}</span>
            </label>
        </div>
        // Styled as a container's logs; search keeps the lines that contain the text.
        <div class="log-lines mono stack-logs" class:nowrap=move || !wrap.get() data-testid="stack-logs">
            {move || {
                let needle = search.get().to_lowercase();
                let streams = streams.get();
                lines
                    .get()
                    .into_iter()
                    .filter(|l| match streams.as_str() {
                        "stdout" => l.stream != "stderr",
                        "stderr" => l.stream == "stderr",
                        _ => true,
                    })
                    .filter(|l| needle.is_empty() || l.line.to_lowercase().contains(&needle))
                    .map(|l| {
                        let cls = format!("log-line log-{}", if l.stream == "stderr" { "stderr" } else if l.stream == "berth" { "note" } else { "stdout" });
                        view! {
                            <div class=cls data-service=l.service.clone()>
                                <span class=colour(&l.service)>{format!("{:<12}", l.service)}</span>
                                " | "
                                {marked(&l.line, &needle)}
                            </div>
                        }
                    })
                    .collect_view()
            }}
        </div>
    }
}
