//! Issue 19, a user's test in Chinese and on a phone: state badges, Docker's status line
//! and the login error speak Chinese; the audit table keeps dates on one line and names
//! actions in words; the lists fit a 390 px screen without sideways scrolling.

use std::process::Command;
use std::time::Duration;

use fantoccini::{Client, Locator};

use e2e::{action, check, docker, find, Berth, Browser, BROWSER_SLOTS};

use super::{unique, wait_js};

fn docker_cli(args: &[&str]) -> std::process::Output {
    let host = std::env::var("BERTH_TEST_DOCKER_HOST").expect("BERTH_TEST_DOCKER_HOST");
    Command::new("docker")
        .args(["-H", &host])
        .args(args)
        .output()
        .expect("docker")
}

/// Removes the test's containers, then its network, however the test ends.
struct Cleanup {
    containers: Vec<String>,
    network: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &self.containers {
            docker::remove(c);
        }
        let _ = docker_cli(&["network", "rm", &self.network]);
    }
}

/// `[scrollWidth, clientWidth]` of the page once it has drawn `testid`, and the first
/// elements that reach past the screen's right edge (for the failure message).
async fn widths(c: &Client, path: &str, berth: &Berth, testid: &str) -> (i64, i64, String) {
    c.goto(&berth.url(path)).await.unwrap();
    find::by_testid(c, testid).await;
    // Let the list arrive and draw (the loading spinner is narrow).
    wait_js(
        c,
        "return !document.querySelector('[data-testid=loading]');",
        Duration::from_secs(15),
        |v| v.as_bool() == Some(true),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let v = c
        .execute(
            "const w = document.documentElement.clientWidth;
             const wide = [...document.querySelectorAll('body *')]
               .filter(e => e.getBoundingClientRect().right > w + 1)
               .slice(0, 5)
               .map(e => e.tagName + '.' + e.className + ' ' + (e.textContent || '').slice(0, 60));
             return [document.documentElement.scrollWidth, w, wide.join(' | ')];",
            vec![],
        )
        .await
        .unwrap();
    (
        v[0].as_i64().unwrap(),
        v[1].as_i64().unwrap(),
        v[2].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn in_chinese_states_status_login_and_audit_read_chinese_and_lists_fit_a_phone() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    // A long network name and a subnet, with a few members: the widest a networks card gets.
    let net = format!(
        "{}-a-rather-long-network-name-for-a-phone",
        unique("e2e-zhnet")
    );
    let names: Vec<String> = (0..4).map(|_| unique("e2e-zh-member")).collect();
    let name = names[0].clone();
    let _cleanup = Cleanup {
        containers: names.clone(),
        network: net.clone(),
    };
    for n in &names {
        docker::run_idle(n);
    }
    let subnet = format!(
        "10.{}.{}.0/24",
        100 + std::process::id() % 100,
        std::process::id() % 250
    );
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    c.set_window_size(1440, 900).await.unwrap();

    // Chinese from the start: the login page's refusal is Chinese too.
    c.goto(&berth.url("/login")).await.unwrap();
    c.execute("localStorage.setItem('berth.lang', 'zh-CN');", vec![])
        .await
        .unwrap();
    c.refresh().await.unwrap();
    find::by_testid(c, "login-username")
        .await
        .send_keys("admin")
        .await
        .unwrap();
    find::by_testid(c, "login-password")
        .await
        .send_keys("not-the-password")
        .await
        .unwrap();
    find::by_testid(c, "login-submit")
        .await
        .click()
        .await
        .unwrap();
    let err = find::by_testid(c, "login-error").await;
    check::text_becomes(&err, "用户名或密码错误。", Duration::from_secs(10)).await;

    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;

    // A running container: its badge and Docker's "Up 3 seconds" both read Chinese.
    c.goto(&berth.url("/containers")).await.unwrap();
    find::by_testid(c, "containers-page").await;
    let row = find::container_row(c, &name).await;
    let badge = row
        .find(Locator::Css(&find::testid("state-badge")))
        .await
        .unwrap();
    check::text_becomes(&badge, "运行中", Duration::from_secs(10)).await;
    let status = row
        .find(Locator::Css(&find::testid("row-status")))
        .await
        .unwrap();
    check::text_becomes_with(
        &status,
        |t| t.starts_with("已运行 ") && !t.contains("Up"),
        Duration::from_secs(10),
    )
    .await;
    // The raw line stays on hover.
    let raw = status.attr("title").await.unwrap().unwrap_or_default();
    assert!(
        raw.starts_with("Up "),
        "the tooltip keeps Docker's text: {raw}"
    );

    // A network made through the page: the audit log's newest row.
    c.goto(&berth.url("/networks")).await.unwrap();
    find::by_testid(c, "network-name")
        .await
        .send_keys(&net)
        .await
        .unwrap();
    find::by_testid(c, "network-subnet")
        .await
        .send_keys(&subnet)
        .await
        .unwrap();
    find::by_testid(c, "network-create")
        .await
        .click()
        .await
        .unwrap();
    let net_row = format!("[data-testid=network-row][data-name=\"{net}\"]");
    wait_js(
        c,
        &format!("return !!document.querySelector('{net_row}');"),
        Duration::from_secs(15),
        |v| v.as_bool() == Some(true),
    )
    .await;
    for n in &names {
        let out = docker_cli(&["network", "connect", &net, n]);
        assert!(out.status.success(), "docker network connect: {out:?}");
    }

    c.goto(&berth.url("/admin")).await.unwrap();
    find::by_testid(c, "admin-page").await;
    // The newest row naming our network: words for the action, the name on hover.
    let probe = format!(
        "const r = [...document.querySelectorAll('[data-testid=audit-row]')]
            .find(r => r.textContent.includes('{net}'));
         if (!r) return null;
         const a = r.querySelector('[data-testid=audit-action]');
         const when = r.querySelector('[data-testid=audit-when]');
         const from = r.querySelector('[data-testid=audit-from]');
         return {{
           action: a.textContent.trim(), raw: a.title,
           lines: when.getClientRects().length,
           when: when.textContent.trim(), full: when.title,
           fromCut: from.scrollWidth > from.clientWidth,
         }};"
    );
    let got = wait_js(c, &probe, Duration::from_secs(15), |v| v.is_object()).await;
    c.execute(
        "document.querySelector('[data-testid=audit]').scrollIntoView();",
        vec![],
    )
    .await
    .unwrap();
    check::screenshot(c, "zhadmin-audit").await;
    assert_eq!(got["action"], "创建网络", "{got}");
    assert_eq!(got["raw"], "network_create", "{got}");
    assert_eq!(got["lines"], 1, "the date is on one line: {got}");
    assert!(
        got["full"].as_str().unwrap_or_default().len()
            >= got["when"].as_str().unwrap_or_default().len(),
        "the full date is in the tooltip: {got}"
    );
    assert_eq!(got["fromCut"], false, "the from column is whole: {got}");

    // A phone: nothing scrolls sideways.
    c.set_window_size(390, 844).await.unwrap();
    for (path, testid) in [
        ("/networks", "networks-page"),
        ("/containers", "containers-page"),
        ("/volumes", "volumes-page"),
        ("/images", "images-page"),
        ("/stacks", "stacks-page"),
    ] {
        let (scroll, client, wide) = widths(c, path, &berth, testid).await;
        if path == "/networks" {
            check::screenshot(c, "zhadmin-networks-phone").await;
            // Every card line has its label.
            let empty = c
                .execute(
                    "return [...document.querySelectorAll('[data-testid=network-row] td')]
                        .filter(td => !td.dataset.label).length;",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(empty, 0, "every networks card line is labelled");
        }
        assert!(
            scroll <= client,
            "{path} does not scroll sideways at 390 px: {scroll} > {client}; too wide: {wide}"
        );
    }

    browser.close().await;
}
