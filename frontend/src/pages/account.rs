//! `/account`: one's own password and API tokens.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wire::{CreateToken, NewToken, PatchUser, TokenInfo};

use crate::api::{self, ApiError, Method};
use crate::app::use_session;
use crate::components::confirm::{self, ConfirmButton, What};
use crate::components::status::Loading;
use crate::format;
use crate::i18n::admin::{tr, Key};
use crate::i18n::{error_text, use_i18n};

#[component]
pub fn Account() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    // Each error is shown under the form it came from: the password's, the tokens'.
    let error = RwSignal::new(None::<ApiError>);
    let token_error = RwSignal::new(None::<ApiError>);
    let notice = RwSignal::new(false);

    let current = RwSignal::new(String::new());
    let new_pw = RwSignal::new(String::new());
    let change = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(me) = session.me.get_untracked() else {
            return;
        };
        let body = PatchUser {
            password: Some(new_pw.get_untracked()),
            current_password: Some(current.get_untracked()),
            ..Default::default()
        };
        let url = format!("/api/users/{}", api::enc(&me.username));
        spawn_local(async move {
            match api::call::<PatchUser, ()>(Method::Patch, &url, Some(&body)).await {
                Ok(()) => {
                    error.set(None);
                    notice.set(true);
                    current.set(String::new());
                    new_pw.set(String::new());
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };

    let tokens = LocalResource::new(|| api::get::<Vec<TokenInfo>>("/api/tokens"));
    let token_name = RwSignal::new(String::new());
    let fresh = RwSignal::new(None::<NewToken>);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = CreateToken {
            name: token_name.get_untracked(),
        };
        spawn_local(async move {
            match api::call::<CreateToken, NewToken>(Method::Post, "/api/tokens", Some(&body)).await
            {
                Ok(t) => {
                    token_error.set(None);
                    token_name.set(String::new());
                    fresh.set(Some(t));
                    tokens.refetch();
                }
                Err(e) => token_error.set(Some(e)),
            }
        });
    };
    let revoke = move |id: i64| {
        spawn_local(async move {
            match api::call_unit(Method::Delete, &format!("/api/tokens/{id}")).await {
                Ok(()) => tokens.refetch(),
                Err(e) => token_error.set(Some(e)),
            }
        });
    };

    view! {
        <section class="page" data-testid="account-page">
            <div class="page-head">
                <h1>{tr(Key::NavAccount)}</h1>
            </div>
            <div class="panel">
                <h2>{tr(Key::ChangePassword)}</h2>
                <form class="stack-form" on:submit=change>
                    <label class="field">
                        {tr(Key::CurrentPassword)}
                        <input type="password" data-testid="current-password" bind:value=current required autocomplete="current-password" />
                    </label>
                    <label class="field">
                        {tr(Key::NewPassword)}
                        <input type="password" data-testid="new-password" bind:value=new_pw required minlength="8" autocomplete="new-password" />
                    </label>
                    <button class="btn btn-primary" type="submit" data-testid="change-password">
                        {tr(Key::Save)}
                    </button>
                    <Show when=move || notice.get()>
                        <p class="notice" data-testid="password-changed">{tr(Key::PasswordChanged)}</p>
                    </Show>
                </form>
                {move || error.get().map(|e| view! {
                    <p class="form-error" role="alert" data-testid="account-error">{error_text(i18n.lang.get(), &e)}</p>
                })}
            </div>
            <div class="panel" data-testid="docker-cli">
                <h2>{tr(Key::DockerCli)}</h2>
                <p>{tr(Key::DockerCliHelp)}</p>
                {move || {
                    let token = fresh.get().map(|t| t.token).unwrap_or_else(|| "TOKEN".into());
                    let host = window().location().host().unwrap_or_default();
                    view! {
                        <pre class="mono selectable" data-testid="docker-config">
                            {format!("{{\"HttpHeaders\": {{\"Authorization\": \"Bearer {token}\"}}}}")}
                        </pre>
                        <pre class="mono selectable" data-testid="docker-context">
                            {format!("docker context create berth --docker host=tcp://{host}/docker/local\ndocker context use berth\n# or: export DOCKER_HOST=tcp://{host}/docker/local DOCKER_BUILDKIT=0")}
                        </pre>
                    }
                }}
            </div>
            <div class="panel">
                <h2>{tr(Key::Tokens)}</h2>
                <form class="inline-form" on:submit=create>
                    <input class="input" data-testid="token-name" placeholder=tr(Key::TokenName) bind:value=token_name required />
                    <button class="btn btn-primary" type="submit" data-testid="token-create">
                        {tr(Key::NewToken)}
                    </button>
                </form>
                {move || token_error.get().map(|e| view! {
                    <p class="form-error" role="alert" data-testid="token-error">{error_text(i18n.lang.get(), &e)}</p>
                })}
                {move || {
                    fresh
                        .get()
                        .map(|t| {
                            view! {
                                <div class="banner" data-testid="token-fresh">
                                    <p>{tr(Key::TokenShownOnce)}</p>
                                    <code class="mono selectable">{t.token}</code>
                                </div>
                            }
                        })
                }}
                <Transition fallback=Loading>
                    {move || Suspend::new(async move {
                        match tokens.await {
                            Ok(list) if list.is_empty() => view! { <p class="empty">{tr(Key::NoTokens)}</p> }.into_any(),
                            Ok(list) => {
                                let code = i18n.lang.get_untracked().code();
                                view! {
                                    <div class="table-wrap">
                                        <table class="table">
                                            <thead>
                                                <tr>
                                                    <th>{tr(Key::TokenName)}</th>
                                                    <th>{tr(Key::Username)}</th>
                                                    <th>{tr(Key::Created)}</th>
                                                    <th>{tr(Key::LastUsed)}</th>
                                                    <th></th>
                                                </tr>
                                            </thead>
                                            <tbody>
                                                {list
                                                    .into_iter()
                                                    .map(|t| {
                                                        let id = t.id;
                                                        let token = t.name.clone();
                                                        let token_row = t.name.clone();
                                                        let lang = i18n.lang;
                                                        view! {
                                                            <tr data-testid="token-row" data-name=token_row>
                                                                <td>{t.name}</td>
                                                                <td>{t.username}</td>
                                                                <td>{format::local_time_secs(t.created_at, code)}</td>
                                                                <td>
                                                                    {match t.last_used {
                                                                        Some(s) => format::local_time_secs(s, code),
                                                                        None => tr(Key::Never)().to_string(),
                                                                    }}
                                                                </td>
                                                                <td>
                                                                    <ConfirmButton
                                                                        label=Signal::derive(move || tr(Key::Revoke)().to_string())
                                                                        question=Signal::derive(move || confirm::question(lang.get(), What::Token, &token))
                                                                        testid="token-revoke"
                                                                        on_confirm=Callback::new(move |()| revoke(id))
                                                                    />
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
                            Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                        }
                    })}
                </Transition>
            </div>
        </section>
    }
}
