//! `.dockerignore`, with the docker CLI's semantics.
//!
//! Hand-written: no crate on crates.io implements Docker's rules (the `ignore` and
//! `gitignore` crates follow git, where `foo` matches at any depth and an excluded directory
//! cannot be re-included). This follows moby's `patternmatcher` and `ignorefile` packages and
//! the CLI's context walk (`pkg/archive.TarWithOptions`):
//!
//! - a line starting with `#` is a comment; lines are trimmed; a UTF-8 BOM is dropped;
//! - each pattern is `filepath.Clean`ed and a leading `/` removed, so `/a` is `a`;
//! - `*` matches any run of non-`/` characters, `?` one non-`/` character, `[...]` a class,
//!   `\` escapes, `**` any number of directories (also none);
//! - a pattern matches a path or any of its parent directories (`temp` excludes `temp/x`);
//! - patterns apply in order, the last matching one wins; `!` re-includes;
//! - an excluded directory is skipped whole unless a `!` pattern starts with its path, in
//!   which case the walk goes in and each file is judged on its own;
//! - `.dockerignore` and the Dockerfile are always sent (the CLI appends `!` for them).

use std::collections::HashMap;

use regex::Regex;

/// A parse error: which line is wrong and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(pub String);

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone)]
enum Kind {
    Exact,
    /// `foo/**`: everything under a prefix.
    Prefix(String),
    /// `**/foo`.
    Suffix(String),
    Regex(Regex),
}

#[derive(Debug, Clone)]
struct Pattern {
    /// The cleaned pattern text, without `!`.
    text: String,
    exclusion: bool,
    kind: Kind,
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        match &self.kind {
            Kind::Exact => path == self.text,
            Kind::Prefix(prefix) => path.starts_with(prefix.as_str()),
            Kind::Suffix(suffix) => {
                path.ends_with(suffix.as_str())
                    || suffix.strip_prefix('/').is_some_and(|rest| path == rest)
            }
            Kind::Regex(re) => re.is_match(path),
        }
    }
}

/// The rules of one `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    patterns: Vec<Pattern>,
    /// Whether any pattern starts with `!`.
    exclusions: bool,
}

/// Go's `filepath.Clean` for `/`-separated paths: `.` and empty parts go, `..` eats its
/// parent, a trailing `/` goes; an empty result is `.`.
pub fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|p| *p != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            p => out.push(p),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Reads `.dockerignore` text into patterns, as moby's `ignorefile.ReadAll`.
pub fn read_patterns(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = if i == 0 {
            line.strip_prefix('\u{feff}').unwrap_or(line)
        } else {
            line
        };
        // Comments are recognised before trimming, as Docker does.
        if line.starts_with('#') {
            continue;
        }
        let mut pattern = line.trim();
        if pattern.is_empty() {
            continue;
        }
        let invert = pattern.starts_with('!');
        if invert {
            pattern = pattern[1..].trim();
        }
        let mut cleaned = String::new();
        if !pattern.is_empty() {
            cleaned = clean(pattern);
            if cleaned.len() > 1 && cleaned.starts_with('/') {
                cleaned.remove(0);
            }
        }
        out.push(if invert {
            format!("!{cleaned}")
        } else {
            cleaned
        });
    }
    out
}

/// `patternmatcher.Pattern.compile`: a pattern becomes an exact string, a prefix, a
/// suffix, or an anchored regex.
fn compile(text: &str) -> Result<Kind, PatternError> {
    let bad = |why: &str| PatternError(format!("bad .dockerignore pattern {text:?}: {why}"));
    let chars: Vec<char> = text.chars().collect();
    let mut re = String::from("^");
    #[derive(PartialEq)]
    enum T {
        Exact,
        Prefix,
        Suffix,
        Regex,
    }
    let mut kind = T::Exact;
    let mut i = 0;
    let mut first = true;
    while i < chars.len() {
        let ch = chars[i];
        i += 1;
        match ch {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                // `**/` is `**`: the slash is eaten.
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i >= chars.len() {
                    // `**` at the end matches everything below, as in .gitignore.
                    if kind == T::Exact {
                        kind = T::Prefix;
                    } else {
                        re.push_str(".*");
                        kind = T::Regex;
                    }
                } else {
                    re.push_str("(.*/)?");
                    kind = T::Regex;
                }
                if first {
                    kind = T::Suffix;
                }
            }
            '*' => {
                re.push_str("[^/]*");
                kind = T::Regex;
            }
            '?' => {
                re.push_str("[^/]");
                kind = T::Regex;
            }
            '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$' => {
                re.push('\\');
                re.push(ch);
            }
            '\\' => {
                if let Some(next) = chars.get(i) {
                    i += 1;
                    re.push('\\');
                    re.push(*next);
                    kind = T::Regex;
                } else {
                    re.push_str("\\\\");
                }
            }
            '[' | ']' => {
                re.push(ch);
                kind = T::Regex;
            }
            _ => re.push(ch),
        }
        first = false;
    }
    Ok(match kind {
        T::Exact => Kind::Exact,
        T::Prefix => Kind::Prefix(text[..text.len() - 2].to_owned()),
        T::Suffix => Kind::Suffix(text[2..].to_owned()),
        T::Regex => {
            re.push('$');
            Kind::Regex(Regex::new(&re).map_err(|e| bad(&e.to_string()))?)
        }
    })
}

