//! Environments from a docker CLI config folder: `docker context create NAME --docker
//! host=…,ca=…,cert=…,key=…` writes `contexts/meta/<sha256(NAME)>/meta.json` and copies the
//! TLS files to `contexts/tls/<same>/docker/{ca,cert,key}.pem`.

use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

use crate::store::environments::Row;

#[derive(Deserialize)]
struct Meta {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Endpoints", default)]
    endpoints: Endpoints,
}

#[derive(Deserialize, Default)]
struct Endpoints {
    docker: Option<DockerEndpoint>,
}

#[derive(Deserialize)]
struct DockerEndpoint {
    #[serde(rename = "Host")]
    host: Option<String>,
    #[serde(rename = "SkipTLSVerify", default)]
    skip_tls_verify: bool,
}

/// One context as a row (the key still in clear: the caller seals it).
pub fn read(dir: &Path) -> anyhow::Result<Vec<Row>> {
    let meta_dir = dir.join("contexts/meta");
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&meta_dir) else {
        return Ok(out);
    };
    for entry in entries.flatten() {
        let path = entry.path().join("meta.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let meta: Meta = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a docker context", path.display()))?;
        let Some(host) = meta.endpoints.docker.as_ref().and_then(|d| d.host.clone()) else {
            continue;
        };
        let tls = dir
            .join("contexts/tls")
            .join(entry.file_name())
            .join("docker");
        let pem = |f: &str| std::fs::read_to_string(tls.join(f)).ok();
        let name: String = meta
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        out.push(Row {
            name,
            url: host,
            tls_ca: pem("ca.pem"),
            tls_cert: pem("cert.pem"),
            tls_key: pem("key.pem"),
            skip_verify: meta.endpoints.docker.is_some_and(|d| d.skip_tls_verify),
            teams: "[]".into(),
            roles: "{}".into(),
            ..Row::default()
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Stores the contexts of `dir` that are not environments yet; returns their names.
pub async fn import(
    dir: &Path,
    db: &sqlx::SqlitePool,
    data_dir: &Path,
) -> anyhow::Result<Vec<String>> {
    let mut added = Vec::new();
    for mut row in read(dir)? {
        if row.name == super::LOCAL
            || row.name == "default"
            || crate::store::environments::get(db, &row.name)
                .await?
                .is_some()
        {
            continue;
        }
        if let Some(key) = row.tls_key.take() {
            row.tls_key = Some(crate::registry::secret::seal(data_dir, &key)?);
        }
        crate::store::environments::insert(db, &row).await?;
        added.push(row.name);
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_context_with_its_tls_files() {
        let dir = tempfile::tempdir().unwrap();
        let id = "0123abcd";
        let meta = dir.path().join("contexts/meta").join(id);
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            r#"{"Name":"prod box","Metadata":{},"Endpoints":{"docker":{"Host":"tcp://10.0.0.5:2376","SkipTLSVerify":false}}}"#,
        )
        .unwrap();
        let tls = dir.path().join("contexts/tls").join(id).join("docker");
        std::fs::create_dir_all(&tls).unwrap();
        for f in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::write(tls.join(f), format!("PEM of {f}")).unwrap();
        }
        let rows = read(dir.path()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].name, "prod-box");
        assert_eq!(rows[0].url, "tcp://10.0.0.5:2376");
        assert_eq!(rows[0].tls_key.as_deref(), Some("PEM of key.pem"));
        assert!(!rows[0].skip_verify);
        // A folder without contexts is no error.
        assert!(read(&dir.path().join("nothing")).unwrap().is_empty());
    }
}
