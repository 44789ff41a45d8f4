//! A deploy form's values checked against a template's variables: required ones filled,
//! selects held to their choices, defaults applied, presets fixed. Errors name the field so
//! the form can show each next to its input.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Variable;

/// One field of the form that is wrong, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// The value of every variable, or an error for each field that is wrong.
pub fn resolve(
    variables: &[Variable],
    given: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, Vec<FieldError>> {
    let mut out = BTreeMap::new();
    let mut errors = Vec::new();
    for name in given.keys() {
        if !variables.iter().any(|v| &v.name == name && !v.preset) {
            errors.push(FieldError {
                field: name.clone(),
                message: format!("this template has no variable {name:?} to set"),
            });
        }
    }
    for v in variables {
        let typed = if v.preset {
            None
        } else {
            given
                .get(&v.name)
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
        };
        let value = match (typed, v.default.as_deref()) {
            (Some(t), _) => t.to_owned(),
            (None, Some(d)) => d.to_owned(),
            (None, None) if v.required => {
                errors.push(FieldError {
                    field: v.name.clone(),
                    message: format!("{} is required", v.label),
                });
                continue;
            }
            (None, None) => String::new(),
        };
        if value.contains(['\n', '\r', '\0']) {
            errors.push(FieldError {
                field: v.name.clone(),
                message: format!("{} must be one line", v.label),
            });
            continue;
        }
        if !v.select.is_empty() && !v.select.iter().any(|c| c.value == value) {
            let choices: Vec<&str> = v.select.iter().map(|c| c.value.as_str()).collect();
            errors.push(FieldError {
                field: v.name.clone(),
                message: format!("{} must be one of: {}", v.label, choices.join(", ")),
            });
            continue;
        }
        out.insert(v.name.clone(), value);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Replaces `{{NAME}}` in a container template's strings (image, ports, binds, command), as
/// Portainer's community lists write them; unknown names are left as written.
pub fn substitute(s: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let key = after[..end].trim();
                match values.get(key) {
                    Some(v) => out.push_str(v),
                    None => out.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::Choice;

    fn var(name: &str, default: Option<&str>, required: bool) -> Variable {
        Variable {
            name: name.into(),
            label: name.into(),
            description: String::new(),
            default: default.map(Into::into),
            select: Vec::new(),
            required,
            preset: false,
        }
    }

    fn given(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_fill_and_required_ones_are_named() {
        let vars = [
            var("PORT", Some("8080"), false),
            var("PASSWORD", None, true),
        ];
        let errs = resolve(&vars, &given(&[])).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "PASSWORD");
        assert!(errs[0].message.contains("required"));
        let ok = resolve(&vars, &given(&[("PASSWORD", "s3cret")])).unwrap();
        assert_eq!(ok["PORT"], "8080");
        assert_eq!(ok["PASSWORD"], "s3cret");
    }

    #[test]
    fn selects_presets_and_unknown_fields() {
        let mut mode = var("MODE", Some("a"), false);
        mode.select = vec![
            Choice {
                text: "A".into(),
                value: "a".into(),
            },
            Choice {
                text: "B".into(),
                value: "b".into(),
            },
        ];
        let mut fixed = var("FIXED", Some("1"), false);
        fixed.preset = true;
        let vars = [mode, fixed];
        let errs =
            resolve(&vars, &given(&[("MODE", "c"), ("FIXED", "2"), ("X", "1")])).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["FIXED", "X", "MODE"]);
        assert!(errs[2].message.contains("a, b"));
        let ok = resolve(&vars, &given(&[("MODE", "b")])).unwrap();
        assert_eq!((ok["MODE"].as_str(), ok["FIXED"].as_str()), ("b", "1"));
    }

    #[test]
    fn substitution_keeps_unknown_and_unclosed_markers() {
        let v = given(&[("PORT", "8080")]);
        assert_eq!(substitute("{{PORT}}:80/tcp", &v), "8080:80/tcp");
        assert_eq!(substitute("{{ PORT }}-{{NOPE}}-{{", &v), "8080-{{NOPE}}-{{");
    }
}
