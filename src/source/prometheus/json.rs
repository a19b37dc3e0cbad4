//! A strict JSON reader (RFC 8259) that hands strings out as slices of the body.
//!
//! serde_json's own scanning cost about as much as everything else in decoding a large
//! answer; this reader looks at each string 8 bytes at a time and checks UTF-8 only where a
//! string has bytes beyond ASCII, so an answer costs about one pass over its bytes.

use std::fmt;

use crate::mesh::hashing::same_bytes;

/// A string read from the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Text<'a> {
    /// Exactly as in the body: no escapes, UTF-8 checked.
    Raw(&'a [u8]),
    /// Had escapes, now resolved.
    Unescaped(String),
}

impl Text<'_> {
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Text::Raw(bytes) => bytes,
            Text::Unescaped(text) => text.as_bytes(),
        }
    }

    pub fn into_string(self) -> String {
        match self {
            Text::Raw(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            Text::Unescaped(text) => text,
        }
    }
}

/// Why the body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Problem {
    /// Not JSON at all: what was wrong, and at which byte.
    Syntax { at: usize, what: &'static str },
    /// JSON, but not the shape asked for.
    Shape(String),
}

/// Where a byte offset is, the way editors count.
pub(super) struct Position {
    line: usize,
    column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} column {}", self.line, self.column)
    }
}

/// Deeper nesting than this is refused rather than risking the stack (serde_json's limit).
const MAX_DEPTH: usize = 128;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// For each byte of `word`: is it `"`, `\`, a control character or beyond ASCII? The lowest
/// flagged byte is exact; bytes above it may be flagged wrongly, and are never looked at.
fn special_bytes(word: u64) -> u64 {
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let zero_quote = quote.wrapping_sub(ONES) & !quote;
    let zero_backslash = backslash.wrapping_sub(ONES) & !backslash;
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    (zero_quote | zero_backslash | control | word) & HIGH_BITS
}

