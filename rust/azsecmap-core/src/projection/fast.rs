//! The fast path of [`Projection::parse_gated`](super::Projection::parse_gated): a reader of
//! one UTF-8 document that walks it once, finds the ends of strings 64 bytes a step,
//! skips what the trie does not keep while checking it is valid JSON, and builds values only
//! for what it keeps.
//!
//! It answers `None` whenever it is not sure: invalid JSON, nesting deeper than
//! [`MAX_DEPTH`], a second `type` member at the root, a key it cannot read. The caller then
//! parses the document with serde_json, whose answer (value or error message) is the reference;
//! so this reader may refuse a valid document but must never accept an invalid one, nor build a
//! value that differs from serde_json's. `tests::agrees_with_serde_json` checks both.

use serde_json::{Map, Value};

use super::{is_identity_key, Node, TypeGate};

/// Deeper documents are left to serde_json (its own limit is 128 levels).
const MAX_DEPTH: usize = 100;
// `skip` keeps its open containers as bits of a `u128`.
const _: () = assert!(MAX_DEPTH < 128);

/// Parse `text` through `root`; `None`: let serde_json decide.
pub(super) fn parse(root: &Node, text: &str, gate: Option<TypeGate<'_>>) -> Option<Value> {
    with_masks(text, |mut r| {
        r.ws();
        let v = r.pruned(root, gate, 0)?;
        r.ws();
        (r.pos == r.bytes.len()).then_some(v)
    })
}

/// Parse all of `text`; `None`: let serde_json decide.
pub(crate) fn parse_whole(text: &str) -> Option<Value> {
    with_masks(text, |mut r| {
        r.ws();
        let v = r.whole(0)?;
        r.ws();
        (r.pos == r.bytes.len()).then_some(v)
    })
}

