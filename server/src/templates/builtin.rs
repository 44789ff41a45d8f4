//! berth's own templates: the recipes of the users' notes (a private registry, an nginx
//! autoindex file server, a Redis cluster, HAProxy before web replicas, Jenkins, GitLab CE,
//! MySQL, gcc and python runners). Each is a compose file for the stack engine, so the policy
//! decides on it exactly as on a hand-written stack. Every image is a variable, so a site
//! without a registry deploys them from images it built itself.

use super::{Body, Choice, Kind, Template, Variable};

fn var(name: &str, label: &str, default: Option<&str>, description: &str) -> Variable {
    Variable {
        name: name.into(),
        label: label.into(),
        description: description.into(),
        default: default.map(Into::into),
        select: Vec::new(),
        required: default.is_none(),
        preset: false,
    }
}

fn image(default: &str) -> Variable {
    var(
        "IMAGE",
        "Image",
        Some(default),
        "The image to run (any local tag works).",
    )
}

fn stack(
    id: &str,
    title: &str,
    description: &str,
    note: &str,
    variables: Vec<Variable>,
    compose: &str,
) -> Template {
    Template {
        id: id.into(),
        title: title.into(),
        description: description.into(),
        note: note.into(),
        categories: Vec::new(),
        logo: None,
        kind: Kind::Stack,
        variables,
        body: Body::Compose {
            content: compose.into(),
        },
    }
}

const REGISTRY: &str = r#"services:
  htpasswd:
    image: ${HTPASSWD_IMAGE}
    entrypoint: ["sh", "-c", "htpasswd -Bbn \"$$REGISTRY_USER\" \"$$REGISTRY_PASSWORD\" > /auth/htpasswd"]
    environment:
      REGISTRY_USER: ${USER}
      REGISTRY_PASSWORD: ${PASSWORD}
    volumes:
      - auth:/auth
  registry:
    image: ${IMAGE}
    restart: always
    depends_on:
      htpasswd:
        condition: service_completed_successfully
    environment:
      REGISTRY_AUTH: htpasswd
      REGISTRY_AUTH_HTPASSWD_REALM: berth registry
      REGISTRY_AUTH_HTPASSWD_PATH: /auth/htpasswd
    ports:
      - "${PORT}:5000"
    volumes:
      - data:/var/lib/registry
      - auth:/auth:ro
volumes:
  auth: {}
  data: {}
"#;

const NGINX_AUTOINDEX: &str = r#"services:
  web:
    image: ${IMAGE}
    entrypoint:
      - sh
      - -c
      - |
        printf 'events {}\nhttp {\n    autoindex on;\n    server {\n        listen 80;\n        server_name localhost;\n        location / {\n            root /dir;\n        }\n    }\n}\n' > /etc/nginx/nginx.conf
        exec nginx -g 'daemon off;'
    volumes:
      - ${FOLDER}:/dir:ro
    ports:
      - "${PORT}:80"
volumes:
  files: {}
"#;

const REDIS_CLUSTER: &str = r#"x-node: &node
  image: ${IMAGE}
  command: ["redis-server", "--port", "6379", "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--appendonly", "no", "--protected-mode", "no", "--bind", "0.0.0.0"]
services:
  redis-1: *node
  redis-2: *node
  redis-3: *node
  redis-4: *node
  redis-5: *node
  redis-6: *node
  create:
    image: ${IMAGE}
    depends_on: [redis-1, redis-2, redis-3, redis-4, redis-5, redis-6]
    entrypoint:
      - sh
      - -c
      - |
        nodes=""
        for n in 1 2 3 4 5 6; do
          until redis-cli -h redis-$$n ping 2>/dev/null | grep -q PONG; do sleep 0.5; done
          nodes="$$nodes $$(getent hosts redis-$$n | cut -d' ' -f1):6379"
        done
        redis-cli --cluster create $$nodes --cluster-replicas 1 --cluster-yes
  client:
    image: ${IMAGE}
    depends_on:
      create:
        condition: service_completed_successfully
    ports:
      - "${PORT}:6379"
    entrypoint: ["sh", "-c", "exec redis-server --port 6380 --protected-mode no"]
