//! "Update available" on a container's and a stack's page (issue 16): what the update
//! detector says of its image(s) (`GET /api/updates`, answers kept on the server a few
//! minutes), and an Update button that starts the health-gated update job and shows how it
//! ended — succeeded, or failed and rolled back with the reason.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::i18n::updates::{t, Key};
use crate::i18n::use_i18n;

/// What the mark is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A container, by name (kept when an update recreates it under a new id).
    Container(String),
    /// A stack berth manages, by name.
    Stack(String),
}

impl Target {
    fn matches(&self, u: &wire::UpdateInfo) -> bool {
        match self {
            Target::Container(name) => {
                u.name.trim_start_matches('/') == name || u.container == *name
            }
            Target::Stack(name) => u.stack.as_deref() == Some(name.as_str()),
        }
    }

    fn url(&self) -> String {
        match self {
            Target::Container(name) => format!("/api/containers/{}/update", api::enc(name)),
            Target::Stack(name) => format!("/api/stacks/{}/update", api::enc(name)),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Run {
    Idle,
    Running,
    Done,
    Failed(String),
}

/// Where an update's progress is kept, given by the page (`provide_context`): the page's
/// parts re-render when the container is recreated under them, and the update's end must
/// still be shown afterwards. Keyed by the target, so another container's page starts idle.
#[derive(Debug, Clone, Copy)]
pub struct UpdateRuns(RwSignal<Option<(Target, Run)>>);

impl UpdateRuns {
    pub fn provide() {
        provide_context(UpdateRuns(RwSignal::new(None)));
    }
}

/// The (encoded) container name of a container update's URL.
fn container_name(url: &str) -> Option<&str> {
    url.strip_prefix("/api/containers/")?
        .strip_suffix("/update")
}

#[component]
pub fn UpdateMark(target: Target) -> impl IntoView {
    let i18n = use_i18n();
    let lang = i18n.lang;
    let rows = LocalResource::new(|| api::get::<Vec<wire::UpdateInfo>>("/api/updates"));
    let runs = use_context::<UpdateRuns>()
        .unwrap_or_else(|| UpdateRuns(RwSignal::new(None)))
        .0;
    let target = StoredValue::new(target);
    // This target's run (the kept one is another's: idle here).
    let run = Signal::derive(move || {
        runs.with(|r| match r {
            Some((t, run)) if target.with_value(|me| me == t) => run.clone(),
            _ => Run::Idle,
        })
    });
    // The job outlives this component (the page re-renders it when the container is
    // recreated): what the task touches is the page's signal and plain values, nothing
    // owned here.
    let navigate = leptos_router::hooks::use_navigate();
    let available = Memo::new(move |_| {
        if run.get() == Run::Done {
            // The detector's answer may be minutes old: this one is known.
            return Vec::new();
        }
        rows.get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .filter(|u| target.with_value(|t| t.matches(u)) && u.update_available)
            .map(|u| u.image)
            .collect::<Vec<_>>()
    });
    let start = move |_| {
        let key = target.get_value();
        let url = key.url();
        let navigate = navigate.clone();
        let set_run = move |r: Run| {
            runs.try_set(Some((key.clone(), r)));
        };
        set_run(Run::Running);
        spawn_local(async move {
            let started =
                match api::call::<(), wire::JobStarted>(api::Method::Post, &url, None).await {
                    Ok(s) => s,
                    Err(e) => {
                        set_run(Run::Failed(e.to_string()));
                        return;
                    }
                };
            // The job's end, waited for on the server (a long poll, not a timer).
            let job_url = format!("/api/jobs/{}?wait=600", api::enc(&started.job));
            match api::get::<wire::Job>(&job_url).await {
                Ok(job) if job.state == wire::JobState::Succeeded => {
                    set_run(Run::Done);
                    // The updated container has a new id: a page opened by the old one
                    // follows the name.
                    if let Some(name) = container_name(&url) {
                        let path = format!("/containers/{name}");
                        let here = window().location().pathname().unwrap_or_default();
                        if here != path {
                            navigate(
                                &path,
                                leptos_router::NavigateOptions {
                                    replace: true,
                                    ..Default::default()
                                },
                            );
                        }
                    }
                }
                Ok(job) => set_run(Run::Failed(
                    job.error
                        .map(|e| e.message)
                        .unwrap_or_else(|| format!("{:?}", job.state)),
                )),
                Err(e) => set_run(Run::Failed(e.to_string())),
            }
        });
    };
    let start = StoredValue::new_local(start);
    view! {
        <Show when=move || !available.get().is_empty() || run.get() != Run::Idle>
            <div class="update-mark" data-testid="update-mark">
                {move || {
                    let images = available.get();
                    (!images.is_empty()).then(|| view! {
                        <span class="badge badge-warn" data-testid="update-available"
                            title=images.join(", ")>
                            {move || t(lang.get(), Key::Available)}
                        </span>
                    })
                }}
                {move || match run.get() {
                    Run::Idle => view! {
                        <button type="button" class="btn btn-sm" data-testid="update-now"
                            on:click=move |ev| start.with_value(|f| f(ev))>
                            {move || t(lang.get(), Key::UpdateNow)}
                        </button>
                    }.into_any(),
                    Run::Running => view! {
                        <span class="update-busy" data-testid="update-busy" aria-busy="true">
                            <span class="spinner spinner-sm" aria-hidden="true"></span>
                            {move || t(lang.get(), Key::Updating)}
                        </span>
                    }.into_any(),
                    Run::Done => view! {
                        <span class="update-done" data-testid="update-done" role="status">
                            {move || t(lang.get(), Key::Updated)}
                        </span>
                    }.into_any(),
                    Run::Failed(why) => view! {
                        <span class="update-failed error-inline" data-testid="update-failed" role="alert">
                            {move || t(lang.get(), Key::Failed)} " " {why.clone()}
                        </span>
                    }.into_any(),
                }}
            </div>
        </Show>
    }
}
