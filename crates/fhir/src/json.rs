//! One JSON record to a flat tape: the parse ingest runs for every resource.
//!
//! The tape is what [`crate::tape::Node`] reads: a node, then its members or elements in
//! document order ([`Entry`]); an object or array entry holds how many entries follow for its
//! content, so a reader steps over a value without looking into it. The tape used to be
//! simd-json's (this is its layout), which indexes every byte's structure in a
//! SIMD pass, then copies every string into a side buffer while it builds the tape: about 7,800
//! instructions per resource of the ingest benchmark (725 bytes each, a quarter of ingest's
//! work).
//!
//! FHIR records are mostly short ASCII strings with no escapes, so this reader does less:
//! - the record is checked to be UTF-8 once (`simdutf8`, 32 bytes a step), so a string on the
//!   tape is a slice of the record, not a copy;
//! - a string's end (`"`, `\` or a control character, which must be escaped) is found 16 bytes
//!   at a time with SSE2, eight at a time by word arithmetic on other CPUs;
//! - only a string with escapes is decoded, into a side buffer the tape points into once the
//!   record is read.
//!
//! It accepts exactly RFC 8259 JSON (a test holds it to `serde_json` on generated and broken
//! input, and to simd-json's tape where both accept). Numbers are read as simd-json read them:
//! an integer is `U64`, or `I64` when negative, and everything else `F64`, correctly rounded;
//! an integer too large for 64 bits is a float rather than an error. Nesting is limited to
//! [`MAX_DEPTH`] levels, so a hostile record cannot exhaust the stack of what walks the tape.

use std::fmt;

/// One entry of a parsed record's tape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Entry<'a> {
    /// A string (unescaped): a member name, or a value.
    Str(&'a str),
    /// An object.
    Object {
        /// Its number of members.
        len: usize,
        /// How many entries follow for them.
        count: usize,
    },
    /// An array.
    Array {
        /// Its number of elements.
        len: usize,
        /// How many entries follow for them.
        count: usize,
    },
    /// `null`, a boolean or a number.
    Scalar(Scalar),
}

/// `null`, a boolean or a number. An integer is `U64`, or `I64` when negative; any other number
/// is `F64`, with the decimal places its text states (FHIRPath's `lowBoundary()` of `1.0` is
/// 0.95, of `1` it is 0.5: the value alone cannot tell them apart).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A negative integer.
    I64(i64),
    /// A non-negative integer.
    U64(u64),
    /// Any other number, and its decimal places: the digits after the point less the exponent,
    /// at least 0 (`2.50` has 2, `1.5e1` none), at most 255.
    F64(f64, u8),
}

/// How deeply arrays and objects may nest (the limit simd-json had).
pub const MAX_DEPTH: usize = 1024;

/// Why a record is not JSON: where, what, and whether it ended too early (a cut line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// Byte offset in the record.
    pub at: usize,
    /// What was wrong there.
    pub what: &'static str,
    /// The record ended before its value did: most likely a line cut short.
    pub cut_short: bool,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.what, self.at)
    }
}

impl std::error::Error for JsonError {}

/// Reads records onto a tape, keeping its buffers from one record to the next (no allocation
/// per record once warm).
#[derive(Debug, Default)]
pub struct Reader {
    tape: Vec<Entry<'static>>,
    /// The open arrays and objects around the innermost one (which `Build::run` keeps in locals).
    stack: Vec<Open>,
    /// Decoded strings that had escapes.
    decoded: String,
    /// Tape index and range in `decoded` of each string that had escapes.
    fixups: Vec<(usize, usize, usize)>,
}

impl Reader {
    /// A reader.
    pub fn new() -> Reader {
        Reader::default()
    }

