//! The containers list at scale (issue 19): a thousand containers, paged, sorted, filtered,
//! grouped by stack, three of them stopped and removed in one go, and a phone-width page
//! that does not scroll sideways.

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::{json, Value};

use e2e::many::{Many, Spec};
use e2e::{action, check, docker, find, Berth, Browser, BROWSER_SLOTS};

use super::{unique, wait_js};

const N: usize = 1000;

/// The names of the rows on screen, top to bottom.
async fn row_names(c: &Client) -> Vec<String> {
    let v = c
        .execute(
            "return [...document.querySelectorAll('[data-testid=container-row]')].map(r => r.dataset.name);",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap_or_default()
}

/// Waits until exactly `n` rows are on screen.
async fn rows_become(c: &Client, n: usize) {
    wait_js(
        c,
        "return document.querySelectorAll('[data-testid=container-row]').length;",
        Duration::from_secs(15),
        |v| v.as_u64() == Some(n as u64),
    )
    .await;
}

/// Waits until the pager reads `want` ("51–75 of 100").
async fn pager_reads(c: &Client, want: &str) {
    let info = find::by_testid(c, "pager-info").await;
    check::text_becomes(&info, want, Duration::from_secs(15)).await;
}

/// Waits until the selection bar counts `want` ("3 selected").
async fn selected_reads(c: &Client, want: &str) {
    let count = find::by_testid(c, "bulk-count").await;
    check::text_becomes(&count, want, Duration::from_secs(5)).await;
}

async fn set_filter(c: &Client, text: &str) {
    let f = find::by_testid(c, "filter").await;
    f.clear().await.unwrap();
    f.send_keys(text).await.unwrap();
}

async fn in_row(c: &Client, name: &str, testid: &str) -> fantoccini::elements::Element {
    find::container_row(c, name)
        .await
        .find(Locator::Css(&find::testid(testid)))
        .await
        .unwrap_or_else(|e| panic!("no {testid} in the row of {name}: {e}"))
}

/// Clicks an element after scrolling it to the middle of the screen: scrolled only into
/// view, a row can sit under the sticky top bar.
async fn click(c: &Client, el: &fantoccini::elements::Element) {
    c.execute(
        "arguments[0].scrollIntoView({ block: 'center' });",
        vec![serde_json::to_value(el).unwrap()],
    )
    .await
    .unwrap();
    el.click().await.unwrap();
}

async fn select(c: &Client, names: &[&str]) {
    for n in names {
        click(c, &in_row(c, n, "row-select").await).await;
    }
}

/// The one confirmation on screen: its question, after checking there is exactly one.
async fn the_confirmation(c: &Client) -> String {
    let q = find::by_testid(c, "confirm-question")
        .await
        .text()
        .await
        .unwrap();
    let prompts = c
        .find_all(Locator::Css(&find::testid("confirm")))
        .await
        .unwrap();
    assert_eq!(prompts.len(), 1, "one confirmation for the whole selection");
    q
}

fn is_sorted(names: &[String], asc: bool) -> bool {
    names.windows(2).all(|w| {
        let (a, b) = (w[0].to_lowercase(), w[1].to_lowercase());
        if asc {
            a <= b
        } else {
            a >= b
        }
    })
}

#[tokio::test]
async fn a_thousand_containers_page_sort_filter_group_and_go_in_bulk() {
    // Both browser slots: no other browser test runs while the daemon holds our thousand,
    // so none of them looks for its row behind our pages.
    let _slots = BROWSER_SLOTS.acquire_many(2).await.unwrap();
    let tag = unique("ux");
    let many = Many::new(&tag);
    let name = |i: usize| format!("{tag}-{i:04}");
    let stack = format!("{tag}-stack");
    let specs: Vec<Spec> = (0..N)
        .map(|i| Spec {
            name: name(i),
            // 5..10 are one Compose project.
            labels: if (5..10).contains(&i) {
                vec![("com.docker.compose.project".into(), stack.clone())]
            } else {
                Vec::new()
            },
            publish: if i == 1 { vec![8080] } else { Vec::new() },
        })
        .collect();
    let started = std::time::Instant::now();
    let ids = many.create(&specs);
    eprintln!("created {N} containers in {:?}", started.elapsed());
    for id in &ids[1..=3] {
        many.start(id);
    }

    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;

    // Open the list from the nav (no reload), timing the first rows against the moment
    // the list's response had arrived.
    c.execute(
        "performance.setResourceTimingBufferSize(2000); performance.clearResourceTimings();
         window.__rowsAt = null;
         new MutationObserver((_, o) => {
           if (document.querySelector('[data-testid=container-row]')) {
             window.__rowsAt = performance.now(); o.disconnect();
           }
         }).observe(document.body, { childList: true, subtree: true });",
        vec![],
    )
    .await
    .unwrap();
    find::by_testid(c, "nav-containers")
        .await
        .click()
        .await
        .unwrap();
    let timing = wait_js(
        c,
        "const e = performance.getEntriesByType('resource')
           .filter(e => e.name.includes('/api/containers?all=true')).pop();
         return (window.__rowsAt && e) ? [e.responseEnd, window.__rowsAt] : null;",
        Duration::from_secs(30),
        |v| v.is_array(),
    )
    .await;
    let (arrived, shown) = (timing[0].as_f64().unwrap(), timing[1].as_f64().unwrap());
    eprintln!(
        "{N} containers: rows on screen {:.0} ms after the list arrived",
        shown - arrived
    );
    assert!(
        shown - arrived < 1000.0,
        "the rows took {:.0} ms after the data arrived",
        shown - arrived
    );
    check::screenshot(c, "uxlist-1000").await;
    // The first visit shows 50 a page, newest first.
    rows_become(c, 50).await;

    // 25 a page, remembered across a reload.
    find::by_testid(c, "page-size")
        .await
        .select_by_value("25")
        .await
        .unwrap();
    rows_become(c, 25).await;
    c.refresh().await.unwrap();
    find::by_testid(c, "containers-table").await;
    rows_become(c, 25).await;
    let size = find::by_testid(c, "page-size")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(size.as_deref(), Some("25"), "the page size is remembered");

    // Sort by name; a second click turns the order round.
    click(c, &find::by_testid(c, "sort-name").await).await;
    wait_js(
        c,
        "return document.querySelector('[data-testid=sort-name]').closest('th').getAttribute('aria-sort');",
        Duration::from_secs(5),
        |v| v == &json!("ascending"),
    )
    .await;
    let up = row_names(c).await;
    assert_eq!(up.len(), 25);
    assert!(is_sorted(&up, true), "A→Z: {up:?}");
    click(c, &find::by_testid(c, "sort-name").await).await;
    let first_up = up[0].clone();
    wait_js(
        c,
        "return document.querySelector('[data-testid=container-row]').dataset.name;",
        Duration::from_secs(5),
        |v| v.as_str().is_some_and(|n| n != first_up),
    )
    .await;
    let down = row_names(c).await;
    assert!(is_sorted(&down, false), "Z→A: {down:?}");
    assert!(
        down[0].to_lowercase() > up[0].to_lowercase(),
        "{} then {}",
        up[0],
        down[0]
    );
    click(c, &find::by_testid(c, "sort-name").await).await;

    // The filter narrows: a hundred of ours, four pages.
    set_filter(c, &format!("{tag}-09")).await;
    pager_reads(c, "1–25 of 100").await;
    let names = row_names(c).await;
    assert_eq!(names.first(), Some(&name(900)));
    assert!(
        names.iter().all(|n| n.starts_with(&format!("{tag}-09"))),
        "{names:?}"
    );

    // A shift-click ticks the rows between the last ticked one and this one.
    select(c, &[&name(900)]).await;
    let last = in_row(c, &name(904), "row-select").await;
    c.execute(
        "arguments[0].dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, shiftKey: true }));",
        vec![serde_json::to_value(&last).unwrap()],
    )
    .await
    .unwrap();
    selected_reads(c, "5 selected").await;
    click(c, &find::by_testid(c, "bulk-clear").await).await;

    // A live change keeps the page and the selection.
    click(c, &find::by_testid(c, "page-next").await).await;
    click(c, &find::by_testid(c, "page-next").await).await;
    pager_reads(c, "51–75 of 100").await;
    select(c, &[&name(955)]).await;
    many.start(&name(960));
    let badge = in_row(c, &name(960), "state-badge").await;
    check::text_becomes(&badge, "running", Duration::from_secs(20)).await;
    pager_reads(c, "51–75 of 100").await;
    selected_reads(c, "1 selected").await;
    assert!(
        in_row(c, &name(955), "row-select")
            .await
            .is_selected()
            .await
            .unwrap(),
        "the checkbox is still ticked after the refresh"
    );
    click(c, &find::by_testid(c, "bulk-clear").await).await;

    // Ten rows; 1–3 run, and 1 publishes 8080 on a free port.
    set_filter(c, &format!("{tag}-000")).await;
    pager_reads(c, "1–10 of 10").await;
    let inspected = docker_inspect(&ids[1]);
    let ip = inspected["NetworkSettings"]["IPAddress"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let ip = if ip.is_empty() {
        inspected["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    } else {
        ip
    };
    let ips = in_row(c, &name(1), "row-ips").await;
    check::text_becomes(&ips, &ip, Duration::from_secs(5)).await;
    let host_port = inspected["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"]
        .as_str()
        .expect("8080 is published")
        .to_owned();
    let link = in_row(c, &name(1), "port-link").await;
    assert_eq!(
        link.attr("href").await.unwrap().as_deref(),
        Some(format!("http://127.0.0.1:{host_port}").as_str()),
        "a published port links to the browser's host"
    );

    // Stop three with one confirmation that names them.
    select(c, &[&name(1), &name(2), &name(3)]).await;
    selected_reads(c, "3 selected").await;
    click(c, &find::by_testid(c, "bulk-stop").await).await;
    let q = the_confirmation(c).await;
    for i in 1..=3 {
        assert!(q.contains(&name(i)), "the question names {}: {q}", name(i));
    }
    click(c, &find::by_testid(c, "confirm-yes").await).await;
    for i in 1..=3 {
        let badge = in_row(c, &name(i), "state-badge").await;
        check::text_becomes(&badge, "exited", Duration::from_secs(30)).await;
        assert_eq!(docker::state(&name(i)), "exited", "the daemon agrees");
    }
    let outcome = find::by_testid(c, "bulk-outcome").await;
    check::text_becomes(&outcome, "3 done", Duration::from_secs(10)).await;
    selected_reads(c, "3 selected").await;

    // Then remove the same three, again with one question.
    click(c, &find::by_testid(c, "bulk-remove").await).await;
    let q = the_confirmation(c).await;
    assert!(q.starts_with("Remove 3 containers"), "{q}");
    click(c, &find::by_testid(c, "confirm-yes").await).await;
    pager_reads(c, "1–7 of 7").await;
    for i in 1..=3 {
        assert_eq!(docker::state(&name(i)), "", "{} is gone", name(i));
    }
    assert!(
        c.find_all(Locator::Css(&find::testid("bulk-bar")))
            .await
            .unwrap()
            .is_empty(),
        "nothing is selected once they are gone"
    );

    // A bulk action that fails says so next to each row: killing what does not run.
    select(c, &[&name(4), &name(6)]).await;
    click(c, &find::by_testid(c, "bulk-kill").await).await;
    the_confirmation(c).await;
    click(c, &find::by_testid(c, "confirm-yes").await).await;
    for i in [4, 6] {
        let err = c
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(&format!(
                "[data-testid=row-error][data-name=\"{}\"]",
                name(i)
            )))
            .await
            .unwrap_or_else(|e| panic!("no error next to {}: {e}", name(i)));
        assert!(
            err.text().await.unwrap().contains("not running"),
            "the daemon's reason is shown"
        );
    }
    let outcome = find::by_testid(c, "bulk-outcome").await;
    check::text_becomes_with(
        &outcome,
        |t| t.starts_with("0 done, 2 failed"),
        Duration::from_secs(10),
    )
    .await;
    check::screenshot(c, "uxlist-bulk").await;

    // The row's menu holds the other actions and closes on a click elsewhere.
    click(c, &in_row(c, &name(0), "row-menu").await).await;
    let pop = find::by_testid(c, "row-menu-pop").await;
    for action in ["action-start", "action-restart", "action-remove"] {
        pop.find(Locator::Css(&find::testid(action)))
            .await
            .unwrap_or_else(|e| panic!("the menu of a created container offers {action}: {e}"));
    }
    c.find(Locator::Css(".menu-backdrop"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_js(
        c,
        "return document.querySelectorAll('[data-testid=row-menu-pop]').length;",
        Duration::from_secs(5),
        |v| v == &json!(0),
    )
    .await;

    // Grouped by stack: the project's five under one header that folds away.
    click(c, &find::by_testid(c, "group-by-stack").await).await;
    let header = format!("[data-testid=group-row][data-stack=\"{stack}\"]");
    let group = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(&header))
        .await
        .expect("a header for the stack");
    let group_count = group
        .find(Locator::Css(&find::testid("group-count")))
        .await
        .unwrap();
    check::text_becomes(
        &group_count,
        "5 containers, 0 running",
        Duration::from_secs(5),
    )
    .await;
    let open_stack = group.find(Locator::Css("a.group-link")).await.unwrap();
    assert_eq!(
        open_stack.attr("href").await.unwrap().as_deref(),
        Some(format!("/stacks/{stack}").as_str()),
        "a Compose project's header links to its page"
    );
    let toggle = group
        .find(Locator::Css(&find::testid("group-toggle")))
        .await
        .unwrap();
    click(c, &toggle).await;
    // 0, 4: what is left of ours outside the stack.
    rows_become(c, 2).await;
    let toggle = c
        .find(Locator::Css(&format!(
            "{header} [data-testid=group-toggle]"
        )))
        .await
        .unwrap();
    assert_eq!(
        toggle.attr("aria-expanded").await.unwrap().as_deref(),
        Some("false"),
        "the header says it is folded"
    );

    // A phone: the list fits the screen's width, the selection bar showing too.
    select(c, &[&name(0)]).await;
    c.set_window_size(390, 844).await.unwrap();
    find::by_testid(c, "bulk-bar").await;
    let widths = wait_js(
        c,
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];",
        Duration::from_secs(5),
        |v| v.is_array(),
    )
    .await;
    check::screenshot(c, "uxlist-phone").await;
    let (scroll, client) = (widths[0].as_i64().unwrap(), widths[1].as_i64().unwrap());
    assert!(
        scroll <= client,
        "no sideways scrolling at 390 px: {scroll} > {client}"
    );

    // The same in Chinese and dark: the strings change, the width still fits.
    find::by_testid(c, "lang-switch")
        .await
        .select_by_value("zh-CN")
        .await
        .unwrap();
    selected_reads(c, "已选择 3 个").await;
    pager_reads(c, "第 1–2 个，共 2 个").await;
    click(c, &find::by_testid(c, "theme-toggle").await).await;
    check::screenshot(c, "uxlist-phone-zh").await;
    let widths = c
        .execute(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        widths[0].as_i64() <= widths[1].as_i64(),
        "no sideways scrolling in Chinese either: {widths}"
    );

    browser.close().await;
    drop(many);
}

/// `docker inspect` as JSON, from the daemon's API.
fn docker_inspect(id: &str) -> Value {
    let (status, text) = e2e::many::request("GET", &format!("/containers/{id}/json"), None);
    assert_eq!(status, 200, "inspect {id}: {text}");
    serde_json::from_str(&text).unwrap()
}
