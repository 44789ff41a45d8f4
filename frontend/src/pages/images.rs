//! `/images`: `docker images` with full ids on demand, dangling ones marked, several
//! removed at once, tag, save, load, prune with a preview, and pulls with per-layer
//! progress (several at once).

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use wire::{ImageSummary, RegistryInfo};

use crate::api::{self, Method};
use crate::app::use_session;
use crate::components::confirm::{self, ConfirmButton, PreviewList, What};
use crate::components::pull::{PullPanel, StreamTask};
use crate::components::status::{ErrorPanel, Loading};
use crate::format;
use crate::i18n::images::{tr, Key};
use crate::i18n::ux::tr as trx;
use crate::i18n::{ago, error_text, use_i18n};
use crate::stream::{self, Payload};

/// A one-line outcome shown above the table.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    Ok(String),
    Err(String),
}

/// `sha256:abcdef…` → `abcdef012345`, unless full ids are asked for.
pub fn short_id(id: &str, full: bool) -> String {
    if full {
        id.to_string()
    } else {
        let hex = id.strip_prefix("sha256:").unwrap_or(id);
        hex.chars().take(12).collect()
    }
}

#[component]
pub fn Images() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let is_admin = move || {
        session
            .me
            .with(|m| m.as_ref().is_some_and(|m| m.role == wire::Role::Admin))
    };
    let list = LocalResource::new(|| api::get::<Vec<ImageSummary>>("/api/images"));
    let registries = LocalResource::new(|| api::get::<Vec<RegistryInfo>>("/api/registries"));
    let no_trunc = RwSignal::new(false);
    let filter = RwSignal::new(String::new());
    let selected = RwSignal::new(BTreeSet::<String>::new());
    let force = RwSignal::new(false);
    // Image id → why its removal failed, shown in its row.
    let row_errors = RwSignal::new(std::collections::BTreeMap::<String, String>::new());
    let notice = RwSignal::new(None::<Notice>);
    let tagging = RwSignal::new(None::<String>);
    let pruning = RwSignal::new(false);
    let pulls = RwSignal::new(Vec::<StreamTask>::new());
    let loading = RwSignal::new(None::<StreamTask>);
    let refresh = Callback::new(move |_| list.refetch());

    let rows = Memo::new(move |prev: Option<&Vec<ImageSummary>>| match list.get() {
        Some(Ok(rows)) => rows,
        _ => prev.cloned().unwrap_or_default(),
    });
    let visible = Memo::new(move |_| {
        let needle = filter.get().trim().to_lowercase();
        rows.with(|rows| {
            rows.iter()
                .filter(|i| {
                    needle.is_empty()
                        || i.id.contains(&needle)
                        || i.repo_tags
                            .iter()
                            .any(|t| t.to_lowercase().contains(&needle))
                })
                .map(|i| i.id.clone())
                .collect::<Vec<_>>()
        })
    });

    // What each image is called on this page: its first tag, else its short id. Used to
    // name images in questions and in the daemon's messages (which carry 64-hex ids).
    let name_of = move |id: &str| -> String {
        let hex = id.strip_prefix("sha256:").unwrap_or(id);
        rows.with_untracked(|rows| {
            rows.iter()
                .find(|i| i.id.strip_prefix("sha256:").unwrap_or(&i.id) == hex)
                .and_then(|i| i.repo_tags.first().cloned())
        })
        .unwrap_or_else(|| short_id(id, false))
    };
    // Removes `images`; each one that fails gets its error next to its own row.
    let remove = Callback::new(move |images: Vec<String>| {
        if images.is_empty() {
            return;
        }
        let body = wire::RemoveImages {
            images,
            force: force.get_untracked(),
        };
        spawn_local(async move {
            let res = api::call::<_, Vec<wire::RemoveOutcome>>(
                Method::Post,
                "/api/images/remove",
                Some(&body),
            )
            .await;
            let lang = i18n.lang.get_untracked();
            match res {
                Ok(outcomes) => {
                    let mut errors = row_errors.get_untracked();
                    let mut removed = 0;
                    for o in &outcomes {
                        match &o.error {
                            Some(e) => {
                                let msg = format::name_ids(&e.message, |hex| Some(name_of(hex)));
                                errors.insert(o.image.clone(), msg);
                            }
                            None => {
                                removed += 1;
                                errors.remove(&o.image);
                            }
                        }
                    }
                    let failed = outcomes.len() - removed;
                    row_errors.set(errors);
                    notice.set(Some(if failed == 0 {
                        Notice::Ok(format!(
                            "{} {removed}",
                            crate::i18n::images::t(lang, Key::Removed)
                        ))
                    } else {
                        Notice::Err(crate::i18n::ux::not_removed(lang, removed, failed))
                    }));
                    selected.update(|s| {
                        for o in outcomes.iter().filter(|o| o.error.is_none()) {
                            s.remove(&o.image);
                        }
                    });
                }
                Err(e) => notice.set(Some(Notice::Err(error_text(lang, &e)))),
            }
            list.refetch();
        });
    });
    // The question names the first few; a long selection ends in "and N more".
    let selected_names = move || {
        selected.with(|s| {
            let mut names = s
                .iter()
                .take(confirm::PREVIEW_ITEMS)
                .map(|id| format!("“{}”", name_of(id)))
                .collect::<Vec<_>>()
                .join(", ");
            if s.len() > confirm::PREVIEW_ITEMS {
                let more = s.len() - confirm::PREVIEW_ITEMS;
                names.push(' ');
                names.push_str(&crate::i18n::ux::and_more(i18n.lang.get(), more));
            }
            names
        })
    };

    let save_href = move || {
        let names: Vec<String> = selected.get().into_iter().collect();
        format!("/api/images/save?names={}", api::enc(&names.join(",")))
    };

    let load_input = NodeRef::<leptos::html::Input>::new();
    let on_load = move |_| {
        let Some(file) = load_input
            .get()
            .and_then(|input| input.files())
            .and_then(|files| files.get(0))
        else {
            return;
        };
        let task = StreamTask::new(0, file.name());
        loading.set(Some(task.clone()));
        let blob: web_sys::Blob = file.into();
        spawn_local(async move {
            let res = stream::post_lines("/api/images/load", Payload::Blob(blob), move |lines| {
                loading.update(|t| {
                    if let Some(t) = t.as_mut() {
                        t.fold(&lines);
                    }
                });
            })
            .await;
            if let Err(e) = res {
                loading.update(|t| {
                    if let Some(t) = t.as_mut() {
                        t.fail(error_text(i18n.lang.get_untracked(), &e));
                    }
                });
            }
            list.refetch();
        });
    };

    let phase = move || match list.get() {
        None => view! { <Loading /> }.into_any(),
        Some(Err(err)) if rows.with(Vec::is_empty) => {
            view! { <ErrorPanel err retry=refresh /> }.into_any()
        }
        _ if rows.with(Vec::is_empty) => view! {
            <div class="panel state-panel" data-testid="images-empty">
                <p>{tr(Key::EmptyImages)}</p>
            </div>
        }
        .into_any(),
        _ if visible.with(Vec::is_empty) => view! {
            <div class="panel state-panel" data-testid="no-matches">
                <p>{tr(Key::NoMatches)}</p>
            </div>
        }
        .into_any(),
        _ => view! { <Table rows visible no_trunc selected tagging row_errors force remove /> }
            .into_any(),
    };

    view! {
        <section class="page" data-testid="images-page">
            <div class="page-head">
                <h1>{tr(Key::NavImages)}</h1>
                <div class="actions">
                    <A href="/images/build" attr:class="btn" attr:data-testid="open-build">
                        {tr(Key::Build)}
                    </A>
                    <label class="btn">
                        {tr(Key::Load)}
                        <input
                            type="file"
                            class="visually-hidden"
                            accept=".tar,.tar.gz,.tgz,application/x-tar"
                            data-testid="load-input"
                            node_ref=load_input
                            on:change=on_load
                        />
                    </label>
                    <button
                        type="button"
                        class="btn"
                        data-testid="open-prune"
                        on:click=move |_| pruning.update(|p| *p = !*p)
                    >
                        {tr(Key::Prune)}
                    </button>
                </div>
            </div>
            <PullPanel pulls registries=Signal::derive(move || {
                registries.get().and_then(Result::ok).unwrap_or_default()
            }) on_done=refresh />
            {move || loading.get().map(|task| view! { <crate::components::pull::TaskCard task /> })}
            {move || {
                notice
                    .get()
                    .map(|n| {
                        let (class, text) = match n {
                            Notice::Ok(t) => ("banner", t),
                            Notice::Err(t) => ("banner banner-error", t),
                        };
                        view! {
                            <div class=class data-testid="images-notice" role="status">
                                <span class="banner-text">{text}</span>
                                <button
                                    type="button"
                                    class="icon-btn"
                                    aria-label=tr(Key::Dismiss)
                                    on:click=move |_| notice.set(None)
                                >
                                    "×"
                                </button>
                            </div>
                        }
                    })
            }}
            {move || pruning.get().then(|| view! { <PrunePanel is_admin=Signal::derive(is_admin) notice on_done=refresh /> })}
            {move || {
                tagging
                    .get()
                    .map(|id| view! { <TagPanel id tagging notice on_done=refresh /> })
            }}
            <div class="toolbar">
                <input
                    type="search"
                    class="input filter"
                    data-testid="images-filter"
                    placeholder=tr(Key::FilterImages)
                    aria-label=tr(Key::FilterImages)
                    bind:value=filter
                />
                <label class="check">
                    <input type="checkbox" data-testid="no-trunc" bind:checked=no_trunc />
                    <span>{tr(Key::NoTrunc)}</span>
                </label>
                <span class="muted" data-testid="selected-count">
                    {move || selected.with(BTreeSet::len)}
                    " "
                    {tr(Key::Selected)}
                </span>
                <label class="check">
                    <input type="checkbox" data-testid="remove-force" bind:checked=force />
                    <span>{tr(Key::Force)}</span>
                </label>
                <ConfirmButton
                    label=Signal::derive(move || tr(Key::RemoveSelected)().to_string())
                    question=Signal::derive(move || {
                        confirm::question(i18n.lang.get(), What::Images, &selected_names())
                    })
                    confirm_label=Signal::derive(move || tr(Key::RemoveSelected)().to_string())
                    testid="remove-selected"
                    disabled=Signal::derive(move || selected.with(BTreeSet::is_empty))
                    on_confirm=Callback::new(move |()| {
                        remove.run(selected.get_untracked().into_iter().collect())
                    })
                />
                <a
                    class="btn btn-sm"
                    data-testid="save-selected"
                    href=save_href
                    download=""
                    class:disabled=move || selected.with(BTreeSet::is_empty)
                >
                    {tr(Key::SaveSelected)}
                </a>
            </div>
            {phase}
        </section>
    }
}

