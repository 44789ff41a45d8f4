//! `/shares`: the shared host folders (admins add and remove them), a way into a volume's
//! files; `/shares/:name`: a share's file browser with uploads and edits.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use wire::{Role, Share, ShareCreate};

use crate::api::{self, enc, Method};
use crate::app::use_session;
use crate::components::confirm::{self, ConfirmButton, What};
use crate::components::file_browser::{FileBrowser, Source};
use crate::components::picker::{Kind, Picker};
use crate::components::status::Loading;
use crate::i18n::files::{tr, Key};
use crate::i18n::{error_text, use_i18n};

fn is_admin() -> Signal<bool> {
    let session = use_session();
    Signal::derive(move || {
        session
            .me
            .with(|m| m.as_ref().is_some_and(|m| m.role == Role::Admin))
    })
}

#[component]
pub fn Shares() -> impl IntoView {
    let i18n = use_i18n();
    let admin = is_admin();
    let list = LocalResource::new(|| api::get::<Vec<Share>>("/api/shares"));
    let error = RwSignal::new(None::<String>);

    let remove = move |name: String| {
        spawn_local(async move {
            match api::call_unit(Method::Delete, &format!("/api/shares/{}", enc(&name))).await {
                Ok(()) => list.refetch(),
                Err(e) => error.set(Some(error_text(i18n.lang.get_untracked(), &e))),
            }
        });
    };

    let row = move |s: Share| {
        let name = s.name.clone();
        let index = format!("/files/{}/", enc(&s.name));
        let browse = format!("/shares/{}", enc(&s.name));
        let teams = if s.teams.is_empty() {
            None
        } else {
            Some(s.teams.join(", "))
        };
        let from_flag = s.source == "flag";
        view! {
            <tr data-testid="share-row" data-name=s.name.clone()>
                <td data-label=tr(Key::ColShare)><strong>{s.name.clone()}</strong></td>
                <Show when=move || admin.get()>
                    <td data-label=tr(Key::ColPath) class="mono">{s.path.clone()}</td>
                </Show>
                <td data-label=tr(Key::ColAccess)>
                    {move || if s.writable { tr(Key::Writable)() } else { tr(Key::ReadOnly)() }}
                </td>
                <td data-label=tr(Key::ColTeams)>
                    {match teams { Some(t) => view! { <span>{t}</span> }.into_any(), None => view! { <span class="muted">{tr(Key::Everyone)}</span> }.into_any() }}
                </td>
                <td data-label=tr(Key::ColSource) class="muted">
                    {move || if from_flag { tr(Key::FromFlag)() } else { tr(Key::FromApi)() }}
                </td>
                <td class="col-actions">
                    // The autoindex is a server page: a full load, not a client route.
                    <a class="btn btn-sm" href=index rel="external" data-testid="open-index">{tr(Key::OpenIndex)}</a>
                    <A href=browse attr:class="btn btn-sm" attr:data-testid="browse-share">{tr(Key::Browse)}</A>
                    <Show when=move || admin.get() && !from_flag>
                        <ConfirmButton
                            label=Signal::derive(move || tr(Key::Remove)().to_string())
                            question=Signal::derive({
                                let name = name.clone();
                                move || confirm::question(i18n.lang.get(), What::Share, &name)
                            })
                            testid="remove-share"
                            on_confirm=Callback::new({
                                let name = name.clone();
                                move |()| remove(name.clone())
                            })
                        />
                    </Show>
                </td>
            </tr>
        }
    };

    view! {
        <section class="page" data-testid="shares-page">
            <div class="page-head"><h1>{tr(Key::SharesTitle)}</h1></div>
            <p class="muted">{tr(Key::SharesIntro)}</p>
            {move || error.get().map(|msg| view! {
                <div class="banner banner-error" role="alert" data-testid="shares-error">
                    <span class="banner-text">{msg}</span>
                    <button type="button" class="icon-btn" on:click=move |_| error.set(None)>"×"</button>
                </div>
            })}
            {move || match list.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(e)) => view! {
                    <div class="banner banner-error" role="alert"><span class="banner-text">{error_text(i18n.lang.get(), &e)}</span></div>
                }.into_any(),
                Some(Ok(rows)) if rows.is_empty() => view! { <p class="panel muted" data-testid="no-shares">{tr(Key::NoShares)}</p> }.into_any(),
                Some(Ok(rows)) => view! {
                    <div class="table-wrap">
                        <table class="table" data-testid="shares-table">
                            <thead><tr>
                                <th>{tr(Key::ColShare)}</th>
                                <Show when=move || admin.get()><th>{tr(Key::ColPath)}</th></Show>
                                <th>{tr(Key::ColAccess)}</th>
                                <th>{tr(Key::ColTeams)}</th>
                                <th>{tr(Key::ColSource)}</th>
                                <th class="col-actions"></th>
                            </tr></thead>
                            <tbody>{rows.into_iter().map(row).collect_view()}</tbody>
                        </table>
                    </div>
                }.into_any(),
            }}
            <Show when=move || admin.get()>
                <AddShare on_added=Callback::new(move |_| list.refetch()) error />
            </Show>
            <BrowseVolume />
        </section>
    }
}

