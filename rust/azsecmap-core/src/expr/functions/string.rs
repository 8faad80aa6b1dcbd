//! String functions: `toLower`, `toUpper`, `trim`, `replace`, `substring`, `startsWith`, `endsWith`, `indexOf`,
//! `lastIndexOf` (the search functions ignore case, like ARM), `padLeft`, `split`, `format` (.NET composite
//! formatting) and `join`. Positions and lengths count characters.

use serde_json::Value;

use super::super::value::{
    arg, arg_int, arg_str, check_len, deep_equals, fold_chars, show, to_arm_string, type_err,
};
use super::super::{EvalError, MAX_RESULT_STRING_LEN};

/// Evaluate a string function.
pub(crate) fn call(name: &str, args: &[Value]) -> Result<Value, EvalError> {
    match name {
        "tolower" => check_len(name, arg_str(name, args, 0)?.to_lowercase()),
        "toupper" => check_len(name, arg_str(name, args, 0)?.to_uppercase()),
        "trim" => Ok(Value::String(arg_str(name, args, 0)?.trim().to_string())),
        "replace" => replace(args),
        "substring" => substring(args),
        "startswith" | "endswith" => {
            let s = fold_chars(arg_str(name, args, 0)?);
            let f = fold_chars(arg_str(name, args, 1)?);
            Ok(Value::Bool(if name == "startswith" {
                s.starts_with(&f)
            } else {
                s.ends_with(&f)
            }))
        }
        "indexof" | "lastindexof" => index_of(name, args),
        "padleft" => pad_left(args),
        "split" => split(args),
        "format" => format(args),
        "join" => join(args),
        _ => Err(EvalError(format!("unknown function `{name}`"))),
    }
}

fn replace(args: &[Value]) -> Result<Value, EvalError> {
    let s = arg_str("replace", args, 0)?;
    let old = arg_str("replace", args, 1)?;
    let new = arg_str("replace", args, 2)?;
    // DECISION: an empty `oldString` is an error, as in .NET `String.Replace`.
    if old.is_empty() {
        return Err(EvalError(
            "function `replace` cannot replace the empty string ``".to_string(),
        ));
    }
    check_len("replace", s.replace(old, new))
}

fn substring(args: &[Value]) -> Result<Value, EvalError> {
    let s = arg_str("substring", args, 0)?;
    let chars: Vec<char> = s.chars().collect();
    let n = i64::try_from(chars.len()).unwrap_or(i64::MAX);
    let start = match args.get(1) {
        Some(_) => arg_int("substring", args, 1)?,
        None => 0,
    };
    let len = match args.get(2) {
        Some(_) => arg_int("substring", args, 2)?,
        None => n.saturating_sub(start),
    };
    let end = start.checked_add(len);
    let ok = start >= 0 && len >= 0 && start <= n && end.is_some_and(|e| e <= n);
    if !ok {
        return Err(EvalError(format!(
            "function `substring` index `{start}` and length `{len}` must refer to a location within the string `{s}` of length {n}"
        )));
    }
    let (a, b) = (
        usize::try_from(start).unwrap_or(0),
        usize::try_from(end.unwrap_or(0)).unwrap_or(0),
    );
    Ok(Value::String(
        chars
            .get(a..b)
            .map(|c| c.iter().collect())
            .unwrap_or_default(),
    ))
}

