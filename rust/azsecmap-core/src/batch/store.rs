//! The resource store: resources parsed through the pack's [`Projection`], in parallel, with
//! every line or element that is not a resource counted and reported by its line number while
//! the others still load.

use rayon::prelude::*;
use serde_json::Value;

use crate::projection::{Projection, TypeGate};

/// A line (NDJSON) or element (JSON array) that could not be read as a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// 1-based line number (NDJSON) or element number (JSON array).
    pub line: usize,
    /// One-line message.
    pub message: String,
}

/// Resources kept for evaluation (projected documents) and the load errors.
#[derive(Debug, Default)]
pub struct ResourceStore {
    /// The projected documents, in input order.
    pub docs: Vec<Value>,
    /// Lines or elements that were not resources.
    pub errors: Vec<LoadError>,
}

/// Check that a parsed document is a resource: an object with string `id` and `type`.
/// The non-blank lines of an NDJSON block, each with its 1-based number (`first_line` is the
/// block's first), and the number of newlines in the block (the next block's first line is
/// `first_line` plus that).
pub(crate) fn lines_of(block: &[u8], first_line: usize) -> (Vec<(usize, &[u8])>, usize) {
    let mut lines: Vec<(usize, &[u8])> = Vec::new();
    let newlines = for_each_line(block, first_line, |n, line| lines.push((n, line)));
    (lines, newlines)
}

/// `block` cut into parts of about `size` bytes, each but the last ending just after a newline.
pub(crate) fn parts_of(block: &[u8], size: usize) -> Vec<&[u8]> {
    let size = size.max(1);
    let mut parts = Vec::with_capacity(block.len() / size + 1);
    let mut rest = block;
    while let Some(end) = rest
        .get(size..)
        .and_then(|tail| memchr::memchr(b'\n', tail))
        .map(|i| size + i + 1)
    {
        let Some((part, tail)) = rest.split_at_checked(end) else {
            break;
        };
        parts.push(part);
        rest = tail;
    }
    if !rest.is_empty() {
        parts.push(rest);
    }
    parts
}

/// Call `each(number, line)` for every non-blank line of `part`, numbered from `first_line`;
/// returns the number of newlines in `part`.
pub(crate) fn for_each_line<'a>(
    part: &'a [u8],
    first_line: usize,
    mut each: impl FnMut(usize, &'a [u8]),
) -> usize {
    let mut start = 0;
    let mut newlines = 0;
    for end in memchr::memchr_iter(b'\n', part).chain(std::iter::once(part.len())) {
        let line = part.get(start..end).unwrap_or_default();
        if line.iter().any(|b| !b.is_ascii_whitespace()) {
            each(first_line + newlines, line);
        }
        newlines += 1;
        start = end + 1;
    }
    // The last `end` is the part's end, not a newline.
    newlines - 1
}

/// Parse NDJSON line number `line` through `projection`; whether the document is a resource
/// is the caller's to check ([`resource`], or [`identity`] when it needs `id` and `type`).
pub(crate) fn parse_line(
    projection: &Projection,
    bytes: &[u8],
    line: usize,
    gate: Option<TypeGate<'_>>,
) -> Result<Value, LoadError> {
    projection.parse_gated(bytes, gate).map_err(|e| LoadError {
        line,
        message: crate::policy::json_error(&e),
    })
}

/// `doc` when it is a resource, else the error for line (or element) number `line`.
pub(crate) fn resource(doc: Value, line: usize) -> Result<Value, LoadError> {
    match identity(&doc) {
        Ok(_) => Ok(doc),
        Err(message) => Err(LoadError { line, message }),
    }
}

/// The `id` and `type` of a resource document, or why it is not one.
pub(crate) fn identity(v: &Value) -> Result<(&str, &str), String> {
    let Value::Object(map) = v else {
        return Err(format!(
            "expected a resource object, got {}",
            crate::compare::brief(v)
        ));
    };
    let member = |key: &str| match crate::path::get_member(map, key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.as_str()),
        Some(other) => Err(format!(
            "`{key}` must be a non-empty string, got {}",
            crate::compare::brief(other)
        )),
        None => Err(format!("the resource has no `{key}`")),
    };
    Ok((member("id")?, member("type")?))
}

impl ResourceStore {
    /// Number of resources.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// True when no resource loaded.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Parse a block of NDJSON (whole lines) in parallel; `first_line` is the 1-based number of
    /// the block's first line. Blank lines are skipped.
    pub fn extend_ndjson(&mut self, block: &[u8], first_line: usize, projection: &Projection) {
        self.extend_ndjson_gated(block, first_line, projection, None);
    }