    /// Reads `src` as one JSON value and calls `f` with its tape (never empty), or with why it
    /// is not JSON.
    pub fn read<R>(
        &mut self,
        src: &[u8],
        f: impl FnOnce(Result<&[Entry<'_>], JsonError>) -> R,
    ) -> R {
        let mut tape: Vec<Entry<'_>> = crate::reuse::emptied(std::mem::take(&mut self.tape));
        self.decoded.clear();
        self.fixups.clear();
        self.stack.clear();
        let r = match build(
            src,
            &mut tape,
            &mut self.stack,
            &mut self.decoded,
            &mut self.fixups,
        ) {
            Ok(()) => {
                let decoded: &str = &self.decoded;
                for &(at, start, end) in &self.fixups {
                    if let (Some(entry), Some(s)) = (tape.get_mut(at), decoded.get(start..end)) {
                        *entry = Entry::Str(s);
                    }
                }
                f(Ok(&tape))
            }
            Err(e) => f(Err(e)),
        };
        self.tape = crate::reuse::emptied(tape);
        r
    }
}

/// The first byte at or after `i` that ends a string's plain run: `"`, `\` or a control
/// character (which JSON does not allow unescaped); `src.len()` if there is none. Sixteen bytes
/// a step with SSE2 (part of every x86-64 CPU), through `safe_arch`, as this workspace has no
/// `unsafe` of its own.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn plain_run_end(src: &[u8], mut i: usize) -> usize {
    use safe_arch::{
        cmp_eq_mask_i8_m128i, load_unaligned_m128i, max_u8_m128i, move_mask_i8_m128i,
        set_splat_i8_m128i,
    };
    let (quote, backslash, control) = (
        set_splat_i8_m128i(b'"' as i8),
        set_splat_i8_m128i(b'\\' as i8),
        set_splat_i8_m128i(0x1f),
    );
    while let Some(block) = src
        .get(i..i + 16)
        .and_then(|s| <&[u8; 16]>::try_from(s).ok())
    {
        let v = load_unaligned_m128i(block);
        // a byte is a control character when max(byte, 0x1f) is 0x1f
        let hits = cmp_eq_mask_i8_m128i(v, quote)
            | cmp_eq_mask_i8_m128i(v, backslash)
            | cmp_eq_mask_i8_m128i(max_u8_m128i(v, control), control);
        let mask = move_mask_i8_m128i(hits);
        if mask != 0 {
            return i + mask.trailing_zeros() as usize;
        }
        i += 16;
    }
    plain_run_end_bytes(src, i)
}

/// [`plain_run_end`] on other CPUs.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn plain_run_end(src: &[u8], i: usize) -> usize {
    plain_run_end_words(src, i)
}

/// [`plain_run_end`] eight bytes a step by word arithmetic (other CPUs; tested everywhere).
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
#[inline(always)]
fn plain_run_end_words(src: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    while let Some(w) = src.get(i..).and_then(|s| s.first_chunk::<8>()) {
        let w = u64::from_le_bytes(*w);
        let quote = w ^ (ONES * u64::from(b'"'));
        let backslash = w ^ (ONES * u64::from(b'\\'));
        // a byte's high bit is set where it is zero (or, for the control test, below 0x20);
        // borrows only run upwards from a true hit, so the lowest bit set is a true one
        let hits = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (w.wrapping_sub(ONES * 0x20) & !w))
            & HIGHS;
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    plain_run_end_bytes(src, i)
}

/// [`plain_run_end`] a byte at a time (the last few bytes of a record).
#[inline]
fn plain_run_end_bytes(src: &[u8], mut i: usize) -> usize {
    while let Some(&b) = src.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            return i;
        }
        i += 1;
    }
    i
}

/// The next byte that is not JSON whitespace. Records rarely have any: one compare then.
#[inline(always)]
fn skip_ws(src: &[u8], mut i: usize) -> usize {
    while let Some(&b) = src.get(i)
        && b <= b' '
        && matches!(b, b' ' | b'\n' | b'\r' | b'\t')
    {
        i += 1;
    }
    i
}

