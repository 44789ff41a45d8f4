//! Turning numbers the daemon sends into what people read. Language-neutral: translated
//! wording (ages) lives in `i18n`.

use wire::PortMapping;

/// Binary units, one decimal: `7.6 GiB`.
pub fn bytes(n: i64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n.max(0) as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `0.0.0.0:8080→80/tcp` for a published port, `80/tcp` for an exposed one.
pub fn port(p: &PortMapping) -> String {
    match p.host_port {
        Some(host_port) => {
            let ip = p.host_ip.as_deref().unwrap_or("0.0.0.0");
            // An IPv6 address needs brackets before `:port` to stay readable.
            let ip = if ip.contains(':') {
                format!("[{ip}]")
            } else {
                ip.to_string()
            };
            format!("{ip}:{host_port}→{}/{}", p.container_port, p.protocol)
        }
        None => format!("{}/{}", p.container_port, p.protocol),
    }
}

/// Seconds since the Unix epoch, by the browser's clock.
pub fn now_secs() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// A daemon timestamp (RFC 3339) in the reader's locale, e.g. for `Created`.
pub fn local_time(rfc3339: &str, lang_code: &str) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(rfc3339));
    if date.get_time().is_nan() {
        return rfc3339.to_string();
    }
    date.to_locale_string(lang_code, &wasm_bindgen::JsValue::UNDEFINED)
        .into()
}

/// The same for Unix seconds.
pub fn local_time_secs(secs: i64, lang_code: &str) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(secs as f64 * 1000.0));
    date.to_locale_string(lang_code, &wasm_bindgen::JsValue::UNDEFINED)
        .into()
}

/// Unix seconds as a short local date and time on one line (`2026/12/8 09:15`), for
/// tables; the full form (`local_time_secs`) goes in the tooltip.
pub fn short_time_secs(secs: i64, lang_code: &str) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(secs as f64 * 1000.0));
    let options = js_sys::Object::new();
    for (k, v) in [("dateStyle", "short"), ("timeStyle", "short")] {
        let _ = js_sys::Reflect::set(&options, &k.into(), &v.into());
    }
    date.to_locale_string(lang_code, &options).into()
}

/// A daemon message with each 64-hex id (bare or `sha256:`) replaced by what the page calls
/// it (`name_of` gets the bare hex), else by its 12-character short id, the way the CLI
/// prints ids.
pub fn name_ids(text: &str, name_of: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        // The next run of hex digits (ASCII, so byte offsets are char offsets).
        let Some(start) = rest.find(|c: char| c.is_ascii_hexdigit()) else {
            out.push_str(rest);
            break;
        };
        let len = rest[start..]
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(rest.len() - start);
        let hex = &rest[start..start + len];
        // Only a whole word: "abc" inside "xabc" is not an id.
        let word_start = start == 0 || !rest.as_bytes()[start - 1].is_ascii_alphanumeric();
        if len == 64 && word_start {
            let head = &rest[..start];
            let head = head.strip_suffix("sha256:").unwrap_or(head);
            out.push_str(head);
            match name_of(hex) {
                Some(name) => out.push_str(&name),
                None => out.push_str(&hex[..12]),
            }
        } else {
            out.push_str(&rest[..start + len]);
        }
        rest = &rest[start + len..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::name_ids;

    #[test]
    fn long_ids_become_names_or_short_ids() {
        let a = "a".repeat(64);
        let b = "0123456789ab".repeat(5) + "cdef";
        let msg = format!("sha256:{a}: conflict with container {b}, see 0123456789ab");
        let named = name_ids(&msg, |id| (id == a).then(|| "web:1".to_string()));
        assert_eq!(
            named,
            "web:1: conflict with container 0123456789ab, see 0123456789ab"
        );
        assert_eq!(name_ids("no ids here", |_| None), "no ids here");
    }
}
