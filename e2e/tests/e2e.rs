//! berth in a real headless Chromium: the real binary, a real dockerd.
//! ONE test binary; run through `cargo xtask test`.

// A crate root in tests/ looks for modules next to it; these live in tests/e2e/.
#[path = "e2e/imagepage.rs"]
mod imagepage;
#[path = "e2e/pickers.rs"]
mod pickers;
#[path = "e2e/swarm.rs"]
mod swarm;
#[path = "e2e/uxconfirm.rs"]
mod uxconfirm;
#[path = "e2e/uxlist.rs"]
mod uxlist;
#[path = "e2e/zhadmin.rs"]
mod zhadmin;

use std::time::Duration;

use e2e::{action, check, docker, find, Berth, Browser, BROWSER_SLOTS};

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

#[tokio::test]
async fn login_then_stop_a_container_and_see_its_badge_change() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let name = unique("e2e-stop");
    docker::run_idle(&name);
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;

    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/containers")).await.unwrap();
    find::by_testid(c, "containers-page").await;
    let row = find::container_row(c, &name).await;
    let badge = row
        .find(fantoccini::Locator::Css(&find::testid("state-badge")))
        .await
        .expect("a state badge");
    check::text_becomes(&badge, "running", Duration::from_secs(5)).await;
    check::screenshot(c, "containers").await;

    // A marker that a page reload would wipe: the badge must change in place.
    c.execute("window.__berthNoReload = true;", vec![])
        .await
        .unwrap();
    row.find(fantoccini::Locator::Css(&find::testid("action-stop")))
        .await
        .expect("a stop button on a running container")
        .click()
        .await
        .unwrap();
    let badge = find::container_row(c, &name)
        .await
        .find(fantoccini::Locator::Css(&find::testid("state-badge")))
        .await
        .unwrap();
    check::text_becomes(&badge, "exited", Duration::from_secs(20)).await;
    assert_eq!(docker::state(&name), "exited", "the daemon agrees");
    let still = c
        .execute("return window.__berthNoReload === true;", vec![])
        .await
        .unwrap();
    assert_eq!(still, serde_json::json!(true), "no page reload happened");

    browser.close().await;
    docker::remove(&name);
}

#[tokio::test]
async fn a_change_made_outside_berth_shows_up_live() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let name = unique("e2e-live");
    docker::run_idle(&name);
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;

    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/containers")).await.unwrap();
    let badge = find::container_row(c, &name)
        .await
        .find(fantoccini::Locator::Css(&find::testid("state-badge")))
        .await
        .unwrap();
    check::text_becomes(&badge, "running", Duration::from_secs(5)).await;

    // Someone pauses it from the command line: the page hears it from the daemon's events.
    let host = std::env::var("BERTH_TEST_DOCKER_HOST").unwrap();
    let out = std::process::Command::new("docker")
        .args(["-H", &host, "pause", &name])
        .output()
        .unwrap();
    assert!(out.status.success());
    let badge = find::container_row(c, &name)
        .await
        .find(fantoccini::Locator::Css(&find::testid("state-badge")))
        .await
        .unwrap();
    check::text_becomes(&badge, "paused", Duration::from_secs(15)).await;

    browser.close().await;
    docker::remove(&name);
}

#[tokio::test]
async fn wrong_password_shows_an_error_and_dashboard_shows_the_engine() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;

    c.goto(&berth.url("/login")).await.unwrap();
    find::by_testid(c, "login-username")
        .await
        .send_keys("admin")
        .await
        .unwrap();
    find::by_testid(c, "login-password")
        .await
        .send_keys("wrong")
        .await
        .unwrap();
    find::by_testid(c, "login-submit")
        .await
        .click()
        .await
        .unwrap();
    let err = find::by_testid(c, "login-error").await;
    assert!(
        !err.text().await.unwrap().trim().is_empty(),
        "the error is shown"
    );

    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/")).await.unwrap();
    let version = find::by_testid(c, "dash-version").await;
    check::screenshot(c, "dashboard").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = version.text().await.unwrap_or_default();
        if text.contains("20.") || text.chars().filter(|c| *c == '.').count() >= 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "engine version shown: {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.close().await;
}

#[tokio::test]
async fn admin_makes_a_team_and_an_operator_who_sees_only_the_teams_containers() {
    use fantoccini::Locator;
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let team = unique("e2eteam");
    let operator = unique("e2eop");
    let ours = unique("e2e-ours");
    let theirs = unique("e2e-theirs");
    docker::run_idle_labeled(&ours, &[("berth.team", &team)]);
    docker::run_idle(&theirs);
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;

    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    find::by_testid(c, "nav-admin").await.click().await.unwrap();
    find::by_testid(c, "team-name")
        .await
        .send_keys(&team)
        .await
        .unwrap();
    find::by_testid(c, "team-create")
        .await
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(&format!(
            "[data-testid=\"team-row\"][data-name=\"{team}\"]"
        )))
        .await
        .expect("the new team is listed");

    find::by_testid(c, "user-name")
        .await
        .send_keys(&operator)
        .await
        .unwrap();
    find::by_testid(c, "user-password")
        .await
        .send_keys("operator-pw-1")
        .await
        .unwrap();
    find::by_testid(c, "user-role")
        .await
        .select_by_value("operator")
        .await
        .unwrap();
    find::by_testid(c, "user-teams")
        .await
        .send_keys(&team)
        .await
        .unwrap();
    find::by_testid(c, "user-create")
        .await
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(&format!(
            "[data-testid=\"user-row\"][data-name=\"{operator}\"]"
        )))
        .await
        .expect("the new user is listed");
    find::by_testid(c, "logout").await.click().await.unwrap();
    find::by_testid(c, "login-page").await;

    action::login(c, &berth, &operator, "operator-pw-1").await;
    c.goto(&berth.url("/containers")).await.unwrap();
    find::container_row(c, &ours).await;
    let others = c
        .find_all(Locator::Css(&format!(
            "[data-testid=\"container-row\"][data-name=\"{theirs}\"]"
        )))
        .await
        .unwrap();
    assert!(
        others.is_empty(),
        "a container of no team is not shown to the operator"
    );
    let admin_link = c
        .find_all(Locator::Css(&find::testid("nav-admin")))
        .await
        .unwrap();
    assert!(admin_link.is_empty(), "an operator gets no admin link");

    browser.close().await;
    docker::remove(&ours);
    docker::remove(&theirs);
}

#[tokio::test]
async fn language_theme_and_phone_layout() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/containers")).await.unwrap();
    let nav = find::by_testid(c, "nav-containers").await;
    check::text_becomes(&nav, "Containers", Duration::from_secs(5)).await;

    find::by_testid(c, "lang-switch")
        .await
        .select_by_value("zh-CN")
        .await
        .unwrap();
    check::text_becomes(&nav, "容器", Duration::from_secs(5)).await;
    let lang = c
        .execute("return document.documentElement.lang;", vec![])
        .await
        .unwrap();
    assert_eq!(lang, serde_json::json!("zh-CN"));
    // The choice survives a reload.
    c.refresh().await.unwrap();
    let nav = find::by_testid(c, "nav-containers").await;
    check::text_becomes(&nav, "容器", Duration::from_secs(5)).await;

    let theme = "return document.documentElement.getAttribute('data-theme');";
    let before = c.execute(theme, vec![]).await.unwrap();
    find::by_testid(c, "theme-toggle")
        .await
        .click()
        .await
        .unwrap();
    let after = c.execute(theme, vec![]).await.unwrap();
    assert_ne!(before, after, "the theme changed");
    assert!(after == serde_json::json!("dark") || after == serde_json::json!("light"));
    check::screenshot(c, "containers-zh-theme").await;

    // A phone-width window: the navigation folds behind the menu button.
    c.set_window_size(375, 800).await.unwrap();
    let toggle = find::by_testid(c, "nav-toggle").await;
    assert!(
        toggle.is_displayed().await.unwrap(),
        "the menu button shows on a phone"
    );
    let width = c
        .execute("return document.documentElement.scrollWidth;", vec![])
        .await
        .unwrap();
    assert!(
        width.as_i64().unwrap() <= 400,
        "no sideways scrolling: {width}"
    );
    browser.close().await;
}

