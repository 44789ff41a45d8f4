//! `/containers/:id`: the key facts of `GET /api/containers/{id}` (the daemon's inspect
//! JSON), the same actions as the list, and the raw JSON.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use serde_json::Value;

use crate::api::{self, ApiError};
use crate::components::actions::{ActionButtons, ContainerAction};
use crate::components::live::{is_noise, use_container_events, LiveIndicator};
use crate::components::logs_view::LogsView;
use crate::components::stats_view::{StatsView, TopView};
use crate::components::status::{boundary_fallback, Loading, StateBadge};
use crate::components::terminal::{AttachTab, TerminalTab};
use crate::components::update_mark::{Target, UpdateMark, UpdateRuns};
use crate::format;
use crate::i18n::containers_more::{tr as trc, Key as C};
use crate::i18n::ux::{tr as trx, Key as X};
use crate::i18n::{error_text, tr, use_i18n, Key};

/// The tabs of the container page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Overview,
    Logs,
    Terminal,
    Attach,
    Top,
    Stats,
    Files,
}

impl Tab {
    const ALL: [Tab; 7] = [
        Tab::Overview,
        Tab::Logs,
        Tab::Terminal,
        Tab::Attach,
        Tab::Top,
        Tab::Stats,
        Tab::Files,
    ];

    fn slug(self) -> &'static str {
        match self {
            Tab::Overview => "overview",
            Tab::Logs => "logs",
            Tab::Terminal => "terminal",
            Tab::Attach => "attach",
            Tab::Top => "top",
            Tab::Stats => "stats",
            Tab::Files => "files",
        }
    }

    fn parse(s: &str) -> Tab {
        Tab::ALL
            .into_iter()
            .find(|t| t.slug() == s)
            .unwrap_or(Tab::Overview)
    }

    fn label(self) -> C {
        match self {
            Tab::Overview => C::TabOverview,
            Tab::Logs => C::TabLogs,
            Tab::Terminal => C::TabTerminal,
            Tab::Attach => C::TabAttach,
            Tab::Top => C::TabTop,
            Tab::Stats => C::TabStats,
            Tab::Files => C::TabFiles,
        }
    }
}

#[component]
fn Tabs(tab: RwSignal<Tab>, id: String) -> impl IntoView {
    view! {
        <div class="tabs" role="tablist" data-testid="tabs">
            {Tab::ALL
                .into_iter()
                .map(|t| {
                    if t == Tab::Files {
                        // The container's file browser is a page of its own.
                        return view! {
                            <A href=format!("/containers/{}/files", api::enc(&id)) attr:class="tab" attr:data-testid="tab-files">
                                {trc(t.label())}
                            </A>
                        }
                        .into_any();
                    }
                    view! {
                        <button
                            type="button"
                            role="tab"
                            class="tab"
                            class:active=move || tab.get() == t
                            aria-selected=move || (tab.get() == t).to_string()
                            data-testid=format!("tab-{}", t.slug())
                            on:click=move |_| tab.set(t)
                        >
                            {trc(t.label())}
                        </button>
                    }
                    .into_any()
                })
                .collect_view()}
        </div>
    }
}

