//! Reading template lists. Portainer's format has been undocumented since v3 and the community
//! lists drifted, so this is tolerant: unknown keys are ignored, v3's `id` is taken when
//! present, and a template missing what it needs becomes one `TemplateError` naming the field,
//! never a failure of the whole list.

use serde_json::{Map, Value};

use super::{Body, Choice, ContainerSpec, Kind, Mount, Parsed, Template, TemplateError, Variable};

/// Why a whole list could not be read (not JSON/YAML, or no list in it at all).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ListError {
    #[error("the template list is neither JSON nor YAML: {0}")]
    Syntax(String),
    #[error(
        "no template list found: expected Portainer's {{\"version\":\"2\"|\"3\",\"templates\":[..]}}, \
         Yacht's top-level array, or berth's {{\"berth\":1,\"templates\":[..]}}"
    )]
    Shape,
}

/// Reads a list in any of the supported formats.
pub fn parse_list(bytes: &[u8]) -> Result<Parsed, ListError> {
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(json) => {
            serde_yaml::from_slice(bytes).map_err(|_| ListError::Syntax(json.to_string()))?
        }
    };
    let (format, items) = match &value {
        Value::Array(items) => ("yacht", items),
        Value::Object(obj) => match (obj.get("berth"), obj.get("templates"), obj.get("version")) {
            (Some(_), Some(Value::Array(items)), _) => ("berth", items),
            (None, Some(Value::Array(items)), Some(v)) => match v.as_str().map(str::trim) {
                Some("2") => ("portainer-v2", items),
                Some("3") => ("portainer-v3", items),
                _ if v.as_u64() == Some(2) => ("portainer-v2", items),
                _ if v.as_u64() == Some(3) => ("portainer-v3", items),
                _ => ("portainer", items),
            },
            (None, Some(Value::Array(items)), None) => ("portainer", items),
            _ => return Err(ListError::Shape),
        },
        _ => return Err(ListError::Shape),
    };
    let mut parsed = Parsed {
        format,
        ..Parsed::default()
    };
    for (index, item) in items.iter().enumerate() {
        let title = item.get("title").and_then(Value::as_str).map(str::to_owned);
        match template(item, format == "berth") {
            Ok(mut t) => {
                t.id = unique_id(&parsed.templates, t.id);
                parsed.templates.push(t);
            }
            Err(message) => parsed.errors.push(TemplateError {
                index,
                title,
                message,
            }),
        }
    }
    Ok(parsed)
}

fn unique_id(existing: &[Template], id: String) -> String {
    let taken = |c: &str| existing.iter().any(|t| t.id == c);
    if !taken(&id) {
        return id;
    }
    (2..)
        .map(|n| format!("{id}-{n}"))
        .find(|c| !taken(c))
        .expect("an unused suffix exists")
}

/// `"Redis Cluster (6 nodes)"` → `"redis-cluster-6-nodes"`.
pub fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        "template".into()
    } else {
        out
    }
}

fn text(obj: &Map<String, Value>, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn flag(obj: &Map<String, Value>, key: &str) -> bool {
    match obj.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn template(item: &Value, berth: bool) -> Result<Template, String> {
    let obj = item
        .as_object()
        .ok_or("a template must be an object (a {..} with title, image, ..)")?;
    let title = text(obj, "title").ok_or("missing \"title\"")?;
    let id = match obj.get("id") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) if !s.trim().is_empty() => slug(s),
        _ => slug(&title),
    };
    let kind = if berth {
        match text(obj, "kind").as_deref() {
            Some("container") => Kind::Container,
            Some("stack") => Kind::Stack,
            None if obj.contains_key("compose") => Kind::Stack,
            None => Kind::Container,
            Some(other) => {
                return Err(format!(
                    "\"kind\" is {other:?}; use \"container\" or \"stack\""
                ))
            }
        }
    } else {
        match obj.get("type").and_then(Value::as_u64).unwrap_or(1) {
            1 => Kind::Container,
            2 | 3 => Kind::Stack,
            n => {
                return Err(format!(
                    "\"type\" is {n}; known types are 1 (container), 2 and 3 (stacks)"
                ))
            }
        }
    };
    let body = match kind {
        Kind::Container => Body::Container(container(obj)?),
        Kind::Stack => stack(obj)?,
    };
    let logo = text(obj, "logo").filter(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("https://") || l.starts_with("http://")
    });
    let categories = match obj.get("categories") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    let key = if berth { "variables" } else { "env" };
    let variables = match obj.get(key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| variable(v).map_err(|e| format!("\"{key}\" entry {}: {e}", i + 1)))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(format!("\"{key}\" must be a list of variables")),
    };
    Ok(Template {
        id,
        title,
        description: text(obj, "description").unwrap_or_default(),
        note: text(obj, "note").unwrap_or_default(),
        categories,
        logo,
        kind,
        variables,
        body,
    })
}

