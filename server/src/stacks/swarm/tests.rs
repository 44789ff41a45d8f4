use bollard::models::{
    EndpointPortConfigPublishModeEnum, MountTypeEnum, ServiceSpecUpdateConfigFailureActionEnum,
    TaskSpecRestartPolicyConditionEnum,
};

use super::*;
use crate::stacks::corpus::{copy_dir, corpus_dir, reference};

fn corpus_plan(dir: &str, stack: &str) -> Result<Plan, String> {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_dir(&corpus_dir().join(dir), tmp.path());
    let file = reference()
        .into_iter()
        .find(|r| r.0 == dir)
        .map(|r| r.1)
        .expect("in reference.tsv");
    let text = std::fs::read_to_string(tmp.path().join(file)).expect("compose file");
    let env = std::fs::read_to_string(tmp.path().join(".env")).ok();
    plan(stack, &text, env.as_deref(), tmp.path())
}

fn svc<'a>(p: &'a Plan, key: &str) -> &'a ServiceSpec {
    &p.services.iter().find(|s| s.key == key).expect(key).spec
}

#[test]
fn wordpress_converts_as_the_cli_converts_it() {
    let p = corpus_plan("awesome-compose__wordpress-mysql", "wp").expect("plan");
    assert_eq!(
        p.warnings,
        vec![
            "Ignoring unsupported options: restart".to_owned(),
            "Ignoring deprecated options:\n\nexpose: Exposing ports is unnecessary - services on \
             the same network can access each other's containers on any port."
                .to_owned(),
        ]
    );
    assert_eq!(
        p.services
            .iter()
            .map(|s| s.spec.name.clone().unwrap())
            .collect::<Vec<_>>(),
        ["wp_db", "wp_wordpress"]
    );
    assert_eq!(p.networks.len(), 1);
    assert_eq!(p.networks[0].name, "wp_default");
    assert_eq!(p.networks[0].driver, "overlay");
    assert_eq!(p.networks[0].labels[NAMESPACE_LABEL], "wp");

    let wp = svc(&p, "wordpress");
    assert_eq!(wp.labels.as_ref().unwrap()[NAMESPACE_LABEL], "wp");
    assert_eq!(wp.labels.as_ref().unwrap()[IMAGE_LABEL], "wordpress:latest");
    let port = &wp.endpoint_spec.as_ref().unwrap().ports.as_ref().unwrap()[0];
    assert_eq!(
        (port.target_port, port.published_port),
        (Some(80), Some(80))
    );
    assert_eq!(
        port.publish_mode,
        Some(EndpointPortConfigPublishModeEnum::INGRESS)
    );
    let task = wp.task_template.as_ref().unwrap();
    // `restart: always` is read into the restart policy although the key is "unsupported".
    assert_eq!(
        task.restart_policy.as_ref().unwrap().condition,
        Some(TaskSpecRestartPolicyConditionEnum::ANY)
    );
    let net = &task.networks.as_ref().unwrap()[0];
    assert_eq!(net.target.as_deref(), Some("wp_default"));
    assert_eq!(net.aliases.as_deref(), Some(&["wordpress".to_owned()][..]));
    assert_eq!(
        wp.mode
            .as_ref()
            .unwrap()
            .replicated
            .as_ref()
            .unwrap()
            .replicas,
        Some(1)
    );

    let db = svc(&p, "db");
    let c = db
        .task_template
        .as_ref()
        .unwrap()
        .container_spec
        .as_ref()
        .unwrap();
    assert_eq!(
        c.args.as_deref(),
        Some(&["--default-authentication-plugin=mysql_native_password".to_owned()][..])
    );
    let m = &c.mounts.as_ref().unwrap()[0];
    assert_eq!(m.typ, Some(MountTypeEnum::VOLUME));
    assert_eq!(m.source.as_deref(), Some("wp_db_data"));
    assert_eq!(m.target.as_deref(), Some("/var/lib/mysql"));
    assert_eq!(
        c.env.as_ref().unwrap()[0],
        "MYSQL_DATABASE=wordpress",
        "sorted"
    );
}

#[test]
fn minecraft_memory_limit_is_a_task_resource() {
    let p = corpus_plan("awesome-compose__minecraft", "mc").expect("plan");
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let r = svc(&p, "minecraft")
        .task_template
        .as_ref()
        .unwrap()
        .resources
        .clone()
        .unwrap();
    assert_eq!(r.limits.unwrap().memory_bytes, Some(1_610_612_736));
    // The host folder stays a bind mount in the spec, where the policy sees it.
    let c = svc(&p, "minecraft")
        .task_template
        .clone()
        .unwrap()
        .container_spec
        .unwrap();
    let m = &c.mounts.unwrap()[0];
    assert_eq!(m.typ, Some(MountTypeEnum::BIND));
    assert!(
        m.source.as_deref().unwrap().ends_with("/minecraft_data"),
        "{m:?}"
    );
}

