//! The compose corpus (`shared/compose-corpus`: 74 real files and the verdicts of the
//! reference, docker-compose 1.29.2): berth must accept what the reference accepts and
//! refuse, with a line, what it refuses. Where today's Compose specification reads a file
//! differently from 1.29, the difference is listed in [`DIFFERENCES`] with its reason.

use std::path::{Path, PathBuf};

use super::ops;

/// Files whose verdict differs from 1.29's on purpose, and why.
pub const DIFFERENCES: &[(&str, &str)] = &[(
    "ruanbekker-awesome-docker-compose__kalmia",
    "`restart: no` unquoted: YAML 1.1 (1.29) reads a boolean and refuses it; YAML 1.2, which \
     the Compose specification and `docker compose` v2 read, takes the string \"no\"",
)];

/// The corpus folder, beside the repository (CI puts a copy of `shared/` there).
pub fn corpus_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/compose-corpus");
    assert!(
        dir.join("reference.tsv").is_file(),
        "the compose corpus is missing: expected {} (a copy of shared/ beside the repository)",
        dir.display()
    );
    dir
}

/// (folder, file, verdict `accept`/`reject`, the reference's error) for each corpus file.
pub fn reference() -> Vec<(String, String, String, String)> {
    let text = std::fs::read_to_string(corpus_dir().join("reference.tsv")).expect("reference.tsv");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                f[0].to_owned(),
                f[1].to_owned(),
                f[4].to_owned(),
                f.get(5).copied().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Copy a corpus folder (files only, one level deep and below) into `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read corpus dir") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).expect("copy");
        }
    }
}

#[test]
fn every_corpus_file_gets_the_reference_verdict() {
    let corpus = corpus_dir();
    let rows = reference();
    assert_eq!(rows.len(), 74, "the corpus has 74 files");
    let mut disagree = Vec::new();
    for (dir, file, verdict, _) in &rows {
        let tmp = tempfile::tempdir().expect("tempdir");
        copy_dir(&corpus.join(dir), tmp.path());
        let text = std::fs::read_to_string(tmp.path().join(file)).expect("compose file");
        let env = std::fs::read_to_string(tmp.path().join(".env")).ok();
        let got = ops::compile("corpus", &text, env.as_deref(), tmp.path());
        if let Err(p) = &got {
            eprintln!("{dir}: {}", ops::describe(p));
        }
        let documented = DIFFERENCES.iter().any(|(d, _)| d == dir);
        let agrees = match (&got, verdict.as_str()) {
            (Ok(_), "accept") => true,
            // A refusal must say where.
            (Err(problems), "reject") => problems.iter().all(|p| p.line.is_some()),
            _ => false,
        };
        if agrees == documented {
            disagree.push(format!(
                "{dir}: reference {verdict}, berth {}",
                match &got {
                    Ok(_) => "accepts".to_owned(),
                    Err(p) => format!("refuses: {}", ops::describe(p)),
                }
            ));
        }
    }
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
}
