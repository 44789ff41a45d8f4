//! `/containers`: every container as a dense, sortable, filterable, paged list (issue 19),
//! kept current by the daemon's event stream (no polling). Rows can be grouped by stack and
//! selected for bulk start/stop/restart/kill/remove.
//!
//! The list is one `GET /api/containers?all=true`; everything else (filter, sort, groups,
//! pages) is done here on that data, in [`model`], so a live refresh only re-renders the
//! rows whose data changed and keeps the page, the sort and the selection.

mod model;
mod row;

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use wire::{ContainerSummary, EnvironmentInfo};

use crate::api::{self, ApiError};
use crate::components::actions::ContainerAction;
use crate::components::confirm::ConfirmPrompt;
use crate::components::live::{is_noise, use_container_events, LiveIndicator};
use crate::components::status::{ErrorPanel, Loading};
use crate::i18n::lists::{self, tr as ltr, Bulk, Key as LKey};
use crate::i18n::{error_text, t, tr, use_i18n, Key};
use crate::prefs;
use model::{Col, Item, Sort, DEFAULT_PAGE_SIZE, PAGE_SIZES};
use row::{GroupRow, Row};

/// Remembered per browser: rows per page, and whether the list is grouped by stack.
const PAGE_SIZE_KEY: &str = "berth.containers.pageSize";
const GROUP_KEY: &str = "berth.containers.groupByStack";
/// Columns of the table, for a group header's `colspan`.
const COLUMNS: usize = 11;
/// Bulk actions run this many requests at a time: quick for 250 rows, and the daemon is
/// not handed hundreds of stops at once.
const BULK_PARALLEL: usize = 4;

/// What a bulk action (or a row's own) left on a row.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RowResult {
    Busy,
    Done(Key),
    Failed(String),
}

/// What the rows share with the page: the data, the selection and the results.
#[derive(Clone, Copy)]
struct ListCtx {
    rows: Memo<Vec<ContainerSummary>>,
    /// id → position in `rows`.
    index: Memo<HashMap<String, usize>>,
    updates: Memo<HashMap<String, wire::UpdateInfo>>,
    selected: RwSignal<HashSet<String>>,
    results: RwSignal<HashMap<String, RowResult>>,
    collapsed: RwSignal<HashSet<String>>,
    /// The row whose box was ticked last: a shift-click selects from there.
    anchor: RwSignal<Option<String>>,
    /// The ids on the page shown, top to bottom.
    page_ids: Memo<Vec<String>>,
    /// Where published ports are opened (see [`model::port_host`]).
    port_host: Memo<String>,
    refresh: Callback<()>,
}

/// What the body of the page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    Loading,
    Failed(ApiError),
    Empty,
    NoMatches,
    Table,
}

/// A bulk action waiting for its confirmation: what, and the ids as they were selected
/// when the button was pressed (what the question names is exactly what goes).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pending {
    bulk: Bulk,
    ids: Vec<String>,
}

fn action_of(bulk: Bulk) -> ContainerAction {
    match bulk {
        Bulk::Start => ContainerAction::Start,
        Bulk::Stop => ContainerAction::Stop,
        Bulk::Restart => ContainerAction::Restart,
        Bulk::Kill => ContainerAction::Kill,
        Bulk::Remove => ContainerAction::Remove,
    }
}

fn label_of(bulk: Bulk) -> Key {
    match bulk {
        Bulk::Start => Key::ActionStart,
        Bulk::Stop => Key::ActionStop,
        Bulk::Restart => Key::ActionRestart,
        Bulk::Kill => Key::ActionKill,
        Bulk::Remove => Key::ActionRemove,
    }
}

fn slug_of(bulk: Bulk) -> &'static str {
    action_of(bulk).slug()
}

