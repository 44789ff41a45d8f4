//! The line of a key in a compose file, for messages like "line 12: services.web.healthcheck
//! is not supported yet". serde_yaml's values carry no positions, so this follows the
//! block-style indentation of the text; for flow-style YAML it finds nothing and the message
//! goes without a line.

/// The 1-based line where the key path `path` (mapping keys from the root) is written; when
/// its last keys are not written out (`build: ./x` has no `context:` line), the line of the
/// deepest key that is.
pub fn line_of(text: &str, path: &[&str]) -> Option<u32> {
    let lines: Vec<&str> = text.lines().collect();
    let mut from = 0usize;
    let mut parent_indent: Option<usize> = None;
    let mut found = None;
    for key in path {
        let mut hit = None;
        // The indentation of the parent's direct children: the first key line in its block.
        // A key deeper than that (`db:` under another service's `depends_on:`) is not it.
        let mut child_indent: Option<usize> = None;
        for (i, line) in lines.iter().enumerate().skip(from) {
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let indent = line.len() - trimmed.len();
            if parent_indent.is_some_and(|p| indent <= p) {
                break; // left the parent's block
            }
            // A list item's mapping key: "- key: value".
            let (indent, trimmed) = match trimmed.strip_prefix("- ") {
                Some(t) => (indent + 2, t.trim_start()),
                None => (indent, trimmed),
            };
            if trimmed.starts_with('-') && child_indent.is_none() {
                continue; // a sequence item, not a key of this mapping
            }
            let here = *child_indent.get_or_insert(indent);
            if indent != here {
                continue;
            }
            if key_matches(trimmed, key) {
                hit = Some((i, indent));
                break;
            }
        }
        let Some((i, indent)) = hit else {
            return found;
        };
        found = Some(i as u32 + 1);
        from = i + 1;
        parent_indent = Some(indent);
    }
    found
}

fn key_matches(trimmed: &str, key: &str) -> bool {
    for quoted in [key.to_owned(), format!("\"{key}\""), format!("'{key}'")] {
        if let Some(rest) = trimmed.strip_prefix(quoted.as_str()) {
            if rest.trim_start().starts_with(':') {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_keys() {
        let text = "services:\n  web:\n    image: x\n    # c\n    healthcheck:\n      test: y\n  db:\n    healthcheck: {}\nnetworks:\n  web: {}\n";
        assert_eq!(line_of(text, &["services", "web", "healthcheck"]), Some(5));
        assert_eq!(line_of(text, &["services", "db", "healthcheck"]), Some(8));
        assert_eq!(line_of(text, &["networks", "web"]), Some(10));
        assert_eq!(line_of(text, &["services", "web", "ports"]), Some(2));
        assert_eq!(line_of(text, &["services", "cache"]), Some(1));
        assert_eq!(line_of(text, &["volumes"]), None);
    }

    #[test]
    fn a_key_deeper_in_another_service_is_not_the_service() {
        let text = "services:\n  web:\n    image: x\n    depends_on:\n      db:\n        condition: service_started\n  db:\n    image: y\n    secrets: [s]\n";
        assert_eq!(line_of(text, &["services", "db"]), Some(7));
        assert_eq!(line_of(text, &["services", "db", "secrets"]), Some(9));
        let list = "services:\n  web:\n    ports:\n      - target: 80\n        published: 8080\n";
        assert_eq!(
            line_of(list, &["services", "web", "ports", "published"]),
            Some(5)
        );
    }
}
