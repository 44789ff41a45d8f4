//! `/login`: username and password; afterwards back to where the user was sent from.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use wire::{LoginRequest, Me};

use crate::api::{self, Method};
use crate::app::use_session;
use crate::i18n::{error_text, t, tr, use_i18n, Key};

/// `?next=` only ever names a path on this site: anything else (`//evil.example`,
/// `https://...`) would make the login page an open redirect.
fn safe_next(next: Option<String>) -> String {
    match next {
        Some(next)
            if next.starts_with('/')
                && !next.starts_with("//")
                && !next.starts_with("/\\")
                && !next.starts_with("/login") =>
        {
            next
        }
        _ => "/".to_string(),
    }
}

#[component]
pub fn Login() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let navigate = use_navigate();
    let query = use_query_map();

    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        pending.set(true);
        error.set(None);
        let request = LoginRequest {
            username: username.get_untracked(),
            password: password.get_untracked(),
        };
        let next = safe_next(query.with_untracked(|q| q.get("next")));
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::call::<_, Me>(Method::Post, "/api/auth/login", Some(&request)).await {
                Ok(me) => {
                    session.me.set(Some(me));
                    session.error.set(None);
                    password.set(String::new());
                    pending.set(false);
                    // `/files/...` is served by the server (the autoindex), not by the app.
                    if next.starts_with("/files/") {
                        let _ = window().location().set_href(&next);
                        return;
                    }
                    navigate(
                        &next,
                        NavigateOptions {
                            replace: true,
                            ..Default::default()
                        },
                    );
                }
                Err(e) => {
                    // The server's login refusals are known codes: say them in the
                    // reader's language rather than the server's English.
                    let lang = i18n.lang.get_untracked();
                    let text = match e.code.as_str() {
                        "unauthorized" => t(lang, Key::WrongLogin).to_string(),
                        "too_many_attempts" => t(lang, Key::TooManyLogins).to_string(),
                        _ => error_text(lang, &e),
                    };
                    error.set(Some(text));
                    pending.set(false);
                }
            }
        });
    };

    view! {
        <section class="login-page" data-testid="login-page">
            <form class="panel login-card" on:submit=submit>
                <h1>{tr(Key::LoginTitle)}</h1>
                <label class="field">
                    <span>{tr(Key::Username)}</span>
                    <input
                        type="text"
                        name="username"
                        autocomplete="username"
                        autocapitalize="none"
                        spellcheck="false"
                        required
                        autofocus
                        data-testid="login-username"
                        bind:value=username
                    />
                </label>
                <label class="field">
                    <span>{tr(Key::Password)}</span>
                    <input
                        type="password"
                        name="password"
                        autocomplete="current-password"
                        required
                        data-testid="login-password"
                        bind:value=password
                    />
                </label>
                {move || {
                    error
                        .get()
                        .map(|msg| {
                            view! {
                                <p class="form-error" data-testid="login-error" role="alert">
                                    {msg}
                                </p>
                            }
                        })
                }}
                <button
                    type="submit"
                    class="btn btn-primary btn-block"
                    data-testid="login-submit"
                    disabled=move || pending.get()
                >
                    {move || {
                        if pending.get() { i18n.t(Key::SigningIn) } else { i18n.t(Key::SignIn) }
                    }}
                </button>
            </form>
        </section>
    }
}
