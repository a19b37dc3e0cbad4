//! Envoy access-log lines as Istio's sidecars write them: the default TEXT format (and
//! Envoy's own older default, which lacks the response details), or Istio's JSON encoding
//! (`accessLogEncoding: JSON`). Lines that are neither, such as the proxy's own messages,
//! are kept as raw text. Every string is sanitized and bounded before it is stored.

use serde_json::{Map, Value};

use super::sanitize::sanitize;

/// Longer lines are not parsed: they are kept, cut, as raw text.
pub const MAX_PARSED_LINE_BYTES: usize = 16 * 1024;
/// Characters kept of a raw line, and of a path.
pub const MAX_TEXT_CHARS: usize = 512;
/// Characters kept of every other field.
pub const MAX_FIELD_CHARS: usize = 160;

/// One request (or TCP connection) as the proxy logged it. Absent values are `-`, as
/// Envoy writes them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccessLogEntry {
    /// `%START_TIME%`, e.g. `2026-11-25T21:26:18.409Z`.
    pub start_time: String,
    pub method: String,
    pub path: String,
    pub protocol: String,
    /// 0 when no response was sent (and always for TCP).
    pub status: u16,
    /// `%RESPONSE_FLAGS%`, e.g. `UF`, `UO`, `DC`, `-`.
    pub flags: String,
    pub details: String,
    pub duration_ms: Option<u64>,
    pub upstream_host: String,
    pub upstream_cluster: String,
    pub authority: String,
    pub user_agent: String,
    pub request_id: String,
}

/// A line of the `istio-proxy` container's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogLine {
    Access(Box<AccessLogEntry>),
    /// Anything else, sanitized and cut to [`MAX_TEXT_CHARS`].
    Raw(String),
}

/// How a response counts, by its status and flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusClass {
    Success,
    Redirect,
    ClientError,
    /// 5xx, or no response with a response flag saying why (`0 UF`, `0 DC`).
    ServerError,
    /// No response and no flag: a TCP connection, or a request still open.
    None,
}

impl StatusClass {
    pub fn of(status: u16, flags: &str) -> Self {
        match status {
            0 if flags != "-" && !flags.is_empty() => StatusClass::ServerError,
            0 => StatusClass::None,
            300..=399 => StatusClass::Redirect,
            400..=499 => StatusClass::ClientError,
            500..=599 => StatusClass::ServerError,
            _ => StatusClass::Success,
        }
    }
}

impl AccessLogEntry {
    pub fn class(&self) -> StatusClass {
        StatusClass::of(self.status, &self.flags)
    }

    /// The time of day of `start_time` (`21:26:18.409`), or the whole value when it is
    /// not an RFC 3339 time.
    pub fn time_of_day(&self) -> &str {
        self.start_time
            .split_once('T')
            .map(|(_, time)| time.trim_end_matches('Z'))
            .unwrap_or(&self.start_time)
    }

    /// Upstream host, or its cluster when the host is unknown.
    pub fn upstream(&self) -> &str {
        if self.upstream_host == "-" {
            &self.upstream_cluster
        } else {
            &self.upstream_host
        }
    }

    /// Bytes this entry holds, for the buffer's memory bound.
    pub fn size(&self) -> usize {
        [
            &self.start_time,
            &self.method,
            &self.path,
            &self.protocol,
            &self.flags,
            &self.details,
            &self.upstream_host,
            &self.upstream_cluster,
            &self.authority,
            &self.user_agent,
            &self.request_id,
        ]
        .iter()
        .map(|s| s.len())
        .sum::<usize>()
            + std::mem::size_of::<Self>()
    }
}

impl LogLine {
    pub fn size(&self) -> usize {
        match self {
            LogLine::Access(entry) => entry.size(),
            LogLine::Raw(text) => text.len() + std::mem::size_of::<Self>(),
        }
    }
}

/// Parses one line (without its newline). Never fails: what is not an access-log line
/// comes back as [`LogLine::Raw`].
pub fn parse_line(line: &str) -> LogLine {
    if line.len() > MAX_PARSED_LINE_BYTES {
        return raw(line);
    }
    let trimmed = line.trim();
    let parsed = if trimmed.starts_with('{') {
        parse_json(trimmed)
    } else {
        // Sanitized first, so that an escape sequence inside a field cannot split it.
        parse_text(&sanitize(trimmed))
    };
    match parsed {
        Some(entry) => LogLine::Access(Box::new(entry)),
        None => raw(line),
    }
}

