//! `/swarm`: the cluster (nodes, managers, the leader, CPU and memory), the join tokens for
//! admins (copy, rotate), and the nodes: availability, promote/demote, labels, removing a
//! node that is down. Live: node events refresh the page.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use wire::{JoinTokens, NodeSummary, NodeUpdate, Role, SwarmRotate, SwarmSummary};

use super::{pairs, CopyField, SwarmError, SwarmTabs};
use crate::api::{self, ApiError, Method};
use crate::app::use_session;
use crate::components::confirm::ConfirmButton;
use crate::components::live::LiveIndicator;
use crate::components::status::Loading;
use crate::format;
use crate::i18n::swarm::{question, t, tr, Ask, Key};
use crate::i18n::{error_text, use_i18n};

type Loaded<T> = Option<Result<T, ApiError>>;

#[component]
pub fn Overview() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let admin = Memo::new(move |_| {
        session
            .me
            .with(|m| m.as_ref().is_some_and(|m| m.role == Role::Admin))
    });
    let cluster = RwSignal::new(None::<Result<SwarmSummary, ApiError>>);
    let nodes = RwSignal::new(None::<Result<Vec<NodeSummary>, ApiError>>);
    let error = RwSignal::new(None::<ApiError>);
    let notice = RwSignal::new(None::<&'static str>);

    let load = move || spawn_local(fetch(cluster, nodes));
    let live = super::use_swarm_feed(move |done| {
        spawn_local(async move {
            fetch(cluster, nodes).await;
            done(false);
        })
    });
    let retry = Callback::new(move |_| load());
    let tokens = Memo::new(move |_| {
        cluster.with(|c| match c {
            Some(Ok(c)) => c.join_tokens.clone(),
            _ => None,
        })
    });
    // Runs a change, then shows its error (if any) and loads the page again.
    let change = Callback::new(
        move |(method, url, body): (Method, String, Option<NodeUpdate>)| {
            notice.set(None);
            spawn_local(async move {
                let res = match body {
                    Some(b) => api::call::<_, NodeSummary>(method, &url, Some(&b))
                        .await
                        .map(|_| ()),
                    None => api::call_unit(method, &url).await,
                };
                error.set(res.err());
                load();
            });
        },
    );
    let rotate = Callback::new(move |worker: bool| {
        let body = SwarmRotate {
            worker,
            manager: !worker,
        };
        notice.set(None);
        spawn_local(async move {
            match api::call::<_, JoinTokens>(Method::Post, "/api/swarm/rotate", Some(&body)).await {
                Ok(tokens) => {
                    error.set(None);
                    notice.set(Some(t(i18n.lang.get_untracked(), Key::Rotated)));
                    cluster.update(|c| {
                        if let Some(Ok(c)) = c {
                            c.join_tokens = Some(tokens);
                        }
                    });
                }
                Err(e) => error.set(Some(e)),
            }
        });
    });

    view! {
        <section class="page swarm-page" data-testid="swarm-page">
            <div class="page-head">
                <h1>{tr(Key::NavSwarm)}</h1>
                <LiveIndicator state=live />
            </div>
            <SwarmTabs />
            {move || error.get().map(|e| view! {
                <div class="banner banner-error" role="alert" data-testid="swarm-error">{error_text(i18n.lang.get(), &e)}</div>
            })}
            {move || notice.get().map(|n| view! {
                <div class="banner" role="status" data-testid="swarm-notice">{n}</div>
            })}
            {move || match cluster.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(err)) => view! { <SwarmError err retry /> }.into_any(),
                Some(Ok(c)) => view! { <ClusterCards c /> }.into_any(),
            }}
            // Drawn again only when the tokens change, so a refresh (any swarm event) does
            // not close a Rotate confirmation being asked.
            {move || admin.get().then(|| tokens.get()).flatten().map(|tk| view! { <JoinPanel tk nodes rotate /> })}
            <NodesTable nodes admin change />
        </section>
    }
}

/// The cluster, then (when it is one) its nodes.
async fn fetch(cluster: RwSignal<Loaded<SwarmSummary>>, nodes: RwSignal<Loaded<Vec<NodeSummary>>>) {
    let c = api::get::<SwarmSummary>("/api/swarm").await;
    let n = match &c {
        Ok(_) => api::get::<Vec<NodeSummary>>("/api/nodes").await,
        Err(e) => Err(e.clone()),
    };
    super::set_if_changed(cluster, c);
    super::set_if_changed(nodes, n);
}

