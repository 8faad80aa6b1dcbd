//! Property paths into ARM resource documents: `properties.securityRules[*].properties.access`,
//! `tags['cost.center']`. A path is parsed once at compile time and resolved without allocation
//! on the common path. Property names match case-insensitively, as ARM treats them.

use serde_json::Value;

/// One step of a property path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// An object member, matched case-insensitively (exact match tried first).
    Key(String),
    /// Every member of an array (`[*]`).
    Wildcard,
    /// One array element by position (`[0]`), used by a few raw paths.
    Index(usize),
}

/// A parsed property path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct PropertyPath {
    /// The steps, outermost first.
    pub segments: Vec<Segment>,
}

/// Error parsing a path string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError(pub String);

impl PropertyPath {
    /// Parse `a.b[*].c`, `tags['x.y']`, `tags[x]`, `a[0]`.
    pub fn parse(text: &str) -> Result<Self, PathError> {
        let mut segments = Vec::new();
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        let mut current = String::new();
        let flush = |current: &mut String, segments: &mut Vec<Segment>| {
            if !current.is_empty() {
                segments.push(Segment::Key(std::mem::take(current)));
            }
        };
        while let Some(&c) = chars.get(i) {
            match c {
                '.' => {
                    if current.is_empty() && !matches!(chars.get(i.wrapping_sub(1)), Some(']')) {
                        return Err(PathError(format!("empty property name in path `{text}`")));
                    }
                    flush(&mut current, &mut segments);
                    i += 1;
                }
                '[' => {
                    flush(&mut current, &mut segments);
                    let (segment, next) = parse_bracket(&chars, i, text)?;
                    segments.push(segment);
                    i = next;
                }
                _ => {
                    current.push(c);
                    i += 1;
                }
            }
        }
        flush(&mut current, &mut segments);
        if segments.is_empty() {
            return Err(PathError(format!("empty property path `{text}`")));
        }
        Ok(Self { segments })
    }

    /// True when the path contains `[*]`.
    pub fn has_wildcard(&self) -> bool {
        self.segments.iter().any(|s| matches!(s, Segment::Wildcard))
    }

    /// The path as text, in the alias-path style.
    pub fn display(&self) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Key(k) => {
                    if k.contains('.') || k.contains('[') || k.contains(']') {
                        out.push_str(&format!("['{}']", k.replace('\'', "''")));
                    } else {
                        if !out.is_empty() {
                            out.push('.');
                        }
                        out.push_str(k);
                    }
                }
                Segment::Wildcard => out.push_str("[*]"),
                Segment::Index(n) => out.push_str(&format!("[{n}]")),
            }
        }
        out
    }
}

/// Parse a bracket segment starting at `chars[start] == '['`; returns the segment and the index after `]`.
fn parse_bracket(chars: &[char], start: usize, text: &str) -> Result<(Segment, usize), PathError> {
    let mut i = start + 1;
    if chars.get(i) == Some(&'\'') {
        // Quoted key; `''` escapes an apostrophe.
        i += 1;
        let mut key = String::new();
        loop {
            match chars.get(i) {
                Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                    key.push('\'');
                    i += 2;
                }
                Some('\'') => {
                    i += 1;
                    break;
                }
                Some(&c) => {
                    key.push(c);
                    i += 1;
                }
                None => return Err(PathError(format!("unterminated quote in path `{text}`"))),
            }
        }
        if chars.get(i) != Some(&']') {
            return Err(PathError(format!("expected `]` in path `{text}`")));
        }
        return Ok((Segment::Key(key), i + 1));
    }
    // Unquoted: `*`, a number, or a bare key up to the matching `]`.
    let mut depth = 1;
    let mut inner = String::new();
    while let Some(&c) = chars.get(i) {
        if c == '[' {
            depth += 1;
        } else if c == ']' {
            depth -= 1;
            if depth == 0 {
                break;
            }
        }
        inner.push(c);
        i += 1;
    }
    if depth != 0 {
        return Err(PathError(format!("unbalanced `[` in path `{text}`")));
    }
    let segment = if inner == "*" {
        Segment::Wildcard
    } else if let Ok(n) = inner.parse::<usize>() {
        Segment::Index(n)
    } else if inner.is_empty() {
        return Err(PathError(format!("empty brackets in path `{text}`")));
    } else {
        Segment::Key(inner)
    };
    Ok((segment, i + 1))
}

