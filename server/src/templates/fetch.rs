//! Fetching a template list from a URL an admin gave. Every failure is the admin's to act
//! on (a wrong URL, a server that is down, a page that is not a list), so each is a 400
//! naming the URL and what went wrong, never a 5xx of berth's.

use std::time::Duration;

use futures::StreamExt;

use crate::error::AppError;

/// The largest list berth keeps (Portainer's community list is about 200 KiB).
pub const MAX_LIST: usize = 4 << 20;

fn failed(url: &str, what: String) -> AppError {
    AppError::bad_request("source_fetch_failed", format!("cannot fetch {url}: {what}"))
}

/// The body of `url` (http or https only), at most [`MAX_LIST`] bytes.
pub async fn fetch(url: &str) -> Result<Vec<u8>, AppError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        AppError::bad_request(
            "invalid_url",
            format!("{url:?} is not a URL ({e}); give an http:// or https:// address"),
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(AppError::bad_request(
            "invalid_url",
            format!("{url:?}: only http:// and https:// sources can be fetched"),
        ));
    }
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(20))
        .build()
        .map_err(|e| failed(url, e.to_string()))?;
    let resp = client.get(parsed).send().await.map_err(|e| {
        failed(
            url,
            format!("{e} (is the address right and the server up?)"),
        )
    })?;
    let status = resp.status();
    if !status.is_success() {
        return Err(failed(url, format!("the server answered {status}")));
    }
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| failed(url, format!("the download broke off: {e}")))?;
        if body.len() + chunk.len() > MAX_LIST {
            return Err(AppError::bad_request(
                "source_too_large",
                format!(
                    "{url} is larger than {} MiB: not a template list",
                    MAX_LIST >> 20
                ),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
