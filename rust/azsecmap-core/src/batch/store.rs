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
    let mut start = 0;
    let mut newlines = 0;
    let ends = memchr::memchr_iter(b'\n', block).chain(std::iter::once(block.len()));
    for (n, end) in (first_line..).zip(ends) {
        let line = block.get(start..end).unwrap_or_default();
        if line.iter().any(|b| !b.is_ascii_whitespace()) {
            lines.push((n, line));
        }
        // The last `end` is the block's end, not a newline.
        newlines = n - first_line;
        start = end + 1;
    }
    (lines, newlines)
}

/// Parse NDJSON line number `line` through `projection` into a resource.
pub(crate) fn parse_line(
    projection: &Projection,
    bytes: &[u8],
    line: usize,
    gate: Option<TypeGate<'_>>,
) -> Result<Value, LoadError> {
    projection
        .parse_gated(bytes, gate)
        .map_err(|e| crate::policy::json_error(&e))
        .and_then(|v| check_resource(&v).map(|()| v))
        .map_err(|message| LoadError { line, message })
}

fn check_resource(v: &Value) -> Result<(), String> {
    let Value::Object(map) = v else {
        return Err(format!(
            "expected a resource object, got {}",
            crate::compare::brief(v)
        ));
    };
    for key in ["id", "type"] {
        match crate::path::get_member(map, key) {
            Some(Value::String(s)) if !s.is_empty() => {}
            Some(other) => {
                return Err(format!(
                    "`{key}` must be a non-empty string, got {}",
                    crate::compare::brief(other)
                ))
            }
            None => return Err(format!("the resource has no `{key}`")),
        }
    }
    Ok(())
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
            .map(|&(line, bytes)| parse_line(projection, bytes, line, gate))
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
                match check_resource(&v) {
                    Ok(()) => docs.push(v),
                    Err(message) => errors.push(LoadError {
                        line: element,
                        message,
                    }),
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
pub fn for_each_owned_block(
    reader: &mut dyn std::io::Read,
    block_bytes: usize,
    recycle: &std::sync::mpsc::Receiver<Vec<u8>>,
    f: &mut dyn FnMut(Vec<u8>) -> bool,
) -> std::io::Result<()> {
    let block_bytes = block_bytes.max(1);
    let mut carry: Vec<u8> = Vec::new();
    let mut eof = false;
    while !eof {
        // A recycled buffer keeps its length, so only bytes past it are ever zero-filled, and
        // the reader writes straight into it (no intermediate copy).
        let mut buf = recycle
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(block_bytes + (1 << 20)));
        let mut filled = carry.len();
        if buf.len() < filled {
            buf.resize(filled, 0);
        }
        if let Some(head) = buf.get_mut(..filled) {
            head.copy_from_slice(&carry);
        }
        carry.clear();
        let mut target = block_bytes;
        let cut = loop {
            while filled < target {
                if buf.len() < target {
                    buf.resize(target, 0);
                }
                let n = reader.read(buf.get_mut(filled..).unwrap_or_default())?;
                if n == 0 {
                    eof = true;
                    break;
                }
                filled += n;
            }
            if eof {
                break filled;
            }
            match memchr::memrchr(b'\n', buf.get(..filled).unwrap_or_default()) {
                Some(p) => break p + 1,
                // One line longer than the block: read further before cutting.
                None => target = target.saturating_mul(2),
            }
        };
        carry.extend_from_slice(buf.get(cut..filled).unwrap_or_default());
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

    /// Every block size, including ones shorter than a line, yields the same lines with the
    /// right starting line numbers, whether buffers are recycled or fresh.
    #[test]
    fn blocks_hold_whole_lines_at_any_block_size() {
        let text: String = (1..=40)
            .map(|i| format!("{{\"n\":{i},\"pad\":\"{}\"}}\n", "x".repeat(i * 3 % 17)))
            .collect();
        for block in [1, 2, 7, 16, 33, 100, 1 << 20] {
            for recycle_buffers in [false, true] {
                let (tx, rx) = std::sync::mpsc::channel();
                let mut seen = Vec::new();
                let mut reader = text.as_bytes();
                let mut first = 1;
                for_each_owned_block(&mut reader, block, &rx, &mut |buf| {
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
                assert_eq!(seen, want, "block {block}, recycled {recycle_buffers}");
            }
        }
    }
}