fn err(at: usize, what: &'static str, src: &[u8]) -> JsonError {
    JsonError {
        at,
        what,
        cut_short: at >= src.len(),
    }
}

/// An open array or object: its tape index, its members or elements so far, which it is.
///
/// Three words and no padding: with a `bool` for `object`, the compiler moved the struct around
/// its padding bytes in overlapping 4-byte pieces, and every pop of the stack stalled on
/// store-to-load forwarding (a fifth of the parse's time, in `perf annotate`).
#[derive(Debug, Clone, Copy)]
struct Open {
    at: usize,
    len: usize,
    /// [`OBJECT`] or [`ARRAY`].
    object: usize,
}

const OBJECT: usize = 1;
const ARRAY: usize = 0;

/// Where a record is read: the record (and as checked UTF-8), the tape, the open containers,
/// and the side buffer of decoded strings.
struct Build<'a, 'r> {
    src: &'a [u8],
    text: &'a str,
    tape: &'r mut Vec<Entry<'a>>,
    stack: &'r mut Vec<Open>,
    decoded: &'r mut String,
    fixups: &'r mut Vec<(usize, usize, usize)>,
}

fn build<'a>(
    src: &'a [u8],
    tape: &mut Vec<Entry<'a>>,
    stack: &mut Vec<Open>,
    decoded: &mut String,
    fixups: &mut Vec<(usize, usize, usize)>,
) -> Result<(), JsonError> {
    // SIMD validation (32 bytes a step where AVX2 is there); the standard library's only to
    // say where the text is broken
    let text = match simdutf8::basic::from_utf8(src) {
        Ok(text) => text,
        Err(_) => {
            let e = std::str::from_utf8(src).err();
            let (at, cut_short) =
                e.map_or((0, false), |e| (e.valid_up_to(), e.error_len().is_none()));
            return Err(JsonError {
                at,
                what: "invalid UTF-8",
                cut_short,
            });
        }
    };
    Build {
        src,
        text,
        tape,
        stack,
        decoded,
        fixups,
    }
    .run()
}