/// Runs `bulk` on every id, [`BULK_PARALLEL`] at a time; each row shows its own outcome,
/// and `outcome` gets the totals once all are done.
fn run_bulk(
    ctx: ListCtx,
    bulk: Bulk,
    ids: Vec<String>,
    lang: crate::i18n::Lang,
    running: RwSignal<bool>,
    outcome: RwSignal<Option<(usize, usize)>>,
) {
    let action = action_of(bulk);
    ctx.results.update(|r| {
        // A new action, new results: the last one's marks go (a row still working on
        // an earlier action keeps its spinner).
        r.retain(|_, v| *v == RowResult::Busy);
        for id in &ids {
            r.insert(id.clone(), RowResult::Busy);
        }
    });
    running.set(true);
    outcome.set(None);
    let queue = Rc::new(RefCell::new(VecDeque::from(ids)));
    let workers = Rc::new(Cell::new(BULK_PARALLEL));
    let totals = Rc::new(Cell::new((0usize, 0usize)));
    for _ in 0..BULK_PARALLEL {
        let (queue, workers, totals) = (queue.clone(), workers.clone(), totals.clone());
        spawn_local(async move {
            loop {
                let next = queue.borrow_mut().pop_front();
                let Some(id) = next else { break };
                let res = action.run(&id).await;
                let (ok, failed) = totals.get();
                let result = match res {
                    Ok(()) => {
                        totals.set((ok + 1, failed));
                        RowResult::Done(label_of(bulk))
                    }
                    Err(e) => {
                        totals.set((ok, failed + 1));
                        RowResult::Failed(error_text(lang, &e))
                    }
                };
                ctx.results.try_update(|r| {
                    r.insert(id, result);
                });
            }
            workers.set(workers.get() - 1);
            if workers.get() == 0 {
                running.try_set(false);
                outcome.try_set(Some(totals.get()));
                ctx.refresh.run(());
            }
        });
    }
}

/// A column header that sorts by its column; a second click turns the order round.
#[component]
fn SortTh(
    col: Col,
    sort: RwSignal<Sort>,
    page_index: RwSignal<usize>,
    #[prop(into)] label: Signal<String>,
    #[prop(optional)] class: &'static str,
) -> impl IntoView {
    let lang = use_i18n().lang;
    let aria = move || {
        let s = sort.get();
        match (s.col == col, s.asc) {
            (false, _) => "none",
            (true, true) => "ascending",
            (true, false) => "descending",
        }
    };
    view! {
        <th class=class aria-sort=aria>
            <button
                type="button"
                class="sort-btn"
                data-testid=format!("sort-{}", col.slug())
                title=move || format!("{} {}", lists::t(lang.get(), LKey::SortBy), label.get())
                on:click=move |_| {
                    sort.update(|s| *s = s.clicked(col));
                    page_index.set(0);
                }
            >
                {move || label.get()}
                <span class="sort-caret" aria-hidden="true">
                    {move || match aria() {
                        "ascending" => "▲",
                        "descending" => "▼",
                        _ => "",
                    }}
                </span>
            </button>
        </th>
    }
}

