//! `/containers/new`: `docker run` as a form, with the equivalent command line shown as
//! it fills. "Create" makes (and starts) a container and opens its page; "Run once" runs
//! it to the end here (`POST /api/containers/run`), streaming its output and exit code.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use wire::{CreateContainer, PortSpec, RunLine, VolumeSpec};

use crate::api::{self, ApiError, Method};
use crate::components::picker::{Kind, Picker, Picks};
use crate::i18n::containers_more::{exit_code, t, tr, Key};
use crate::i18n::pickers;
use crate::i18n::{error_text, use_i18n};
use crate::ndjson;

/// Words as a shell splits them: spaces separate, quotes group, backslash escapes.
pub fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    let mut any = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None | Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (_, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn lines(s: &str) -> impl Iterator<Item = &str> {
    s.lines().map(str::trim).filter(|l| !l.is_empty())
}

/// Everything the form holds.
#[derive(Clone, Copy)]
struct Form {
    image: RwSignal<String>,
    name: RwSignal<String>,
    cmd: RwSignal<String>,
    entrypoint: RwSignal<String>,
    clear_entrypoint: RwSignal<bool>,
    env: RwSignal<String>,
    workdir: RwSignal<String>,
    user: RwSignal<String>,
    hostname: RwSignal<String>,
    ports: RwSignal<String>,
    binds: RwSignal<String>,
    volumes: RwSignal<String>,
    links: RwSignal<String>,
    network: RwSignal<String>,
    ipv4: RwSignal<String>,
    restart: RwSignal<String>,
    labels: RwSignal<String>,
    privileged: RwSignal<bool>,
    tty: RwSignal<bool>,
    open_stdin: RwSignal<bool>,
    auto_remove: RwSignal<bool>,
    start: RwSignal<bool>,
    run_once: RwSignal<bool>,
}

fn opt(s: String) -> Option<String> {
    let s = s.trim().to_string();
    (!s.is_empty()).then_some(s)
}

impl Form {
    fn new() -> Form {
        Form {
            image: RwSignal::new(String::new()),
            name: RwSignal::new(String::new()),
            cmd: RwSignal::new(String::new()),
            entrypoint: RwSignal::new(String::new()),
            clear_entrypoint: RwSignal::new(false),
            env: RwSignal::new(String::new()),
            workdir: RwSignal::new(String::new()),
            user: RwSignal::new(String::new()),
            hostname: RwSignal::new(String::new()),
            ports: RwSignal::new(String::new()),
            binds: RwSignal::new(String::new()),
            volumes: RwSignal::new(String::new()),
            links: RwSignal::new(String::new()),
            network: RwSignal::new(String::new()),
            ipv4: RwSignal::new(String::new()),
            restart: RwSignal::new("no".into()),
            labels: RwSignal::new(String::new()),
            privileged: RwSignal::new(false),
            tty: RwSignal::new(false),
            open_stdin: RwSignal::new(false),
            auto_remove: RwSignal::new(false),
            start: RwSignal::new(true),
            run_once: RwSignal::new(false),
        }
    }

    /// The request, or the first line the form cannot read.
    fn request(&self) -> Result<CreateContainer, String> {
        let ports = lines(&self.ports.get())
            .map(PortSpec::parse)
            .collect::<Result<Vec<_>, _>>()?;
        let volumes = lines(&self.volumes.get())
            .map(|l| {
                let (name, rest) = l
                    .split_once(':')
                    .ok_or_else(|| format!("{l:?}: name:/container/path[:ro]"))?;
                let (target, ro) = match rest.rsplit_once(':') {
                    Some((t, "ro")) => (t, true),
                    Some((t, "rw")) => (t, false),
                    _ => (rest, false),
                };
                Ok(VolumeSpec {
                    name: name.to_string(),
                    target: target.to_string(),
                    read_only: ro,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let labels = lines(&self.labels.get())
            .map(|l| {
                let (k, v) = l.split_once('=').unwrap_or((l, ""));
                (k.trim().to_string(), v.to_string())
            })
            .collect::<BTreeMap<_, _>>();
        let cmd = split_words(&self.cmd.get());
        let entrypoint = if self.clear_entrypoint.get() {
            Some(Vec::new())
        } else {
            Some(split_words(&self.entrypoint.get())).filter(|e| !e.is_empty())
        };
        let run_once = self.run_once.get();
        Ok(CreateContainer {
            image: self.image.get().trim().to_string(),
            name: opt(self.name.get()),
            cmd: (!cmd.is_empty()).then_some(cmd),
            entrypoint,
            env: lines(&self.env.get()).map(str::to_string).collect(),
            workdir: opt(self.workdir.get()),
            user: opt(self.user.get()),
            hostname: opt(self.hostname.get()),
            ports,
            binds: lines(&self.binds.get()).map(str::to_string).collect(),
            volumes,
            privileged: self.privileged.get(),
            tty: self.tty.get(),
            open_stdin: self.open_stdin.get(),
            links: lines(&self.links.get()).map(str::to_string).collect(),
            network: opt(self.network.get()),
            ipv4: opt(self.ipv4.get()),
            restart: opt(self.restart.get()).filter(|r| r != "no"),
            labels,
            auto_remove: if run_once {
                None
            } else {
                self.auto_remove.get().then_some(true)
            },
            start: if run_once {
                None
            } else {
                Some(self.start.get())
            },
            team: None,
        })
    }
}

/// A text field bound to `value`.
#[component]
fn Text(
    label: Key,
    value: RwSignal<String>,
    testid: &'static str,
    #[prop(optional)] placeholder: &'static str,
) -> impl IntoView {
    view! {
        <label class="field">
            <span>{tr(label)}</span>
            <input class="input" data-testid=testid placeholder=placeholder bind:value=value />
        </label>
    }
}

/// A one-entry-per-line field.
#[component]
fn Lines(
    label: Key,
    value: RwSignal<String>,
    testid: &'static str,
    #[prop(optional)] placeholder: &'static str,
) -> impl IntoView {
    view! {
        <label class="field">
            <span>{tr(label)}</span>
            <textarea class="input mono" rows="2" data-testid=testid placeholder=placeholder bind:value=value></textarea>
        </label>
    }
}

/// A text field offering the existing `kind`s (typing anything else still works).
#[component]
fn Pick(
    label: Key,
    kind: Kind,
    value: RwSignal<String>,
    testid: &'static str,
    placeholder: &'static str,
) -> impl IntoView {
    view! {
        <label class="field">
            <span>{tr(label)}</span>
            <Picker kind value testid placeholder />
        </label>
    }
}

/// A one-entry-per-line field with a row below that adds an entry made of a picked `kind`
/// and a second part: `pick:second`, or `pick` alone when the second part may be empty.
#[component]
fn PickLines(
    label: Key,
    value: RwSignal<String>,
    testid: &'static str,
    placeholder: &'static str,
    kind: Kind,
    /// The picker's and the second field's placeholders, and the Add button's title.
    hints: [pickers::Key; 3],
    /// The picker's, the second field's and the Add button's `data-testid`s.
    testids: [&'static str; 3],
    second_required: bool,
) -> impl IntoView {
    let pick = RwSignal::new(String::new());
    let second = RwSignal::new(String::new());
    let ready = move || {
        !pick.with(|p| p.trim().is_empty())
            && (!second_required || !second.with(|s| s.trim().is_empty()))
    };
    let add = move |_| {
        if !ready() {
            return;
        }
        let (p, s) = (pick.get_untracked(), second.get_untracked());
        let (p, s) = (p.trim(), s.trim());
        let line = if s.is_empty() {
            p.to_owned()
        } else {
            format!("{p}:{s}")
        };
        value.update(|v| {
            if !v.is_empty() && !v.ends_with('\n') {
                v.push('\n');
            }
            v.push_str(&line);
        });
        pick.set(String::new());
        second.set(String::new());
    };
    let [pick_hint, second_hint, add_title] = hints;
    let [pick_id, second_id, add_id] = testids;
    view! {
        <div class="field pick-lines">
            <Lines label value testid placeholder />
            <div class="inline-form pick-add">
                <Picker kind value=pick testid=pick_id
                    placeholder=Signal::derive(move || pickers::tr(pick_hint)().to_owned()) />
                <input class="input mono" data-testid=second_id
                    placeholder=pickers::tr(second_hint) bind:value=second />
                <button type="button" class="btn btn-sm" data-testid=add_id
                    title=pickers::tr(add_title) disabled=move || !ready() on:click=add>
                    {pickers::tr(pickers::Key::Add)}
                </button>
            </div>
        </div>
    }
}

#[component]
fn Check(label: Key, value: RwSignal<bool>, testid: &'static str) -> impl IntoView {
    view! {
        <label class="check">
            <input type="checkbox" data-testid=testid bind:checked=value />
            <span>{tr(label)}</span>
        </label>
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct OutLine {
    n: usize,
    stderr: bool,
    text: String,
}

#[component]
pub fn ContainerCreate() -> impl IntoView {
    let i18n = use_i18n();
    let navigate = use_navigate();
    let f = Form::new();
    // One list per kind for all the pickers of the form.
    Picks::provide();
    // `/containers/new?image=REF` (the image page's Run) starts with that image.
    if let Some(image) = use_query_map().get_untracked().get("image") {
        f.image.set(image);
    }
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let pull_state = RwSignal::new(None::<String>);
    let output = RwSignal::new(Vec::<OutLine>::new());
    let exit = RwSignal::new(None::<Option<i64>>);
    let preview = Memo::new(move |_| match f.request() {
        Ok(req) => Ok(req.docker_run(f.run_once.get())),
        Err(e) => Err(e),
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(req) = f.request() else { return };
        error.set(None);
        pull_state.set(None);
        busy.set(true);
        let navigate = navigate.clone();
        if f.run_once.get_untracked() {
            output.set(Vec::new());
            exit.set(None);
            spawn_local(async move {
                let mut n = 0;
                let res = ndjson::post_lines("/api/containers/run", &req, |line| {
                    let Ok(l) = serde_json::from_str::<RunLine>(line) else {
                        return;
                    };
                    if let Some(text) = l.line {
                        n += 1;
                        let stderr = l.stream.as_deref() == Some("stderr");
                        output.update(|o| {
                            o.push(OutLine { n, stderr, text });
                            // A bounded view: the newest lines.
                            if o.len() > 5000 {
                                o.drain(..o.len() - 5000);
                            }
                        });
                    }
                    if let Some(code) = l.exit_code {
                        exit.set(Some(Some(code)));
                    }
                    if let Some(e) = l.error {
                        error.set(Some(ApiError {
                            status: 502,
                            code: e.code,
                            message: e.message,
                        }));
                    }
                })
                .await;
                busy.set(false);
                if let Err(e) = res {
                    error.set(Some(e));
                }
            });
        } else {
            spawn_local(async move {
                let res = api::call::<CreateContainer, wire::CreatedContainer>(
                    Method::Post,
                    "/api/containers",
                    Some(&req),
                )
                .await;
                busy.set(false);
                match res {
                    Ok(c) => navigate(
                        &format!("/containers/{}?tab=logs", api::enc(&c.id)),
                        Default::default(),
                    ),
                    Err(e) => error.set(Some(e)),
                }
            });
        }
    };

    let pull = move |_| {
        let image = f.image.get_untracked();
        let lang = i18n.lang.get_untracked();
        pull_state.set(Some(t(lang, Key::Pulling).into()));
        spawn_local(async move {
            let mut last = String::new();
            let body = serde_json::json!({ "image": image });
            let res =
                ndjson::post_lines("/api/images/pull", &body, |line| last = line.to_string()).await;
            let msg = match res {
                Ok(()) if last.contains("\"error\"") => last,
                Ok(()) => t(lang, Key::PullDone).into(),
                // No pull route in this berth (or not allowed): say what to do instead.
                Err(e) if e.status == 404 || e.status == 405 => {
                    t(lang, Key::PullUnavailable).into()
                }
                Err(e) => error_text(lang, &e),
            };
            pull_state.set(Some(msg));
        });
    };

    let restart_options = [
        ("no", "no"),
        ("always", "always"),
        ("unless-stopped", "unless-stopped"),
        ("on-failure", "on-failure"),
    ];

    view! {
        <section class="page" data-testid="create-page">
            <div class="page-head">
                <A href="/containers" attr:class="back-link">"← "{crate::i18n::tr(crate::i18n::Key::BackToContainers)}</A>
            </div>
            <h1>{tr(Key::CreateTitle)}</h1>
            <form class="panel create-form" on:submit=submit>
                <div class="grid-2">
                    <Pick label=Key::Image kind=Kind::Image value=f.image testid="create-image" placeholder="nginx:alpine" />
                    <Text label=Key::Name value=f.name testid="create-name" />
                    <label class="field span-2">
                        <span>{tr(Key::Command)}</span>
                        <input class="input mono" data-testid="create-cmd" placeholder="sh -c 'echo hello'" bind:value=f.cmd />
                    </label>
                    <Lines label=Key::EnvHelp value=f.env testid="create-env" placeholder="KEY=value" />
                    <Lines label=Key::PortsHelp value=f.ports testid="create-ports" placeholder="8080:80" />
                    <Lines label=Key::BindsHelp value=f.binds testid="create-binds" placeholder="/srv/data:/data:ro" />
                    <PickLines label=Key::VolumesHelp value=f.volumes testid="create-volumes" placeholder="data:/var/lib/data"
                        kind=Kind::Volume second_required=true
                        hints=[pickers::Key::VolumePick, pickers::Key::VolumeTarget, pickers::Key::AddVolume]
                        testids=["create-volume-pick", "create-volume-target", "create-volume-add"] />
                </div>
                <div class="checks">
                    <Check label=Key::Tty value=f.tty testid="create-tty" />
                    <Check label=Key::OpenStdin value=f.open_stdin testid="create-stdin" />
                    <Check label=Key::Privileged value=f.privileged testid="create-privileged" />
                </div>
                <details class="more">
                    <summary data-testid="create-more">{tr(Key::Options)}</summary>
                    <div class="grid-2">
                        <Text label=Key::Entrypoint value=f.entrypoint testid="create-entrypoint" />
                        <Check label=Key::ClearEntrypoint value=f.clear_entrypoint testid="create-clear-entrypoint" />
                        <Text label=Key::Workdir value=f.workdir testid="create-workdir" placeholder="/src" />
                        <Text label=Key::User value=f.user testid="create-user" placeholder="1000:1000" />
                        <Text label=Key::Hostname value=f.hostname testid="create-hostname" />
                        <Pick label=Key::Network kind=Kind::Network value=f.network testid="create-network" placeholder="bridge" />
                        <Text label=Key::Ipv4 value=f.ipv4 testid="create-ipv4" />
                        <PickLines label=Key::LinksHelp value=f.links testid="create-links" placeholder="db:database"
                            kind=Kind::Container second_required=false
                            hints=[pickers::Key::ContainerPick, pickers::Key::LinkAlias, pickers::Key::AddLink]
                            testids=["create-link-pick", "create-link-alias", "create-link-add"] />
                        <Lines label=Key::LabelsHelp value=f.labels testid="create-labels" />
                        <label class="field">
                            <span>{tr(Key::Restart)}</span>
                            <select class="input" data-testid="create-restart" prop:value=move || f.restart.get()
                                on:change=move |ev| f.restart.set(event_target_value(&ev))>
                                {restart_options.iter().map(|(v, l)| view! { <option value=*v>{*l}</option> }).collect_view()}
                            </select>
                        </label>
                    </div>
                </details>
                <fieldset class="mode">
                    <label class="check">
                        <input type="radio" name="mode" data-testid="mode-create"
                            prop:checked=move || !f.run_once.get() on:change=move |_| f.run_once.set(false) />
                        <span>{tr(Key::ModeCreate)}</span>
                    </label>
                    <label class="check">
                        <input type="radio" name="mode" data-testid="mode-run-once"
                            prop:checked=move || f.run_once.get() on:change=move |_| f.run_once.set(true) />
                        <span>{tr(Key::ModeRunOnce)}</span>
                    </label>
                    <Show when=move || !f.run_once.get()>
                        <Check label=Key::StartNow value=f.start testid="create-start" />
                        <Check label=Key::AutoRemove value=f.auto_remove testid="create-rm" />
                    </Show>
                </fieldset>
                <div class="preview">
                    <span class="muted">{tr(Key::Preview)}</span>
                    {move || match preview.get() {
                        Ok(cmd) => view! { <pre class="mono" data-testid="create-preview">{cmd}</pre> }.into_any(),
                        Err(e) => view! { <p class="form-error" data-testid="create-form-error">{e}</p> }.into_any(),
                    }}
                </div>
                {move || error.get().map(|e| {
                    let missing = e.code == "image_not_found";
                    view! {
                        <div class="banner banner-error" data-testid="create-error" role="alert">
                            <span class="banner-text">
                                {if missing { format!("{} {}", t(i18n.lang.get(), Key::ImageNotFound), e.message) } else { error_text(i18n.lang.get(), &e) }}
                            </span>
                            {missing.then(|| view! {
                                <button type="button" class="btn btn-sm" data-testid="create-pull" on:click=pull>{tr(Key::PullImage)}</button>
                            })}
                        </div>
                    }
                })}
                {move || pull_state.get().map(|m| view! { <p class="muted" data-testid="create-pull-state">{m}</p> })}
                <div class="form-actions">
                    <button type="submit" class="btn btn-primary" data-testid="create-submit"
                        disabled=move || busy.get() || preview.with(|p| p.is_err()) || f.image.with(|i| i.trim().is_empty())>
                        {move || if busy.get() {
                            tr(Key::RunningNow)()
                        } else if f.run_once.get() {
                            tr(Key::RunButton)()
                        } else {
                            tr(Key::CreateButton)()
                        }}
                    </button>
                </div>
            </form>
            <Show when=move || f.run_once.get() && (busy.get() || !output.with(Vec::is_empty) || exit.get().is_some())>
                <div class="panel">
                    <h2>{tr(Key::Output)}</h2>
                    <div class="log-lines mono run-output" data-testid="run-output">
                        <For each=move || output.get() key=|l| l.n let:l>
                            <div class=if l.stderr { "log-line log-stderr" } else { "log-line log-stdout" }>{l.text}</div>
                        </For>
                    </div>
                    {move || exit.get().map(|code| view! {
                        <p class="run-exit" data-testid="run-exit">{exit_code(i18n.lang.get(), code)}</p>
                    })}
                </div>
            </Show>
        </section>
    }
}