/// Objects up to this many members are searched member by member.
const SMALL_OBJECT: usize = 12;

/// Look up an object member: exact name first, then ignoring case (ASCII without allocating;
/// Unicode folding only for non-ASCII names).
pub fn get_member<'a>(object: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a Value> {
    // Resource objects are small (a projected one holds four or five members on average), and
    // the key is found in its exact case almost every time. Comparing lengths first settles
    // most members in one step, which is cheaper than the map's ordered search: that one
    // compares whole names at every step. One pass finds the exact name or, failing that,
    // the first name (in the map's order) equal to it ignoring ASCII case; members are sorted
    // by name, so a key late in the alphabet is met sooner from the back.
    let (exact, folded) = if object.len() > SMALL_OBJECT {
        match object.get(key) {
            Some(v) => (Some(v), None),
            None => scan_members(object.iter(), key, false),
        }
    } else if key.as_bytes().first().is_some_and(|b| *b > b'n') {
        scan_members(object.iter().rev(), key, true)
    } else {
        scan_members(object.iter(), key, false)
    };
    if exact.is_some() {
        return exact;
    }
    if folded.is_some() {
        return folded;
    }
    // An ASCII name can only fold-match an ASCII key (ignoring exotic folds such as the Kelvin
    // sign), so the Unicode pass is for non-ASCII names only.
    if key.is_ascii() {
        return None;
    }
    let folded = key.to_lowercase();
    object
        .iter()
        .find(|(k, _)| k.to_lowercase() == folded)
        .map(|(_, v)| v)
}

/// The member named exactly `key` among `members` (stopping there), else none and the member
/// whose name equals `key` ignoring ASCII case: the first one met, or with `last_wins` (a
/// reversed walk) the last one met, so that either walk answers the map's first.
fn scan_members<'a>(
    members: impl Iterator<Item = (&'a String, &'a Value)>,
    key: &str,
    last_wins: bool,
) -> (Option<&'a Value>, Option<&'a Value>) {
    let mut folded = None;
    for (k, v) in members {
        if k.len() != key.len() {
            continue;
        }
        if k.as_bytes() == key.as_bytes() {
            return (Some(v), None);
        }
        if (last_wins || folded.is_none()) && k.eq_ignore_ascii_case(key) {
            folded = Some(v);
        }
    }
    (None, folded)
}

/// Resolve `segments` (without wildcards) against `root`. `None` when any step is missing.
pub fn resolve_single<'a>(root: &'a Value, segments: &[Segment]) -> Option<&'a Value> {
    let mut current = root;
    for segment in segments {
        current = match (segment, current) {
            (Segment::Key(k), Value::Object(map)) => get_member(map, k)?,
            (Segment::Index(n), Value::Array(items)) => items.get(*n)?,
            _ => return None,
        };
    }
    Some(current)
}

/// Resolve a path that may hold `[*]` into the collection of selected values, in document order.
/// A missing property after a wildcard yields `None` for that member (it still counts as a
/// member that must satisfy a condition); a missing or non-array value under `[*]` yields nothing.
pub fn resolve_collection<'a>(
    root: &'a Value,
    segments: &[Segment],
    out: &mut Vec<Option<&'a Value>>,
) {
    collect(Some(root), segments, out);
}

