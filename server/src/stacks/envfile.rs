//! `.env` and `env_file` text, read as Compose reads it: `KEY=value` a line, `export KEY=...`,
//! spaces around `=` allowed, `#` lines and ` # comments` after unquoted values ignored,
//! unquoted values keep their inner spaces, `'single'` quotes are literal, `"double"` quotes
//! take `\n`, `\t`, `\"` and `\\` escapes and may span lines; `${VAR}` in unquoted and
//! double-quoted values names a variable defined above it.
//!
//! Hand-written: dotenvy refuses `KEY = value` and treats an inline `#` differently from
//! Compose, and what users paste is what Compose accepts.

use std::collections::HashMap;

use super::interpolate::interpolate_lenient;

/// One `KEY[=value]` of an env file. `None`: the key alone (`env_file` takes it from the
/// environment Compose runs in, which for berth is the stack's `.env`).
pub type Entry = (String, Option<String>);

/// The entries in file order, or the 1-based line and what is wrong there.
pub fn parse(text: &str) -> Result<Vec<Entry>, (u32, String)> {
    let mut out: Vec<Entry> = Vec::new();
    let mut vars: HashMap<String, String> = HashMap::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0usize;
    while i < lines.len() {
        let lineno = i as u32 + 1;
        let line = lines[i].trim();
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map(str::trim).unwrap_or(line);
        let (key, rest) = match line.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim_start())),
            None => (line, None),
        };
        if key.is_empty() || key.chars().any(char::is_whitespace) {
            return Err((lineno, format!("line {lineno:?} is not KEY=value")));
        }
        let Some(rest) = rest else {
            out.push((key.to_owned(), None));
            continue;
        };
        let value = if let Some(body) = rest.strip_prefix('\'') {
            match body.find('\'') {
                Some(end) => body[..end].to_owned(),
                None => return Err((lineno, format!("{key}: the ' quote is not closed"))),
            }
        } else if let Some(body) = rest.strip_prefix('"') {
            // A double-quoted value may go on over the next lines.
            let mut raw = body.to_owned();
            loop {
                if let Some(end) = closing_quote(&raw) {
                    raw.truncate(end);
                    break;
                }
                if i >= lines.len() {
                    return Err((lineno, format!("{key}: the \" quote is not closed")));
                }
                raw.push('\n');
                raw.push_str(lines[i]);
                i += 1;
            }
            let unescaped = unescape(&raw);
            interpolate_lenient(&unescaped, &vars).map_err(|e| (lineno, e))?
        } else {
            // An inline comment starts at a `#` after whitespace.
            let bytes = rest.as_bytes();
            let cut = (1..bytes.len())
                .find(|&j| bytes[j] == b'#' && bytes[j - 1].is_ascii_whitespace())
                .unwrap_or(bytes.len());
            let v = rest[..cut].trim_end();
            interpolate_lenient(v, &vars).map_err(|e| (lineno, e))?
        };
        vars.insert(key.to_owned(), value.clone());
        out.push((key.to_owned(), Some(value)));
    }
    Ok(out)
}

/// The `.env` variables (a key alone defines nothing).
pub fn vars(text: &str) -> Result<HashMap<String, String>, (u32, String)> {
    Ok(parse(text)?
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect())
}

fn closing_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('$') => out.push_str("$$"),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(text: &str) -> Vec<(String, Option<String>)> {
        parse(text).unwrap()
    }

    #[test]
    fn lines_as_compose_reads_them() {
        let got = kv("# c\n\nA=1\nB = two words  # comment\nexport C='x # y'\nD=\"l1\\nl2\"\nE=a#b\nF\nG=${A}-$B\nH='$A'\nI=\n");
        let want: Vec<(String, Option<String>)> = [
            ("A", Some("1")),
            ("B", Some("two words")),
            ("C", Some("x # y")),
            ("D", Some("l1\nl2")),
            ("E", Some("a#b")),
            ("F", None),
            ("G", Some("1-two words")),
            ("H", Some("$A")),
            ("I", Some("")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.map(str::to_owned)))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn multi_line_and_errors() {
        assert_eq!(
            kv("K=\"a\nb\"\nL=2\n"),
            vec![
                ("K".to_owned(), Some("a\nb".to_owned())),
                ("L".to_owned(), Some("2".to_owned()))
            ]
        );
        assert_eq!(parse("A=1\nK='x\n").unwrap_err().0, 2);
        assert!(parse("a b=1\n").is_err());
    }
}