"#;

const HAPROXY: &str = r#"services:
  web:
    image: ${WEB_IMAGE}
    deploy:
      replicas: ${REPLICAS}
  proxy:
    image: ${IMAGE}
    depends_on: [web]
    ports:
      - "${PORT}:80"
    entrypoint:
      - sh
      - -c
      - |
        printf 'resolvers docker\n    nameserver dns 127.0.0.11:53\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\nfrontend www\n    bind :80\n    default_backend web\nbackend web\n    balance roundrobin\n    server-template web %s web:80 check resolvers docker init-addr none\n' "${REPLICAS}" > /tmp/haproxy.cfg
        exec haproxy -f /tmp/haproxy.cfg
"#;

const JENKINS: &str = r#"services:
  jenkins:
    image: ${IMAGE}
    restart: always
    ports:
      - "${PORT}:8080"
      - "${AGENT_PORT}:50000"
    volumes:
      - jenkins_home:/var/jenkins_home
volumes:
  jenkins_home: {}
"#;

const GITLAB: &str = r#"services:
  gitlab:
    image: ${IMAGE}
    restart: always
    hostname: ${HOSTNAME}
    shm_size: 256m
    environment:
      GITLAB_OMNIBUS_CONFIG: "external_url 'http://${HOSTNAME}:${PORT}'; gitlab_rails['gitlab_shell_ssh_port'] = ${SSH_PORT}"
    ports:
      - "${PORT}:${PORT}"
      - "${SSH_PORT}:22"
    volumes:
      - config:/etc/gitlab
      - logs:/var/log/gitlab
      - data:/var/opt/gitlab
volumes:
  config: {}
  logs: {}
  data: {}
"#;

const MYSQL: &str = r#"services:
  mysql:
    image: ${IMAGE}
    restart: always
    environment:
      MYSQL_ROOT_PASSWORD: ${ROOT_PASSWORD}
      TZ: ${TZ}
    ports:
      - "${PORT}:3306"
    volumes:
      - data:/var/lib/mysql
volumes:
  data: {}
"#;

const RUNNER: &str = r#"services:
  run:
    image: ${IMAGE}
    working_dir: /src
    entrypoint: ["sh", "-c", "${COMMAND}"]
    volumes:
      - ${SOURCE}:/src
volumes:
  src: {}
"#;

/// Why a built-in cannot run here as it is: Jenkins and GitLab CE are not packaged in
/// Debian, so only their upstream images run them, and berth's test sites (which reach no
/// registry) cannot have those. The form still deploys them with an image a site has.
pub fn unavailable(id: &str) -> Option<&'static str> {
    match id {
        "berth-jenkins" => Some(
            "needs the upstream jenkins/jenkins image (Jenkins is not packaged in Debian): \
             pull or load it first",
        ),
        "berth-gitlab-ce" => Some(
            "needs the upstream gitlab/gitlab-ce image (GitLab is not packaged in Debian): \
             pull or load it first",
        ),
        _ => None,
    }
}

