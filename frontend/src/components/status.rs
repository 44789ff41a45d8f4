//! Small status views: loading spinner, state badge, error and not-found panels.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::ApiError;
use crate::i18n::{error_text, tr, use_i18n, Key, Lang};
use crate::words;

/// A spinner with "Loading…".
#[component]
pub fn Loading() -> impl IntoView {
    view! {
        <div class="loading" data-testid="loading" role="status">
            <span class="spinner" aria-hidden="true"></span>
            <span>{tr(Key::Loading)}</span>
        </div>
    }
}

/// A container state (`running`, `exited`, ...) as a coloured pill, in the reader's
/// language; the raw state stays in the class name and the tooltip.
#[component]
pub fn StateBadge(#[prop(into)] state: Signal<String>) -> impl IntoView {
    let lang = use_i18n().lang;
    view! {
        <span
            class=move || {
                let state = state.get();
                // The state becomes a class name: keep it to letters so nothing odd gets in.
                let safe: String = state.chars().filter(char::is_ascii_alphabetic).collect();
                format!("badge state-{safe}")
            }
            data-testid="state-badge"
            data-state=move || state.get()
            title=move || state.get()
        >
            {move || state_text(lang.get(), &state.get())}
        </span>
    }
}

/// A state word (or a stack's `running(2), exited(1)`) in `lang`.
pub fn state_text(lang: Lang, state: &str) -> String {
    match lang {
        Lang::En => state.to_string(),
        Lang::ZhCn => words::states_zh(state),
    }
}

/// Docker's status line ("Up 4 minutes") in `lang`; the raw text when it is not a shape
/// the parser knows.
pub fn status_text(lang: Lang, raw: &str) -> String {
    match lang {
        Lang::En => raw.to_string(),
        Lang::ZhCn => words::status_zh(raw).unwrap_or_else(|| raw.to_string()),
    }
}

/// An error from the server with a retry button; a 404 becomes a "not found" panel instead.
#[component]
pub fn ErrorPanel(err: ApiError, #[prop(into)] retry: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    if err.status == 404 {
        return view! {
            <div class="panel state-panel" data-testid="not-found">
                <h2>{tr(Key::NotFoundTitle)}</h2>
                <p>{tr(Key::ContainerNotFound)}</p>
                <p class="muted">{err.message.clone()}</p>
                <A href="/containers" attr:class="btn">
                    {tr(Key::BackToContainers)}
                </A>
            </div>
        }
        .into_any();
    }
    view! {
        <div class="panel state-panel error-panel" data-testid="error" role="alert">
            <h2>{tr(Key::ErrorTitle)}</h2>
            <p data-testid="error-message">{move || error_text(i18n.lang.get(), &err)}</p>
            <button class="btn" data-testid="retry" on:click=move |_| retry.run(())>
                {tr(Key::Retry)}
            </button>
        </div>
    }
    .into_any()
}

/// The first error an `<ErrorBoundary>` caught, as an `ApiError` (all our fetches fail with one).
pub fn first_error(errors: &ArcRwSignal<Errors>) -> ApiError {
    errors
        .read()
        .iter()
        .find_map(|(_, e)| e.downcast_ref::<ApiError>().cloned())
        .unwrap_or_else(|| ApiError {
            status: 500,
            code: "unknown".into(),
            message: errors
                .read()
                .iter()
                .next()
                .map(|(_, e)| e.to_string())
                .unwrap_or_default(),
        })
}

/// `<ErrorBoundary fallback=...>` for pages whose resources fail with `ApiError`.
pub fn boundary_fallback(
    retry: Callback<()>,
) -> impl FnMut(ArcRwSignal<Errors>) -> AnyView + Send + 'static {
    move |errors| {
        view! { {move || view! { <ErrorPanel err=first_error(&errors) retry=retry /> }} }.into_any()
    }
}
