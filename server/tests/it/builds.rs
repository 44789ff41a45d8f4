//! Builds against the real daemon: `.dockerignore` (with a `!` exception) checked inside
//! the built image, the editor's Dockerfile over multipart, options, and failures.

use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::json;

use crate::imgkit::*;
use crate::support::*;

const IGNORE: &str = "# build junk\n*.secret\nlogs\n!logs/keep.txt\n/tmp?\n";

fn dockerfile() -> String {
    format!(
        "FROM {}\nARG GREETING=unset\nCOPY . /ctx/\nRUN echo \"$GREETING\" > /greeting\n\
         CMD [\"sh\", \"-c\", \"cd /ctx && find . -type f | sort && cat /greeting\"]\n",
        test_image()
    )
}

/// What the built image says it holds: its files and the build arg.
async fn listing(image: &str) -> Vec<String> {
    run_output(image, &[])
        .await
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

#[tokio::test]
async fn dockerignore_excludes_and_reincludes_inside_the_image() {
    let app = TestApp::start().await;
    let tag = format!("{}:1", unique("berth-it-build"));
    let df = dockerfile();
    // `.dockerignore` last in the tar: the entries before it are held back and filtered too.
    let tar = tar_of(&[
        ("Dockerfile", df.as_str()),
        ("app.txt", "app"),
        ("key.secret", "do not send"),
        ("logs/drop.txt", "drop"),
        ("logs/keep.txt", "keep"),
        ("tmp1", "x"),
        ("sub/deep.secret", "*.secret is root-only"),
        (".dockerignore", IGNORE),
    ]);
    let query = format!(
        "t={tag}&buildargs={}&forcerm=true&labels={}",
        urlencode(r#"{"GREETING":"hello-arg"}"#),
        urlencode(r#"{"berth-it":"build"}"#)
    );
    let (status, lines) = build_tar(&app, &query, tar).await;
    let done = done(status, &lines);
    assert_eq!(done["tags"], json!([tag]));
    let output: String = lines.iter().filter_map(|l| l["stream"].as_str()).collect();
    assert!(
        output.contains("Step 1/"),
        "the daemon's steps stream: {output}"
    );

    assert_eq!(
        listing(&tag).await,
        vec![
            "./.dockerignore",
            "./Dockerfile",
            "./app.txt",
            "./logs/keep.txt",
            "./sub/deep.secret",
            "hello-arg",
        ]
    );
    let info = daemon().await.inspect_image(&tag).await.unwrap();
    assert_eq!(
        info.config
            .unwrap()
            .labels
            .unwrap()
            .get("berth-it")
            .map(String::as_str),
        Some("build")
    );
    drop_image(&tag).await;
}

#[tokio::test]
async fn editor_dockerfile_with_uploaded_files_and_a_gzip_context() {
    let app = TestApp::start().await;
    let tag = format!("{}:2", unique("berth-it-editor"));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &tar_of(&[("from-archive.txt", "a")])).unwrap();
    let form = Form::new()
        .text("dockerfile_text", dockerfile())
        .part(
            "files",
            Part::bytes(IGNORE.as_bytes().to_vec()).file_name(".dockerignore"),
        )
        .part(
            "files",
            Part::bytes(b"k".to_vec()).file_name("logs/keep.txt"),
        )
        .part(
            "files",
            Part::bytes(b"d".to_vec()).file_name("logs/drop.txt"),
        )
        .part("files", Part::bytes(b"s".to_vec()).file_name("a.secret"))
        .part(
            "context",
            Part::bytes(gz.finish().unwrap()).file_name("ctx.tar.gz"),
        );
    let resp = app
        .client
        .post(app.url(&format!("/api/images/build?t={tag}&nocache=true")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let lines: Vec<serde_json::Value> = resp
        .text()
        .await
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    done(status, &lines);
    assert_eq!(
        listing(&tag).await,
        vec![
            "./.dockerignore",
            "./Dockerfile",
            "./from-archive.txt",
            "./logs/keep.txt",
            "unset",
        ]
    );
    drop_image(&tag).await;
}

#[tokio::test]
async fn a_failing_step_ends_the_stream_with_its_error() {
    let app = TestApp::start().await;
    let df = format!(
        "FROM {}\nRUN echo before-the-failure\nRUN exit 3\n",
        test_image()
    );
    let (status, lines) =
        build_tar(&app, "forcerm=true", tar_of(&[("Dockerfile", df.as_str())])).await;
    assert_eq!(status, 200, "the build started: {lines:?}");
    let output: String = lines.iter().filter_map(|l| l["stream"].as_str()).collect();
    assert!(output.contains("before-the-failure"), "{output}");
    let last = lines.last().unwrap();
    assert_eq!(last["error"]["code"], "build_failed", "{last}");
    assert!(
        last["error"]["message"]
            .as_str()
            .unwrap()
            .contains("non-zero code: 3"),
        "{last}"
    );
}

#[tokio::test]
async fn bad_contexts_and_options_are_refused() {
    let app = TestApp::start().await;
    // Not a tar.
    let (status, lines) = build_tar(&app, "", b"hello, I am not a tar".repeat(50)).await;
    assert_eq!(status, 400);
    assert_eq!(lines[0]["error"]["code"], "invalid_context", "{lines:?}");
    assert!(lines[0]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not a tar"));
    // Empty.
    let (status, lines) = build_tar(&app, "", Vec::new()).await;
    assert_eq!(
        (status.as_u16(), &lines[0]["error"]["code"]),
        (400, &json!("invalid_context"))
    );
    // A Dockerfile the daemon cannot parse.
    let (status, lines) = build_tar(&app, "", tar_of(&[("Dockerfile", "FORM nothing\n")])).await;
    let code = match status.as_u16() {
        400 => lines[0]["error"]["code"].clone(),
        200 => lines.last().unwrap()["error"]["code"].clone(),
        s => panic!("unexpected status {s}: {lines:?}"),
    };
    assert_eq!(code, "build_failed", "{lines:?}");
    // No Dockerfile where it is said to be.
    let (status, lines) =
        build_tar(&app, "dockerfile=nope/Dockerfile", tar_of(&[("a", "b")])).await;
    let last = lines.last().unwrap();
    assert!(
        status == 400 || last["error"]["code"] == "build_failed",
        "{status} {lines:?}"
    );
    // Options.
    for (query, code) in [
        ("t=Bad%20Tag", "invalid_reference"),
        ("buildargs=not-json", "invalid_buildargs"),
        ("labels=%5B1%5D", "invalid_labels"),
        ("dockerfile=../Dockerfile", "invalid_dockerfile"),
        ("target=a%20b", "invalid_target"),
    ] {
        let (status, lines) = build_tar(&app, query, tar_of(&[("Dockerfile", "FROM x")])).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(lines[0]["error"]["code"], code, "{query}");
    }
    // A viewer may not build.
    let viewer = unique("viewer");
    app.make_user(&viewer, "viewer", &[]).await;
    let c = app.client_as(&viewer, USER_PASSWORD).await;
    let resp = c
        .request(Method::POST, app.url("/api/images/build"))
        .body(tar_of(&[("Dockerfile", "FROM x")]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn a_dockerfile_from_the_editor_alone_builds() {
    let app = TestApp::start().await;
    let tag = format!("{}:1", unique("berth-it-alone"));
    let form = Form::new().text(
        "dockerfile_text",
        format!(
            "FROM {}\nRUN echo alone > /alone\nCMD [\"cat\", \"/alone\"]\n",
            test_image()
        ),
    );
    let resp = app
        .client
        .post(app.url(&format!("/api/images/build?t={tag}")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let lines: Vec<serde_json::Value> = resp
        .text()
        .await
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    done(status, &lines);
    assert_eq!(run_output(&tag, &[]).await.trim(), "alone");
    drop_image(&tag).await;
}