/// The built-in templates, ids prefixed `berth-` so a source cannot shadow them.
pub fn all() -> Vec<Template> {
    let port = |d: &str| {
        var(
            "PORT",
            "Published port",
            Some(d),
            "The host port the service answers on.",
        )
    };
    let folder = var(
        "FOLDER",
        "Folder",
        Some("files"),
        "`files` (a volume), or an absolute host folder: a host bind, which only an admin may deploy.",
    );
    let gcc_command = var(
        "COMMAND",
        "Command",
        Some("gcc main.c -o main && ./main"),
        "Run in /src.",
    );
    vec![
        stack(
            "berth-registry",
            "Private registry",
            "A Docker registry with htpasswd logins.",
            "Clients that reach it over plain HTTP need it in /etc/docker/daemon.json: \
             { \"insecure-registries\": [\"HOST:PORT\"] }, then a daemon restart.",
            vec![
                image("registry:2"),
                var("HTPASSWD_IMAGE", "htpasswd image", Some("httpd:2"), "An image with apache2-utils' htpasswd."),
                var("USER", "User", None, "The registry login."),
                var("PASSWORD", "Password", None, "Stored bcrypt-hashed in the auth volume."),
                port("5000"),
            ],
            REGISTRY,
        ),
        stack(
            "berth-nginx-autoindex",
            "File server (nginx autoindex)",
            "nginx listing a folder, as in the notes' nginx.conf.",
            "A host folder is a bind mount: only an admin may deploy it; others serve the `files` volume.",
            vec![image("nginx:stable"), folder, port("8084")],
            NGINX_AUTOINDEX,
        ),
        stack(
            "berth-redis-cluster",
            "Redis cluster (6 nodes)",
            "Three masters and three replicas, the cluster created by redis-cli.",
            "",
            vec![image("redis:7"), port("6380")],
            REDIS_CLUSTER,
        ),
        stack(
            "berth-haproxy",
            "HAProxy + web replicas",
            "HAProxy balancing round-robin over N replicas of a web image.",
            "",
            vec![
                image("haproxy:lts"),
                var("WEB_IMAGE", "Web image", Some("nginx:stable"), "Serves HTTP on port 80."),
                Variable {
                    select: ["1", "2", "3", "4", "5"]
                        .iter()
                        .map(|n| Choice { text: (*n).into(), value: (*n).into() })
                        .collect(),
                    ..var("REPLICAS", "Replicas", Some("3"), "")
                },
                port("8080"),
            ],
            HAPROXY,
        ),
        stack(
            "berth-jenkins",
            "Jenkins",
            "Jenkins LTS with its home in a volume.",
            "The first admin password: the container's log, or /var/jenkins_home/secrets/initialAdminPassword.",
            vec![image("jenkins/jenkins:lts"), port("8080"), var("AGENT_PORT", "Agent port", Some("50000"), "")],
            JENKINS,
        ),
        stack(
            "berth-gitlab-ce",
            "GitLab CE",
            "GitLab Community Edition (needs about 4 GB of memory).",
            "",
            vec![
                image("gitlab/gitlab-ce:latest"),
                var("HOSTNAME", "Host name", Some("gitlab.local"), "The name clients use."),
                port("8929"),
                var("SSH_PORT", "SSH port", Some("2224"), ""),
            ],
            GITLAB,
        ),
        stack(
            "berth-mysql",
            "MySQL",
            "MySQL with its data in a volume.",
            "",
            vec![
                image("mysql:8"),
                var("ROOT_PASSWORD", "Root password", None, ""),
                var("TZ", "Time zone", Some("Asia/Shanghai"), ""),
                port("3306"),
            ],
            MYSQL,
        ),
        stack(
            "berth-gcc",
            "gcc build runner",
            "Runs a build command in /src and exits.",
            "`src` is a volume; an absolute host folder is a bind, admins only.",
            vec![image("gcc:latest"), var("SOURCE", "Source", Some("src"), ""), gcc_command],
            RUNNER,
        ),
        stack(
            "berth-python",
            "python runner",
            "Runs a python command in /src and exits.",
            "`src` is a volume; an absolute host folder is a bind, admins only.",
            vec![
                image("python:3"),
                var("SOURCE", "Source", Some("src"), ""),
                var("COMMAND", "Command", Some("python3 main.py"), "Run in /src."),
            ],
            RUNNER,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::templates::vars::resolve;

    /// Every built-in, with its defaults and any required value filled, is a compose file the
    /// stack engine accepts.
    #[test]
    fn every_builtin_parses_with_its_defaults() {
        let all = all();
        assert_eq!(all.len(), 9);
        for t in &all {
            let given: BTreeMap<String, String> = t
                .variables
                .iter()
                .filter(|v| v.required)
                .map(|v| (v.name.clone(), "x".into()))
                .collect();
            let values = resolve(&t.variables, &given).unwrap();
            let env: String = values.iter().map(|(k, v)| format!("{k}={v:?}\n")).collect();
            let Body::Compose { content } = &t.body else {
                panic!("{}", t.id)
            };
            if let Err(p) = crate::stacks::parse::parse(content, Some(&env)) {
                panic!("{}: {p:?}", t.id);
            }
        }
    }
}