fn find_from_start(hay: &[char], needle: &[char]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

fn find_from_end(hay: &[char], needle: &[char]) -> Option<usize> {
    if needle.is_empty() {
        return Some(hay.len());
    }
    hay.windows(needle.len()).rposition(|w| w == needle)
}

fn index_of(name: &str, args: &[Value]) -> Result<Value, EvalError> {
    let hay = arg(name, args, 0)?;
    let needle = arg(name, args, 1)?;
    let pos = match hay {
        // ARM also offers indexOf / lastIndexOf on arrays (exact, case-sensitive element comparison).
        Value::Array(items) => {
            if name == "indexof" {
                items.iter().position(|v| deep_equals(v, needle))
            } else {
                items.iter().rposition(|v| deep_equals(v, needle))
            }
        }
        Value::String(s) => {
            let f = match needle {
                Value::String(f) => f,
                other => return Err(type_err(name, 2, "a string", other)),
            };
            let (h, n) = (fold_chars(s), fold_chars(f));
            // DECISION: `lastIndexOf(s, '')` is the length of `s` (.NET 5+ semantics); `indexOf(s, '')` is 0.
            if name == "indexof" {
                find_from_start(&h, &n)
            } else {
                find_from_end(&h, &n)
            }
        }
        other => return Err(type_err(name, 1, "a string or an array", other)),
    };
    let r = pos.and_then(|p| i64::try_from(p).ok()).unwrap_or(-1);
    Ok(Value::Number(r.into()))
}

fn pad_left(args: &[Value]) -> Result<Value, EvalError> {
    let v = arg("padleft", args, 0)?;
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_i64() => n.to_string(),
        other => return Err(type_err("padleft", 1, "a string or an integer", other)),
    };
    let total = arg_int("padleft", args, 1)?;
    let pad = match args.get(2) {
        None => ' ',
        Some(Value::String(p)) => {
            let mut it = p.chars();
            match (it.next(), it.next()) {
                (Some(c), None) => c,
                _ => {
                    return Err(EvalError(format!(
                        "function `padleft` expects a single padding character, got `{p}`"
                    )))
                }
            }
        }
        Some(other) => return Err(type_err("padleft", 3, "a single character", other)),
    };
    let total = usize::try_from(total).unwrap_or(0);
    if total > MAX_RESULT_STRING_LEN {
        return Err(EvalError(format!(
            "function `padleft` total length `{total}` is over the limit of {MAX_RESULT_STRING_LEN}"
        )));
    }
    let have = s.chars().count();
    let mut out: String = std::iter::repeat_n(pad, total.saturating_sub(have)).collect();
    out.push_str(&s);
    Ok(Value::String(out))
}

fn split(args: &[Value]) -> Result<Value, EvalError> {
    let s = arg_str("split", args, 0)?;
    let delims: Vec<&str> = match arg("split", args, 1)? {
        Value::String(d) => vec![d.as_str()],
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for it in items {
                match it {
                    Value::String(d) => out.push(d.as_str()),
                    other => {
                        return Err(type_err(
                            "split",
                            2,
                            "a string or an array of strings",
                            other,
                        ))
                    }
                }
            }
            out
        }
        other => {
            return Err(type_err(
                "split",
                2,
                "a string or an array of strings",
                other,
            ))
        }
    };
    // DECISION: .NET `String.Split(string[], None)`: empty delimiters are ignored, empty entries are kept, and at
    // each position the first delimiter (in the given order) that matches wins.
    let delims: Vec<&str> = delims.into_iter().filter(|d| !d.is_empty()).collect();
    let mut parts = Vec::new();
    let mut piece_start = 0usize;
    let mut i = 0usize;
    while i < s.len() {
        let rest = s.get(i..).unwrap_or_default();
        if let Some(d) = delims.iter().find(|d| rest.starts_with(**d)) {
            parts.push(Value::String(
                s.get(piece_start..i).unwrap_or_default().to_string(),
            ));
            i = i.saturating_add(d.len());
            piece_start = i;
        } else {
            i = i.saturating_add(rest.chars().next().map_or(1, char::len_utf8));
        }
    }
    parts.push(Value::String(
        s.get(piece_start..).unwrap_or_default().to_string(),
    ));
    Ok(Value::Array(parts))
}