impl<'a> Build<'a, '_> {
    fn run(&mut self) -> Result<(), JsonError> {
        let src = self.src;
        // the innermost open array or object, kept out of the stack (which holds the ones around
        // it) so its count stays in a register; `at == TOP` outside any
        const TOP: usize = usize::MAX;
        let mut cur = Open {
            at: TOP,
            len: 0,
            object: ARRAY,
        };
        let mut i = skip_ws(src, 0);
        'value: loop {
            // a value starts at i; tested in order of how often each kind comes
            let Some(&b) = src.get(i) else {
                return Err(err(i, "a value was expected", src));
            };
            if b == b'"' {
                i = self.string(i)?;
            } else if b == b'{' || b == b'[' {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(err(i, "arrays and objects nest too deeply", src));
                }
                let object = b == b'{';
                self.stack.push(cur);
                cur = Open {
                    at: self.tape.len(),
                    len: 0,
                    object: if object { OBJECT } else { ARRAY },
                };
                self.tape.push(if object {
                    Entry::Object { len: 0, count: 0 }
                } else {
                    Entry::Array { len: 0, count: 0 }
                });
                i += 1;
                if src.get(i).is_some_and(|&b| b <= b' ') {
                    i = skip_ws(src, i);
                }
                match (src.get(i), object) {
                    (Some(b'}'), true) | (Some(b']'), false) => {
                        cur = self.close(cur);
                        i += 1;
                    }
                    (_, true) => {
                        i = self.key(i)?;
                        cur.len = 1;
                        continue 'value;
                    }
                    (_, false) => {
                        cur.len = 1;
                        continue 'value;
                    }
                }
            } else if b == b'-' || b.is_ascii_digit() {
                let (n, end) = number(self.text, src, i)?;
                self.tape.push(Entry::Scalar(n));
                i = end;
            } else {
                let (word, node): (&[u8], Scalar) = match b {
                    b't' => (b"true", Scalar::Bool(true)),
                    b'f' => (b"false", Scalar::Bool(false)),
                    b'n' => (b"null", Scalar::Null),
                    _ => return Err(err(i, "a value was expected", src)),
                };
                let have = src.get(i..).unwrap_or_default();
                if !have.starts_with(word) {
                    return Err(JsonError {
                        at: i,
                        what: "not a JSON value",
                        cut_short: word.starts_with(have),
                    });
                }
                self.tape.push(Entry::Scalar(node));
                i += word.len();
            }
            // after a value: `,` and the next, or closes
            loop {
                if src.get(i).is_some_and(|&b| b <= b' ') {
                    i = skip_ws(src, i);
                }
                if cur.at == TOP {
                    if i < src.len() {
                        return Err(err(i, "unexpected text after the value", src));
                    }
                    return Ok(());
                }
                match (src.get(i), cur.object == OBJECT) {
                    (Some(b','), true) => {
                        i = if src.get(i + 1) == Some(&b'"') {
                            i + 1
                        } else {
                            skip_ws(src, i + 1)
                        };
                        i = self.key(i)?;
                        cur.len += 1;
                        continue 'value;
                    }
                    (Some(b','), false) => {
                        cur.len += 1;
                        i = skip_ws(src, i + 1);
                        continue 'value;
                    }
                    (Some(b'}'), true) | (Some(b']'), false) => {
                        cur = self.close(cur);
                        i += 1;
                    }
                    (_, true) => return Err(err(i, "`,` or `}` was expected", src)),
                    (_, false) => return Err(err(i, "`,` or `]` was expected", src)),
                }
            }
        }
    }

    /// Closes an array or object: its member or element count and span on its tape entry.
    /// Returns the one around it.
    #[inline]
    fn close(&mut self, open: Open) -> Open {
        let count = self.tape.len() - open.at - 1;
        if let Some(Entry::Object { len, count: c } | Entry::Array { len, count: c }) =
            self.tape.get_mut(open.at)
        {
            *len = open.len;
            *c = count;
        }
        self.stack.pop().unwrap_or(Open {
            at: usize::MAX,
            len: 0,
            object: ARRAY,
        })
    }

    /// A member name at `i` and its `:`; returns where its value starts.
    #[inline(always)]
    fn key(&mut self, i: usize) -> Result<usize, JsonError> {
        let src = self.src;
        if src.get(i) != Some(&b'"') {
            return Err(err(i, "a member name (a string) was expected", src));
        }
        // records rarely have whitespace: the expected byte is tested before any is skipped
        let mut i = self.string(i)?;
        if src.get(i) != Some(&b':') {
            i = skip_ws(src, i);
            if src.get(i) != Some(&b':') {
                return Err(err(i, "`:` was expected after the member name", src));
            }
        }
        Ok(if src.get(i + 1).is_some_and(|&b| b > b' ') {
            i + 1
        } else {
            skip_ws(src, i + 1)
        })
    }

    /// The string whose opening quote is at `i`, pushed onto the tape; returns the position
    /// after its closing quote.
    #[inline(always)]
    fn string(&mut self, i: usize) -> Result<usize, JsonError> {
        let start = i + 1;
        let end = plain_run_end(self.src, start);
        if self.src.get(end) == Some(&b'"') {
            // quotes are ASCII, so both ends are character boundaries of the checked text
            let s = self
                .text
                .get(start..end)
                .ok_or_else(|| err(start, "invalid UTF-8", self.src))?;
            self.tape.push(Entry::Str(s));
            return Ok(end + 1);
        }
        self.escaped(start, end)
    }

    /// A string with escapes (or broken): decoded into the side buffer, its tape entry set once
    /// the whole record is read. `run_end` is where its first plain run stopped.
    #[cold]
    fn escaped(&mut self, start: usize, mut run_end: usize) -> Result<usize, JsonError> {
        let (src, text) = (self.src, self.text);
        let from = self.decoded.len();
        let mut run_start = start;
        loop {
            self.decoded.push_str(
                text.get(run_start..run_end)
                    .ok_or_else(|| err(run_start, "invalid UTF-8", src))?,
            );
            match src.get(run_end) {
                None => return Err(err(run_end, "the string is not closed", src)),
                Some(b'"') => break,
                Some(b'\\') => {
                    let (c, next) = escape(src, run_end)?;
                    self.decoded.push(c);
                    run_start = next;
                }
                Some(_) => {
                    return Err(err(
                        run_end,
                        "a control character must be escaped in a string",
                        src,
                    ));
                }
            }
            run_end = plain_run_end(src, run_start);
        }
        self.fixups
            .push((self.tape.len(), from, self.decoded.len()));
        self.tape.push(Entry::Str(""));
        Ok(run_end + 1)
    }
}