/// A share: anonymous → log in → back on the index; open a folder, open a file.
#[tokio::test]
async fn browse_a_share_open_a_folder_and_download_a_file() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("docs")).unwrap();
    std::fs::write(dir.path().join("docs/readme.txt"), "hello from a share\n").unwrap();
    std::fs::write(dir.path().join("top.txt"), "top\n").unwrap();
    let berth =
        Berth::start_with(&["--share".into(), format!("pub={}", dir.path().display())]).await;
    let browser = Browser::start().await;
    let c = &browser.client;

    // Not logged in: the index sends us to log in, and the login brings us back.
    c.goto(&berth.url("/files/pub/")).await.unwrap();
    find::by_testid(c, "login-username")
        .await
        .send_keys("admin")
        .await
        .unwrap();
    find::by_testid(c, "login-password")
        .await
        .send_keys(e2e::berth::ADMIN_PASSWORD)
        .await
        .unwrap();
    find::by_testid(c, "login-submit")
        .await
        .click()
        .await
        .unwrap();
    find::by_testid(c, "crumbs").await;
    assert!(c
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/files/pub/"));

    // Open the folder, then the file.
    let css = "a[href=\"/files/pub/docs/\"]";
    c.find(fantoccini::Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let file = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(fantoccini::Locator::Css(
            "a[href=\"/files/pub/docs/readme.txt\"]",
        ))
        .await
        .expect("the file in the folder's index");
    assert_eq!(c.current_url().await.unwrap().path(), "/files/pub/docs/");
    file.click().await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let body = c
            .find(fantoccini::Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap_or_default();
        if body.contains("hello from a share") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the file's text never showed: {body:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // From the app: the shares page lists it and links to its index.
    c.goto(&berth.url("/shares")).await.unwrap();
    let row = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(fantoccini::Locator::Css(
            "[data-testid=\"share-row\"][data-name=\"pub\"]",
        ))
        .await
        .expect("the share is listed");
    row.find(fantoccini::Locator::Css(&find::testid("open-index")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(fantoccini::Locator::Css("a[href=\"/files/pub/top.txt\"]"))
        .await
        .expect("the index opened from the app");
    browser.close().await;
}

/// A volume: browse it, upload a file with the file picker, make a folder, open it.
#[tokio::test]
async fn browse_a_volume_and_upload_a_file() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let vol = unique("e2e-vol");
    let mountpoint = std::path::PathBuf::from(docker::volume_create(&vol));
    std::fs::write(mountpoint.join("seed.txt"), "seed\n").unwrap();
    let local = tempfile::tempdir().unwrap();
    let upload = local.path().join("from-browser.txt");
    std::fs::write(&upload, "uploaded through chromium\n").unwrap();

    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/shares")).await.unwrap();
    find::by_testid(c, "volume-name")
        .await
        .send_keys(&vol)
        .await
        .unwrap();
    find::by_testid(c, "open-volume")
        .await
        .click()
        .await
        .unwrap();
    let row = |name: &str| format!("[data-testid=\"file-row\"][data-name=\"{name}\"]");
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(fantoccini::Locator::Css(&row("seed.txt")))
        .await
        .expect("the volume's file is listed");

    find::by_testid(c, "upload-input")
        .await
        .send_keys(&upload.display().to_string())
        .await
        .expect("choose a file");
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(fantoccini::Locator::Css(&row("from-browser.txt")))
        .await
        .expect("the uploaded file appears");
    assert_eq!(
        std::fs::read_to_string(mountpoint.join("from-browser.txt")).unwrap(),
        "uploaded through chromium\n"
    );

    find::by_testid(c, "new-folder-name")
        .await
        .send_keys("made-here")
        .await
        .unwrap();
    find::by_testid(c, "new-folder")
        .await
        .click()
        .await
        .unwrap();
    let folder = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(fantoccini::Locator::Css(&row("made-here")))
        .await
        .expect("the new folder appears");
    assert!(mountpoint.join("made-here").is_dir());
    folder
        .find(fantoccini::Locator::Css(&find::testid("file-dir")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let current = find::by_testid(c, "crumb-current").await;
    check::text_becomes(&current, "made-here", Duration::from_secs(10)).await;
    find::by_testid(c, "empty-folder").await;

    browser.close().await;
    docker::volume_remove(&vol);
}

/// Wait until `js` (returning a value) satisfies `ok`; returns that value.
async fn wait_js(
    c: &fantoccini::Client,
    js: &str,
    within: Duration,
    ok: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = std::time::Instant::now() + within;
    let mut last = serde_json::Value::Null;
    while std::time::Instant::now() < deadline {
        last = c.execute(js, vec![]).await.unwrap_or_default();
        if ok(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{js} never satisfied; last {last}");
}

#[tokio::test]
async fn create_a_container_with_the_form_and_watch_its_logs_grow() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let name = unique("e2e-noisy");
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/containers")).await.unwrap();
    find::by_testid(c, "new-container")
        .await
        .click()
        .await
        .unwrap();
    find::by_testid(c, "create-page").await;

    let image =
        std::env::var("BERTH_TEST_IMAGE").unwrap_or_else(|_| "berth-test/busybox:latest".into());
    find::by_testid(c, "create-image")
        .await
        .send_keys(&image)
        .await
        .unwrap();
    find::by_testid(c, "create-name")
        .await
        .send_keys(&name)
        .await
        .unwrap();
    let script = "sh -c 'echo \"<b>not-html</b>\"; i=0; while true; do echo noisy-$i; i=$((i+1)); sleep 0.02; done'";
    find::by_testid(c, "create-cmd")
        .await
        .send_keys(script)
        .await
        .unwrap();
    find::by_testid(c, "create-more")
        .await
        .click()
        .await
        .unwrap();
    find::by_testid(c, "create-labels")
        .await
        .send_keys("berth-test=1")
        .await
        .unwrap();
    // The command line follows the form.
    let preview = find::by_testid(c, "create-preview").await;
    check::text_becomes_with(
        &preview,
        |t| t.starts_with("docker run -d --name ") && t.contains(&name),
        Duration::from_secs(5),
    )
    .await;
    find::by_testid(c, "create-submit")
        .await
        .click()
        .await
        .unwrap();

    // The new container's page opens on its logs, and they keep coming.
    find::by_testid(c, "logs-view").await;
    let count_js = "const el = document.querySelector('[data-testid=logs-count]'); return el ? Number(el.textContent) : 0;";
    let first = wait_js(c, count_js, Duration::from_secs(15), |v| {
        v.as_u64().unwrap_or(0) > 20
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let later = c.execute(count_js, vec![]).await.unwrap();
    assert!(
        later.as_u64() > first.as_u64(),
        "the logs grew: {first} → {later}"
    );
    let lines = wait_js(
        c,
        "return document.querySelectorAll('[data-testid=log-line]').length;",
        Duration::from_secs(5),
        |v| v.as_u64().unwrap_or(0) > 0,
    )
    .await;
    assert!(
        lines.as_u64().unwrap() <= 1000,
        "a bounded window of lines in the DOM"
    );
    assert_eq!(docker::state(&name), "running", "the daemon runs it");

    // A line that looks like HTML is shown as text, never parsed.
    let text = c
        .execute(
            "return [document.querySelector('[data-testid=log-lines]').innerText, document.querySelectorAll('[data-testid=log-lines] b').length];",
            vec![],
        )
        .await
        .unwrap();
    if text[0].as_str().unwrap_or("").contains("not-html") {
        assert!(
            text[0].as_str().unwrap().contains("<b>not-html</b>"),
            "{text}"
        );
    }
    assert_eq!(text[1], 0, "no <b> element was made from a log line");

    browser.close().await;
    docker::remove(&name);
}

#[tokio::test]
async fn type_a_command_into_the_terminal_and_see_its_output() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let name = unique("e2e-term");
    docker::run_idle(&name);
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url(&format!("/containers/{name}?tab=terminal")))
        .await
        .unwrap();
    find::by_testid(c, "terminal-tab").await;
    find::by_testid(c, "term-open").await.click().await.unwrap();
    let input = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(fantoccini::Locator::Css(".xterm-helper-textarea"))
        .await
        .expect("xterm.js is loaded and draws a terminal");
    // Wait for the shell's prompt before typing.
    wait_js(
        c,
        "const t = document.querySelector('.xterm-rows'); return t ? t.textContent : '';",
        Duration::from_secs(15),
        |v| {
            v.as_str()
                .is_some_and(|t| t.contains('#') || t.contains('$'))
        },
    )
    .await;
    input
        .send_keys("echo $((6*7))-from-the-browser\u{E007}")
        .await
        .unwrap();
    wait_js(
        c,
        "return document.querySelector('.xterm-rows').textContent;",
        Duration::from_secs(15),
        |v| {
            v.as_str()
                .is_some_and(|t| t.contains("42-from-the-browser"))
        },
    )
    .await;

    browser.close().await;
    docker::remove(&name);
}

/// Wait until `css` matches an element whose attribute `attr` is `want`.
async fn wait_attr(c: &fantoccini::Client, css: &str, attr: &str, want: &str, within: Duration) {
    let deadline = std::time::Instant::now() + within;
    let mut last = None;
    while std::time::Instant::now() < deadline {
        if let Ok(el) = c.find(fantoccini::Locator::Css(css)).await {
            last = el.attr(attr).await.ok().flatten();
            if last.as_deref() == Some(want) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} [{attr}] expected {want:?}, last {last:?}");
}

#[tokio::test]
async fn pull_from_a_local_registry_shows_per_layer_progress() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let registry = e2e::registry::Registry::start().await;
    // An image with a layer of its own (3 MB of noise), pushed and then removed here, so
    // the pull really downloads it.
    let image = format!("{}/e2e/{}:1", registry.host(), unique("pull"));
    let base =
        std::env::var("BERTH_TEST_IMAGE").unwrap_or_else(|_| "berth-test/busybox:latest".into());
    docker::build(
        &image,
        &format!(
            "FROM {base}\nLABEL berth-e2e=pull\nRUN head -c 3000000 /dev/urandom > /noise-{}\n",
            unique("n")
        ),
    );
    docker::push(&image);
    docker::remove_image(&image);
    assert!(!docker::has_image(&image));

    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/images")).await.unwrap();
    find::by_testid(c, "images-page").await;

    // Two pulls at once: the real one, and one from a registry that does not answer.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for name in [image.clone(), format!("127.0.0.1:{dead}/e2e/none:1")] {
        let input = find::by_testid(c, "pull-image").await;
        input.send_keys(&name).await.unwrap();
        find::by_testid(c, "pull-submit")
            .await
            .click()
            .await
            .unwrap();
    }
    let card = format!("[data-testid=\"task\"][data-title=\"{image}\"]");
    // A progress bar per layer shows up while it runs, and the card ends done.
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(fantoccini::Locator::Css(&format!(
            "{card} [data-testid=\"layer-progress\"]"
        )))
        .await
        .expect("a per-layer progress bar");
    wait_attr(c, &card, "data-state", "done", Duration::from_secs(60)).await;
    let statuses = c
        .find_all(fantoccini::Locator::Css(&format!(
            "{card} [data-testid=\"layer-status\"]"
        )))
        .await
        .unwrap();
    let mut texts = Vec::new();
    for s in statuses {
        texts.push(s.text().await.unwrap());
    }
    assert!(
        texts.iter().any(|t| t.contains("Pull complete")),
        "a layer was downloaded: {texts:?}"
    );
    let bars = c
        .find_all(fantoccini::Locator::Css(&format!("{card} progress")))
        .await
        .unwrap();
    let mut full = 0;
    for b in bars {
        if b.attr("value").await.unwrap().as_deref() == Some("100") {
            full += 1;
        }
    }
    assert!(full >= 1, "finished layers show full bars");
    assert!(docker::has_image(&image), "the daemon has it now");

    // The other pull failed, and says why.
    let dead_card = format!("[data-testid=\"task\"][data-title=\"127.0.0.1:{dead}/e2e/none:1\"]");
    wait_attr(
        c,
        &dead_card,
        "data-state",
        "failed",
        Duration::from_secs(30),
    )
    .await;
    let err = c
        .find(fantoccini::Locator::Css(&format!(
            "{dead_card} [data-testid=\"task-error\"]"
        )))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(err.contains("does not answer"), "{err}");

    browser.close().await;
    docker::remove_image(&image);
}

#[tokio::test]
async fn build_from_the_editor_streams_its_output() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    let tag = format!("{}:e2e", unique("e2e-build"));
    let marker = unique("marker");
    let base =
        std::env::var("BERTH_TEST_IMAGE").unwrap_or_else(|_| "berth-test/busybox:latest".into());

    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/images/build")).await.unwrap();
    let editor = find::by_testid(c, "dockerfile-editor").await;
    editor.clear().await.unwrap();
    editor
        .send_keys(&format!(
            "FROM {base}\nRUN echo {marker}-step-one && seq 1 300\nRUN sleep 3 && echo {marker}-step-two\n"
        ))
        .await
        .unwrap();
    find::by_testid(c, "build-tags")
        .await
        .send_keys(&tag)
        .await
        .unwrap();
    find::by_testid(c, "build-forcerm")
        .await
        .click()
        .await
        .unwrap();
    find::by_testid(c, "build-submit")
        .await
        .click()
        .await
        .unwrap();

    // The first step's output is on screen while the build still runs.
    let output = find::by_testid(c, "build-output").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut seen_running = false;
    loop {
        let text = output.text().await.unwrap_or_default();
        let state = find::by_testid(c, "build-result")
            .await
            .attr("data-state")
            .await
            .unwrap()
            .unwrap_or_default();
        if text.contains("\n300") && state == "running" && !seen_running {
            seen_running = true;
            // The output is on screen (not below the fold) and follows its end.
            let pane = c
                .execute(
                    "const e = document.querySelector('[data-testid=build-output]'); const r = e.getBoundingClientRect(); return [r.top < window.innerHeight && r.bottom > 0, e.scrollHeight - e.scrollTop - e.clientHeight, e.scrollHeight > e.clientHeight];",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(pane[0], true, "the output pane is in view: {pane}");
            wait_js(
                c,
                "const e = document.querySelector('[data-testid=build-output]'); return e.scrollHeight <= e.clientHeight || e.scrollHeight - e.scrollTop - e.clientHeight < 41;",
                Duration::from_secs(3),
                |v| v == &serde_json::Value::Bool(true),
            )
            .await;
        }
        if state == "done" {
            assert!(text.contains(&format!("{marker}-step-two")), "{text}");
            break;
        }
        if state == "failed" {
            let why = find::by_testid(c, "build-error")
                .await
                .text()
                .await
                .unwrap();
            panic!("the build failed: {why}\n{text}");
        }
        assert!(std::time::Instant::now() < deadline, "no result: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen_running, "output streamed before the build ended");
    assert!(docker::has_image(&tag));
    // The finished image links to its page.
    find::by_testid(c, "build-image-link")
        .await
        .click()
        .await
        .unwrap();
    let title = find::by_testid(c, "image-title").await;
    check::text_becomes(&title, &tag, Duration::from_secs(10)).await;

    // A failing step shows its error.
    c.goto(&berth.url("/images/build")).await.unwrap();
    let editor = find::by_testid(c, "dockerfile-editor").await;
    editor.clear().await.unwrap();
    editor
        .send_keys(&format!("FROM {base}\nRUN exit 7\n"))
        .await
        .unwrap();
    find::by_testid(c, "build-submit")
        .await
        .click()
        .await
        .unwrap();
    let err = find::by_testid(c, "build-error").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let text = err.text().await.unwrap_or_default();
        if text.contains("non-zero code: 7") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    browser.close().await;
    docker::remove_image(&tag);
}

#[tokio::test]
async fn commit_a_container_from_its_page() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let name = unique("e2e-commit");
    docker::run_idle(&name);
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    let repo = unique("e2e-committed");

    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url(&format!("/containers/{name}")))
        .await
        .unwrap();
    find::by_testid(c, "container-detail").await;
    // The form sits in a closed <details>: open it.
    c.execute(
        "document.querySelector('[data-testid=\"commit-form\"]').closest('details').open = true;",
        vec![],
    )
    .await
    .unwrap();
    find::by_testid(c, "commit-repo")
        .await
        .send_keys(&repo)
        .await
        .unwrap();
    find::by_testid(c, "commit-tag")
        .await
        .send_keys("v1")
        .await
        .unwrap();
    find::by_testid(c, "commit-changes")
        .await
        .send_keys("ENV FROM_E2E=yes")
        .await
        .unwrap();
    find::by_testid(c, "commit-submit")
        .await
        .click()
        .await
        .unwrap();
    let result = find::by_testid(c, "commit-result").await;
    assert!(result.text().await.unwrap().contains("sha256:"));
    assert!(docker::has_image(&format!("{repo}:v1")));

    browser.close().await;
    docker::remove(&name);
    docker::remove_image(&format!("{repo}:v1"));
}

#[tokio::test]
async fn write_a_compose_file_in_the_editor_deploy_it_and_see_its_services_running() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let name = unique("e2e-stack");
    let image =
        std::env::var("BERTH_TEST_IMAGE").unwrap_or_else(|_| "berth-test/busybox:latest".into());
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;

    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/stacks")).await.unwrap();
    find::by_testid(c, "new-stack").await.click().await.unwrap();
    find::by_testid(c, "stack-name")
        .await
        .send_keys(&name)
        .await
        .unwrap();
    let editor = find::by_testid(c, "compose-editor").await;
    editor.clear().await.unwrap();
    // Typed as a person types it, line by line.
    let compose = format!(
        "services:\n  web:\n    image: {image}\n    command: [\"sh\", \"-c\", \"echo hello-from-web; while true; do sleep 1; done\"]\n    depends_on: [cache]\n  cache:\n    image: {image}\n    command: sh -c \"while true; do sleep 1; done\"\n"
    );
    editor.send_keys(&compose).await.unwrap();
    // The editor checks the file as it is typed: a valid file shows no problems.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let problems = c
        .find_all(fantoccini::Locator::Css(&find::testid("compose-problem")))
        .await
        .unwrap();
    assert!(problems.is_empty(), "no problems for a valid file");
    check::screenshot(c, "stack-editor").await;
    find::by_testid(c, "deploy").await.click().await.unwrap();

    // The stack's page: both services running.
    find::by_testid(c, "stack-page").await;
    for service in ["web", "cache"] {
        let css = format!("[data-testid=\"service-row\"][data-service=\"{service}\"]");
        let row = c
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(fantoccini::Locator::Css(&css))
            .await
            .unwrap_or_else(|e| panic!("no row for service {service}: {e}"));
        let badge = row
            .find(fantoccini::Locator::Css(&find::testid("state-badge")))
            .await
            .unwrap();
        check::text_becomes(&badge, "running", Duration::from_secs(10)).await;
    }
    assert_eq!(
        docker::state(&format!("{name}_web_1")),
        "running",
        "the daemon agrees"
    );
    // The merged logs show the web service's greeting.
    let logs = find::by_testid(c, "stack-logs").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let text = logs.text().await.unwrap_or_default();
        if text.contains("hello-from-web") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no greeting in the logs: {text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    check::screenshot(c, "stack-running").await;
    // The merged logs are searchable: a line that does not match goes, the match is marked.
    find::by_testid(c, "stack-logs-search")
        .await
        .send_keys("hello-from")
        .await
        .unwrap();
    wait_js(
        c,
        "return document.querySelectorAll('[data-testid=stack-logs] mark').length;",
        Duration::from_secs(5),
        |v| v.as_u64() >= Some(1),
    )
    .await;

    // Stop from the list: the row is busy until the daemon is done (the services ignore
    // SIGTERM, so that takes the stop timeout), then shows the new state.
    c.goto(&berth.url("/stacks")).await.unwrap();
    let row_css = format!("[data-testid=\"stack-row\"][data-name=\"{name}\"]");
    let row = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(fantoccini::Locator::Css(&row_css))
        .await
        .unwrap();
    row.find(fantoccini::Locator::Css(&find::testid("stack-stop")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let busy_js = format!("const r = document.querySelector('{}'); return r ? [r.dataset.busy, !!r.querySelector('[data-testid=stack-busy]'), r.querySelector('[data-testid=stack-stop]').disabled] : null;", row_css.replace('\'', "\\'"));
    let seen = wait_js(c, &busy_js, Duration::from_secs(5), |v| v[0] == "true").await;
    assert_eq!(
        seen,
        serde_json::json!(["true", true, true]),
        "busy, with its buttons off"
    );
    wait_js(c, &busy_js, Duration::from_secs(60), |v| v[0] == "false").await;
    assert_ne!(
        docker::state(&format!("{name}_web_1")),
        "running",
        "stopped"
    );

    browser.close().await;
    docker::remove_project(&name);
}

#[tokio::test]
async fn the_account_page_gives_a_docker_cli_its_token_and_the_cli_works_through_berth() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/account")).await.unwrap();
    find::by_testid(c, "token-name")
        .await
        .send_keys("docker cli")
        .await
        .unwrap();
    find::by_testid(c, "token-create")
        .await
        .click()
        .await
        .unwrap();
    find::by_testid(c, "token-fresh").await;
    // The snippet now carries the token just made; paste it where the CLI reads it.
    let config = find::by_testid(c, "docker-config")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !config.contains("Bearer TOKEN"),
        "the fresh token is in the snippet: {config}"
    );
    let context = find::by_testid(c, "docker-context")
        .await
        .text()
        .await
        .unwrap();
    check::screenshot(c, "account-docker-cli").await;
    browser.close().await;
    let host = context
        .split_whitespace()
        .find_map(|w| w.strip_prefix("host="))
        .expect("a docker context line with host=")
        .to_owned();
    let dir = std::env::temp_dir().join(unique("docker-config"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), config.trim()).unwrap();
    let out = std::process::Command::new("/usr/bin/docker")
        .env("DOCKER_HOST", &host)
        .env("DOCKER_CONFIG", &dir)
        .args(["ps", "--format", "{{.ID}}"])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "docker ps through berth with the page's snippet: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The namespace hosts of `cargo xtask hosts` (issue 14), as its hosts.json describes them.
fn test_hosts() -> serde_json::Value {
    let file = std::env::var("BERTH_TEST_HOSTS").expect(
        "BERTH_TEST_HOSTS is not set: run under `cargo xtask test`, or `cargo xtask hosts 2`",
    );
    serde_json::from_str(&std::fs::read_to_string(&file).expect("hosts.json"))
        .expect("hosts.json is JSON")
}

/// Adds test host `index` as environment `name` over mutual TLS, as an admin would with the
/// form; returns the admin's API client (logged in).
async fn add_tls_environment(
    berth: &Berth,
    hosts: &serde_json::Value,
    name: &str,
    index: usize,
) -> reqwest::Client {
    let pem = |what: &str| {
        std::fs::read_to_string(hosts["pki"][what].as_str().expect("a pki path"))
            .expect("a pki file")
    };
    let api = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = api
        .post(berth.url("/api/auth/login"))
        .json(&serde_json::json!({"username": "admin", "password": e2e::berth::ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = api
        .post(berth.url("/api/environments"))
        .json(&serde_json::json!({
            "name": name,
            "url": hosts["hosts"][index]["tcp"],
            "tls": {"ca": pem("ca"), "cert": pem("cert"), "key": pem("key")},
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    api
}

/// Issue 14: an admin edits a host in its form (a new name and role limits, the stored TLS
/// keys kept because the key fields stay empty), is asked before removing it, and reads the
/// page in Chinese.
#[tokio::test]
async fn an_admin_edits_an_environment_and_is_asked_before_removing_it() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let hosts = test_hosts();
    let h2 = &hosts["hosts"][1];
    let berth = Berth::start().await;
    let api = add_tls_environment(&berth, &hosts, "edit-me", 1).await;

    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/environments")).await.unwrap();
    let status = "const r = document.querySelector('[data-testid=env-row][data-name=\"edit-me\"] [data-testid=env-status]'); return r ? r.textContent : '';";
    wait_js(c, status, Duration::from_secs(20), |v| {
        v.as_str() == Some("up")
    })
    .await;
    c.find(fantoccini::Locator::Css(
        "[data-testid=env-row][data-name=\"edit-me\"] [data-testid=env-edit]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    // The form starts from what is stored.
    let url_field = find::by_testid(c, "env-url").await;
    assert_eq!(
        url_field.prop("value").await.unwrap().as_deref(),
        h2["tcp"].as_str(),
        "the edit form shows the stored URL"
    );
    let name_field = find::by_testid(c, "env-name").await;
    name_field.clear().await.unwrap();
    name_field.send_keys("edited").await.unwrap();
    find::by_testid(c, "env-roles")
        .await
        .send_keys("*=viewer")
        .await
        .unwrap();
    find::by_testid(c, "env-save").await.click().await.unwrap();
    // The row has its new name, and the host stays up with the keys it had.
    let edited = "const r = document.querySelector('[data-testid=env-row][data-name=\"edited\"] [data-testid=env-status]'); return r ? r.textContent : '';";
    wait_js(c, edited, Duration::from_secs(20), |v| {
        v.as_str() == Some("up")
    })
    .await;
    let list: serde_json::Value = api
        .get(berth.url("/api/environments"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let env = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "edited")
        .unwrap_or_else(|| panic!("renamed: {list}"));
    assert_eq!(env["roles"], serde_json::json!({"*": "viewer"}), "{env}");
    assert_eq!(env["tls"], true, "the stored keys were kept: {env}");
    assert!(
        !list.to_string().contains("edit-me"),
        "the old name is gone: {list}"
    );

    // Removing asks first, naming the host; Cancel keeps it.
    let remove = "[data-testid=env-row][data-name=\"edited\"] [data-testid=env-remove]";
    c.find(fantoccini::Locator::Css(remove))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let question = find::by_testid(c, "confirm-question").await;
    let text = question.text().await.unwrap();
    assert!(
        text.contains("edited"),
        "the question names the host: {text}"
    );
    find::by_testid(c, "confirm-no")
        .await
        .click()
        .await
        .unwrap();
    c.find(fantoccini::Locator::Css(
        "[data-testid=env-row][data-name=\"edited\"]",
    ))
    .await
    .expect("Cancel keeps the host");

    // In Chinese, the page speaks Chinese.
    find::by_testid(c, "lang-switch")
        .await
        .select_by_value("zh-CN")
        .await
        .unwrap();
    wait_js(c, edited, Duration::from_secs(10), |v| {
        v.as_str() == Some("在线")
    })
    .await;
    let nav = find::by_testid(c, "nav-environments").await;
    check::text_becomes(&nav, "环境", Duration::from_secs(5)).await;
    let edit_label = c
        .find(fantoccini::Locator::Css(
            "[data-testid=env-row][data-name=\"edited\"] [data-testid=env-edit]",
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(edit_label, "编辑");

    // Confirmed, it goes.
    c.find(fantoccini::Locator::Css(remove))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    find::by_testid(c, "confirm-yes")
        .await
        .click()
        .await
        .unwrap();
    wait_js(
        c,
        "return !!document.querySelector('[data-testid=env-row][data-name=\"edited\"]');",
        Duration::from_secs(10),
        |v| v.as_bool() == Some(false),
    )
    .await;
    let list: serde_json::Value = api
        .get(berth.url("/api/environments"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!list.to_string().contains("edited"), "{list}");
    browser.close().await;
}

/// Issue 14: with a second host (`cargo xtask hosts`, named by BERTH_TEST_HOSTS), the
/// switcher in the top bar moves the whole UI to it: its containers, and a terminal in one.
#[tokio::test]
async fn switch_environments_and_open_a_terminal_on_the_second_host() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let hosts = test_hosts();
    let h1 = &hosts["hosts"][0];
    // A container on the second host only, made with its own socket.
    let name = unique("e2e-env-term");
    let image =
        std::env::var("BERTH_TEST_IMAGE").unwrap_or_else(|_| "berth-test/busybox:latest".into());
    let out = std::process::Command::new("docker")
        .args(["-H", h1["unix"].as_str().expect("unix")])
        .args([
            "run",
            "-d",
            "--name",
            &name,
            "--label",
            "berth-test=1",
            &image,
        ])
        .args([
            "sh",
            "-c",
            "trap 'exit 0' TERM; while true; do sleep 1; done",
        ])
        .output()
        .expect("docker run on the second host");
    assert!(out.status.success(), "{out:?}");

    let berth = Berth::start().await;
    // The environment, added through the API as an admin would with the form.
    add_tls_environment(&berth, &hosts, "second", 0).await;

    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    // The home page shows the hosts.
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(fantoccini::Locator::Css(
            "[data-testid=host-card][data-name=second]",
        ))
        .await
        .expect("the home page shows the second host");
    c.goto(&berth.url("/environments")).await.unwrap();
    // The page of hosts shows both, the second one up.
    wait_js(
        c,
        "const r = document.querySelector('[data-testid=env-row][data-name=second] [data-testid=env-status]'); return r ? r.textContent : '';",
        Duration::from_secs(20),
        |v| v.as_str() == Some("up"),
    )
    .await;
    c.goto(&berth.url("/containers")).await.unwrap();
    let switcher = find::by_testid(c, "env-switcher").await;
    switcher
        .select_by_value("second")
        .await
        .expect("choose the second host");
    // The page reloads on the second host: its container is listed, and the URL says so.
    find::container_row(c, &name).await;
    let url = c.current_url().await.unwrap();
    assert!(url.as_str().contains("env=second"), "{url}");

    // The choice is remembered: a link without ?env= stays on the second host.
    c.goto(&berth.url(&format!("/containers/{name}?tab=terminal")))
        .await
        .unwrap();
    find::by_testid(c, "terminal-tab").await;
    find::by_testid(c, "term-open").await.click().await.unwrap();
    let input = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(fantoccini::Locator::Css(".xterm-helper-textarea"))
        .await
        .expect("xterm.js draws a terminal");
    wait_js(
        c,
        "const t = document.querySelector('.xterm-rows'); return t ? t.textContent : '';",
        Duration::from_secs(15),
        |v| {
            v.as_str()
                .is_some_and(|t| t.contains('#') || t.contains('$'))
        },
    )
    .await;
    input
        .send_keys("hostname; echo $((6*7))-on-the-second-host\u{E007}")
        .await
        .unwrap();
    wait_js(
        c,
        "return document.querySelector('.xterm-rows').textContent;",
        Duration::from_secs(15),
        |v| {
            v.as_str()
                .is_some_and(|t| t.contains("42-on-the-second-host"))
        },
    )
    .await;

    browser.close().await;
    let _ = std::process::Command::new("docker")
        .args(["-H", h1["unix"].as_str().expect("unix")])
        .args(["rm", "-f", &name])
        .output();
}

#[tokio::test]
async fn make_a_webhook_call_it_and_read_the_jobs_log() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let name = unique("e2e-hook");
    docker::run_idle(&name);
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;

    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/webhooks")).await.unwrap();
    find::by_testid(c, "webhooks-page").await;
    find::by_testid(c, "webhook-kind")
        .await
        .select_by_value("container")
        .await
        .unwrap();
    find::by_testid(c, "webhook-target")
        .await
        .send_keys(&name)
        .await
        .unwrap();
    find::by_testid(c, "webhook-create")
        .await
        .click()
        .await
        .unwrap();
    // The URL and the secret, shown once.
    let url = find::by_testid(c, "webhook-url")
        .await
        .text()
        .await
        .unwrap();
    let secret = find::by_testid(c, "webhook-secret")
        .await
        .text()
        .await
        .unwrap();
    assert!(url.contains("/api/hooks/wh_"), "{url}");
    find::by_testid(c, "webhook-row").await;
    check::screenshot(c, "webhook-made").await;

    // A CI job calls it, and waits for the job's end with the same secret.
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}?pull=false&settle=1", url.trim()))
        .header("X-Berth-Secret", secret.trim())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let started: serde_json::Value = r.json().await.unwrap();
    let job_url = started["url"].as_str().unwrap().to_owned();
    let ended: serde_json::Value = http
        .get(format!("{job_url}?wait=60"))
        .header("X-Berth-Secret", secret.trim())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ended["state"], "succeeded", "{ended:#}");

    // The page shows the call's job and, on a click, its log.
    find::by_testid(c, "jobs-refresh")
        .await
        .click()
        .await
        .unwrap();
    let row = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(fantoccini::Locator::Css(
            "[data-testid=\"job-row\"][data-state=\"succeeded\"]",
        ))
        .await
        .expect("the job is listed as succeeded");
    row.find(fantoccini::Locator::Css("button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let log = find::by_testid(c, "job-log").await;
    check::text_becomes_with(
        &log,
        |t| t.contains("already runs"),
        Duration::from_secs(10),
    )
    .await;
    check::screenshot(c, "webhook-job-log").await;

    browser.close().await;
    docker::remove(&name);
}

#[tokio::test]
async fn a_new_image_under_the_same_tag_shows_update_available_and_updates_from_the_list() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let registry = e2e::registry::Registry::start().await;
    let base =
        std::env::var("BERTH_TEST_IMAGE").unwrap_or_else(|_| "berth-test/busybox:latest".into());
    let image = format!("{}/e2e/{}:latest", registry.host(), unique("upd"));
    docker::build(&image, &format!("FROM {base}\nLABEL e2e.version=1\n"));
    docker::push(&image);
    let name = unique("e2e-upd");
    docker::run_idle_image(&name, &image, &[]);
    let old = docker::image_of(&name);
    let _cleanup = Cleanup(vec![name.clone()], vec![image.clone(), old.clone()]);
    docker::build(&image, &format!("FROM {base}\nLABEL e2e.version=2\n"));
    docker::push(&image);

    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/containers")).await.unwrap();
    let row = find::container_row(c, &name).await;
    let badge = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Css(&format!(
            "[data-testid=\"container-row\"][data-name=\"{name}\"] [data-testid=\"update-badge\"]"
        )))
        .await
        .expect("the row says an update is available");
    check::screenshot(c, "update-available").await;
    assert!(
        badge.is_displayed().await.unwrap(),
        "the badge is on screen"
    );
    row.find(fantoccini::Locator::Css(&find::testid("update-container")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The update job recreates the container on the new image.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        // Done when the new one runs and the old one, kept for a roll back until the new
        // one passed its health check, is gone.
        let now = docker::image_of(&name);
        let parked = docker::names_like(&format!("{name}-berth-old"));
        if !now.is_empty() && now != old && docker::state(&name) == "running" && parked.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{name} was not updated"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    browser.close().await;
}

/// The container's own page says an update is available, Update runs the job, and the
/// page says how it ended (issue 16's marks on pages, not only in lists).
#[tokio::test]
async fn a_containers_page_shows_its_update_and_updates_it_saying_how_it_ended() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let registry = e2e::registry::Registry::start().await;
    let base =
        std::env::var("BERTH_TEST_IMAGE").unwrap_or_else(|_| "berth-test/busybox:latest".into());
    let image = format!("{}/e2e/{}:latest", registry.host(), unique("updp"));
    docker::build(&image, &format!("FROM {base}\nLABEL e2e.version=1\n"));
    docker::push(&image);
    let name = unique("e2e-updp");
    docker::run_idle_image(&name, &image, &[]);
    let old = docker::image_of(&name);
    let _cleanup = Cleanup(vec![name.clone()], vec![image.clone(), old.clone()]);
    docker::build(&image, &format!("FROM {base}\nLABEL e2e.version=2\n"));
    docker::push(&image);

    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url(&format!("/containers/{name}")))
        .await
        .unwrap();
    let mark = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Css(&find::testid("update-available")))
        .await
        .expect("the page says an update is available");
    assert!(mark.text().await.unwrap().contains("update available"));
    c.find(fantoccini::Locator::Css(&find::testid("update-now")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let ended = c
        .wait()
        .at_most(Duration::from_secs(90))
        .for_element(fantoccini::Locator::Css(
            "[data-testid=update-done], [data-testid=update-failed]",
        ))
        .await;
    check::screenshot(c, "update-on-page-ended").await;
    let Ok(ended) = ended else {
        let body = c
            .find(fantoccini::Locator::Css("main"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap_or_default();
        panic!("the update's end is not shown; the page reads: {body}");
    };
    let text = ended.text().await.unwrap();
    assert_eq!(
        ended.attr("data-testid").await.unwrap().as_deref(),
        Some("update-done"),
        "{text}"
    );
    assert!(text.contains("new image"), "{text}");
    check::screenshot(c, "update-done-on-page").await;
    let now = docker::image_of(&name);
    assert!(!now.is_empty() && now != old, "{name} runs the new image");
    assert_eq!(docker::state(&name), "running");
    browser.close().await;
}

/// Containers and images a test made, removed when it ends, also on failure.
struct Cleanup(Vec<String>, Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &self.0 {
            for n in docker::names_like(c) {
                docker::remove(&n);
            }
        }
        for i in &self.1 {
            docker::remove_image(i);
            docker::remove_repository(i.rsplit_once(':').map(|(r, _)| r).unwrap_or(i));
        }
    }
}

/// A bare repository served by git-daemon on 127.0.0.1 (ended by pid on drop) and a work
/// tree to commit in.
struct GitRepo {
    _tmp: tempfile::TempDir,
    work: std::path::PathBuf,
    bare: String,
    daemon: std::process::Child,
    url: String,
}

impl Drop for GitRepo {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

impl GitRepo {
    fn start() -> GitRepo {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("srv");
        std::fs::create_dir(&base).unwrap();
        git(&base, &["init", "--bare", "-q", "app.git"]);
        let work = tmp.path().join("work");
        std::fs::create_dir(&work).unwrap();
        git(&work, &["init", "-q"]);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let exec = git(tmp.path(), &["--exec-path"]);
        let daemon = std::process::Command::new(std::path::Path::new(&exec).join("git-daemon"))
            .args([
                "--reuseaddr",
                "--export-all",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
                &format!("--base-path={}", base.display()),
            ])
            .spawn()
            .expect("git-daemon");
        GitRepo {
            bare: base.join("app.git").to_string_lossy().into_owned(),
            work,
            daemon,
            url: format!("git://127.0.0.1:{port}/app.git"),
            _tmp: tmp,
        }
    }

    fn push(&self, compose: &str, message: &str) -> String {
        std::fs::write(self.work.join("docker-compose.yml"), compose).unwrap();
        git(&self.work, &["add", "."]);
        git(&self.work, &["commit", "-q", "-m", message]);
        git(&self.work, &["push", "-q", &self.bare, "main"]);
        git(&self.work, &["rev-parse", "HEAD"])
    }
}

/// The Git panel's commit starts with `commit`'s first ten digits (found afresh each time:
/// the panel re-renders when the stack is reloaded).
async fn commit_becomes(c: &fantoccini::Client, commit: &str, secs: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    let mut last = String::new();
    while std::time::Instant::now() < deadline {
        if let Ok(el) = c
            .find(fantoccini::Locator::Css(&find::testid("git-commit")))
            .await
        {
            last = el.text().await.unwrap_or_default();
            if last.starts_with(&commit[..10]) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the Git panel shows {last:?}, not commit {commit}");
}

#[tokio::test]
async fn make_a_stack_from_git_and_pull_a_new_commit_with_pull_now() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let name = unique("e2e-gitstacks");
    let image =
        std::env::var("BERTH_TEST_IMAGE").unwrap_or_else(|_| "berth-test/busybox:latest".into());
    let file = |greeting: &str| {
        format!(
            "services:\n  web:\n    image: {image}\n    command: [\"sh\", \"-c\", \"while true; do sleep 1; done\"]\n    environment:\n      GREETING: {greeting}\n"
        )
    };
    let repo = GitRepo::start();
    let first = repo.push(&file("one"), "first");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;

    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/stacks")).await.unwrap();
    find::by_testid(c, "new-stack").await.click().await.unwrap();
    find::by_testid(c, "stack-name")
        .await
        .send_keys(&name)
        .await
        .unwrap();
    find::by_testid(c, "source-git")
        .await
        .click()
        .await
        .unwrap();
    find::by_testid(c, "git-url")
        .await
        .send_keys(&repo.url)
        .await
        .unwrap();
    let poll = find::by_testid(c, "git-poll").await;
    poll.clear().await.unwrap();
    poll.send_keys("0").await.unwrap();
    check::screenshot(c, "git-stack-new").await;
    find::by_testid(c, "deploy").await.click().await.unwrap();

    // The stack page shows the deployed commit.
    find::by_testid(c, "stack-page").await;
    commit_becomes(c, &first, 30).await;
    assert_eq!(docker::state(&format!("{name}_web_1")), "running");

    // A new commit, deployed by "Pull now".
    let second = repo.push(&file("two"), "say two");
    find::by_testid(c, "git-pull").await.click().await.unwrap();
    commit_becomes(c, &second, 60).await;
    let job = find::by_testid(c, "git-job").await;
    assert_eq!(
        job.attr("data-state").await.unwrap().as_deref(),
        Some("succeeded")
    );
    let env = std::process::Command::new("docker")
        .args([
            "-H",
            &std::env::var("BERTH_TEST_DOCKER_HOST").unwrap_or_default(),
        ])
        .args([
            "inspect",
            "-f",
            "{{json .Config.Env}}",
            &format!("{name}_web_1"),
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&env.stdout).contains("GREETING=two"));
    check::screenshot(c, "git-stack-pulled").await;

    browser.close().await;
    docker::remove_project(&name);
}

/// A Git stack over HTTPS-style basic auth from the form (issue 16's credentials): a wrong
/// token is refused next to the form saying what is wrong, the right one deploys, and the
/// stack page names the kind of credentials and the user, never the token.
#[tokio::test]
async fn make_a_git_stack_with_a_token_from_the_form_and_see_a_wrong_one_refused() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    const TOKEN: &str = "e2e-git-token-7d1c";
    let name = unique("e2e-gitcreds");
    let image =
        std::env::var("BERTH_TEST_IMAGE").unwrap_or_else(|_| "berth-test/busybox:latest".into());
    let repo = GitRepo::start();
    let first = repo.push(
        &format!(
            "services:\n  web:\n    image: {image}\n    command: [\"sh\", \"-c\", \"while true; do sleep 1; done\"]\n"
        ),
        "first",
    );
    let srv = std::path::Path::new(&repo.bare)
        .parent()
        .unwrap()
        .to_path_buf();
    let url = e2e::gitserve::serve_http(srv, "ci", TOKEN);
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;

    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/stacks")).await.unwrap();
    find::by_testid(c, "new-stack").await.click().await.unwrap();
    find::by_testid(c, "stack-name")
        .await
        .send_keys(&name)
        .await
        .unwrap();
    find::by_testid(c, "source-git")
        .await
        .click()
        .await
        .unwrap();
    find::by_testid(c, "git-url")
        .await
        .send_keys(&url)
        .await
        .unwrap();
    let poll = find::by_testid(c, "git-poll").await;
    poll.clear().await.unwrap();
    poll.send_keys("0").await.unwrap();
    find::by_testid(c, "git-auth")
        .await
        .select_by_value("token")
        .await
        .unwrap();
    find::by_testid(c, "git-user")
        .await
        .send_keys("ci")
        .await
        .unwrap();
    let secret = find::by_testid(c, "git-secret").await;
    assert_eq!(
        secret.attr("type").await.unwrap().as_deref(),
        Some("password"),
        "the token is typed masked"
    );
    secret.send_keys("not-the-token").await.unwrap();
    find::by_testid(c, "deploy").await.click().await.unwrap();
    let refused = c
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(fantoccini::Locator::Css(&find::testid("stack-error")))
        .await
        .expect("a wrong token is refused on the form");
    let text = refused.text().await.unwrap();
    assert!(text.contains("credentials"), "{text}");
    check::screenshot(c, "git-creds-refused").await;

    // The form kept everything: only the token is typed again.
    let secret = find::by_testid(c, "git-secret").await;
    secret.clear().await.unwrap();
    secret.send_keys(TOKEN).await.unwrap();
    find::by_testid(c, "deploy").await.click().await.unwrap();
    find::by_testid(c, "stack-page").await;
    commit_becomes(c, &first, 60).await;
    let creds = find::by_testid(c, "git-credentials")
        .await
        .text()
        .await
        .unwrap();
    assert!(creds.contains("token") && creds.contains("ci"), "{creds}");
    let page = c.source().await.unwrap();
    assert!(!page.contains(TOKEN), "the token never comes back");
    assert_eq!(docker::state(&format!("{name}_web_1")), "running");
    check::screenshot(c, "git-creds-deployed").await;

    browser.close().await;
    docker::remove_project(&name);
}

/// Removes a container the test made, also when it fails.
struct RemoveOnDrop(String);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        docker::remove(&self.0);
    }
}

/// A template list served on 127.0.0.1 for the page's "add a source by URL".
async fn serve_once_per_request(body: String) -> (String, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/templates.json", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
        }
    });
    (url, task)
}

#[tokio::test]
async fn add_a_template_source_then_deploy_a_template_through_its_form_and_see_it_running() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let name = unique("e2e-templates");
    let _cleanup = RemoveOnDrop(name.clone());
    let image =
        std::env::var("BERTH_TEST_IMAGE").unwrap_or_else(|_| "berth-test/busybox:latest".into());
    let list = serde_json::json!({"version": "2", "templates": [{
        "type": 1, "title": "E2E idle box", "description": "busybox idling", "image": image,
        "command": "sh -c 'trap \"exit 0\" TERM; echo \"$GREETING\"; while true; do sleep 1; done'",
        "env": [{"name": "GREETING", "label": "Greeting"},
                {"name": "MODE", "label": "Mode", "select": [
                    {"text": "Fast", "value": "fast", "default": true}, {"text": "Slow", "value": "slow"}]}]
    }]})
    .to_string();
    let (url, server) = serve_once_per_request(list).await;
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;

    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/templates")).await.unwrap();
    // The built-ins are listed; the admin adds a Portainer list by its URL.
    find::by_testid(c, "template-card").await;
    find::by_testid(c, "source-url")
        .await
        .send_keys(&url)
        .await
        .unwrap();
    find::by_testid(c, "source-add")
        .await
        .click()
        .await
        .unwrap();
    find::by_testid(c, "source-row").await;
    // Search narrows the list to the new template; its form marks the required variable.
    find::by_testid(c, "template-search")
        .await
        .send_keys("E2E idle")
        .await
        .unwrap();
    let card = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(fantoccini::Locator::XPath(
            "//*[@data-testid='template-card'][.//h3[text()='E2E idle box']]",
        ))
        .await
        .unwrap();
    let cards = c
        .find_all(fantoccini::Locator::Css(&find::testid("template-card")))
        .await
        .unwrap();
    assert_eq!(cards.len(), 1, "search keeps only the match");
    card.find(fantoccini::Locator::Css(&find::testid("template-open")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let form = find::by_testid(c, "template-form").await;
    let text = form.text().await.unwrap();
    assert!(text.contains("Greeting *"), "required marked: {text}");
    find::by_testid(c, "template-name")
        .await
        .send_keys(&name)
        .await
        .unwrap();
    c.find(fantoccini::Locator::Css(
        "[data-testid=\"template-var\"][data-name=\"GREETING\"]",
    ))
    .await
    .unwrap()
    .send_keys("hello-from-template")
    .await
    .unwrap();
    check::screenshot(c, "template-form").await;
    find::by_testid(c, "template-deploy")
        .await
        .click()
        .await
        .unwrap();

    // The result links to the container, which runs with the form's value.
    find::by_testid(c, "template-done").await;
    find::by_testid(c, "template-result")
        .await
        .click()
        .await
        .unwrap();
    let title = find::by_testid(c, "detail-name").await;
    check::text_becomes(&title, &name, Duration::from_secs(10)).await;
    assert_eq!(docker::state(&name), "running", "the daemon agrees");
    check::screenshot(c, "template-deployed").await;

    browser.close().await;
    server.abort();
}

/// One page of every page group (frontend/src/lazy.rs), the containers list (in the main
/// module) first: (path, the nav link that leads there in the app, the page's test id).
const PAGE_GROUPS: [(&str, &str, &str); 7] = [
    ("/containers", "nav-containers", "containers-page"),
    ("/", "nav-dashboard", "dashboard-page"),
    ("/containers/new", "new-container", "create-page"),
    ("/stacks", "nav-stacks", "stacks-page"),
    ("/images", "nav-images", "images-page"),
    ("/volumes", "nav-volumes", "volumes-page"),
    ("/account", "nav-account", "account-page"),
];

/// Opens every page group cold in `c` (a fresh profile): each by its address (the app
/// starts, the session and the page's chunk load side by side), then each again through
/// the app's own links (a chunk loaded by a running app).
async fn visit_every_page_group(c: &fantoccini::Client, berth: &Berth, round: usize) {
    for (path, _, page) in PAGE_GROUPS {
        c.goto(&berth.url(path)).await.unwrap();
        find::by_testid(c, page).await;
        eprintln!("round {round}: {path} by address");
    }
    c.goto(&berth.url("/containers")).await.unwrap();
    find::by_testid(c, "containers-page").await;
    for (path, link, page) in PAGE_GROUPS.iter().skip(1).chain(PAGE_GROUPS.first()) {
        if *link == "new-container" {
            // Its link is on the containers list.
            find::by_testid(c, "nav-containers")
                .await
                .click()
                .await
                .unwrap();
            find::by_testid(c, "containers-page").await;
        }
        find::by_testid(c, link).await.click().await.unwrap();
        find::by_testid(c, page).await;
        eprintln!("round {round}: {path} in the app");
    }
}

#[tokio::test]
async fn every_page_group_appears_cold_ten_times_over() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let berth = Berth::start().await;
    for round in 1..=10 {
        // A fresh Chromium profile each round: nothing cached, no chunk loaded.
        let browser = Browser::start().await;
        let c = &browser.client;
        action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
        visit_every_page_group(c, &berth, round).await;
        browser.close().await;
    }
}

#[tokio::test]
async fn a_page_whose_chunk_fails_to_load_appears_after_a_retry() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    // Every chunk's first fetch answers 503: the loader retries by itself.
    let berth = Berth::start_with_env(&[], &[("BERTH_TEST_FAIL_CHUNK_FETCHES", "1")]).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    visit_every_page_group(c, &berth, 1).await;
    browser.close().await;

    // Every chunk's first three fetches fail: past its own retries the page says so and
    // offers Retry, which brings the page.
    let berth = Berth::start_with_env(&[], &[("BERTH_TEST_FAIL_CHUNK_FETCHES", "3")]).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/images")).await.unwrap();
    let message = find::by_testid(c, "error-message").await;
    assert!(
        message
            .text()
            .await
            .unwrap()
            .contains("Cannot reach the berth server"),
        "the error says what failed"
    );
    check::screenshot(c, "chunk-failed").await;
    find::by_testid(c, "retry").await.click().await.unwrap();
    find::by_testid(c, "images-page").await;
    browser.close().await;
}

#[tokio::test]
async fn load_older_logs_in_order_and_step_through_search_matches() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let name = unique("uxpages-older");
    docker::run_script(
        &name,
        "i=1; while [ $i -le 3000 ]; do echo line-$i; i=$((i+1)); done; trap 'exit 0' TERM; while true; do sleep 1; done",
    );
    let _gone = docker::Removed(name.clone());
    // All 3,000 lines are written before the page opens.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url(&format!("/containers/{name}?tab=logs")))
        .await
        .unwrap();
    find::by_testid(c, "logs-view").await;
    let numbers_js = "return [...document.querySelectorAll('[data-testid=log-line] .log-text')].map(e => Number(e.textContent.replace('line-', '')));";
    let shown = wait_js(c, numbers_js, Duration::from_secs(15), |v| {
        v.as_array().is_some_and(|a| a.len() == 500)
    })
    .await;
    let want: Vec<u64> = (2501..=3000).collect();
    assert_eq!(
        serde_json::from_value::<Vec<u64>>(shown).unwrap(),
        want,
        "the last 500 lines"
    );

    // "Load older" brings the 500 before them above, in order, nothing twice.
    find::by_testid(c, "logs-older")
        .await
        .click()
        .await
        .unwrap();
    let shown = wait_js(c, numbers_js, Duration::from_secs(15), |v| {
        v.as_array().is_some_and(|a| a.len() == 1000)
    })
    .await;
    let want: Vec<u64> = (2001..=3000).collect();
    assert_eq!(
        serde_json::from_value::<Vec<u64>>(shown).unwrap(),
        want,
        "lines 2001–3000, once each, in order"
    );

    // Search counts its matches among the shown lines and steps through them.
    find::by_testid(c, "logs-search")
        .await
        .send_keys("line-29")
        .await
        .unwrap();
    let matches = find::by_testid(c, "logs-matches").await;
    check::text_becomes(&matches, "100 of 100", Duration::from_secs(5)).await;
    find::by_testid(c, "logs-match-prev")
        .await
        .click()
        .await
        .unwrap();
    check::text_becomes(&matches, "99 of 100", Duration::from_secs(5)).await;
    let current = c
        .execute("return document.querySelector('[data-testid=log-lines] mark.current')?.closest('[data-testid=log-line]').innerText;", vec![])
        .await
        .unwrap();
    assert!(
        current.as_str().unwrap_or("").contains("line-2998"),
        "the 99th match is marked: {current}"
    );
    find::by_testid(c, "logs-match-next")
        .await
        .click()
        .await
        .unwrap();
    find::by_testid(c, "logs-match-next")
        .await
        .click()
        .await
        .unwrap();
    check::text_becomes(&matches, "1 of 100", Duration::from_secs(5)).await;

    // Timestamps show local time, the daemon's UTC on hover.
    find::by_testid(c, "logs-timestamps")
        .await
        .click()
        .await
        .unwrap();
    let ts = wait_js(
        c,
        "const t = document.querySelector('[data-testid=log-line] .log-ts'); return t ? [t.textContent, t.title] : null;",
        Duration::from_secs(5),
        |v| v.is_array(),
    )
    .await;
    let (shown, raw) = (ts[0].as_str().unwrap(), ts[1].as_str().unwrap());
    assert!(
        raw.ends_with('Z') && raw.contains('T'),
        "raw UTC in the title: {raw}"
    );
    assert!(
        !shown.contains('T') && shown.len() == 23,
        "a local, readable time: {shown}"
    );

    // The stderr-only filter leaves nothing of this stdout-only container.
    let streams = find::by_testid(c, "logs-streams").await;
    streams.select_by_value("stderr").await.unwrap();
    wait_js(
        c,
        "return document.querySelectorAll('[data-testid=log-line]').length;",
        Duration::from_secs(5),
        |v| v.as_u64() == Some(0),
    )
    .await;
    streams.select_by_value("all").await.unwrap();

    // Full screen covers the window.
    find::by_testid(c, "logs-fullscreen")
        .await
        .click()
        .await
        .unwrap();
    wait_js(
        c,
        "const r = document.querySelector('[data-testid=logs-view]').getBoundingClientRect(); return [r.top, r.width, document.documentElement.clientWidth];",
        Duration::from_secs(5),
        |v| v[0].as_f64().is_some_and(|t| t.abs() < 1.0) && v[1].as_f64() >= v[2].as_f64().map(|w| w - 1.0),
    )
    .await;
    browser.close().await;
}

#[tokio::test]
async fn stats_charts_have_time_and_value_axes_and_grow_live() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let name = unique("uxpages-stats");
    docker::run_idle(&name);
    let _gone = docker::Removed(name.clone());
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url(&format!("/containers/{name}?tab=stats")))
        .await
        .unwrap();
    find::by_testid(c, "stats-view").await;
    let axes_js = "const t = id => [...document.querySelectorAll(`[data-testid=${id}] span`)].map(s => s.textContent); return [t('chart-mem-y'), t('chart-cpu-x'), t('chart-cpu-y')];";
    let axes = wait_js(c, axes_js, Duration::from_secs(20), |v| {
        v[0].as_array().is_some_and(|a| a.len() == 3)
    })
    .await;
    // Memory from 0, at least 64 MiB tall; the time axis spans the window.
    assert_eq!(axes[0][2], "0 B", "{axes}");
    assert!(axes[0][0].as_str().unwrap().ends_with("MiB"), "{axes}");
    let top: f64 = axes[0][0]
        .as_str()
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(top >= 64.0, "a scale of at least 64 MiB: {axes}");
    assert_eq!(axes[1], serde_json::json!(["-5 min", "-2.5 min", "now"]));
    assert_eq!(axes[2][0], "10 %", "{axes}");

    // Samples arrive live: the memory line gains points, its reading is filled in.
    let points_js = "const p = document.querySelector('[data-testid=chart-mem] polyline'); return p ? p.getAttribute('points').split(' ').filter(Boolean).length : 0;";
    let first = wait_js(c, points_js, Duration::from_secs(20), |v| {
        v.as_u64() >= Some(2)
    })
    .await;
    wait_js(c, points_js, Duration::from_secs(20), |v| {
        v.as_u64() > first.as_u64()
    })
    .await;
    let now = find::by_testid(c, "chart-mem-now")
        .await
        .text()
        .await
        .unwrap();
    assert!(now.contains(" / "), "usage / limit: {now}");

    // A shorter window relabels the time axis.
    find::by_testid(c, "stats-window")
        .await
        .select_by_value("1")
        .await
        .unwrap();
    let axes = wait_js(c, axes_js, Duration::from_secs(5), |v| v[1][0] == "-1 min").await;
    assert_eq!(axes[1][1], "-0.5 min");
    browser.close().await;
}

#[tokio::test]
async fn a_containers_files_page_names_it_reads_its_path_and_downloads_a_file_as_itself() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let name = unique("uxpages-files");
    docker::run_script(
        &name,
        "mkdir -p /data/sub; echo hello-from-the-container > /data/note.txt; trap 'exit 0' TERM; while true; do sleep 1; done",
    );
    let _gone = docker::Removed(name.clone());
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url(&format!("/containers/{name}/files?path=/data")))
        .await
        .unwrap();
    find::by_testid(c, "container-files-page").await;
    let crumbs = find::by_testid(c, "crumbs").await;
    check::text_becomes_with(
        &crumbs,
        |t| t.split_whitespace().collect::<Vec<_>>() == ["/", "data"],
        Duration::from_secs(10),
    )
    .await;
    // The back link says which container, by the name people gave it.
    let back = c
        .find(fantoccini::Locator::Css(
            "[data-testid=container-files-page] .back-link",
        ))
        .await
        .unwrap();
    check::text_becomes(&back, &format!("← {name}"), Duration::from_secs(10)).await;

    // One file downloads as itself, not as a tar.
    let row = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(fantoccini::Locator::Css(
            "[data-testid=file-row][data-name='note.txt'] [data-testid=file-link]",
        ))
        .await
        .unwrap();
    let href = row.attr("href").await.unwrap().unwrap();
    assert!(href.contains("/download?path="), "{href}");
    let body = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done, e => done(String(e)));",
            vec![serde_json::json!(href)],
        )
        .await
        .unwrap();
    assert_eq!(body, "hello-from-the-container\n");
    browser.close().await;
}

#[tokio::test]
async fn the_compose_editor_fills_its_card_and_comes_back_from_a_long_line() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    c.set_window_size(1440, 900).await.unwrap();
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/stacks/new")).await.unwrap();
    let editor = find::by_testid(c, "compose-editor").await;
    let widths = c
        .execute(
            "const e = document.querySelector('.yaml-editor'); const f = e.closest('form'); return [e.getBoundingClientRect().width, f.getBoundingClientRect().width];",
            vec![],
        )
        .await
        .unwrap();
    let (w, card) = (widths[0].as_f64().unwrap(), widths[1].as_f64().unwrap());
    assert!(
        w >= card - 2.0 && w > 1000.0,
        "the editor is as wide as its card: {widths}"
    );

    // A long line scrolls sideways; the next short line brings the starts back.
    editor.click().await.unwrap();
    editor
        .send_keys(&format!("\n# {}", "x".repeat(300)))
        .await
        .unwrap();
    let scrolled = c
        .execute(
            "return document.querySelector('.yaml-editor').scrollLeft;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        scrolled.as_f64().unwrap() > 0.0,
        "the caret at the end of the long line is in view"
    );
    editor.send_keys("\nnext: 1").await.unwrap();
    wait_js(
        c,
        "return document.querySelector('.yaml-editor').scrollLeft;",
        Duration::from_secs(3),
        |v| v.as_f64() == Some(0.0),
    )
    .await;

    // The Dockerfile editor is the same component, with line numbers.
    c.goto(&berth.url("/images/build")).await.unwrap();
    find::by_testid(c, "dockerfile-editor").await;
    let numbers = c
        .execute(
            "return document.querySelectorAll('.build-form [data-testid=line-number]').length;",
            vec![],
        )
        .await
        .unwrap();
    assert!(numbers.as_u64() > Some(0), "line numbers: {numbers}");
    browser.close().await;
}