pub(super) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    pub fn at(bytes: &'a [u8], pos: usize) -> Self {
        Reader { bytes, pos }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn position(&self, at: usize) -> Position {
        let before = self.bytes.get(..at).unwrap_or(self.bytes);
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        Position {
            line,
            column: at.saturating_sub(line_start) + 1,
        }
    }

    fn syntax<T>(&self, what: &'static str) -> Result<T, Problem> {
        Err(Problem::Syntax { at: self.pos, what })
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    /// The next byte that is not whitespace, not consumed.
    pub fn peek(&mut self) -> Option<u8> {
        self.skip_whitespace();
        self.bytes.get(self.pos).copied()
    }

    /// Consumes `byte` (after whitespace) or fails with `what`.
    pub fn expect(&mut self, byte: u8, what: &'static str) -> Result<(), Problem> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            self.syntax(what)
        }
    }

    /// Consumes `literal` if the body continues with it, whitespace first.
    pub fn eat_literal(&mut self, literal: &[u8]) -> bool {
        self.skip_whitespace();
        let end = self.pos + literal.len();
        if self.bytes.get(self.pos..end) == Some(literal) {
            self.pos = end;
            true
        } else {
            false
        }
    }

    pub fn rewind(&mut self, pos: usize) {
        self.pos = pos;
    }

    /// Consumes the same bytes as lie at `start..end`, if the body continues with them
    /// (whitespace first).
    pub fn eat_same(&mut self, start: usize, end: usize) -> bool {
        self.skip_whitespace();
        let (Some(here), Some(there)) = (
            self.bytes.get(self.pos..self.pos + (end - start)),
            self.bytes.get(start..end),
        ) else {
            return false;
        };
        if same_bytes(here, there) {
            self.pos += end - start;
            true
        } else {
            false
        }
    }

    /// The body between two offsets, for messages.
    pub fn text_between(&self, start: usize, end: usize) -> String {
        String::from_utf8_lossy(self.bytes.get(start..end).unwrap_or_default()).into_owned()
    }

    /// What the next value is, for messages; a syntax error if nothing JSON starts here.
    fn found(&mut self) -> Result<&'static str, Problem> {
        match self.peek() {
            Some(b'{') => Ok("an object"),
            Some(b'[') => Ok("an array"),
            Some(b'"') => Ok("a string"),
            Some(b'-' | b'0'..=b'9') => Ok("a number"),
            Some(b't' | b'f') => Ok("a boolean"),
            Some(b'n') => Ok("null"),
            Some(_) => self.syntax("expected value"),
            None => self.syntax("EOF while parsing a value"),
        }
    }

    /// Fails for a value of the wrong type: a shape problem if it is JSON, else syntax.
    pub fn wrong_type<T>(&mut self, expected: &str) -> Result<T, Problem> {
        let found = self.found()?;
        Err(Problem::Shape(format!(
            "expected {expected}, found {found}"
        )))
    }

    /// Consumes `null` if that is the next value.
    pub fn null(&mut self) -> bool {
        self.eat_literal(b"null")
    }

    /// Enters an object; `Ok(true)` if it has members.
    pub fn begin_object(&mut self) -> Result<bool, Problem> {
        if self.peek() != Some(b'{') {
            return self.wrong_type("an object");
        }
        self.pos += 1;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(false);
        }
        Ok(true)
    }

    /// After a member: `Ok(true)` if another follows, `Ok(false)` at the object's end.
    pub fn next_member(&mut self) -> Result<bool, Problem> {
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(true)
            }
            Some(b'}') => {
                self.pos += 1;
                Ok(false)
            }
            Some(_) => self.syntax("expected `,` or `}`"),
            None => self.syntax("EOF while parsing an object"),
        }
    }

    /// A member's name and the colon after it.
    pub fn key(&mut self) -> Result<Text<'a>, Problem> {
        let key = self.key_name()?;
        self.expect(b':', "expected `:`")?;
        Ok(key)
    }

    /// A member's name, without the colon.
    pub fn key_name(&mut self) -> Result<Text<'a>, Problem> {
        if self.peek() != Some(b'"') {
            return self.syntax("key must be a string");
        }
        self.string()
    }

    /// Enters an array; `Ok(true)` if it has elements.
    pub fn begin_array(&mut self) -> Result<bool, Problem> {
        if self.peek() != Some(b'[') {
            return self.wrong_type("an array");
        }
        self.pos += 1;
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(false);
        }
        Ok(true)
    }

    /// After an element: `Ok(true)` if another follows, `Ok(false)` at the array's end.
    pub fn next_element(&mut self) -> Result<bool, Problem> {
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(true)
            }
            Some(b']') => {
                self.pos += 1;
                Ok(false)
            }
            Some(_) => self.syntax("expected `,` or `]`"),
            None => self.syntax("EOF while parsing a list"),
        }
    }

    /// A string value.
    #[inline]
    pub fn string(&mut self) -> Result<Text<'a>, Problem> {
        if self.peek() != Some(b'"') {
            return self.wrong_type("a string");
        }
        self.pos += 1;
        self.string_rest()
    }

    /// The rest of a string whose opening quote the reader has passed.
    #[inline]
    pub fn string_rest(&mut self) -> Result<Text<'a>, Problem> {
        let start = self.pos;
        let mut at = start;
        // Eight bytes at a time while they are plain ASCII.
        while let Some(chunk) = self.bytes.get(at..at + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let special = special_bytes(u64::from_le_bytes(word));
            if special != 0 {
                at += (special.trailing_zeros() / 8) as usize;
                break;
            }
            at += 8;
        }
        loop {
            match self.bytes.get(at) {
                Some(b'"') => {
                    self.pos = at + 1;
                    return Ok(Text::Raw(self.bytes.get(start..at).unwrap_or_default()));
                }
                Some(b'\\') | Some(0x80..) => {
                    self.pos = at;
                    return self.string_slowly(start);
                }
                Some(0..0x20) => {
                    self.pos = at;
                    return self.syntax("control character in a string");
                }
                Some(_) => at += 1,
                None => {
                    self.pos = at;
                    return self.syntax("EOF while parsing a string");
                }
            }
        }
    }

    /// The rest of a string that has escapes or bytes beyond ASCII; `start` is its first
    /// byte, the reader stands at the first such byte.
    #[cold]
    fn string_slowly(&mut self, start: usize) -> Result<Text<'a>, Problem> {
        let mut unescaped: Option<Vec<u8>> = None;
        let mut run_start = start;
        loop {
            let Some(&byte) = self.bytes.get(self.pos) else {
                return self.syntax("EOF while parsing a string");
            };
            match byte {
                b'"' => break,
                b'\\' => {
                    let out = unescaped.get_or_insert_with(Vec::new);
                    out.extend_from_slice(self.bytes.get(run_start..self.pos).unwrap_or_default());
                    self.pos += 1;
                    self.escape(out)?;
                    run_start = self.pos;
                }
                0..0x20 => return self.syntax("control character in a string"),
                _ => self.pos += 1,
            }
        }
        let end = self.pos;
        let text = match unescaped {
            None => {
                let raw = self.bytes.get(start..end).unwrap_or_default();
                if std::str::from_utf8(raw).is_err() {
                    return Err(Problem::Syntax {
                        at: start,
                        what: "invalid UTF-8 in a string",
                    });
                }
                Text::Raw(raw)
            }
            Some(mut out) => {
                out.extend_from_slice(self.bytes.get(run_start..end).unwrap_or_default());
                match String::from_utf8(out) {
                    Ok(text) => Text::Unescaped(text),
                    Err(_) => {
                        return Err(Problem::Syntax {
                            at: start,
                            what: "invalid UTF-8 in a string",
                        })
                    }
                }
            }
        };
        self.pos = end + 1;
        Ok(text)
    }

    /// One escape after its backslash, appended to `out` as UTF-8.
    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), Problem> {
        let Some(&byte) = self.bytes.get(self.pos) else {
            return self.syntax("EOF while parsing a string");
        };
        self.pos += 1;
        let simple = match byte {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let code = self.unicode_escape()?;
                let mut buffer = [0u8; 4];
                out.extend_from_slice(code.encode_utf8(&mut buffer).as_bytes());
                return Ok(());
            }
            _ => {
                self.pos -= 1;
                return self.syntax("invalid escape");
            }
        };
        out.push(simple);
        Ok(())
    }

    /// `\uXXXX`, with a surrogate pair taken together; a lone surrogate is refused.
    fn unicode_escape(&mut self) -> Result<char, Problem> {
        let first = self.hex4()?;
        let code = match first {
            0xd800..=0xdbff => {
                if !self.eat_exact(b"\\u") {
                    return self.syntax("lone leading surrogate in hex escape");
                }
                let second = self.hex4()?;
                if !(0xdc00..=0xdfff).contains(&second) {
                    return self.syntax("lone leading surrogate in hex escape");
                }
                0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00)
            }
            0xdc00..=0xdfff => return self.syntax("lone trailing surrogate in hex escape"),
            other => other,
        };
        match char::from_u32(code) {
            Some(c) => Ok(c),
            None => self.syntax("invalid unicode code point"),
        }
    }

    fn eat_exact(&mut self, literal: &[u8]) -> bool {
        let end = self.pos + literal.len();
        if self.bytes.get(self.pos..end) == Some(literal) {
            self.pos = end;
            true
        } else {
            false
        }
    }

    fn hex4(&mut self) -> Result<u32, Problem> {
        let mut code = 0;
        for _ in 0..4 {
            let digit = self
                .bytes
                .get(self.pos)
                .and_then(|b| char::from(*b).to_digit(16));
            let Some(digit) = digit else {
                return self.syntax("invalid escape");
            };
            code = code * 16 + digit;
            self.pos += 1;
        }
        Ok(code)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// A number value.
    pub fn number(&mut self) -> Result<f64, Problem> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => {}
            _ => return self.wrong_type("a number"),
        }
        let start = self.pos;
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        match self.bytes.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return self.syntax("invalid number"),
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return self.syntax("invalid number");
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return self.syntax("invalid number");
            }
        }
        let text = self.bytes.get(start..self.pos).unwrap_or_default();
        match decimal(text) {
            Some(value) if value.is_finite() => Ok(value),
            _ => Err(Problem::Shape("number out of range".into())),
        }
    }

    /// Skips one value of any kind, checking that it is JSON.
    pub fn skip_value(&mut self) -> Result<(), Problem> {
        self.skip_nested(0)
    }

    fn skip_nested(&mut self, depth: usize) -> Result<(), Problem> {
        if depth >= MAX_DEPTH {
            return self.syntax("recursion limit exceeded");
        }
        match self.peek() {
            Some(b'{') => {
                if self.begin_object()? {
                    loop {
                        self.key()?;
                        self.skip_nested(depth + 1)?;
                        if !self.next_member()? {
                            break;
                        }
                    }
                }
                Ok(())
            }
            Some(b'[') => {
                if self.begin_array()? {
                    loop {
                        self.skip_nested(depth + 1)?;
                        if !self.next_element()? {
                            break;
                        }
                    }
                }
                Ok(())
            }
            Some(b'"') => self.string().map(drop),
            Some(b'-' | b'0'..=b'9') => match self.number() {
                // Any JSON number is fine where nobody reads it.
                Err(Problem::Shape(_)) | Ok(_) => Ok(()),
                Err(syntax) => Err(syntax),
            },
            _ => {
                if self.eat_literal(b"true") || self.eat_literal(b"false") || self.null() {
                    Ok(())
                } else {
                    self.found()
                        .map(drop)
                        .and_then(|()| self.syntax("expected value"))
                }
            }
        }
    }

    /// Nothing but whitespace may follow the top-level value.
    pub fn end(&mut self) -> Result<(), Problem> {
        match self.peek() {
            None => Ok(()),
            Some(_) => self.syntax("trailing characters"),
        }
    }
}

