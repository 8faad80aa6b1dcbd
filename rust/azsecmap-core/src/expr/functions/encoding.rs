//! Encoding functions: `base64`, `base64ToString`, `base64ToJson`, `dataUri`, `dataUriToString`, `uri`
//! (RFC 3986 reference resolution), `uriComponent`, `uriComponentToString`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

use super::super::value::{arg_str, check_len};
use super::super::EvalError;
use super::convert::parse_json;

/// Evaluate an encoding function.
pub(crate) fn call(name: &str, args: &[Value]) -> Result<Value, EvalError> {
    match name {
        "base64" => check_len(name, STANDARD.encode(arg_str(name, args, 0)?)),
        "base64tostring" => decode_b64(name, arg_str(name, args, 0)?).map(Value::String),
        "base64tojson" => parse_json(&decode_b64(name, arg_str(name, args, 0)?)?),
        "datauri" => check_len(
            name,
            format!(
                "data:text/plain;charset=utf8;base64,{}",
                STANDARD.encode(arg_str(name, args, 0)?)
            ),
        ),
        "datauritostring" => data_uri_to_string(arg_str(name, args, 0)?).map(Value::String),
        "uri" => resolve_uri(arg_str(name, args, 0)?, arg_str(name, args, 1)?).map(Value::String),
        "uricomponent" => check_len(name, escape_data(arg_str(name, args, 0)?)),
        "uricomponenttostring" => Ok(Value::String(unescape_data(arg_str(name, args, 0)?))),
        _ => Err(EvalError(format!("unknown function `{name}`"))),
    }
}

/// Decode base64 into text.
// DECISION: invalid UTF-8 is replaced with U+FFFD (as .NET `Encoding.UTF8.GetString` does); invalid base64
// is an error.
fn decode_b64(func: &str, s: &str) -> Result<String, EvalError> {
    let bytes = STANDARD
        .decode(s.trim())
        .map_err(|_| EvalError(format!("function `{func}` got invalid base64 `{s}`")))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn data_uri_to_string(s: &str) -> Result<String, EvalError> {
    let bad = || {
        EvalError(format!(
            "function `datauritostring` got an invalid data URI `{s}`"
        ))
    };
    let rest = s.strip_prefix("data:").ok_or_else(bad)?;
    let (meta, data) = rest.split_once(',').ok_or_else(bad)?;
    let is_b64 = meta
        .split(';')
        .any(|p| p.trim().eq_ignore_ascii_case("base64"));
    if is_b64 {
        decode_b64("datauritostring", data)
    } else {
        Ok(unescape_data(data))
    }
}

/// .NET `Uri.EscapeDataString`: everything but RFC 3986 unreserved characters is percent-encoded (UTF-8,
/// upper-case hex).
pub(crate) fn escape_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// .NET `Uri.UnescapeDataString`: decode `%XX` sequences that form valid UTF-8; leave anything else as is.
pub(crate) fn unescape_data(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i.saturating_add(1)..i.saturating_add(3))
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i = i.saturating_add(3);
                continue;
            }
        }
        out.push(b);
        i = i.saturating_add(1);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Split a URI reference into (scheme, authority, path, query, fragment) per RFC 3986 appendix B.
