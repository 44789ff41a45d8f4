//! `docker commit` from a container's page: repository, tag, message, author and
//! Dockerfile-style changes (`CMD`, `ENV`, `EXPOSE`…), one a line.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use crate::api::{self, Method};
use crate::i18n::error_text;
use crate::i18n::images::{tr, Key};
use crate::i18n::use_i18n;

#[component]
pub fn CommitForm(id: String) -> impl IntoView {
    let i18n = use_i18n();
    let repo = RwSignal::new(String::new());
    let tag = RwSignal::new(String::new());
    let message = RwSignal::new(String::new());
    let author = RwSignal::new(String::new());
    let changes = RwSignal::new(String::new());
    let result = RwSignal::new(None::<Result<String, String>>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let opt = |s: RwSignal<String>| {
            Some(s.get_untracked().trim().to_string()).filter(|s| !s.is_empty())
        };
        let body = wire::CommitRequest {
            repo: opt(repo),
            tag: opt(tag),
            message: opt(message),
            author: opt(author),
            changes: changes
                .get_untracked()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
            pause: None,
        };
        let url = format!("/api/containers/{}/commit", api::enc(&id));
        busy.set(true);
        spawn_local(async move {
            let res = api::call::<_, wire::CommitResult>(Method::Post, &url, Some(&body)).await;
            result.set(Some(
                res.map(|r| r.id)
                    .map_err(|e| error_text(i18n.lang.get_untracked(), &e)),
            ));
            busy.set(false);
        });
    };
    view! {
        <details class="panel">
            <summary>
                <strong>{tr(Key::CommitTitle)}</strong>
            </summary>
            <form class="form-grid" data-testid="commit-form" on:submit=submit>
                <label class="field">
                    <span>{tr(Key::Repo)}</span>
                    <input class="input" data-testid="commit-repo" bind:value=repo />
                </label>
                <label class="field">
                    <span>{tr(Key::TagName)}</span>
                    <input class="input" data-testid="commit-tag" placeholder="latest" bind:value=tag />
                </label>
                <label class="field">
                    <span>{tr(Key::CommitMessage)}</span>
                    <input class="input" data-testid="commit-message" bind:value=message />
                </label>
                <label class="field">
                    <span>{tr(Key::CommitAuthor)}</span>
                    <input class="input" data-testid="commit-author" bind:value=author />
                </label>
                <label class="field">
                    <span>{tr(Key::CommitChanges)}</span>
                    <textarea
                        class="input mono"
                        rows="3"
                        data-testid="commit-changes"
                        placeholder=tr(Key::CommitChangesHint)
                        prop:value=move || changes.get()
                        on:input=move |ev| changes.set(event_target_value(&ev))
                    ></textarea>
                </label>
                <div class="actions">
                    <button
                        type="submit"
                        class="btn btn-primary"
                        data-testid="commit-submit"
                        disabled=move || busy.get()
                    >
                        {tr(Key::CommitSubmit)}
                    </button>
                </div>
                {move || match result.get() {
                    Some(Ok(id)) => {
                        let href = format!("/images/{}", api::enc(&id));
                        view! {
                            <p data-testid="commit-result">
                                {tr(Key::Committed)} " "
                                <A href=href>
                                    <span class="mono">{id.clone()}</span>
                                </A>
                            </p>
                        }
                            .into_any()
                    }
                    Some(Err(e)) => {
                        view! { <p class="form-error" data-testid="commit-error" role="alert">{e}</p> }
                            .into_any()
                    }
                    None => ().into_any(),
                }}
            </form>
        </details>
    }
}
