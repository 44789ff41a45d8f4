//! Git-backed stacks in the UI: the fields of the new-stack page's "from Git" choice and
//! the stack page's Git panel (commit deployed, last poll and its result, next poll, a
//! "Pull now" that follows its job to the end).

use leptos::prelude::*;
use leptos::task::spawn_local;
use wire::{GitPull, GitState, Job, JobStarted, JobState, StackDetail};

use crate::api::{self, ApiError, Method};
use crate::format::now_secs;
use crate::i18n::gitstacks::{result, t, tr, Key};
use crate::i18n::{ago, error_text, use_i18n};

/// What the "from Git" fields hold.
#[derive(Clone, Copy)]
pub struct GitForm {
    pub url: RwSignal<String>,
    pub git_ref: RwSignal<String>,
    pub path: RwSignal<String>,
    pub poll: RwSignal<String>,
}

impl GitForm {
    pub fn new() -> GitForm {
        GitForm {
            url: RwSignal::new(String::new()),
            git_ref: RwSignal::new("main".into()),
            path: RwSignal::new("docker-compose.yml".into()),
            poll: RwSignal::new("60".into()),
        }
    }

    /// The request's `git`; a poll interval that is not a number is sent as given to be
    /// refused by the server with its message (it is a number field, so rarely).
    pub fn source(&self) -> wire::GitSource {
        let text = |s: RwSignal<String>| {
            Some(s.get_untracked().trim().to_owned()).filter(|s| !s.is_empty())
        };
        wire::GitSource {
            url: self.url.get_untracked().trim().to_owned(),
            git_ref: text(self.git_ref),
            path: text(self.path),
            poll_seconds: self.poll.get_untracked().trim().parse().ok(),
            credentials: None,
        }
    }
}

#[component]
pub fn GitFields(form: GitForm) -> impl IntoView {
    view! {
        <div class="git-fields" data-testid="git-fields">
            <label class="field">
                <span>{tr(Key::Url)}</span>
                <input class="input mono" data-testid="git-url" required placeholder=tr(Key::UrlHint)
                    bind:value=form.url />
            </label>
            <label class="field">
                <span>{tr(Key::Ref)}</span>
                <input class="input mono" data-testid="git-ref" bind:value=form.git_ref />
            </label>
            <label class="field">
                <span>{tr(Key::Path)}</span>
                <input class="input mono" data-testid="git-path" bind:value=form.path />
            </label>
            <label class="field">
                <span>{tr(Key::Poll)}</span>
                <input class="input" type="number" min="0" data-testid="git-poll" bind:value=form.poll />
                <small class="muted">{tr(Key::PollHint)}</small>
            </label>
        </div>
    }
}

fn short(c: &str) -> String {
    c.chars().take(10).collect()
}

/// The Git panel of a stack page (shown for a Git stack only). Its busy state and the last
/// pull's job outlive the refreshes of the stack it shows.
#[component]
pub fn GitPanel(
    name: Memo<String>,
    detail: LocalResource<Result<StackDetail, ApiError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let busy = RwSignal::new(false);
    let force = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let job = RwSignal::new(None::<Job>);
    let pull = move |_| {
        let url = format!("/api/stacks/{}/git/pull", api::enc(&name.get_untracked()));
        let body = GitPull {
            force: force.get_untracked(),
            pull_images: false,
        };
        busy.set(true);
        error.set(None);
        job.set(None);
        spawn_local(async move {
            let res = async {
                let started: JobStarted = api::call(Method::Post, &url, Some(&body)).await?;
                api::get::<Job>(&format!("/api/jobs/{}?wait=300", api::enc(&started.job))).await
            }
            .await;
            busy.set(false);
            match res {
                Ok(j) => job.set(Some(j)),
                Err(e) => error.set(Some(e)),
            }
            detail.refetch();
        });
    };
    let git = move || detail.get().and_then(|d| d.ok()).and_then(|d| d.git);
    view! {
        <Show when=move || git().is_some()>
            <section class="card git-panel" data-testid="git-panel">
                <h2>{tr(Key::Git)}</h2>
                {move || git().map(|g| view! { <GitFacts git=g /> })}
                <div class="toolbar">
                    <button class="btn btn-sm btn-primary" data-testid="git-pull" disabled=move || busy.get() on:click=pull>
                        {move || if busy.get() { tr(Key::Pulling)() } else { tr(Key::PullNow)() }}
                    </button>
                    <label class="check">
                        <input type="checkbox" data-testid="git-force" bind:checked=force />
                        <span>{tr(Key::Force)}</span>
                    </label>
                </div>
                {move || error.get().map(|e| view! {
                    <div class="banner banner-error" role="alert">{error_text(i18n.lang.get(), &e)}</div>
                })}
                {move || job.get().map(|j| {
                    let ok = j.state == JobState::Succeeded;
                    view! {
                        <details class="env-box" data-testid="git-job" data-state=if ok { "succeeded" } else { "failed" } open=!ok>
                            <summary>{tr(Key::Job)}</summary>
                            <pre class="mono">{j.log.iter().map(|l| format!("{} {}\n", l.step, l.message)).collect::<String>()}</pre>
                        </details>
                    }
                })}
            </section>
        </Show>
    }
}

/// Where the stack's source is, what runs, and how the polls went.
#[component]
fn GitFacts(git: GitState) -> impl IntoView {
    let i18n = use_i18n();
    let lang = move || i18n.lang.get();
    let commit = git
        .commit
        .clone()
        .map(|c| format!("{} {}", short(&c), git.summary.clone().unwrap_or_default()));
    let last = git
        .last_poll
        .map(|p| (p, git.last_result.clone().unwrap_or_default()));
    let next = git.next_poll;
    let failed = git.error.clone().map(|e| (e, git.error_commit.clone()));
    view! {
        <dl class="facts">
            <dt>{tr(Key::Url)}</dt><dd class="mono">{git.url.clone()}</dd>
            <dt>{tr(Key::Ref)}</dt><dd class="mono">{git.git_ref.clone()}</dd>
            <dt>{tr(Key::Path)}</dt><dd class="mono">{git.path.clone()}</dd>
            <dt>{tr(Key::Commit)}</dt>
            <dd class="mono" data-testid="git-commit">{commit.unwrap_or_else(|| "—".into())}</dd>
            <dt>{tr(Key::LastPoll)}</dt>
            <dd data-testid="git-last-poll">{move || match &last {
                Some((p, r)) => format!("{} · {}", ago(lang(), now_secs() - p), result(lang(), r)),
                None => t(lang(), Key::Never).to_owned(),
            }}</dd>
            <dt>{tr(Key::NextPoll)}</dt>
            <dd data-testid="git-next-poll">{move || match next {
                Some(n) if n > now_secs() => format!("{} s", n - now_secs()),
                Some(_) => "…".to_owned(),
                None => t(lang(), Key::NoPolling).to_owned(),
            }}</dd>
        </dl>
        {failed.map(|(e, c)| view! {
            <div class="banner banner-error" role="alert" data-testid="git-error">
                {c.map(|c| view! { <strong>{tr(Key::FailedAt)}" "{short(&c)}": "</strong> })}
                {e}
            </div>
        })}
    }
}
