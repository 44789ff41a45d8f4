//! Answers filtered to what the caller may see, exactly as the UI's lists are: containers,
//! networks and volumes by team label, image tags by owner, `system df` likewise, and the
//! event stream to the containers the caller may see. Admins get the daemon's answer as is.

use std::collections::{HashMap, HashSet};

use axum::body::Body;
use bytes::Bytes;
use futures::StreamExt;
use serde_json::Value;
use wire::Role;

use crate::auth::policy::resolve::Policy;
use crate::auth::CurrentUser;
use crate::docker::Endpoint;
use crate::state::AppState;
use crate::store::image_owners;

pub enum Filter {
    None,
    /// A small JSON answer berth reads (a commit's id, a removal's untagged list).
    Json,
    Containers,
    Images,
    Networks,
    /// One network's inspect: its `Containers` to the visible ones.
    NetworkMembers,
    Volumes,
    Df,
    Events,
    /// Services, secrets or configs (a list, or one already checked): by their spec's team
    /// label, without a config's value.
    SwarmObjects,
    /// Tasks: by their containers' team label (berth sets it on every service's tasks).
    Tasks,
}

fn labels_of(v: &Value) -> HashMap<String, String> {
    v.as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

fn sees(user: &CurrentUser, labels: &Value) -> bool {
    let l = labels_of(labels);
    user.can_see(|k| l.get(k).map(String::as_str))
}

/// Filter a collected answer.
pub async fn apply(
    state: &AppState,
    user: &CurrentUser,
    ep: &Endpoint,
    filter: &Filter,
    bytes: Bytes,
) -> Bytes {
    if user.role == Role::Admin || matches!(filter, Filter::None | Filter::Json | Filter::Events) {
        return bytes;
    }
    let Ok(mut v) = serde_json::from_slice::<Value>(&bytes) else {
        return bytes;
    };
    match filter {
        Filter::Containers => retain(&mut v, |c| sees(user, &c["Labels"])),
        Filter::Networks => retain(&mut v, |n| {
            matches!(n["Name"].as_str(), Some("bridge" | "host" | "none"))
                || sees(user, &n["Labels"])
        }),
        Filter::Volumes => retain(&mut v["Volumes"], |vol| sees(user, &vol["Labels"])),
        Filter::Images => images(state, user, ep, &mut v).await,
        Filter::NetworkMembers => {
            let seen = visible_ids(user, ep).await;
            if let Some(m) = v["Containers"].as_object_mut() {
                m.retain(|id, _| seen.contains(id));
            }
        }
        Filter::Df => {
            retain(&mut v["Containers"], |c| sees(user, &c["Labels"]));
            retain(&mut v["Volumes"], |vol| sees(user, &vol["Labels"]));
            images(state, user, ep, &mut v["Images"]).await;
            if v["BuildCache"].is_array() {
                v["BuildCache"] = Value::Array(Vec::new());
            }
        }
        Filter::SwarmObjects => {
            retain(&mut v, |o| sees(user, &o["Spec"]["Labels"]));
            // A config's value goes in once and is not shown again through berth.
            let strip = |o: &mut Value| {
                if let Some(spec) = o["Spec"].as_object_mut() {
                    spec.remove("Data");
                }
            };
            match v.as_array_mut() {
                Some(a) => a.iter_mut().for_each(strip),
                None => strip(&mut v),
            }
        }
        Filter::Tasks => retain(&mut v, |t| {
            sees(user, &t["Spec"]["ContainerSpec"]["Labels"])
        }),
        Filter::None | Filter::Json | Filter::Events => {}
    }
    serde_json::to_vec(&v).map(Bytes::from).unwrap_or(bytes)
}

fn retain(v: &mut Value, keep: impl Fn(&Value) -> bool) {
    if let Some(a) = v.as_array_mut() {
        a.retain(|x| keep(x));
    }
}

async fn images(state: &AppState, user: &CurrentUser, ep: &Endpoint, v: &mut Value) {
    let owners: HashMap<String, String> = image_owners::all(&state.db, &ep.name)
        .await
        .unwrap_or_default()
        .into_iter()
        .collect();
    let p = Policy::new(user, ep, &state.db);
    if let Some(a) = v.as_array_mut() {
        a.retain_mut(|img| {
            let id = img["Id"].as_str().unwrap_or_default().to_owned();
            let tags: Vec<String> = img["RepoTags"]
                .as_array()
                .map(|t| {
                    t.iter()
                        .filter_map(Value::as_str)
                        .filter(|t| *t != "<none>:<none>")
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            match p.visible_tags(&owners, &id, &tags) {
                Some(shown) => {
                    img["RepoTags"] = Value::from(shown);
                    true
                }
                None => false,
            }
        });
    }
}

async fn visible_ids(user: &CurrentUser, ep: &Endpoint) -> HashSet<String> {
    let all = ep
        .call(|d| async move {
            d.list_containers(Some(bollard::query_parameters::ListContainersOptions {
                all: true,
                ..Default::default()
            }))
            .await
        })
        .await
        .unwrap_or_default();
    all.into_iter()
        .filter(|c| user.can_see(|k| c.labels.as_ref().and_then(|l| l.get(k)).map(String::as_str)))
        .filter_map(|c| c.id)
        .collect()
}

/// The event stream as it flows: for a non-admin, only events of containers they may see
/// (a container event carries its labels as attributes).
pub fn events(
    user: &CurrentUser,
    response: http::Response<hyper::body::Incoming>,
) -> axum::response::Response {
    let mut out = super::forward::stream_back(response);
    if user.role == Role::Admin {
        return out;
    }
    let user = user.clone();
    let body = std::mem::replace(out.body_mut(), Body::empty());
    let mut pending: Vec<u8> = Vec::new();
    let stream = body.into_data_stream().map(move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        pending.extend_from_slice(&chunk);
        let mut keep = Vec::new();
        while let Some(nl) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=nl).collect();
            let Ok(ev) = serde_json::from_slice::<Value>(&line) else {
                continue;
            };
            let container = ev["Type"] == "container";
            if container && sees(&user, &ev["Actor"]["Attributes"]) {
                keep.extend_from_slice(&line);
            }
        }
        Ok::<_, std::io::Error>(Bytes::from(keep))
    });
    *out.body_mut() = Body::from_stream(stream);
    out
}