/// The escape at `i` (a backslash): its character and the position after it.
fn escape(src: &[u8], i: usize) -> Result<(char, usize), JsonError> {
    let c = match src.get(i + 1) {
        Some(b'"') => '"',
        Some(b'\\') => '\\',
        Some(b'/') => '/',
        Some(b'b') => '\u{8}',
        Some(b'f') => '\u{c}',
        Some(b'n') => '\n',
        Some(b'r') => '\r',
        Some(b't') => '\t',
        Some(b'u') => {
            let hi = hex4(src, i + 2)?;
            if !(0xD800..0xE000).contains(&hi) {
                return Ok((char::from_u32(hi).unwrap_or('\u{FFFD}'), i + 6));
            }
            if hi >= 0xDC00 || src.get(i + 6..i + 8) != Some(b"\\u") {
                return Err(err(i, "a lone UTF-16 surrogate in a \\u escape", src));
            }
            let lo = hex4(src, i + 8)?;
            if !(0xDC00..0xE000).contains(&lo) {
                return Err(err(i + 6, "a lone UTF-16 surrogate in a \\u escape", src));
            }
            let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
            return Ok((char::from_u32(c).unwrap_or('\u{FFFD}'), i + 12));
        }
        None => return Err(err(i + 1, "the string is not closed", src)),
        Some(_) => return Err(err(i, "not a JSON escape", src)),
    };
    Ok((c, i + 2))
}

fn hex4(src: &[u8], i: usize) -> Result<u32, JsonError> {
    let digits = src
        .get(i..i + 4)
        .ok_or_else(|| err(src.len(), "the string is not closed", src))?;
    digits.iter().try_fold(0u32, |n, &d| {
        Ok(n << 4
            | (d as char)
                .to_digit(16)
                .ok_or_else(|| err(i, "a \\u escape needs four hex digits", src))?)
    })
}

/// The number at `i`: its value and the position after it.
#[inline(always)]
fn number(text: &str, src: &[u8], i: usize) -> Result<(Scalar, usize), JsonError> {
    let negative = src.get(i) == Some(&b'-');
    let mut j = i + usize::from(negative);
    let mut n: u64 = 0;
    let mut overflow = false;
    match src.get(j) {
        Some(b'0') => j += 1,
        Some(b'1'..=b'9') => {
            while let Some(&d @ b'0'..=b'9') = src.get(j) {
                match n
                    .checked_mul(10)
                    .and_then(|m| m.checked_add(u64::from(d - b'0')))
                {
                    Some(m) => n = m,
                    None => overflow = true,
                }
                j += 1;
            }
        }
        _ => return Err(err(j, "a digit was expected", src)),
    }
    let mut float = false;
    // decimal places as written: fraction digits less the exponent
    let mut places: i64 = 0;
    if src.get(j) == Some(&b'.') {
        float = true;
        j += 1;
        let from = j;
        j = digits(src, j)?;
        places = (j - from) as i64;
    }
    if let Some(b'e' | b'E') = src.get(j) {
        float = true;
        j += 1;
        let minus = src.get(j) == Some(&b'-');
        if let Some(b'+' | b'-') = src.get(j) {
            j += 1;
        }
        let from = j;
        j = digits(src, j)?;
        // an exponent of more than a few digits puts the places out of range either way
        let e = src
            .get(from..j.min(from + 6))
            .unwrap_or_default()
            .iter()
            .fold(0i64, |e, d| e * 10 + i64::from(d - b'0'));
        places += if minus { e } else { -e };
    }
    if !float && !overflow {
        if !negative {
            return Ok((Scalar::U64(n), j));
        }
        if n <= 1 << 63 {
            return Ok((Scalar::I64((n as i64).wrapping_neg()), j));
        }
    }
    // a float, or an integer beyond 64 bits: the standard library's correctly rounded reading
    match text.get(i..j).and_then(|t| t.parse::<f64>().ok()) {
        Some(f) if f.is_finite() => Ok((Scalar::F64(f, places.clamp(0, 255) as u8), j)),
        _ => Err(err(i, "the number is out of range", src)),
    }
}

