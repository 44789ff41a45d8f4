//! Every route of `/api/openapi.json`, for every kind of caller: no credentials, a viewer,
//! and an operator of another team than the resource's.
//!
//! The routes come from the running berth's own document, so a new route is in this test
//! the day it is added; one whose path parameter this test has no rule for fails it, with
//! a message saying where to add the rule. That is the point: no route ships without an
//! access decision somebody wrote down.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

/// Routes anyone may call without a session or token.
const PUBLIC: &[(&str, &str, &str)] = &[
    ("POST", "/api/auth/login", "how a session starts"),
    (
        "GET",
        "/api/health",
        "load balancers and `berth healthcheck`",
    ),
    ("GET", "/api/openapi.json", "the API's description"),
    (
        "POST",
        "/api/auth/logout",
        "idempotent: without a session there is nothing to end (204)",
    ),
];

/// State-changing routes a viewer may call: on their own account, or changing nothing.
/// They are not sent in the viewer pass (logout would end the viewer's session).
const SELF_SERVICE: &[(&str, &str, &str)] = &[
    ("POST", "/api/auth/login", "logging in"),
    ("POST", "/api/auth/logout", "one's own sessions"),
    (
        "POST",
        "/api/auth/ws-ticket",
        "a ticket for one's own websockets",
    ),
    ("POST", "/api/tokens", "one's own API tokens"),
    ("DELETE", "/api/tokens/{id}", "one's own API tokens"),
    (
        "POST",
        "/api/stacks/validate",
        "checks a text, saves nothing",
    ),
    (
        "POST",
        "/api/hooks/{id}",
        "judged on the webhook's secret, not on a session: without it, 401 for anyone",
    ),
];

/// What a path parameter names, and so how foreign and missing values are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Image,
    Container,
    Network,
    Volume,
    Stack,
    Token,
    User,
    Team,
    Share,
    Webhook,
    Job,
}