#[component]
pub fn Containers() -> impl IntoView {
    let i18n = use_i18n();
    let lang = i18n.lang;
    let list = LocalResource::new(|| api::get::<Vec<ContainerSummary>>("/api/containers?all=true"));
    // Whether each container's tag has moved on in its registry (issue 16). Asked apart from
    // the list, so a slow registry never holds the list up.
    let updates = LocalResource::new(|| api::get::<Vec<wire::UpdateInfo>>("/api/updates"));
    let update_rows = Memo::new(move |_| match updates.get() {
        Some(Ok(rows)) => rows
            .into_iter()
            .map(|u| (u.container.clone(), u))
            .collect::<HashMap<_, _>>(),
        _ => Default::default(),
    });
    // The environment's address, for the links of published ports.
    let envs = LocalResource::new(|| api::get::<Vec<EnvironmentInfo>>("/api/environments"));
    let port_host = Memo::new(move |_| {
        let envs = envs.get().and_then(Result::ok).unwrap_or_default();
        let browser = window().location().hostname().unwrap_or_default();
        model::port_host(&envs, api::current_env().as_deref(), &browser)
    });
    let live = use_container_events(|event| !is_noise(event), move || list.refetch());

    let filter = RwSignal::new(String::new());
    let running_only = RwSignal::new(false);
    let group = RwSignal::new(prefs::get(GROUP_KEY).as_deref() == Some("1"));
    let sort = RwSignal::new(Sort::default());
    let page_size = RwSignal::new(
        prefs::get(PAGE_SIZE_KEY)
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| PAGE_SIZES.contains(n))
            .unwrap_or(DEFAULT_PAGE_SIZE),
    );
    let page_index = RwSignal::new(0usize);
    let collapsed = RwSignal::new(HashSet::<String>::new());
    let selected = RwSignal::new(HashSet::<String>::new());
    let results = RwSignal::new(HashMap::<String, RowResult>::new());

    // The last good list. A refetch keeps showing it until the new one arrives, and a
    // failed refetch keeps it too (the error then shows above it).
    let rows = Memo::new(
        move |prev: Option<&Vec<ContainerSummary>>| match list.get() {
            Some(Ok(rows)) => rows,
            _ => prev.cloned().unwrap_or_default(),
        },
    );
    let index = Memo::new(move |_| {
        rows.with(|rows| {
            rows.iter()
                .enumerate()
                .map(|(i, c)| (c.id.clone(), i))
                .collect::<HashMap<_, _>>()
        })
    });
    let page = Memo::new(move |_| {
        let needle = filter.get().trim().to_lowercase();
        let query = model::Query {
            needle: &needle,
            running_only: running_only.get(),
            sort: sort.get(),
            group: group.get(),
            index: page_index.get(),
            size: page_size.get(),
        };
        collapsed.with(|c| rows.with(|rows| model::page(rows, &query, c)))
    });
    let ctx = ListCtx {
        rows,
        index,
        updates: update_rows,
        selected,
        results,
        collapsed,
        port_host,
        anchor: RwSignal::new(None),
        page_ids: Memo::new(move |_| page.with(|p| p.ids.clone())),
        refresh: Callback::new(move |()| list.refetch()),
    };

    // A new filter starts at the first page; a live refresh keeps the page (clamped).
    Effect::new(move |prev: Option<()>| {
        filter.track();
        running_only.track();
        group.track();
        if prev.is_some() {
            page_index.set(0);
        }
    });

    // The selection, without containers that are gone, in the list's order.
    let chosen = Memo::new(move |_| {
        selected.with(|s| {
            rows.with(|rows| {
                rows.iter()
                    .filter(|c| s.contains(&c.id))
                    .map(|c| c.id.clone())
                    .collect::<Vec<_>>()
            })
        })
    });
    let name_of = move |id: &str| {
        index.with_untracked(|ix| {
            ix.get(id)
                .and_then(|&i| {
                    rows.with_untracked(|r| r.get(i).map(|c| c.display_name().to_owned()))
                })
                .unwrap_or_else(|| model::short_id(id).to_owned())
        })
    };

    let phase = Memo::new(move |_| match list.get() {
        None => Phase::Loading,
        Some(Err(e)) if rows.with(Vec::is_empty) => Phase::Failed(e),
        _ if rows.with(Vec::is_empty) => Phase::Empty,
        _ if page.with(|p| p.items.is_empty()) => Phase::NoMatches,
        _ => Phase::Table,
    });
    let retry = Callback::new(move |_| list.refetch());

    // Bulk actions.
    let pending = RwSignal::new(None::<Pending>);
    let confirm_open = RwSignal::new(false);
    let bulk_running = RwSignal::new(false);
    let outcome = RwSignal::new(None::<(usize, usize)>);
    // A new selection starts without the last action's totals.
    Effect::new(move |prev: Option<()>| {
        selected.track();
        if prev.is_some() {
            outcome.set(None);
        }
    });
    let ask = move |bulk: Bulk| {
        let ids = chosen.get_untracked();
        if ids.is_empty() || bulk_running.get_untracked() {
            return;
        }
        if bulk == Bulk::Start {
            // Starting takes nothing away: no question.
            run_bulk(ctx, bulk, ids, lang.get_untracked(), bulk_running, outcome);
        } else {
            pending.set(Some(Pending { bulk, ids }));
            confirm_open.set(true);
        }
    };
    let question = Signal::derive(move || {
        pending
            .get()
            .map(|p| {
                let names: Vec<String> = p.ids.iter().map(|id| name_of(id)).collect();
                lists::bulk_question(lang.get(), p.bulk, &names)
            })
            .unwrap_or_default()
    });
    let confirm_label = Signal::derive(move || {
        pending
            .get()
            .map(|p| t(lang.get(), label_of(p.bulk)).to_owned())
            .unwrap_or_default()
    });
    let on_confirm = Callback::new(move |()| {
        if let Some(p) = pending.get_untracked() {
            pending.set(None);
            run_bulk(
                ctx,
                p.bulk,
                p.ids,
                lang.get_untracked(),
                bulk_running,
                outcome,
            );
        }
    });
    let bulk_button = move |bulk: Bulk| {
        let danger = matches!(bulk, Bulk::Kill | Bulk::Remove);
        view! {
            <button
                type="button"
                class="btn btn-sm"
                class:btn-danger=danger
                data-testid=format!("bulk-{}", slug_of(bulk))
                disabled=move || bulk_running.get()
                on:click=move |_| ask(bulk)
            >
                {tr(label_of(bulk))}
            </button>
        }
    };
    let bulk_bar = move || {
        (!chosen.with(Vec::is_empty)).then(|| {
            view! {
                <div class="bulk-bar" data-testid="bulk-bar" role="region" aria-label=ltr(LKey::Select)>
                    <strong data-testid="bulk-count">
                        {move || lists::selected(lang.get(), chosen.with(Vec::len))}
                    </strong>
                    <div class="bulk-actions">
                        {[Bulk::Start, Bulk::Stop, Bulk::Restart, Bulk::Kill, Bulk::Remove]
                            .into_iter()
                            .map(bulk_button)
                            .collect_view()}
                        <button
                            type="button"
                            class="btn btn-sm btn-ghost"
                            data-testid="bulk-clear"
                            on:click=move |_| selected.set(HashSet::new())
                        >
                            {ltr(LKey::ClearSelection)}
                        </button>
                    </div>
                    {move || bulk_running.get().then(|| view! { <span class="spinner spinner-sm" aria-hidden="true"></span> })}
                    {move || outcome.get().map(|(ok, failed)| {
                        let any_failed = failed > 0;
                        view! {
                        <span class="bulk-outcome" class:bulk-failed=any_failed data-testid="bulk-outcome">
                            {lists::bulk_outcome(lang.get(), ok, failed)}
                        </span>
                    }})}
                    <ConfirmPrompt open=confirm_open question confirm_label on_confirm />
                </div>
            }
        })
    };

    // The header's checkbox: every row of this page.
    let page_state = move || {
        let ids = page.with(|p| p.ids.clone());
        selected.with(|s| {
            let n = ids.iter().filter(|id| s.contains(*id)).count();
            (n > 0 && n == ids.len(), n > 0 && n < ids.len())
        })
    };
    let toggle_page = move |_| {
        let ids = page.with_untracked(|p| p.ids.clone());
        let (all, _) = page_state();
        selected.update(|s| {
            for id in ids {
                if all {
                    s.remove(&id);
                } else {
                    s.insert(id);
                }
            }
        });
    };

    let label = move |k: Key| Signal::derive(move || t(lang.get(), k).to_owned());
    let llabel = move |k: LKey| Signal::derive(move || lists::t(lang.get(), k).to_owned());
    let table = move || {
        view! {
            <div class="table-wrap list-wrap">
                <table class="table containers-table" data-testid="containers-table">
                    <thead>
                        <tr>
                            <th class="col-check">
                                <input
                                    type="checkbox"
                                    data-testid="select-page"
                                    aria-label=ltr(LKey::SelectPage)
                                    title=ltr(LKey::SelectPage)
                                    prop:checked=move || page_state().0
                                    prop:indeterminate=move || page_state().1
                                    on:change=toggle_page
                                />
                            </th>
                            <SortTh col=Col::Name sort page_index label=label(Key::ColName) />
                            <SortTh col=Col::Id sort page_index label=llabel(LKey::ColId) />
                            <SortTh col=Col::Image sort page_index label=label(Key::ColImage) />
                            <SortTh col=Col::State sort page_index label=label(Key::ColState) />
                            <SortTh col=Col::Status sort page_index label=label(Key::ColStatus) />
                            <SortTh col=Col::Stack sort page_index label=llabel(LKey::ColStack) />
                            <SortTh col=Col::Ips sort page_index label=llabel(LKey::ColIps) />
                            <SortTh col=Col::Ports sort page_index label=label(Key::ColPorts) />
                            <SortTh col=Col::Created sort page_index label=label(Key::ColCreated) />
                            <th class="col-actions">{tr(Key::ColActions)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || page.with(|p| p.items.clone()) key=Item::key let:item>
                            {match item {
                                Item::Row(id) => view! { <Row id ctx /> }.into_any(),
                                Item::Group(group) => view! { <GroupRow group ctx columns=COLUMNS /> }.into_any(),
                            }}
                        </For>
                    </tbody>
                </table>
            </div>
        }
    };

    let pager = move || {
        let p = page.get();
        let at = p.index;
        // Worked out here: a `>` inside `view!` would end the tag.
        let (first_page, last_page) = (at == 0, at + 1 >= p.pages);
        view! {
            <div class="pager" data-testid="pager">
                <label class="pager-size">
                    <span class="muted">{ltr(LKey::PerPage)}</span>
                    <select
                        class="input input-sm"
                        data-testid="page-size"
                        on:change=move |ev| {
                            let Ok(n) = event_target_value(&ev).parse::<usize>() else { return };
                            // Keep the first row in view: its page at the new size.
                            let first = page.with_untracked(|p| p.index) * page_size.get_untracked();
                            page_size.set(n);
                            page_index.set(first / n.max(1));
                            prefs::set(PAGE_SIZE_KEY, &n.to_string());
                        }
                    >
                        {PAGE_SIZES
                            .iter()
                            .map(|n| view! {
                                <option value=n.to_string() selected=*n == page_size.get_untracked()>{n.to_string()}</option>
                            })
                            .collect_view()}
                    </select>
                </label>
                <span class="pager-info" data-testid="pager-info">
                    {move || lists::range(lang.get(), p.first, p.last, p.rows)}
                </span>
                <button
                    type="button"
                    class="btn btn-sm"
                    data-testid="page-prev"
                    aria-label=ltr(LKey::PrevPage)
                    title=ltr(LKey::PrevPage)
                    disabled=first_page
                    on:click=move |_| page_index.set(at.saturating_sub(1))
                >
                    "‹"
                </button>
                <span class="pager-page muted" data-testid="pager-page">
                    {move || lists::page_of(lang.get(), at + 1, p.pages)}
                </span>
                <button
                    type="button"
                    class="btn btn-sm"
                    data-testid="page-next"
                    aria-label=ltr(LKey::NextPage)
                    title=ltr(LKey::NextPage)
                    disabled=last_page
                    on:click=move |_| page_index.set(at + 1)
                >
                    "›"
                </button>
            </div>
        }
    };

    view! {
        <section class="page page-list" data-testid="containers-page">
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
                <label class="check">
                    <input
                        type="checkbox"
                        data-testid="group-by-stack"
                        prop:checked=move || group.get()
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            group.set(on);
                            prefs::set(GROUP_KEY, if on { "1" } else { "0" });
                        }
                    />
                    <span>{ltr(LKey::GroupByStack)}</span>
                </label>
            </div>
            {bulk_bar}
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
                Phase::Table => view! { {table()} {pager} }.into_any(),
            }}
        </section>
    }
}