fn variable(v: &Value) -> Result<Variable, String> {
    let obj = v
        .as_object()
        .ok_or("a variable must be an object with a \"name\"")?;
    let name = text(obj, "name").ok_or("missing \"name\"")?;
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
    {
        return Err(format!(
            "variable name {name:?} may hold only letters, digits, '_', '.' and '-'"
        ));
    }
    let mut select = Vec::new();
    let mut default = text(obj, "default");
    if let Some(Value::Array(choices)) = obj.get("select") {
        for c in choices {
            let Some(c) = c.as_object() else {
                return Err(format!(
                    "a choice of {name:?} must be an object with \"value\""
                ));
            };
            let value =
                text(c, "value").ok_or_else(|| format!("a choice of {name:?} has no \"value\""))?;
            if flag(c, "default") && default.is_none() {
                default = Some(value.clone());
            }
            select.push(Choice {
                text: text(c, "text").unwrap_or_else(|| value.clone()),
                value,
            });
        }
    }
    let preset = flag(obj, "preset");
    // Portainer has no `required`: a variable the form must fill is one with nothing to fall back on.
    let required = match obj.get("required") {
        Some(_) => flag(obj, "required"),
        None => default.is_none() && !preset,
    };
    Ok(Variable {
        label: text(obj, "label").unwrap_or_else(|| name.clone()),
        description: text(obj, "description").unwrap_or_default(),
        name,
        default,
        select,
        required,
        preset,
    })
}

fn container(obj: &Map<String, Value>) -> Result<ContainerSpec, String> {
    let image = text(obj, "image").ok_or("missing \"image\" (a container template needs one)")?;
    let mut ports = Vec::new();
    match obj.get("ports") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) => {
            for p in a {
                match p {
                    Value::String(s) => ports.push(port(s)?),
                    // Yacht: `{"WebUI": "8080:80/tcp"}`, the key is a label.
                    Value::Object(o) => {
                        for v in o.values() {
                            let s = v.as_str().ok_or(
                                "a Yacht port's value must be a string like \"8080:80/tcp\"",
                            )?;
                            ports.push(port(s)?);
                        }
                    }
                    Value::Number(n) => ports.push(port(&n.to_string())?),
                    _ => {
                        return Err("\"ports\" entries must be strings like \"8080:80/tcp\"".into())
                    }
                }
            }
        }
        Some(_) => return Err("\"ports\" must be a list".into()),
    }
    let mut mounts = Vec::new();
    if let Some(Value::Array(a)) = obj.get("volumes") {
        for v in a {
            let o = v
                .as_object()
                .ok_or("\"volumes\" entries must be objects with \"container\"")?;
            mounts.push(Mount {
                container: text(o, "container").ok_or("a volume has no \"container\" path")?,
                bind: text(o, "bind"),
                readonly: flag(o, "readonly"),
            });
        }
    }
    let labels = match obj.get("labels") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_object)
            .filter_map(|o| Some((text(o, "name")?, text(o, "value").unwrap_or_default())))
            .collect(),
        _ => Vec::new(),
    };
    Ok(ContainerSpec {
        image,
        ports,
        mounts,
        command: text(obj, "command"),
        restart_policy: text(obj, "restart_policy"),
        privileged: flag(obj, "privileged"),
        labels,
    })
}

/// Checks a port as Docker writes it: `[host:]container[/tcp|udp]`.
fn port(s: &str) -> Result<String, String> {
    let s = s.trim();
    let (ports, proto) = s.split_once('/').unwrap_or((s, "tcp"));
    let bad = || format!("port {s:?} is not [host:]container[/tcp|/udp]");
    if proto != "tcp" && proto != "udp" {
        return Err(bad());
    }
    let parts: Vec<&str> = ports.split(':').collect();
    if parts.is_empty() || parts.len() > 2 || parts.iter().any(|p| p.parse::<u16>().is_err()) {
        return Err(bad());
    }
    Ok(format!("{ports}/{proto}"))
}