#[component]
fn AddShare(on_added: Callback<()>, error: RwSignal<Option<String>>) -> impl IntoView {
    let i18n = use_i18n();
    let name = RwSignal::new(String::new());
    let path = RwSignal::new(String::new());
    let writable = RwSignal::new(false);
    let teams = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = ShareCreate {
            name: name.get_untracked().trim().to_string(),
            path: path.get_untracked().trim().to_string(),
            writable: writable.get_untracked(),
            teams: teams
                .get_untracked()
                .split(',')
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect(),
        };
        spawn_local(async move {
            match api::call::<_, Share>(Method::Post, "/api/shares", Some(&body)).await {
                Ok(_) => {
                    name.set(String::new());
                    path.set(String::new());
                    teams.set(String::new());
                    writable.set(false);
                    error.set(None);
                    on_added.run(());
                }
                Err(e) => error.set(Some(error_text(i18n.lang.get_untracked(), &e))),
            }
        });
    };
    view! {
        <form class="panel form-grid" data-testid="add-share" on:submit=submit>
            <h2>{tr(Key::AddShare)}</h2>
            <label class="field"><span>{tr(Key::ShareName)}</span>
                <input class="input" data-testid="share-name" required bind:value=name /></label>
            <label class="field"><span>{tr(Key::HostPath)}</span>
                <input class="input" data-testid="share-path" required placeholder="/srv/files" bind:value=path /></label>
            <label class="field"><span>{tr(Key::TeamsHint)}</span>
                <input class="input" data-testid="share-teams" bind:value=teams /></label>
            <label class="check"><input type="checkbox" data-testid="share-writable" bind:checked=writable />
                <span>{tr(Key::AllowWrites)}</span></label>
            <div><button type="submit" class="btn btn-primary" data-testid="share-add">{tr(Key::Add)}</button></div>
        </form>
    }
}

/// Go to a volume's file browser by name (the volumes list links there too).
#[component]
fn BrowseVolume() -> impl IntoView {
    let navigate = use_navigate();
    let name = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let n = name.get_untracked().trim().to_string();
        if !n.is_empty() {
            navigate(&format!("/volumes/{}/files", enc(&n)), Default::default());
        }
    };
    view! {
        <form class="panel inline-form" data-testid="browse-volume" on:submit=submit>
            <h2>{tr(Key::BrowseVolume)}</h2>
            <Picker kind=Kind::Volume value=name testid="volume-name"
                placeholder=Signal::derive(move || tr(Key::VolumeName)().to_owned())
                aria_label=Signal::derive(move || tr(Key::VolumeName)().to_owned()) />
            <button type="submit" class="btn" data-testid="open-volume">{tr(Key::Open)}</button>
        </form>
    }
}

/// `/shares/:name`.
#[component]
pub fn ShareFiles() -> impl IntoView {
    let params = use_params_map();
    let session = use_session();
    let name = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    let shares = LocalResource::new(|| api::get::<Vec<Share>>("/api/shares"));
    let writable = Signal::derive(move || {
        let role_ok = session
            .me
            .with(|m| m.as_ref().is_some_and(|m| m.role >= Role::Operator));
        let share_ok = shares
            .get()
            .and_then(|r| r.ok())
            .is_some_and(|list| name.with(|n| list.iter().any(|s| &s.name == n && s.writable)));
        role_ok && share_ok
    });
    view! {
        <section class="page" data-testid="share-files-page">
            <div class="page-head">
                <A href="/shares" attr:class="back-link">"← " {tr(Key::SharesTitle)}</A>
                <a class="btn btn-sm" rel="external" href=move || format!("/files/{}/", enc(&name.get()))>{tr(Key::OpenIndex)}</a>
            </div>
            <h1>{move || name.get()}</h1>
            {move || {
                let n = name.get();
                view! {
                    <FileBrowser
                        source=Source::Share(n.clone())
                        route=format!("/shares/{}", enc(&n))
                        root_name=n
                        writable
                    />
                }
            }}
        </section>
    }
}
