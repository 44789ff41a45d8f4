//! A build context as the daemon's build API takes it: the folder as a tar, without what
//! its `.dockerignore` excludes. Symlinks are stored as links, never followed, so nothing
//! outside the folder is read.
//!
//! `.dockerignore` rules (as the docker CLI applies them): one pattern a line, `#` comments,
//! a leading `/` ignored, `**` spans folders, a pattern also excludes everything under a
//! folder it matches, `!` re-includes, the last matching line wins; the Dockerfile and the
//! `.dockerignore` file are sent whatever they say.

use std::io;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};

/// Contexts past this size are refused rather than held in memory.
pub const MAX_CONTEXT: u64 = 2 * 1024 * 1024 * 1024;

struct Rule {
    matcher: GlobMatcher,
    exception: bool,
    /// The pattern up to its first wildcard: folders outside it hold nothing it re-includes.
    literal_prefix: String,
}

pub struct Ignore {
    rules: Vec<Rule>,
}

impl Ignore {
    pub fn parse(text: &str) -> Result<Ignore, String> {
        let mut rules = Vec::new();
        for raw in text.lines() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exception, pat) = match line.strip_prefix('!') {
                Some(p) => (true, p.trim()),
                None => (false, line),
            };
            let pat = pat.trim_start_matches('/').trim_end_matches('/');
            let pat = pat.strip_prefix("./").unwrap_or(pat);
            if pat.is_empty() {
                continue;
            }
            let matcher = GlobBuilder::new(pat)
                .literal_separator(true)
                .build()
                .map_err(|e| format!(".dockerignore: {line:?}: {e}"))?
                .compile_matcher();
            let literal_prefix = pat
                .split(['*', '?', '['])
                .next()
                .unwrap_or_default()
                .to_owned();
            rules.push(Rule {
                matcher,
                exception,
                literal_prefix,
            });
        }
        Ok(Ignore { rules })
    }

    /// Whether `rel` (a path inside the context, `/`-separated) is left out.
    pub fn excluded(&self, rel: &str) -> bool {
        let mut excluded = false;
        for rule in &self.rules {
            // A pattern matching a parent folder matches everything under it.
            let hit = rule.matcher.is_match(rel)
                || rel
                    .match_indices('/')
                    .any(|(i, _)| rule.matcher.is_match(&rel[..i]));
            if hit {
                excluded = !rule.exception;
            }
        }
        excluded
    }

    /// Whether an excluded folder may still hold something a `!` line brings back.
    fn may_reinclude_under(&self, dir: &str) -> bool {
        let dir_slash = format!("{dir}/");
        self.rules.iter().any(|r| {
            r.exception
                && (r.literal_prefix.starts_with(&dir_slash)
                    || dir_slash.starts_with(&r.literal_prefix))
        })
    }
}

/// The text of a build's Dockerfile (for the policy to see what it builds from).
pub fn read_dockerfile(context: &Path, dockerfile: &str) -> io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(context.join(dockerfile))?
        .take(1 << 20)
        .read_to_string(&mut text)?;
    Ok(text)
}

/// Tar `context` (honouring its `.dockerignore`), always including `dockerfile`.
pub fn tar_context(context: &Path, dockerfile: &str) -> io::Result<Vec<u8>> {
    let ignore = match std::fs::read_to_string(context.join(".dockerignore")) {
        Ok(text) => Ignore::parse(&text).map_err(io::Error::other)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ignore { rules: vec![] },
        Err(e) => return Err(e),
    };
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    // The daemon's tar reader refuses GNU sparse entries ("unhandled tar header type 83"),
    // and linkers write sparse binaries: store every file whole.
    builder.sparse(false);
    let mut total = 0u64;
    let mut stack: Vec<PathBuf> = vec![PathBuf::new()];
    while let Some(rel_dir) = stack.pop() {
        let mut entries: Vec<_> =
            std::fs::read_dir(context.join(&rel_dir))?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let rel = rel_dir.join(entry.file_name());
            let rel_str = rel.to_string_lossy().replace('\\', "/");
            let kind = entry.file_type()?;
            let always = rel_str == dockerfile || rel_str == ".dockerignore";
            let excluded = !always && ignore.excluded(&rel_str);
            if kind.is_dir() {
                if !excluded {
                    builder.append_dir(&rel, entry.path())?;
                    stack.push(rel);
                } else if ignore.may_reinclude_under(&rel_str) {
                    stack.push(rel);
                }
                continue;
            }
            if excluded {
                continue;
            }
            if kind.is_file() {
                total += entry.metadata()?.len();
                if total > MAX_CONTEXT {
                    return Err(io::Error::other(format!(
                        "the build context {} is larger than {} bytes: list what the image does not need in .dockerignore",
                        context.display(),
                        MAX_CONTEXT
                    )));
                }
            }
            builder.append_path_with_name(entry.path(), &rel)?;
        }
    }
    builder.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerignore_rules() {
        let ig = Ignore::parse("# c\n*\n!target/release/berth\n!docs/**/*.md\n/tmp\n").unwrap();
        assert!(ig.excluded("src/main.rs"));
        assert!(ig.excluded("target/debug/berth"));
        assert!(!ig.excluded("target/release/berth"));
        assert!(!ig.excluded("docs/a/b.md"));
        assert!(ig.may_reinclude_under("target"));
        assert!(ig.may_reinclude_under("target/release"));
        assert!(!ig.may_reinclude_under("target/debug"));
        let ig = Ignore::parse("node_modules\n**/*.log\n").unwrap();
        assert!(ig.excluded("node_modules/x/y.js"));
        assert!(ig.excluded("a/b/c.log"));
        assert!(!ig.excluded("a/b/c.txt"));
    }

    #[test]
    fn tars_what_is_not_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::write(dir.path().join(".dockerignore"), "secret\nDockerfile\n").unwrap();
        std::fs::write(dir.path().join("secret"), "x").unwrap();
        std::fs::create_dir(dir.path().join("app")).unwrap();
        std::fs::write(dir.path().join("app/a.txt"), "a").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("link")).unwrap();
        let bytes = tar_context(dir.path(), "Dockerfile").unwrap();
        let mut archive = tar::Archive::new(bytes.as_slice());
        let mut names: Vec<(String, bool)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().to_string_lossy().into_owned(),
                    e.header().entry_type().is_symlink(),
                )
            })
            .collect();
        names.sort();
        let want: Vec<(String, bool)> = [
            (".dockerignore", false),
            ("Dockerfile", false),
            ("app", false),
            ("app/a.txt", false),
            ("link", true),
        ]
        .iter()
        .map(|(n, l)| (n.to_string(), *l))
        .collect();
        assert_eq!(names, want);
    }
}