fn raw(line: &str) -> LogLine {
    // Cut before sanitizing too, so a huge line costs no more than its start.
    let head = cut_bytes(line, MAX_PARSED_LINE_BYTES);
    LogLine::Raw(clean(head, MAX_TEXT_CHARS))
}

/// Sanitized and cut to `max` characters (the last one an ellipsis when cut).
fn clean(text: &str, max: usize) -> String {
    let text = sanitize(text);
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn cut_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The tokens of a text line: `[...]`, `"..."` or a run without spaces.
fn tokens(line: &str) -> Option<Vec<&str>> {
    let mut out = Vec::with_capacity(24);
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        let (token, after) = if let Some(inner) = rest.strip_prefix('[') {
            let end = inner.find(']')?;
            (&inner[..end], &inner[end + 1..])
        } else if let Some(inner) = rest.strip_prefix('"') {
            // Envoy does not escape quotes: a field ends at a quote followed by a space
            // or the end of the line.
            let end = closing_quote(inner)?;
            (&inner[..end], &inner[end + 1..])
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        out.push(token);
        rest = after.trim_start();
    }
    Some(out)
}

fn closing_quote(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    (0..bytes.len()).find(|&i| bytes[i] == b'"' && bytes.get(i + 1).is_none_or(|b| *b == b' '))
}

fn parse_text(line: &str) -> Option<AccessLogEntry> {
    if !line.starts_with('[') {
        return None;
    }
    let tokens = tokens(line)?;
    let field = |i: usize| tokens.get(i).copied();
    let start_time = field(0)?;
    let request = field(1)?;
    let mut request_parts = request.split(' ');
    let method = request_parts.next()?;
    let protocol = request_parts.next_back()?;
    // The path may be missing (`- - -` has three parts; anything else in between is it).
    let path = request_parts.collect::<Vec<_>>().join(" ");
    let status = status_of(field(2)?)?;
    let flags = field(3)?;
    // Istio's format has the response details and the termination details (and a quoted
    // transport failure) here; Envoy's default goes straight to the byte counts.
    let (details, rest) = if field(4).is_some_and(is_count) && field(5).is_some_and(is_count) {
        ("-", 4)
    } else {
        (field(4)?, 7)
    };
    let _bytes_received = field(rest).filter(|t| is_count(t))?;
    let _bytes_sent = field(rest + 1).filter(|t| is_count(t))?;
    let duration = field(rest + 2)?;
    let duration_ms = duration.parse().ok();
    if duration_ms.is_none() && duration != "-" {
        return None;
    }
    let at = |offset: usize| field(rest + offset).unwrap_or("-");
    Some(AccessLogEntry {
        start_time: clean(start_time, MAX_FIELD_CHARS),
        method: clean(method, MAX_FIELD_CHARS),
        path: clean(if path.is_empty() { "-" } else { &path }, MAX_TEXT_CHARS),
        protocol: clean(protocol, MAX_FIELD_CHARS),
        status,
        flags: clean(flags, MAX_FIELD_CHARS),
        details: clean(details, MAX_FIELD_CHARS),
        duration_ms,
        user_agent: clean(at(5), MAX_FIELD_CHARS),
        request_id: clean(at(6), MAX_FIELD_CHARS),
        authority: clean(at(7), MAX_FIELD_CHARS),
        upstream_host: clean(at(8), MAX_FIELD_CHARS),
        upstream_cluster: clean(at(9), MAX_FIELD_CHARS),
    })
}

fn is_count(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit())
}

fn status_of(token: &str) -> Option<u16> {
    match token {
        "-" => Some(0),
        _ if is_count(token) => token.parse().ok().filter(|code| *code < 1000),
        _ => None,
    }
}

fn parse_json(line: &str) -> Option<AccessLogEntry> {
    let value: Value = serde_json::from_str(line).ok()?;
    let object = value.as_object()?;
    // Istio's JSON always carries these; other JSON (the proxy's own structured
    // messages) does not.
    if !object.contains_key("start_time") || !object.contains_key("response_code") {
        return None;
    }
    let text = |key: &str, max: usize| clean(&json_text(object, key), max);
    let status = match object.get("response_code") {
        Some(Value::Number(n)) => u16::try_from(n.as_u64()?).ok()?,
        Some(Value::String(s)) => status_of(s)?,
        Some(Value::Null) | None => 0,
        Some(_) => return None,
    };
    let duration_ms = match object.get("duration") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    Some(AccessLogEntry {
        start_time: text("start_time", MAX_FIELD_CHARS),
        method: text("method", MAX_FIELD_CHARS),
        path: text("path", MAX_TEXT_CHARS),
        protocol: text("protocol", MAX_FIELD_CHARS),
        status,
        flags: text("response_flags", MAX_FIELD_CHARS),
        details: text("response_code_details", MAX_FIELD_CHARS),
        duration_ms,
        upstream_host: text("upstream_host", MAX_FIELD_CHARS),
        upstream_cluster: text("upstream_cluster", MAX_FIELD_CHARS),
        authority: text("authority", MAX_FIELD_CHARS),
        user_agent: text("user_agent", MAX_FIELD_CHARS),
        request_id: text("request_id", MAX_FIELD_CHARS),
    })
}

