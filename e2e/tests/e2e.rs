//! berth in a real headless Chromium: the real binary, a real dockerd.
//! ONE test binary; run through `cargo xtask test`.

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

    browser.close().await;
    docker::remove_project(&name);
}
