//! `/stacks` (every stack, CLI-started ones too) and `/stacks/new` (write a compose file,
//! deploy it).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use wire::{
    ComposeCheck, ComposeProblem, CreateStack, StackProgress, StackSummary, ValidateCompose,
};

use crate::api::{self, ApiError, Method};
use crate::components::confirm::ConfirmButton;
use crate::components::status::{ErrorPanel, Loading, StateBadge};
use crate::components::yaml_editor::{ProblemList, YamlEditor};
use crate::i18n::gitstacks::{tr as gtr, Key as GKey};
use crate::i18n::stacks::{t, tr, Key};
use crate::i18n::swarm::{question as sw_question, running_of, tr as swr, Ask, Key as SKey};
use crate::i18n::{error_text, use_i18n};

/// Check the compose text on the server ~400 ms after the last keystroke; the problems
/// found (empty when valid). Stale answers (the text changed meanwhile) are dropped.
/// With the profiles to check with (comma separated; empty: the `.env`'s), keeping the whole
/// answer in `check_out` (which services those profiles start).
pub fn use_validation_with(
    text: RwSignal<String>,
    env: RwSignal<String>,
    stack: Signal<String>,
    profiles: RwSignal<String>,
    check_out: RwSignal<Option<ComposeCheck>>,
) -> RwSignal<Vec<ComposeProblem>> {
    let problems = RwSignal::new(Vec::new());
    let generation = Rc::new(Cell::new(0u32));
    Effect::new(move |_| {
        let body = ValidateCompose {
            compose: text.get(),
            env: Some(env.get()).filter(|e| !e.trim().is_empty()),
            name: Some(stack.get()).filter(|n| !n.is_empty()),
            profiles: Some(
                profiles
                    .get()
                    .split(',')
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>(),
            )
            .filter(|p| !p.is_empty()),
        };
        let gen = generation.get() + 1;
        generation.set(gen);
        let generation = Rc::clone(&generation);
        set_timeout(
            move || {
                if generation.get() != gen {
                    return;
                }
                spawn_local(async move {
                    let res = api::call::<_, ComposeCheck>(
                        Method::Post,
                        "/api/stacks/validate",
                        Some(&body),
                    )
                    .await;
                    if generation.get() == gen {
                        if let Ok(check) = res {
                            problems.try_set(check.problems.clone());
                            check_out.try_set(Some(check));
                        }
                    }
                });
            },
            Duration::from_millis(400),
        );
    });
    problems
}

/// The profiles to try, and which services they start (from the same check as the editor's).
#[component]
pub fn ProfilePreview(
    profiles: RwSignal<String>,
    check: RwSignal<Option<ComposeCheck>>,
) -> impl IntoView {
    let has_profiles = move || check.with(|c| c.as_ref().is_some_and(|c| !c.profiles.is_empty()));
    view! {
        <Show when=has_profiles>
            <div class="field profiles" data-testid="stack-profiles">
                <label class="field">
                    <span>{tr(Key::Profiles)}
                        " (" {move || check.with(|c| c.as_ref().map(|c| c.profiles.join(", ")).unwrap_or_default())} ")"</span>
                    <input class="input mono" data-testid="stack-profiles-input"
                        placeholder=tr(Key::ProfilesHint) bind:value=profiles />
                </label>
                <p class="muted" data-testid="stack-would-start">
                    {tr(Key::WouldStart)} ": "
                    {move || check.with(|c| c.as_ref().map(|c| c.services.join(", ")).unwrap_or_default())}
                </p>
            </div>
        </Show>
    }
}

/// Lines of progress kept on screen.
const KEEP_PROGRESS: usize = 500;

/// Run a long stack operation, showing its ndjson progress as it arrives (handed to the
/// signal at most every 250 ms); whether it ended with `done`.
pub async fn follow_progress<Req: serde::Serialize>(
    method: Method,
    url: &str,
    body: Option<&Req>,
    progress: RwSignal<Vec<StackProgress>>,
) -> Result<bool, ApiError> {
    let push = move |items: Vec<StackProgress>| {
        progress.update(|l| {
            l.extend(items);
            let excess = l.len().saturating_sub(KEEP_PROGRESS);
            l.drain(..excess);
        })
    };
    let mut batch = Vec::new();
    let mut last_flush = js_sys::Date::now();
    let mut ok = false;
    let res = api::stream_ndjson::<Req, StackProgress>(method, url, body, |p| {
        ok = p.step == "done";
        batch.push(p);
        let now = js_sys::Date::now();
        if now - last_flush >= 250.0 {
            push(std::mem::take(&mut batch));
            last_flush = now;
        }
    })
    .await;
    push(batch);
    res.map(|()| ok)
}

