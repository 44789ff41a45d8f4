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
            "cmd": ["sh", "-c", "trap 'exit 0' TERM; while true; do echo tick-$(hostname); sleep 1; done"],
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
    // Every task's output, followed live.
    wait_js(
        c,
        "const l = document.querySelector('[data-testid=log-lines]'); return l ? l.textContent : '';",
        Duration::from_secs(30),
        |v| v.as_str().is_some_and(|t| t.matches("tick-").count() >= 3),
    )
    .await;
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
    e2e::check::screenshot(c, "swarm-service").await;

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

/// The cluster page as an admin: the counts, a join command to copy, a worker token rotated
/// after a confirmation (the daemon hands out the new one), a node's labels edited in place,
/// a drain asked first and cancelled; then in Chinese and at phone width.
#[tokio::test]
async fn the_cluster_page_shows_the_nodes_rotates_a_token_and_edits_labels() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let s = swarm();
    let manager = s["manager"].as_str().expect("manager").to_owned();
    let berth = Berth::start().await;
    let api = add_swarm_environment(&berth, &manager).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    // As a person gets there: the environment chosen in the top bar, then "Swarm" in the
    // nav (offered on a manager only).
    c.goto(&berth.url("/containers")).await.unwrap();
    // Once the nav has asked the local daemon what it is (and drawn the answer):
    wait_js(
        c,
        "return performance.getEntriesByType('resource').some(e => e.name.includes('/api/system/info') && e.responseEnd > 0);",
        Duration::from_secs(10),
        |v| v == &json!(true),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        c.find(fantoccini::Locator::Css("[data-testid=nav-swarm]"))
            .await
            .is_err(),
        "no Swarm entry on a daemon that is no manager"
    );
    find::by_testid(c, "env-switcher")
        .await
        .select_by_value("swarm")
        .await
        .unwrap();
    find::by_testid(c, "nav-swarm").await.click().await.unwrap();
    find::by_testid(c, "swarm-page").await;
    let nodes = find::by_testid(c, "swarm-nodes").await;
    e2e::check::text_becomes(&nodes, "3", Duration::from_secs(20)).await;
    assert_eq!(
        find::by_testid(c, "swarm-managers")
            .await
            .text()
            .await
            .unwrap(),
        "1"
    );
    wait_js(
        c,
        "return document.querySelectorAll('[data-testid=node-row]').length;",
        Duration::from_secs(20),
        |v| v.as_u64() == Some(3),
    )
    .await;

    // The join command, and a rotation that asks first.
    let field = find::by_testid(c, "join-worker").await;
    let before = field.prop("value").await.unwrap().unwrap_or_default();
    assert!(
        before.starts_with("docker swarm join --token SWMTKN-") && before.ends_with(":2377"),
        "{before}"
    );
    find::by_testid(c, "join-worker-copy")
        .await
        .click()
        .await
        .unwrap();
    e2e::check::text_becomes(
        &find::by_testid(c, "join-worker-copy").await,
        "Copied",
        Duration::from_secs(5),
    )
    .await;
    find::by_testid(c, "join-worker-rotate")
        .await
        .click()
        .await
        .unwrap();
    let q = find::by_testid(c, "confirm-question")
        .await
        .text()
        .await
        .unwrap();
    assert!(q.contains("worker join token"), "{q}");
    find::by_testid(c, "confirm-yes")
        .await
        .click()
        .await
        .unwrap();
    let after = wait_js(
        c,
        "return document.querySelector('[data-testid=join-worker]').value;",
        Duration::from_secs(20),
        |v| {
            v.as_str()
                .is_some_and(|t| t.starts_with("docker swarm join") && t != before)
        },
    )
    .await;
    let out = std::process::Command::new("docker")
        .args(["-H", &manager, "swarm", "join-token", "-q", "worker"])
        .output()
        .expect("docker");
    let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        after.as_str().unwrap().contains(&token),
        "the page shows the daemon's new token {token}: {after}"
    );

    // Labels of the manager's node (the Swarm API tests use the workers'), edited in place.
    let row = "[data-testid=node-row][data-role=manager]";
    let host = c
        .find(fantoccini::Locator::Css(row))
        .await
        .unwrap()
        .attr("data-name")
        .await
        .unwrap()
        .expect("a host name");
    let label = format!("e2e-{}", std::process::id());
    c.find(fantoccini::Locator::Css(&format!(
        "{row} [data-testid=node-edit-labels]"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let input = find::by_testid(c, "node-labels-input").await;
    let old = input.prop("value").await.unwrap().unwrap_or_default();
    input.clear().await.unwrap();
    let new = if old.is_empty() {
        format!("{label}=yes")
    } else {
        format!("{old}, {label}=yes")
    };
    input.send_keys(&new).await.unwrap();
    find::by_testid(c, "node-labels-save")
        .await
        .click()
        .await
        .unwrap();
    wait_js(
        c,
        &format!(
            "return Array.from(document.querySelectorAll('{row} [data-testid=node-label]')).map(l => l.textContent);"
        ),
        Duration::from_secs(20),
        |v| v.as_array().is_some_and(|a| a.iter().any(|l| l == &json!(format!("{label}=yes")))),
    )
    .await;
    let out = std::process::Command::new("docker")
        .args([
            "-H",
            &manager,
            "node",
            "inspect",
            &host,
            "--format",
            "{{json .Spec.Labels}}",
        ])
        .output()
        .expect("docker");
    let labels: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(labels[&label], "yes", "the daemon has the label: {labels}");
    // Back as it was, through the API.
    let mut restore = labels.as_object().cloned().unwrap_or_default();
    restore.remove(&label);
    let r = api
        .patch(berth.url(&format!("/api/nodes/{host}")))
        .header("X-Berth-Endpoint", "swarm")
        .json(&json!({"labels": restore}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The page follows (a node event), the row drawn again without the label.
    wait_js(
        c,
        &format!(
            "return Array.from(document.querySelectorAll('{row} [data-testid=node-label]')).map(l => l.textContent);"
        ),
        Duration::from_secs(20),
        |v| v.as_array().is_some_and(|a| !a.iter().any(|l| l == &json!(format!("{label}=yes")))),
    )
    .await;

    // Draining asks first, naming the node; Cancel leaves it active.
    c.find(fantoccini::Locator::Css(&format!(
        "{row} [data-testid=node-drain]"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let q = find::by_testid(c, "confirm-question")
        .await
        .text()
        .await
        .unwrap();
    assert!(q.contains(&host), "{q}");
    find::by_testid(c, "confirm-no")
        .await
        .click()
        .await
        .unwrap();
    let availability = c
        .find(fantoccini::Locator::Css(row))
        .await
        .unwrap()
        .attr("data-availability")
        .await
        .unwrap();
    assert_eq!(availability.as_deref(), Some("active"));
    e2e::check::screenshot(c, "swarm-cluster").await;

    // In Chinese; and on a phone, nothing scrolls sideways but the tables.
    find::by_testid(c, "lang-switch")
        .await
        .select_by_value("zh-CN")
        .await
        .unwrap();
    e2e::check::text_becomes(
        &find::by_testid(c, "nav-swarm").await,
        "集群",
        Duration::from_secs(5),
    )
    .await;
    e2e::check::text_becomes(
        &find::by_testid(c, "swarm-tab-visualizer").await,
        "可视化",
        Duration::from_secs(5),
    )
    .await;
    c.set_window_size(375, 800).await.unwrap();
    find::by_testid(c, "swarm-tab-visualizer")
        .await
        .click()
        .await
        .unwrap();
    find::by_testid(c, "visualizer-page").await;
    let width = c
        .execute("return document.documentElement.scrollWidth;", vec![])
        .await
        .unwrap();
    assert!(
        width.as_i64().unwrap() <= 400,
        "no sideways scrolling: {width}"
    );
    e2e::check::screenshot(c, "swarm-visualizer-phone-zh").await;
    browser.close().await;
}

/// A tag made on every node, removed again at the end.
struct Tag {
    sockets: Vec<String>,
    tag: String,
}

impl Drop for Tag {
    fn drop(&mut self) {
        for sock in &self.sockets {
            let _ = std::process::Command::new("docker")
                .args(["-H", sock, "rmi", "-f", &self.tag])
                .output();
        }
    }
}

/// From the services list to a service's page: a new image rolled out, rolled back, and the
/// service removed after a confirmation, the list following without a reload.
#[tokio::test]
async fn a_service_gets_a_new_image_is_rolled_back_and_removed_from_its_page() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let s = swarm();
    let manager = s["manager"].as_str().expect("manager").to_owned();
    let image = s["image"].as_str().expect("image").to_owned();
    let name = unique("e2e-svc");
    // A second tag of the test image on every node, to update to (nothing is pulled).
    let v2 = format!("{}:{name}", image.split(':').next().unwrap());
    let sockets: Vec<String> = s["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["unix"].as_str().unwrap().to_owned())
        .collect();
    let _tag = Tag {
        sockets: sockets.clone(),
        tag: v2.clone(),
    };
    for sock in &sockets {
        let out = std::process::Command::new("docker")
            .args(["-H", sock, "tag", &image, &v2])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    let berth = Berth::start().await;
    let api = add_swarm_environment(&berth, &manager).await;
    let _cleanup = Service {
        manager: manager.clone(),
        name: name.clone(),
    };
    let r = api
        .post(berth.url("/api/services"))
        .header("X-Berth-Endpoint", "swarm")
        .json(&json!({
            "name": name, "image": image, "replicas": 2,
            "cmd": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"],
            "update_order": "start-first",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{:?}", r.text().await);

    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/swarm/services?env=swarm"))
        .await
        .unwrap();
    c.execute("window.__berthNoReload = true;", vec![])
        .await
        .unwrap();
    let row = format!("[data-testid=service-row][data-name=\"{name}\"]");
    wait_js(
        c,
        &format!("const r = document.querySelector('{row} [data-testid=service-replicas]'); return r ? r.textContent : '';"),
        Duration::from_secs(90),
        |v| v == &json!("2 / 2"),
    )
    .await;
    c.find(fantoccini::Locator::Css(&format!(
        "{row} [data-testid=service-link]"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    find::by_testid(c, "service-page").await;

    // A new image: a rolling update, every running task on it.
    let field = find::by_testid(c, "service-image-input").await;
    e2e::check::text_becomes_with(
        &find::by_testid(c, "service-image-now").await,
        |t| t == image,
        Duration::from_secs(10),
    )
    .await;
    field.clear().await.unwrap();
    field.send_keys(&v2).await.unwrap();
    find::by_testid(c, "service-update")
        .await
        .click()
        .await
        .unwrap();
    let now = find::by_testid(c, "service-image-now").await;
    e2e::check::text_becomes(&now, &v2, Duration::from_secs(20)).await;
    let tasks_on = |img: &str| {
        format!(
            "return Array.from(document.querySelectorAll('[data-testid=task-row][data-desired=running][data-state=running]')).filter(r => r.dataset.image === '{img}').length;"
        )
    };
    wait_js(c, &tasks_on(&v2), Duration::from_secs(120), |v| {
        v.as_u64() == Some(2)
    })
    .await;

    // Rolled back: the old image again.
    find::by_testid(c, "service-rollback")
        .await
        .click()
        .await
        .unwrap();
    let now = find::by_testid(c, "service-image-now").await;
    e2e::check::text_becomes(&now, &image, Duration::from_secs(20)).await;
    wait_js(c, &tasks_on(&image), Duration::from_secs(120), |v| {
        v.as_u64() == Some(2)
    })
    .await;

    // Removed, after saying which: back on the list, where it is gone.
    find::by_testid(c, "service-remove")
        .await
        .click()
        .await
        .unwrap();
    let q = find::by_testid(c, "confirm-question")
        .await
        .text()
        .await
        .unwrap();
    assert!(q.contains(&name), "{q}");
    find::by_testid(c, "confirm-yes")
        .await
        .click()
        .await
        .unwrap();
    find::by_testid(c, "services-page").await;
    // The list of the same environment (not an error), without the service.
    wait_js(
        c,
        &format!(
            "return !document.querySelector('{row}') && !document.querySelector('[data-testid=not-a-swarm], [data-testid=error]') \
             && !!document.querySelector('[data-testid=services-table], [data-testid=no-services]');"
        ),
        Duration::from_secs(20),
        |v| v == &json!(true),
    )
    .await;
    let out = std::process::Command::new("docker")
        .args(["-H", &manager, "service", "inspect", &name])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "the daemon has no such service any more"
    );
    let still = c
        .execute("return window.__berthNoReload === true;", vec![])
        .await
        .unwrap();
    assert_eq!(still, json!(true), "no page reload happened");
    browser.close().await;
}

/// A viewer reads the cluster, the nodes and the visualiser, but gets no join tokens and no
/// buttons that change the cluster (the server refuses those to anyone but an admin).
#[tokio::test]
async fn a_viewer_reads_the_cluster_without_tokens_or_node_actions() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let s = swarm();
    let manager = s["manager"].as_str().expect("manager").to_owned();
    let berth = Berth::start().await;
    let api = add_swarm_environment(&berth, &manager).await;
    let team = unique("e2e-team");
    let user = unique("e2e-viewer");
    let password = "viewer-password-1";
    let r = api
        .post(berth.url("/api/teams"))
        .json(&json!({"name": team}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let r = api
        .post(berth.url("/api/users"))
        .json(&json!({"username": user, "password": password, "role": "viewer", "teams": [team]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{:?}", r.text().await);

    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, &user, password).await;
    c.goto(&berth.url("/swarm?env=swarm")).await.unwrap();
    let nodes = find::by_testid(c, "swarm-nodes").await;
    e2e::check::text_becomes(&nodes, "3", Duration::from_secs(20)).await;
    wait_js(
        c,
        "return document.querySelectorAll('[data-testid=node-row]').length;",
        Duration::from_secs(20),
        |v| v.as_u64() == Some(3),
    )
    .await;
    let absent = "return ['join-tokens', 'node-drain', 'node-pause', 'node-promote', 'node-demote', 'node-edit-labels'] \
                  .filter(id => document.querySelector(`[data-testid=${id}]`));";
    let shown = c.execute(absent, vec![]).await.unwrap();
    assert_eq!(shown, json!([]), "none of these for a viewer");
    find::by_testid(c, "swarm-tab-visualizer")
        .await
        .click()
        .await
        .unwrap();
    wait_js(
        c,
        "return document.querySelectorAll('[data-testid=viz-node]').length;",
        Duration::from_secs(20),
        |v| v.as_u64() == Some(3),
    )
    .await;
    browser.close().await;
}

/// Removes the test's swarm stack from the cluster, also when the test fails.
struct Stack {
    manager: String,
    name: String,
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["-H", &self.manager, "stack", "rm", &self.name])
            .output();
    }
}

/// A compose file with a 3-replica service and a global one, written in the editor and
/// deployed to the swarm ("Deploy to: Swarm"): the stack's page lists both services with
/// their tasks, the visualiser fills the node columns (three replicas, one global task on
/// each node), and removing the stack from the stacks list, after the question naming it,
/// empties the visualiser of its cards, live. A refused key is named next to the form, a
/// redeploy updates only the changed service, and the list row reads in Chinese too.
#[tokio::test]
async fn a_compose_file_deployed_to_the_swarm_as_a_stack_fills_the_visualiser_and_goes_on_remove() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let s = swarm();
    let manager = s["manager"].as_str().expect("manager").to_owned();
    let image = s["image"].as_str().expect("image").to_owned();
    let berth = Berth::start().await;
    let api = add_swarm_environment(&berth, &manager).await;
    let name = unique("e2e-sstack");
    let _cleanup = Stack {
        manager: manager.clone(),
        name: name.clone(),
    };

    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/stacks/new?env=swarm")).await.unwrap();
    find::by_testid(c, "new-stack-page").await;
    find::by_testid(c, "stack-name")
        .await
        .send_keys(&name)
        .await
        .unwrap();
    // On a manager the form offers the swarm.
    find::by_testid(c, "deploy-to-swarm")
        .await
        .click()
        .await
        .unwrap();
    let cmd = "[\"sh\", \"-c\", \"trap 'exit 0' TERM; while true; do sleep 1; done\"]";
    let compose = |web_extra: &str, agent_extra: &str| {
        format!(
            "services:\n  web:\n    image: {image}\n    command: {cmd}\n{web_extra}    deploy:\n      replicas: 3\n  agent:\n    image: {image}\n    command: {cmd}\n{agent_extra}    deploy:\n      mode: global\n"
        )
    };
    // A key `docker stack deploy` refuses: the form says which, and nothing is made.
    let editor = find::by_testid(c, "compose-editor").await;
    editor.clear().await.unwrap();
    editor
        .send_keys(&compose("    mem_limit: 64m\n", ""))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    find::by_testid(c, "deploy").await.click().await.unwrap();
    let err = find::by_testid(c, "stack-error").await;
    e2e::check::text_becomes_with(&err, |t| t.contains("mem_limit"), Duration::from_secs(20)).await;
    let r = api
        .get(berth.url(&format!("/api/stacks/{name}")))
        .header("X-Berth-Endpoint", "swarm")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "a refused file makes no stack");

    let editor = find::by_testid(c, "compose-editor").await;
    editor.clear().await.unwrap();
    editor.send_keys(&compose("", "")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    find::by_testid(c, "deploy").await.click().await.unwrap();

    // The stack's page (once the deploy said done): both services, all their tasks running.
    find::by_testid(c, "swarm-stack").await;
    for (service, mode) in [("web", "replicated"), ("agent", "global")] {
        let css = format!("[data-testid=service-row][data-service={service}]");
        let row = c
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(fantoccini::Locator::Css(&css))
            .await
            .unwrap_or_else(|e| panic!("no row for service {service}: {e}"));
        assert_eq!(row.attr("data-mode").await.unwrap().as_deref(), Some(mode));
        let replicas = row
            .find(fantoccini::Locator::Css("[data-testid=service-replicas]"))
            .await
            .unwrap();
        e2e::check::text_becomes(&replicas, "3 / 3", Duration::from_secs(120)).await;
        let link = row
            .find(fantoccini::Locator::Css("[data-testid=service-link]"))
            .await
            .unwrap();
        assert_eq!(link.text().await.unwrap(), format!("{name}_{service}"));
    }
    // Its tasks, each on a node, from the stack's own tasks (live, no reload).
    wait_js(
        c,
        "return Array.from(document.querySelectorAll('[data-testid=task-row][data-desired=running]')) \
         .filter(r => r.dataset.node && r.querySelector('[data-testid=task-state]').textContent === 'running').length;",
        Duration::from_secs(60),
        |v| v.as_u64() == Some(6),
    )
    .await;
    // Compose-only actions are not offered.
    for gone in ["stack-up", "stack-restart", "stack-down", "stack-logs"] {
        assert!(
            c.find(fantoccini::Locator::Css(&format!("[data-testid={gone}]")))
                .await
                .is_err(),
            "no {gone} on a swarm stack"
        );
    }
    e2e::check::screenshot(c, "swarm-stack").await;

    // Redeployed with the agent changed: only the agent is updated.
    let versions = || async {
        let d: Value = api
            .get(berth.url(&format!("/api/stacks/{name}")))
            .header("X-Berth-Endpoint", "swarm")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let v = |svc: &str| {
            d["swarm_services"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["service"] == svc)
                .map(|s| s["version"].as_u64().unwrap())
                .unwrap()
        };
        (v("web"), v("agent"))
    };
    let (web_before, agent_before) = versions().await;
    let editor = find::by_testid(c, "compose-editor").await;
    editor.clear().await.unwrap();
    editor
        .send_keys(&compose("", "    environment:\n      - ROUND=2\n"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    find::by_testid(c, "stack-redeploy")
        .await
        .click()
        .await
        .unwrap();
    // The PUT answers once the swarm has the new spec.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let (web_after, agent_after) = loop {
        let v = versions().await;
        if v.1 > agent_before || std::time::Instant::now() > deadline {
            break v;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(
        c.find(fantoccini::Locator::Css("[data-testid=stack-error]"))
            .await
            .is_err(),
        "the redeploy went through"
    );
    assert_eq!(web_after, web_before, "the unchanged service is left alone");
    assert!(agent_after > agent_before, "the changed service is updated");
    let agent_replicas =
        "[data-testid=service-row][data-service=agent] [data-testid=service-replicas]";
    let el = c
        .find(fantoccini::Locator::Css(agent_replicas))
        .await
        .unwrap();
    e2e::check::text_becomes(&el, "3 / 3", Duration::from_secs(120)).await;

    // The visualiser: three web cards, and an agent card in every node's column.
    c.goto(&berth.url("/swarm/visualizer?env=swarm"))
        .await
        .unwrap();
    find::by_testid(c, "visualizer-page").await;
    let running = |v: &Value, n: usize| {
        v.as_array().is_some_and(|a| {
            a.len() == n
                && a.iter()
                    .all(|x| x.as_str().is_some_and(|s| s.ends_with("|running")))
        })
    };
    wait_js(
        c,
        &cards_js(&format!("{name}_web")),
        Duration::from_secs(60),
        |v| running(v, 3),
    )
    .await;
    let agents = wait_js(
        c,
        &cards_js(&format!("{name}_agent")),
        Duration::from_secs(60),
        |v| running(v, 3),
    )
    .await;
    let mut columns: Vec<&str> = agents
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().split('|').next().unwrap())
        .collect();
    columns.sort();
    columns.dedup();
    assert_eq!(columns.len(), 3, "one agent per node: {agents}");
    c.execute("window.__berthNoReload = true;", vec![])
        .await
        .unwrap();

    // The stacks list, in a second tab: a swarm row with its replicas, Remove only.
    let visualizer = c.window().await.unwrap();
    let tab = c.new_window(true).await.unwrap();
    c.switch_to_window(tab.handle).await.unwrap();
    c.goto(&berth.url("/stacks?env=swarm")).await.unwrap();
    let row_css = format!("[data-testid=stack-row][data-name=\"{name}\"]");
    let row = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Css(&row_css))
        .await
        .unwrap();
    assert_eq!(
        row.find(fantoccini::Locator::Css("[data-testid=stack-swarm-badge]"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "swarm"
    );
    let replicas = row
        .find_all(fantoccini::Locator::Css("[data-testid=stack-replicas]"))
        .await
        .unwrap();
    assert_eq!(replicas.len(), 2);
    for r in replicas {
        assert_eq!(r.text().await.unwrap(), "3 / 3");
    }
    for gone in ["stack-restart", "stack-stop", "stack-down"] {
        assert!(
            row.find(fantoccini::Locator::Css(&format!("[data-testid={gone}]")))
                .await
                .is_err(),
            "no {gone} for a swarm stack"
        );
    }
    // In Chinese, the row and its question too.
    find::by_testid(c, "lang-switch")
        .await
        .select_by_value("zh-CN")
        .await
        .unwrap();
    let badge = c
        .find(fantoccini::Locator::Css(&format!(
            "{row_css} [data-testid=stack-swarm-badge]"
        )))
        .await
        .unwrap();
    e2e::check::text_becomes(&badge, "集群", Duration::from_secs(5)).await;
    let remove = c
        .find(fantoccini::Locator::Css(&format!(
            "{row_css} [data-testid=stack-remove]"
        )))
        .await
        .unwrap();
    assert_eq!(remove.text().await.unwrap(), "删除");
    remove.click().await.unwrap();
    let q = find::by_testid(c, "confirm-question")
        .await
        .text()
        .await
        .unwrap();
    assert!(q.contains(&name) && q.contains("集群堆栈"), "{q}");
    find::by_testid(c, "confirm-yes")
        .await
        .click()
        .await
        .unwrap();
    wait_js(
        c,
        &format!(
            "return document.querySelectorAll('{}').length;",
            row_css.replace('\'', "\\'")
        ),
        Duration::from_secs(30),
        |v| v.as_u64() == Some(0),
    )
    .await;
    let r = api
        .get(berth.url(&format!("/api/stacks/{name}")))
        .header("X-Berth-Endpoint", "swarm")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "the stack is gone");

    // Back on the visualiser: its cards went, by themselves.
    c.switch_to_window(visualizer).await.unwrap();
    for service in ["web", "agent"] {
        wait_js(
            c,
            &cards_js(&format!("{name}_{service}")),
            Duration::from_secs(60),
            |v| v.as_array().is_some_and(|a| a.is_empty()),
        )
        .await;
    }
    let still = c
        .execute("return window.__berthNoReload === true;", vec![])
        .await
        .unwrap();
    assert_eq!(still, json!(true), "no page reload happened");
    browser.close().await;
}

/// Removes the test's secret from the cluster, also when the test fails.
struct Secret {
    manager: String,
    name: String,
}

impl Drop for Secret {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["-H", &self.manager, "secret", "rm", &self.name])
            .output();
    }
}

/// A secret made on the Secrets & configs page is listed without its value; a 2-replica
/// service made with the New service form (after a refused environment line, shown under
/// the form), using it, opens on its page with two running tasks. Removing the secret while the service uses it shows the daemon's refusal in its
/// row; once the service is gone, the secret is removed after the confirmation.
#[tokio::test]
async fn a_secret_made_on_its_page_is_used_by_a_service_from_the_form_and_removed_after_it() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let s = swarm();
    let manager = s["manager"].as_str().expect("manager").to_owned();
    let image = s["image"].as_str().expect("image").to_owned();
    let berth = Berth::start().await;
    let api = add_swarm_environment(&berth, &manager).await;
    let secret = unique("e2e-sec");
    let service = unique("e2e-form");
    let value = format!("value-of-{secret}");
    let _secret_cleanup = Secret {
        manager: manager.clone(),
        name: secret.clone(),
    };
    let _service_cleanup = Service {
        manager: manager.clone(),
        name: service.clone(),
    };

    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/swarm/secrets?env=swarm"))
        .await
        .unwrap();
    find::by_testid(c, "swarm-files-page").await;
    let hint = find::by_testid(c, "rotation-hint")
        .await
        .text()
        .await
        .unwrap();
    assert!(hint.contains("new name"), "{hint}");
    find::by_testid(c, "secret-name")
        .await
        .send_keys(&secret)
        .await
        .unwrap();
    find::by_testid(c, "secret-value")
        .await
        .send_keys(&value)
        .await
        .unwrap();
    find::by_testid(c, "secret-create")
        .await
        .click()
        .await
        .unwrap();
    let row = format!("[data-testid=secret-row][data-name=\"{secret}\"]");
    wait_js(
        c,
        &format!("return !!document.querySelector('{row}');"),
        Duration::from_secs(20),
        |v| v == &json!(true),
    )
    .await;
    // Listed, and the value is nowhere on the page (the field was emptied too).
    let shown = c
        .execute(
            "return document.body.innerText + '|' + document.querySelector('[data-testid=secret-value]').value;",
            vec![],
        )
        .await
        .unwrap();
    let shown = shown.as_str().unwrap();
    assert!(shown.contains(&secret), "{shown}");
    assert!(!shown.contains(&value), "the value is not shown: {shown}");
    e2e::check::screenshot(c, "swarm-secrets").await;

    // A service from the form, with two replicas and the secret.
    c.goto(&berth.url("/swarm/services?env=swarm"))
        .await
        .unwrap();
    find::by_testid(c, "services-page").await;
    find::by_testid(c, "new-service")
        .await
        .click()
        .await
        .unwrap();
    find::by_testid(c, "new-service-form").await;
    find::by_testid(c, "new-service-name")
        .await
        .send_keys(&service)
        .await
        .unwrap();
    find::by_testid(c, "new-service-image")
        .await
        .send_keys(&image)
        .await
        .unwrap();
    let replicas = find::by_testid(c, "new-service-replicas").await;
    replicas.clear().await.unwrap();
    replicas.send_keys("2").await.unwrap();
    find::by_testid(c, "new-service-command")
        .await
        .send_keys("sh -c \"trap 'exit 0' TERM; while true; do sleep 1; done\"")
        .await
        .unwrap();
    // A target port: the swarm picks the published one.
    find::by_testid(c, "new-service-ports")
        .await
        .send_keys("80")
        .await
        .unwrap();
    let pick = format!("[data-testid=new-service-secrets] input[data-name=\"{secret}\"]");
    wait_js(
        c,
        &format!("return !!document.querySelector('{pick}');"),
        Duration::from_secs(20),
        |v| v == &json!(true),
    )
    .await;
    c.find(fantoccini::Locator::Css(&pick))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // A line the server refuses: its 400 shows under the form, naming the line.
    let env = find::by_testid(c, "new-service-env").await;
    env.send_keys("NOVALUE").await.unwrap();
    find::by_testid(c, "new-service-create")
        .await
        .click()
        .await
        .unwrap();
    let err = find::by_testid(c, "new-service-error").await;
    e2e::check::text_becomes_with(
        &err,
        |t| t.contains("env") && t.contains("NOVALUE"),
        Duration::from_secs(10),
    )
    .await;
    e2e::check::screenshot(c, "swarm-new-service").await;
    env.clear().await.unwrap();
    env.send_keys("GREETING=hi").await.unwrap();
    find::by_testid(c, "new-service-create")
        .await
        .click()
        .await
        .unwrap();
    find::by_testid(c, "service-page").await;
    let title = find::by_testid(c, "service-name").await;
    e2e::check::text_becomes(&title, &service, Duration::from_secs(10)).await;
    wait_js(
        c,
        "return document.querySelectorAll('[data-testid=task-row][data-desired=running][data-state=running]').length;",
        Duration::from_secs(120),
        |v| v.as_u64() == Some(2),
    )
    .await;
    // The daemon's service has the secret.
    let out = std::process::Command::new("docker")
        .args([
            "-H",
            &manager,
            "service",
            "inspect",
            "--format",
            "{{range .Spec.TaskTemplate.ContainerSpec.Secrets}}{{.SecretName}} {{end}}",
            &service,
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&secret),
        "{out:?}"
    );
    let out = std::process::Command::new("docker")
        .args([
            "-H",
            &manager,
            "service",
            "inspect",
            "--format",
            "{{json .Spec.TaskTemplate.ContainerSpec.Env}} {{range .Spec.EndpointSpec.Ports}}{{.TargetPort}}/{{.PublishMode}} {{end}}",
            &service,
        ])
        .output()
        .unwrap();
    let spec = String::from_utf8_lossy(&out.stdout);
    assert!(
        spec.contains("GREETING=hi") && spec.contains("80/ingress"),
        "{out:?}"
    );

    // In use: the refusal shows in the secret's row, which stays.
    c.goto(&berth.url("/swarm/secrets?env=swarm"))
        .await
        .unwrap();
    let remove = format!("{row} [data-testid=secret-remove]");
    let click_remove = || async {
        wait_js(
            c,
            &format!("return !!document.querySelector('{remove}');"),
            Duration::from_secs(20),
            |v| v == &json!(true),
        )
        .await;
        c.find(fantoccini::Locator::Css(&remove))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let q = find::by_testid(c, "confirm-question")
            .await
            .text()
            .await
            .unwrap();
        assert!(q.contains(&secret), "{q}");
        find::by_testid(c, "confirm-yes")
            .await
            .click()
            .await
            .unwrap();
    };
    click_remove().await;
    let refused = wait_js(
        c,
        &format!("const e = document.querySelector('{row} [data-testid=secret-row-error]'); return e ? e.textContent : '';"),
        Duration::from_secs(20),
        |v| v.as_str().is_some_and(|t| !t.is_empty()),
    )
    .await;
    let refused = refused.as_str().unwrap();
    assert!(refused.contains("in use"), "{refused}");

    // The service gone, the secret goes after the confirmation.
    let r = api
        .delete(berth.url(&format!("/api/services/{service}")))
        .header("X-Berth-Endpoint", "swarm")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
    click_remove().await;
    wait_js(
        c,
        &format!("return !document.querySelector('{row}');"),
        Duration::from_secs(20),
        |v| v == &json!(true),
    )
    .await;
    let list: Value = api
        .get(berth.url("/api/secrets"))
        .header("X-Berth-Endpoint", "swarm")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        !list
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["name"] == json!(secret)),
        "{list}"
    );
    browser.close().await;
}

/// A config made from a file chosen in the browser (read as text into the value field) is
/// listed with its label, and removed after the confirmation.
#[tokio::test]
async fn a_config_made_from_a_file_is_listed_and_removed() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let s = swarm();
    let manager = s["manager"].as_str().expect("manager").to_owned();
    let berth = Berth::start().await;
    let api = add_swarm_environment(&berth, &manager).await;
    let config = unique("e2e-cfg");
    let _cleanup = Config {
        manager: manager.clone(),
        name: config.clone(),
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.conf");
    let content = format!("listen = 8080 # {config}");
    std::fs::write(&file, &content).unwrap();

    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/swarm/secrets?env=swarm"))
        .await
        .unwrap();
    find::by_testid(c, "config-section").await;
    find::by_testid(c, "config-name")
        .await
        .send_keys(&config)
        .await
        .unwrap();
    find::by_testid(c, "config-labels")
        .await
        .send_keys("tier=web")
        .await
        .unwrap();
    find::by_testid(c, "config-file")
        .await
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    wait_js(
        c,
        "return document.querySelector('[data-testid=config-value]').value;",
        Duration::from_secs(10),
        |v| v == &json!(content),
    )
    .await;
    find::by_testid(c, "config-create")
        .await
        .click()
        .await
        .unwrap();
    let row = format!("[data-testid=config-row][data-name=\"{config}\"]");
    let text = wait_js(
        c,
        &format!("const r = document.querySelector('{row}'); return r ? r.innerText : '';"),
        Duration::from_secs(20),
        |v| v.as_str().is_some_and(|t| !t.is_empty()),
    )
    .await;
    let text = text.as_str().unwrap();
    assert!(text.contains("tier=web"), "{text}");
    assert!(!text.contains("listen"), "the value is not shown: {text}");
    // The daemon has what the file said.
    let out = std::process::Command::new("docker")
        .args([
            "-H",
            &manager,
            "config",
            "inspect",
            "--format",
            "{{printf \"%s\" .Spec.Data}}",
            &config,
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        content,
        "{out:?}"
    );

    c.find(fantoccini::Locator::Css(&format!(
        "{row} [data-testid=config-remove]"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let q = find::by_testid(c, "confirm-question")
        .await
        .text()
        .await
        .unwrap();
    assert!(q.contains(&config), "{q}");
    find::by_testid(c, "confirm-yes")
        .await
        .click()
        .await
        .unwrap();
    wait_js(
        c,
        &format!("return !document.querySelector('{row}');"),
        Duration::from_secs(20),
        |v| v == &json!(true),
    )
    .await;
    let list: Value = api
        .get(berth.url("/api/configs"))
        .header("X-Berth-Endpoint", "swarm")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        !list
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["name"] == json!(config)),
        "{list}"
    );
    browser.close().await;
}

/// Removes the test's config from the cluster, also when the test fails.
struct Config {
    manager: String,
    name: String,
}

impl Drop for Config {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["-H", &self.manager, "config", "rm", &self.name])
            .output();
    }
}
