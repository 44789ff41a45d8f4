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
    /// `none`, `token`, `password` or `ssh`.
    pub auth: RwSignal<String>,
    pub user: RwSignal<String>,
    /// The token or the password.
    pub secret: RwSignal<String>,
    pub ssh_key: RwSignal<String>,
    pub known_hosts: RwSignal<String>,
}

impl GitForm {
    pub fn new() -> GitForm {
        GitForm {
            url: RwSignal::new(String::new()),
            git_ref: RwSignal::new("main".into()),
            path: RwSignal::new("docker-compose.yml".into()),
            poll: RwSignal::new("60".into()),
            auth: RwSignal::new("none".into()),
            user: RwSignal::new(String::new()),
            secret: RwSignal::new(String::new()),
            ssh_key: RwSignal::new(String::new()),
            known_hosts: RwSignal::new(String::new()),
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
            credentials: self.credentials(),
        }
    }

    /// The credentials the chosen kind asks for; the server judges them (a token on
    /// `git://`, say) and answers what is wrong.
    fn credentials(&self) -> Option<wire::GitCredentials> {
        let text = |s: RwSignal<String>| {
            Some(s.get_untracked().trim().to_owned()).filter(|s| !s.is_empty())
        };
        let mut c = wire::GitCredentials::default();
        match self.auth.get_untracked().as_str() {
            "token" => {
                c.username = text(self.user);
                c.token = Some(self.secret.get_untracked());
            }
            "password" => {
                c.username = text(self.user);
                c.password = Some(self.secret.get_untracked());
            }
            "ssh" => {
                c.username = text(self.user);
                c.ssh_key = Some(self.ssh_key.get_untracked());
                c.known_hosts = text(self.known_hosts);
            }
            _ => return None,
        }
        Some(c)
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
            <label class="field">
                <span>{tr(Key::Auth)}</span>
                <select class="input" data-testid="git-auth" prop:value=move || form.auth.get()
                    on:change=move |ev| form.auth.set(event_target_value(&ev))>
                    <option value="none">{tr(Key::AuthNone)}</option>
                    <option value="token">{tr(Key::AuthToken)}</option>
                    <option value="password">{tr(Key::AuthPassword)}</option>
                    <option value="ssh">{tr(Key::AuthSsh)}</option>
                </select>
            </label>
            <Show when=move || form.auth.get() != "none">
                <label class="field">
                    <span>{tr(Key::User)}</span>
                    <input class="input mono" data-testid="git-user" autocomplete="off"
                        placeholder=move || if form.auth.get() == "ssh" { "git" } else { "x-access-token" }
                        bind:value=form.user />
                </label>
            </Show>
            <Show when=move || matches!(form.auth.get().as_str(), "token" | "password")>
                <label class="field">
                    <span>{move || if form.auth.get() == "token" { tr(Key::Token)() } else { tr(Key::Password)() }}</span>
                    <input class="input mono" type="password" data-testid="git-secret" autocomplete="new-password"
                        required bind:value=form.secret />
                </label>
            </Show>
            <Show when=move || form.auth.get() == "ssh">
                <label class="field">
                    <span>{tr(Key::SshPrivate)}</span>
                    <textarea class="input mono" rows="5" data-testid="git-ssh-key" required spellcheck="false"
                        placeholder="-----BEGIN OPENSSH PRIVATE KEY-----"
                        prop:value=move || form.ssh_key.get()
                        on:input=move |ev| form.ssh_key.set(event_target_value(&ev))></textarea>
                    <small class="muted">{tr(Key::SshKeyHint)}</small>
                </label>
                <label class="field">
                    <span>{tr(Key::KnownHosts)}</span>
                    <textarea class="input mono" rows="2" data-testid="git-known-hosts" spellcheck="false"
                        prop:value=move || form.known_hosts.get()
                        on:input=move |ev| form.known_hosts.set(event_target_value(&ev))></textarea>
                    <small class="muted">{tr(Key::KnownHostsHint)}</small>
                </label>
            </Show>
        </div>
    }
}

/// The stored credentials' kind, as the form names it.
fn credential_kind(lang: crate::i18n::Lang, kind: &str) -> &'static str {
    match kind {
        "token" => t(lang, Key::AuthToken),
        "password" => t(lang, Key::AuthPassword),
        _ => t(lang, Key::AuthSsh),
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
    let reset_done = RwSignal::new(false);
    let reset_host_key = move |_| {
        let url = format!("/api/stacks/{}/git", api::enc(&name.get_untracked()));
        let body = serde_json::json!({ "reset_host_key": true });
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let res = api::call::<_, serde_json::Value>(Method::Patch, &url, Some(&body)).await;
            busy.set(false);
            match res {
                Ok(_) => reset_done.set(true),
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
                {move || git().filter(|g| g.host_keys.is_some()).map(|_| view! {
                    <div class="toolbar">
                        <button class="btn btn-sm" data-testid="git-reset-host-key" disabled=move || busy.get()
                            on:click=reset_host_key>
                            {tr(Key::ForgetHostKeys)}
                        </button>
                        {move || reset_done.get().then(|| view! {
                            <span class="muted" role="status" data-testid="git-host-key-reset">{tr(Key::HostKeyReset)}</span>
                        })}
                    </div>
                })}
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
    let kind = git.credentials_kind.clone();
    let user = git.credentials_user.clone();
    let host_keys = git.host_keys.clone();
    let failed = git.error.clone().map(|e| (e, git.error_commit.clone()));
    view! {
        <dl class="facts">
            <dt>{tr(Key::Url)}</dt><dd class="mono">{git.url.clone()}</dd>
            <dt>{tr(Key::Ref)}</dt><dd class="mono">{git.git_ref.clone()}</dd>
            <dt>{tr(Key::Path)}</dt><dd class="mono">{git.path.clone()}</dd>
            <dt>{tr(Key::Credentials)}</dt>
            <dd data-testid="git-credentials">{move || match (&kind, &user) {
                (Some(k), Some(u)) => format!("{} · {u}", credential_kind(lang(), k)),
                (Some(k), None) => credential_kind(lang(), k).to_owned(),
                _ => t(lang(), Key::NoCredentials).to_owned(),
            }}</dd>
            {host_keys.map(|h| view! {
                <dt>{tr(Key::HostKeys)}</dt>
                <dd class="mono small" data-testid="git-host-keys">{if h.trim().is_empty() {
                    t(lang(), Key::HostKeysNone).to_owned()
                } else {
                    h
                }}</dd>
            })}
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
