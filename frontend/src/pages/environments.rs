//! `/environments`: the hosts the user may use with their state, engine version and
//! counts; the containers of every host with a host column; admins add, test, pause and
//! remove hosts. Also the switcher in the top bar.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wire::{
    ConnectionTest, EnvStatus, EnvironmentInfo, EnvironmentInput, HostContainers, TlsInput,
};

use crate::api::{self, Method};
use crate::app::use_session;
use crate::components::confirm::{self, ConfirmButton, What};
use crate::components::status::{ErrorPanel, Loading};
use crate::i18n::environments::{self as strings, tr, Key};
use crate::i18n::{use_i18n, Lang};

fn status_text(lang: Lang, e: &EnvironmentInfo) -> String {
    match e.status {
        EnvStatus::Up => strings::t(lang, Key::Up).into(),
        EnvStatus::Unknown => strings::t(lang, Key::Checking).into(),
        EnvStatus::Paused => strings::t(lang, Key::Paused).into(),
        EnvStatus::Down => {
            let since = e
                .since
                .map(|s| {
                    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(s as f64 * 1000.0))
                        .to_locale_string(lang.code(), &wasm_bindgen::JsValue::UNDEFINED)
                        .as_string()
                        .unwrap_or_default()
                })
                .unwrap_or_default();
            strings::down_since(lang, &since)
        }
    }
}

/// A host's state in one word (the all-containers table's missing hosts).
fn state_word(lang: Lang, s: EnvStatus) -> &'static str {
    strings::t(
        lang,
        match s {
            EnvStatus::Up => Key::Up,
            EnvStatus::Unknown => Key::Checking,
            EnvStatus::Paused => Key::Paused,
            EnvStatus::Down => Key::Down,
        },
    )
}

fn status_class(s: EnvStatus) -> &'static str {
    match s {
        EnvStatus::Up => "badge badge-ok",
        EnvStatus::Down => "badge badge-error",
        _ => "badge",
    }
}

/// Opens `env` here: remembered, and put in the URL so the link opens the same host.
pub fn switch_to(env: &str) {
    api::choose_env(env);
    let location = window().location();
    let path = location.pathname().unwrap_or_else(|_| "/".into());
    let _ = location.set_href(&format!("{path}?env={}", api::enc(env)));
}

/// The environment switcher: nothing when there is only one environment to choose.
#[component]
pub fn EnvSwitcher() -> impl IntoView {
    let lang = use_i18n().lang;
    let list = LocalResource::new(|| api::get::<Vec<EnvironmentInfo>>("/api/environments"));
    move || {
        let envs = list.get().and_then(Result::ok).unwrap_or_default();
        let current = api::current_env().unwrap_or_else(|| "local".into());
        // A remembered host that is gone (or no longer ours) falls back to local.
        if !envs.is_empty() && !envs.iter().any(|e| e.name == current) {
            api::choose_env("");
        }
        (envs.len() > 1).then(|| {
            view! {
                <select
                    class="env-switch"
                    data-testid="env-switcher"
                    aria-label=tr(Key::Environment)
                    title=tr(Key::Environment)
                    on:change=move |ev| switch_to(&event_target_value(&ev))
                >
                    {envs
                        .into_iter()
                        .map(|e| {
                            let label = if e.status == EnvStatus::Up {
                                e.name.clone()
                            } else {
                                format!("{} ({})", e.name, status_text(lang.get(), &e))
                            };
                            view! {
                                <option value=e.name.clone() selected=e.name == current>{label}</option>
                            }
                        })
                        .collect_view()}
                </select>
            }
        })
    }
}

/// The home page's hosts: each with its state, engine version and counts, when there is
/// more than one (a down host shows at once, from its health loop's state).
#[component]
pub fn HostsSummary() -> impl IntoView {
    let lang = use_i18n().lang;
    let list = LocalResource::new(|| api::get::<Vec<EnvironmentInfo>>("/api/environments"));
    let current = api::current_env().unwrap_or_else(|| "local".into());
    move || {
        let envs = list.get().and_then(Result::ok).unwrap_or_default();
        let current = current.clone();
        (envs.len() > 1).then(|| {
            view! {
                <div class="cards" data-testid="hosts-summary">
                    {envs.into_iter().map(|e| {
                        let name = e.name.clone();
                        let lang = lang.get();
                        let counts = match (e.running, e.containers, e.images) {
                            (Some(r), Some(c), Some(i)) => strings::counts(lang, r, c, i),
                            _ => String::new(),
                        };
                        view! {
                            <button type="button" class="card stat stat-link" data-testid="host-card"
                                data-name=name.clone() class:selected=name == current
                                on:click=move |_| switch_to(&name)>
                                <div class="stat-label">{e.name.clone()}</div>
                                <div><span class=status_class(e.status)>{status_text(lang, &e)}</span></div>
                                <div class="small">{e.engine_version.clone().map(|v| strings::engine(lang, &v)).unwrap_or_default()}</div>
                                <div class="small">{counts}</div>
                            </button>
                        }
                    }).collect_view()}
                </div>
            }
        })
    }
}

