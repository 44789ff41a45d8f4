//! `TestApp`: a `berth` process on a free loopback port with its own data dir, logged in
//! as admin through a cookie-keeping client; plus helpers to make containers on the daemon.

use std::collections::HashMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bollard::query_parameters::{
    CreateContainerOptions, InspectContainerOptions, RemoveContainerOptions, StartContainerOptions,
};
use bollard::Docker;
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

pub const ADMIN_PASSWORD: &str = "test-admin-pw";

/// The private test daemon, as set up by `cargo xtask test`.
pub fn docker_host() -> String {
    std::env::var("BERTH_TEST_DOCKER_HOST").expect(
        "BERTH_TEST_DOCKER_HOST is not set: run the tests with `cargo xtask test`, \
         which starts a private dockerd",
    )
}

/// The image tests run containers from (busybox, made locally by xtask).
pub fn test_image() -> String {
    std::env::var("BERTH_TEST_IMAGE").unwrap_or_else(|_| "berth-test/busybox:latest".into())
}

/// Tests in this binary run in parallel against one daemon. A test that changes
/// daemon-wide state (a prune without a label filter, say) takes this lock exclusively with
/// [`TestApp::start_exclusive`]; every other `TestApp` holds it shared.
static DAEMON_WIDE: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

#[allow(dead_code)] // Exclusive: for prune tests
enum Hold {
    Shared(#[allow(dead_code)] tokio::sync::RwLockReadGuard<'static, ()>),
    Exclusive(#[allow(dead_code)] tokio::sync::RwLockWriteGuard<'static, ()>),
}

pub struct TestApp {
    pub base: String,
    pub client: Client,
    child: Child,
    _data: tempfile::TempDir,
    _hold: Hold,
}

impl TestApp {
    /// berth against the private daemon, logged in as admin.
    pub async fn start() -> TestApp {
        let app = TestApp::spawn(&docker_host()).await;
        app.login("admin", ADMIN_PASSWORD).await;
        app
    }

    /// berth with extra flags (`--share`, `--volume-access` ...), logged in as admin.
    pub async fn start_with(args: &[String]) -> TestApp {
        let hold = Hold::Shared(DAEMON_WIDE.read().await);
        let app = TestApp::spawn_args(&docker_host(), hold, args).await;
        app.login("admin", ADMIN_PASSWORD).await;
        app
    }

    /// The berth child's process id (to read its memory use from /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The same, alone on the daemon: no other test of this binary runs meanwhile.
    #[allow(dead_code)]
    pub async fn start_exclusive() -> TestApp {
        let hold = Hold::Exclusive(DAEMON_WIDE.write().await);
        let app = TestApp::spawn_holding(&docker_host(), hold).await;
        app.login("admin", ADMIN_PASSWORD).await;
        app
    }

    /// berth against any DOCKER_HOST (e.g. one where nothing listens), not logged in.
    pub async fn spawn(docker_host: &str) -> TestApp {
        let hold = Hold::Shared(DAEMON_WIDE.read().await);
        TestApp::spawn_holding(docker_host, hold).await
    }

    async fn spawn_holding(docker_host: &str, hold: Hold) -> TestApp {
        TestApp::spawn_args(docker_host, hold, &[]).await
    }

    /// berth with flags that name its own port (`--public-url http://127.0.0.1:PORT`),
    /// logged in as admin.
    #[allow(dead_code)]
    pub async fn start_with_port(args: impl FnOnce(u16) -> Vec<String>) -> TestApp {
        let hold = Hold::Shared(DAEMON_WIDE.read().await);
        let port = free_port();
        let app = TestApp::spawn_on(port, &docker_host(), hold, &args(port)).await;
        app.login("admin", ADMIN_PASSWORD).await;
        app
    }

    async fn spawn_args(docker_host: &str, hold: Hold, args: &[String]) -> TestApp {
        TestApp::spawn_on(free_port(), docker_host, hold, args).await
    }

    async fn spawn_on(port: u16, docker_host: &str, hold: Hold, args: &[String]) -> TestApp {
        TestApp::spawn_env(port, docker_host, hold, args, &[]).await
    }

    /// berth with extra environment variables for its process (e.g. a `PATH` without
    /// `ssh`), logged in as admin.
    #[allow(dead_code)]
    pub async fn start_with_env(envs: &[(&str, &str)]) -> TestApp {
        let hold = Hold::Shared(DAEMON_WIDE.read().await);
        let app = TestApp::spawn_env(free_port(), &docker_host(), hold, &[], envs).await;
        app.login("admin", ADMIN_PASSWORD).await;
        app
    }

    async fn spawn_env(
        port: u16,
        docker_host: &str,
        hold: Hold,
        args: &[String],
        envs: &[(&str, &str)],
    ) -> TestApp {
        let data = tempfile::tempdir().expect("temp dir");
        let child = Command::new(env!("CARGO_BIN_EXE_berth"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--docker-host", docker_host])
            .arg("--data-dir")
            .arg(data.path())
            .args(args)
            .env("BERTH_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "warn")
            .envs(envs.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the berth binary");
        let app = TestApp {
            base: format!("http://127.0.0.1:{port}"),
            client: Client::builder()
                .cookie_store(true)
                .build()
                .expect("client"),
            child,
            _data: data,
            _hold: hold,
        };
        app.wait_ready().await;
        app
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(r) = self.client.get(self.url("/api/health")).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("berth did not answer /api/health within 20 s");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// This berth's data dir (database, key files, stacks).
    #[allow(dead_code)]
    pub fn data_dir(&self) -> &std::path::Path {
        self._data.path()
    }

    pub fn port(&self) -> u16 {
        self.base.rsplit(':').next().unwrap().parse().unwrap()
    }

    pub async fn login(&self, user: &str, password: &str) -> reqwest::Response {
        let r = self
            .client
            .post(self.url("/api/auth/login"))
            .json(&serde_json::json!({"username": user, "password": password}))
            .send()
            .await
            .expect("login request");
        r
    }

    /// A request with the logged-in client; returns status and JSON body (Null if empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, self.url(path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let bytes = resp.bytes().await.expect("body");
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        (status, json)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::POST, path, None).await
    }

    /// The session cookie, as a `Cookie:` header value, for websocket clients.
    pub async fn cookie_header(&self, user: &str, password: &str) -> String {
        let r = Client::new()
            .post(self.url("/api/auth/login"))
            .json(&serde_json::json!({"username": user, "password": password}))
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 200);
        let set = r
            .headers()
            .get("set-cookie")
            .expect("a session cookie")
            .to_str()
            .unwrap()
            .to_owned();
        set.split(';').next().unwrap().to_owned()
    }
}

impl TestApp {
    /// Another logged-in client of the same berth (its own cookie jar).
    pub async fn client_as(&self, user: &str, password: &str) -> Client {
        let c = Client::builder()
            .cookie_store(true)
            .build()
            .expect("client");
        let r = c
            .post(self.url("/api/auth/login"))
            .json(&serde_json::json!({"username": user, "password": password}))
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 200, "login as {user}");
        c
    }

    /// As admin: make a team (if new) and a user in it.
    pub async fn make_user(&self, name: &str, role: &str, teams: &[&str]) {
        for t in teams {
            let _ = self
                .call(
                    Method::POST,
                    "/api/teams",
                    Some(serde_json::json!({"name": t})),
                )
                .await;
        }
        let (status, body) = self
            .call(
                Method::POST,
                "/api/users",
                Some(serde_json::json!({
                    "username": name, "password": USER_PASSWORD, "role": role, "teams": teams
                })),
            )
            .await;
        assert_eq!(status, 201, "create user {name}: {body}");
    }
}

pub const USER_PASSWORD: &str = "user-password-1";

/// Two fresh teams and three logged-in users: a viewer and an operator of `red`, and an
/// operator of another team (the fixture of every role-and-team test).
pub struct TwoTeams {
    pub red: String,
    pub viewer: Client,
    pub op_red: Client,
    pub op_blue: Client,
}

impl TestApp {
    pub async fn two_teams(&self) -> TwoTeams {
        let red = unique("red");
        let blue = unique("blue");
        let users = [
            (format!("{red}-viewer"), "viewer", &red),
            (format!("{red}-op"), "operator", &red),
            (format!("{blue}-op"), "operator", &blue),
        ];
        for (name, role, team) in &users {
            self.make_user(name, role, &[team]).await;
        }
        let [viewer, op_red, op_blue] = users.map(|(name, ..)| name);
        TwoTeams {
            viewer: self.client_as(&viewer, USER_PASSWORD).await,
            op_red: self.client_as(&op_red, USER_PASSWORD).await,
            op_blue: self.client_as(&op_blue, USER_PASSWORD).await,
            red,
        }
    }
}

/// A request with any client; status and JSON body.
pub async fn send(
    c: &Client,
    method: Method,
    url: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = c.request(method, url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let bytes = resp.bytes().await.expect("body");
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, json)
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Our own child, by its pid.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Assert the contract's error envelope with this status and code.
pub fn assert_error(got: &(StatusCode, Value), status: u16, code: &str) {
    assert_eq!(got.0.as_u16(), status, "status of {:?}", got.1);
    assert_eq!(got.1["error"]["code"], code, "envelope: {}", got.1);
    assert!(
        got.1["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "a message a person can act on: {}",
        got.1
    );
}

/// A direct client of the private daemon, for arranging and checking tests.
pub async fn daemon() -> Docker {
    let host = docker_host();
    let path = host.trim_start_matches("unix://");
    Docker::connect_with_unix(path, 60, bollard::API_DEFAULT_VERSION)
        .expect("connect to the test daemon")
        .negotiate_version()
        .await
        .expect("negotiate with the test daemon")
}

/// A unique container name for this test.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Create (and optionally start) a busybox container that idles and stops promptly.
pub async fn make_container(name: &str, start: bool) -> String {
    make_container_labeled(name, start, &[]).await
}

/// The same, with extra labels (e.g. `berth.team`).
pub async fn make_container_labeled(name: &str, start: bool, extra: &[(&str, &str)]) -> String {
    let d = daemon().await;
    let body = bollard::models::ContainerCreateBody {
        image: Some(test_image()),
        cmd: Some(vec![
            "sh".into(),
            "-c".into(),
            "trap 'exit 0' TERM; while true; do sleep 1; done".into(),
        ]),
        labels: Some(
            [("berth-test", "1")]
                .iter()
                .chain(extra)
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>(),
        ),
        ..Default::default()
    };
    let created = d
        .create_container(
            Some(CreateContainerOptions {
                name: Some(name.into()),
                platform: String::new(),
            }),
            body,
        )
        .await
        .expect("create a test container");
    if start {
        d.start_container(&created.id, None::<StartContainerOptions>)
            .await
            .expect("start the test container");
    }
    created.id
}

/// The daemon's own view of a container's state (`running`, `exited`, ...), or None if gone.
pub async fn daemon_state(id: &str) -> Option<String> {
    let d = daemon().await;
    match d
        .inspect_container(id, None::<InspectContainerOptions>)
        .await
    {
        Ok(info) => info.state.and_then(|s| s.status).map(|s| s.to_string()),
        Err(_) => None,
    }
}

pub async fn remove_container(id: &str) {
    let d = daemon().await;
    let _ = d
        .remove_container(
            id,
            Some(RemoveContainerOptions {
                force: true,
                v: true,
                link: false,
            }),
        )
        .await;
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Open a websocket at `path` with this session cookie; the HTTP status if refused.
pub async fn ws_with_cookie(app: &TestApp, cookie: &str, path: &str) -> Result<Ws, u16> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://127.0.0.1:{}{path}", app.port())
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("websocket {path}: {e}"),
    }
}

/// Open a websocket at `path` as admin.
pub async fn ws_admin(app: &TestApp, path: &str) -> Ws {
    let cookie = app.cookie_header("admin", ADMIN_PASSWORD).await;
    ws_with_cookie(app, &cookie, path)
        .await
        .unwrap_or_else(|status| panic!("websocket {path} refused with {status}"))
}

/// The docker CLI against the private daemon, for arranging tests; stdout on success.
pub fn docker_cli(args: &[&str]) -> String {
    let out = std::process::Command::new("docker")
        .args(["-H", &docker_host()])
        .args(args)
        .output()
        .expect("run the docker CLI");
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The daemon's inspect of a container, as JSON.
pub async fn daemon_inspect(id: &str) -> Value {
    let info = daemon()
        .await
        .inspect_container(id, None::<InspectContainerOptions>)
        .await
        .expect("inspect");
    serde_json::to_value(info).unwrap()
}

/// The test swarm (`BERTH_TEST_SWARM`) is one cluster for the whole run: the swarm tests
/// use it side by side (a read guard), and a test that takes a node away from the others
/// (drained, or its dockerd stopped) has it alone (the write guard).
pub static SWARM: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());