#[component]
fn Table(
    rows: Memo<Vec<ImageSummary>>,
    visible: Memo<Vec<String>>,
    no_trunc: RwSignal<bool>,
    selected: RwSignal<BTreeSet<String>>,
    tagging: RwSignal<Option<String>>,
    row_errors: RwSignal<std::collections::BTreeMap<String, String>>,
    force: RwSignal<bool>,
    remove: Callback<Vec<String>>,
) -> impl IntoView {
    let all_selected = move || {
        visible.with(|v| !v.is_empty() && selected.with(|s| v.iter().all(|id| s.contains(id))))
    };
    let toggle_all = move |_| {
        let ids = visible.get_untracked();
        if all_selected() {
            selected.set(BTreeSet::new());
        } else {
            selected.set(ids.into_iter().collect());
        }
    };
    view! {
        <div class="table-wrap">
            <table class="table images-table">
                <thead>
                    <tr>
                        <th>
                            <input
                                type="checkbox"
                                data-testid="select-all"
                                aria-label=tr(Key::SelectAll)
                                prop:checked=all_selected
                                on:change=toggle_all
                            />
                        </th>
                        <th>{tr(Key::ColTags)}</th>
                        <th>{tr(Key::ColId)}</th>
                        <th>{tr(Key::ColSize)}</th>
                        <th>{tr(Key::ColCreated)}</th>
                        <th>{tr(Key::ColContainers)}</th>
                        <th class="col-actions">{tr(Key::ColActions)}</th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || visible.get() key=|id| id.clone() let:id>
                        <Row id rows no_trunc selected tagging row_errors force remove />
                    </For>
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Row(
    id: String,
    rows: Memo<Vec<ImageSummary>>,
    no_trunc: RwSignal<bool>,
    selected: RwSignal<BTreeSet<String>>,
    tagging: RwSignal<Option<String>>,
    row_errors: RwSignal<std::collections::BTreeMap<String, String>>,
    force: RwSignal<bool>,
    remove: Callback<Vec<String>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let row = Memo::new({
        let id = id.clone();
        move |_| rows.with(|rows| rows.iter().find(|i| i.id == id).cloned())
    });
    let get = move |f: fn(&ImageSummary) -> String| {
        move || row.with(|r| r.as_ref().map(f).unwrap_or_default())
    };
    let checked = {
        let id = id.clone();
        move || selected.with(|s| s.contains(&id))
    };
    let toggle = {
        let id = id.clone();
        move |_| {
            selected.update(|s| {
                if !s.remove(&id) {
                    s.insert(id.clone());
                }
            })
        }
    };
    let created = move || row.with(|r| r.as_ref().map(|i| i.created).unwrap_or_default());
    let dangling = move || row.with(|r| r.as_ref().is_some_and(|i| i.dangling));
    let label = get(|i| i.repo_tags.first().cloned().unwrap_or_default());
    let href = format!("/images/{}", api::enc(&id));
    let save = format!("/api/images/save?names={}", api::enc(&id));
    let tag_id = id.clone();
    let error = {
        let id = id.clone();
        Memo::new(move |_| row_errors.with(|e| e.get(&id).cloned()))
    };
    let question = {
        let id = id.clone();
        Signal::derive(move || {
            let name = row
                .with(|r| r.as_ref().and_then(|i| i.repo_tags.first().cloned()))
                .unwrap_or_else(|| short_id(&id, false));
            confirm::question(i18n.lang.get(), What::Images, &format!("“{name}”"))
        })
    };
    let remove_this = {
        let id = id.clone();
        Callback::new(move |()| remove.run(vec![id.clone()]))
    };
    let shown_id = {
        let id = id.clone();
        move || short_id(&id, no_trunc.get())
    };
    view! {
        <tr data-testid="image-row" data-id=id.clone() data-tag=label>
            <td>
                <input
                    type="checkbox"
                    data-testid="image-select"
                    aria-label=tr(Key::SelectRow)
                    prop:checked=checked
                    on:change=toggle
                />
            </td>
            <td class="cell-name" data-label=tr(Key::ColTags)>
                {move || {
                    let tags = row.with(|r| r.as_ref().map(|i| i.repo_tags.clone()).unwrap_or_default());
                    if tags.is_empty() {
                        view! { <span class="muted">{tr(Key::NoneTag)}</span> }.into_any()
                    } else {
                        tags.into_iter()
                            .map(|t| view! { <div class="mono">{t}</div> })
                            .collect_view()
                            .into_any()
                    }
                }}
                {move || {
                    dangling()
                        .then(|| {
                            view! {
                                <span class="badge state-exited" data-testid="dangling-badge">
                                    {tr(Key::Dangling)}
                                </span>
                            }
                        })
                }}
                {move || {
                    no_trunc
                        .get()
                        .then(|| {
                            row.with(|r| {
                                r.iter()
                                    .flat_map(|i| i.repo_digests.iter())
                                    .map(|d| view! { <div class="mono muted break digest">{d.clone()}</div> })
                                    .collect_view()
                            })
                        })
                }}
            </td>
            <td class="mono break" data-label=tr(Key::ColId)>
                <A href=href.clone() attr:data-testid="image-id">
                    {shown_id}
                </A>
            </td>
            <td class="nowrap" data-label=tr(Key::ColSize)>
                {move || format::bytes(row.with(|r| r.as_ref().map(|i| i.size).unwrap_or_default()))}
            </td>
            <td class="muted nowrap" data-label=tr(Key::ColCreated)>
                {move || ago(i18n.lang.get(), format::now_secs() - created())}
            </td>
            <td data-label=tr(Key::ColContainers)>
                {move || row.with(|r| r.as_ref().map(|i| i.containers).unwrap_or_default())}
            </td>
            <td class="col-actions" data-label=tr(Key::ColActions)>
                <div class="actions">
                    <button
                        type="button"
                        class="btn btn-sm"
                        data-testid="image-tag"
                        on:click=move |_| tagging.set(Some(tag_id.clone()))
                    >
                        {tr(Key::Tag)}
                    </button>
                    <a class="btn btn-sm" data-testid="image-save" href=save download="">
                        {tr(Key::Save)}
                    </a>
                    <ConfirmButton
                        label=Signal::derive(move || crate::i18n::confirm::t(i18n.lang.get(), crate::i18n::confirm::Key::Remove).to_string())
                        question
                        testid="image-remove"
                        on_confirm=remove_this
                    />
                </div>
                // Why removing it failed, next to it, with what to do about it.
                {move || error.get().map(|msg| {
                    let hint = crate::i18n::ux::image_remove_hint(&msg);
                    view! {
                        <div class="row-error form-error" role="alert" data-testid="image-row-error">
                            <span data-testid="image-row-error-text">{msg}</span>
                            {hint.map(|h| view! {
                                <span class="hint" data-testid="image-row-hint">" "{trx(h)}</span>
                            })}
                            {(hint == Some(crate::i18n::ux::Key::ForceHint)).then(|| view! {
                                <label class="check">
                                    <input type="checkbox" data-testid="image-row-force" bind:checked=force />
                                    <span>{trx(crate::i18n::ux::Key::Force)}</span>
                                </label>
                            })}
                        </div>
                    }
                })}
            </td>
        </tr>
    }
}

#[component]
fn TagPanel(
    id: String,
    tagging: RwSignal<Option<String>>,
    notice: RwSignal<Option<Notice>>,
    on_done: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let repo = RwSignal::new(String::new());
    let tag = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let shown = short_id(&id, false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let id = id.clone();
        let body = wire::TagRequest {
            repo: repo.get_untracked().trim().to_string(),
            tag: Some(tag.get_untracked().trim().to_string()).filter(|t| !t.is_empty()),
        };
        spawn_local(async move {
            let url = format!("/api/images/{}/tag", api::enc(&id));
            match api::call::<_, ()>(Method::Post, &url, Some(&body)).await {
                Ok(()) => {
                    let lang = i18n.lang.get_untracked();
                    notice.set(Some(Notice::Ok(format!(
                        "{} {}:{}",
                        crate::i18n::images::t(lang, Key::Tagged),
                        body.repo,
                        body.tag.unwrap_or_else(|| "latest".into())
                    ))));
                    tagging.set(None);
                    on_done.run(());
                }
                Err(e) => error.set(Some(error_text(i18n.lang.get_untracked(), &e))),
            }
        });
    };
    view! {
        <form class="panel form-row" data-testid="tag-panel" on:submit=submit>
            <h2>{tr(Key::TagTitle)} " " <span class="mono">{shown}</span></h2>
            <label class="field">
                <span>{tr(Key::Repo)}</span>
                <input class="input" data-testid="tag-repo" bind:value=repo required />
            </label>
            <label class="field">
                <span>{tr(Key::TagName)}</span>
                <input class="input" data-testid="tag-tag" bind:value=tag placeholder="latest" />
            </label>
            <div class="actions">
                <button type="submit" class="btn btn-primary" data-testid="tag-submit">
                    {tr(Key::TagSubmit)}
                </button>
                <button type="button" class="btn btn-ghost" on:click=move |_| tagging.set(None)>
                    {tr(Key::Close)}
                </button>
            </div>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
        </form>
    }
}

#[component]
fn PrunePanel(
    is_admin: Signal<bool>,
    notice: RwSignal<Option<Notice>>,
    on_done: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let all = RwSignal::new(false);
    let preview = LocalResource::new(move || {
        let body = wire::PruneImages {
            all: all.get(),
            dry_run: true,
            ..Default::default()
        };
        async move {
            api::call::<_, wire::PruneResult>(Method::Post, "/api/images/prune", Some(&body)).await
        }
    });
    let busy = RwSignal::new(false);
    let confirm = move |_| {
        busy.set(true);
        let body = wire::PruneImages {
            all: all.get_untracked(),
            ..Default::default()
        };
        spawn_local(async move {
            let lang = i18n.lang.get_untracked();
            match api::call::<_, wire::PruneResult>(Method::Post, "/api/images/prune", Some(&body))
                .await
            {
                Ok(r) => notice.set(Some(Notice::Ok(format!(
                    "{} {}",
                    crate::i18n::images::t(lang, Key::Pruned),
                    format::bytes(r.space_reclaimed)
                )))),
                Err(e) => notice.set(Some(Notice::Err(error_text(lang, &e)))),
            }
            busy.set(false);
            preview.refetch();
            on_done.run(());
        });
    };
    view! {
        <div class="panel" data-testid="prune-panel">
            <h2>{tr(Key::PruneTitle)}</h2>
            <label class="check">
                <input type="checkbox" data-testid="prune-all" bind:checked=all />
                <span>{tr(Key::PruneAll)}</span>
            </label>
            {move || match preview.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(e)) => view! { <p class="form-error">{error_text(i18n.lang.get(), &e)}</p> }.into_any(),
                Some(Ok(r)) if r.images.is_empty() => {
                    view! { <p data-testid="prune-nothing">{tr(Key::PruneNothing)}</p> }.into_any()
                }
                Some(Ok(r)) => view! {
                    <p>{tr(Key::PruneWillRemove)}</p>
                    <div data-testid="prune-list">
                        <PreviewList items={
                            r.images.iter().map(|i| {
                                let name = i.repo_tags.first().cloned().unwrap_or_else(|| short_id(&i.id, false));
                                format!("{name} ({})", format::bytes(i.size))
                            }).collect::<Vec<_>>()
                        } />
                    </div>
                    <p data-testid="prune-space">
                        {tr(Key::SpaceUpTo)} " " <strong>{format::bytes(r.space_reclaimed)}</strong>
                    </p>
                    {move || if is_admin.get() {
                        view! {
                            <button
                                type="button"
                                class="btn btn-danger"
                                data-testid="prune-confirm"
                                disabled=move || busy.get()
                                on:click=confirm
                            >
                                {tr(Key::PruneConfirm)}
                            </button>
                        }.into_any()
                    } else {
                        view! { <p class="muted">{tr(Key::PruneAdminOnly)}</p> }.into_any()
                    }}
                }
                .into_any(),
            }}
        </div>
    }
}
