//! A redeploy updates only the services whose converted spec differs from the running one.
//! The daemon keeps what it was sent plus what it fills in itself (a pinned image digest,
//! the update and rollback defaults, `vip`, the runtime, the isolation, empty resource
//! objects), so both sides are normalised before they are compared: empty values dropped,
//! and a daemon default dropped when the file leaves that part to the daemon.

use bollard::models::ServiceSpec;
use serde_json::Value;

use super::IMAGE_LABEL;

/// Make `new` the spec to send for a service running `running`, as the CLI does: an
/// unchanged image keeps the digest the daemon resolved on the last deploy, and the
/// running `ForceUpdate` is kept so nothing is redeployed for it alone.
pub fn for_update(new: &mut ServiceSpec, running: &ServiceSpec) {
    let asked = new
        .task_template
        .as_ref()
        .and_then(|t| t.container_spec.as_ref())
        .and_then(|c| c.image.clone());
    let was = running.labels.as_ref().and_then(|l| l.get(IMAGE_LABEL));
    let running_task = running.task_template.as_ref();
    if let Some(t) = new.task_template.as_mut() {
        t.force_update = running_task.and_then(|t| t.force_update);
        if asked.as_ref() == was {
            if let (Some(c), Some(image)) = (
                t.container_spec.as_mut(),
                running_task
                    .and_then(|t| t.container_spec.as_ref())
                    .and_then(|c| c.image.clone()),
            ) {
                c.image = Some(image);
            }
        }
    }
}

/// Drop nulls, `false`, `0`, `""`, empty lists and objects, recursively.
fn prune(v: Value) -> Option<Value> {
    match v {
        Value::Null | Value::Bool(false) => None,
        Value::Number(n) if n.as_f64() == Some(0.0) => None,
        Value::String(s) if s.is_empty() => None,
        Value::Array(a) => {
            let a: Vec<Value> = a
                .into_iter()
                .map(|x| prune(x).unwrap_or(Value::Null))
                .collect();
            (!a.is_empty()).then_some(Value::Array(a))
        }
        Value::Object(o) => {
            let o: serde_json::Map<String, Value> = o
                .into_iter()
                .filter_map(|(k, v)| prune(v).map(|v| (k, v)))
                .collect();
            (!o.is_empty()).then_some(Value::Object(o))
        }
        other => Some(other),
    }
}

/// Parts the daemon fills in when the spec it was sent leaves them out.
const DAEMON_DEFAULTS: &[&[&str]] = &[
    &["UpdateConfig"],
    &["RollbackConfig"],
    &["EndpointSpec", "Mode"],
    &["TaskTemplate", "Runtime"],
    &["TaskTemplate", "ForceUpdate"],
    &["TaskTemplate", "ContainerSpec", "Isolation"],
];

fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn remove(v: &mut Value, path: &[&str]) {
    let (last, parent) = path.split_last().expect("a path");
    if let Some(Value::Object(o)) = parent.iter().try_fold(&mut *v, |v, k| v.get_mut(*k)) {
        o.remove(*last);
    }
}

/// Whether sending `new` would change the service running `running` (after [`for_update`]).
pub fn changed(new: &ServiceSpec, running: &ServiceSpec) -> bool {
    let want = serde_json::to_value(new).unwrap_or_default();
    let mut have = serde_json::to_value(running).unwrap_or_default();
    for path in DAEMON_DEFAULTS {
        if get(&want, path).is_none_or(Value::is_null) {
            remove(&mut have, path);
        }
    }
    prune(want) != prune(have)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn spec(text: &str) -> ServiceSpec {
        let p = super::super::plan("d", text, None, Path::new("/tmp")).expect("plan");
        p.services.into_iter().next().unwrap().spec
    }

    /// What the daemon answers for a service it was sent `sent`: the same spec with its
    /// own defaults and a pinned digest.
    fn as_running(sent: &ServiceSpec) -> ServiceSpec {
        let mut v = serde_json::to_value(sent).unwrap();
        v["UpdateConfig"] = serde_json::json!({"Parallelism": 1, "FailureAction": "pause",
            "Monitor": 5_000_000_000_i64, "MaxFailureRatio": 0, "Order": "stop-first"});
        v["RollbackConfig"] = v["UpdateConfig"].clone();
        v["EndpointSpec"]["Mode"] = "vip".into();
        let t = &mut v["TaskTemplate"];
        t["Runtime"] = "container".into();
        t["ForceUpdate"] = 0.into();
        t["Resources"] = serde_json::json!({"Limits": {}, "Reservations": {}});
        t["ContainerSpec"]["Isolation"] = "default".into();
        let image = format!(
            "{}@sha256:{}",
            t["ContainerSpec"]["Image"].as_str().unwrap(),
            "a".repeat(64)
        );
        t["ContainerSpec"]["Image"] = image.into();
        serde_json::from_value(v).unwrap()
    }

    const WEB: &str = "services:\n  web:\n    image: nginx:1\n    environment: [A=1]\n    deploy:\n      replicas: 2\n      placement: { constraints: [node.role==worker] }\n";

    #[test]
    fn an_unchanged_service_is_left_alone() {
        let running = as_running(&spec(WEB));
        let mut new = spec(WEB);
        for_update(&mut new, &running);
        assert!(!changed(&new, &running));
        let image = new
            .task_template
            .unwrap()
            .container_spec
            .unwrap()
            .image
            .unwrap();
        assert!(
            image.starts_with("nginx:1@sha256:"),
            "the pinned digest is kept: {image}"
        );
    }

    #[test]
    fn a_change_or_a_removal_is_an_update() {
        let running = as_running(&spec(WEB));
        for other in [
            WEB.replace("A=1", "A=2"),
            WEB.replace("replicas: 2", "replicas: 3"),
            WEB.replace(
                "      placement: { constraints: [node.role==worker] }\n",
                "",
            ),
            WEB.replace("nginx:1", "nginx:2"),
            WEB.replace(
                "deploy:\n",
                "deploy:\n      update_config: { parallelism: 2 }\n",
            ),
        ] {
            let mut new = spec(&other);
            for_update(&mut new, &running);
            assert!(changed(&new, &running), "{other}");
        }
    }
}