fn stack(obj: &Map<String, Value>) -> Result<Body, String> {
    if let Some(content) = text(obj, "compose") {
        return Ok(Body::Compose { content });
    }
    if let Some(Value::Object(repo)) = obj.get("repository") {
        let url = text(repo, "url").unwrap_or_default();
        let file = text(repo, "stackfile").unwrap_or_default();
        return Err(format!(
            "this stack is a file in a git repository ({url} {file}); berth does not fetch \
             repositories for templates: add the compose file as a berth template instead"
        ));
    }
    Err("a stack template needs \"compose\" (the compose file's text)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const V2: &str = r#"{"version":"2","templates":[
      {"type":1,"title":"Registry","description":"Docker image registry","categories":["docker"],
       "platform":"linux","logo":"https://portainer-io-assets.sfo2.digitaloceanspaces.com/logos/registry.png",
       "image":"registry:latest","ports":["5000/tcp"],"volumes":[{"container":"/var/lib/registry"}],
       "unknown_key":{"x":1}},
      {"type":1,"title":"MySQL","image":"mysql:latest","ports":["3306/tcp"],
       "env":[{"name":"MYSQL_ROOT_PASSWORD","label":"Root password"},
              {"name":"TZ","label":"Time zone","default":"Asia/Shanghai"},
              {"name":"MODE","label":"Mode","select":[{"text":"Fast","value":"f"},{"text":"Safe","value":"s","default":true}]},
              {"name":"FIXED","default":"1","preset":true}]},
      {"type":3,"title":"Wordpress","repository":{"url":"https://github.com/portainer/templates","stackfile":"stacks/wordpress/docker-compose.yml"}},
      {"type":1,"description":"no title here","image":"x"},
      {"type":1,"title":"No image"},
      {"type":1,"title":"Bad logo","image":"nginx","logo":"javascript:alert(1)","ports":["80:80/sctp"]}
    ]}"#;

    #[test]
    fn portainer_v2_keeps_good_templates_and_names_what_is_missing() {
        let p = parse_list(V2.as_bytes()).unwrap();
        assert_eq!(p.format, "portainer-v2");
        let titles: Vec<_> = p.templates.iter().map(|t| t.title.as_str()).collect();
        assert_eq!(titles, ["Registry", "MySQL"]);
        let reg = &p.templates[0];
        assert_eq!(reg.id, "registry");
        assert_eq!(reg.kind, Kind::Container);
        let Body::Container(c) = &reg.body else {
            panic!("container")
        };
        assert_eq!(c.ports, ["5000/tcp"]);
        assert_eq!(c.mounts[0].bind, None);
        assert!(reg.logo.as_deref().unwrap().starts_with("https://"));

        let vars = &p.templates[1].variables;
        assert!(vars[0].required && vars[0].default.is_none());
        assert_eq!(vars[1].default.as_deref(), Some("Asia/Shanghai"));
        assert!(!vars[1].required);
        assert_eq!(vars[2].select.len(), 2);
        assert_eq!(vars[2].default.as_deref(), Some("s"));
        assert!(vars[3].preset && !vars[3].required);

        let errs: Vec<_> = p
            .errors
            .iter()
            .map(|e| (e.index, e.message.as_str()))
            .collect();
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(errs[0].1.contains("git repository"), "{errs:?}");
        assert_eq!(p.errors[0].title.as_deref(), Some("Wordpress"));
        assert_eq!(errs[1], (3, "missing \"title\""));
        assert!(errs[2].1.contains("missing \"image\""));
        assert!(errs[3].1.contains("80:80/sctp"));
    }

    #[test]
    fn portainer_v3_takes_the_numeric_id_and_dedupes() {
        let v3 = r#"{"version":"3","templates":[
          {"id":1,"type":1,"title":"Nginx","image":"nginx:latest","ports":["80/tcp","443/tcp"]},
          {"id":"1","type":1,"title":"Other","image":"httpd"},
          {"type":1,"title":"Nginx","image":"nginx"}
        ]}"#;
        let p = parse_list(v3.as_bytes()).unwrap();
        assert_eq!(p.format, "portainer-v3");
        let ids: Vec<_> = p.templates.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["1", "1-2", "nginx"]);
        assert!(p.errors.is_empty());
    }

    #[test]
    fn yacht_ports_are_labelled_objects() {
        let yacht = r#"[{"type":1,"title":"Heimdall","name":"heimdall","image":"linuxserver/heimdall",
          "ports":[{"WebUI":"8080:80/tcp"},{"HTTPS":"8443:443"}],
          "volumes":[{"container":"/config","bind":"!config/heimdall"}],
          "env":[{"name":"PUID","label":"PUID","default":"1000"}],"restart_policy":"unless-stopped"}]"#;
        let p = parse_list(yacht.as_bytes()).unwrap();
        assert_eq!(p.format, "yacht");
        let Body::Container(c) = &p.templates[0].body else {
            panic!("container")
        };
        assert_eq!(c.ports, ["8080:80/tcp", "8443:443/tcp"]);
        assert_eq!(c.mounts[0].bind.as_deref(), Some("!config/heimdall"));
        assert_eq!(c.restart_policy.as_deref(), Some("unless-stopped"));
    }

    #[test]
    fn berth_lists_may_be_yaml_with_compose_stacks() {
        let y = "berth: 1\ntemplates:\n  - title: Web pair\n    kind: stack\n    compose: |\n      services:\n        web:\n          image: ${IMAGE}\n    variables:\n      - name: IMAGE\n        default: nginx\n        required: true\n";
        let p = parse_list(y.as_bytes()).unwrap();
        assert_eq!(p.format, "berth");
        let t = &p.templates[0];
        assert_eq!(t.kind, Kind::Stack);
        assert!(matches!(&t.body, Body::Compose { content } if content.contains("${IMAGE}")));
        assert!(t.variables[0].required);
    }

    #[test]
    fn whole_list_errors_say_what_was_expected() {
        assert!(matches!(
            parse_list(b"{not json: ["),
            Err(ListError::Syntax(_))
        ));
        assert_eq!(parse_list(b"{\"a\":1}"), Err(ListError::Shape));
        assert_eq!(parse_list(b"42"), Err(ListError::Shape));
    }
}
