//! The test Swarm of `cargo xtask swarm` (issue 15), named by `BERTH_TEST_SWARM`: three
//! daemons in network namespaces, a manager and two workers. These tests check the
//! cluster itself (the Swarm routes of berth build on it): every node is ready, and an
//! overlay network carries traffic from a task on one node to a task on another.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::SWARM;

struct Swarm(Value);

fn swarm() -> Swarm {
    let path = std::env::var("BERTH_TEST_SWARM").expect(
        "BERTH_TEST_SWARM is not set: run the tests with `cargo xtask test`, or start a \
         cluster with `cargo xtask swarm --index 1` and set BERTH_TEST_SWARM=/tmp/bs1/swarm.json",
    );
    let text = std::fs::read_to_string(&path).expect("read BERTH_TEST_SWARM");
    Swarm(serde_json::from_str(&text).expect("swarm.json"))
}

impl Swarm {
    fn node(&self, k: usize) -> &str {
        self.0["nodes"][k - 1]["unix"]
            .as_str()
            .expect("a node socket")
    }
    fn image(&self) -> &str {
        self.0["image"].as_str().expect("the image")
    }
}

fn docker(host: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new("docker")
        .arg("-H")
        .arg(host)
        .args(args)
        .output()
        .expect("run docker");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Removes what the test made on the cluster, also on failure.
struct Cleanup {
    manager: String,
    services: Vec<String>,
    containers: Vec<(String, String)>,
    networks: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for (host, c) in &self.containers {
            docker(host, &["rm", "-f", c]);
        }
        for s in &self.services {
            docker(&self.manager, &["service", "rm", s]);
        }
        for n in &self.networks {
            // The service's tasks leave the network a moment after the service is gone.
            let deadline = Instant::now() + Duration::from_secs(60);
            while !docker(&self.manager, &["network", "rm", n]).0 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(500));
            }
        }
    }
}

#[test]
fn swarm_cluster_has_three_ready_nodes() {
    let _shared = SWARM.blocking_read();
    let s = swarm();
    let (ok, out) = docker(
        s.node(1),
        &["node", "ls", "--format", "{{.Status}} {{.ManagerStatus}}"],
    );
    assert!(ok, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines.iter().all(|l| l.starts_with("Ready")), "{out}");
    assert_eq!(
        lines.iter().filter(|l| l.ends_with("Leader")).count(),
        1,
        "{out}"
    );
}

#[test]
fn swarm_overlay_reaches_a_task_on_another_node() {
    let _shared = SWARM.blocking_read();
    let s = swarm();
    let manager = s.node(1).to_string();
    let mut clean = Cleanup {
        manager: manager.clone(),
        services: vec![],
        containers: vec![],
        networks: vec![],
    };
    let net = "swarm-it-overlay";
    let (ok, out) = docker(
        &manager,
        &["network", "create", "-d", "overlay", "--attachable", net],
    );
    assert!(ok, "{out}");
    clean.networks.push(net.into());
    // A web server on every node, as a global service on the overlay network.
    let svc = "swarm-it-web";
    let (ok, out) = docker(
        &manager,
        &[
            "service",
            "create",
            "-d",
            // Never ask a registry for the digest: the image is on every node already.
            "--no-resolve-image",
            "--name",
            svc,
            "--mode",
            "global",
            "--network",
            net,
            s.image(),
            "httpd",
            "-f",
            "-p",
            "8080",
            "-h",
            "/etc",
        ],
    );
    assert!(ok, "{out}");
    clean.services.push(svc.into());
    // The task on the third node (a worker), and its address on the overlay network.
    let worker = s.node(3);
    let deadline = Instant::now() + Duration::from_secs(90);
    let addr = loop {
        let (_, id) = docker(
            worker,
            &[
                "ps",
                "-q",
                "--filter",
                &format!("label=com.docker.swarm.service.name={svc}"),
            ],
        );
        let id = id.trim();
        if !id.is_empty() {
            let format = format!("{{{{(index .NetworkSettings.Networks \"{net}\").IPAddress}}}}");
            let (ok, ip) = docker(worker, &["inspect", "-f", &format, id]);
            if ok && !ip.trim().is_empty() {
                break ip.trim().to_string();
            }
        }
        assert!(
            Instant::now() < deadline,
            "no task of {svc} runs on the worker"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    // From the manager's node, a container on the same overlay asks it for a file.
    let client = "swarm-it-client";
    clean.containers.push((manager.clone(), client.into()));
    let script = format!("printf 'GET /passwd HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {addr} 8080");
    let (ok, out) = docker(
        &manager,
        &[
            "run",
            "--name",
            client,
            "--network",
            net,
            s.image(),
            "sh",
            "-c",
            &script,
        ],
    );
    assert!(ok, "{out}");
    assert!(
        out.contains("200 OK") && out.contains("root:x:0:0"),
        "{out}"
    );
}
