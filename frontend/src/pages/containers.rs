//! `/containers`: every container, kept current by the daemon's event stream.

use leptos::prelude::*;
use leptos_router::components::A;
use wire::ContainerSummary;

use crate::api::{self, ApiError};
use crate::components::actions::{ActionButtons, ContainerAction};
use crate::components::live::{is_noise, use_container_events, LiveIndicator};
use crate::components::status::{ErrorPanel, Loading, StateBadge};
use crate::format;
use crate::i18n::{ago, error_text, tr, use_i18n, Key};

/// What the body of the page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    Loading,
    Failed(ApiError),
    Empty,
    NoMatches,
    Table,
}

#[component]
pub fn Containers() -> impl IntoView {
    let i18n = use_i18n();
    let list = LocalResource::new(|| api::get::<Vec<ContainerSummary>>("/api/containers?all=true"));
    // Whether each container's tag has moved on in its registry (issue 16). Asked apart from
    // the list, so a slow registry never holds the list up.
    let updates = LocalResource::new(|| api::get::<Vec<wire::UpdateInfo>>("/api/updates"));
    let update_rows = Memo::new(move |_| match updates.get() {
        Some(Ok(rows)) => rows
            .into_iter()
            .map(|u| (u.container.clone(), u))
            .collect::<std::collections::HashMap<_, _>>(),
        _ => Default::default(),
    });
    let live = use_container_events(|event| !is_noise(event), move || list.refetch());

    let filter = RwSignal::new(String::new());
    let running_only = RwSignal::new(false);
    let action_error = RwSignal::new(None::<String>);

    // The last good list. A refetch keeps showing it until the new one arrives, and a
    // failed refetch keeps it too (the error then shows above it).
    let rows = Memo::new(
        move |prev: Option<&Vec<ContainerSummary>>| match list.get() {
            Some(Ok(rows)) => rows,
            _ => prev.cloned().unwrap_or_default(),
        },
    );
    let visible = Memo::new(move |_| {
        let needle = filter.get().trim().to_lowercase();
        let running_only = running_only.get();
        rows.with(|rows| {
            rows.iter()
                .filter(|c| !running_only || c.state == "running")
                .filter(|c| {
                    needle.is_empty()
                        || c.names.iter().any(|n| n.to_lowercase().contains(&needle))
                        || c.image.to_lowercase().contains(&needle)
                })
                .map(|c| c.id.clone())
                .collect::<Vec<_>>()
        })
    });
    let phase = Memo::new(move |_| match list.get() {
        None => Phase::Loading,
        Some(Err(e)) if rows.with(Vec::is_empty) => Phase::Failed(e),
        _ if rows.with(Vec::is_empty) => Phase::Empty,
        _ if visible.with(Vec::is_empty) => Phase::NoMatches,
        _ => Phase::Table,
    });

    let on_done = Callback::new(
        move |(_, result): (ContainerAction, Result<(), ApiError>)| {
            if let Err(e) = result {
                action_error.set(Some(error_text(i18n.lang.get_untracked(), &e)));
            }
            // The event stream would tell us too, but not if the socket is down right now.
            list.refetch();
        },
    );
    let retry = Callback::new(move |_| list.refetch());

    let table = move || {
        view! {
            <div class="table-wrap">
                <table class="table containers-table">
                    <thead>
                        <tr>
                            <th>{tr(Key::ColName)}</th>
                            <th>{tr(Key::ColImage)}</th>
                            <th>{tr(Key::ColState)}</th>
                            <th>{tr(Key::ColStatus)}</th>
                            <th>{tr(Key::ColPorts)}</th>
                            <th>{tr(Key::ColCreated)}</th>
                            <th class="col-actions">{tr(Key::ColActions)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || visible.get() key=|id| id.clone() let:id>
                            <Row id rows updates=update_rows on_done />
                        </For>
                    </tbody>
                </table>
            </div>
        }
    };

    view! {
        <section class="page" data-testid="containers-page">
            <div class="page-head">
                <h1>{tr(Key::NavContainers)}</h1>
                <LiveIndicator state=live />
                <A href="/containers/new" attr:class="btn btn-primary" attr:data-testid="new-container">
                    {crate::i18n::containers_more::tr(crate::i18n::containers_more::Key::NewContainer)}
                </A>
            </div>
            <div class="toolbar">
                <input
                    type="search"
                    class="input filter"
                    data-testid="filter"
                    placeholder=tr(Key::FilterPlaceholder)
                    aria-label=tr(Key::FilterPlaceholder)
                    bind:value=filter
                />
                <label class="check">
                    <input type="checkbox" data-testid="running-only" bind:checked=running_only />
                    <span>{tr(Key::RunningOnly)}</span>
                </label>
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
                                    title=tr(Key::Dismiss)
                                    on:click=move |_| action_error.set(None)
                                >
                                    "×"
                                </button>
                            </div>
                        }
                    })
            }}
            {move || match phase.get() {
                Phase::Loading => view! { <Loading /> }.into_any(),
                Phase::Failed(err) => view! { <ErrorPanel err retry /> }.into_any(),
                Phase::Empty => {
                    view! {
                        <div class="panel state-panel" data-testid="empty">
                            <p>{tr(Key::EmptyContainers)}</p>
                        </div>
                    }
                        .into_any()
                }
                Phase::NoMatches => {
                    view! {
                        <div class="panel state-panel" data-testid="no-matches">
                            <p>{tr(Key::NoMatches)}</p>
                        </div>
                    }
                        .into_any()
                }
                Phase::Table => table().into_any(),
            }}
        </section>
    }
}