enum Rule {
    /// A resource with an owner: another team's must answer as a missing one does.
    Owned(Kind),
    /// Not owned by a team (registries are the admin's, shared by all): there is no
    /// "another team's" to compare.
    Global(&'static str),
    /// Not a resource: a fixed, valid value (an action name).
    Fixed(&'static str),
}

/// The access rule of path parameter `param` in `path`. A new route whose parameter is not
/// here fails the test: add its rule (and decide its access) here.
fn rule(path: &str, param: &str) -> Option<Rule> {
    let resource = path.trim_start_matches("/api/").split('/').next()?;
    Some(match (resource, param) {
        ("containers", "id") => Rule::Owned(Kind::Container),
        ("containers", "action") => Rule::Fixed("restart"),
        ("networks", "id") => Rule::Owned(Kind::Network),
        ("volumes", "name") => Rule::Owned(Kind::Volume),
        ("stacks", "name") => Rule::Owned(Kind::Stack),
        ("stacks", "action") => Rule::Fixed("restart"),
        ("tokens", "id") => Rule::Owned(Kind::Token),
        ("users", "name") => Rule::Owned(Kind::User),
        ("teams", "name") => Rule::Owned(Kind::Team),
        ("shares", "name") => Rule::Owned(Kind::Share),
        ("images", "id") => Rule::Owned(Kind::Image),
        ("environments", "name") => Rule::Global(
            "environments are the admin's: only admins change or test them; who may use one \
             is decided by the Daemon extractor (tests/it/environments.rs)",
        ),
        ("webhooks", "id") => Rule::Owned(Kind::Webhook),
        ("jobs", "id") => Rule::Owned(Kind::Job),
        ("hooks", "id") => Rule::Global(
            "a webhook call is judged on its secret (401 without it), then acts as the hook's owner",
        ),
        // This berth's daemon is no swarm manager: every swarm route answers 409
        // `not_a_swarm_manager` (after the session and role checks this test makes). The
        // ownership of services, secrets and configs (another team's answers as missing),
        // and nodes being the admin's, are checked on the real cluster in
        // tests/it/swarm_api.rs.
        ("services" | "secrets" | "configs", "id") => Rule::Global(
            "swarm objects: owned by a team, checked against the real cluster in tests/it/swarm_api.rs",
        ),
        ("nodes", "id") => Rule::Global(
            "nodes are the cluster's machines: everyone on the environment reads them, only admins change them (tests/it/swarm_api.rs)",
        ),
        ("templates", "id") => Rule::Global(
            "templates and their sources are shared by all: everyone logged in reads them, admins \
             add and remove sources, and a deploy is decided by the policy on what it makes",
        ),
        ("registries", "id") => {
            Rule::Global("registries are the admin's and shared by all; only admins change them")
        }
        _ => return None,
    })
}

/// One operation of the document.
struct Route {
    method: Method,
    path: String,
    params: Vec<String>,
    /// Required query parameters, with a value that parses.
    query: Vec<(String, String)>,
    /// Content type and the smallest body the schema accepts.
    body: Option<(String, Value)>,
}

impl Route {
    fn ws(&self) -> bool {
        self.path.ends_with("/ws")
    }

    fn state_changing(&self) -> bool {
        self.method != Method::GET && self.method != Method::HEAD
    }

    fn is(&self, list: &[(&str, &str, &str)]) -> bool {
        list.iter()
            .any(|(m, p, _)| *m == self.method.as_str() && *p == self.path)
    }

    fn url(&self, values: &BTreeMap<String, String>) -> String {
        let mut url = self.path.clone();
        for p in &self.params {
            url = url.replace(&format!("{{{p}}}"), &values[p]);
        }
        let query: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if !query.is_empty() {
            url = format!("{url}?{}", query.join("&"));
        }
        url
    }

    fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// Every operation of the running berth's OpenAPI document (and the document itself).
fn routes(doc: &Value) -> Vec<Route> {
    let mut out = vec![Route {
        method: Method::GET,
        path: "/api/openapi.json".into(),
        params: vec![],
        query: vec![],
        body: None,
    }];
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            let Ok(method) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
                continue;
            };
            let mut params = Vec::new();
            let mut query = Vec::new();
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().expect("a parameter name").to_owned();
                match p["in"].as_str() {
                    Some("path") => params.push(name),
                    Some("query") if p["required"] == true => {
                        let v = match minimal(doc, &p["schema"], 0) {
                            Value::String(_) if name == "path" => "/".to_owned(),
                            Value::String(s) => s,
                            other => other.to_string(),
                        };
                        query.push((name, v));
                    }
                    _ => {}
                }
            }
            let body = op["requestBody"]["content"].as_object().and_then(|c| {
                let (ct, media) = c.iter().next()?;
                let value = if ct.contains("json") {
                    minimal(doc, &media["schema"], 0)
                } else {
                    Value::Null
                };
                Some((ct.clone(), value))
            });
            out.push(Route {
                method,
                path: path.clone(),
                params,
                query,
                body,
            });
        }
    }
    out
}

/// The smallest value `schema` accepts: required properties only, first enum values.
fn minimal(doc: &Value, schema: &Value, depth: usize) -> Value {
    if depth > 8 {
        return json!({});
    }
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or_default();
        return minimal(doc, &doc["components"]["schemas"][name], depth + 1);
    }
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(first) = schema[key]
            .as_array()
            .and_then(|a| a.iter().find(|s| s["type"] != "null").or_else(|| a.first()))
        {
            return minimal(doc, first, depth + 1);
        }
    }
    let ty = match &schema["type"] {
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null")
            .to_owned(),
        _ if schema.get("properties").is_some() => "object".into(),
        _ => "object".into(),
    };
    match ty.as_str() {
        "object" => {
            let mut obj = serde_json::Map::new();
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap_or_default();
                obj.insert(
                    name.to_owned(),
                    minimal(doc, &schema["properties"][name], depth + 1),
                );
            }
            Value::Object(obj)
        }
        "array" => json!([]),
        "string" => json!("x"),
        "integer" | "number" => json!(1),
        "boolean" => json!(false),
        _ => Value::Null,
    }
}

