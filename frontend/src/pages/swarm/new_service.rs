//! The "New service" form of `/swarm/services`: `docker service create` with the fields
//! most services need (name, image, mode and replicas, command, environment, published
//! ports, overlay networks, secrets, configs, placement constraints). The server's policy
//! judges it; its refusal shows under the form, naming what is wrong. Made, the service's
//! page opens.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use wire::{CreateService, NetworkSummary, ServiceFile, ServicePort, SwarmFileSummary};

use crate::api::{self, Method};
use crate::i18n::swarm::{tr, Key};
use crate::i18n::{error_text, use_i18n};
use crate::pages::container_create::split_words;

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// One line of the ports field: `TARGET`, `PUBLISHED:TARGET`, either followed by `/udp`
/// (or `/tcp`, `/sctp`) and then ` host` (or ` ingress`, the default).
pub fn port_line(line: &str) -> Result<ServicePort, String> {
    let bad = || format!("ports: {line:?} is not PUBLISHED:TARGET[/udp] [host]");
    let mut words = line.split_whitespace();
    let spec = words.next().ok_or_else(bad)?;
    let mode = match words.next() {
        None => None,
        Some(m @ ("host" | "ingress")) => Some(m.to_owned()),
        Some(_) => return Err(bad()),
    };
    if words.next().is_some() {
        return Err(bad());
    }
    let (ports, protocol) = match spec.split_once('/') {
        Some((p, proto @ ("tcp" | "udp" | "sctp"))) => (p, Some(proto.to_owned())),
        Some(_) => return Err(bad()),
        None => (spec, None),
    };
    let (published, target) = match ports.split_once(':') {
        Some((h, t)) => (Some(h.parse::<u16>().map_err(|_| bad())?), t),
        None => (None, ports),
    };
    Ok(ServicePort {
        target: target.parse().map_err(|_| bad())?,
        published,
        protocol,
        mode,
    })
}

/// Checkboxes for names picked from a list (networks, secrets, configs).
#[component]
fn Picks(
    options: RwSignal<Vec<String>>,
    picked: RwSignal<Vec<String>>,
    testid: &'static str,
    empty: Key,
) -> impl IntoView {
    view! {
        <div class="picks" data-testid=testid>
            {move || {
                let all = options.get();
                if all.is_empty() {
                    return view! { <span class="muted small">{tr(empty)}</span> }.into_any();
                }
                all.into_iter()
                    .map(|n| {
                        let (a, b, c) = (n.clone(), n.clone(), n.clone());
                        view! {
                            <label class="check">
                                <input type="checkbox" data-name=c
                                    prop:checked=move || picked.with(|p| p.contains(&a))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        picked.update(|p| {
                                            p.retain(|x| *x != b);
                                            if on {
                                                p.push(b.clone());
                                            }
                                        });
                                    } />
                                <span class="mono">{n}</span>
                            </label>
                        }
                    })
                    .collect_view()
                    .into_any()
            }}
        </div>
    }
}

