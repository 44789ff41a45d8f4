//! `/registries`: stored registries (admins add, edit, remove; passwords are write-only),
//! browsing one's repositories and tags, and the daemon's plain-HTTP registries.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wire::{CatalogEntry, DaemonRegistries, RegistryInfo, RegistryInput};

use crate::api::{self, Method};
use crate::app::use_session;
use crate::components::confirm::{self, ConfirmButton, ConfirmPrompt, What};
use crate::components::status::{ErrorPanel, Loading};
use crate::i18n::error_text;
use crate::i18n::images::{t, tr, Key};
use crate::i18n::use_i18n;

#[component]
pub fn Registries() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let is_admin = Signal::derive(move || {
        session
            .me
            .with(|m| m.as_ref().is_some_and(|m| m.role == wire::Role::Admin))
    });
    let list = LocalResource::new(|| api::get::<Vec<RegistryInfo>>("/api/registries"));
    let daemon = LocalResource::new(|| api::get::<DaemonRegistries>("/api/registries/daemon"));
    // None: no form; Some(None): add; Some(Some(row)): edit.
    let editing = RwSignal::new(None::<Option<RegistryInfo>>);
    let browsing = RwSignal::new(None::<RegistryInfo>);
    let error = RwSignal::new(None::<String>);
    let refresh = Callback::new(move |_| list.refetch());

    let remove = move |id: i64| {
        spawn_local(async move {
            match api::call_unit(Method::Delete, &format!("/api/registries/{id}")).await {
                Ok(()) => {
                    // The catalog panel of a registry that is gone would only show errors.
                    if browsing.get_untracked().is_some_and(|b| b.id == id) {
                        browsing.set(None);
                    }
                    list.refetch();
                }
                Err(e) => error.set(Some(error_text(i18n.lang.get_untracked(), &e))),
            }
        });
    };

    view! {
        <section class="page" data-testid="registries-page">
            <div class="page-head">
                <h1>{tr(Key::RegistriesTitle)}</h1>
                <Show when=move || is_admin.get()>
                    <button
                        type="button"
                        class="btn btn-primary"
                        data-testid="registry-add"
                        on:click=move |_| editing.set(Some(None))
                    >
                        {tr(Key::AddRegistry)}
                    </button>
                </Show>
            </div>
            {move || error.get().map(|e| view! { <div class="banner banner-error" role="alert">{e}</div> })}
            {move || editing.get().map(|row| view! { <RegistryForm row editing on_done=refresh /> })}
            {move || match list.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(err)) => view! { <ErrorPanel err retry=refresh /> }.into_any(),
                Some(Ok(rows)) if rows.is_empty() => view! {
                    <div class="panel state-panel" data-testid="registries-empty">
                        <p>{tr(Key::EmptyRegistries)}</p>
                    </div>
                }
                .into_any(),
                Some(Ok(rows)) => view! {
                    <div class="table-wrap">
                        <table class="table">
                            <thead>
                                <tr>
                                    <th>{tr(Key::Name)}</th>
                                    <th>{tr(Key::Url)}</th>
                                    <th>{tr(Key::ColHost)}</th>
                                    <th>{tr(Key::ColUser)}</th>
                                    <th class="col-actions">{tr(Key::ColActions)}</th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows
                                    .into_iter()
                                    .map(|r| {
                                        let (r1, r2, id) = (r.clone(), r.clone(), r.id);
                                        let rname = r.name.clone();
                                        view! {
                                            <tr data-testid="registry-row" data-name=r.name.clone()>
                                                <td data-label=tr(Key::Name)>{r.name.clone()}</td>
                                                <td class="mono" data-label=tr(Key::Url)>
                                                    {r.url.clone()}
                                                    {r.insecure_hint.clone().map(|h| view! {
                                                        <div class="form-error small" data-testid="insecure-hint">{h}</div>
                                                    })}
                                                </td>
                                                <td class="mono" data-label=tr(Key::ColHost)>{r.host.clone()}</td>
                                                <td data-label=tr(Key::ColUser)>
                                                    {r.username.clone().unwrap_or_default()}
                                                    {r.has_password.then(|| view! { " " <span class="badge">{tr(Key::HasPassword)}</span> })}
                                                </td>
                                                <td class="col-actions">
                                                    <div class="actions">
                                                        <button type="button" class="btn btn-sm" data-testid="registry-browse"
                                                            on:click=move |_| browsing.set(Some(r1.clone()))>
                                                            {tr(Key::Browse)}
                                                        </button>
                                                        <Show when=move || is_admin.get()>
                                                            <button type="button" class="btn btn-sm" data-testid="registry-edit"
                                                                on:click={
                                                                    let r2 = r2.clone();
                                                                    move |_| editing.set(Some(Some(r2.clone())))
                                                                }>
                                                                {tr(Key::Edit)}
                                                            </button>
                                                            <ConfirmButton
                                                                label=Signal::derive(move || tr(Key::Remove)().to_string())
                                                                question=Signal::derive({
                                                                    let n = rname.clone();
                                                                    move || confirm::question(i18n.lang.get(), What::Registry, &n)
                                                                })
                                                                testid="registry-remove"
                                                                on_confirm=Callback::new(move |()| remove(id))
                                                            />
                                                        </Show>
                                                    </div>
                                                </td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                .into_any(),
            }}
            {move || browsing.get().map(|r| view! { <Catalog registry=r is_admin browsing /> })}
            <div class="panel" data-testid="daemon-insecure">
                <h2>{tr(Key::DaemonInsecure)}</h2>
                <ul class="kv-list">
                    {move || {
                        daemon
                            .get()
                            .and_then(Result::ok)
                            .map(|d| {
                                d.insecure_registries
                                    .into_iter()
                                    .map(|r| view! { <li class="mono">{r}</li> })
                                    .collect_view()
                            })
                    }}
                </ul>
                <p class="muted">{tr(Key::DaemonInsecureHelp)}</p>
            </div>
        </section>
    }
}

#[component]
fn RegistryForm(
    row: Option<RegistryInfo>,
    editing: RwSignal<Option<Option<RegistryInfo>>>,
    on_done: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = row.as_ref().map(|r| r.id);
    let name = RwSignal::new(row.as_ref().map(|r| r.name.clone()).unwrap_or_default());
    let url = RwSignal::new(row.as_ref().map(|r| r.url.clone()).unwrap_or_default());
    let username = RwSignal::new(
        row.as_ref()
            .and_then(|r| r.username.clone())
            .unwrap_or_default(),
    );
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let pw = password.get_untracked();
        let body = RegistryInput {
            name: Some(name.get_untracked()),
            url: Some(url.get_untracked()),
            username: Some(username.get_untracked()),
            // Editing with an empty field keeps the stored password.
            password: if id.is_some() && pw.is_empty() {
                None
            } else {
                Some(pw)
            },
        };
        spawn_local(async move {
            let res = match id {
                Some(id) => {
                    api::call::<_, RegistryInfo>(
                        Method::Patch,
                        &format!("/api/registries/{id}"),
                        Some(&body),
                    )
                    .await
                }
                None => {
                    api::call::<_, RegistryInfo>(Method::Post, "/api/registries", Some(&body)).await
                }
            };
            match res {
                Ok(_) => {
                    editing.set(None);
                    on_done.run(());
                }
                Err(e) => error.set(Some(error_text(i18n.lang.get_untracked(), &e))),
            }
        });
    };
    let title = if id.is_some() {
        Key::EditRegistry
    } else {
        Key::AddRegistry
    };
    view! {
        <form class="panel form-grid" data-testid="registry-form" on:submit=submit>
            <h2>{tr(title)}</h2>
            <label class="field">
                <span>{tr(Key::Name)}</span>
                <input class="input" data-testid="registry-name" bind:value=name />
            </label>
            <label class="field">
                <span>{tr(Key::Url)}</span>
                <input class="input" data-testid="registry-url" placeholder=tr(Key::UrlHint) bind:value=url required />
            </label>
            <label class="field">
                <span>{tr(Key::Username)}</span>
                <input class="input" data-testid="registry-username" autocomplete="off" bind:value=username />
            </label>
            <label class="field">
                <span>{tr(Key::Password)}</span>
                <input
                    class="input"
                    type="password"
                    data-testid="registry-password"
                    autocomplete="new-password"
                    placeholder=move || if id.is_some() { t(i18n.lang.get(), Key::PasswordKeep) } else { "" }
                    bind:value=password
                />
            </label>
            <div class="actions">
                <button type="submit" class="btn btn-primary" data-testid="registry-save">{tr(Key::SaveRegistry)}</button>
                <button type="button" class="btn btn-ghost" on:click=move |_| editing.set(None)>{tr(Key::Close)}</button>
            </div>
            {move || error.get().map(|e| view! { <p class="form-error" data-testid="registry-error" role="alert">{e}</p> })}
        </form>
    }
}

