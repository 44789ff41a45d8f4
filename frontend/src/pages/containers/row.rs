//! One line of the containers list: a container's row (checkbox, cells, a start/stop
//! toggle and a small menu with the rest) or a stack's group header.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use wasm_bindgen::{JsCast, JsValue};
use wire::ContainerSummary;

use super::model::{self, Group};
use super::{ListCtx, RowResult};
use crate::api::{self, ApiError};
use crate::components::actions::{ActionButtons, ContainerAction};
use crate::components::status::{status_text, StateBadge};
use crate::format;
use crate::i18n::containers_more::{tr as ctr, Key as CKey};
use crate::i18n::lists::{self, tr as ltr, Key as LKey};
use crate::i18n::{ago, error_text, t, tr, use_i18n, Key};

/// The one-click action a row offers for its state; the menu has the rest.
fn toggle_for(state: &str) -> Option<ContainerAction> {
    match state {
        "running" | "restarting" => Some(ContainerAction::Stop),
        "paused" => Some(ContainerAction::Unpause),
        "created" | "exited" => Some(ContainerAction::Start),
        _ => None,
    }
}

/// Where an open menu sits: fixed to the viewport under (or above) its button, so the
/// table's scrolling card does not clip it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct MenuAt {
    top: Option<f64>,
    bottom: Option<f64>,
    right: f64,
}

/// Reads the button's place on screen. `getBoundingClientRect` through `Reflect`: the
/// `DomRect` binding is not among the web-sys features the app builds with.
fn menu_at(target: Option<web_sys::EventTarget>) -> MenuAt {
    let num = |o: &JsValue, k: &str| {
        js_sys::Reflect::get(o, &JsValue::from_str(k))
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0)
    };
    let w = window();
    let vw = w.inner_width().ok().and_then(|v| v.as_f64()).unwrap_or(0.0);
    let vh = w
        .inner_height()
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0);
    let rect = target
        .and_then(|t| {
            let f = js_sys::Reflect::get(&t, &JsValue::from_str("getBoundingClientRect")).ok()?;
            f.dyn_into::<js_sys::Function>().ok()?.call0(&t).ok()
        })
        .unwrap_or(JsValue::UNDEFINED);
    let (top, bottom, right) = (num(&rect, "top"), num(&rect, "bottom"), num(&rect, "right"));
    // Room for the menu below the button, else it opens upwards.
    let down = bottom + 260.0 < vh || top < 260.0;
    MenuAt {
        top: down.then_some(bottom + 4.0),
        bottom: (!down).then_some(vh - top + 4.0),
        right: (vw - right).max(4.0),
    }
}

