//! Networks: list with members and addresses, create, inspect, connect with a fixed
//! address, disconnect, remove, prune.

use std::collections::{BTreeMap, HashMap};

use bollard::models::{
    EndpointIpamConfig, EndpointSettings, Ipam, IpamConfig, Network, NetworkConnectRequest,
    NetworkCreateRequest, NetworkDisconnectRequest,
};
use bollard::query_parameters::{InspectNetworkOptions, ListNetworksOptions, PruneNetworksOptions};
use serde_json::Value;

use super::Endpoint;
use crate::error::{AppError, AppResult};

const BUILTIN: &[&str] = &["bridge", "host", "none"];

/// A network reference as users give it (id or name): nothing that could change the
/// daemon's URL path.
pub fn check_ref(r: &str) -> AppResult<&str> {
    let ok = !r.is_empty()
        && r.len() <= 255
        && r.as_bytes()[0].is_ascii_alphanumeric()
        && r.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(r)
    } else {
        Err(AppError::bad_request(
            "invalid_network",
            format!("{r:?} is not a network id or name"),
        ))
    }
}

pub fn summary(n: Network) -> wire::NetworkSummary {
    let name = n.name.unwrap_or_default();
    let subnets = n
        .ipam
        .and_then(|i| i.config)
        .unwrap_or_default()
        .into_iter()
        .map(|c| wire::NetworkSubnet {
            subnet: c.subnet,
            gateway: c.gateway,
            ip_range: c.ip_range,
        })
        .collect();
    let mut containers: Vec<wire::NetworkMember> = n
        .containers
        .unwrap_or_default()
        .into_iter()
        .map(|(id, c)| wire::NetworkMember {
            id,
            name: c.name.unwrap_or_default(),
            ipv4: c.ipv4_address.filter(|a| !a.is_empty()),
            ipv6: c.ipv6_address.filter(|a| !a.is_empty()),
            mac: c.mac_address.filter(|a| !a.is_empty()),
        })
        .collect();
    containers.sort_by(|a, b| a.name.cmp(&b.name));
    wire::NetworkSummary {
        id: n.id.unwrap_or_default(),
        builtin: BUILTIN.contains(&name.as_str()),
        name,
        driver: n.driver.unwrap_or_default(),
        scope: n.scope.unwrap_or_default(),
        internal: n.internal.unwrap_or_default(),
        subnets,
        labels: n
            .labels
            .unwrap_or_default()
            .into_iter()
            .collect::<BTreeMap<_, _>>(),
        containers,
    }
}