#[component]
fn Catalog(
    registry: RegistryInfo,
    is_admin: Signal<bool>,
    browsing: RwSignal<Option<RegistryInfo>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = registry.id;
    let catalog = LocalResource::new(move || async move {
        api::get::<Vec<CatalogEntry>>(&format!("/api/registries/{id}/catalog")).await
    });
    let error = RwSignal::new(None::<String>);
    let retry = Callback::new(move |_| catalog.refetch());
    let delete = move |repo: String, tag: String| {
        spawn_local(async move {
            let url = format!(
                "/api/registries/{id}/tags?repository={}&tag={}",
                api::enc(&repo),
                api::enc(&tag)
            );
            match api::call::<(), serde_json::Value>(Method::Delete, &url, None).await {
                Ok(_) => catalog.refetch(),
                Err(e) => error.set(Some(error_text(i18n.lang.get_untracked(), &e))),
            }
        });
    };
    view! {
        <div class="panel" data-testid="catalog">
            <div class="task-head">
                <h2>{tr(Key::Repositories)} " — " {registry.name.clone()}</h2>
                <button type="button" class="btn btn-ghost btn-sm" on:click=move |_| browsing.set(None)>
                    {tr(Key::Close)}
                </button>
            </div>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            {move || match catalog.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(err)) => view! { <ErrorPanel err retry /> }.into_any(),
                Some(Ok(entries)) if entries.is_empty() => {
                    view! { <p data-testid="catalog-empty">{tr(Key::NoRepositories)}</p> }.into_any()
                }
                Some(Ok(entries)) => entries
                    .into_iter()
                    .map(|e| {
                        let repo = e.repository.clone();
                        view! {
                            <div class="repo" data-testid="catalog-repo" data-repo=repo.clone()>
                                <strong class="mono">{repo.clone()}</strong>
                                <div class="ports">
                                    {e.tags
                                        .into_iter()
                                        .map(|tag| {
                                            let (r, t2) = (repo.clone(), tag.clone());
                                            let open = RwSignal::new(false);
                                            let named = format!("{repo}:{tag}");
                                            view! {
                                                <span class="port mono" data-testid="catalog-tag">
                                                    {tag.clone()}
                                                    <Show when=move || is_admin.get()>
                                                        <button
                                                            type="button"
                                                            class="icon-btn"
                                                            aria-label=tr(Key::DeleteTag)
                                                            title=tr(Key::DeleteTag)
                                                            data-testid="tag-delete"
                                                            on:click=move |_| open.set(true)
                                                        >
                                                            "×"
                                                        </button>
                                                    </Show>
                                                    <ConfirmPrompt
                                                        open
                                                        question=Signal::derive(move || {
                                                            let lang = i18n.lang.get();
                                                            format!(
                                                                "{} {}",
                                                                confirm::question(lang, What::Tag, &named),
                                                                t(lang, Key::DeleteTagConfirm)
                                                            )
                                                        })
                                                        confirm_label=Signal::derive(move || tr(Key::DeleteTag)().to_string())
                                                        on_confirm=Callback::new(move |()| delete(r.clone(), t2.clone()))
                                                    />
                                                </span>
                                            }
                                        })
                                        .collect_view()}
                                </div>
                            </div>
                        }
                    })
                    .collect_view()
                    .into_any(),
            }}
        </div>
    }
}