#[test]
fn a_build_without_an_image_is_refused_as_the_cli_refuses_it() {
    let e = corpus_plan("awesome-compose__flask-redis", "fr").unwrap_err();
    assert_eq!(
        e,
        "invalid image reference for service web: no image specified"
    );
}

#[test]
fn every_accepted_corpus_file_converts_or_names_what_stops_it() {
    let mut converted = 0;
    for (dir, _, verdict, _) in reference() {
        if verdict != "accept" {
            continue;
        }
        match corpus_plan(&dir, "corpus") {
            Ok(p) => {
                converted += 1;
                for s in &p.services {
                    let name = s.spec.name.as_deref().unwrap();
                    assert_eq!(name, format!("corpus_{}", s.key), "{dir}");
                    let labels = s.spec.labels.as_ref().unwrap();
                    assert_eq!(labels[NAMESPACE_LABEL], "corpus", "{dir}");
                }
            }
            Err(e) => assert!(
                e.starts_with("invalid image reference for service")
                    || e.starts_with("compose file contains unsupported options:")
                    || e.contains("swarm"),
                "{dir}: {e}"
            ),
        }
    }
    assert!(converted >= 20, "only {converted} corpus files converted");
}

const STACK: &str = r#"
services:
  web:
    image: berth-test/busybox:latest
    command: ["httpd", "-f"]
    privileged: true
    ports:
      - "8080:80"
      - { target: 9000, published: 9000, mode: host, protocol: udp }
    secrets: [token, { source: cert, target: tls.pem, mode: "0400" }]
    configs: [site]
    networks: [front, shared]
    deploy:
      replicas: 3
      endpoint_mode: dnsrr
      labels: [tier=web]
      placement:
        constraints: [node.role==worker]
        preferences: [{ spread: node.labels.zone }]
        max_replicas_per_node: 2
      resources:
        limits: { cpus: "0.5", memory: 64M, pids: 100 }
        reservations: { cpus: "0.25", memory: 32M }
      restart_policy: { condition: on-failure, delay: 5s, max_attempts: 3, window: 1m }
      update_config: { parallelism: 2, delay: 10s, failure_action: rollback, order: start-first }
      rollback_config: { parallelism: 1, failure_action: pause }
    healthcheck:
      test: ["CMD", "true"]
      interval: 5s
  agent:
    image: berth-test/busybox:latest
    deploy: { mode: global }
networks:
  front: {}
  shared: { external: true, name: berth-shared-overlay }
secrets:
  token: { file: ./token.txt }
  cert: { external: true }
configs:
  site: { file: site.conf }
"#;