impl Matcher {
    /// Rules from `.dockerignore` text. The Dockerfile (at `dockerfile`) and `.dockerignore`
    /// itself are always kept, as the CLI does.
    pub fn new(text: &str, dockerfile: &str) -> Result<Matcher, PatternError> {
        let mut lines = read_patterns(text);
        let probe = Matcher::from_patterns(&lines)?;
        if probe.excludes_file(".dockerignore") {
            lines.push("!.dockerignore".into());
        }
        let dockerfile = clean(dockerfile);
        if probe.excludes_file(&dockerfile) {
            lines.push(format!("!{dockerfile}"));
        }
        Matcher::from_patterns(&lines)
    }

    /// Patterns as `read_patterns` returns them (`!` first for exceptions).
    pub fn from_patterns(lines: &[String]) -> Result<Matcher, PatternError> {
        let mut m = Matcher::default();
        for line in lines {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let mut text = clean(line);
            let exclusion = text.starts_with('!');
            if exclusion {
                if text.len() == 1 {
                    return Err(PatternError(
                        "illegal .dockerignore pattern \"!\": it excludes nothing".into(),
                    ));
                }
                text.remove(0);
                m.exclusions = true;
            }
            let kind = compile(&text)?;
            m.patterns.push(Pattern {
                text,
                exclusion,
                kind,
            });
        }
        Ok(m)
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// `MatchesOrParentMatches`: whether `path` is excluded, judging it and each parent.
    fn excludes_file(&self, path: &str) -> bool {
        let parents: Vec<&str> = path.split('/').collect();
        let mut matched = false;
        for p in &self.patterns {
            if p.exclusion != matched {
                continue;
            }
            let mut hit = p.matches(path);
            if !hit && parents.len() > 1 {
                hit = (1..parents.len()).any(|n| p.matches(&parents[..n].join("/")));
            }
            if hit {
                matched = !p.exclusion;
            }
        }
        matched
    }

    /// `MatchesUsingParentResults`: whether `path` matches, given its parent directory's
    /// per-pattern results (None at the top of the context). Returns this path's results.
    fn judge(&self, path: &str, parent: Option<&[bool]>) -> (bool, Vec<bool>) {
        let mut matched = false;
        let mut info = vec![false; self.patterns.len()];
        for (i, p) in self.patterns.iter().enumerate() {
            let mut hit = parent.is_some_and(|pm| pm[i]);
            if !hit {
                if p.exclusion != matched {
                    continue;
                }
                hit = p.matches(path);
            }
            info[i] = hit;
            if hit {
                matched = !p.exclusion;
            }
        }
        (matched, info)
    }
}

/// Decides entry by entry, for paths in any order (a tar need not list a directory before
/// its files, or at all), what the CLI's walk of the same tree would have sent.
pub struct Walk<'a> {
    matcher: &'a Matcher,
    /// Per directory: its pattern results, and whether the walk skips it entirely.
    dirs: HashMap<String, (Vec<bool>, bool)>,
}

impl<'a> Walk<'a> {
    pub fn new(matcher: &'a Matcher) -> Self {
        Walk {
            matcher,
            dirs: HashMap::new(),
        }
    }

    /// A directory's results, computing (and caching) its parents' first.
    fn dir(&mut self, dir: &str) -> (Vec<bool>, bool) {
        if let Some(hit) = self.dirs.get(dir) {
            return hit.clone();
        }
        let parent = dir.rfind('/').map(|i| dir[..i].to_owned());
        let (parent_info, parent_skipped) = match &parent {
            Some(p) => self.dir(p),
            None => (Vec::new(), false),
        };
        let result = if parent_skipped {
            (parent_info, true)
        } else {
            let parent_ref = parent.as_ref().map(|_| parent_info.as_slice());
            let (excluded, info) = self.matcher.judge(dir, parent_ref);
            (info, excluded && self.skips_dir(dir))
        };
        self.dirs.insert(dir.to_owned(), result.clone());
        result
    }

    /// An excluded directory is walked into only if some `!` pattern starts with its path.
    fn skips_dir(&self, dir: &str) -> bool {
        if !self.matcher.exclusions {
            return true;
        }
        let dir_slash = format!("{dir}/");
        !self
            .matcher
            .patterns
            .iter()
            .filter(|p| p.exclusion)
            .any(|p| format!("{}/", p.text).starts_with(&dir_slash))
    }