/// Every network with its members. The list API leaves `Containers` empty, so each network
/// is inspected (concurrently): a daemon has tens of networks, not thousands.
pub async fn list(ep: &Endpoint) -> AppResult<Vec<wire::NetworkSummary>> {
    let nets = ep
        .call(|d| async move { d.list_networks(None::<ListNetworksOptions>).await })
        .await?;
    let inspected = futures::future::join_all(nets.into_iter().map(|n| async move {
        let id = n.id.clone().unwrap_or_default();
        match inspect_raw(ep, &id).await {
            Ok(full) => full,
            Err(_) => n,
        }
    }))
    .await;
    let mut out: Vec<_> = inspected.into_iter().map(summary).collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

pub async fn inspect_raw(ep: &Endpoint, reference: &str) -> AppResult<Network> {
    let r = check_ref(reference)?.to_owned();
    ep.call(|d| async move { d.inspect_network(&r, None::<InspectNetworkOptions>).await })
        .await
}

pub async fn inspect(ep: &Endpoint, reference: &str) -> AppResult<Value> {
    let n = inspect_raw(ep, reference).await?;
    serde_json::to_value(n).map_err(|e| AppError::Internal(e.into()))
}

/// Check a create request; the daemon would refuse most of these too, but with messages
/// that do not name the field.
pub fn validate(req: &wire::CreateNetwork) -> AppResult<()> {
    let bad = |code, m: String| Err(AppError::bad_request(code, m));
    if check_ref(&req.name).is_err() {
        return bad(
            "invalid_network_name",
            format!("name {:?}: use letters, digits, '_', '.' or '-'", req.name),
        );
    }
    let net = |field: &str, v: &Option<String>| -> AppResult<()> {
        if let Some(v) = v {
            let (ip, len) = v.split_once('/').unwrap_or((v, ""));
            if ip.parse::<std::net::IpAddr>().is_err()
                || len.parse::<u8>().map_or(true, |l| l > 128)
            {
                return Err(AppError::bad_request(
                    "invalid_subnet",
                    format!("{field} {v:?} is not a CIDR block like 172.28.0.0/16"),
                ));
            }
        }
        Ok(())
    };
    net("subnet", &req.subnet)?;
    net("ip_range", &req.ip_range)?;
    if let Some(g) = &req.gateway {
        if g.parse::<std::net::IpAddr>().is_err() {
            return bad(
                "invalid_gateway",
                format!("gateway {g:?} is not an IP address"),
            );
        }
    }
    if (req.gateway.is_some() || req.ip_range.is_some()) && req.subnet.is_none() {
        return bad(
            "invalid_subnet",
            "gateway and ip_range need a subnet".into(),
        );
    }
    Ok(())
}

/// Serialises berth's own network creations, so that two requests for one name cannot
/// both pass [`check_name_free`] before either network exists.
pub static CREATING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// 409 if a network of exactly this name exists. The daemon 20.10 makes a second network
/// of the same name unless asked not to (`CheckDuplicate`, which newer API versions dropped
/// and bollard's model no longer has), and then every reference by name is ambiguous.
/// The daemon's `name` filter matches substrings, hence the exact comparison.
pub async fn check_name_free(ep: &Endpoint, name: &str) -> AppResult<()> {
    let filters = HashMap::from([("name".to_owned(), vec![name.to_owned()])]);
    let nets = ep
        .call(|d| async move {
            d.list_networks(Some(ListNetworksOptions {
                filters: Some(filters),
            }))
            .await
        })
        .await?;
    if nets.iter().any(|n| n.name.as_deref() == Some(name)) {
        return Err(AppError::Conflict(format!(
            "a network named {name:?} exists: choose another name"
        )));
    }
    Ok(())
}

/// `docker network create`. `labels` already carry the team. A name that is taken is a 409.
pub async fn create(
    ep: &Endpoint,
    req: &wire::CreateNetwork,
    labels: HashMap<String, String>,
) -> AppResult<String> {
    validate(req)?;
    let _one_at_a_time = CREATING.lock().await;
    check_name_free(ep, &req.name).await?;
    let body = NetworkCreateRequest {
        name: req.name.clone(),
        driver: Some(req.driver.clone().unwrap_or_else(|| "bridge".into())),
        internal: Some(req.internal),
        labels: Some(labels),
        ipam: req.subnet.as_ref().map(|s| Ipam {
            driver: Some("default".into()),
            config: Some(vec![IpamConfig {
                subnet: Some(s.clone()),
                gateway: req.gateway.clone(),
                ip_range: req.ip_range.clone(),
                ..Default::default()
            }]),
            options: None,
        }),
        ..Default::default()
    };
    let created = ep
        .call(|d| async move { d.create_network(body).await })
        .await?;
    Ok(created.id)
}

/// `docker network connect [--ip]`: `container` is a resolved full id.
pub async fn connect(
    ep: &Endpoint,
    network: &str,
    container: &str,
    ipv4: Option<&str>,
    aliases: &[String],
) -> AppResult<()> {
    if let Some(ip) = ipv4 {
        if ip.parse::<std::net::Ipv4Addr>().is_err() {
            return Err(AppError::bad_request(
                "invalid_ipv4",
                format!("ipv4 {ip:?} is not an IPv4 address"),
            ));
        }
    }
    let net = check_ref(network)?.to_owned();
    let req = NetworkConnectRequest {
        container: Some(container.to_owned()),
        endpoint_config: Some(EndpointSettings {
            ipam_config: ipv4.map(|ip| EndpointIpamConfig {
                ipv4_address: Some(ip.to_owned()),
                ..Default::default()
            }),
            aliases: (!aliases.is_empty()).then(|| aliases.to_vec()),
            ..Default::default()
        }),
    };
    ep.call(|d| async move { d.connect_network(&net, req).await })
        .await
}

pub async fn disconnect(
    ep: &Endpoint,
    network: &str,
    container: &str,
    force: bool,
) -> AppResult<()> {
    let net = check_ref(network)?.to_owned();
    let req = NetworkDisconnectRequest {
        container: Some(container.to_owned()),
        force: Some(force),
    };
    ep.call(|d| async move { d.disconnect_network(&net, req).await })
        .await
}

pub async fn remove(ep: &Endpoint, id: &str) -> AppResult<()> {
    let id = check_ref(id)?.to_owned();
    ep.call(|d| async move { d.remove_network(&id).await })
        .await
        // The daemon answers 403 for "has active endpoints": a conflict of state, not a
        // permission.
        .map_err(|e| match e {
            AppError::Coded {
                code: crate::error::DOCKER_FORBIDDEN,
                message,
                ..
            } => AppError::Conflict(message),
            other => other,
        })
}

/// `docker network prune [--filter label=..]`.
pub async fn prune(ep: &Endpoint, labels: &[String]) -> AppResult<wire::Pruned> {
    let filters =
        (!labels.is_empty()).then(|| HashMap::from([("label".to_owned(), labels.to_vec())]));
    let res = ep
        .call(|d| async move {
            d.prune_networks(Some(PruneNetworksOptions { filters }))
                .await
        })
        .await?;
    Ok(wire::Pruned {
        deleted: res.networks_deleted.unwrap_or_default(),
        space_reclaimed: 0,
    })
}