#[test]
fn deploy_keys_become_the_service_spec() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = plan("app", STACK, None, dir.path()).expect("plan");
    assert_eq!(p.warnings, ["Ignoring unsupported options: privileged"]);
    let web = p.services.iter().find(|s| s.key == "web").unwrap();
    assert!(web.privileged, "kept for the policy to judge");
    let s = &web.spec;
    assert_eq!(s.labels.as_ref().unwrap()["tier"], "web");
    assert_eq!(
        s.mode
            .as_ref()
            .unwrap()
            .replicated
            .as_ref()
            .unwrap()
            .replicas,
        Some(3)
    );
    let ep = s.endpoint_spec.as_ref().unwrap();
    assert_eq!(ep.mode.map(|m| m.to_string()).as_deref(), Some("dnsrr"));
    let ports = ep.ports.as_ref().unwrap();
    assert_eq!(
        ports[1].publish_mode,
        Some(EndpointPortConfigPublishModeEnum::HOST)
    );
    assert_eq!(
        ports[1].protocol.map(|p| p.to_string()).as_deref(),
        Some("udp")
    );
    let t = s.task_template.as_ref().unwrap();
    let pl = t.placement.as_ref().unwrap();
    assert_eq!(
        pl.constraints.as_deref(),
        Some(&["node.role==worker".to_owned()][..])
    );
    assert_eq!(pl.max_replicas, Some(2));
    assert_eq!(
        pl.preferences.as_ref().unwrap()[0]
            .spread
            .as_ref()
            .unwrap()
            .spread_descriptor
            .as_deref(),
        Some("node.labels.zone")
    );
    let r = t.resources.as_ref().unwrap();
    assert_eq!(r.limits.as_ref().unwrap().nano_cpus, Some(500_000_000));
    assert_eq!(r.limits.as_ref().unwrap().memory_bytes, Some(64 << 20));
    assert_eq!(r.limits.as_ref().unwrap().pids, Some(100));
    assert_eq!(
        r.reservations.as_ref().unwrap().nano_cpus,
        Some(250_000_000)
    );
    let rp = t.restart_policy.as_ref().unwrap();
    assert_eq!(
        rp.condition,
        Some(TaskSpecRestartPolicyConditionEnum::ON_FAILURE)
    );
    assert_eq!(
        (rp.delay, rp.max_attempts, rp.window),
        (Some(5_000_000_000), Some(3), Some(60_000_000_000))
    );
    let u = s.update_config.as_ref().unwrap();
    assert_eq!(u.parallelism, Some(2));
    assert_eq!(
        u.failure_action,
        Some(ServiceSpecUpdateConfigFailureActionEnum::ROLLBACK)
    );
    assert_eq!(
        u.order.map(|o| o.to_string()).as_deref(),
        Some("start-first")
    );
    assert_eq!(
        s.rollback_config
            .as_ref()
            .unwrap()
            .failure_action
            .map(|f| f.to_string())
            .as_deref(),
        Some("pause")
    );

    let c = t.container_spec.as_ref().unwrap();
    let secrets = c.secrets.as_ref().unwrap();
    assert_eq!(secrets[0].secret_name.as_deref(), Some("app_token"));
    assert_eq!(
        secrets[0].file.as_ref().unwrap().name.as_deref(),
        Some("token")
    );
    assert_eq!(
        secrets[1].secret_name.as_deref(),
        Some("cert"),
        "external: not scoped"
    );
    assert_eq!(secrets[1].file.as_ref().unwrap().mode, Some(0o400));
    let cfg = &c.configs.as_ref().unwrap()[0];
    assert_eq!(cfg.config_name.as_deref(), Some("app_site"));
    assert_eq!(cfg.file.as_ref().unwrap().name.as_deref(), Some("/site"));
    assert!(
        c.mounts.as_ref().unwrap().is_empty(),
        "secrets are not binds"
    );
    assert_eq!(
        c.health_check.as_ref().unwrap().interval,
        Some(5_000_000_000)
    );
    let nets: Vec<_> = t
        .networks
        .as_ref()
        .unwrap()
        .iter()
        .map(|n| n.target.clone().unwrap())
        .collect();
    assert_eq!(nets, ["app_front", "berth-shared-overlay"]);

    let agent = p.services.iter().find(|s| s.key == "agent").unwrap();
    assert!(agent.spec.mode.as_ref().unwrap().global.is_some());
    let by_name: Vec<_> = p
        .networks
        .iter()
        .map(|n| (n.name.as_str(), n.external))
        .collect();
    assert!(
        by_name.contains(&("app_front", false))
            && by_name.contains(&("berth-shared-overlay", true))
    );
    assert!(
        by_name.contains(&("app_default", false)),
        "agent has no networks: the default"
    );
    assert_eq!(
        p.secrets
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        ["app_token", "cert"]
    );
    assert!(p.secrets[0].file.as_ref().unwrap().ends_with("token.txt"));
}

#[test]
fn forbidden_keys_refuse_the_file_with_the_clis_words() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "services:\n  a:\n    image: x\n    mem_limit: 1g\n    volumes_from: [b]\n  b:\n    image: x\n";
    let e = plan("s", text, None, dir.path()).unwrap_err();
    assert_eq!(
        e,
        "compose file contains unsupported options:\n\nmem_limit: Set resource limits using \
         deploy.resources\n\nvolumes_from: To share a volume between services, define it using \
         the top-level `volumes` option and reference it from each service that shares it using \
         the service-level `volumes` option.\n"
    );
}

#[test]
fn bad_swarm_values_name_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = [
        (
            "deploy: { mode: global, replicas: 2 }",
            "services.a.deploy.replicas: a global service",
        ),
        (
            "deploy: { mode: daemon }",
            "services.a.deploy.mode: \"daemon\" is not replicated or global",
        ),
        (
            "secrets: [nope]",
            "secrets \"nope\" is used by service a but not declared",
        ),
        ("ports: [\"8000-8002:80\"]", "a swarm publishes one port"),
        (
            "deploy: { restart_policy: { condition: sometimes } }",
            "deploy.restart_policy.condition",
        ),
    ];
    for (svc, want) in bad {
        let text = format!("services:\n  a:\n    image: x\n    {svc}\n");
        let e = plan("s", &text, None, dir.path()).unwrap_err();
        assert!(e.contains(want), "{svc}: {e}");
    }
}