/// The status of one request of `route` with these parameter values.
async fn status_of(
    c: &Client,
    app: &TestApp,
    route: &Route,
    values: &BTreeMap<String, String>,
) -> StatusCode {
    let mut req = c.request(route.method.clone(), app.url(&route.url(values)));
    match &route.body {
        Some((ct, Value::Null)) => {
            req = req.header("content-type", ct.as_str()).body(Vec::new());
        }
        Some((_, body)) => req = req.json(body),
        None => {}
    }
    let resp = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", route.name()));
    resp.status()
}

/// What a websocket upgrade of `route` answers: `Ok(())` if it was accepted.
async fn upgrade(
    app: &TestApp,
    cookie: &str,
    route: &Route,
    values: &BTreeMap<String, String>,
) -> Result<(), u16> {
    ws_with_cookie(app, cookie, &route.url(values))
        .await
        .map(|_| ())
}

/// One resource of each kind, owned by one team (or the names of missing ones).
struct Owned {
    by_kind: BTreeMap<Kind, String>,
}

impl Owned {
    /// The parameter values of `route` naming these resources; global parameters take
    /// `image` (an image reference) or, for registries, an id.
    fn values(&self, route: &Route, image: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for p in &route.params {
            let v = match rule(&route.path, p).expect("rules are checked first") {
                Rule::Owned(kind) => self.by_kind[&kind].clone(),
                Rule::Fixed(v) => v.to_owned(),
                Rule::Global(_) if route.path.starts_with("/api/registries/") => "1".to_owned(),
                Rule::Global(_) => image.to_owned(),
            };
            out.insert(p.clone(), v);
        }
        out
    }
}

/// Make a container, network, volume and stack as this team's operator.
async fn make_owned(app: &TestApp, op: &Client, prefix: &str) -> BTreeMap<Kind, String> {
    let mut out = BTreeMap::new();
    let name = unique(&format!("{prefix}-c"));
    let (status, body) = send(
        op,
        Method::POST,
        &app.url("/api/containers"),
        Some(json!({
            "image": test_image(), "name": name,
            "cmd": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"],
            "labels": {"berth-test": "1"},
        })),
    )
    .await;
    assert_eq!(status, 201, "{prefix}'s container: {body}");
    out.insert(Kind::Container, name);
    let name = unique(&format!("{prefix}-n"));
    let (status, body) = send(
        op,
        Method::POST,
        &app.url("/api/networks"),
        Some(json!({"name": name})),
    )
    .await;
    assert_eq!(status, 201, "{prefix}'s network: {body}");
    out.insert(Kind::Network, name);
    let name = unique(&format!("{prefix}-v"));
    let (status, body) = send(
        op,
        Method::POST,
        &app.url("/api/volumes"),
        Some(json!({"name": name})),
    )
    .await;
    assert_eq!(status, 201, "{prefix}'s volume: {body}");
    out.insert(Kind::Volume, name);
    let name = unique(&format!("{prefix}-s"));
    let compose = format!("services:\n  app:\n    image: {}\n", test_image());
    let (status, body) = send(
        op,
        Method::POST,
        &app.url("/api/stacks"),
        Some(json!({"name": name, "compose": compose, "up": false})),
    )
    .await;
    assert_eq!(status, 201, "{prefix}'s stack: {body}");
    out.insert(Kind::Stack, name.clone());
    // A webhook of the stack, and a job it ran (waited for, so nothing runs at cleanup).
    let (status, hook) = send(
        op,
        Method::POST,
        &app.url("/api/webhooks"),
        Some(json!({"kind": "stack", "target": name})),
    )
    .await;
    assert_eq!(status, 201, "{prefix}'s webhook: {hook}");
    let hook_id = hook["id"].as_str().expect("an id").to_owned();
    let called = Client::new()
        .post(app.url(&format!("/api/hooks/{hook_id}?pull=false&settle=0")))
        .header("X-Berth-Secret", hook["secret"].as_str().expect("a secret"))
        .send()
        .await
        .expect("hook call");
    assert_eq!(called.status(), 202, "{prefix}'s hook call");
    let job: Value = called.json().await.expect("a job");
    let job = job["job"].as_str().expect("a job id").to_owned();
    let (status, ended) = send(
        op,
        Method::GET,
        &app.url(&format!("/api/jobs/{job}?wait=120")),
        None,
    )
    .await;
    assert_eq!(status, 200, "{prefix}'s job: {ended}");
    out.insert(Kind::Webhook, hook_id);
    out.insert(Kind::Job, job);
    let (status, body) = send(
        op,
        Method::POST,
        &app.url("/api/tokens"),
        Some(json!({"name": "matrix"})),
    )
    .await;
    assert_eq!(status, 201, "{prefix}'s token: {body}");
    out.insert(Kind::Token, body["id"].to_string());
    // An image tag of the team's own: tagging one records the team as its owner.
    let repo = unique(&format!("{prefix}-img"));
    let (status, body) = send(
        op,
        Method::POST,
        &app.url(&format!(
            "/api/images/{}/tag",
            test_image().replace('/', "%2F")
        )),
        Some(json!({"repo": repo, "tag": "x"})),
    )
    .await;
    assert_eq!(status, 201, "{prefix}'s image tag: {body}");
    out.insert(Kind::Image, format!("{repo}:x"));
    out
}