/// A JSON field as text; null or missing is `-`, as in the text format.
fn json_text(object: &Map<String, Value>, key: &str) -> String {
    match object.get(key) {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => "-".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISTIO_LINE: &str = r#"[2026-11-25T21:26:18.409Z] "GET /reviews/0 HTTP/1.1" 503 UF upstream_reset_before_response_started{connection_failure} - "-" 0 91 3 - "-" "curl/8.5.0" "6b1f3c2e-0c1d-9a4e-8f7b-2d5c1e0a9b3f" "reviews:9080" "10.44.1.27:9080" outbound|9080||reviews.bookinfo.svc.cluster.local 10.44.1.23:37652 10.0.0.12:9080 10.44.1.23:41854 - default"#;
    const ENVOY_LINE: &str = r#"[2026-11-25T21:26:18.409Z] "POST /api/cart HTTP/2" 201 - 120 15 42 40 "-" "Mozilla/5.0 (X11)" "abc" "cart" "10.1.2.3:8080""#;
    const TCP_LINE: &str = r#"[2026-11-25T21:26:19.000Z] "- - -" 0 - - - "-" 1432 8821 1200 - "-" "-" "-" "-" "10.44.2.8:3306" outbound|3306||mysql.shop.svc.cluster.local 10.44.1.23:50000 10.0.0.40:3306 10.44.1.23:49990 - -"#;

    fn entry(line: &str) -> AccessLogEntry {
        match parse_line(line) {
            LogLine::Access(entry) => *entry,
            LogLine::Raw(raw) => panic!("not parsed: {raw}"),
        }
    }

    #[test]
    fn istios_default_text_format_gives_every_column() {
        let e = entry(ISTIO_LINE);
        assert_eq!(e.start_time, "2026-11-25T21:26:18.409Z");
        assert_eq!(e.time_of_day(), "21:26:18.409");
        assert_eq!((e.method.as_str(), e.path.as_str()), ("GET", "/reviews/0"));
        assert_eq!(e.protocol, "HTTP/1.1");
        assert_eq!((e.status, e.flags.as_str()), (503, "UF"));
        assert_eq!(
            e.details,
            "upstream_reset_before_response_started{connection_failure}"
        );
        assert_eq!(e.duration_ms, Some(3));
        assert_eq!(e.user_agent, "curl/8.5.0");
        assert_eq!(e.authority, "reviews:9080");
        assert_eq!(e.upstream_host, "10.44.1.27:9080");
        assert_eq!(
            e.upstream_cluster,
            "outbound|9080||reviews.bookinfo.svc.cluster.local"
        );
        assert_eq!(e.class(), StatusClass::ServerError);
    }

    #[test]
    fn lines_parse_or_stay_raw_as_their_shape_says() {
        // (name, line, parsed as (method, path, status, flags, duration) or raw text)
        type Expected =
            Result<(&'static str, &'static str, u16, &'static str, Option<u64>), &'static str>;
        let cases: [(&str, &str, Expected); 10] = [
            (
                "istio text",
                ISTIO_LINE,
                Ok(("GET", "/reviews/0", 503, "UF", Some(3))),
            ),
            (
                "envoy's older default",
                ENVOY_LINE,
                Ok(("POST", "/api/cart", 201, "-", Some(42))),
            ),
            (
                "tcp connection",
                TCP_LINE,
                Ok(("-", "-", 0, "-", Some(1200))),
            ),
            (
                "istio json",
                r#"{"start_time":"2026-11-25T21:26:18.409Z","method":"GET","path":"/ratings/1","protocol":"HTTP/1.1","response_code":404,"response_flags":"NR","duration":7,"upstream_host":null,"upstream_cluster":"-"}"#,
                Ok(("GET", "/ratings/1", 404, "NR", Some(7))),
            ),
            (
                "json with numbers as strings",
                r#"{"start_time":"t","method":"PUT","path":"/x","response_code":"200","response_flags":"-","duration":"12"}"#,
                Ok(("PUT", "/x", 200, "-", Some(12))),
            ),
            (
                "the proxy's own message",
                "2026-11-25T21:26:18.409Z\tinfo\txdsproxy\tconnected to upstream XDS server",
                Err("2026-11-25T21:26:18.409Z info xdsproxy connected to upstream XDS server"),
            ),
            (
                "json that is not an access log",
                r#"{"level":"info","msg":"ready"}"#,
                Err(r#"{"level":"info","msg":"ready"}"#),
            ),
            (
                "a bracket never closed",
                "[2026-11-25 \"GET / HTTP/1.1\" 200",
                Err("[2026-11-25 \"GET / HTTP/1.1\" 200"),
            ),
            (
                "a status that is not a number",
                r#"[t] "GET / HTTP/1.1" abc - 0 0 1 - "-" "-" "-" "-" "-""#,
                Err(r#"[t] "GET / HTTP/1.1" abc - 0 0 1 - "-" "-" "-" "-" "-""#),
            ),
            ("empty line", "", Err("")),
        ];
        for (name, line, expected) in cases {
            let got = match parse_line(line) {
                LogLine::Access(e) => Ok((
                    e.method.clone(),
                    e.path.clone(),
                    e.status,
                    e.flags.clone(),
                    e.duration_ms,
                )),
                LogLine::Raw(text) => Err(text),
            };
            let expected = expected
                .map(|(m, p, s, f, d)| (m.to_owned(), p.to_owned(), s, f.to_owned(), d))
                .map_err(str::to_owned);
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn hostile_lines_lose_their_escape_sequences_and_controls() {
        let cases = [
            (
                "clear screen in the path",
                ISTIO_LINE.replace("/reviews/0", "/reviews/\u{1b}[2J0"),
                "/reviews/0",
            ),
            (
                "OSC 52 clipboard write in the path",
                ISTIO_LINE.replace("/reviews/0", "/a\u{1b}]52;c;ZXZpbA==\u{7}b"),
                "/ab",
            ),
            (
                "C1 CSI in the path",
                ISTIO_LINE.replace("/reviews/0", "/x\u{9b}31my"),
                "/xy",
            ),
            (
                "bidi override in the path",
                ISTIO_LINE.replace("/reviews/0", "/abc\u{202e}fed"),
                "/abcfed",
            ),
        ];
        for (name, line, path) in cases {
            assert_eq!(entry(&line).path, path, "{name}");
        }
        let json = "{\"start_time\":\"t\",\"response_code\":200,\"path\":\"/p\\u001b]52;c;eA==\\u0007q\",\"user_agent\":\"\\u001b[2Jevil\\u009b1m\"}";
        let e = entry(json);
        assert_eq!((e.path.as_str(), e.user_agent.as_str()), ("/pq", "evil"));
        let LogLine::Raw(raw) = parse_line("boom\u{1b}]0;title\u{7} \u{85}\u{1b}[31mred") else {
            panic!("a proxy message stays raw");
        };
        assert_eq!(raw, "boom red");
    }

    #[test]
    fn very_long_lines_and_fields_are_cut() {
        let long_path = format!("/{}", "a".repeat(5_000));
        let e = entry(&ISTIO_LINE.replace("/reviews/0", &long_path));
        assert_eq!(e.path.chars().count(), MAX_TEXT_CHARS);
        assert!(e.path.ends_with('…'));
        let huge = ISTIO_LINE.replace("/reviews/0", &"b".repeat(MAX_PARSED_LINE_BYTES));
        let LogLine::Raw(raw) = parse_line(&huge) else {
            panic!("a line over the parse limit stays raw");
        };
        assert_eq!(raw.chars().count(), MAX_TEXT_CHARS);
        // Cutting never splits a character.
        let wide = "é".repeat(MAX_PARSED_LINE_BYTES);
        let LogLine::Raw(raw) = parse_line(&wide) else {
            panic!("raw");
        };
        assert!(raw.starts_with("éé"));
    }

    #[test]
    fn status_classes_follow_code_and_flags() {
        let cases = [
            ("ok", 200, "-", StatusClass::Success),
            ("redirect", 302, "-", StatusClass::Redirect),
            ("not found", 404, "NR", StatusClass::ClientError),
            ("unavailable", 503, "UO", StatusClass::ServerError),
            ("downstream hung up", 0, "DC", StatusClass::ServerError),
            ("tcp", 0, "-", StatusClass::None),
        ];
        for (name, code, flags, class) in cases {
            assert_eq!(StatusClass::of(code, flags), class, "{name}");
        }
    }
}