thread_local! {
    /// Each thread's buffer for the special-character masks of the document it reads.
    static MASKS: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Words of mask a thread keeps between documents (a 4 MB document); a longer one's are freed.
const KEPT_MASK_WORDS: usize = 1 << 16;

/// Run `read` on a reader of `text`, its masks in this thread's buffer; `None` also when that
/// buffer is unavailable (so serde_json decides).
fn with_masks<T>(text: &str, read: impl FnOnce(Reader<'_>) -> Option<T>) -> Option<T> {
    MASKS
        .try_with(|cell| {
            let mut masks = cell.try_borrow_mut().ok()?;
            special_masks(text.as_bytes(), &mut masks);
            let out = read(Reader::new(text, &masks));
            if masks.capacity() > KEPT_MASK_WORDS {
                *masks = Vec::new();
            }
            out
        })
        .ok()
        .flatten()
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// [`special_masks`] of `bytes`.
    masks: &'a [u64],
}

impl<'a> Reader<'a> {
    fn new(text: &'a str, masks: &'a [u64]) -> Self {
        Reader {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            masks,
        }
    }

    /// Where the first quote, backslash or control character at or after `from` sits; `None`
    /// past the end.
    #[inline]
    fn next_special(&self, from: usize) -> Option<usize> {
        let mut block = from / 64;
        let bits = self.masks.get(block)? >> (from % 64);
        if bits != 0 {
            return Some(from + bits.trailing_zeros() as usize);
        }
        loop {
            block += 1;
            let bits = *self.masks.get(block)?;
            if bits != 0 {
                return Some(block * 64 + bits.trailing_zeros() as usize);
            }
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skip JSON whitespace.
    #[inline(always)]
    fn ws(&mut self) {
        // Compact JSON: most calls find no whitespace at all.
        if self.peek().is_some_and(|b| b > b' ') {
            return;
        }
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    #[inline]
    fn eat(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.pos += 1)
    }

    /// A value through `node` (`depth`: enclosing arrays and objects).
    fn pruned(&mut self, node: &Node, gate: Option<TypeGate<'_>>, depth: usize) -> Option<Value> {
        if node.keep_all {
            return self.whole(depth);
        }
        match self.peek()? {
            b'{' => self.object(node, gate, depth),
            b'[' => {
                let mut out = Vec::new();
                self.elements(depth, |r, depth| match &node.elements {
                    Some(e) => {
                        out.push(r.pruned(e, None, depth)?);
                        Some(())
                    }
                    None => r.skip(depth),
                })?;
                Some(Value::Array(out))
            }
            _ => self.scalar(),
        }
    }

    /// The members of an object through `node`; at the root, `gate` may cut the resource down
    /// to its `id` and `type` once its type is read.
    fn object(&mut self, node: &Node, gate: Option<TypeGate<'_>>, depth: usize) -> Option<Value> {
        let mut out = Map::new();
        let mut lean = false;
        let mut seen_type = false;
        self.members(depth, |r, key, depth| {
            let Some(child) = node.find_bytes(key.as_str().as_bytes()) else {
                return r.skip(depth);
            };
            let key = key.into_string();
            if lean && !is_identity_key(&key) {
                return r.skip(depth);
            }
            let v = r.pruned(child, None, depth)?;
            if let Some(gate) = gate.filter(|_| key.eq_ignore_ascii_case("type")) {
                if seen_type {
                    // The gate may have dropped members the last `type` needs.
                    return None;
                }
                seen_type = true;
                lean = v.as_str().is_some_and(|t| !gate(t));
            }
            out.insert(key, v);
            Some(())
        })?;
        if lean {
            out.retain(|k, _| is_identity_key(k));
        }
        Some(Value::Object(out))
    }

    /// Walk an array at `pos`, calling `each` at every element.
    fn elements(
        &mut self,
        depth: usize,
        each: impl FnMut(&mut Self, usize) -> Option<()>,
    ) -> Option<()> {
        self.container(b'[', b']', depth, each)
    }

    /// Walk an object at `pos`, calling `each` with every key (the reader then at its value).
    fn members(
        &mut self,
        depth: usize,
        mut each: impl FnMut(&mut Self, Key<'a>, usize) -> Option<()>,
    ) -> Option<()> {
        self.container(b'{', b'}', depth, |r, depth| {
            let key = r.key()?;
            r.ws();
            r.eat(b':')?;
            r.ws();
            each(r, key, depth)
        })
    }

    /// Walk the array or object opened by `open` at `pos`, calling `each` at the start of every
    /// entry (its nesting depth passed on) and checking the commas and the closing `close`.
    fn container(
        &mut self,
        open: u8,
        close: u8,
        depth: usize,
        mut each: impl FnMut(&mut Self, usize) -> Option<()>,
    ) -> Option<()> {
        let depth = depth + 1;
        if depth > MAX_DEPTH {
            return None;
        }
        self.eat(open)?;
        self.ws();
        if self.eat(close).is_some() {
            return Some(());
        }
        loop {
            self.ws();
            each(self, depth)?;
            self.ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b if b == close => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Skip one value, checking it is valid JSON. One loop over the tokens with the open
    /// containers as a bit stack (1: object), rather than a call per nested value.
    fn skip(&mut self, depth: usize) -> Option<()> {
        let mut objects: u128 = 0;
        let mut open = 0usize;
        loop {
            // At a value.
            match self.peek()? {
                b'{' | b'[' => {
                    let object = self.peek()? == b'{';
                    if depth + open + 1 > MAX_DEPTH {
                        return None;
                    }
                    self.pos += 1;
                    self.ws();
                    let close = if object { b'}' } else { b']' };
                    if self.eat(close).is_none() {
                        objects = objects << 1 | u128::from(object);
                        open += 1;
                        if object {
                            self.skip_key()?;
                        }
                        continue;
                    }
                }
                b'"' => {
                    self.string()?;
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                _ => {
                    self.number()?;
                }
            }
            // After a value: the next one, or the end of its containers.
            loop {
                if open == 0 {
                    return Some(());
                }
                self.ws();
                let object = objects & 1 == 1;
                match self.peek()? {
                    b',' => {
                        self.pos += 1;
                        self.ws();
                        if object {
                            self.skip_key()?;
                        }
                        break;
                    }
                    b'}' if object => {}
                    b']' if !object => {}
                    _ => return None,
                }
                self.pos += 1;
                objects >>= 1;
                open -= 1;
            }
        }
    }

    /// Skip `"key":` and the whitespace around the colon, the reader then at the value.
    #[inline(always)]
    fn skip_key(&mut self) -> Option<()> {
        if self.peek()? != b'"' {
            return None;
        }
        self.string()?;
        self.ws();
        self.eat(b':')?;
        self.ws();
        Some(())
    }

    /// A whole value.
    fn whole(&mut self, depth: usize) -> Option<Value> {
        match self.peek()? {
            b'{' => {
                let mut out = Map::new();
                self.members(depth, |r, key, depth| {
                    let v = r.whole(depth)?;
                    out.insert(key.into_string(), v);
                    Some(())
                })?;
                Some(Value::Object(out))
            }
            b'[' => {
                let mut out = Vec::new();
                self.elements(depth, |r, depth| {
                    out.push(r.whole(depth)?);
                    Some(())
                })?;
                Some(Value::Array(out))
            }
            _ => self.scalar(),
        }
    }

    fn scalar(&mut self) -> Option<Value> {
        match self.peek()? {
            b'"' => {
                let start = self.pos;
                let escaped = self.string()?;
                let raw = self.text.get(start..self.pos)?;
                if escaped {
                    serde_json::from_str::<String>(raw).ok().map(Value::String)
                } else {
                    Some(Value::String(raw.get(1..raw.len() - 1)?.to_owned()))
                }
            }
            b't' => self.literal(b"true").map(|()| Value::Bool(true)),
            b'f' => self.literal(b"false").map(|()| Value::Bool(false)),
            b'n' => self.literal(b"null").map(|()| Value::Null),
            _ => {
                let token = self.number()?;
                integer(token).or_else(|| serde_json::from_str(token).ok())
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.pos + word.len();
        (self.bytes.get(self.pos..end)? == word).then(|| self.pos = end)
    }

    /// A number's text, checked against the JSON grammar.
    fn number(&mut self) -> Option<&'a str> {
        let start = self.pos;
        self.eat(b'-');
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.eat(b'.').is_some() {
            self.peek().filter(u8::is_ascii_digit)?;
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.peek().filter(u8::is_ascii_digit)?;
            self.digits();
        }
        self.text.get(start..self.pos)
    }

    #[inline]
    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    /// Skip a string at `pos` (its quotes included), checking its escapes and that it holds no
    /// control character; true when it holds an escape.
    #[inline]
    fn string(&mut self) -> Option<bool> {
        self.eat(b'"')?;
        let end = self.next_special(self.pos)?;
        if self.bytes.get(end) == Some(&b'"') {
            self.pos = end + 1;
            return Some(false);
        }
        self.pos = end;
        self.string_rest()
    }

    /// The rest of a string from its first backslash or control character.
    #[inline(never)]
    fn string_rest(&mut self) -> Option<bool> {
        let mut escaped = false;
        loop {
            self.pos = self.next_special(self.pos)?;
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some(escaped);
                }
                b'\\' => {}
                _ => return None, // a control character
            }
            // A backslash: one of the JSON escapes.
            escaped = true;
            self.pos += 1;
            match self.peek()? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.pos += 1,
                b'u' => {
                    let hex = self.bytes.get(self.pos + 1..self.pos + 5)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    self.pos += 5;
                }
                _ => return None,
            }
        }
    }

    /// An object key.
    fn key(&mut self) -> Option<Key<'a>> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.pos;
        let escaped = self.string()?;
        let raw = self.text.get(start..self.pos)?;
        if escaped {
            serde_json::from_str::<String>(raw).ok().map(Key::Decoded)
        } else {
            raw.get(1..raw.len() - 1).map(Key::Raw)
        }
    }
}

/// Fill `out` with one bit for each byte of `bytes` (bit `i % 64` of word `i / 64`) that is a
/// quote, a backslash or a control character; every bit past the end is set, so a string that
/// runs off the end stops there. Sixteen bytes are compared a step (SSE2 on x86-64).
fn special_masks(bytes: &[u8], out: &mut Vec<u64>) {
    out.clear();
    out.reserve(bytes.len() / 64 + 1);
    let mut blocks = bytes.chunks_exact(64);
    for block in &mut blocks {
        out.push(special_mask(block));
    }
    let mut padded = [0u8; 64];
    let tail = blocks.remainder();
    if let Some(dst) = padded.get_mut(..tail.len()) {
        dst.copy_from_slice(tail);
    }
    // The zero padding reads as control characters.
    out.push(special_mask(&padded));
}

/// [`special_masks`] of one 64-byte block.
#[inline]
fn special_mask(block: &[u8]) -> u64 {
    let quote = wide::u8x16::splat(b'"');
    let backslash = wide::u8x16::splat(b'\\');
    let last_control = wide::u8x16::splat(0x1f);
    let mut mask = 0u64;
    for (i, lane) in block.chunks_exact(16).enumerate() {
        let Ok(lane) = <[u8; 16]>::try_from(lane) else {
            continue;
        };
        let v = wide::u8x16::from(lane);
        let special =
            v.cmp_eq(quote) | v.cmp_eq(backslash) | v.max(last_control).cmp_eq(last_control);
        // `move_mask` sets only the low 16 bits.
        mask |= u64::from(special.move_mask() as u16) << (16 * i);
    }
    mask
}

/// A number without fraction or exponent that fits its integer type, as serde_json reads it;
/// `None` for anything else, including `-0` (which serde_json reads as the float -0.0).
fn integer(token: &str) -> Option<Value> {
    if token.bytes().any(|b| matches!(b, b'.' | b'e' | b'E')) {
        return None;
    }
    if token.starts_with('-') {
        token
            .parse::<i64>()
            .ok()
            .filter(|v| *v != 0)
            .map(Value::from)
    } else {
        token.parse::<u64>().ok().map(Value::from)
    }
}

/// An object key: borrowed when it holds no escape.
enum Key<'a> {
    Raw(&'a str),
    Decoded(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Raw(k) => k,
            Key::Decoded(k) => k,
        }
    }

    fn into_string(self) -> String {
        match self {
            Key::Raw(k) => k.to_owned(),
            Key::Decoded(k) => k,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::super::{Projection, EVALUATION_FIELDS};
    use crate::path::PropertyPath;

    fn projection() -> Projection {
        let mut p = Projection::top_level(EVALUATION_FIELDS);
        for path in [
            "properties.rules[*].on",
            "properties.Tags",
            "properties.list",
            "properties.skipped.inner",
            "properties.n",
        ] {
            p.add(&PropertyPath::parse(path).unwrap());
        }
        p
    }

    /// Every document serde_json accepts, the fast reader either refuses or reads to the same
    /// value; every document serde_json refuses, the fast reader refuses too. Documents cover
    /// the grammar's corners: numbers, escapes, control characters, literals, nesting,
    /// whitespace, trailing text, keys in any case, escaped keys, duplicate members.
    #[test]
    fn agrees_with_serde_json() {
        let p = projection();
        let everything = Projection::everything();
        let valid = [
            r#"{"id":"/s/a","type":"T","name":"n"}"#,
            " \t{ \"ID\" : \"x\" , \"Type\":\"T\" }\r\n",
            r#"{"id":"\"q\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","type":"T"}"#,
            r#"{"properties":{"n":-0.5e-3,"rules":[{"on":1E+2,"off":[1,{"a":null}]},{"ON":true},3,"s"]}}"#,
            r#"{"properties":{"n":18446744073709551616,"list":[1,-0,0.0,1e308,123456789012345678901234567890]}}"#,
            r#"{"properties":{"n":-9223372036854775808,"tags":{"a":{"b":[[]]}},"skipped":[1,2,{"inner":3}]}}"#,
            r#"{"properties":{"skipped":{"inner":{"z":[]},"no":1},"PROPERTIES":{"n":2}}}"#,
            r#"{"id":1,"id":2,"x":{"y":[true,false,null]}}"#,
            r#"{"\u0069d":"escaped key","na\u006de":"n","\u00e9":1}"#,
            r#"{"properties":{"n":"caf\u00e9 ünïcödé ✓"}}"#,
            r#"[1,{"id":"x"}]"#,
            r#""just a string""#,
            "12",
            "{}",
            "[]",
            r#"{"a":"\u0000"}"#,
            r#"{"properties":{"n":-0}}"#,
            r#"{"id":"/subscriptions/0000/resourceGroups/rg/providers/A.B/c/\"quoted\"\u00e9\\x","type":"T"}"#,
            r#"{"properties":{"n":"a long string that runs past the word-by-word part / and on"}}"#,
            r#"{"skipped":"a long string that runs past the word-by-word part, \t then an escape"}"#,
            r#"{"properties":{"list":[0,-1,9223372036854775807,9223372036854775808,-9223372036854775809]}}"#,
            r#"{"properties":{"n":18446744073709551615}}"#,
        ];
        let invalid = [
            r#"{"id":"x""#,
            r#"{"id":"x",}"#,
            r#"{"id":"x" "type":"T"}"#,
            r#"{"id":x}"#,
            r#"{"n":01}"#,
            r#"{"n":1.}"#,
            r#"{"n":.5}"#,
            r#"{"n":1e}"#,
            r#"{"n":-}"#,
            r#"{"n":+1}"#,
            r#"{"n":tru}"#,
            r#"{"n":nul}"#,
            r#"{"s":"a\x"}"#,
            r#"{"s":"\u12G4"}"#,
            "{\"s\":\"tab\there\"}",
            "{\"s\":\"new\nline\"}",
            r#"{"a":[1,2}"#,
            r#"{"a":[1,]}"#,
            r#"{"a":1}x"#,
            r#"{"a":1}{"b":2}"#,
            r#"{1:2}"#,
            r#"{"a" 1}"#,
            "",
            "   ",
            r#"{"properties":{"n":[1,2"#,
            r#"{"x":{"y":[1,{"z":"#,
            r#"{"x":"\ud800"}"#,
            "{\"s\":\"a long string that runs past the word-by-word part\tthen a tab\"}",
            "{\"properties\":{\"n\":\"a long string that runs past the word-by-word part\u{1}\"}}",
            r#"{"s":"a long string that runs past the word-by-word part and never ends}"#,
            r#"{"s":"a long string that runs past the word-by-word part \q bad escape"}"#,
            r#"{"properties":{"n":"\udc00x"}}"#,
        ];
        let deep = format!("{}1{}", "[".repeat(120), "]".repeat(120));
        let too_deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        let deep_kept = format!(
            r#"{{"properties":{{"n":{}1{}}}}}"#,
            "[".repeat(90),
            "]".repeat(90)
        );
        let mut all: Vec<&str> = valid.iter().chain(&invalid).copied().collect();
        all.extend([deep.as_str(), too_deep.as_str(), deep_kept.as_str()]);
        // Strings are found a 64-byte block at a time: shifting each document by 0 to 64
        // bytes puts every quote, escape and control character on each side of a block edge.
        let shifted: Vec<String> = all
            .iter()
            .flat_map(|text| (0..=64).map(move |k| format!("{}{text}", " ".repeat(k))))
            .collect();
        for text in shifted.iter().map(String::as_str) {
            for proj in [&p, &everything] {
                let reference = proj.parse_serde(text.as_bytes(), Some(text), None);
                let fast = super::parse(&proj.root, text, None);
                if proj.everything {
                    assert_eq!(fast, super::parse_whole(text), "{text}");
                }
                match (&reference, &fast) {
                    (Ok(a), Some(b)) => assert_eq!(a, b, "{text}"),
                    (Err(_), Some(b)) => panic!("accepted what serde_json refuses: {text} -> {b}"),
                    _ => {}
                }
            }
        }
        // The common cases must take the fast path, or it is worth nothing.
        for text in &valid {
            for k in [0, 1, 31, 63, 64] {
                let text = format!("{}{text}", " ".repeat(k));
                assert!(super::parse(&p.root, &text, None).is_some(), "{text}");
            }
        }
    }

    /// The root gate: a resource of a type no policy needs keeps only `id` and `type`; a
    /// second `type` member sends the document to serde_json.
    #[test]
    fn gate_cuts_unneeded_resources_and_defers_duplicate_types() {
        let p = projection();
        let gate = |t: &str| t != "Other/type";
        let text = r#"{"id":"i","name":"n","type":"Other/type","properties":{"n":1}}"#;
        assert_eq!(
            super::parse(&p.root, text, Some(&gate)),
            Some(serde_json::json!({"id": "i", "type": "Other/type"}))
        );
        let twice = r#"{"id":"i","type":"Other/type","type":"Kept/type","properties":{"n":1}}"#;
        assert_eq!(super::parse(&p.root, twice, Some(&gate)), None);
    }
}
