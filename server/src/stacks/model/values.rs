//! Reading the shapes Compose allows for a value: a string or a list of them, a mapping or a
//! list of `K=V`, numbers where strings are meant, sizes (`512m`) and durations (`1m30s`).

use std::collections::BTreeMap;

use serde_yaml::Value;

/// A scalar as Compose reads it where it expects a string (`80`, `true`, `1.5`).
pub fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A string or a list of strings.
pub fn list(v: Option<&Value>) -> Result<Vec<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Sequence(items)) => items
            .iter()
            .map(|i| scalar(i).ok_or_else(|| format!("{i:?} is not a string")))
            .collect(),
        Some(other) => scalar(other)
            .map(|s| vec![s])
            .ok_or_else(|| "expected a string or a list of strings".into()),
    }
}

/// A mapping (values as strings, `null` as empty) or a list of `K=V` (or `K:V` with `sep`).
pub fn map(v: Option<&Value>, sep: char) -> Result<BTreeMap<String, String>, String> {
    match v {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Mapping(m)) => m
            .iter()
            .map(|(k, v)| {
                let k = scalar(k).ok_or("a key is not a string")?;
                let v = if v.is_null() {
                    String::new()
                } else {
                    scalar(v).ok_or_else(|| format!("{k}: the value is not a string"))?
                };
                Ok((k, v))
            })
            .collect(),
        Some(Value::Sequence(items)) => items
            .iter()
            .map(|i| {
                let s = scalar(i).ok_or_else(|| format!("{i:?} is not a string"))?;
                Ok(match s.split_once(sep) {
                    Some((k, v)) => (k.trim().to_owned(), v.trim().to_owned()),
                    None => (s, String::new()),
                })
            })
            .collect(),
        Some(_) => Err("expected a mapping or a list".into()),
    }
}

/// A size in bytes: a number, or `N[b|k|kb|m|mb|g|gb]` (case-insensitive, as Compose).
pub fn bytes(v: &Value) -> Result<i64, String> {
    if let Some(n) = v.as_i64() {
        return Ok(n);
    }
    let s = scalar(v).ok_or("a size is a number or a string like 512m")?;
    let t = s.trim().to_ascii_lowercase();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size like 512m or 1g"))?;
    let factor: f64 = match unit.trim() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(format!("{s:?} is not a size like 512m or 1g")),
    };
    Ok((n * factor) as i64)
}

/// A number, written as a number or a string.
pub fn number(v: &Value) -> Result<f64, String> {
    if let Some(n) = v.as_f64() {
        return Ok(n);
    }
    scalar(v)
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| format!("{v:?} is not a number"))
}

/// An integer, written as a number or a string.
pub fn int(v: &Value) -> Result<i64, String> {
    if let Some(n) = v.as_i64() {
        return Ok(n);
    }
    scalar(v)
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| format!("{v:?} is not a whole number"))
}

/// A boolean (`true`, or the strings `"true"`/`"false"`).
pub fn boolean(v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
        other => Err(format!("{other:?} is not true or false")),
    }
}

/// Go's duration syntax (`1m30s`, `500ms`), as Compose takes it, in nanoseconds; a bare
/// number is seconds. Hand-written: a handful of lines, and the crates for it read a
/// different syntax.
pub fn duration_ns(s: &str) -> Result<i64, String> {
    let bad = || format!("{s:?} is not a duration like 30s, 1m30s or 500ms");
    let mut total: f64 = 0.0;
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    if let Ok(secs) = rest.parse::<f64>() {
        return Ok((secs * 1e9) as i64);
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let n: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "h" => 3.6e12,
            "m" => 6e10,
            "s" => 1e9,
            "ms" => 1e6,
            "us" | "µs" => 1e3,
            "ns" => 1.0,
            _ => return Err(bad()),
        };
        total += n * factor;
        rest = &rest[unit_len..];
    }
    Ok(total as i64)
}

/// A duration value (string or number of seconds) in nanoseconds.
pub fn duration(v: &Value) -> Result<i64, String> {
    duration_ns(&scalar(v).ok_or("a duration is a string like 10s")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(s: &str) -> Value {
        serde_yaml::from_str(s).unwrap()
    }

    #[test]
    fn sizes_numbers_lists() {
        assert_eq!(bytes(&y("512m")).unwrap(), 512 * 1024 * 1024);
        assert_eq!(bytes(&y("1G")).unwrap(), 1 << 30);
        assert_eq!(bytes(&y("1.5k")).unwrap(), 1536);
        assert_eq!(bytes(&y("100000")).unwrap(), 100_000);
        assert_eq!(bytes(&y("64")).unwrap(), 64);
        assert!(bytes(&y("lots")).is_err());
        assert_eq!(number(&y("'0.5'")).unwrap(), 0.5);
        assert_eq!(list(Some(&y("a"))).unwrap(), ["a"]);
        assert_eq!(list(Some(&y("[a, 1]"))).unwrap(), ["a", "1"]);
        let m = map(Some(&y("[A=1, B]")), '=').unwrap();
        assert_eq!(m["A"], "1");
        assert_eq!(m["B"], "");
        assert_eq!(map(Some(&y("{A: 1, B: ~}")), '=').unwrap()["B"], "");
    }

    #[test]
    fn durations() {
        assert_eq!(duration_ns("1m30s").unwrap(), 90_000_000_000);
        assert_eq!(duration_ns("500ms").unwrap(), 500_000_000);
        assert_eq!(duration_ns("1h").unwrap(), 3_600_000_000_000);
        assert_eq!(duration(&y("10")).unwrap(), 10_000_000_000);
        assert!(duration_ns("5 minutes").is_err());
    }
}