#[component]
pub fn ContainerDetail() -> impl IntoView {
    let i18n = use_i18n();
    UpdateRuns::provide();
    let params = use_params_map();
    let navigate = use_navigate();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let query = leptos_router::hooks::use_query_map();
    let tab = RwSignal::new(Tab::parse(
        &query.read_untracked().get("tab").unwrap_or_default(),
    ));
    let detail = LocalResource::new(move || {
        let id = id.get();
        async move { api::get::<Value>(&format!("/api/containers/{}", api::enc(&id))).await }
    });
    // The route may name the container by full id, short id or name.
    let live = use_container_events(
        move |event| {
            let key = id.get_untracked();
            !is_noise(event)
                && (event.id.starts_with(&key)
                    || event.attributes.get("name").is_some_and(|n| *n == key))
        },
        move || detail.refetch(),
    );

    // Page-level, so re-rendering the facts after an event keeps these as they were.
    let busy = RwSignal::new(None::<ContainerAction>);
    let raw_open = RwSignal::new(false);
    let action_error = RwSignal::new(None::<String>);

    let on_done = Callback::new(
        move |(action, result): (ContainerAction, Result<(), ApiError>)| match result {
            Ok(()) if action == ContainerAction::Remove => {
                navigate("/containers", Default::default())
            }
            Ok(()) => detail.refetch(),
            Err(e) => {
                // The daemon names this container by its 64-hex id; the page knows its name.
                let named = detail.with_untracked(|d| match d {
                    Some(Ok(info)) => Some((
                        str_at(info, "/Id").to_string(),
                        str_at(info, "/Name").trim_start_matches('/').to_string(),
                    )),
                    _ => None,
                });
                let msg = format::name_ids(&error_text(i18n.lang.get_untracked(), &e), |hex| {
                    named
                        .as_ref()
                        .filter(|(id, _)| id == hex)
                        .map(|(_, name)| name.clone())
                });
                action_error.set(Some(msg));
            }
        },
    );
    let retry = Callback::new(move |_| detail.refetch());
    // The daemon has no such container: the page says so and nothing else (no live badge,
    // no tabs, no commit form for a container that is not there).
    let missing = Memo::new(move |_| detail.with(|d| matches!(d, Some(Err(e)) if e.status == 404)));

    view! {
        <section class="page" data-testid="container-detail">
            <div class="page-head">
                <A href="/containers" attr:class="back-link">
                    "← "
                    {tr(Key::BackToContainers)}
                </A>
                <Show when=move || !missing.get()>
                    <LiveIndicator state=live />
                </Show>
            </div>
            {move || {
                action_error
                    .get()
                    .map(|msg| {
                        view! {
                            <div class="banner banner-error" data-testid="action-error" role="alert">
                                <strong>{tr(Key::ActionFailed)}</strong>
                                <span class="banner-text">{msg}</span>
                                <button
                                    type="button"
                                    class="icon-btn"
                                    data-testid="dismiss-error"
                                    aria-label=tr(Key::Dismiss)
                                    on:click=move |_| action_error.set(None)
                                >
                                    "×"
                                </button>
                            </div>
                        }
                    })
            }}
            <Transition fallback=Loading>
                <ErrorBoundary fallback=boundary_fallback(retry)>
                    {move || Suspend::new(async move {
                        match detail.await {
                            Ok(info) => Ok(view! { <Facts info busy raw_open on_done tab /> }.into_any()),
                            Err(e) if e.status == 404 => Ok(view! { <NoSuchContainer id=id.get_untracked() /> }.into_any()),
                            Err(e) => Err(e),
                        }
                    })}
                </ErrorBoundary>
            </Transition>
            {move || {
                let id = id.get();
                if missing.get() {
                    return None;
                }
                match tab.get() {
                    Tab::Overview | Tab::Logs | Tab::Terminal | Tab::Files => None,
                    Tab::Attach => Some(view! { <AttachTab id /> }.into_any()),
                    Tab::Top => Some(view! { <TopView id /> }.into_any()),
                    Tab::Stats => Some(view! { <StatsView id /> }.into_any()),
                }
            }}
            // Logs and terminals keep running (and keep their lines and sessions) while
            // another tab is shown, once opened.
            {move || (!missing.get()).then(|| {
                let id = id.get();
                // True from the first time the tab is shown on.
                let seen_logs = Memo::new(move |prev: Option<&bool>| {
                    prev.copied().unwrap_or(false) || tab.get() == Tab::Logs
                });
                let seen_term = Memo::new(move |prev: Option<&bool>| {
                    prev.copied().unwrap_or(false) || tab.get() == Tab::Terminal
                });
                view! {
                    <div class:hidden=move || tab.get() != Tab::Logs>
                        {
                            let id = id.clone();
                            move || {
                            let id = id.clone();
                            seen_logs.get().then(move || view! { <LogsView id /> })
                        }}
                    </div>
                    <div class:hidden=move || tab.get() != Tab::Terminal>
                        {
                            let id = id.clone();
                            move || {
                                let id = id.clone();
                                seen_term.get().then(move || view! { <TerminalTab id /> })
                            }
                        }
                    </div>
                }
            })}
            // Outside the facts, which re-render on every event (a commit pauses the
            // container): the form keeps what was typed and its result.
            {move || (!missing.get()).then(|| view! { <crate::components::commit::CommitForm id=id.get() /> })}
        </section>
    }
}