/// The ndjson progress of a deployment, as lines a person reads.
#[component]
pub fn ProgressLog(lines: RwSignal<Vec<StackProgress>>) -> impl IntoView {
    view! {
        <Show when=move || lines.with(|l| !l.is_empty())>
            <pre class="progress-log" data-testid="stack-progress">
                {move || {
                    lines
                        .get()
                        .into_iter()
                        .map(|p| {
                            let who = p.service.map(|s| format!("[{s}] ")).unwrap_or_default();
                            let cls = if p.step == "error" { "progress-error" } else { "" };
                            view! { <div class=cls>{format!("{who}{}: {}", p.step, p.message)}</div> }
                        })
                        .collect_view()
                }}
            </pre>
        </Show>
    }
}

#[component]
pub fn Stacks() -> impl IntoView {
    let i18n = use_i18n();
    let list = LocalResource::new(|| api::get::<Vec<StackSummary>>("/api/stacks"));
    let error = RwSignal::new(None::<String>);
    let retry = Callback::new(move |_| list.refetch());
    // Stacks with an action under way: their row says so until the daemon is done.
    let busy = RwSignal::new(Vec::<String>::new());
    let act = move |name: String, action: &'static str| {
        if busy.with_untracked(|b| b.contains(&name)) {
            return;
        }
        busy.update(|b| b.push(name.clone()));
        spawn_local(async move {
            let url = format!("/api/stacks/{}/{action}", api::enc(&name));
            let res = api::call::<(), serde_json::Value>(Method::Post, &url, None).await;
            if let Err(e) = res {
                error.set(Some(error_text(i18n.lang.get_untracked(), &e)));
            }
            busy.update(|b| b.retain(|n| *n != name));
            list.refetch();
        });
    };

    view! {
        <section class="page" data-testid="stacks-page">
            <div class="page-head">
                <h1>{tr(Key::NavStacks)}</h1>
                <A href="/stacks/new" attr:class="btn btn-primary" attr:data-testid="new-stack">
                    {tr(Key::NewStack)}
                </A>
            </div>
            {move || error.get().map(|m| view! { <div class="banner banner-error" role="alert">{m}</div> })}
            {move || match list.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(err)) => view! { <ErrorPanel err retry /> }.into_any(),
                Some(Ok(rows)) if rows.is_empty() => {
                    view! { <div class="panel state-panel" data-testid="empty"><p>{tr(Key::NoStacks)}</p></div> }
                        .into_any()
                }
                Some(Ok(rows)) => {
                    view! {
                        <div class="table-wrap">
                            <table class="table">
                                <thead>
                                    <tr>
                                        <th>{tr(Key::StackName)}</th>
                                        <th>{tr(Key::Status)}</th>
                                        <th>{tr(Key::Services)}</th>
                                        <th>{tr(Key::Managed)}</th>
                                        <th class="col-actions">{tr(Key::Actions)}</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {rows
                                        .into_iter()
                                        .map(|s| {
                                            if s.mode == "swarm" {
                                                return view! { <SwarmRow s busy error list /> }.into_any();
                                            }
                                            let href = format!("/stacks/{}", api::enc(&s.name));
                                            let (n1, n2, n3) = (s.name.clone(), s.name.clone(), s.name.clone());
                                            let (row_name, link_text) = (s.name.clone(), s.name.clone());
                                            let services = s.services.join(", ");
                                            let status = s.status.clone();
                                            let managed = s.managed;
                                            let me = s.name.clone();
                                            let is_busy = Signal::derive(move || busy.with(|b| b.contains(&me)));
                                            view! {
                                                <tr data-testid="stack-row" data-name=row_name
                                                    data-busy=move || is_busy.get().to_string() aria-busy=move || is_busy.get().to_string()>
                                                    <td><A href=href>{link_text}</A></td>
                                                    <td><StateBadge state=status /></td>
                                                    <td>{services}</td>
                                                    <td>
                                                        {if managed { tr(Key::ManagedYes)() } else { tr(Key::ManagedCli)() }}
                                                    </td>
                                                    <td class="col-actions">
                                                        <Show when=move || is_busy.get()>
                                                            <span class="muted" data-testid="stack-busy" role="status">
                                                                <span class="spinner" aria-hidden="true"></span>" "{tr(Key::Working)}
                                                            </span>
                                                        </Show>
                                                        <button class="btn btn-sm" data-testid="stack-restart" disabled=move || is_busy.get()
                                                            on:click=move |_| act(n1.clone(), "restart")>{tr(Key::Restart)}</button>
                                                        <button class="btn btn-sm" data-testid="stack-stop" disabled=move || is_busy.get()
                                                            on:click=move |_| act(n2.clone(), "stop")>{tr(Key::Stop)}</button>
                                                        <button class="btn btn-sm btn-danger" data-testid="stack-down" disabled=move || is_busy.get()
                                                            on:click=move |_| act(n3.clone(), "down")>{tr(Key::Down)}</button>
                                                    </td>
                                                </tr>
                                            }
                                            .into_any()
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

/// A swarm stack's row: its services with their tasks running of wanted, and Remove (asked
/// first) as the only action (restart, stop and down are for Compose stacks).
#[component]
fn SwarmRow(
    s: StackSummary,
    busy: RwSignal<Vec<String>>,
    error: RwSignal<Option<String>>,
    list: LocalResource<Result<Vec<StackSummary>, ApiError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let href = format!("/stacks/{}", api::enc(&s.name));
    let name = s.name.clone();
    let me = s.name.clone();
    let is_busy = Signal::derive(move || busy.with(|b| b.contains(&me)));
    let remove = {
        let name = name.clone();
        move |()| {
            let name = name.clone();
            busy.update(|b| b.push(name.clone()));
            spawn_local(async move {
                let url = format!("/api/stacks/{}", api::enc(&name));
                if let Err(e) = api::call::<(), serde_json::Value>(Method::Delete, &url, None).await
                {
                    error.set(Some(error_text(i18n.lang.get_untracked(), &e)));
                }
                busy.update(|b| b.retain(|n| *n != name));
                list.refetch();
            });
        }
    };
    let asked = name.clone();
    let link = name.clone();
    let row_name = name.clone();
    let services = s
        .swarm_services
        .iter()
        .map(|x| {
            view! {
                <span class="swarm-stack-service" data-testid="stack-swarm-service" data-service=x.service.clone()>
                    {x.service.clone()} " "
                    <span class="badge" class:state-running=x.running == x.desired
                        class:state-restarting=x.running != x.desired data-testid="stack-replicas">
                        {running_of(x.running, x.desired)}
                    </span>
                </span>
                " "
            }
        })
        .collect_view();
    view! {
        <tr data-testid="stack-row" data-name=row_name data-mode="swarm"
            data-busy=move || is_busy.get().to_string() aria-busy=move || is_busy.get().to_string()>
            <td>
                <A href=href>{link}</A> " "
                <span class="badge" data-testid="stack-swarm-badge">{swr(SKey::SwarmBadge)}</span>
            </td>
            <td><StateBadge state=s.status.clone() /></td>
            <td>{services}</td>
            <td>{if s.managed { tr(Key::ManagedYes)() } else { tr(Key::ManagedCli)() }}</td>
            <td class="col-actions">
                <Show when=move || is_busy.get()>
                    <span class="muted" data-testid="stack-busy" role="status">
                        <span class="spinner" aria-hidden="true"></span>" "{tr(Key::Working)}
                    </span>
                </Show>
                <ConfirmButton
                    label=Signal::derive(move || swr(SKey::Remove)().to_string())
                    question=Signal::derive(move || sw_question(i18n.lang.get(), Ask::RemoveStack, &asked))
                    testid="stack-remove"
                    disabled=is_busy
                    on_confirm=Callback::new(remove)
                />
            </td>
        </tr>
    }
}

const STARTER: &str = "services:\n  web:\n    image: nginx:alpine\n    restart: unless-stopped\n    ports:\n      - \"8080:80\"\n";

#[component]
pub fn NewStack() -> impl IntoView {
    let i18n = use_i18n();
    let navigate = use_navigate();
    let name = RwSignal::new(String::new());
    let text = RwSignal::new(STARTER.to_owned());
    let env = RwSignal::new(String::new());
    let from_dir = RwSignal::new(String::new());
    let session = crate::app::use_session();
    let is_admin = move || {
        session
            .me
            .with(|m| m.as_ref().is_some_and(|m| m.role == wire::Role::Admin))
    };
    let profiles = RwSignal::new(String::new());
    let check = RwSignal::new(None::<ComposeCheck>);
    let problems = use_validation_with(text, env, Signal::derive(String::new), profiles, check);
    let progress = RwSignal::new(Vec::<StackProgress>::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let from_git = RwSignal::new(false);
    let git = super::git_stack::GitForm::new();
    // On a swarm manager the file may go to the swarm instead (`docker stack deploy`).
    let manager = LocalResource::new(|| async {
        api::get::<serde_json::Value>("/api/system/info")
            .await
            .is_ok_and(|info| info["Swarm"]["ControlAvailable"] == true)
    });
    let to_swarm = RwSignal::new(false);

    let deploy = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let dir = from_dir.get_untracked().trim().to_owned();
        let mode = (to_swarm.get_untracked() && manager.get_untracked() == Some(true))
            .then(|| "swarm".to_owned());
        // From a folder, its own file is used; the editor's text is not sent.
        let body = if from_git.get_untracked() {
            CreateStack {
                name: name.get_untracked().trim().to_owned(),
                git: Some(git.source()),
                mode,
                ..Default::default()
            }
        } else {
            CreateStack {
                name: name.get_untracked().trim().to_owned(),
                compose: Some(text.get_untracked()).filter(|_| dir.is_empty()),
                env: Some(env.get_untracked()).filter(|e| !e.trim().is_empty()),
                from_dir: Some(dir).filter(|d| !d.is_empty()),
                mode,
                ..Default::default()
            }
        };
        busy.set(true);
        error.set(None);
        progress.set(vec![]);
        let navigate = navigate.clone();
        spawn_local(async move {
            let res = follow_progress(Method::Post, "/api/stacks", Some(&body), progress).await;
            busy.set(false);
            match res {
                Ok(true) => {
                    navigate(
                        &format!("/stacks/{}", api::enc(&body.name)),
                        Default::default(),
                    );
                }
                Ok(false) => {}
                Err(e) => error.set(Some(e)),
            }
        });
    };

    view! {
        <section class="page" data-testid="new-stack-page">
            <div class="page-head">
                <h1>{tr(Key::NewStack)}</h1>
            </div>
            <form class="stack-form" on:submit=deploy>
                <label class="field">
                    <span>{tr(Key::StackName)}</span>
                    // Browsers compile `pattern` with the `v` flag, where a bare `-` in a
                    // class is a syntax error (and an invalid pattern checks nothing).
                    <input class="input" data-testid="stack-name" required pattern="[a-z0-9][a-z0-9_\\-]*"
                        bind:value=name />
                </label>
                <div class="field" role="radiogroup" data-testid="stack-source">
                    <span>{gtr(GKey::Source)}</span>
                    <div class="toolbar">
                        <label class="check"><input type="radio" name="stack-source" data-testid="source-editor"
                            prop:checked=move || !from_git.get() on:change=move |_| from_git.set(false) />
                            <span>{gtr(GKey::FromEditor)}</span></label>
                        <label class="check"><input type="radio" name="stack-source" data-testid="source-git"
                            prop:checked=move || from_git.get() on:change=move |_| from_git.set(true) />
                            <span>{gtr(GKey::FromGit)}</span></label>
                    </div>
                </div>
                <Show when=move || manager.get() == Some(true)>
                    <div class="field" role="radiogroup" data-testid="stack-deploy-to">
                        <span>{swr(SKey::DeployTo)}</span>
                        <div class="toolbar">
                            <label class="check"><input type="radio" name="stack-deploy-to" data-testid="deploy-to-compose"
                                prop:checked=move || !to_swarm.get() on:change=move |_| to_swarm.set(false) />
                                <span>{swr(SKey::DeployCompose)}</span></label>
                            <label class="check"><input type="radio" name="stack-deploy-to" data-testid="deploy-to-swarm"
                                prop:checked=move || to_swarm.get() on:change=move |_| to_swarm.set(true) />
                                <span>{swr(SKey::DeploySwarm)}</span></label>
                        </div>
                    </div>
                </Show>
                <Show when=move || from_git.get()>
                    <super::git_stack::GitFields form=git />
                </Show>
                <Show when=move || !from_git.get()>
                <Show when=is_admin>
                    <label class="field">
                        <span>{tr(Key::FromDir)}</span>
                        <input class="input mono" data-testid="stack-from-dir"
                            placeholder=tr(Key::FromDirHint) bind:value=from_dir />
                    </label>
                </Show>
                <h2>{tr(Key::Editor)}</h2>
                <YamlEditor text problems label=t(i18n.lang.get_untracked(), Key::Editor).to_owned() />
                <ProblemList problems line_word=t(i18n.lang.get_untracked(), Key::Line) />
                <ProfilePreview profiles check />
                <details class="env-box">
                    <summary>{tr(Key::EnvFile)}</summary>
                    <textarea class="input mono" data-testid="stack-env" rows="4" bind:value=env></textarea>
                </details>
                </Show>
                {move || error.get().map(|e| {
                    view! { <div class="banner banner-error" role="alert" data-testid="stack-error">{error_text(i18n.lang.get(), &e)}</div> }
                })}
                <div class="form-actions">
                    <button type="submit" class="btn btn-primary" data-testid="deploy" disabled=move || busy.get()>
                        {move || if busy.get() { tr(Key::Working)() } else { tr(Key::Deploy)() }}
                    </button>
                </div>
            </form>
            <ProgressLog lines=progress />
        </section>
    }
}