#[component]
fn ClusterCards(c: SwarmSummary) -> impl IntoView {
    let card = |label: Key, value: String, testid: &'static str| {
        // Long words (a host name) get a smaller type than numbers.
        let class = if value.len() > 12 {
            "stat-value stat-text"
        } else {
            "stat-value"
        };
        view! {
            <div class="card stat">
                <div class="stat-label">{tr(label)}</div>
                <div class=class data-testid=testid>{value}</div>
            </div>
        }
    };
    view! {
        <div class="cards">
            {card(Key::Nodes, c.nodes.to_string(), "swarm-nodes")}
            {card(Key::Managers, c.managers.to_string(), "swarm-managers")}
            {card(Key::Leader, c.leader.clone().unwrap_or_else(|| "—".into()), "swarm-leader")}
            {card(Key::Cpus, format!("{}", c.cpus), "swarm-cpus")}
            {card(Key::Memory, format::bytes(c.memory_bytes), "swarm-memory")}
        </div>
    }
}

/// The join commands (admins): copy, and rotate after a confirmation.
#[component]
fn JoinPanel(
    tk: JoinTokens,
    nodes: RwSignal<Loaded<Vec<NodeSummary>>>,
    rotate: Callback<bool>,
) -> impl IntoView {
    let lang = use_i18n().lang;
    // Where a new node reaches the swarm: the leader's address, on the swarm port.
    let leader_addr = move || {
        nodes.with(|n| {
            n.as_ref()
                .and_then(|n| n.as_ref().ok())
                .and_then(|n| n.iter().find(|n| n.leader))
                .and_then(|n| n.addr.clone())
                .map(|a| format!("{a}:2377"))
                .unwrap_or_else(|| "MANAGER:2377".into())
        })
    };
    let row = move |role: Key, token: String, worker: bool, testid: &'static str| {
        let cmd =
            Signal::derive(move || format!("docker swarm join --token {token} {}", leader_addr()));
        view! {
            <div class="join-row">
                <span class="join-role">{tr(role)}</span>
                <CopyField text=cmd testid />
                <ConfirmButton
                    label=Signal::derive(move || tr(Key::Rotate)().to_string())
                    question=Signal::derive(move || question(lang.get(), if worker { Ask::RotateWorker } else { Ask::RotateManager }, ""))
                    confirm_label=Signal::derive(move || tr(Key::Rotate)().to_string())
                    testid=format!("{testid}-rotate")
                    on_confirm=Callback::new(move |()| rotate.run(worker))
                />
            </div>
        }
    };
    view! {
        <div class="panel join-tokens" data-testid="join-tokens">
            <h2>{tr(Key::JoinTokens)}</h2>
            <p class="muted">{tr(Key::JoinHint)}</p>
            {row(Key::Worker, tk.worker.clone(), true, "join-worker")}
            {row(Key::Manager, tk.manager.clone(), false, "join-manager")}
        </div>
    }
}

#[component]
fn NodesTable(
    nodes: RwSignal<Loaded<Vec<NodeSummary>>>,
    admin: Memo<bool>,
    change: Callback<(Method, String, Option<NodeUpdate>)>,
) -> impl IntoView {
    let rows = move || {
        nodes.with(|n| match n {
            Some(Ok(rows)) => rows.clone(),
            _ => Vec::new(),
        })
    };
    view! {
        <Show when=move || nodes.with(|n| matches!(n, Some(Ok(_))))>
            <h2 class="section-title">{tr(Key::Nodes)}</h2>
            <div class="table-wrap">
                <table class="table nodes-table" data-testid="nodes-table">
                    <thead><tr>
                        <th>{tr(Key::Hostname)}</th><th>{tr(Key::Role)}</th>
                        <th>{tr(Key::Availability)}</th><th>{tr(Key::State)}</th>
                        <th>{tr(Key::Engine)}</th><th>{tr(Key::Address)}</th>
                        <th>{tr(Key::Labels)}</th>
                        <Show when=move || admin.get()><th class="col-actions">{tr(Key::Actions)}</th></Show>
                    </tr></thead>
                    <tbody>
                        // Keyed by the whole row: an unchanged node keeps its row (and a
                        // label edit in progress), a changed one is drawn again.
                        <For each=rows key=|n| format!("{n:?}") let:n>
                            <NodeRow n admin change />
                        </For>
                    </tbody>
                </table>
            </div>
        </Show>
    }
}

