//! Compose variable interpolation: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
//! `${VAR:?message}`, `${VAR?message}`, `${VAR:+replacement}`, `${VAR+replacement}`, and `$$`
//! for a literal `$`. A name starts with a letter or `_`; a `$` followed by anything else is
//! an error, as in Compose (`.env` files are read leniently: such a `$` stays as written).
//!
//! Hand-written: the general-purpose substitution crates do not implement Compose's exact
//! set (the `?` forms and `$$`), and this is the whole of it. Variables come from the
//! stack's `.env` only, never from berth's own environment: a stack must not read the
//! server's secrets.

use std::collections::HashMap;

/// Replace every variable in `s`. The error says which variable and why.
pub fn interpolate(s: &str, vars: &HashMap<String, String>) -> Result<String, String> {
    run(s, vars, false)
}

/// As [`interpolate`], but a `$` that starts no variable is kept (how `.env` values read).
pub fn interpolate_lenient(s: &str, vars: &HashMap<String, String>) -> Result<String, String> {
    run(s, vars, true)
}

fn run(s: &str, vars: &HashMap<String, String>, lenient: bool) -> Result<String, String> {
    if !s.contains('$') {
        return Ok(s.to_owned());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = closing_brace(body).ok_or_else(|| format!("unterminated ${{ in {s:?}"))?;
            out.push_str(&braced(&body[..end], vars)?);
            rest = &body[end + 1..];
        } else {
            let len = name_len(after);
            if len == 0 && lenient {
                out.push('$');
                rest = after;
                continue;
            }
            if len == 0 {
                return Err(format!(
                    "invalid interpolation in {s:?}: write $$ for a literal $"
                ));
            }
            out.push_str(vars.get(&after[..len]).map(String::as_str).unwrap_or(""));
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The `}` closing a `${`, past any nested `${...}` in a default.
fn closing_brace(body: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The length of the variable name `s` starts with (0: none).
fn name_len(s: &str) -> usize {
    let b = s.as_bytes();
    if b.first()
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
    {
        b.iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count()
    } else {
        0
    }
}

fn braced(expr: &str, vars: &HashMap<String, String>) -> Result<String, String> {
    let (name, op) = expr.split_at(name_len(expr));
    if name.is_empty() {
        return Err(format!("invalid interpolation ${{{expr}}}"));
    }
    let value = vars.get(name);
    let set_nonempty = value.is_some_and(|v| !v.is_empty());
    if op.is_empty() {
        return Ok(value.cloned().unwrap_or_default());
    }
    let (kind, arg) = if let Some(a) = op.strip_prefix(":-") {
        ("default-if-empty", a)
    } else if let Some(a) = op.strip_prefix('-') {
        ("default-if-unset", a)
    } else if let Some(a) = op.strip_prefix(":?") {
        ("required-nonempty", a)
    } else if let Some(a) = op.strip_prefix('?') {
        ("required-set", a)
    } else if let Some(a) = op.strip_prefix(":+") {
        ("alternative-if-nonempty", a)
    } else if let Some(a) = op.strip_prefix('+') {
        ("alternative-if-set", a)
    } else {
        return Err(format!("invalid interpolation ${{{expr}}}"));
    };
    // A default may itself name variables (`${A:-$B}`).
    let arg = interpolate(arg, vars)?;
    Ok(match kind {
        "default-if-empty" if !set_nonempty => arg,
        "default-if-unset" if value.is_none() => arg,
        "required-nonempty" if !set_nonempty => {
            return Err(format!(
                "required variable {name} is missing a value: {arg}"
            ))
        }
        "required-set" if value.is_none() => {
            return Err(format!(
                "required variable {name} is missing a value: {arg}"
            ))
        }
        "alternative-if-nonempty" if set_nonempty => arg,
        "alternative-if-nonempty" => String::new(),
        "alternative-if-set" if value.is_some() => arg,
        "alternative-if-set" => String::new(),
        _ => value.cloned().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_forms() {
        let vars = HashMap::from([
            ("A".to_string(), "1".to_string()),
            ("E".to_string(), String::new()),
        ]);
        let ok = |s: &str| interpolate(s, &vars).unwrap();
        assert_eq!(ok("x$A-${A}"), "x1-1");
        assert_eq!(ok("${B:-d}/${E:-d}/${E-d}/${B-d}"), "d/d//d");
        assert_eq!(ok("$$A costs $$5"), "$A costs $5");
        assert_eq!(ok("${B:-${A}}"), "1");
        assert_eq!(ok("$B."), ".");
        assert!(interpolate("${B:?set B}", &vars)
            .unwrap_err()
            .contains("set B"));
        assert!(interpolate("${E:?}", &vars).is_err());
        assert_eq!(ok("${E?}"), "");
        assert!(interpolate("${A", &vars).is_err());
        assert!(interpolate("a $ b", &vars).is_err());
        assert!(interpolate("$1", &vars).is_err());
        assert_eq!(ok("${A:+alt}|${E:+alt}|${B:+alt}"), "alt||");
        assert_eq!(ok("${A+alt}|${E+alt}|${B+alt}"), "alt|alt|");
        assert_eq!(ok("${B:-$$}"), "$");
        assert_eq!(
            interpolate_lenient("a $ b $1 $A", &vars).unwrap(),
            "a $ b $1 1"
        );
    }
}