const POWERS_OF_TEN: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// A JSON number's text as `f64`. Up to 15 significant digits and no exponent (timestamps,
/// most sample values) it is one exact integer division, which rounds exactly as parsing
/// does; anything else goes to the standard parser.
pub(super) fn decimal(text: &[u8]) -> Option<f64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let mut mantissa: u64 = 0;
    let mut count = 0;
    let mut fraction_digits: Option<usize> = None;
    for &byte in digits {
        match byte {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(byte - b'0');
                count += 1;
                if let Some(places) = fraction_digits.as_mut() {
                    *places += 1;
                }
                if count > 15 {
                    return std::str::from_utf8(text).ok()?.parse().ok();
                }
            }
            b'.' if fraction_digits.is_none() => fraction_digits = Some(0),
            _ => return std::str::from_utf8(text).ok()?.parse().ok(),
        }
    }
    if count == 0 {
        return None;
    }
    // Both operands are exact (mantissa < 2^53, 10^places <= 10^15), so IEEE division gives
    // the correctly rounded quotient, which is what the standard parser returns.
    let divisor = POWERS_OF_TEN.get(fraction_digits.unwrap_or(0))?;
    let value = mantissa as f64 / divisor;
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_string(json: &str) -> Result<Text<'_>, Problem> {
        let mut reader = Reader::new(json.as_bytes());
        let text = reader.string()?;
        reader.end()?;
        Ok(text)
    }

    #[test]
    fn plain_strings_are_slices_of_the_body_whatever_their_length() {
        for text in [
            "",
            "a",
            "1234567",
            "12345678",
            "reviews.bookinfo.svc.cluster.local",
        ] {
            let json = format!("\"{text}\"");
            assert_eq!(read_string(&json), Ok(Text::Raw(text.as_bytes())), "{json}");
        }
    }

    #[test]
    fn escapes_are_resolved_and_utf8_is_kept() {
        let cases = [
            (r#""a\"b\\c\/d""#, "a\"b\\c/d"),
            (r#""\b\f\n\r\t""#, "\u{8}\u{c}\n\r\t"),
            (r#""caf\u00e9 \ud83d\ude00""#, "café 😀"),
            (r#""x\u0041""#, "xA"),
        ];
        for (json, expected) in cases {
            assert_eq!(
                read_string(json).map(Text::into_string),
                Ok(expected.to_owned()),
                "{json}"
            );
        }
        assert_eq!(
            read_string("\"grüße aus köln\""),
            Ok(Text::Raw("grüße aus köln".as_bytes()))
        );
    }

    #[test]
    fn broken_strings_are_syntax_errors() {
        let cases: [&[u8]; 8] = [
            b"\"abc",
            b"\"a\x01b\"",
            b"\"tab\there\"",
            b"\"\\x\"",
            b"\"\\u12\"",
            b"\"\\ud800\"",
            b"\"\\udc00\"",
            b"\"caf\xc3\"",
        ];
        for json in cases {
            let mut reader = Reader::new(json);
            assert!(
                matches!(reader.string(), Err(Problem::Syntax { .. })),
                "{}",
                String::from_utf8_lossy(json)
            );
        }
    }

    #[test]
    fn numbers_read_exactly_as_the_standard_parser_reads_them() {
        for text in [
            "0",
            "-0",
            "1795557600",
            "1795557600.123",
            "0.1",
            "3.4",
            "-12.5",
            "1e3",
            "2.5E-3",
            "123456789012345678",
            "0.30000000000000004",
            "1.7976931348623157e308",
        ] {
            let mut reader = Reader::new(text.as_bytes());
            let expected: f64 = text.parse().unwrap();
            let read = reader.number().unwrap();
            assert_eq!(read.to_bits(), expected.to_bits(), "{text}");
        }
        for bad in ["01", "1.", "-", ".5", "1e", "+1"] {
            let mut reader = Reader::new(bad.as_bytes());
            let read = reader.number().and_then(|_| reader.end());
            assert!(matches!(read, Err(Problem::Syntax { .. })), "{bad}");
        }
        let mut reader = Reader::new(b"1e400");
        assert!(matches!(reader.number(), Err(Problem::Shape(_))));
    }

    #[test]
    fn skipping_checks_every_kind_of_value() {
        let good = r#" {"a":[1,-2.5e3,true,false,null,"x\n",{"b":{}}],"c":[]} "#;
        let mut reader = Reader::new(good.as_bytes());
        assert_eq!(reader.skip_value().and_then(|()| reader.end()), Ok(()));
        for bad in [
            r#"{"a":1,}"#,
            r#"[1 2]"#,
            r#"{"a" 1}"#,
            r#"{1:2}"#,
            "tru",
            "[",
            r#"{"a":1} x"#,
        ] {
            let mut reader = Reader::new(bad.as_bytes());
            let read = reader.skip_value().and_then(|()| reader.end());
            assert!(matches!(read, Err(Problem::Syntax { .. })), "{bad}");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        let mut reader = Reader::new(deep.as_bytes());
        assert!(matches!(
            reader.skip_value(),
            Err(Problem::Syntax {
                what: "recursion limit exceeded",
                ..
            })
        ));
    }

    #[test]
    fn a_value_of_the_wrong_type_is_a_shape_problem_unless_it_is_not_json() {
        let mut reader = Reader::new(b"[1]");
        assert_eq!(
            reader.string(),
            Err(Problem::Shape("expected a string, found an array".into()))
        );
        let mut reader = Reader::new(b"<html>");
        assert!(matches!(reader.begin_object(), Err(Problem::Syntax { .. })));
    }

    #[test]
    fn positions_count_lines_and_columns_from_one() {
        let reader = Reader::new(b"{\n  \"a\": x}");
        assert_eq!(reader.position(9).to_string(), "line 2 column 8");
        assert_eq!(reader.position(0).to_string(), "line 1 column 1");
    }
}
