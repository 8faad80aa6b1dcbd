//! How condition operators compare values, as the Azure Policy docs define it: strings compare
//! case-insensitively (`InvariantCultureIgnoreCase`) except under `match`; numbers, booleans and
//! their string forms coerce; `like` takes `*` (and `?`) wildcards; `match` takes `#` (digit),
//! `?` (letter) and `.` (any character); ordering compares numbers, dates and strings.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;

/// Case-insensitive string equality (Unicode full case folding, so `Straße` equals
/// `STRASSE` as under .NET's `InvariantCultureIgnoreCase`), with an ASCII fast path.
pub fn str_eq_ci(a: &str, b: &str) -> bool {
    if a.len() == b.len() && a.eq_ignore_ascii_case(b) {
        return true;
    }
    if a.is_ascii() && b.is_ascii() {
        return false;
    }
    fold(a) == fold(b)
}

/// Fold case the way comparisons do: ASCII lower-casing, or Unicode full case folding.
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        caseless::default_case_fold_str(s)
    }
}

/// Normalise an Azure location for comparison: `East US 2` equals `eastus2`.
pub fn normalize_location(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                return None;
            }
            t.parse::<f64>().ok().filter(|f| f.is_finite())
        }
        _ => None,
    }
}

fn bool_of(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Equality under `equals`/`in`: `None` is a missing property, which equals only `null`.
pub fn values_equal(actual: Option<&Value>, expected: &Value) -> bool {
    let Some(actual) = actual else {
        return expected.is_null();
    };
    value_eq(actual, expected)
}

/// Equality of two present values with the documented coercions.
pub fn value_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        (Value::String(x), Value::String(y)) => str_eq_ci(x, y) || same_instant(x, y),
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Bool(_), Value::String(_)) | (Value::String(_), Value::Bool(_)) => {
            matches!((bool_of(a), bool_of(b)), (Some(x), Some(y)) if x == y)
        }
        (Value::Number(_), Value::String(_)) | (Value::String(_), Value::Number(_)) => {
            matches!((number_of(a), number_of(b)), (Some(x), Some(y)) if x == y)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| value_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| crate::path::get_member(y, k).is_some_and(|w| value_eq(v, w)))
        }
        _ => false,
    }
}

/// Two ISO 8601 date-time strings written differently (`…00Z`, `…00.0000000Z`) for one instant.
fn same_instant(a: &str, b: &str) -> bool {
    let looks_dated = |s: &str| {
        let b = s.as_bytes();
        b.len() >= 19
            && b.get(4) == Some(&b'-')
            && b.get(10).is_some_and(|c| *c == b'T' || *c == b't')
    };
    if !(looks_dated(a) && looks_dated(b)) {
        return false;
    }
    matches!((parse_datetime(a), parse_datetime(b)), (Some(x), Some(y)) if x == y)
}

/// A value as text for string operators (`like`, `contains`, `match`): scalars only.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "True".into() } else { "False".into() }),
        _ => None,
    }
}

/// `YYYY-MM-DD` alone, read directly as midnight UTC: policies compare with such dates often,
/// and chrono's pattern parsing would first fail on every date-time pattern. `None` for any
/// other text (and for a date that does not exist), which the full parsers then read.
pub(crate) fn plain_date(t: &str) -> Option<DateTime<Utc>> {
    let b = t.as_bytes();
    if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let digits = |from: usize, to: usize| -> Option<u32> {
        b.get(from..to)?.iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(digits(0, 4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, digits(5, 7)?, digits(8, 10)?)?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

/// Parse a date-time the way ARM accepts ISO 8601 strings.
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    let t = s.trim();
    if t.len() < 10 || !t.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    if let Some(d) = plain_date(t) {
        return Some(d);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, fmt) {
            return Some(d.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|x| x.and_utc());
    }
    None
}

/// Ordering under `less`/`greater`/…: numbers (and numeric strings against numbers), dates
/// (both sides parse as dates), else strings case-insensitively. `Err` when the types do
/// not match, which the docs make an evaluation error.
pub fn compare_order(a: &Value, b: &Value) -> Result<Ordering, String> {
    match (a, b) {
        (Value::Number(_), Value::Number(_))
        | (Value::Number(_), Value::String(_))
        | (Value::String(_), Value::Number(_)) => {
            let (Some(x), Some(y)) = (number_of(a), number_of(b)) else {
                return Err(format!(
                    "cannot compare `{}` with `{}`: the types differ",
                    brief(a),
                    brief(b)
                ));
            };
            x.partial_cmp(&y)
                .ok_or_else(|| "cannot compare NaN".to_string())
        }
        (Value::String(x), Value::String(y)) => {
            if let (Some(p), Some(q)) = (parse_datetime(x), parse_datetime(y)) {
                return Ok(p.cmp(&q));
            }
            Ok(fold(x).cmp(&fold(y)))
        }
        _ => Err(format!(
            "cannot compare `{}` with `{}`: less/greater take numbers, strings or dates",
            brief(a),
            brief(b)
        )),
    }
}

/// A short rendering of a value for messages: compact JSON cut at 80 characters. Serialising
/// stops early, so a huge value costs no more than a small one.
pub fn brief(v: &Value) -> String {
    let mut out = String::new();
    brief_into(&mut out, v);
    out
}

/// Longest rendering kept whole, in characters.
const BRIEF_LIMIT: usize = 80;

/// Append [`brief`]'s rendering to `out` (no temporary string for the common short scalars).
pub fn brief_into(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = std::fmt::Write::write_fmt(out, format_args!("{n}"));
        }
        // A string that needs no escaping: quotes around it, as JSON writes it, cut as
        // `brief_json` cuts (the opening quote and 76 characters, then `...`).
        Value::String(s) if !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) => {
            out.push('"');
            match s.char_indices().nth(BRIEF_LIMIT - 2) {
                None => {
                    out.push_str(s);
                    out.push('"');
                }
                Some(_) => {
                    let cut = s
                        .char_indices()
                        .nth(BRIEF_LIMIT - 4)
                        .map_or(s.len(), |(i, _)| i);
                    out.push_str(s.get(..cut).unwrap_or(s));
                    out.push_str("...");
                }
            }
        }
        v => out.push_str(&brief_json(v)),
    }
}

