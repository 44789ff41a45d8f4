//! What a Dockerfile builds from: every `FROM` image and `COPY --from=` image, with build
//! arguments substituted as the builder does. A build reads whatever is inside its base
//! images, so a base is an image *use*, decided like running it.

use std::collections::HashMap;

use wire::Role;

use super::resolve::Policy;
use crate::error::{AppError, AppResult};

/// The images a Dockerfile names (not its own stages, not `scratch`), in order, or the
/// first reference berth cannot resolve (a variable with no value).
pub fn bases(
    dockerfile: &str,
    build_args: &HashMap<String, String>,
) -> Result<Vec<String>, String> {
    let mut global: HashMap<String, String> = HashMap::new();
    let mut stages: Vec<String> = Vec::new();
    let mut out: Vec<String> = Vec::new();
    let mut seen_from = false;
    for line in logical_lines(dockerfile) {
        let mut words = line.split_whitespace();
        let Some(instr) = words.next() else { continue };
        let rest: Vec<&str> = words.collect();
        match instr.to_ascii_uppercase().as_str() {
            // ARGs before the first FROM are the ones FROM lines may use.
            "ARG" if !seen_from => {
                for a in &rest {
                    let (k, default) = match a.split_once('=') {
                        Some((k, v)) => (k, Some(unquote(v))),
                        None => (*a, None),
                    };
                    let value = build_args.get(k).cloned().or(default);
                    if let Some(v) = value {
                        global.insert(k.to_owned(), v);
                    }
                }
            }
            "FROM" => {
                seen_from = true;
                let args: Vec<&str> = rest
                    .iter()
                    .copied()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                let Some(image) = args.first() else { continue };
                let image = substitute(image, &global)?;
                let stage_ref = stages.iter().any(|s| s.eq_ignore_ascii_case(&image));
                if !stage_ref && !image.eq_ignore_ascii_case("scratch") {
                    out.push(image);
                }
                if let (Some(kw), Some(name)) = (args.get(1), args.get(2)) {
                    if kw.eq_ignore_ascii_case("as") {
                        stages.push((*name).to_owned());
                    }
                }
            }
            "COPY" | "ADD" => {
                for w in &rest {
                    let Some(from) = w.strip_prefix("--from=") else {
                        continue;
                    };
                    let from = substitute(from, &global)?;
                    let stage = stages.iter().any(|s| s.eq_ignore_ascii_case(&from))
                        || from.parse::<usize>().is_ok();
                    if !stage {
                        out.push(from);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Instructions one per line: comments dropped, `\` continuations joined.
fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for raw in text.lines() {
        let t = raw.trim();
        if cur.is_empty() && (t.starts_with('#') || t.is_empty()) {
            continue;
        }
        if let Some(body) = t.strip_suffix('\\') {
            cur.push_str(body);
            cur.push(' ');
        } else if !t.starts_with('#') {
            cur.push_str(t);
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner.to_owned();
        }
    }
    v.to_owned()
}

/// `$VAR`, `${VAR}`, `${VAR:-default}` and `${VAR:+alt}` as the builder expands them in FROM.
fn substitute(word: &str, vars: &HashMap<String, String>) -> Result<String, String> {
    let word = unquote(word);
    let mut out = String::new();
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let (name, modifier) = if chars.peek() == Some(&'{') {
            chars.next();
            let mut inner = String::new();
            for c in chars.by_ref() {
                if c == '}' {
                    break;
                }
                inner.push(c);
            }
            match inner.split_once(':') {
                Some((n, m)) => (n.to_owned(), Some(m.to_owned())),
                None => (inner, None),
            }
        } else {
            let mut name = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_ascii_alphanumeric() || c == '_' {
                    name.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            (name, None)
        };
        let value = vars.get(&name).filter(|v| !v.is_empty());
        let expanded = match (modifier.as_deref(), value) {
            (Some(m), None) if m.starts_with('-') => Some(m[1..].to_owned()),
            (Some(m), Some(_)) if m.starts_with('+') => Some(m[1..].to_owned()),
            (Some(m), None) if m.starts_with('+') => Some(String::new()),
            (_, Some(v)) => Some(v.clone()),
            (_, None) => None,
        };
        match expanded {
            Some(v) => out.push_str(&v),
            None => {
                return Err(format!(
                    "{word:?} uses ${name}, which has no value: give it with a build argument"
                ))
            }
        }
    }
    Ok(out)
}

impl Policy<'_> {
    /// Check a Dockerfile builds only from images the user may use. A base that is not on
    /// the daemon is fine: the builder pulls it from its registry.
    pub async fn build_from(
        &self,
        dockerfile: &str,
        build_args: &HashMap<String, String>,
    ) -> AppResult<()> {
        if self.user.role == Role::Admin {
            return Ok(());
        }
        let bases = bases(dockerfile, build_args).map_err(|why| {
            AppError::bad_request(
                "unresolved_base_image",
                format!("the Dockerfile's base image cannot be decided: {why}"),
            )
        })?;
        for base in bases {
            if super::images::inspect(self, &base).await?.is_none() {
                continue;
            }
            self.image_use(&base).await.map_err(|e| match e {
                AppError::NotFound(_) => AppError::Missing {
                    code: "image_not_found",
                    message: format!(
                        "the Dockerfile builds from {base:?}, which is not on this daemon: pull it first"
                    ),
                },
                other => other,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(text: &str, args: &[(&str, &str)]) -> Result<Vec<String>, String> {
        let args = args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        bases(text, &args)
    }

    #[test]
    fn from_and_copy_from_with_arguments() {
        let df = "# syntax\nARG BASE=debian:12\nARG TAG\nFROM ${BASE} AS build\nRUN make\n\
                  FROM --platform=linux/amd64 blue/app:${TAG:-1} \\\n  AS final\n\
                  COPY --from=build /out /out\nCOPY --from=other/img:2 /x /x\nCOPY --from=0 /a /a\n\
                  FROM scratch\nFROM final\n";
        assert_eq!(
            b(df, &[]).unwrap(),
            vec!["debian:12", "blue/app:1", "other/img:2"]
        );
        assert_eq!(
            b(df, &[("BASE", "x/y"), ("TAG", "7")]).unwrap(),
            vec!["x/y", "blue/app:7", "other/img:2"]
        );
        assert!(b("FROM $NOPE\n", &[]).is_err());
        assert_eq!(
            b("from busybox as a\nfrom a\n", &[]).unwrap(),
            vec!["busybox"]
        );
    }
}