fn collect<'a>(node: Option<&'a Value>, segments: &[Segment], out: &mut Vec<Option<&'a Value>>) {
    let Some((first, rest)) = segments.split_first() else {
        out.push(node);
        return;
    };
    match first {
        Segment::Wildcard => {
            if let Some(Value::Array(items)) = node {
                for item in items {
                    collect(Some(item), rest, out);
                }
            }
        }
        Segment::Key(k) => {
            let next = match node {
                Some(Value::Object(map)) => get_member(map, k),
                _ => None,
            };
            if next.is_none() && rest.iter().any(|s| matches!(s, Segment::Wildcard)) {
                return;
            }
            collect(next, rest, out);
        }
        Segment::Index(n) => {
            let next = match node {
                Some(Value::Array(items)) => items.get(*n),
                _ => None,
            };
            if next.is_none() && rest.iter().any(|s| matches!(s, Segment::Wildcard)) {
                return;
            }
            collect(next, rest, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_alias_paths() {
        let p = PropertyPath::parse("properties.securityRules[*].properties.access").unwrap();
        assert_eq!(p.segments.len(), 5);
        assert!(p.has_wildcard());
        let t = PropertyPath::parse("tags['a.b''c']").unwrap();
        assert_eq!(
            t.segments,
            vec![Segment::Key("tags".into()), Segment::Key("a.b'c".into())]
        );
        let u = PropertyPath::parse("tags[my tag]").unwrap();
        assert_eq!(u.segments[1], Segment::Key("my tag".into()));
        assert!(PropertyPath::parse("a..b").is_err());
        assert!(PropertyPath::parse("a['x").is_err());
    }

    #[test]
    fn collects_nested_wildcards() {
        let doc = json!({"g": [{"m": [{"n": 1}, {"n": 2}]}, {"x": 1}, {"m": [{"n": 3}]}]});
        let p = PropertyPath::parse("g[*].m[*].n").unwrap();
        let mut out = Vec::new();
        resolve_collection(&doc, &p.segments, &mut out);
        assert_eq!(out, vec![Some(&json!(1)), Some(&json!(2)), Some(&json!(3))]);
        let q = PropertyPath::parse("g[*].m").unwrap();
        let mut out = Vec::new();
        resolve_collection(&doc, &q.segments, &mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(out[1], None);
    }

    #[test]
    fn keys_match_case_insensitively() {
        let doc = json!({"Properties": {"SupportsHttpsTrafficOnly": true}});
        let p = PropertyPath::parse("properties.supportsHttpsTrafficOnly").unwrap();
        assert_eq!(resolve_single(&doc, &p.segments), Some(&json!(true)));
    }

    /// The exact spelling wins over a case-insensitive match, whether the object is searched
    /// member by member (small) or through the map (large); then any case; then Unicode case.
    #[test]
    fn member_lookup_prefers_the_exact_name_in_objects_of_any_size() {
        for extra in [0, SMALL_OBJECT + 5] {
            let mut map = serde_json::Map::new();
            for i in 0..extra {
                map.insert(format!("k{i}"), json!(i));
            }
            map.insert("Name".into(), json!("upper"));
            map.insert("name".into(), json!("lower"));
            map.insert("Type".into(), json!("Upper"));
            map.insert("tYPE".into(), json!("mixed"));
            map.insert("type".into(), json!("exact"));
            map.insert("\u{c9}tat".into(), json!("accent"));
            assert_eq!(get_member(&map, "name"), Some(&json!("lower")), "{extra}");
            assert_eq!(get_member(&map, "Name"), Some(&json!("upper")), "{extra}");
            assert!(get_member(&map, "NAME").is_some(), "{extra}");
            assert_eq!(
                get_member(&map, "\u{e9}TAT"),
                Some(&json!("accent")),
                "{extra}"
            );
            assert_eq!(get_member(&map, "nam"), None, "{extra}");
            // Keys late in the alphabet are searched from the back: still the exact name
            // first, then the first fold match in the map's order.
            assert_eq!(get_member(&map, "type"), Some(&json!("exact")), "{extra}");
            assert_eq!(get_member(&map, "tYPE"), Some(&json!("mixed")), "{extra}");
            assert_eq!(get_member(&map, "TYPE"), Some(&json!("Upper")), "{extra}");
            // A lower-case first letter late in the alphabet walks from the back.
            assert_eq!(get_member(&map, "tyPE"), Some(&json!("Upper")), "{extra}");
            assert_eq!(get_member(&map, "typ"), None, "{extra}");
            assert_eq!(get_member(&map, "zzz"), None, "{extra}");
        }
    }
}