    /// Like [`Self::extend_ndjson`]; resources whose type `gate` rejects keep only `id` and
    /// `type`.
    pub fn extend_ndjson_gated(
        &mut self,
        block: &[u8],
        first_line: usize,
        projection: &Projection,
        gate: Option<TypeGate<'_>>,
    ) {
        let parsed: Vec<Result<Value, LoadError>> = lines_of(block, first_line)
            .0
            .par_iter()
            .with_min_len(256)
            .map(|&(line, bytes)| {
                parse_line(projection, bytes, line, gate).and_then(|v| resource(v, line))
            })
            .collect();
        self.docs.reserve(parsed.len());
        for p in parsed {
            match p {
                Ok(v) => self.docs.push(v),
                Err(e) => self.errors.push(e),
            }
        }
    }

    /// Parse a JSON array of resources or a Resource Graph page (`{"data": [...]}`).
    pub fn extend_json(&mut self, bytes: &[u8], projection: &Projection) -> Result<(), String> {
        let mut element = 0usize;
        let docs = &mut self.docs;
        let errors = &mut self.errors;
        projection
            .parse_many(bytes, &mut |v| {
                element += 1;
                match resource(v, element) {
                    Ok(v) => docs.push(v),
                    Err(e) => errors.push(e),
                }
            })
            .map_err(|e| crate::policy::json_error(&e))
    }

    /// Read NDJSON from `reader` in blocks of about `block_bytes`, never holding more than one
    /// block of raw text. Errors from the reader are returned; bad lines are recorded.
    pub fn read_ndjson(
        &mut self,
        reader: &mut dyn std::io::Read,
        projection: &Projection,
        block_bytes: usize,
    ) -> std::io::Result<()> {
        for_each_block(reader, block_bytes, &mut |block, first_line| {
            self.extend_ndjson(block, first_line, projection);
            true
        })
    }
}

/// Call `f(block, first_line)` for consecutive blocks of whole NDJSON lines of about
/// `block_bytes` each; stop early when `f` returns false.
pub fn for_each_block(
    reader: &mut dyn std::io::Read,
    block_bytes: usize,
    f: &mut dyn FnMut(&[u8], usize) -> bool,
) -> std::io::Result<()> {
    let block_bytes = block_bytes.max(1);
    let mut buf: Vec<u8> = Vec::with_capacity(block_bytes + (1 << 20));
    let mut chunk = vec![0u8; 1 << 20];
    let mut line = 1usize;
    let mut eof = false;
    let mut target = block_bytes;
    while !eof {
        while buf.len() < target {
            let n = reader.read(&mut chunk)?;
            if n == 0 {
                eof = true;
                break;
            }
            buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
        }
        let cut = if eof {
            buf.len()
        } else {
            match memchr::memrchr(b'\n', &buf) {
                Some(p) => p + 1,
                None => {
                    // One line longer than the block: read further before cutting.
                    target = target.saturating_mul(2);
                    continue;
                }
            }
        };
        target = block_bytes;
        let rest = buf.split_off(cut);
        let lines_in_block = memchr::memchr_iter(b'\n', &buf).count();
        if !buf.is_empty() && !f(&buf, line) {
            return Ok(());
        }
        line += lines_in_block;
        buf = rest;
    }
    Ok(())
}

