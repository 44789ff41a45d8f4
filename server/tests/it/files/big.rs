//! A 1 GiB file downloads with berth's memory staying flat.

use futures::StreamExt;

use super::*;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

#[tokio::test]
async fn a_1_gib_download_keeps_memory_flat() {
    const SIZE: u64 = 1 << 30;
    let dir = tempfile::tempdir().unwrap();
    // Sparse: made in an instant, reads as zeros.
    let f = std::fs::File::create(dir.path().join("big.bin")).unwrap();
    f.set_len(SIZE).unwrap();
    drop(f);
    let app =
        TestApp::start_with(&["--share".into(), format!("big={}", dir.path().display())]).await;
    let pid = app.pid();

    // Warm up (first request, first blocking threads), then measure from there.
    let r = app
        .client
        .get(app.url("/files/big/big.bin"))
        .header("range", "bytes=0-1048575")
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap().len(), 1 << 20);
    let before = rss_kib(pid);

    let r = app
        .client
        .get(app.url("/files/big/big.bin"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-length"], SIZE.to_string().as_str());
    let mut stream = r.bytes_stream();
    let mut got = 0u64;
    let mut peak = before;
    let mut next_sample = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        assert!(chunk.iter().all(|b| *b == 0));
        got += chunk.len() as u64;
        if got >= next_sample {
            peak = peak.max(rss_kib(pid));
            next_sample += 32 << 20;
        }
    }
    assert_eq!(got, SIZE);
    let grew = peak.saturating_sub(before);
    eprintln!(
        "berth RSS: {before} KiB before, peak {peak} KiB during a 1 GiB download (+{grew} KiB)"
    );
    assert!(
        grew < 48 * 1024,
        "RSS grew by {grew} KiB while streaming 1 GiB"
    );
}

/// Tens of thousands of entries: one pass over the folder, and the page streams.
#[tokio::test]
async fn a_folder_of_20000_entries_lists_quickly_and_the_page_streams() {
    const N: usize = 20_000;
    let dir = tempfile::tempdir().unwrap();
    for i in 0..N {
        std::fs::File::create(dir.path().join(format!("f{i:05}.txt"))).unwrap();
    }
    std::fs::create_dir(dir.path().join("zz-folder")).unwrap();
    let app =
        TestApp::start_with(&["--share".into(), format!("many={}", dir.path().display())]).await;

    let t = std::time::Instant::now();
    let (status, body) = app.get("/files/many/?format=json").await;
    let json_time = t.elapsed();
    assert_eq!(status, 200);
    let rows = body.as_array().unwrap();
    assert_eq!(rows.len(), N + 1);
    assert_eq!(rows[0]["name"], "zz-folder", "folders first");

    let t = std::time::Instant::now();
    let r = app
        .client
        .get(app.url("/files/many/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers().get("content-length").is_none(),
        "the page is streamed, not built whole first"
    );
    let mut stream = r.bytes_stream();
    let mut first = None;
    let mut html = Vec::new();
    while let Some(chunk) = stream.next().await {
        first.get_or_insert_with(|| t.elapsed());
        html.extend_from_slice(&chunk.unwrap());
    }
    let html_time = t.elapsed();
    let html = String::from_utf8(html).unwrap();
    assert_eq!(
        html.matches("<tr><td class=\"name\">").count(),
        N + 2,
        "every entry and the up link"
    );
    assert!(html.contains(">f19999.txt</a>"));
    eprintln!(
        "20,000 entries: JSON in {json_time:?}; HTML first bytes after {:?}, all in {html_time:?} ({} KiB)",
        first.unwrap_or_default(),
        html.len() / 1024
    );
    // Generous bounds for a debug build on a shared machine; a per-entry path walk or
    // canonicalize would still blow them.
    assert!(json_time < std::time::Duration::from_secs(10));
    assert!(html_time < std::time::Duration::from_secs(10));
}
