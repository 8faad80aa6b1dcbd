//! A minimal streaming JSON text writer for the generator's hot path: appends to a byte
//! buffer, tracks comma placement with one flag, escapes strings per RFC 8259. It builds no
//! tree, so a million documents cost a few allocations each rather than a `Value` apiece.

/// Appends compact JSON text to a byte buffer.
#[derive(Debug, Default)]
pub struct JsonWriter {
    buf: Vec<u8>,
    /// Whether the next value or key in the current container needs a leading comma.
    comma: bool,
}

impl JsonWriter {
    /// A writer over an empty buffer with room for `cap` bytes.
    pub fn with_capacity(cap: usize) -> Self {
        Self {
            buf: Vec::with_capacity(cap),
            comma: false,
        }
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Forgets the contents, keeping the allocation.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.comma = false;
    }

    /// Ends the current document with a newline (NDJSON).
    pub fn newline(&mut self) {
        self.buf.push(b'\n');
        self.comma = false;
    }

    fn sep(&mut self) {
        if self.comma {
            self.buf.push(b',');
        }
    }

    /// Opens an object (as a value).
    pub fn obj(&mut self) -> &mut Self {
        self.sep();
        self.buf.push(b'{');
        self.comma = false;
        self
    }

    /// Closes an object.
    pub fn end(&mut self) -> &mut Self {
        self.buf.push(b'}');
        self.comma = true;
        self
    }

    /// Opens an array (as a value).
    pub fn arr(&mut self) -> &mut Self {
        self.sep();
        self.buf.push(b'[');
        self.comma = false;
        self
    }

    /// Closes an array.
    pub fn end_arr(&mut self) -> &mut Self {
        self.buf.push(b']');
        self.comma = true;
        self
    }

    /// Writes an object key; the next call writes its value.
    pub fn k(&mut self, key: &str) -> &mut Self {
        self.sep();
        self.quoted(key);
        self.buf.push(b':');
        self.comma = false;
        self
    }

    /// A string value.
    pub fn s(&mut self, v: &str) -> &mut Self {
        self.sep();
        self.quoted(v);
        self.comma = true;
        self
    }

    /// A string value built from format arguments (escaped after formatting).
    pub fn sf(&mut self, args: std::fmt::Arguments<'_>) -> &mut Self {
        self.sep();
        self.buf.push(b'"');
        let start = self.buf.len();
        match args.as_str() {
            Some(lit) => escape_into(&mut self.buf, lit),
            None => {
                // INVARIANT: writing into a Vec cannot fail short of a lying Display impl.
                let _ = std::io::Write::write_fmt(&mut self.buf, args);
                let dirty = self
                    .buf
                    .get(start..)
                    .is_some_and(|t| t.iter().any(|b| needs_escape(*b)));
                if dirty {
                    let tail = self.buf.split_off(start);
                    escape_into(&mut self.buf, &String::from_utf8_lossy(&tail));
                }
            }
        }
        self.buf.push(b'"');
        self.comma = true;
        self
    }

    /// An unsigned integer value.
    pub fn u(&mut self, v: u64) -> &mut Self {
        self.sep();
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut n = v;
        loop {
            i -= 1;
            if let Some(d) = digits.get_mut(i) {
                *d = b'0' + (n % 10) as u8;
            }
            n /= 10;
            if n == 0 || i == 0 {
                break;
            }
        }
        self.buf
            .extend_from_slice(digits.get(i..).unwrap_or_default());
        self.comma = true;
        self
    }

    /// A boolean value.
    pub fn b(&mut self, v: bool) -> &mut Self {
        self.sep();
        self.buf
            .extend_from_slice(if v { b"true" } else { b"false" });
        self.comma = true;
        self
    }

    /// `null`.
    pub fn null(&mut self) -> &mut Self {
        self.sep();
        self.buf.extend_from_slice(b"null");
        self.comma = true;
        self
    }

    /// A value that is already valid JSON text (a literal such as `1.5`).
    pub fn raw(&mut self, json: &str) -> &mut Self {
        self.sep();
        self.buf.extend_from_slice(json.as_bytes());
        self.comma = true;
        self
    }

    /// `"key": "value"`.
    pub fn ks(&mut self, key: &str, v: &str) -> &mut Self {
        self.k(key).s(v)
    }

    /// `"key": <formatted string>`.
    pub fn kf(&mut self, key: &str, args: std::fmt::Arguments<'_>) -> &mut Self {
        self.k(key).sf(args)
    }

    /// `"key": <unsigned>`.
    pub fn ku(&mut self, key: &str, v: u64) -> &mut Self {
        self.k(key).u(v)
    }

    /// `"key": <bool>`.
    pub fn kb(&mut self, key: &str, v: bool) -> &mut Self {
        self.k(key).b(v)
    }

    /// `"key": {` — remember to [`end`](Self::end).
    pub fn ko(&mut self, key: &str) -> &mut Self {
        self.k(key).obj()
    }

    /// `"key": [` — remember to [`end_arr`](Self::end_arr).
    pub fn ka(&mut self, key: &str) -> &mut Self {
        self.k(key).arr()
    }

    /// `"key": {"id": "<id>"}`, the ARM sub-resource reference shape.
    pub fn kref(&mut self, key: &str, id: &str) -> &mut Self {
        self.ko(key).ks("id", id).end()
    }

    /// `"key": []`.
    pub fn kempty(&mut self, key: &str) -> &mut Self {
        self.ka(key).end_arr()
    }

    /// An array of strings under `key`.
    pub fn kstrs(&mut self, key: &str, items: &[&str]) -> &mut Self {
        self.ka(key);
        for it in items {
            self.s(it);
        }
        self.end_arr()
    }

    fn quoted(&mut self, v: &str) {
        self.buf.push(b'"');
        escape_into(&mut self.buf, v);
        self.buf.push(b'"');
    }
}

fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Appends `s` with JSON string escaping (quote, backslash, control characters).
fn escape_into(buf: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if !bytes.iter().any(|b| needs_escape(*b)) {
        buf.extend_from_slice(bytes);
        return;
    }
    for &b in bytes {
        match b {
            b'"' => buf.extend_from_slice(b"\\\""),
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            c if c < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                buf.extend_from_slice(b"\\u00");
                buf.push(HEX.get(usize::from(c >> 4)).copied().unwrap_or(b'0'));
                buf.push(HEX.get(usize::from(c & 15)).copied().unwrap_or(b'0'));
            }
            c => buf.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_parseable_escaped_json() {
        let mut w = JsonWriter::default();
        w.obj()
            .ks("a", "q\"\\\n\u{1}é")
            .ku("n", 0)
            .ku("m", u64::MAX)
            .kb("t", true)
            .ka("xs")
            .s("x")
            .u(12)
            .null()
            .obj()
            .end()
            .end_arr()
            .kf("f", format_args!("{}-{}", "a\"", 3))
            .kempty("e")
            .end();
        let v: serde_json::Value = serde_json::from_slice(w.as_bytes()).unwrap();
        assert_eq!(v["a"], "q\"\\\n\u{1}é");
        assert_eq!(v["m"], u64::MAX);
        assert_eq!(v["xs"], serde_json::json!(["x", 12, null, {}]));
        assert_eq!(v["f"], "a\"-3");
    }
}
