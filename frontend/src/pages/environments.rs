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
use crate::components::status::{ErrorPanel, Loading};

fn status_text(e: &EnvironmentInfo) -> String {
    match e.status {
        EnvStatus::Up => "up".into(),
        EnvStatus::Unknown => "checking".into(),
        EnvStatus::Paused => "paused".into(),
        EnvStatus::Down => {
            let since = e
                .since
                .map(|s| {
                    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(s as f64 * 1000.0))
                        .to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED)
                        .as_string()
                        .unwrap_or_default()
                })
                .unwrap_or_default();
            format!("down since {since}")
        }
    }
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
                    aria-label="Environment"
                    title="Environment"
                    on:change=move |ev| switch_to(&event_target_value(&ev))
                >
                    {envs
                        .into_iter()
                        .map(|e| {
                            let label = if e.status == EnvStatus::Up {
                                e.name.clone()
                            } else {
                                format!("{} ({})", e.name, status_text(&e))
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
                        let counts = match (e.running, e.containers, e.images) {
                            (Some(r), Some(c), Some(i)) => format!("{r}/{c} running, {i} images"),
                            _ => String::new(),
                        };
                        view! {
                            <button type="button" class="card stat stat-link" data-testid="host-card"
                                data-name=name.clone() class:selected=name == current
                                on:click=move |_| switch_to(&name)>
                                <div class="stat-label">{e.name.clone()}</div>
                                <div><span class=status_class(e.status)>{status_text(&e)}</span></div>
                                <div class="small">{e.engine_version.clone().map(|v| format!("Engine {v}")).unwrap_or_default()}</div>
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
    let is_admin = Signal::derive(move || {
        session
            .me
            .with(|m| m.as_ref().is_some_and(|m| m.role == wire::Role::Admin))
    });
    let list = LocalResource::new(|| api::get::<Vec<EnvironmentInfo>>("/api/environments"));
    let all = LocalResource::new(|| {
        api::get::<Vec<HostContainers>>("/api/environments/containers?all=true")
    });
    let error = RwSignal::new(None::<String>);
    let adding = RwSignal::new(false);
    let refresh = Callback::new(move |_| {
        list.refetch();
        all.refetch();
    });
    let act = move |method: Method, url: String, body: Option<EnvironmentInput>| {
        spawn_local(async move {
            let res =
                api::call::<EnvironmentInput, serde_json::Value>(method, &url, body.as_ref()).await;
            match res {
                Ok(_) => {
                    error.set(None);
                    list.refetch();
                    all.refetch();
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };

    view! {
        <section class="page" data-testid="environments-page">
            <div class="page-head">
                <h1>"Environments"</h1>
                <Show when=move || is_admin.get()>
                    <button type="button" class="btn btn-primary" data-testid="env-add"
                        on:click=move |_| adding.update(|a| *a = !*a)>
                        "Add environment"
                    </button>
                </Show>
            </div>
            {move || error.get().map(|e| view! { <div class="banner banner-error" role="alert">{e}</div> })}
            <Show when=move || adding.get()>
                <EnvForm on_done=refresh adding />
            </Show>
            {move || match list.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(err)) => view! { <ErrorPanel err retry=refresh /> }.into_any(),
                Some(Ok(rows)) => view! {
                    <div class="table-wrap">
                        <table class="table">
                            <thead><tr>
                                <th>"Name"</th><th>"URL"</th><th>"State"</th><th>"Engine"</th>
                                <th>"Containers"</th><th>"Images"</th><th class="col-actions">""</th>
                            </tr></thead>
                            <tbody>
                                {rows.into_iter().map(|e| {
                                    let name = e.name.clone();
                                    let (n1, n2, n3) = (name.clone(), name.clone(), name.clone());
                                    let paused = e.paused;
                                    let builtin = e.builtin;
                                    view! {
                                        <tr data-testid="env-row" data-name=name.clone()>
                                            <td>{name.clone()}
                                                {e.skip_verify.then(|| view! { " " <span class="badge badge-error" title="the daemon's certificate is not checked">"unsafe: skip verify"</span> })}
                                                {e.tls.then(|| view! { " " <span class="badge">"TLS"</span> })}
                                            </td>
                                            <td class="mono">{e.url.clone()}</td>
                                            <td>
                                                <span class=status_class(e.status) data-testid="env-status">{status_text(&e)}</span>
                                                {e.error.clone().filter(|_| e.status == EnvStatus::Down).map(|m| view! { <div class="small form-error">{m}</div> })}
                                            </td>
                                            <td>{e.engine_version.clone().unwrap_or_default()}" "
                                                <span class="small">{e.api_version.clone().map(|v| format!("API {v}")).unwrap_or_default()}</span></td>
                                            <td>{match (e.running, e.containers) {
                                                (Some(r), Some(c)) => format!("{r} running / {c}"),
                                                _ => String::new(),
                                            }}</td>
                                            <td>{e.images.map(|i| i.to_string()).unwrap_or_default()}</td>
                                            <td class="col-actions"><div class="actions">
                                                <button type="button" class="btn btn-sm" data-testid="env-use"
                                                    on:click=move |_| switch_to(&n1)>"Use"</button>
                                                <Show when=move || is_admin.get() && !builtin>
                                                    <button type="button" class="btn btn-sm" data-testid="env-test"
                                                        on:click={
                                                            let n = n2.clone();
                                                            move |_| act(Method::Post, format!("/api/environments/{}/test", api::enc(&n)), None)
                                                        }>"Test"</button>
                                                    <button type="button" class="btn btn-sm" data-testid="env-pause"
                                                        on:click={
                                                            let n = n2.clone();
                                                            move |_| act(Method::Patch, format!("/api/environments/{}", api::enc(&n)),
                                                                Some(EnvironmentInput { paused: Some(!paused), ..Default::default() }))
                                                        }>{if paused { "Resume" } else { "Pause" }}</button>
                                                    <button type="button" class="btn btn-sm btn-danger" data-testid="env-remove"
                                                        on:click={
                                                            let n = n3.clone();
                                                            move |_| act(Method::Delete, format!("/api/environments/{}", api::enc(&n)), None)
                                                        }>"Remove"</button>
                                                </Show>
                                            </div></td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any(),
            }}
            <h2>"Containers on every environment"</h2>
            {move || match all.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(err)) => view! { <ErrorPanel err retry=refresh /> }.into_any(),
                Some(Ok(hosts)) => view! {
                    <div class="table-wrap">
                        <table class="table" data-testid="all-containers">
                            <thead><tr><th>"Host"</th><th>"Name"</th><th>"Image"</th><th>"State"</th></tr></thead>
                            <tbody>
                                {hosts.into_iter().map(|h| {
                                    let host = h.environment.clone();
                                    if h.status != EnvStatus::Up {
                                        return view! {
                                            <tr data-testid="all-host-missing" data-host=host.clone()>
                                                <td>{host.clone()}</td>
                                                <td colspan="3"><span class="badge badge-error">{format!("{:?}", h.status).to_lowercase()}</span>
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

/// Add an environment: URL, PEM text (or files) for TLS, or an ssh key; test first.
#[component]
fn EnvForm(on_done: Callback<()>, adding: RwSignal<bool>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let url = RwSignal::new(String::new());
    let ca = RwSignal::new(String::new());
    let cert = RwSignal::new(String::new());
    let key = RwSignal::new(String::new());
    let skip = RwSignal::new(false);
    let ssh_key = RwSignal::new(String::new());
    let known = RwSignal::new(String::new());
    let teams = RwSignal::new(String::new());
    let roles = RwSignal::new(String::new());
    let result = RwSignal::new(None::<Result<ConnectionTest, String>>);
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
    let test = move |_| {
        let mut body = input();
        body.name = None;
        body.teams = None;
        body.roles = None;
        spawn_local(async move {
            let res =
                api::call::<_, ConnectionTest>(Method::Post, "/api/environments/test", Some(&body))
                    .await
                    .map_err(|e| e.message);
            result.set(Some(res));
        });
    };
    let save = move |_| {
        let body = input();
        spawn_local(async move {
            match api::call::<_, EnvironmentInfo>(Method::Post, "/api/environments", Some(&body))
                .await
            {
                Ok(_) => {
                    adding.set(false);
                    on_done.run(());
                }
                Err(e) => result.set(Some(Err(e.message))),
            }
        });
    };
    let text = |label: &'static str, id: &'static str, sig: RwSignal<String>, multi: bool| {
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
                <label class="field"><span>{label}</span>
                    <textarea data-testid=id rows="3" prop:value=move || sig.get()
                        on:input=move |ev| sig.set(event_target_value(&ev))></textarea>
                    <input type="file" class="small" on:change=upload />
                </label>
            }
            .into_any()
        } else {
            view! {
                <label class="field"><span>{label}</span>
                    <input data-testid=id prop:value=move || sig.get()
                        on:input=move |ev| sig.set(event_target_value(&ev)) />
                </label>
            }
            .into_any()
        }
    };
    view! {
        <div class="panel" data-testid="env-form">
            {text("Name", "env-name", name, false)}
            {text("URL (unix:///…, tcp://host:2376, ssh://user@host)", "env-url", url, false)}
            <details><summary>"Mutual TLS (PEM; kept sealed, never shown again)"</summary>
                {text("CA certificate", "env-ca", ca, true)}
                {text("Client certificate", "env-cert", cert, true)}
                {text("Client key", "env-key", key, true)}
                <label class="field"><input type="checkbox" data-testid="env-skip-verify"
                    prop:checked=move || skip.get()
                    on:change=move |ev| skip.set(event_target_checked(&ev)) />
                    <span class="form-error">" Skip verifying the daemon's certificate (unsafe: anyone on the way can pose as it)"</span>
                </label>
            </details>
            <details><summary>"SSH (key kept sealed)"</summary>
                {text("Private key (OpenSSH)", "env-ssh-key", ssh_key, true)}
                {text("known_hosts line(s) of the host", "env-known-hosts", known, true)}
            </details>
            {text("Teams (comma-separated; empty: everyone)", "env-teams", teams, false)}
            {text("Role limits here (team=viewer, *=operator; empty: none)", "env-roles", roles, false)}
            <div class="actions">
                <button type="button" class="btn" data-testid="env-test-new" on:click=test>"Test connection"</button>
                <button type="button" class="btn btn-primary" data-testid="env-save" on:click=save>"Add"</button>
            </div>
            {move || result.get().map(|r| match r {
                Ok(t) if t.ok => view! { <div class="banner" data-testid="env-test-result">
                    {format!("OK: engine {} (API {}), {} ms", t.engine_version.unwrap_or_default(), t.api_version.unwrap_or_default(), t.millis)}
                </div> }.into_any(),
                Ok(t) => view! { <div class="banner banner-error" data-testid="env-test-result">
                    {format!("{} failed: {}", t.stage.unwrap_or_default(), t.error.unwrap_or_default())}
                </div> }.into_any(),
                Err(e) => view! { <div class="banner banner-error" data-testid="env-test-result">{e}</div> }.into_any(),
            })}
        </div>
    }
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