#[component]
pub fn Environments() -> impl IntoView {
    let session = use_session();
    let lang = use_i18n().lang;
    let is_admin = Signal::derive(move || {
        session
            .me
            .with(|m| m.as_ref().is_some_and(|m| m.role == wire::Role::Admin))
    });
    let list = LocalResource::new(|| api::get::<Vec<EnvironmentInfo>>("/api/environments"));
    let all = LocalResource::new(|| {
        api::get::<Vec<HostContainers>>("/api/environments/containers?all=true")
    });
    // An action's error, next to the row it came from: (environment, message).
    let error = RwSignal::new(None::<(String, String)>);
    let adding = RwSignal::new(false);
    // The environment whose edit form is open.
    let editing = RwSignal::new(None::<String>);
    let refresh = Callback::new(move |_| {
        list.refetch();
        all.refetch();
    });
    let act = move |env: String, method: Method, url: String, body: Option<EnvironmentInput>| {
        spawn_local(async move {
            let res =
                api::call::<EnvironmentInput, serde_json::Value>(method, &url, body.as_ref()).await;
            match res {
                Ok(_) => {
                    error.set(None);
                    list.refetch();
                    all.refetch();
                }
                Err(e) => error.set(Some((env, e.message))),
            }
        });
    };

    view! {
        <section class="page" data-testid="environments-page">
            <div class="page-head">
                <h1>{tr(Key::Environments)}</h1>
                <Show when=move || is_admin.get()>
                    <button type="button" class="btn btn-primary" data-testid="env-add"
                        on:click=move |_| { editing.set(None); adding.update(|a| *a = !*a) }>
                        {tr(Key::AddEnvironment)}
                    </button>
                </Show>
            </div>
            <Show when=move || adding.get()>
                <EnvForm on_done=refresh open=adding editing=None />
            </Show>
            {move || match list.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(err)) => view! { <ErrorPanel err retry=refresh /> }.into_any(),
                Some(Ok(rows)) => view! {
                    <div class="table-wrap">
                        <table class="table">
                            <thead><tr>
                                <th>{tr(Key::Name)}</th><th>{tr(Key::Url)}</th><th>{tr(Key::State)}</th><th>{tr(Key::Engine)}</th>
                                <th>{tr(Key::Containers)}</th><th>{tr(Key::Images)}</th><th class="col-actions">""</th>
                            </tr></thead>
                            <tbody>
                                {rows.into_iter().map(|e| env_row(e, lang, is_admin, editing, error, act, refresh)).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any(),
            }}
            <h2>{tr(Key::AllContainers)}</h2>
            {move || match all.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(err)) => view! { <ErrorPanel err retry=refresh /> }.into_any(),
                Some(Ok(hosts)) => view! {
                    <div class="table-wrap">
                        <table class="table" data-testid="all-containers">
                            <thead><tr><th>{tr(Key::Host)}</th><th>{tr(Key::Name)}</th><th>{tr(Key::Image)}</th><th>{tr(Key::State)}</th></tr></thead>
                            <tbody>
                                {hosts.into_iter().map(|h| {
                                    let host = h.environment.clone();
                                    if h.status != EnvStatus::Up {
                                        return view! {
                                            <tr data-testid="all-host-missing" data-host=host.clone()>
                                                <td>{host.clone()}</td>
                                                <td colspan="3"><span class="badge badge-error">{move || state_word(lang.get(), h.status)}</span>
                                                    " " {h.error.clone().unwrap_or_default()}</td>
                                            </tr>
                                        }.into_any();
                                    }
                                    h.containers.into_iter().map(|c| {
                                        let href = format!("/containers/{}?env={}", api::enc(&c.id), api::enc(&host));
                                        view! {
                                            <tr data-testid="all-container-row" data-host=host.clone()>
                                                <td>{host.clone()}</td>
                                                <td><a href=href>{c.display_name().to_owned()}</a></td>
                                                <td class="mono">{c.image.clone()}</td>
                                                <td>{c.state.clone()}</td>
                                            </tr>
                                        }
                                    }).collect_view().into_any()
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any(),
            }}
        </section>
    }
}

/// One host's row; for admins its actions, its edit form below it when open, and an
/// action's error next to it.
fn env_row(
    e: EnvironmentInfo,
    lang: RwSignal<Lang>,
    is_admin: Signal<bool>,
    editing: RwSignal<Option<String>>,
    error: RwSignal<Option<(String, String)>>,
    act: impl Fn(String, Method, String, Option<EnvironmentInput>) + Copy + Send + Sync + 'static,
    refresh: Callback<()>,
) -> impl IntoView {
    let name = e.name.clone();
    let paused = e.paused;
    let builtin = e.builtin;
    let path = format!("/api/environments/{}", api::enc(&name));
    let (n_use, n_edit, n_err, n_form) = (name.clone(), name.clone(), name.clone(), name.clone());
    let test = {
        let (n, p) = (name.clone(), path.clone());
        move |_| act(n.clone(), Method::Post, format!("{p}/test"), None)
    };
    let pause = {
        let (n, p) = (name.clone(), path.clone());
        move |_| {
            act(
                n.clone(),
                Method::Patch,
                p.clone(),
                Some(EnvironmentInput {
                    paused: Some(!paused),
                    ..Default::default()
                }),
            )
        }
    };
    let remove = {
        let (n, p) = (name.clone(), path.clone());
        Callback::new(move |()| act(n.clone(), Method::Delete, p.clone(), None))
    };
    let q_name = name.clone();
    let info = e.clone();
    let form_open = RwSignal::new(true);
    Effect::new(move |_| {
        if !form_open.get() {
            editing.set(None);
            form_open.set(true);
        }
    });
    view! {
        <tr data-testid="env-row" data-name=name.clone()>
            <td>{name.clone()}
                {e.skip_verify.then(|| view! { " " <span class="badge badge-error" title=tr(Key::SkipVerifyTitle)>{tr(Key::SkipVerifyBadge)}</span> })}
                {e.tls.then(|| view! { " " <span class="badge">"TLS"</span> })}
            </td>
            <td class="mono">{e.url.clone()}</td>
            <td>
                <span class=status_class(e.status) data-testid="env-status">{
                    let e = e.clone();
                    move || status_text(lang.get(), &e)
                }</span>
                {e.error.clone().filter(|_| e.status == EnvStatus::Down).map(|m| view! { <div class="small form-error">{m}</div> })}
            </td>
            <td>{e.engine_version.clone().unwrap_or_default()}" "
                <span class="small">{e.api_version.clone().map(|v| format!("API {v}")).unwrap_or_default()}</span></td>
            <td>{move || match (e.running, e.containers) {
                (Some(r), Some(c)) => strings::running_of(lang.get(), r, c),
                _ => String::new(),
            }}</td>
            <td>{e.images.map(|i| i.to_string()).unwrap_or_default()}</td>
            <td class="col-actions"><div class="actions">
                <button type="button" class="btn btn-sm" data-testid="env-use"
                    on:click=move |_| switch_to(&n_use)>{tr(Key::Use)}</button>
                <Show when=move || is_admin.get() && !builtin>
                    <button type="button" class="btn btn-sm" data-testid="env-test" on:click=test.clone()>{tr(Key::Test)}</button>
                    <button type="button" class="btn btn-sm" data-testid="env-edit"
                        on:click={
                            let n = n_edit.clone();
                            move |_| editing.update(|ed| *ed = if ed.as_deref() == Some(n.as_str()) { None } else { Some(n.clone()) })
                        }>{tr(Key::Edit)}</button>
                    <button type="button" class="btn btn-sm" data-testid="env-pause" on:click=pause.clone()>
                        {move || if paused { tr(Key::Resume)() } else { tr(Key::Pause)() }}
                    </button>
                    <ConfirmButton
                        label=Signal::derive(move || tr(Key::Remove)().to_string())
                        question=Signal::derive({
                            let n = q_name.clone();
                            move || confirm::question(lang.get(), What::Environment, &n)
                        })
                        testid="env-remove"
                        on_confirm=remove
                    />
                </Show>
            </div></td>
        </tr>
        {move || error.get().filter(|(env, _)| *env == n_err).map(|(_, m)| view! {
            <tr data-testid="env-row-error"><td colspan="7"><div class="form-error" role="alert">{m}</div></td></tr>
        })}
        {move || (editing.get().as_deref() == Some(n_form.as_str())).then(|| {
            let info = info.clone();
            view! {
                <tr data-testid="env-edit-row"><td colspan="7">
                    <EnvForm on_done=refresh open=form_open editing=Some(info) />
                </td></tr>
            }
        })}
    }
}

/// Add an environment, or edit one (`editing`): URL, PEM text (or files) for TLS, or an
/// ssh key; test first. Editing starts from what is stored, except the keys, which are
/// never sent back: left empty they stay as they are.
#[component]
fn EnvForm(
    on_done: Callback<()>,
    open: RwSignal<bool>,
    editing: Option<EnvironmentInfo>,
) -> impl IntoView {
    let lang = use_i18n().lang;
    let old_name = editing.as_ref().map(|e| e.name.clone());
    let is_edit = old_name.is_some();
    let field = |f: fn(&EnvironmentInfo) -> String| editing.as_ref().map(f).unwrap_or_default();
    let has_tls = editing.as_ref().is_some_and(|e| e.tls);
    let name = RwSignal::new(field(|e| e.name.clone()));
    let url = RwSignal::new(field(|e| e.url.clone()));
    let ca = RwSignal::new(String::new());
    let cert = RwSignal::new(String::new());
    let key = RwSignal::new(String::new());
    let skip = RwSignal::new(editing.as_ref().is_some_and(|e| e.skip_verify));
    let ssh_key = RwSignal::new(String::new());
    let known = RwSignal::new(String::new());
    let teams = RwSignal::new(field(|e| e.teams.join(", ")));
    let roles = RwSignal::new(field(|e| role_text(&e.roles)));
    let result = RwSignal::new(None::<Result<ConnectionTest, String>>);
    let saving = RwSignal::new(false);
    let input = move || {
        let some = |s: String| Some(s).filter(|s| !s.trim().is_empty());
        let has_tls = !key.get_untracked().trim().is_empty();
        EnvironmentInput {
            name: some(name.get_untracked()),
            url: some(url.get_untracked()),
            tls: has_tls.then(|| TlsInput {
                ca: ca.get_untracked(),
                cert: cert.get_untracked(),
                key: key.get_untracked(),
            }),
            skip_verify: Some(skip.get_untracked()),
            ssh_key: some(ssh_key.get_untracked()),
            ssh_known_hosts: some(known.get_untracked()),
            teams: Some(
                teams
                    .get_untracked()
                    .split(',')
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty())
                    .collect(),
            ),
            roles: Some(role_limits(&roles.get_untracked())),
            paused: None,
        }
    };
    let test_path = match &old_name {
        // An edited host is tested with what is stored for it (its keys included).
        Some(n) => format!("/api/environments/{}/test", api::enc(n)),
        None => "/api/environments/test".to_owned(),
    };
    let test = move |_| {
        let mut body = input();
        body.name = None;
        body.teams = None;
        body.roles = None;
        let path = test_path.clone();
        spawn_local(async move {
            let res = if is_edit {
                api::call::<(), ConnectionTest>(Method::Post, &path, None).await
            } else {
                api::call::<_, ConnectionTest>(Method::Post, &path, Some(&body)).await
            }
            .map_err(|e| e.message);
            result.set(Some(res));
        });
    };
    let save = move |_| {
        let body = input();
        let target = old_name.clone();
        saving.set(true);
        spawn_local(async move {
            let res = match &target {
                Some(n) => {
                    api::call::<_, EnvironmentInfo>(
                        Method::Patch,
                        &format!("/api/environments/{}", api::enc(n)),
                        Some(&body),
                    )
                    .await
                }
                None => {
                    api::call::<_, EnvironmentInfo>(Method::Post, "/api/environments", Some(&body))
                        .await
                }
            };
            saving.set(false);
            match res {
                Ok(_) => {
                    open.set(false);
                    on_done.run(());
                }
                Err(e) => result.set(Some(Err(e.message))),
            }
        });
    };
    let text = move |label: Key, id: &'static str, sig: RwSignal<String>, multi: bool| {
        if multi {
            // Pasted, or read from a file picked here (it never leaves the browser but to
            // berth, like the pasted text).
            let upload = move |ev: leptos::ev::Event| {
                use wasm_bindgen::JsCast;
                let Some(file) = ev
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                    .and_then(|i| i.files())
                    .and_then(|f| f.get(0))
                else {
                    return;
                };
                spawn_local(async move {
                    if let Ok(v) = wasm_bindgen_futures::JsFuture::from(file.text()).await {
                        sig.set(v.as_string().unwrap_or_default());
                    }
                });
            };
            view! {
                <label class="field"><span>{tr(label)}</span>
                    <textarea data-testid=id rows="3" prop:value=move || sig.get()
                        on:input=move |ev| sig.set(event_target_value(&ev))></textarea>
                    <input type="file" class="small" on:change=upload />
                </label>
            }
            .into_any()
        } else {
            view! {
                <label class="field"><span>{tr(label)}</span>
                    <input data-testid=id prop:value=move || sig.get()
                        on:input=move |ev| sig.set(event_target_value(&ev)) />
                </label>
            }
            .into_any()
        }
    };
    view! {
        <div class="panel" data-testid="env-form">
            {is_edit.then(|| view! { <h2>{tr(Key::EditTitle)}</h2> })}
            {text(Key::Name, "env-name", name, false)}
            {text(Key::UrlField, "env-url", url, false)}
            <details><summary>{tr(Key::TlsSummary)}</summary>
                {has_tls.then(|| view! { <p class="small">{tr(Key::TlsKeep)}</p> })}
                {text(Key::CaCert, "env-ca", ca, true)}
                {text(Key::ClientCert, "env-cert", cert, true)}
                {text(Key::ClientPrivate, "env-key", key, true)}
                <label class="field"><input type="checkbox" data-testid="env-skip-verify"
                    prop:checked=move || skip.get()
                    on:change=move |ev| skip.set(event_target_checked(&ev)) />
                    <span class="form-error">" " {tr(Key::SkipVerify)}</span>
                </label>
            </details>
            <details><summary>{tr(Key::SshSummary)}</summary>
                {text(Key::SshPrivate, "env-ssh-key", ssh_key, true)}
                {text(Key::KnownHosts, "env-known-hosts", known, true)}
            </details>
            {text(Key::Teams, "env-teams", teams, false)}
            {text(Key::Roles, "env-roles", roles, false)}
            <p class="small">{tr(Key::RolesHint)}</p>
            <div class="actions">
                <button type="button" class="btn" data-testid="env-test-new" on:click=test>{tr(Key::TestConnection)}</button>
                <button type="button" class="btn btn-primary" data-testid="env-save"
                    disabled=move || saving.get() on:click=save>
                    {move || if is_edit { tr(Key::Save)() } else { tr(Key::Add)() }}
                </button>
                <button type="button" class="btn" data-testid="env-cancel"
                    on:click=move |_| open.set(false)>{tr(Key::Cancel)}</button>
            </div>
            {move || result.get().map(|r| {
                let lang = lang.get();
                match r {
                    Ok(t) if t.ok => view! { <div class="banner" data-testid="env-test-result">
                        {strings::test_ok(lang, &t.engine_version.unwrap_or_default(), &t.api_version.unwrap_or_default(), t.millis)}
                    </div> }.into_any(),
                    Ok(t) => view! { <div class="banner banner-error" data-testid="env-test-result">
                        {strings::test_failed(lang, &t.stage.unwrap_or_default(), &t.error.unwrap_or_default())}
                    </div> }.into_any(),
                    Err(e) => view! { <div class="banner banner-error" data-testid="env-test-result">{e}</div> }.into_any(),
                }
            })}
        </div>
    }
}

/// The stored role limits as the form's text: `red=viewer, *=operator`.
fn role_text(roles: &std::collections::BTreeMap<String, wire::Role>) -> String {
    roles
        .iter()
        .map(|(team, role)| {
            let role = match role {
                wire::Role::Viewer => "viewer",
                wire::Role::Operator => "operator",
                wire::Role::Admin => "admin",
            };
            format!("{team}={role}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `team=viewer, *=operator` → the environment's role limits. A word that is not a role
/// is sent as `admin`, which the server refuses naming the team and the two roles allowed.
fn role_limits(text: &str) -> std::collections::BTreeMap<String, wire::Role> {
    text.split(',')
        .filter_map(|pair| {
            let (team, role) = pair.split_once('=')?;
            let role = match role.trim() {
                "viewer" => wire::Role::Viewer,
                "operator" => wire::Role::Operator,
                _ => wire::Role::Admin,
            };
            Some((team.trim().to_owned(), role))
        })
        .filter(|(team, _)| !team.is_empty())
        .collect()
}