fn brief_json(v: &Value) -> String {
    struct Capped(Vec<u8>);
    impl std::io::Write for Capped {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0.len() > BRIEF_LIMIT * 4 {
                return Err(std::io::Error::other("enough"));
            }
            self.0.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Capped(Vec::new());
    let complete = serde_json::to_writer(&mut out, v).is_ok();
    let text = String::from_utf8_lossy(&out.0);
    if complete && text.chars().count() <= BRIEF_LIMIT {
        return text.into_owned();
    }
    let cut: String = text.chars().take(BRIEF_LIMIT - 3).collect();
    format!("{cut}...")
}

/// A compiled `like` pattern: `*` matches any run, `?` one character; case-insensitive.
#[derive(Debug, Clone)]
pub struct LikePattern {
    tokens: Vec<LikeToken>,
    ascii: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum LikeToken {
    Char(char),
    One,
    Star,
}

impl LikePattern {
    /// Compile a pattern.
    pub fn new(pattern: &str) -> Self {
        let mut tokens = Vec::with_capacity(pattern.len());
        for c in pattern.chars() {
            match c {
                '*' => {
                    if tokens.last() != Some(&LikeToken::Star) {
                        tokens.push(LikeToken::Star);
                    }
                }
                '?' => tokens.push(LikeToken::One),
                _ => {
                    let mut buf = [0u8; 4];
                    tokens.extend(fold(c.encode_utf8(&mut buf)).chars().map(LikeToken::Char));
                }
            }
        }
        Self {
            tokens,
            ascii: pattern.is_ascii(),
        }
    }

    /// True when the whole of `text` matches.
    pub fn is_match(&self, text: &str) -> bool {
        if self.ascii && text.is_ascii() {
            let bytes = text.as_bytes();
            return wildcard_match(&self.tokens, bytes.len(), |i| {
                bytes.get(i).map(|b| char::from(b.to_ascii_lowercase()))
            });
        }
        let folded: Vec<char> = fold(text).chars().collect();
        wildcard_match(&self.tokens, folded.len(), |i| folded.get(i).copied())
    }
}

/// Greedy wildcard matching with backtracking to the last star: linear for one star, and
/// O(n·m) at worst, never exponential.
fn wildcard_match(tokens: &[LikeToken], len: usize, at: impl Fn(usize) -> Option<char>) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < len {
        match tokens.get(p) {
            Some(LikeToken::Star) => {
                star = Some((p, t));
                p += 1;
                continue;
            }
            Some(LikeToken::One) => {
                p += 1;
                t += 1;
                continue;
            }
            Some(LikeToken::Char(c)) if at(t) == Some(*c) => {
                p += 1;
                t += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((sp, st)) => {
                p = sp + 1;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    while tokens.get(p) == Some(&LikeToken::Star) {
        p += 1;
    }
    p == tokens.len()
}

/// A compiled `match` pattern: `#` a digit, `?` a letter, `.` any character, else literal.
#[derive(Debug, Clone)]
pub struct MatchPattern {
    chars: Vec<char>,
    insensitive: bool,
}

impl MatchPattern {
    /// Compile a pattern; `insensitive` for `matchInsensitively`.
    pub fn new(pattern: &str, insensitive: bool) -> Self {
        Self {
            chars: pattern.chars().collect(),
            insensitive,
        }
    }

    /// True when the whole of `text` matches, character for character.
    pub fn is_match(&self, text: &str) -> bool {
        let mut it = text.chars();
        for p in &self.chars {
            let Some(c) = it.next() else {
                return false;
            };
            let ok = match p {
                '#' => c.is_ascii_digit(),
                '?' => c.is_alphabetic(),
                '.' => true,
                _ if self.insensitive => c.to_lowercase().eq(p.to_lowercase()),
                _ => c == *p,
            };
            if !ok {
                return false;
            }
        }
        it.next().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The direct reading of `YYYY-MM-DD` answers as the pattern parsers do, and leaves
    /// every other shape to them.
    #[test]
    fn plain_dates_read_as_chrono_reads_them() {
        let chrono = |t: &str| {
            NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        };
        for t in [
            "2099-12-31",
            "2019-04-01",
            "0000-01-01",
            "2024-02-29",
            "9999-12-31",
        ] {
            assert_eq!(plain_date(t), chrono(t), "{t}");
            assert!(plain_date(t).is_some(), "{t}");
            assert_eq!(parse_datetime(t), plain_date(t), "{t}");
        }
        for t in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-1-011",
            "20240-1-01",
            "2024/01/01",
            "2024-01-0x",
            "2024-01-01Z",
        ] {
            assert_eq!(plain_date(t), None, "{t}");
            assert_eq!(parse_datetime(t), chrono(t), "{t}");
        }
        // A sign before the year is chrono's to read (and `parse_datetime` turns it away).
        assert_eq!(plain_date("+024-01-01"), None);
    }

    #[test]
    fn brief_scalars_read_as_compact_json() {
        // The direct path for short scalars must write what the serialising path writes.
        let long = "x".repeat(78);
        let values = [
            json!(null),
            json!(true),
            json!(-3),
            json!(18446744073709551615u64),
            json!(0.1),
            json!(1e300),
            json!(""),
            json!("TLS1_2"),
            json!("é ü 中"),
            json!("quote \" inside"),
            json!("back\\slash"),
            json!("tab\there"),
            json!(long),
            json!("x".repeat(79)),
            json!({"a": [1, 2]}),
        ];
        for v in values {
            assert_eq!(brief(&v), brief_json(&v), "{v}");
        }
        // Long strings are cut by characters, not bytes, at the same place either way.
        for n in 70..90 {
            for unit in ["x", "é", "中", "a\u{1F600}"] {
                let v = json!(unit.repeat(n));
                assert_eq!(brief(&v), brief_json(&v), "{n} {unit}");
            }
        }
        assert_eq!(brief(&json!("x".repeat(100))).chars().count(), 80);
        assert!(brief(&json!("x".repeat(100))).ends_with("..."));
    }

    #[test]
    fn equality_coerces() {
        assert!(value_eq(&json!("80"), &json!(80)));
        assert!(value_eq(&json!(true), &json!("TRUE")));
        assert!(!value_eq(&json!("yes"), &json!(true)));
        assert!(value_eq(&json!("MÜNCHEN"), &json!("münchen")));
        assert!(values_equal(None, &Value::Null));
        assert!(!values_equal(None, &json!("")));
        assert!(value_eq(&json!({"A": [1, "x"]}), &json!({"a": [1, "X"]})));
    }

    #[test]
    fn unicode_case_folding() {
        assert!(str_eq_ci("Straße", "STRASSE"));
        assert!(str_eq_ci("\u{FB03}ce", "FFICE"));
        assert!(LikePattern::new("die strasse*").is_match("Die Straße ist lang"));
        assert_eq!(
            compare_order(&json!("Straße"), &json!("strasse")),
            Ok(Ordering::Equal)
        );
    }

    #[test]
    fn like_patterns() {
        let p = LikePattern::new("prod-*");
        assert!(p.is_match("PROD-server"));
        assert!(!p.is_match("test-prod-"));
        assert!(LikePattern::new("*netrg").is_match("my-NetRG"));
        assert!(LikePattern::new("vm-?").is_match("vm-1"));
        assert!(!LikePattern::new("vm-?").is_match("vm-12"));
        assert!(LikePattern::new("a*b*c").is_match("axxbyyc"));
        assert!(LikePattern::new("*").is_match(""));
    }

    #[test]
    fn match_patterns() {
        assert!(MatchPattern::new("vm-##", false).is_match("vm-01"));
        assert!(!MatchPattern::new("VM-##", false).is_match("vm-01"));
        assert!(MatchPattern::new("VM-##", true).is_match("vm-01"));
        assert!(MatchPattern::new("?.#", false).is_match("a-1"));
        assert!(!MatchPattern::new("?#", false).is_match("a12"));
    }

    #[test]
    fn ordering() {
        assert_eq!(
            compare_order(&json!("8080"), &json!(1024)),
            Ok(Ordering::Greater)
        );
        assert_eq!(
            compare_order(&json!("2024-01-02T00:00:00Z"), &json!("2023-12-31")),
            Ok(Ordering::Greater)
        );
        assert_eq!(
            compare_order(&json!("abc"), &json!("ABD")),
            Ok(Ordering::Less)
        );
        assert!(compare_order(&json!(true), &json!(1)).is_err());
        assert!(compare_order(&json!("abc"), &json!(1)).is_err());
    }
}