/// One or more digits from `i`; the position after them.
#[inline]
fn digits(src: &[u8], mut i: usize) -> Result<usize, JsonError> {
    if !src.get(i).is_some_and(u8::is_ascii_digit) {
        return Err(err(i, "a digit was expected", src));
    }
    while src.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    Ok(i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tape_of(text: &str) -> Result<String, JsonError> {
        tape_text(text.as_bytes())
    }

    /// The tape as text, decimal places left out (simd-json's tape, compared with it, has none).
    fn tape_text(bytes: &[u8]) -> Result<String, JsonError> {
        fn no_places<'a>(e: &Entry<'a>) -> Entry<'a> {
            match *e {
                Entry::Scalar(Scalar::F64(f, _)) => Entry::Scalar(Scalar::F64(f, 0)),
                e => e,
            }
        }
        Reader::new().read(bytes, |t| {
            t.map(|t| format!("{:?}", t.iter().map(no_places).collect::<Vec<_>>()))
        })
    }

    #[test]
    fn decimals_keep_the_places_they_are_written_with() {
        for (text, value, places) in [
            ("1.0", 1.0, 1),
            ("2.50", 2.5, 2),
            ("-0.125", -0.125, 3),
            ("1.5e1", 15.0, 0),
            ("1.50E-2", 0.015, 4),
            ("25e-1", 2.5, 1),
            ("3E+2", 300.0, 0),
        ] {
            assert_eq!(scalar_of(text), Some(Scalar::F64(value, places)), "{text}");
        }
        // integers stay integers
        assert_eq!(scalar_of("10"), Some(Scalar::U64(10)));
    }

    fn scalar_of(text: &str) -> Option<Scalar> {
        Reader::new().read(text.as_bytes(), |t| match t.ok()?.first()? {
            Entry::Scalar(s) => Some(*s),
            _ => None,
        })
    }

    /// simd-json's tape of `bytes` (the reader ingest used before), in this module's entries.
    fn simd_tape(bytes: &[u8]) -> Option<String> {
        use simd_json::{Node, StaticNode};
        fn value<'a>(t: &[Node<'a>], i: &mut usize, out: &mut Vec<Entry<'a>>) {
            match t[*i] {
                Node::Object { len, count } => {
                    out.push(Entry::Object { len, count });
                    *i += 1;
                    for _ in 0..len {
                        let Node::String(k) = t[*i] else {
                            panic!("a member name")
                        };
                        out.push(Entry::Str(k));
                        *i += 1;
                        value(t, i, out);
                    }
                }
                Node::Array { len, count } => {
                    out.push(Entry::Array { len, count });
                    *i += 1;
                    for _ in 0..len {
                        value(t, i, out);
                    }
                }
                Node::String(s) => {
                    out.push(Entry::Str(s));
                    *i += 1;
                }
                Node::Static(n) => {
                    out.push(Entry::Scalar(match n {
                        StaticNode::Null => Scalar::Null,
                        StaticNode::Bool(b) => Scalar::Bool(b),
                        StaticNode::I64(n) => Scalar::I64(n),
                        StaticNode::U64(n) => Scalar::U64(n),
                        StaticNode::F64(f) => Scalar::F64(f, 0),
                        #[allow(unreachable_patterns)]
                        _ => panic!("128-bit numbers are not enabled"),
                    }));
                    *i += 1;
                }
            }
        }
        let mut copy = bytes.to_vec();
        let tape = simd_json::to_tape(&mut copy).ok()?;
        let mut out = Vec::new();
        value(&tape.0, &mut 0, &mut out);
        Some(format!("{out:?}"))
    }

    #[test]
    fn the_tape_is_simd_jsons_tape() {
        let texts = [
            r#"{"resourceType":"Patient","id":"p1","name":[{"given":["A","B"]}],"active":true,"x":null,"n":-3,"d":2.5e1,"u":18446744073709551615}"#,
            r#"[[],{},[{}],[1,[2,[3]]],"s",{"a":{"b":{}}}]"#,
            " { \"a\" : [ 1 , 2 ] , \"b\" : { } }\r\n",
            r#"{"esc":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00 end","after":"x","a":1,"a":2}"#,
            "\"just a string\"",
            "-0",
            "0.1",
            "1E+2",
        ];
        for text in texts {
            let want = simd_tape(text.as_bytes()).expect("valid JSON");
            assert_eq!(tape_of(text).expect("valid JSON"), want, "{text}");
        }
    }

    /// The string scan stops at the same byte 16 bytes a step, 8 a step and one at a time:
    /// every start in texts where quotes, backslashes, control characters and non-ASCII bytes
    /// fall at every place of a block.
    #[test]
    fn string_scans_agree_at_every_offset() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for n in 0..4000usize {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 70) as usize;
            let text: Vec<u8> = (0..len)
                .map(|k| {
                    let r = state.rotate_left((k * 7 + n) as u32 % 64);
                    match r % 23 {
                        0 => b'"',
                        1 => b'\\',
                        2 => (r >> 8) as u8 % 0x20,
                        3 => 0x80 | (r >> 8) as u8,
                        4 => 0x7f,
                        _ => b'a' + (r >> 8) as u8 % 26,
                    }
                })
                .collect();
            for start in 0..=len {
                let want = plain_run_end_bytes(&text, start);
                assert_eq!(plain_run_end(&text, start), want, "{text:?} from {start}");
                assert_eq!(
                    plain_run_end_words(&text, start),
                    want,
                    "{text:?} from {start}"
                );
            }
        }
    }

    #[test]
    fn broken_records_name_the_byte_and_whether_they_were_cut() {
        let cases: [(&str, usize, &str, bool); 14] = [
            (r#"{"a":1"#, 6, "`,` or `}` was expected", true),
            (r#"{"a":"x"#, 7, "the string is not closed", true),
            (r#"{"a":tru"#, 5, "not a JSON value", true),
            (r#"{"a":trux}"#, 5, "not a JSON value", false),
            (
                r#"{"a" 1}"#,
                5,
                "`:` was expected after the member name",
                false,
            ),
            (
                r#"{a:1}"#,
                1,
                "a member name (a string) was expected",
                false,
            ),
            (
                r#"{"a":1,}"#,
                7,
                "a member name (a string) was expected",
                false,
            ),
            (r#"[1,]"#, 3, "a value was expected", false),
            (r#"[01]"#, 2, "`,` or `]` was expected", false),
            (r#"{"a":"x\q"}"#, 7, "not a JSON escape", false),
            (
                "{\"a\":\"x\ty\"}",
                7,
                "a control character must be escaped in a string",
                false,
            ),
            (
                r#"{"a":"\ud800"}"#,
                6,
                "a lone UTF-16 surrogate in a \\u escape",
                false,
            ),
            (r#"{"a":1} {}"#, 8, "unexpected text after the value", false),
            (r#"{"a":1e999}"#, 5, "the number is out of range", false),
        ];
        for (text, at, what, cut_short) in cases {
            assert_eq!(
                tape_of(text),
                Err(JsonError {
                    at,
                    what,
                    cut_short
                }),
                "{text}"
            );
        }
        let bad_utf8 = [b'"', b'a', 0xC3, 0x28, b'"'];
        assert_eq!(
            Reader::new().read(&bad_utf8, |t| t.err()),
            Some(JsonError {
                at: 2,
                what: "invalid UTF-8",
                cut_short: false
            })
        );
        let deep = "[".repeat(MAX_DEPTH + 1);
        assert_eq!(
            tape_of(&deep).err().map(|e| e.what),
            Some("arrays and objects nest too deeply")
        );
        assert!(
            tape_of(&format!(
                "{}{}",
                "[".repeat(MAX_DEPTH),
                "]".repeat(MAX_DEPTH)
            ))
            .is_ok()
        );
    }

    /// JSON text generated from arbitrary values: compact or spaced, with any text in strings
    /// (quotes, backslashes, control characters, non-ASCII: serde_json escapes what it must).
    fn json_text() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(|n| n.into()),
            any::<u64>().prop_map(|n| n.into()),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| f.into()),
            any::<String>().prop_map(serde_json::Value::String),
            "[a-z\"\\\\/\u{0}-\u{1f}é€😀 ]{0,40}".prop_map(serde_json::Value::String),
        ];
        let value = leaf.prop_recursive(6, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::Array),
                proptest::collection::vec(("[a-zA-Z\"\\\\]{0,12}", inner), 0..8)
                    .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
            ]
        });
        (value, any::<bool>()).prop_map(|(v, pretty)| {
            if pretty {
                serde_json::to_string_pretty(&v)
            } else {
                serde_json::to_string(&v)
            }
            .expect("values serialise")
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Valid JSON gives simd-json's tape (the one ingest read before), entry for entry.
        #[test]
        fn valid_json_reads_as_simd_json_reads_it(text in json_text()) {
            let want = simd_tape(text.as_bytes()).expect("serde_json's output is JSON");
            prop_assert_eq!(tape_of(&text).expect("serde_json's output is JSON"), want);
        }

        /// Broken JSON (a byte dropped, changed or added, or the text cut) is refused exactly when
        /// serde_json refuses it, without a panic; where both accept, the tapes agree.
        #[test]
        fn broken_json_is_refused_as_serde_json_refuses_it(
            text in json_text(),
            at in any::<proptest::sample::Index>(),
            edit in 0..4u8,
            byte in prop_oneof![Just(b'"'), Just(b'\\'), Just(b'{'), Just(b'}'), Just(b'['), Just(b']'), Just(b','), Just(b':'), Just(b'-'), Just(b'e'), Just(b'.'), Just(b'0'), Just(0x1f), Just(0xff), any::<u8>()],
        ) {
            let mut bytes = text.into_bytes();
            let i = at.index(bytes.len() + 1);
            match edit {
                0 if i < bytes.len() => { bytes.remove(i); }
                1 if i < bytes.len() => bytes[i] = byte,
                2 => bytes.insert(i, byte),
                _ => bytes.truncate(i),
            }
            let ours = tape_text(&bytes);
            let serde = serde_json::from_slice::<serde_json::Value>(&bytes);
            prop_assert_eq!(ours.is_ok(), serde.is_ok(), "{:?}: ours {:?}, serde_json {:?}", String::from_utf8_lossy(&bytes), ours, serde.err());
            if let (Ok(ours), Some(theirs)) = (&ours, simd_tape(&bytes)) {
                prop_assert_eq!(ours, &theirs);
            }
        }
    }
}