/// The page of a container the daemon does not have: what happened and the way back.
#[component]
fn NoSuchContainer(id: String) -> impl IntoView {
    view! {
        <div class="panel state-panel" data-testid="container-missing" role="alert">
            <h2>{trx(X::NoSuchContainer)}</h2>
            <p class="mono">{id}</p>
            <p class="muted">{trx(X::NoSuchContainerHint)}</p>
            <A href="/containers" attr:class="btn" attr:data-testid="container-missing-back">
                {trx(X::BackToContainers)}
            </A>
        </div>
    }
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

#[component]
fn Facts(
    info: Value,
    busy: RwSignal<Option<ContainerAction>>,
    raw_open: RwSignal<bool>,
    on_done: Callback<(ContainerAction, Result<(), ApiError>)>,
    tab: RwSignal<Tab>,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = str_at(&info, "/Id").to_string();
    let name = str_at(&info, "/Name").trim_start_matches('/').to_string();
    let image = str_at(&info, "/Config/Image").to_string();
    let state = str_at(&info, "/State/Status").to_string();
    let created = str_at(&info, "/Created").to_string();
    let command = std::iter::once(str_at(&info, "/Path"))
        .chain(
            info.pointer("/Args")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str),
        )
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let raw = serde_json::to_string_pretty(&info).unwrap_or_default();
    // A container of a stack is updated with its stack (the server says so too).
    let update_target = match str_at(&info, "/Config/Labels/com.docker.compose.project") {
        "" => Target::Container(name.clone()),
        project => Target::Stack(project.to_owned()),
    };

    let nothing = move || view! { <span class="muted">{tr(Key::Nothing)}</span> };

    view! {
        <div class="detail-head">
            <h1 data-testid="detail-name">{name.clone()}</h1>
            <StateBadge state=Signal::stored(state.clone()) />
            <ActionButtons id=id.clone() state=Signal::stored(state) on_done busy name=Signal::stored(name.clone()) />
            <UpdateMark target=update_target />
        </div>
        <Tabs tab id=id.clone() />

        <div class="overview" class:hidden=move || tab.get() != Tab::Overview>
        <div class="panel">
            <h2>{tr(Key::Overview)}</h2>
            <dl class="facts">
                <dt>{tr(Key::Id)}</dt>
                <dd class="mono break" data-testid="detail-id">{id}</dd>
                <dt>{tr(Key::ColImage)}</dt>
                <dd class="mono" data-testid="detail-image">{image}</dd>
                <dt>{tr(Key::ColCreated)}</dt>
                <dd>
                    {
                        let created = created.clone();
                        move || format::local_time(&created, i18n.lang.get().code())
                    }
                </dd>
                <dt>{tr(Key::Command)}</dt>
                <dd class="mono break">{command}</dd>
                <dt>{tr(Key::ColPorts)}</dt>
                <dd>
                    {
                        let ports = ports(&info);
                        if ports.is_empty() {
                            nothing().into_any()
                        } else {
                            ports
                                .into_iter()
                                .map(|p| view! { <span class="port mono">{p}</span> })
                                .collect_view()
                                .into_any()
                        }
                    }
                </dd>
            </dl>
        </div>

        <div class="panel">
            <h2>{tr(Key::Networks)}</h2>
            {
                let networks = info
                    .pointer("/NetworkSettings/Networks")
                    .and_then(Value::as_object)
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<Vec<_>>())
                    .unwrap_or_default();
                if networks.is_empty() {
                    nothing().into_any()
                } else {
                    view! {
                        <div class="table-wrap">
                            <table class="table">
                                <thead>
                                    <tr>
                                        <th>{tr(Key::ColName)}</th>
                                        <th>{tr(Key::IpAddress)}</th>
                                        <th>{tr(Key::Gateway)}</th>
                                        <th>{tr(Key::MacAddress)}</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {networks
                                        .into_iter()
                                        .map(|(net, v)| {
                                            let ip = str_at(&v, "/IPAddress").to_string();
                                            let ip6 = str_at(&v, "/GlobalIPv6Address").to_string();
                                            view! {
                                                <tr data-testid="network-row">
                                                    <td data-label=tr(Key::ColName)>{net}</td>
                                                    <td class="mono" data-label=tr(Key::IpAddress)>
                                                        {ip}
                                                        {(!ip6.is_empty()).then(|| view! { <br /> {ip6} })}
                                                    </td>
                                                    <td class="mono" data-label=tr(Key::Gateway)>
                                                        {str_at(&v, "/Gateway").to_string()}
                                                    </td>
                                                    <td class="mono" data-label=tr(Key::MacAddress)>
                                                        {str_at(&v, "/MacAddress").to_string()}
                                                    </td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }
                        .into_any()
                }
            }
        </div>

        <div class="panel">
            <h2>{tr(Key::Mounts)}</h2>
            {
                let mounts = info
                    .pointer("/Mounts")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                if mounts.is_empty() {
                    nothing().into_any()
                } else {
                    view! {
                        <div class="table-wrap">
                            <table class="table">
                                <thead>
                                    <tr>
                                        <th>{tr(Key::Source)}</th>
                                        <th>{tr(Key::Destination)}</th>
                                        <th>{tr(Key::Mode)}</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {mounts
                                        .iter()
                                        .map(|m| {
                                            let kind = str_at(m, "/Type");
                                            // A named volume reads better by its name than its path.
                                            let source = match str_at(m, "/Name") {
                                                "" => str_at(m, "/Source"),
                                                name => name,
                                            };
                                            let rw = m.get("RW").and_then(Value::as_bool).unwrap_or(true);
                                            let mode = format!("{kind} {}", if rw { "rw" } else { "ro" });
                                            view! {
                                                <tr>
                                                    <td class="mono break" data-label=tr(Key::Source)>
                                                        {source.to_string()}
                                                    </td>
                                                    <td class="mono break" data-label=tr(Key::Destination)>
                                                        {str_at(m, "/Destination").to_string()}
                                                    </td>
                                                    <td data-label=tr(Key::Mode)>{mode}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }
                        .into_any()
                }
            }
        </div>

        <div class="panel">
            <h2>{tr(Key::Env)}</h2>
            {
                let env: Vec<String> = info
                    .pointer("/Config/Env")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect();
                if env.is_empty() {
                    nothing().into_any()
                } else {
                    view! {
                        <ul class="kv-list mono">
                            {env.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
                        </ul>
                    }
                        .into_any()
                }
            }
        </div>

        <div class="panel">
            <h2>{tr(Key::Labels)}</h2>
            {
                let labels: Vec<(String, String)> = info
                    .pointer("/Config/Labels")
                    .and_then(Value::as_object)
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                            .collect()
                    })
                    .unwrap_or_default();
                if labels.is_empty() {
                    nothing().into_any()
                } else {
                    view! {
                        <dl class="facts labels mono">
                            {labels
                                .into_iter()
                                .map(|(k, v)| view! { <dt class="break">{k}</dt><dd class="break">{v}</dd> })
                                .collect_view()}
                        </dl>
                    }
                        .into_any()
                }
            }
        </div>

        <details
            class="panel raw"
            prop:open=move || raw_open.get()
            on:toggle=move |ev| raw_open.set(event_target::<web_sys::HtmlDetailsElement>(&ev).open())
        >
            <summary data-testid="raw-toggle">{tr(Key::RawJson)}</summary>
            // A text node: whatever the daemon sent is shown, never interpreted as HTML.
            <pre class="mono" data-testid="raw-json">{raw}</pre>
        </details>
        </div>
    }
}

/// `0.0.0.0:8080→80/tcp` lines from inspect's `NetworkSettings.Ports`
/// (`{"80/tcp": [{"HostIp","HostPort"}] | null}`).
fn ports(info: &Value) -> Vec<String> {
    let Some(map) = info
        .pointer("/NetworkSettings/Ports")
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    // (container port, text): sorted by port number, not by the map's string order.
    let mut out = Vec::new();
    for (port, bindings) in map {
        let (number, proto) = port.split_once('/').unwrap_or((port, "tcp"));
        let mapping = |host_ip: Option<String>, host_port: Option<u16>| wire::PortMapping {
            host_ip,
            host_port,
            container_port: number.parse().unwrap_or_default(),
            protocol: proto.to_string(),
        };
        match bindings.as_array() {
            Some(list) if !list.is_empty() => {
                for b in list {
                    let ip = Some(str_at(b, "/HostIp"))
                        .filter(|s| !s.is_empty())
                        .map(str::to_string);
                    let host_port = str_at(b, "/HostPort").parse().ok();
                    let m = mapping(ip, host_port);
                    out.push((m.container_port, format::port(&m)));
                }
            }
            _ => {
                let m = mapping(None, None);
                out.push((m.container_port, format::port(&m)));
            }
        }
    }
    out.sort();
    out.into_iter().map(|(_, text)| text).collect()
}
