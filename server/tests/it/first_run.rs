//! A fresh machine without Docker: berth started against a daemon that does not exist keeps
//! running and says in its log which daemon it tried and what to do about it.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Stops the berth process (by its own pid) also when the test fails.
struct Berth(Child);

impl Drop for Berth {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn missing_daemon_is_named_in_the_log_with_what_to_do() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A socket path that cannot exist: its folder is a fresh, empty temp dir.
    let socket = dir.path().join("perf-no-daemon/docker.sock");
    let host = format!("unix://{}", socket.display());
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let mut child = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        // As a newcomer runs it: the daemon from DOCKER_HOST, the default log level.
        .env("DOCKER_HOST", &host)
        .env_remove("RUST_LOG")
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("BERTH_ADMIN_PASSWORD", "first-run-password-1")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the berth binary");
    let (tx, rx) = mpsc::channel::<String>();
    for out in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    let mut berth = Berth(child);

    let deadline = Instant::now() + Duration::from_secs(20);
    let mut log = Vec::new();
    let warning = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains("no Docker daemon answers at") => break line,
            Ok(line) => log.push(line),
            Err(_) => panic!(
                "no warning about the missing daemon within 20 s; the log:\n{}",
                log.join("\n")
            ),
        }
    };
    assert!(warning.contains(" WARN "), "a warning: {warning}");
    assert!(
        warning.contains(&host),
        "names the daemon it tried ({host}): {warning}"
    );
    assert!(
        warning.contains("no socket at"),
        "says why (no socket): {warning}"
    );
    assert!(
        warning.contains("--docker-host") && warning.contains("docker.io"),
        "says what to do: {warning}"
    );
    // It keeps running (and retrying) rather than exiting.
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        berth.0.try_wait().expect("berth's status").is_none(),
        "berth keeps running without a daemon"
    );
}