/// Like [`for_each_block`], but hands over owned blocks and takes buffers back through
/// `recycle`, so a long stream reuses a few block buffers instead of faulting in fresh pages
/// for every block. Blocks come without line numbers: the consumer counts the newlines it
/// walks anyway ([`lines_of`]), so this (reading) thread does not scan the text a second time.
/// The first blocks are smaller (a sixteenth of `block_bytes`, doubling), so that the
/// consumer starts before a whole block has been read.
pub fn for_each_owned_block(
    reader: &mut dyn std::io::Read,
    block_bytes: usize,
    recycle: &std::sync::mpsc::Receiver<Vec<u8>>,
    f: &mut dyn FnMut(Vec<u8>) -> bool,
) -> std::io::Result<()> {
    use std::io::Read;
    let block_bytes = block_bytes.max(1);
    let mut carry: Vec<u8> = Vec::new();
    let mut eof = false;
    let mut ramp = 4u32;
    while !eof {
        // The reader writes straight into the buffer's spare room: no intermediate copy, and
        // no zero-filling first (`read_to_end` reads into uninitialised capacity).
        let mut buf = recycle
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(block_bytes + (1 << 20)));
        buf.clear();
        buf.extend_from_slice(&carry);
        carry.clear();
        let mut target = (block_bytes >> ramp).max(1);
        ramp = ramp.saturating_sub(1);
        let cut = loop {
            let want = target.saturating_sub(buf.len());
            if want > 0 {
                buf.reserve(want);
                let limit = u64::try_from(want).unwrap_or(u64::MAX);
                let n = (&mut *reader).take(limit).read_to_end(&mut buf)?;
                eof = n < want;
            }
            let filled = buf.len();
            if eof {
                break filled;
            }
            match memchr::memrchr(b'\n', &buf) {
                Some(p) => break p + 1,
                // One line longer than the block: read further before cutting.
                None => target = target.saturating_mul(2),
            }
        };
        carry.extend_from_slice(buf.get(cut..).unwrap_or_default());
        buf.truncate(cut);
        if !buf.is_empty() && !f(buf) {
            return Ok(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parts join back into the block, each but the last ends a line, and numbering the lines
    /// part by part (adding the newlines of the parts before) numbers them as the whole block.
    #[test]
    fn parts_cut_at_line_ends() {
        let text: String = (1..=30)
            .map(|i| match i % 5 {
                0 => "\n".to_string(),
                _ => format!("{{\"n\":{i},\"pad\":\"{}\"}}\n", "x".repeat(i * 7 % 23)),
            })
            .collect();
        for text in [text.as_str(), text.trim_end(), "", "\n", "no newline"] {
            let (want, want_newlines) = lines_of(text.as_bytes(), 5);
            for size in [1, 2, 10, 40, 100, 1 << 20] {
                let parts = parts_of(text.as_bytes(), size);
                assert_eq!(parts.concat(), text.as_bytes(), "size {size}");
                let (last, whole) = parts
                    .split_last()
                    .map_or((&[][..], &[][..]), |(l, w)| (*l, w));
                assert!(whole.iter().all(|p| p.ends_with(b"\n")), "size {size}");
                assert!(
                    whole.iter().all(|p| p.len() >= size.min(text.len())),
                    "size {size}"
                );
                assert!(!last.is_empty() || parts.is_empty(), "size {size}");
                let mut seen = Vec::new();
                let mut before = 0;
                for part in &parts {
                    before += for_each_line(part, 5 + before, |n, l| seen.push((n, l)));
                }
                assert_eq!((seen, before), (want.clone(), want_newlines), "size {size}");
            }
        }
    }

    /// Every block size, including ones shorter than a line, yields the same lines with the
    /// right starting line numbers, whether buffers are recycled or fresh.
    #[test]
    fn blocks_hold_whole_lines_at_any_block_size() {
        let text: String = (1..=40)
            .map(|i| format!("{{\"n\":{i},\"pad\":\"{}\"}}\n", "x".repeat(i * 3 % 17)))
            .collect();
        /// A reader that is interrupted by a signal before every read and returns at most
        /// five bytes a read.
        struct Stutter<'a>(&'a [u8], bool);
        impl std::io::Read for Stutter<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.1 = !self.1;
                if self.1 {
                    return Err(std::io::ErrorKind::Interrupted.into());
                }
                let n = buf.len().min(5).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        for (block, recycle_buffers, stutter) in [1, 2, 7, 16, 33, 100, 1 << 20]
            .into_iter()
            .flat_map(|b| [(b, false, false), (b, true, false), (b, true, true)])
        {
            {
                let (tx, rx) = std::sync::mpsc::channel();
                let mut seen = Vec::new();
                let mut plain = text.as_bytes();
                let mut stuttering = Stutter(text.as_bytes(), false);
                let reader: &mut dyn std::io::Read =
                    if stutter { &mut stuttering } else { &mut plain };
                let mut first = 1;
                for_each_owned_block(reader, block, &rx, &mut |buf| {
                    let (lines, newlines) = lines_of(&buf, first);
                    for (n, l) in lines {
                        seen.push((n, String::from_utf8(l.to_vec()).unwrap()));
                    }
                    first += newlines;
                    if recycle_buffers {
                        tx.send(buf).unwrap();
                    }
                    true
                })
                .unwrap();
                let want: Vec<(usize, String)> = text
                    .lines()
                    .enumerate()
                    .map(|(k, l)| (k + 1, l.to_string()))
                    .collect();
                assert_eq!(
                    seen, want,
                    "block {block}, recycled {recycle_buffers}, {stutter}"
                );
            }
        }
    }
}
