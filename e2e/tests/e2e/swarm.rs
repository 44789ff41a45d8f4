//! Issue 15: the Swarm pages in a real Chromium, on the real three-node cluster of
//! `cargo xtask swarm` (`BERTH_TEST_SWARM`), added to berth as an environment.

use std::time::Duration;

use e2e::{action, find, Berth, Browser, BROWSER_SLOTS};
use serde_json::{json, Value};

use super::{unique, wait_js};

fn swarm() -> Value {
    let path = std::env::var("BERTH_TEST_SWARM").expect(
        "BERTH_TEST_SWARM is not set: run under `cargo xtask test`, or start a cluster with \
         `cargo xtask swarm --index 2` and set BERTH_TEST_SWARM=/tmp/bs2/swarm.json",
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("swarm.json")).expect("json")
}

/// Removes the test's service from the cluster, also when the test fails.
struct Service {
    manager: String,
    name: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["-H", &self.manager, "service", "rm", &self.name])
            .output();
    }
}

/// The admin's API client, logged in, and the swarm's manager added as environment `swarm`
/// (a unix socket, as an admin would add it with the form).
async fn add_swarm_environment(berth: &Berth, manager: &str) -> reqwest::Client {
    let api = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = api
        .post(berth.url("/api/auth/login"))
        .json(&json!({"username": "admin", "password": e2e::berth::ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = api
        .post(berth.url("/api/environments"))
        .json(&json!({"name": "swarm", "url": manager}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    api
}

/// The JS that counts the service's cards the visualiser shows, with their columns.
fn cards_js(service: &str) -> String {
    format!(
        "return Array.from(document.querySelectorAll('[data-testid=viz-node]')).flatMap(col => \
         Array.from(col.querySelectorAll('[data-testid=task-card][data-service=\"{service}\"]')) \
         .map(card => col.dataset.name + '|' + card.dataset.state));"
    )
}

/// A 3-replica service made through the API shows as three running cards spread over the
/// visualiser's node columns, each in the column of the node the daemon put it on; scaled
/// to 1 from the service page (in another tab), two cards go from the visualiser, live.
#[tokio::test]
async fn the_visualiser_shows_a_services_tasks_on_their_nodes_and_follows_a_scale_down() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let s = swarm();
    let manager = s["manager"].as_str().expect("manager").to_owned();
    let berth = Berth::start().await;
    let api = add_swarm_environment(&berth, &manager).await;

    let name = unique("e2e-viz");
    let _cleanup = Service {
        manager: manager.clone(),
        name: name.clone(),
    };
    let r = api
        .post(berth.url("/api/services"))
        .header("X-Berth-Endpoint", "swarm")
        .json(&json!({
            "name": name, "image": s["image"], "replicas": 3,
            "cmd": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{:?}", r.text().await);

    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/swarm/visualizer?env=swarm"))
        .await
        .unwrap();
    find::by_testid(c, "visualizer-page").await;
    // The nav offers the Swarm pages on a manager.
    find::by_testid(c, "nav-swarm").await;
    // A column per node.
    wait_js(
        c,
        "return document.querySelectorAll('[data-testid=viz-node]').length;",
        Duration::from_secs(20),
        |v| v.as_u64() == Some(3),
    )
    .await;
    // Three running cards, without a reload.
    c.execute("window.__berthNoReload = true;", vec![])
        .await
        .unwrap();
    let cards = wait_js(c, &cards_js(&name), Duration::from_secs(120), |v| {
        v.as_array().is_some_and(|a| {
            a.len() == 3
                && a.iter()
                    .all(|x| x.as_str().is_some_and(|s| s.ends_with("|running")))
        })
    })
    .await;
    let mut columns: Vec<String> = cards
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().split('|').next().unwrap().to_owned())
        .collect();
    columns.sort();
    // Each in the column of the node the daemon says runs it.
    let tasks: Value = api
        .get(berth.url(&format!("/api/services/{name}/tasks")))
        .header("X-Berth-Endpoint", "swarm")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut nodes: Vec<String> = tasks
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["desired_state"] == "running")
        .map(|t| t["node"].as_str().unwrap_or_default().to_owned())
        .collect();
    nodes.sort();
    assert_eq!(columns, nodes, "cards sit on their tasks' nodes: {tasks:#}");
    let mut distinct = columns.clone();
    distinct.dedup();
    assert!(
        distinct.len() >= 2,
        "the swarm spread the tasks over the nodes: {columns:?}"
    );
    e2e::check::screenshot(c, "swarm-visualizer").await;

    // The service page, in a second tab: scale to 1.
    let visualizer = c.window().await.unwrap();
    let tab = c.new_window(true).await.unwrap();
    c.switch_to_window(tab.handle).await.unwrap();
    c.goto(&berth.url(&format!("/swarm/services/{name}?env=swarm")))
        .await
        .unwrap();
    let running = find::by_testid(c, "service-running").await;
    e2e::check::text_becomes(&running, "3 / 3", Duration::from_secs(30)).await;
    let input = find::by_testid(c, "service-replicas-input").await;
    input.clear().await.unwrap();
    input.send_keys("1").await.unwrap();
    find::by_testid(c, "service-scale")
        .await
        .click()
        .await
        .unwrap();
    wait_js(
        c,
        "return document.querySelectorAll('[data-testid=task-row][data-desired=running]').length;",
        Duration::from_secs(60),
        |v| v.as_u64() == Some(1),
    )
    .await;
    let running = find::by_testid(c, "service-running").await;
    e2e::check::text_becomes(&running, "1 / 1", Duration::from_secs(60)).await;

    // Back on the visualiser: two cards went, by themselves.
    c.switch_to_window(visualizer).await.unwrap();
    wait_js(c, &cards_js(&name), Duration::from_secs(60), |v| {
        v.as_array().is_some_and(|a| a.len() == 1)
    })
    .await;
    let still = c
        .execute("return window.__berthNoReload === true;", vec![])
        .await
        .unwrap();
    assert_eq!(still, json!(true), "no page reload happened");
    browser.close().await;
}
