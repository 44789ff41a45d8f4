//! Compose variable interpolation: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
//! `${VAR:?message}`, `${VAR?message}`, and `$$` for a literal `$`.
//!
//! Hand-written: the general-purpose substitution crates do not implement Compose's exact
//! set (the `?` forms and `$$`), and this is the whole of it. Variables come from the
//! stack's `.env` only, never from berth's own environment: a stack must not read the
//! server's secrets.

use std::collections::HashMap;

/// Replace every variable in `s`. The error says which variable and why.
pub fn interpolate(s: &str, vars: &HashMap<String, String>) -> Result<String, String> {
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
            let len = after
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                .count();
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

fn braced(expr: &str, vars: &HashMap<String, String>) -> Result<String, String> {
    let name_len = expr
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    let (name, op) = expr.split_at(name_len);
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
    }
}