/// One container. Keyed by id in the `<For>`, so it stays mounted (and keeps its spinner)
/// while the list refreshes; its cells follow the latest data for its id.
#[component]
fn Row(
    id: String,
    rows: Memo<Vec<ContainerSummary>>,
    updates: Memo<std::collections::HashMap<String, wire::UpdateInfo>>,
    on_done: Callback<(ContainerAction, Result<(), ApiError>)>,
) -> impl IntoView {
    use crate::i18n::automation::{tr as atr, Key as AKey};
    let status = {
        let id = id.clone();
        move || updates.with(|u| u.get(&id).map(|u| u.status.clone()).unwrap_or_default())
    };
    let updating = RwSignal::new(false);
    let start_update = {
        let id = id.clone();
        move |_| {
            let url = format!("/api/containers/{}/update", api::enc(&id));
            updating.set(true);
            leptos::task::spawn_local(async move {
                let res = api::call::<(), wire::JobStarted>(api::Method::Post, &url, None).await;
                if let Err(e) = res {
                    updating.set(false);
                    on_done.run((ContainerAction::Restart, Err(e)));
                }
            });
        }
    };
    let i18n = use_i18n();
    let row = Memo::new({
        let id = id.clone();
        move |_| rows.with(|rows| rows.iter().find(|c| c.id == id).cloned())
    });
    let field = move |f: fn(&ContainerSummary) -> String| {
        move || row.with(|r| r.as_ref().map(f).unwrap_or_default())
    };
    let name = field(|c| c.display_name().to_string());
    let state = Signal::derive(field(|c| c.state.clone()));
    let created = move || row.with(|r| r.as_ref().map(|c| c.created).unwrap_or_default());
    let href = format!("/containers/{}", api::enc(&id));

    view! {
        <tr data-testid="container-row" data-name=name data-id=id.clone()>
            <td class="cell-name" data-label=tr(Key::ColName)>
                <A href=href attr:class="name-link">
                    {name}
                </A>
            </td>
            <td class="cell-image" data-label=tr(Key::ColImage)>
                <span class="mono">{field(|c| c.image.clone())}</span>
            </td>
            <td data-label=tr(Key::ColState)>
                <StateBadge state />
                {move || match status().as_str() {
                    "available" => view! {
                        <span class="badge badge-warn" data-testid="update-badge">{atr(AKey::UpdateAvailable)}</span>
                        <button class="btn btn-sm" data-testid="update-container" disabled=move || updating.get()
                            on:click=start_update.clone()>
                            {move || if updating.get() { atr(AKey::Updating)() } else { atr(AKey::Update)() }}
                        </button>
                    }.into_any(),
                    "pinned" => view! { <span class="muted" data-testid="update-pinned">{atr(AKey::Pinned)}</span> }.into_any(),
                    "local" => view! { <span class="muted" data-testid="update-local">{atr(AKey::LocalImage)}</span> }.into_any(),
                    _ => ().into_any(),
                }}
            </td>
            <td class="muted" data-label=tr(Key::ColStatus)>
                {field(|c| c.status.clone())}
            </td>
            <td class="cell-ports" data-label=tr(Key::ColPorts)>
                <div class="ports">
                    {move || {
                        row.with(|r| {
                            r.iter()
                                .flat_map(|c| c.ports.iter())
                                .map(|p| view! { <span class="port mono">{format::port(p)}</span> })
                                .collect_view()
                        })
                    }}
                </div>
            </td>
            <td class="muted nowrap" data-label=tr(Key::ColCreated)>
                <time title=move || {
                    format::local_time_secs(created(), i18n.lang.get().code())
                }>{move || ago(i18n.lang.get(), format::now_secs() - created())}</time>
            </td>
            <td class="col-actions" data-label=tr(Key::ColActions)>
                <ActionButtons id=id.clone() state on_done name=Signal::derive(name) />
            </td>
        </tr>
    }
}