#[tokio::test]
async fn every_route_is_decided_for_every_kind_of_caller() {
    let app = TestApp::start().await;
    let (status, doc) = app.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    let routes = routes(&doc);
    assert!(routes.len() > 50, "the document lists every route");

    // First: every path parameter has a rule, before anything is made.
    let mut unknown = BTreeSet::new();
    for r in &routes {
        for p in &r.params {
            if rule(&r.path, p).is_none() {
                unknown.insert(format!("{} {{{p}}}", r.name()));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "routes whose path parameter has no access rule: {unknown:#?}\n\
         decide who may reach what they name and add a rule to `rule()` in \
         server/tests/it/route_matrix.rs"
    );

    let TwoTeams {
        red,
        viewer,
        op_red,
        op_blue,
    } = app.two_teams().await;
    let (_, blue_me) = send(&op_blue, Method::GET, &app.url("/api/auth/me"), None).await;
    let blue_op = blue_me["username"].as_str().expect("username").to_owned();
    let blue = blue_me["teams"][0].as_str().expect("a team").to_owned();

    let mut mine = make_owned(&app, &op_red, "red").await;
    mine.insert(Kind::User, format!("{red}-op"));
    mine.insert(Kind::Team, red.clone());
    let mut theirs = make_owned(&app, &op_blue, "blue").await;
    theirs.insert(Kind::User, blue_op);
    theirs.insert(Kind::Team, blue.clone());
    let shared_dir = tempfile::tempdir().expect("a share folder");
    for (team, map) in [(&red, &mut mine), (&blue, &mut theirs)] {
        let name = unique(&format!("{team}-share"));
        let (status, body) = app
            .call(
                Method::POST,
                "/api/shares",
                Some(json!({
                    "name": name, "path": shared_dir.path(), "writable": true, "teams": [team]
                })),
            )
            .await;
        assert_eq!(status, 201, "share: {body}");
        map.insert(Kind::Share, name);
    }
    let missing = Owned {
        by_kind: [
            (Kind::Container, unique("nothere")),
            (Kind::Network, unique("nothere")),
            (Kind::Volume, unique("nothere")),
            (Kind::Stack, unique("nothere")),
            (Kind::Token, "987654321".to_owned()),
            (Kind::User, unique("nobody")),
            (Kind::Team, unique("noteam")),
            (Kind::Share, unique("noshare")),
            (Kind::Webhook, "wh_nosuchwebhook0000000".to_owned()),
            (Kind::Job, "job_nosuchjob000000000000000".to_owned()),
            (Kind::Image, format!("{}:x", unique("noimage"))),
        ]
        .into_iter()
        .collect(),
    };
    let mine = Owned { by_kind: mine };
    let theirs = Owned { by_kind: theirs };
    // Registries' parameter (global) takes an id; images are owned like the rest.
    let image = mine.by_kind[&Kind::Image].clone();

    // (a) Without credentials: 401, but for the public routes.
    let anonymous = Client::new();
    let mut wrong = Vec::new();
    for r in routes.iter().filter(|r| !r.is(PUBLIC)) {
        let values = mine.values(r, &image);
        let got = status_of(&anonymous, &app, r, &values).await;
        if got != StatusCode::UNAUTHORIZED {
            wrong.push(format!("{}: {got}", r.name()));
        }
    }
    assert!(
        wrong.is_empty(),
        "without credentials these did not answer 401 (public ones are listed in PUBLIC): {wrong:#?}"
    );

    // (b) A viewer changes nothing: every state-changing route is refused, on the
    // viewer's own team's resources.
    for r in routes
        .iter()
        .filter(|r| r.state_changing() && !r.is(SELF_SERVICE))
    {
        let values = mine.values(r, &image);
        let got = status_of(&viewer, &app, r, &values).await;
        let refused = matches!(got.as_u16(), 400 | 403 | 404 | 405 | 409 | 413 | 415);
        if !refused {
            wrong.push(format!("{}: {got}", r.name()));
        }
    }
    assert!(
        wrong.is_empty(),
        "a viewer was not refused (self-service routes are listed in SELF_SERVICE): {wrong:#?}"
    );
    assert_eq!(
        daemon_state(&mine.by_kind[&Kind::Container])
            .await
            .as_deref(),
        Some("running"),
        "the viewer changed nothing"
    );
    for (kind, path) in [
        (Kind::Network, "/api/networks/"),
        (Kind::Volume, "/api/volumes/"),
        (Kind::Stack, "/api/stacks/"),
    ] {
        let (status, body) = app.get(&format!("{path}{}", mine.by_kind[&kind])).await;
        assert_eq!(status, 200, "{kind:?} is still there: {body}");
    }
    let (status, body) = app.get(&format!("/api/images/{image}")).await;
    assert_eq!(status, 200, "the image tag is still there: {body}");

    // (c) Another team's resource answers as a missing one does, on every route that
    // names one. Global parameters (registries) have no owner to compare.
    let red_cookie = app.cookie_header(&format!("{red}-op"), USER_PASSWORD).await;
    let mut skipped = BTreeSet::new();
    for r in routes.iter().filter(|r| !r.params.is_empty()) {
        let globals: Vec<&str> = r
            .params
            .iter()
            .filter_map(|p| match rule(&r.path, p) {
                Some(Rule::Global(why)) => Some(why),
                _ => None,
            })
            .collect();
        if let Some(why) = globals.first() {
            skipped.insert(format!("{}: {why}", r.name()));
            continue;
        }
        let foreign = theirs.values(r, &image);
        let nowhere = missing.values(r, &image);
        if r.ws() {
            let f = upgrade(&app, &red_cookie, r, &foreign).await;
            let m = upgrade(&app, &red_cookie, r, &nowhere).await;
            if f.is_ok() || f != m {
                wrong.push(format!(
                    "{} (websocket): foreign {f:?}, missing {m:?}",
                    r.name()
                ));
            }
            continue;
        }
        let f = status_of(&op_red, &app, r, &foreign).await;
        let m = status_of(&op_red, &app, r, &nowhere).await;
        if f != m || f.is_success() {
            wrong.push(format!("{}: foreign {f}, missing {m}", r.name()));
        }
    }
    eprintln!("route matrix: no team to compare for {skipped:#?}");

    // Clean up before judging, so a failure leaves nothing behind.
    for owned in [&mine, &theirs] {
        let k = &owned.by_kind;
        let _ = app
            .call(
                Method::DELETE,
                &format!("/api/containers/{}?force=true", k[&Kind::Container]),
                None,
            )
            .await;
        let _ = app
            .call(
                Method::DELETE,
                &format!("/api/stacks/{}", k[&Kind::Stack]),
                None,
            )
            .await;
        let _ = app
            .call(
                Method::DELETE,
                &format!("/api/networks/{}", k[&Kind::Network]),
                None,
            )
            .await;
        let _ = app
            .call(
                Method::DELETE,
                &format!("/api/volumes/{}", k[&Kind::Volume]),
                None,
            )
            .await;
    }
    for owned in [&mine, &theirs] {
        let _ = docker_cli(&["rmi", &owned.by_kind[&Kind::Image]]);
    }

    assert!(
        wrong.is_empty(),
        "an operator of another team must get exactly the answer a missing resource gets \
         (nothing may tell that it exists), and never a success: {wrong:#?}"
    );
}
