//! The model from whole compose texts.

use super::*;
use crate::stacks::parse::parse;

fn load(text: &str) -> Result<Project, Vec<ComposeProblem>> {
    let parsed = parse(text, None)?;
    project(
        &parsed,
        &Origin {
            name: "demo",
            working_dir: Path::new("/data/stacks/demo"),
            text,
        },
    )
}

#[test]
fn the_seed_example_loads_in_order() {
    let text = r#"
services:
  web:
    build: { context: ./, dockerfile: Dockerfile }
    image: web:1
    restart: always
    depends_on: [db]
    environment:
      TZ: Asia/Shanghai
    ports: ["3306:3306"]
    volumes: ["data:/data", "./conf:/etc/conf:ro"]
    networks:
      back: { ipv4_address: 172.30.0.10 }
  db:
    image: db
    environment: ["A=1"]
    command: sh -c 'sleep 1'
    networks: [back]
networks:
  back:
    ipam: { config: [{ subnet: 172.30.0.0/24 }] }
volumes:
  data: {}
"#;
    let p = load(text).unwrap();
    let names: Vec<_> = p.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["db", "web"]);
    let web = &p.services[1];
    assert_eq!(
        web.build.as_ref().unwrap().context,
        Path::new("/data/stacks/demo")
    );
    assert!(matches!(&web.mounts[0].source, MountSource::Volume(n) if n == "demo_data"));
    assert!(matches!(&web.mounts[1].source, MountSource::Bind(n) if n == "/data/stacks/demo/conf"));
    assert!(web.mounts[1].read_only);
    assert_eq!(web.networks[0].name, "demo_back");
    assert_eq!(web.networks[0].ipv4.as_deref(), Some("172.30.0.10"));
    assert_eq!(
        p.services[0].command.as_ref().unwrap(),
        &["sh", "-c", "sleep 1"]
    );
    assert!(p.networks.iter().all(|n| n.key != "default"));
}

#[test]
fn paths_may_not_leave_the_folder() {
    for bad in [
        "services: { a: { build: ../x } }",
        "services: { a: { build: /etc } }",
        "services: { a: { image: x, volumes: ['../up:/x'] } }",
        "services: { a: { image: x, env_file: ../secret.env } }",
        "services: { a: { image: x, env_file: /etc/passwd } }",
        "services: { a: { build: { context: ., dockerfile: ../../Dockerfile } } }",
    ] {
        let err = load(bad)
            .err()
            .unwrap_or_else(|| panic!("{bad} should fail"));
        assert!(
            err.iter()
                .any(|p| p.message.contains("folder") || p.message.contains("absolute")),
            "{bad}: {err:?}"
        );
    }
}

#[test]
fn semantic_errors() {
    let err = load("services: { a: { image: x, depends_on: [b] } }")
        .err()
        .unwrap();
    assert!(err[0].message.contains("does not define"), "{err:?}");
    let err =
        load("services: { a: { image: x, depends_on: [b] }, b: { image: y, depends_on: [a] } }")
            .err()
            .unwrap();
    assert!(err[0].message.contains("cycle"), "{err:?}");
    let err = load("services: { a: { image: x, volumes: ['nope:/x'] } }")
        .err()
        .unwrap();
    assert!(err[0].message.contains("not declared"), "{err:?}");
    let err = load("services: { a: { } }").err().unwrap();
    assert!(err[0].message.contains("image or a build"), "{err:?}");
}

#[test]
fn service_references_become_container_names() {
    let p = load(
        "services:\n  vpn: { image: v, cap_add: [NET_ADMIN] }\n  app:\n    image: a\n    network_mode: service:vpn\n  web:\n    image: w\n    links: [db:database]\n    volumes_from: ['db:ro', 'container:other']\n  db: { image: d }\n",
    )
    .unwrap();
    let names: Vec<_> = p.services.iter().map(|s| s.name.as_str()).collect();
    assert!(names.iter().position(|n| *n == "vpn") < names.iter().position(|n| *n == "app"));
    assert!(names.iter().position(|n| *n == "db") < names.iter().position(|n| *n == "web"));
    let app = p.services.iter().find(|s| s.name == "app").unwrap();
    assert_eq!(app.network_mode.as_deref(), Some("container:demo_vpn_1"));
    let p2 = load(
        "services:\n  a: { image: a, pid: 'service:b', ipc: 'service:b' }\n  b: { image: b }\n",
    )
    .unwrap();
    let a = p2.services.iter().find(|s| s.name == "a").unwrap();
    assert_eq!(a.runtime.pid.as_deref(), Some("container:demo_b_1"));
    assert_eq!(a.runtime.ipc.as_deref(), Some("container:demo_b_1"));
    assert_eq!(p2.services[0].name, "b");
    assert!(app.networks.is_empty());
    let web = p.services.iter().find(|s| s.name == "web").unwrap();
    let refs = HashMap::from([("db".to_string(), "demo_db_1".to_string())]);
    let body = crate::docker::stack_spec::create_body("demo", web, HashMap::new(), &refs);
    let hc = body.host_config.unwrap();
    assert_eq!(hc.links.unwrap(), ["demo_db_1:database"]);
    assert_eq!(hc.volumes_from.unwrap(), ["demo_db_1:ro", "other"]);
    let err = load(
        "services:\n  a: { image: a, network_mode: host, networks: [x] }\nnetworks: { x: {} }\n",
    )
    .err()
    .unwrap();
    assert!(err[0].message.contains("cannot be combined"), "{err:?}");
}