/// A container's row. Keyed by id in the `<For>`, so it stays mounted (and keeps its
/// spinner, its menu and its checkbox) while the list refreshes; its cells follow the
/// latest data for its id.
#[component]
pub fn Row(id: String, ctx: ListCtx) -> impl IntoView {
    use crate::i18n::automation::{tr as atr, Key as AKey};
    let i18n = use_i18n();
    let row = Memo::new({
        let id = id.clone();
        move |_| {
            let at = ctx.index.with(|ix| ix.get(&id).copied())?;
            ctx.rows.with(|rows| rows.get(at).cloned())
        }
    });
    let result = Memo::new({
        let id = id.clone();
        move |_| ctx.results.with(|r| r.get(&id).cloned())
    });
    let busy = RwSignal::new(None::<ContainerAction>);
    let menu = RwSignal::new(None::<MenuAt>);
    let menu_button = NodeRef::<leptos::html::Button>::new();
    let menu_pop = NodeRef::<leptos::html::Div>::new();
    // An opened menu takes the focus (its first action), so the keyboard can use it.
    Effect::new(move |_| {
        if let Some(first) = menu_pop
            .get()
            .and_then(|pop| pop.query_selector("button, a").ok().flatten())
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = first.focus();
        }
    });
    let close_menu = move || {
        menu.set(None);
        if let Some(b) = menu_button.get_untracked() {
            let _ = b.focus();
        }
    };

    let on_done = Callback::new({
        let id = id.clone();
        move |(_, res): (ContainerAction, Result<(), ApiError>)| {
            let lang = i18n.lang.get_untracked();
            ctx.results.update(|r| match res {
                Ok(()) => {
                    r.remove(&id);
                }
                Err(e) => {
                    r.insert(id.clone(), RowResult::Failed(error_text(lang, &e)));
                }
            });
            menu.try_set(None);
            // The event stream would tell us too, but not if the socket is down right now.
            ctx.refresh.run(());
        }
    });

    let field = move |f: fn(&ContainerSummary) -> String| {
        move || row.with(|r| r.as_ref().map(f).unwrap_or_default())
    };
    let name = field(|c| c.display_name().to_string());
    let state = Signal::derive(field(|c| c.state.clone()));
    let created = move || row.with(|r| r.as_ref().map(|c| c.created).unwrap_or_default());
    let href = format!("/containers/{}", api::enc(&id));
    let short = model::short_id(&id).to_owned();

    let checked = {
        let id = id.clone();
        move || ctx.selected.with(|s| s.contains(&id))
    };
    // A click ticks one box; a shift-click ticks (or clears) every row of the page from
    // the last one clicked to this one, as in a file manager.
    let on_check = {
        let id = id.clone();
        move |ev: leptos::ev::MouseEvent| {
            let on = event_target_checked(&ev);
            let range = ev
                .shift_key()
                .then(|| ctx.anchor.get_untracked())
                .flatten()
                .and_then(|anchor| {
                    ctx.page_ids.with_untracked(|ids| {
                        let a = ids.iter().position(|i| *i == anchor)?;
                        let b = ids.iter().position(|i| *i == id)?;
                        Some(ids[a.min(b)..=a.max(b)].to_vec())
                    })
                })
                .unwrap_or_else(|| vec![id.clone()]);
            ctx.selected.update(|s| {
                for id in range {
                    if on {
                        s.insert(id);
                    } else {
                        s.remove(&id);
                    }
                }
            });
            ctx.anchor.set(Some(id.clone()));
        }
    };

    // Busy: the row's own action, or a bulk action on it.
    let working = move || busy.get().is_some() || matches!(result.get(), Some(RowResult::Busy));
    let toggle = {
        let id = id.clone();
        move || {
            let action = toggle_for(&state.get())?;
            let id = id.clone();
            let run = move |_| {
                if busy.get_untracked().is_some() {
                    return;
                }
                busy.set(Some(action));
                let id = id.clone();
                spawn_local(async move {
                    let res = action.run(&id).await;
                    busy.try_set(None);
                    on_done.try_run((action, res));
                });
            };
            let label = match action {
                ContainerAction::Stop => Key::ActionStop,
                ContainerAction::Unpause => Key::ActionUnpause,
                _ => Key::ActionStart,
            };
            Some(view! {
                <button
                    type="button"
                    class="btn btn-sm btn-toggle"
                    data-testid=format!("action-{}", action.slug())
                    disabled=working
                    aria-busy=move || (busy.get() == Some(action)).to_string()
                    on:click=run
                >
                    {move || {
                        (busy.get() == Some(action) || matches!(result.get(), Some(RowResult::Busy)))
                            .then(|| view! { <span class="spinner spinner-sm" aria-hidden="true"></span> })
                    }}
                    {tr(label)}
                </button>
            })
        }
    };

    let update_status = {
        let id = id.clone();
        move || {
            ctx.updates
                .with(|u| u.get(&id).map(|u| u.status.clone()).unwrap_or_default())
        }
    };
    let updating = RwSignal::new(false);
    let start_update = {
        let id = id.clone();
        move |_| {
            let url = format!("/api/containers/{}/update", api::enc(&id));
            updating.set(true);
            spawn_local(async move {
                let res = api::call::<(), wire::JobStarted>(api::Method::Post, &url, None).await;
                if let Err(e) = res {
                    updating.set(false);
                    on_done.run((ContainerAction::Restart, Err(e)));
                }
            });
        }
    };

    let stack = move || {
        row.with(|r| {
            let c = r.as_ref()?;
            Some((model::stack_of(c)?.to_owned(), model::is_compose(c)))
        })
    };
    let ips = move || row.with(|r| r.as_ref().map(|c| c.ips.clone()).unwrap_or_default());
    let ports = move || {
        let host = ctx.port_host.get();
        row.with(|r| {
            r.as_ref()
                .map(|c| model::port_views(&c.ports, &host))
                .unwrap_or_default()
        })
    };
    let dismiss = {
        let id = id.clone();
        move |_| {
            ctx.results.update(|r| {
                r.remove(&id);
            })
        }
    };
    let tab_link = {
        let id = id.clone();
        move |tab: &str| format!("/containers/{}?tab={tab}", api::enc(&id))
    };

    let row_id = id.clone();
    let id_title = id.clone();
    let is_checked = checked.clone();
    view! {
        <tr
            data-testid="container-row"
            data-name=name
            data-id=row_id
            class:row-selected=is_checked
        >
            <td class="col-check" data-label=ltr(LKey::Select)>
                <input
                    type="checkbox"
                    class="row-check"
                    data-testid="row-select"
                    aria-label=move || format!("{} {}", lists::t(i18n.lang.get(), LKey::Select), name())
                    prop:checked=checked
                    on:click=on_check
                />
            </td>
            <td class="cell-name" data-label=tr(Key::ColName)>
                <A href=href attr:class="name-link">
                    {name}
                </A>
                {move || match result.get() {
                    Some(RowResult::Done(key)) => view! {
                        <div class="row-result row-ok" data-testid="row-done">"✓ " {tr(key)}</div>
                    }.into_any(),
                    _ => ().into_any(),
                }}
            </td>
            <td class="cell-id" data-label=ltr(LKey::ColId)>
                <span class="mono" title=id_title>{short}</span>
            </td>
            <td class="cell-image" data-label=tr(Key::ColImage)>
                <span class="mono" title=field(|c| c.image.clone())>{field(|c| c.image.clone())}</span>
            </td>
            <td class="cell-state" data-label=tr(Key::ColState)>
                <StateBadge state />
                {move || match update_status().as_str() {
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
            <td class="cell-status muted" data-label=tr(Key::ColStatus) data-testid="row-status"
                title=field(|c| c.status.clone())>
                {move || status_text(i18n.lang.get(), &field(|c| c.status.clone())())}
            </td>
            <td class="cell-stack" data-label=ltr(LKey::ColStack)>
                {move || stack().map(|(s, compose)| if compose {
                    let href = format!("/stacks/{}", api::enc(&s));
                    view! { <A href=href attr:data-testid="row-stack">{s}</A> }.into_any()
                } else {
                    view! { <span data-testid="row-stack">{s}</span> }.into_any()
                })}
            </td>
            <td class="cell-ips" data-label=ltr(LKey::ColIps)>
                <span class="mono" data-testid="row-ips">{move || ips().join(" ")}</span>
            </td>
            <td class="cell-ports" data-label=tr(Key::ColPorts)>
                <div class="ports">
                    {move || {
                        ports()
                            .into_iter()
                            .map(|p| match p.href {
                                Some(href) => view! {
                                    <a class="port mono" href=href target="_blank"
                                        rel="noopener noreferrer" data-testid="port-link">{p.text}</a>
                                }.into_any(),
                                None => view! { <span class="port mono">{p.text}</span> }.into_any(),
                            })
                            .collect_view()
                    }}
                </div>
            </td>
            <td class="cell-created muted nowrap" data-label=tr(Key::ColCreated)>
                <time title=move || {
                    format::local_time_secs(created(), i18n.lang.get().code())
                }>{move || ago(i18n.lang.get(), format::now_secs() - created())}</time>
            </td>
            <td class="col-actions" data-label=tr(Key::ColActions)>
                <div class="row-actions-compact">
                    {toggle}
                    <button
                        type="button"
                        class="btn btn-sm btn-ghost row-menu-btn"
                        data-testid="row-menu"
                        node_ref=menu_button
                        aria-haspopup="menu"
                        aria-expanded=move || menu.get().is_some().to_string()
                        aria-label=ltr(LKey::MoreActions)
                        title=ltr(LKey::MoreActions)
                        on:click=move |ev| {
                            if menu.get_untracked().is_some() {
                                menu.set(None);
                            } else {
                                menu.set(Some(menu_at(ev.current_target())));
                            }
                        }
                    >
                        "⋯"
                    </button>
                </div>
                {move || menu.get().map(|at| {
                    let style = format!(
                        "right:{}px;{}",
                        at.right,
                        match (at.top, at.bottom) {
                            (Some(top), _) => format!("top:{top}px"),
                            (_, Some(bottom)) => format!("bottom:{bottom}px"),
                            _ => String::new(),
                        }
                    );
                    view! {
                        <div class="menu-backdrop" on:click=move |_| menu.set(None)
                            on:wheel=move |_| menu.set(None) on:touchmove=move |_| menu.set(None)></div>
                        <div class="row-menu-pop" role="menu" data-testid="row-menu-pop" style=style node_ref=menu_pop
                            aria-label=move || t(i18n.lang.get(), Key::Menu)
                            on:keydown=move |ev| if ev.key() == "Escape" { close_menu() }>
                            <ActionButtons id=id.clone() state on_done busy name=Signal::derive(name) />
                            <div class="row-menu-links">
                                <A href=tab_link("logs")>{move || ctr(CKey::TabLogs)()}</A>
                                <A href=tab_link("terminal")>{move || ctr(CKey::TabTerminal)()}</A>
                                <A href=tab_link("stats")>{move || ctr(CKey::TabStats)()}</A>
                            </div>
                        </div>
                    }
                })}
            </td>
        </tr>
        // An error gets the row's whole width under it: the daemon's reasons are long.
        {move || match result.get() {
            Some(RowResult::Failed(msg)) => Some(view! {
                <tr class="row-error-line" data-testid="row-error" data-name=name role="alert">
                    <td colspan=super::COLUMNS.to_string()>
                        <span class="row-error-text" title=msg.clone()>{model::short_ids(&msg)}</span>
                        <button type="button" class="link-btn" data-testid="row-error-dismiss"
                            aria-label=tr(Key::Dismiss) title=tr(Key::Dismiss) on:click=dismiss.clone()>
                            "×"
                        </button>
                    </td>
                </tr>
            }),
            _ => None,
        }}
    }
}

/// A stack's header line when the list is grouped: a toggle that folds its rows away,
/// its counts, and a link to the stack's page.
#[component]
pub fn GroupRow(group: Group, ctx: ListCtx, columns: usize) -> impl IntoView {
    let lang = use_i18n().lang;
    let Group {
        stack,
        count,
        running,
        compose,
        continued,
        ..
    } = group;
    let collapsed = {
        let stack = stack.clone();
        Memo::new(move |_| ctx.collapsed.with(|c| c.contains(&stack)))
    };
    let label = {
        let stack = stack.clone();
        move || {
            if stack.is_empty() {
                lists::t(lang.get(), LKey::NoStack).to_owned()
            } else {
                stack.clone()
            }
        }
    };
    let toggle = {
        let stack = stack.clone();
        move |_| {
            ctx.collapsed.update(|c| {
                if !c.remove(&stack) {
                    c.insert(stack.clone());
                }
            })
        }
    };
    let link = compose.then(|| {
        let href = format!("/stacks/{}", api::enc(&stack));
        view! {
            <A href=href attr:class="group-link">{ltr(LKey::OpenStack)}</A>
        }
    });
    view! {
        <tr class="group-row" data-testid="group-row" data-stack=stack.clone()>
            <td colspan=columns.to_string()>
                <button
                    type="button"
                    class="group-toggle"
                    data-testid="group-toggle"
                    aria-expanded=move || (!collapsed.get()).to_string()
                    on:click=toggle
                >
                    <span class="caret" aria-hidden="true">{move || if collapsed.get() { "▸" } else { "▾" }}</span>
                    <strong>{label}</strong>
                    {continued.then_some(" …")}
                </button>
                <span class="muted group-count" data-testid="group-count">
                    {move || lists::group_count(lang.get(), count, running)}
                </span>
                {link}
            </td>
        </tr>
    }
}