    /// Whether the entry at `path` (cleaned, relative, no leading `./`) is sent. A
    /// directory entry is judged like a file; what is inside it is judged on its own.
    pub fn keeps(&mut self, path: &str) -> bool {
        if self.matcher.is_empty() {
            return true;
        }
        let parent = path.rfind('/').map(|i| path[..i].to_owned());
        let (parent_info, parent_skipped) = match &parent {
            Some(p) => self.dir(p),
            None => (Vec::new(), false),
        };
        if parent_skipped {
            return false;
        }
        let parent_ref = parent.as_ref().map(|_| parent_info.as_slice());
        !self.matcher.judge(path, parent_ref).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(ignore: &str, paths: &[&str]) -> Vec<String> {
        let m = Matcher::new(ignore, "Dockerfile").unwrap();
        let mut w = Walk::new(&m);
        paths
            .iter()
            .filter(|p| w.keeps(p))
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn clean_is_go_filepath_clean() {
        for (a, b) in [
            ("a/b/", "a/b"),
            ("./a//b/./c", "a/b/c"),
            ("a/../b", "b"),
            ("../a", "../a"),
            ("/../a", "/a"),
            ("", "."),
            ("/", "/"),
            ("!a/./b", "!a/b"),
        ] {
            assert_eq!(clean(a), b, "{a}");
        }
    }

    #[test]
    fn comments_blank_lines_and_leading_slash() {
        assert_eq!(
            read_patterns("\u{feff}# comment\n\n  /temp  \n!/keep/\n #not a comment\n"),
            vec!["temp", "!keep", "#not a comment"]
        );
    }

    /// The examples of Docker's documentation for `.dockerignore`.
    #[test]
    fn docker_documented_examples() {
        let ignore = "# comment\n*/temp*\n*/*/temp*\ntemp?\n";
        let paths = [
            "somedir/temporary.txt",
            "somedir/temp",
            "somedir/subdir/temporary.txt",
            "tempa",
            "tempb",
            "temp",
            "temporary.txt",
            "a/b/c/temp.txt",
            "keep.txt",
        ];
        assert_eq!(
            kept(ignore, &paths),
            vec!["temp", "temporary.txt", "a/b/c/temp.txt", "keep.txt"]
        );

        // `**` matches any number of directories, including none.
        assert_eq!(
            kept("**/*.go", &["main.go", "a/b/c.go", "a/b/c.rs", "go"]),
            vec!["a/b/c.rs", "go"]
        );

        // All markdown files except README.md.
        assert_eq!(
            kept("*.md\n!README.md", &["a.md", "README.md", "docs/x.md"]),
            vec!["README.md", "docs/x.md"]
        );

        // No markdown files except README files other than README-secret.md.
        assert_eq!(
            kept(
                "*.md\n!README*.md\nREADME-secret.md",
                &[
                    "CHANGES.md",
                    "README.md",
                    "README-dev.md",
                    "README-secret.md"
                ]
            ),
            vec!["README.md", "README-dev.md"]
        );

        // The order matters: the last match wins, so README-secret.md comes back.
        assert_eq!(
            kept(
                "*.md\nREADME-secret.md\n!README*.md",
                &["CHANGES.md", "README.md", "README-secret.md"]
            ),
            vec!["README.md", "README-secret.md"]
        );
    }

    #[test]
    fn directories_and_exceptions_inside_them() {
        // A pattern naming a directory excludes what is in it.
        assert_eq!(
            kept("build", &["build/a.o", "build/sub/b.o", "src/build.rs"]),
            vec!["src/build.rs"]
        );
        // An exception under an excluded directory brings that file back.
        assert_eq!(
            kept(
                "docs\n!docs/keep.md",
                &["docs/keep.md", "docs/drop.md", "docsy"]
            ),
            vec!["docs/keep.md", "docsy"]
        );
        // A wildcard exception does not start with the directory's path: the CLI skips the
        // directory without looking inside, so nothing in it comes back.
        assert_eq!(
            kept("docs\n!*/keep.md", &["docs/keep.md"]),
            Vec::<String>::new()
        );
        // `dir/**` and `**/name`.
        assert_eq!(
            kept(
                "logs/**\n**/secret",
                &[
                    "logs/a",
                    "logs/x/y",
                    "logsx",
                    "secret",
                    "a/b/secret",
                    "a/secrets"
                ]
            ),
            vec!["logsx", "a/secrets"]
        );
        // `?` never matches a slash; `[...]` classes work.
        assert_eq!(
            kept("a?b\nfile[0-9]", &["a/b", "axb", "file1", "filex"]),
            vec!["a/b", "filex"]
        );
    }

    #[test]
    fn dockerfile_and_dockerignore_are_always_sent() {
        assert_eq!(
            kept("*", &["Dockerfile", ".dockerignore", "a.txt"]),
            vec!["Dockerfile", ".dockerignore"]
        );
        let m = Matcher::new("ci", "ci/Dockerfile.prod").unwrap();
        let mut w = Walk::new(&m);
        assert!(w.keeps("ci/Dockerfile.prod"));
        assert!(!w.keeps("ci/other"));
    }

    #[test]
    fn bad_patterns_are_refused() {
        assert!(Matcher::new("[abc", "Dockerfile").is_err());
        assert!(Matcher::from_patterns(&["!".to_string()]).is_err());
    }

    #[test]
    fn regex_metacharacters_are_literal() {
        assert_eq!(
            kept("a.b\n(x)+\n$HOME", &["a.b", "axb", "(x)+", "$HOME"]),
            vec!["axb"]
        );
    }
}