fn join(args: &[Value]) -> Result<Value, EvalError> {
    let items = match arg("join", args, 0)? {
        Value::Array(items) => items,
        other => return Err(type_err("join", 1, "an array", other)),
    };
    let delim = arg_str("join", args, 1)?;
    let mut parts = Vec::with_capacity(items.len());
    for it in items {
        match it {
            Value::Array(_) | Value::Object(_) => {
                return Err(EvalError(format!(
                    "function `join` expects an array of strings, integers or booleans, got element `{}`",
                    show(it)
                )))
            }
            other => parts.push(to_arm_string(other)),
        }
    }
    check_len("join", parts.join(delim))
}

/// `format(formatString, args...)` with .NET composite formatting: `{index[,alignment][:format]}`,
/// `{{` / `}}` escapes. Numeric format strings `D`, `N`, `F`, `X`, `G` (with precision) apply to numbers;
/// other values ignore the format string.
fn format(args: &[Value]) -> Result<Value, EvalError> {
    let fmt = arg_str("format", args, 0)?;
    let values = args.get(1..).unwrap_or_default();
    let bad = || {
        EvalError(format!(
            "function `format` got an invalid format string `{fmt}`"
        ))
    };
    let mut out = String::new();
    let mut it = fmt.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '{' if it.peek() == Some(&'{') => {
                it.next();
                out.push('{');
            }
            '}' if it.peek() == Some(&'}') => {
                it.next();
                out.push('}');
            }
            '}' => return Err(bad()),
            '{' => {
                let mut spec = String::new();
                loop {
                    match it.next() {
                        Some('}') => break,
                        Some(d) => spec.push(d),
                        None => return Err(bad()),
                    }
                }
                let (head, fspec) = match spec.split_once(':') {
                    Some((h, f)) => (h, Some(f)),
                    None => (spec.as_str(), None),
                };
                let (idx, align) = match head.split_once(',') {
                    Some((i, a)) => (i, Some(a)),
                    None => (head, None),
                };
                let idx: usize = idx.trim().parse().map_err(|_| bad())?;
                let v = values.get(idx).ok_or_else(|| {
                    EvalError(format!(
                        "function `format` placeholder `{{{idx}}}` has no matching argument in `{fmt}`"
                    ))
                })?;
                let text = format_value(v, fspec).ok_or_else(bad)?;
                let text = match align {
                    None => text,
                    Some(a) => {
                        let w: i64 = a.trim().parse().map_err(|_| bad())?;
                        let width = usize::try_from(w.unsigned_abs()).unwrap_or(usize::MAX);
                        if width > MAX_RESULT_STRING_LEN {
                            return Err(bad());
                        }
                        let padn = width.saturating_sub(text.chars().count());
                        let pad: String = std::iter::repeat_n(' ', padn).collect();
                        if w >= 0 {
                            format!("{pad}{text}")
                        } else {
                            format!("{text}{pad}")
                        }
                    }
                };
                out.push_str(&text);
                if out.len() > MAX_RESULT_STRING_LEN {
                    return check_len("format", out);
                }
            }
            other => out.push(other),
        }
    }
    check_len("format", out)
}