#[component]
pub fn NewService(open: RwSignal<bool>) -> impl IntoView {
    let i18n = use_i18n();
    let navigate = use_navigate();
    let name = RwSignal::new(String::new());
    let image = RwSignal::new(String::new());
    let global = RwSignal::new(false);
    let replicas = RwSignal::new("1".to_string());
    let command = RwSignal::new(String::new());
    let env = RwSignal::new(String::new());
    let ports = RwSignal::new(String::new());
    let constraints = RwSignal::new(String::new());
    let networks = RwSignal::new(Vec::<String>::new());
    let secrets = RwSignal::new(Vec::<String>::new());
    let configs = RwSignal::new(Vec::<String>::new());
    let all_networks = RwSignal::new(Vec::<String>::new());
    let all_secrets = RwSignal::new(Vec::<String>::new());
    let all_configs = RwSignal::new(Vec::<String>::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    // What may be picked: the overlay networks (a service joins no other), the secrets,
    // the configs; looked up each time the form opens (not with the list of services).
    Effect::new(move |_| {
        if !open.get() {
            return;
        }
        spawn_local(async move {
            if let Ok(n) = api::get::<Vec<NetworkSummary>>("/api/networks").await {
                let _ = all_networks.try_set(
                    n.into_iter()
                        .filter(|n| n.driver == "overlay" && n.name != "ingress")
                        .map(|n| n.name)
                        .collect(),
                );
            }
            for (url, sig) in [("/api/secrets", all_secrets), ("/api/configs", all_configs)] {
                if let Ok(l) = api::get::<Vec<SwarmFileSummary>>(url).await {
                    let _ = sig.try_set(l.into_iter().map(|f| f.name).collect());
                }
            }
        });
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let lang = i18n.lang.get_untracked();
        let replicas_n = if global.get_untracked() {
            None
        } else {
            match replicas.get_untracked().trim().parse::<u64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    error.set(Some(tr(Key::ReplicasInvalid)().to_owned()));
                    return;
                }
            }
        };
        let parsed: Result<Vec<ServicePort>, String> = lines(&ports.get_untracked())
            .iter()
            .map(|l| port_line(l))
            .collect();
        let ports = match parsed {
            Ok(p) => p,
            Err(e) => {
                error.set(Some(e));
                return;
            }
        };
        let cmd = split_words(&command.get_untracked());
        let file = |name: String| ServiceFile { name, target: None };
        let body = CreateService {
            name: name.get_untracked().trim().to_owned(),
            image: image.get_untracked().trim().to_owned(),
            mode: Some(
                if global.get_untracked() {
                    "global"
                } else {
                    "replicated"
                }
                .into(),
            ),
            replicas: replicas_n,
            cmd: (!cmd.is_empty()).then_some(cmd),
            env: lines(&env.get_untracked()),
            ports,
            networks: networks.get_untracked(),
            constraints: lines(&constraints.get_untracked()),
            secrets: secrets.get_untracked().into_iter().map(file).collect(),
            configs: configs.get_untracked().into_iter().map(file).collect(),
            ..Default::default()
        };
        busy.set(true);
        error.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            let res =
                api::call::<_, serde_json::Value>(Method::Post, "/api/services", Some(&body)).await;
            let _ = busy.try_set(false);
            match res {
                Ok(_) => {
                    let url = format!("/swarm/services/{}", api::enc(&body.name));
                    navigate(&url, Default::default());
                }
                Err(e) => {
                    let _ = error.try_set(Some(error_text(lang, &e)));
                }
            }
        });
    };

    view! {
        <Show when=move || open.get()>
            <form class="panel new-service" data-testid="new-service-form" on:submit=submit.clone()>
                <h2 class="section-title">{tr(Key::NewService)}</h2>
                <div class="form-grid">
                    <label class="field"><span>{tr(Key::Name)}</span>
                        <input class="input" data-testid="new-service-name" required bind:value=name /></label>
                    <label class="field"><span>{tr(Key::Image)}</span>
                        <input class="input mono" data-testid="new-service-image" required bind:value=image /></label>
                    <label class="field"><span>{tr(Key::Mode)}</span>
                        <select class="input" data-testid="new-service-mode"
                            on:change=move |ev| global.set(event_target_value(&ev) == "global")>
                            <option value="replicated" selected=move || !global.get()>{tr(Key::Replicated)}</option>
                            <option value="global" selected=move || global.get()>{tr(Key::Global)}</option>
                        </select></label>
                    <Show when=move || !global.get()>
                        <label class="field"><span>{tr(Key::Replicas)}</span>
                            <input class="input num-input" type="number" min="0" data-testid="new-service-replicas" bind:value=replicas /></label>
                    </Show>
                </div>
                <label class="field"><span>{tr(Key::Command)}</span>
                    <input class="input mono" data-testid="new-service-command" placeholder=tr(Key::CommandHint) bind:value=command /></label>
                <div class="form-grid">
                    <label class="field"><span>{tr(Key::Env)}</span>
                        <textarea class="input mono" rows="3" data-testid="new-service-env" placeholder="KEY=value"
                            prop:value=move || env.get() on:input=move |ev| env.set(event_target_value(&ev))></textarea></label>
                    <label class="field"><span>{tr(Key::Ports)}</span>
                        <textarea class="input mono" rows="3" data-testid="new-service-ports" placeholder=tr(Key::PortsHint)
                            prop:value=move || ports.get() on:input=move |ev| ports.set(event_target_value(&ev))></textarea></label>
                    <label class="field"><span>{tr(Key::Constraints)}</span>
                        <textarea class="input mono" rows="3" data-testid="new-service-constraints" placeholder="node.role==worker"
                            prop:value=move || constraints.get() on:input=move |ev| constraints.set(event_target_value(&ev))></textarea></label>
                </div>
                <div class="form-grid">
                    <div class="field"><span>{tr(Key::Networks)}</span>
                        <Picks options=all_networks picked=networks testid="new-service-networks" empty=Key::NoOverlay /></div>
                    <div class="field"><span>{tr(Key::Secrets)}</span>
                        <Picks options=all_secrets picked=secrets testid="new-service-secrets" empty=Key::NoSecrets /></div>
                    <div class="field"><span>{tr(Key::Configs)}</span>
                        <Picks options=all_configs picked=configs testid="new-service-configs" empty=Key::NoConfigs /></div>
                </div>
                {move || error.get().map(|e| view! {
                    <div class="banner banner-error" role="alert" data-testid="new-service-error">{e}</div>
                })}
                <div class="toolbar">
                    <button class="btn btn-primary" type="submit" data-testid="new-service-create" disabled=move || busy.get()>
                        {tr(Key::Create)}
                    </button>
                    <button class="btn" type="button" on:click=move |_| open.set(false)>{tr(Key::Cancel)}</button>
                </div>
            </form>
        </Show>
    }
}