#[test]
fn replicas_deploy_and_restart() {
    let p = load(
        "services:\n  w:\n    image: w\n    deploy:\n      replicas: 2\n      resources: { limits: { memory: 64m } }\n      restart_policy: { condition: on-failure, max_attempts: 2 }\n      placement: { constraints: [x] }\n",
    )
    .unwrap();
    let w = &p.services[0];
    assert_eq!(w.replicas, 2);
    assert_eq!(w.restart.as_deref(), Some("on-failure:2"));
    assert_eq!(w.runtime.memory, Some(64 << 20));
    assert!(p
        .warnings
        .iter()
        .any(|x| x.kind == "ignored" && x.message.contains("placement")));
    let err = load("services:\n  w: { image: w, container_name: x, deploy: { replicas: 2 } }\n")
        .err()
        .unwrap();
    assert!(err[0].message.contains("container_name"), "{err:?}");
}

#[test]
fn secrets_and_configs_mount_as_compose_mounts_them() {
    let p = load(
        "services:\n  w:\n    image: w\n    secrets: [db_pw, { source: api, target: key, mode: 0400 }]\n    configs: [{ source: conf, target: /etc/app.conf }, inline]\nsecrets:\n  db_pw: { file: ./pw.txt }\n  api: { environment: API_KEY }\nconfigs:\n  conf: { file: ./app.conf }\n  inline: { content: 'a=1' }\n",
    )
    .unwrap();
    let w = &p.services[0];
    let binds: Vec<(String, &str)> = w
        .mounts
        .iter()
        .map(|m| match &m.source {
            MountSource::Bind(s) => (s.clone(), m.target.as_str()),
            _ => (String::new(), m.target.as_str()),
        })
        .collect();
    assert_eq!(
        binds,
        [
            ("/data/stacks/demo/pw.txt".to_string(), "/run/secrets/db_pw"),
            ("/data/stacks/demo/app.conf".to_string(), "/etc/app.conf")
        ]
    );
    assert!(w.mounts.iter().all(|m| m.read_only));
    let copies: Vec<_> = w
        .files
        .iter()
        .map(|f| (f.target.as_str(), f.content.as_str()))
        .collect();
    assert_eq!(copies, [("/run/secrets/key", ""), ("/inline", "a=1")]);
    let err = load("services:\n  w: { image: w, secrets: [nope] }\n")
        .err()
        .unwrap();
    assert!(err[0].message.contains("not declared"), "{err:?}");
    let err = load("services:\n  w: { image: w, secrets: [s] }\nsecrets: { s: { file: ../x } }\n")
        .err()
        .unwrap();
    assert!(err[0].message.contains("folder"), "{err:?}");
}

#[test]
fn long_volume_syntax_and_build_options() {
    let p = load(
        "services:\n  w:\n    build: { context: ., target: dev, args: [A=1], labels: { l: v }, cache_from: [c], network: host, shm_size: 1g }\n    volumes:\n      - { type: bind, source: ./d, target: /d, bind: { create_host_path: false } }\n      - { type: volume, source: v, target: /v, volume: { nocopy: true } }\n      - { type: tmpfs, target: /t, tmpfs: { size: 1m } }\n      - 'v:/w:ro,z'\nvolumes: { v: {} }\n",
    )
    .unwrap();
    let w = &p.services[0];
    let b = w.build.as_ref().unwrap();
    assert_eq!(b.target.as_deref(), Some("dev"));
    assert_eq!(b.args["A"], "1");
    assert_eq!(b.shm_size, Some(1 << 30));
    assert!(w.mounts[0].no_create);
    assert_eq!(w.mounts[1].flags, ["nocopy"]);
    assert_eq!(w.mounts[2].tmpfs.as_deref(), Some("size=1048576"));
    let body = crate::docker::stack_spec::create_body("demo", w, HashMap::new(), &HashMap::new());
    let hc = body.host_config.unwrap();
    // Long syntax is sent as `Mounts`, short as `Binds`, as Compose sends them.
    assert_eq!(hc.binds.unwrap(), ["demo_v:/w:ro,z"]);
    let mounts = hc.mounts.unwrap();
    assert_eq!(mounts.len(), 3);
    assert_eq!(
        mounts[1].volume_options.as_ref().unwrap().no_copy,
        Some(true)
    );
    assert_eq!(
        mounts[2].tmpfs_options.as_ref().unwrap().size_bytes,
        Some(1 << 20)
    );
}

#[test]
fn depends_on_required_and_conditions() {
    let p = load(
        "services:\n  w:\n    image: w\n    depends_on:\n      db: { condition: service_healthy, restart: true }\n      init: { condition: service_completed_successfully }\n      dbg: { condition: service_started, required: false }\n  db: { image: d }\n  init: { image: i }\n",
    )
    .unwrap();
    let w = p.services.iter().find(|s| s.name == "w").unwrap();
    assert_eq!(w.depends_on.len(), 2);
    assert!(w.depends_on[0].healthy && w.depends_on[1].completed);
}