/// Format one value under an optional .NET format specifier; `None` for an unsupported specifier.
fn format_value(v: &Value, spec: Option<&str>) -> Option<String> {
    let spec = match spec {
        None | Some("") => return Some(to_arm_string(v)),
        Some(s) => s,
    };
    let n = match v {
        Value::Number(n) => n,
        // non-numbers are not IFormattable in .NET: the format string is ignored
        other => return Some(to_arm_string(other)),
    };
    let mut chars = spec.chars();
    let kind = chars.next()?;
    let prec_text: String = chars.collect();
    let prec: Option<usize> = if prec_text.is_empty() {
        None
    } else {
        Some(prec_text.parse().ok().filter(|p: &usize| *p <= 99)?)
    };
    let f = n.as_f64()?;
    match kind {
        'D' | 'd' => {
            let i = n.as_i64()?;
            let digits = i.unsigned_abs().to_string();
            let width = prec.unwrap_or(0);
            let zeros: String =
                std::iter::repeat_n('0', width.saturating_sub(digits.len())).collect();
            Some(format!("{}{zeros}{digits}", if i < 0 { "-" } else { "" }))
        }
        'X' | 'x' => {
            let i = n.as_i64()?;
            let hex = if kind == 'X' {
                format!("{i:X}")
            } else {
                format!("{i:x}")
            };
            let width = prec.unwrap_or(0);
            let zeros: String = std::iter::repeat_n('0', width.saturating_sub(hex.len())).collect();
            Some(format!("{zeros}{hex}"))
        }
        'F' | 'f' => Some(format!("{:.*}", prec.unwrap_or(2), f)),
        'N' | 'n' => {
            let fixed = format!("{:.*}", prec.unwrap_or(2), f.abs());
            let (int_part, frac) = match fixed.split_once('.') {
                Some((a, b)) => (a.to_string(), Some(b.to_string())),
                None => (fixed.clone(), None),
            };
            let mut grouped = String::new();
            let len = int_part.len();
            for (i, ch) in int_part.chars().enumerate() {
                if i > 0 && (len.saturating_sub(i)) % 3 == 0 {
                    grouped.push(',');
                }
                grouped.push(ch);
            }
            let sign = if f < 0.0 && fixed.chars().any(|c| c.is_ascii_digit() && c != '0') {
                "-"
            } else {
                ""
            };
            Some(match frac {
                Some(fr) => format!("{sign}{grouped}.{fr}"),
                None => format!("{sign}{grouped}"),
            })
        }
        'G' | 'g' => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::super::super::eval::tests::run;
    use serde_json::json;

    #[test]
    fn case_and_trim() {
        assert_eq!(run("[toLower('One Two')]").unwrap(), json!("one two"));
        assert_eq!(run("[toUpper('one two')]").unwrap(), json!("ONE TWO"));
        assert_eq!(
            run("[trim('  one two three   ')]").unwrap(),
            json!("one two three")
        );
        assert!(run("[toLower(1)]").is_err());
        assert!(run("[trim(field('absent'))]").is_err());
    }

    #[test]
    fn replace_all() {
        assert_eq!(
            run("[replace('123-123-1234', '-', '')]").unwrap(),
            json!("1231231234")
        );
        assert_eq!(
            run("[replace('123-123-1234', '1234', 'xxxx')]").unwrap(),
            json!("123-123-xxxx")
        );
        assert_eq!(run("[replace('aA', 'a', 'b')]").unwrap(), json!("bA"));
        assert!(run("[replace('abc', '', 'x')]").is_err());
    }

    #[test]
    fn substrings() {
        assert_eq!(
            run("[substring('one two three', 4, 3)]").unwrap(),
            json!("two")
        );
        assert_eq!(run("[substring('abc', 1)]").unwrap(), json!("bc"));
        assert_eq!(run("[substring('abc', 3, 0)]").unwrap(), json!(""));
        assert_eq!(run("[substring('abc')]").unwrap(), json!("abc"));
        let e = run("[substring('1234567890', 0, 11)]").unwrap_err();
        assert!(e.0.contains("`1234567890`"), "{}", e.0);
        assert!(run("[substring('abc', -1, 1)]").is_err());
        assert!(run("[substring('abc', 4)]").is_err());
        assert!(run("[substring('abc', 1, -1)]").is_err());
        assert_eq!(run("[substring('héllo', 1, 2)]").unwrap(), json!("él"));
    }

    #[test]
    fn searches_ignore_case() {
        assert_eq!(run("[startsWith('abcdef', 'AB')]").unwrap(), json!(true));
        assert_eq!(run("[endsWith('abcdef', 'EF')]").unwrap(), json!(true));
        assert_eq!(run("[endsWith('abcdef', 'e')]").unwrap(), json!(false));
        assert_eq!(run("[indexOf('test', 't')]").unwrap(), json!(0));
        assert_eq!(run("[lastIndexOf('test', 't')]").unwrap(), json!(3));
        assert_eq!(run("[indexOf('abcdef', 'CD')]").unwrap(), json!(2));
        assert_eq!(run("[lastIndexOf('abcdef', 'AB')]").unwrap(), json!(0));
        assert_eq!(run("[indexOf('abcdef', 'z')]").unwrap(), json!(-1));
        assert_eq!(run("[indexOf('abc', '')]").unwrap(), json!(0));
        assert_eq!(run("[lastIndexOf('abc', '')]").unwrap(), json!(3));
        assert_eq!(
            run("[indexOf(createArray('a', 'b', 'a'), 'a')]").unwrap(),
            json!(0)
        );
        assert_eq!(
            run("[lastIndexOf(createArray('a', 'b', 'a'), 'a')]").unwrap(),
            json!(2)
        );
        assert_eq!(run("[indexOf(createArray('a'), 'A')]").unwrap(), json!(-1));
        assert!(run("[startsWith(1, 'a')]").is_err());
    }

    #[test]
    fn padding() {
        assert_eq!(
            run("[padLeft('123', 10, '0')]").unwrap(),
            json!("0000000123")
        );
        assert_eq!(run("[padLeft(7, 3, '0')]").unwrap(), json!("007"));
        assert_eq!(run("[padLeft('abcd', 2, '0')]").unwrap(), json!("abcd"));
        assert_eq!(run("[padLeft('a', 3)]").unwrap(), json!("  a"));
        assert!(run("[padLeft('a', 3, '00')]").is_err());
        assert!(run("[padLeft('a', 99999999, '0')]").is_err());
        assert!(run("[padLeft(true(), 3, '0')]").is_err());
    }

    #[test]
    fn splitting() {
        assert_eq!(
            run("[split('one,two,three', ',')]").unwrap(),
            json!(["one", "two", "three"])
        );
        assert_eq!(
            run("[split('one;two,three', createArray(',', ';'))]").unwrap(),
            json!(["one", "two", "three"])
        );
        assert_eq!(
            run("[split('a,,b,', ',')]").unwrap(),
            json!(["a", "", "b", ""])
        );
        assert_eq!(run("[split('', ',')]").unwrap(), json!([""]));
        assert_eq!(run("[split('abc', '')]").unwrap(), json!(["abc"]));
        assert_eq!(run("[split('a::b', '::')]").unwrap(), json!(["a", "b"]));
        assert_eq!(
            run("[split('/subscriptions/x/resourceGroups/rg', '/')[4]]").unwrap(),
            json!("rg")
        );
        assert!(run("[split(field('absent'), '/')]").is_err());
        assert!(run("[split('a', 1)]").is_err());
    }

    #[test]
    fn formatting() {
        assert_eq!(
            run("[format('{0}, {1}. Formatted number: {2:N0}', 'Hello', 'User', 8175133)]")
                .unwrap(),
            json!("Hello, User. Formatted number: 8,175,133")
        );
        assert_eq!(
            run("[format('/subscriptions/{0}/rg/{1}', 'a', 'b')]").unwrap(),
            json!("/subscriptions/a/rg/b")
        );
        assert_eq!(run("[format('{{0}} {0}', 1)]").unwrap(), json!("{0} 1"));
        assert_eq!(
            run("[format('{0,4}|{0,-4}|', 'ab')]").unwrap(),
            json!("  ab|ab  |")
        );
        assert_eq!(
            run("[format('{0:D4} {0:X} {0:N2} {0:F1}', 255)]").unwrap(),
            json!("0255 FF 255.00 255.0")
        );
        assert_eq!(run("[format('{0}', true())]").unwrap(), json!("True"));
        assert!(run("[format('{1}', 'a')]").is_err());
        assert!(run("[format('{0', 'a')]").is_err());
        assert!(run("[format('a}', 'a')]").is_err());
        assert!(run("[format('{0:Q}', 1)]").is_err());
    }

    #[test]
    fn joining() {
        assert_eq!(
            run("[join(createArray('a', 1, true()), ',')]").unwrap(),
            json!("a,1,True")
        );
        assert!(run("[join('a', ',')]").is_err());
    }
}