fn labels_text(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[component]
fn NodeRow(
    n: NodeSummary,
    admin: Memo<bool>,
    change: Callback<(Method, String, Option<NodeUpdate>)>,
) -> impl IntoView {
    let lang = use_i18n().lang;
    let url = format!("/api/nodes/{}", api::enc(&n.id));
    let patch = {
        let url = url.clone();
        move |body: NodeUpdate| change.run((Method::Patch, url.clone(), Some(body)))
    };
    let set_availability = {
        let patch = patch.clone();
        move |a: &str| {
            patch(NodeUpdate {
                availability: Some(a.to_owned()),
                ..Default::default()
            })
        }
    };
    let editing = RwSignal::new(false);
    let labels_input = RwSignal::new(labels_text(&n.labels));
    let save_labels = {
        let patch = patch.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            editing.set(false);
            patch(NodeUpdate {
                labels: Some(pairs(&labels_input.get_untracked())),
                ..Default::default()
            });
        }
    };
    let availability_key = |a: &str| match a {
        "active" => Key::Active,
        "pause" => Key::Pause,
        _ => Key::Drain,
    };
    let host = n.hostname.clone();
    let manager = n.role == "manager";
    let down = n.state == "down";
    let avail = n.availability.clone();
    let labels = n.labels.clone();
    let chips = move || {
        labels
            .iter()
            .map(|(k, v)| view! { <span class="badge label-chip" data-testid="node-label">{format!("{k}={v}")}</span> })
            .collect_view()
    };
    let actions = move || {
        let host = host.clone();
        let avail = avail.clone();
        let set = set_availability.clone();
        let patch = patch.clone();
        let url = url.clone();
        let buttons = ["active", "pause"].map(|a| {
            let set = set.clone();
            view! {
                <button type="button" class="btn btn-sm" data-testid=format!("node-{a}")
                    disabled=avail == a on:click=move |_| set(a)>
                    {tr(availability_key(a))}
                </button>
            }
        });
        let drain = {
            let set = set.clone();
            let host = host.clone();
            view! {
                <ConfirmButton
                    label=Signal::derive(move || tr(Key::Drain)().to_string())
                    question=Signal::derive(move || question(lang.get(), Ask::DrainNode, &host))
                    testid="node-drain"
                    disabled=Signal::derive({ let d = avail == "drain"; move || d })
                    on_confirm=Callback::new(move |()| set("drain"))
                />
            }
        };
        let role = if manager {
            let patch = patch.clone();
            let host = host.clone();
            view! {
                <ConfirmButton
                    label=Signal::derive(move || tr(Key::Demote)().to_string())
                    question=Signal::derive(move || question(lang.get(), Ask::DemoteNode, &host))
                    testid="node-demote"
                    on_confirm=Callback::new(move |()| patch(NodeUpdate { role: Some("worker".into()), ..Default::default() }))
                />
            }
            .into_any()
        } else {
            let patch = patch.clone();
            view! {
                <button type="button" class="btn btn-sm" data-testid="node-promote"
                    on:click=move |_| patch(NodeUpdate { role: Some("manager".into()), ..Default::default() })>
                    {tr(Key::Promote)}
                </button>
            }
            .into_any()
        };
        let remove = down.then(|| {
            let host = host.clone();
            view! {
                <ConfirmButton
                    label=Signal::derive(move || tr(Key::Remove)().to_string())
                    question=Signal::derive(move || question(lang.get(), Ask::RemoveNode, &host))
                    testid="node-remove"
                    on_confirm=Callback::new(move |()| change.run((Method::Delete, url.clone(), None)))
                />
            }
        });
        view! {
            <td class="col-actions">
                <span class="btn-group">{buttons}{drain}</span>
                " "{role}" "
                <button type="button" class="btn btn-sm" data-testid="node-edit-labels"
                    on:click=move |_| editing.update(|e| *e = !*e)>
                    {tr(Key::Labels)}
                </button>
                {remove}
            </td>
        }
    };
    view! {
        <tr data-testid="node-row" data-name=n.hostname.clone() data-role=n.role.clone()
            data-availability=n.availability.clone() data-state=n.state.clone()>
            <td>
                <span class="mono">{n.hostname.clone()}</span>
                {n.leader.then(|| view! { " " <span class="badge state-running">{tr(Key::Leader)}</span> })}
            </td>
            <td><span class="badge" data-testid="node-role">{move || if manager { tr(Key::Manager)() } else { tr(Key::Worker)() }}</span></td>
            <td><span class=format!("badge avail-{}", n.availability) data-testid="node-availability">{tr(availability_key(&n.availability))}</span></td>
            <td><span class=format!("badge node-{}", n.state) data-testid="node-state">{n.state.clone()}</span></td>
            <td>{n.engine_version.clone().unwrap_or_default()}</td>
            <td class="mono">{n.addr.clone().unwrap_or_default()}</td>
            <td>
                {move || if editing.get() {
                    view! {
                        <form class="inline-form" on:submit=save_labels.clone()>
                            <input class="input input-sm" data-testid="node-labels-input"
                                placeholder=tr(Key::LabelsHint) bind:value=labels_input />
                            <button class="btn btn-sm btn-primary" type="submit" data-testid="node-labels-save">{tr(Key::Save)}</button>
                            <button class="btn btn-sm btn-ghost" type="button" on:click=move |_| editing.set(false)>{tr(Key::Cancel)}</button>
                        </form>
                    }.into_any()
                } else {
                    view! { <span class="chips">{chips()}</span> }.into_any()
                }}
            </td>
            <Show when=move || admin.get()>{actions.clone()}</Show>
        </tr>
    }
}
