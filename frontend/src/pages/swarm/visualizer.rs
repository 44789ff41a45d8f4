//! `/swarm/visualizer`: the nodes as columns, every service's tasks as cards in the column
//! of the node that runs them, coloured by state; live (swarm events, see
//! [`super::use_swarm_feed`]), never on a timer.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use wire::{NodeSummary, ServiceSummary, TaskSummary};

use super::{in_flight, state_class, SwarmError, SwarmTabs};
use crate::api::{self, ApiError};
use crate::components::live::LiveIndicator;
use crate::components::status::Loading;
use crate::format;
use crate::i18n::swarm::{tr, Key};

/// A task with the name of its service, as a card shows it.
#[derive(Debug, Clone, PartialEq)]
struct Card {
    service: String,
    task: TaskSummary,
}

#[derive(Debug, Clone, PartialEq)]
struct Board {
    nodes: Vec<NodeSummary>,
    cards: Vec<Card>,
}

/// The nodes, the services, then each service's tasks.
async fn fetch() -> Result<Board, ApiError> {
    let nodes = api::get::<Vec<NodeSummary>>("/api/nodes").await?;
    let services = api::get::<Vec<ServiceSummary>>("/api/services").await?;
    let mut cards = Vec::new();
    for s in services {
        let url = format!("/api/services/{}/tasks", api::enc(&s.id));
        match api::get::<Vec<TaskSummary>>(&url).await {
            Ok(tasks) => cards.extend(tasks.into_iter().map(|task| Card {
                service: s.name.clone(),
                task,
            })),
            // Removed between the two requests: it has no tasks to show.
            Err(e) if e.status == 404 => {}
            Err(e) => return Err(e),
        }
    }
    cards.sort_by(|a, b| {
        (&a.service, a.task.slot, &a.task.name).cmp(&(&b.service, b.task.slot, &b.task.name))
    });
    Ok(Board { nodes, cards })
}

#[component]
pub fn Visualizer() -> impl IntoView {
    let board = RwSignal::new(None::<Result<Board, ApiError>>);
    let show_stopped = RwSignal::new(false);
    let load = move || async move {
        let got = fetch().await;
        let moving = got
            .as_ref()
            .is_ok_and(|b| b.cards.iter().any(|c| in_flight(&c.task)));
        super::set_if_changed(board, got);
        moving
    };
    let live = super::use_swarm_feed(move |done| spawn_local(async move { done(load().await) }));
    let retry = Callback::new(move |_| {
        spawn_local(async move {
            load().await;
        })
    });
    // Columns: one per node, and one for tasks the swarm has not placed yet (if any).
    let columns = move || {
        let all = show_stopped.get();
        board.with(|b| {
            let Some(Ok(b)) = b else { return Vec::new() };
            let shown: Vec<&Card> = b
                .cards
                .iter()
                .filter(|c| all || c.task.desired_state == "running")
                .collect();
            let mut cols: Vec<(Option<NodeSummary>, Vec<Card>)> = b
                .nodes
                .iter()
                .map(|n| {
                    let here = shown
                        .iter()
                        .filter(|c| c.task.node_id.as_deref() == Some(n.id.as_str()))
                        .map(|c| (*c).clone())
                        .collect();
                    (Some(n.clone()), here)
                })
                .collect();
            let known = |c: &&&Card| {
                c.task
                    .node_id
                    .as_deref()
                    .is_some_and(|id| b.nodes.iter().any(|n| n.id == id))
            };
            let unplaced: Vec<Card> = shown
                .iter()
                .filter(|c| !known(c))
                .map(|c| (*c).clone())
                .collect();
            if !unplaced.is_empty() {
                cols.push((None, unplaced));
            }
            cols
        })
    };

    view! {
        <section class="page swarm-page" data-testid="visualizer-page">
            <div class="page-head">
                <h1>{tr(Key::Visualizer)}</h1>
                <LiveIndicator state=live />
            </div>
            <SwarmTabs />
            <div class="toolbar">
                <label class="check">
                    <input type="checkbox" data-testid="visualizer-show-stopped" bind:checked=show_stopped />
                    <span>{tr(Key::ShowStopped)}</span>
                </label>
            </div>
            {move || match board.with(|b| b.as_ref().map(|r| r.as_ref().err().cloned())) {
                None => Some(view! { <Loading /> }.into_any()),
                Some(Some(err)) => Some(view! { <SwarmError err retry /> }.into_any()),
                Some(None) => None,
            }}
            <div class="viz" data-testid="visualizer">
                // Keyed by what the column shows: an unchanged column keeps its DOM.
                <For each=columns key=|(n, cards)| format!("{n:?}{cards:?}") let:col>
                    <Column node=col.0 cards=col.1 />
                </For>
            </div>
        </section>
    }
}

#[component]
fn Column(node: Option<NodeSummary>, cards: Vec<Card>) -> impl IntoView {
    let (name, meta) = match &node {
        Some(n) => (
            n.hostname.clone(),
            Some(format!(
                "{} · {} · {} · {} CPU · {}",
                n.role,
                n.availability,
                n.state,
                n.cpus,
                format::bytes(n.memory_bytes)
            )),
        ),
        None => (String::new(), None),
    };
    let down = node.as_ref().is_some_and(|n| n.state != "ready");
    let title = name.clone();
    view! {
        <div class="viz-col" class:viz-col-down=down data-testid="viz-node" data-name=name.clone()>
            <div class="viz-col-head">
                {if node.is_some() {
                    view! { <strong class="mono">{title}</strong> }.into_any()
                } else {
                    view! { <strong>{tr(Key::Unassigned)}</strong> }.into_any()
                }}
                {node.as_ref().is_some_and(|n| n.leader).then(|| view! { " " <span class="badge state-running">{tr(Key::Leader)}</span> })}
                {meta.map(|m| view! { <div class="viz-col-meta muted">{m}</div> })}
            </div>
            <div class="viz-cards">
                {cards.into_iter().map(|c| {
                    let href = format!("/swarm/services/{}", api::enc(&c.service));
                    let label = match c.task.slot {
                        Some(slot) if slot > 0 => format!("{}.{slot}", c.service),
                        _ => c.service.clone(),
                    };
                    let class = format!("task-card {}", state_class(&c.task.state));
                    let title = c.task.error.clone().or(c.task.message.clone()).unwrap_or_default();
                    let (state, state_text) = (c.task.state.clone(), c.task.state.clone());
                    let (service, node, image) = (c.service.clone(), name.clone(), c.task.image.clone());
                    view! {
                        <A href=href
                            attr:class=class
                            attr:data-testid="task-card"
                            attr:data-service=service
                            attr:data-state=state
                            attr:data-node=node
                            attr:title=title>
                            <span class="task-card-name">{label}</span>
                            <span class="task-card-image mono">{image}</span>
                            <span class="task-card-state">{state_text}</span>
                        </A>
                    }
                }).collect_view()}
            </div>
        </div>
    }
}
