//! Image references as Docker parses them (`distribution/reference`): checked here, so a bad
//! one is a 400 naming the field, and so nothing but a reference reaches a daemon URL.

use std::sync::LazyLock;

use regex::Regex;

use crate::error::{AppError, AppResult};

/// `[domain/]path[:tag][@digest]`, the grammar of `distribution/reference`.
static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    let domain_component = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    let domain = format!(
        r"(?:{dc}(?:\.{dc})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?",
        dc = domain_component
    );
    let path_component = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
    let name = format!(r"(?:{domain}/)?{pc}(?:/{pc})*", pc = path_component);
    let tag = r"[\w][\w.-]{0,127}";
    let digest = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
    // The regex is a constant: a failure here is a bug caught by the unit tests.
    Regex::new(&format!(r"^{name}(?::{tag})?(?:@{digest})?$"))
        .unwrap_or_else(|e| panic!("the reference grammar does not compile: {e}"))
});

static TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[\w][\w.-]{0,127}$").unwrap_or_else(|e| panic!("tag grammar: {e}"))
});

/// An image id, full (`sha256:` + 64 hex) or short (hex).
static ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:sha256:[a-f0-9]{1,64}|[a-f0-9]{1,64})$").unwrap_or_else(|e| panic!("id: {e}"))
});

fn bad(field: &str, value: &str, why: &str) -> AppError {
    AppError::bad_request(
        "invalid_reference",
        format!("{field}: {value:?} is not a valid image reference ({why})"),
    )
}

/// A reference to pull, push or name a new image: `name[:tag][@digest]`.
pub fn check_reference<'a>(field: &str, value: &'a str) -> AppResult<&'a str> {
    let value = value.trim();
    if value.is_empty() {
        return Err(bad(field, value, "it is empty"));
    }
    if value.len() > 255 + 128 + 80 {
        return Err(bad(field, value, "it is too long"));
    }
    if !REFERENCE.is_match(value) {
        let why = if value.chars().any(|c| c.is_ascii_uppercase())
            && !value.contains('/')
            && !value.contains(':')
        {
            "repository names must be lowercase"
        } else {
            "use name[:tag] such as nginx:1.27 or registry.example.com:5000/team/app:2"
        };
        return Err(bad(field, value, why));
    }
    Ok(value)
}

/// An existing image as users name it: a reference or an id.
pub fn check_image<'a>(field: &str, value: &'a str) -> AppResult<&'a str> {
    let value = value.trim();
    if ID.is_match(value) {
        return Ok(value);
    }
    check_reference(field, value)
}

pub fn check_tag(value: &str) -> AppResult<&str> {
    if TAG.is_match(value) {
        Ok(value)
    } else {
        Err(AppError::bad_request(
            "invalid_tag",
            format!("tag: {value:?} is not a valid tag (letters, digits, _ . -; at most 128)"),
        ))
    }
}

/// A checked reference, split as the daemon's pull and push parameters want it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `[domain/]path`.
    pub name: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl Reference {
    pub fn parse(field: &str, value: &str) -> AppResult<Reference> {
        let value = check_reference(field, value)?;
        let (rest, digest) = match value.split_once('@') {
            Some((r, d)) => (r, Some(d.to_owned())),
            None => (value, None),
        };
        // A `:` after the last `/` starts the tag; one before it is a registry port.
        let slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (name, tag) = match rest[slash..].rfind(':') {
            Some(i) => (&rest[..slash + i], Some(rest[slash + i + 1..].to_owned())),
            None => (rest, None),
        };
        Ok(Reference {
            name: name.to_owned(),
            tag,
            digest,
        })
    }

    /// The registry host this name lives on, as Docker decides it: the first component
    /// when it has a `.` or `:` or is `localhost`, Docker Hub otherwise.
    pub fn registry_host(&self) -> String {
        registry_of(&self.name)
    }

    /// `name:tag` (`latest` when none was given), or `name@digest`.
    pub fn full(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), Some(t)) => format!("{}:{t}@{d}", self.name),
            (Some(d), None) => format!("{}@{d}", self.name),
            (None, Some(t)) => format!("{}:{t}", self.name),
            (None, None) => format!("{}:latest", self.name),
        }
    }
}

/// The registry host of an image name (see [`Reference::registry_host`]).
pub fn registry_of(name: &str) -> String {
    match name.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first.to_owned()
        }
        _ => DOCKER_HUB.to_owned(),
    }
}

pub const DOCKER_HUB: &str = "docker.io";

/// Hosts that all mean Docker Hub.
pub fn same_registry(a: &str, b: &str) -> bool {
    let hub = |h: &str| {
        matches!(
            h,
            "docker.io" | "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com"
        )
    };
    a.eq_ignore_ascii_case(b) || (hub(a) && hub(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_and_bad_references() {
        for good in [
            "nginx",
            "nginx:1.27",
            "library/nginx:latest",
            "127.0.0.1:5000/team/app:2",
            "localhost/app",
            "registry.example.com/a/b/c@sha256:0123456789abcdef0123456789abcdef",
            "berth-test/busybox:latest",
            "a__b/c-d.e",
        ] {
            assert!(check_reference("image", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Nginx",
            "nginx:",
            "nginx:bad tag",
            "../etc/passwd",
            "a//b",
            "-a",
            "a?b",
            "a b",
            "nginx:latest?x=1",
        ] {
            let err = check_reference("image", bad).unwrap_err();
            assert_eq!(err.code(), "invalid_reference", "{bad}");
        }
        assert!(check_image("image", "sha256:0123abcd").is_ok());
        assert!(check_image("image", "0123abcd").is_ok());
    }

    #[test]
    fn split_name_tag_and_registry() {
        let r = Reference::parse("image", "127.0.0.1:5000/team/app").unwrap();
        assert_eq!(r.name, "127.0.0.1:5000/team/app");
        assert_eq!(r.tag, None);
        assert_eq!(r.registry_host(), "127.0.0.1:5000");
        assert_eq!(r.full(), "127.0.0.1:5000/team/app:latest");
        let r = Reference::parse("image", "nginx:1.27").unwrap();
        assert_eq!((r.name.as_str(), r.tag.as_deref()), ("nginx", Some("1.27")));
        assert_eq!(r.registry_host(), "docker.io");
        assert_eq!(registry_of("localhost/x"), "localhost");
        assert!(same_registry("index.docker.io", "docker.io"));
    }
}