fn split_uri(s: &str) -> (Option<&str>, Option<&str>, &str, Option<&str>, Option<&str>) {
    let (rest, fragment) = match s.split_once('#') {
        Some((a, f)) => (a, Some(f)),
        None => (s, None),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let (scheme, rest) = match rest.find(':') {
        Some(i)
            if i > 0
                && rest.get(..i).is_some_and(|sch| {
                    sch.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                        && sch
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
                }) =>
        {
            (
                rest.get(..i),
                rest.get(i.saturating_add(1)..).unwrap_or_default(),
            )
        }
        _ => (None, rest),
    };
    let (authority, path) = match rest.strip_prefix("//") {
        Some(r) => match r.find('/') {
            Some(i) => (r.get(..i), r.get(i..).unwrap_or_default()),
            None => (Some(r), ""),
        },
        None => (None, rest),
    };
    (scheme, authority, path, query, fragment)
}

/// RFC 3986 section 5.2.4.
fn remove_dot_segments(path: &str) -> String {
    let mut input = path.to_string();
    let mut output: Vec<String> = Vec::new();
    while !input.is_empty() {
        if let Some(r) = input.strip_prefix("../") {
            input = r.to_string();
        } else if let Some(r) = input.strip_prefix("./") {
            input = r.to_string();
        } else if input.starts_with("/./") {
            input = input.replacen("/./", "/", 1);
        } else if input == "/." {
            input = "/".to_string();
        } else if input.starts_with("/../") || input == "/.." {
            input = if input == "/.." {
                "/".to_string()
            } else {
                input.replacen("/../", "/", 1)
            };
            output.pop();
        } else if input == "." || input == ".." {
            input.clear();
        } else {
            let start = usize::from(input.starts_with('/'));
            let end = input
                .get(start..)
                .and_then(|r| r.find('/'))
                .map_or(input.len(), |i| i.saturating_add(start));
            output.push(input.get(..end).unwrap_or_default().to_string());
            input = input.get(end..).unwrap_or_default().to_string();
        }
    }
    output.concat()
}

/// `uri(baseUri, relativeUri)`: RFC 3986 reference resolution against an absolute base.
fn resolve_uri(base: &str, rel: &str) -> Result<String, EvalError> {
    let (bs, ba, bp, bq, _) = split_uri(base);
    let Some(bs) = bs else {
        return Err(EvalError(format!(
            "function `uri` expects an absolute base URI, got `{base}`"
        )));
    };
    let (rs, ra, rp, rq, rf) = split_uri(rel);
    let (scheme, authority, path, query) = if let Some(rs) = rs {
        (rs, ra, remove_dot_segments(rp), rq)
    } else if ra.is_some() {
        (bs, ra, remove_dot_segments(rp), rq)
    } else if rp.is_empty() {
        (bs, ba, bp.to_string(), rq.or(bq))
    } else if rp.starts_with('/') {
        (bs, ba, remove_dot_segments(rp), rq)
    } else {
        let merged = if ba.is_some() && bp.is_empty() {
            format!("/{rp}")
        } else {
            match bp.rfind('/') {
                Some(i) => format!("{}{rp}", bp.get(..=i).unwrap_or_default()),
                None => rp.to_string(),
            }
        };
        (bs, ba, remove_dot_segments(&merged), rq)
    };
    let mut out = format!("{scheme}:");
    if let Some(a) = authority {
        out.push_str("//");
        out.push_str(a);
    }
    out.push_str(&path);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = rf {
        out.push('#');
        out.push_str(f);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::super::super::eval::tests::run;
    use serde_json::json;

    #[test]
    fn base64_round_trip() {
        assert_eq!(
            run("[base64('one, two, three')]").unwrap(),
            json!("b25lLCB0d28sIHRocmVl")
        );
        assert_eq!(
            run("[base64ToString('b25lLCB0d28sIHRocmVl')]").unwrap(),
            json!("one, two, three")
        );
        assert_eq!(
            run("[base64ToJson(base64('{''one'': ''a'', ''two'': ''b''}'))]").unwrap(),
            json!({"one": "a", "two": "b"})
        );
        assert!(run("[base64ToString('***')]").is_err());
        assert!(run("[base64(1)]").is_err());
    }

    #[test]
    fn data_uris() {
        assert_eq!(
            run("[dataUri('Hello')]").unwrap(),
            json!("data:text/plain;charset=utf8;base64,SGVsbG8=")
        );
        assert_eq!(
            run("[dataUriToString('data:;base64,SGVsbG8sIFdvcmxkIQ==')]").unwrap(),
            json!("Hello, World!")
        );
        assert_eq!(
            run("[dataUriToString('data:text/plain,a%20b')]").unwrap(),
            json!("a b")
        );
        assert!(run("[dataUriToString('nope')]").is_err());
    }

    #[test]
    fn uri_components() {
        assert_eq!(
            run("[uriComponent('http://contoso.com/resources/nested/azuredeploy.json')]").unwrap(),
            json!("http%3A%2F%2Fcontoso.com%2Fresources%2Fnested%2Fazuredeploy.json")
        );
        assert_eq!(
            run("[uriComponentToString('http%3A%2F%2Fcontoso.com%2Fresources%2Fnested%2Fazuredeploy.json')]").unwrap(),
            json!("http://contoso.com/resources/nested/azuredeploy.json")
        );
        assert_eq!(
            run("[uriComponent('a b~é')]").unwrap(),
            json!("a%20b~%C3%A9")
        );
        assert_eq!(
            run("[uriComponentToString('100%')]").unwrap(),
            json!("100%")
        );
    }

    #[test]
    fn uri_resolution() {
        assert_eq!(
            run("[uri('http://contoso.org/firstpath', 'myscript.sh')]").unwrap(),
            json!("http://contoso.org/myscript.sh")
        );
        assert_eq!(
            run("[uri('http://contoso.org/firstpath/', 'myscript.sh')]").unwrap(),
            json!("http://contoso.org/firstpath/myscript.sh")
        );
        assert_eq!(
            run("[uri('http://contoso.org/firstpath/azuredeploy.json', 'myscript.sh')]").unwrap(),
            json!("http://contoso.org/firstpath/myscript.sh")
        );
        assert_eq!(
            run("[uri('http://contoso.org/firstpath/azuredeploy.json/', 'myscript.sh')]").unwrap(),
            json!("http://contoso.org/firstpath/azuredeploy.json/myscript.sh")
        );
        assert_eq!(
            run("[uri('http://contoso.org', 'a.sh')]").unwrap(),
            json!("http://contoso.org/a.sh")
        );
        assert_eq!(
            run("[uri('http://a/b/c/d', '../g?q')]").unwrap(),
            json!("http://a/b/g?q")
        );
        assert_eq!(
            run("[uri('http://a/b/c/d', '/g')]").unwrap(),
            json!("http://a/g")
        );
        assert_eq!(
            run("[uri('http://a/b', 'https://x/y')]").unwrap(),
            json!("https://x/y")
        );
        assert!(run("[uri('relative/path', 'x')]").is_err());
    }
}
