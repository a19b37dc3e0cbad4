//! The field layer: what a user typed, read as the type the field holds. Each reader
//! returns the value or one sentence saying what is wrong, written for the user.

use super::super::cel::parse_duration;

/// One millisecond in nanoseconds: Istio's CRDs refuse shorter durations.
const MIN_DURATION_NS: i128 = 1_000_000;

/// A whole number in `min..=max`.
pub fn integer(text: &str, min: u32, max: u32) -> Result<u32, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("enter a whole number".into());
    }
    if !text.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("{text:?} is not a whole number"));
    }
    // Digits only: the one way this fails is a number too large for u32.
    match text.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("must be between {min} and {max}")),
    }
}

/// An optional whole number: empty leaves the field as it is.
pub fn optional_integer(text: &str, min: u32, max: u32) -> Result<Option<u32>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    integer(text, min, max).map(Some)
}

/// A Go duration of at least 1ms, e.g. `1.5s`, `200ms`, `1m30s`; returned as typed.
pub fn duration(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("enter a duration, e.g. 2s or 200ms".into());
    }
    match parse_duration(text) {
        None => Err(format!(
            "{text:?} is not a duration: a number and a unit (ms, s, m, h), e.g. 1.5s"
        )),
        Some(ns) if ns < MIN_DURATION_NS => Err("must be at least 1ms".into()),
        Some(_) => Ok(text.to_owned()),
    }
}

pub fn optional_duration(text: &str) -> Result<Option<String>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    duration(text).map(Some)
}

/// A percentage from 0 to 100, decimals allowed (`0.5`, `12.25`); a trailing `%` is fine.
pub fn percent(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let number = text.strip_suffix('%').unwrap_or(text).trim();
    if number.is_empty() {
        return Err("enter a percentage from 0 to 100".into());
    }
    let plain = number.chars().all(|c| c.is_ascii_digit() || c == '.')
        && number.chars().filter(|c| *c == '.').count() <= 1
        && number.chars().any(|c| c.is_ascii_digit());
    match number.parse::<f64>() {
        Ok(value) if plain && (0.0..=100.0).contains(&value) => Ok(value),
        Ok(_) if plain => Err("must be from 0 to 100".into()),
        _ => Err(format!("{text:?} is not a percentage")),
    }
}

/// An HTTP status code, 100 to 599.
pub fn http_status(text: &str) -> Result<u16, String> {
    let status = integer(text, 100, 599).map_err(|_| {
        if text.trim().is_empty() {
            "enter an HTTP status, e.g. 503".to_owned()
        } else {
            "an HTTP status is from 100 to 599".to_owned()
        }
    })?;
    // In range 100..=599, so it fits.
    Ok(u16::try_from(status).unwrap_or(599))
}

/// RFC 9110's token characters: what a header or cookie name may be made of.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// A header name; Istio matches header names in lower case, so `X-User` is fine and is
/// written as `x-user`.
pub fn header_name(text: &str) -> Result<String, String> {
    let name = text.trim();
    if name.is_empty() {
        return Err("enter a header name, e.g. end-user".into());
    }
    if let Some(bad) = name.chars().find(|c| !is_token_char(*c)) {
        return Err(format!("{bad:?} cannot be in a header name"));
    }
    // Istio gives these pseudo-header names meanings of their own.
    if ["uri", "scheme", "method", "authority"].contains(&name.to_ascii_lowercase().as_str()) {
        return Err(format!(
            "{name:?} is matched by Istio's own field, not as a header"
        ));
    }
    Ok(name.to_owned())
}

pub fn cookie_name(text: &str) -> Result<String, String> {
    let name = text.trim();
    if name.is_empty() {
        return Err("enter a cookie name, e.g. user".into());
    }
    match name.chars().find(|c| !is_token_char(*c)) {
        Some(bad) => Err(format!("{bad:?} cannot be in a cookie name")),
        None => Ok(name.to_owned()),
    }
}

/// A cookie value as a browser sends it: no spaces, quotes, commas, semicolons or
/// backslashes (RFC 6265's cookie-octet).
pub fn cookie_value(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("enter the cookie's value".into());
    }
    match text
        .chars()
        .find(|c| !c.is_ascii_graphic() || matches!(c, '"' | ',' | ';' | '\\'))
    {
        Some(bad) => Err(format!("{bad:?} cannot be in a cookie value")),
        None => Ok(text.to_owned()),
    }
}

/// A value to match a header against; control characters can't be sent in a header.
pub fn header_value(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("enter the value to match".into());
    }
    match text.chars().find(|c| c.is_control()) {
        Some(_) => Err("a header value cannot hold control characters".into()),
        None => Ok(text.to_owned()),
    }
}

/// A regular expression Envoy can run: RE2 syntax, which the `regex` crate shares.
pub fn regex(text: &str) -> Result<String, String> {
    header_value(text)?;
    match regex::Regex::new(text) {
        Ok(_) => Ok(text.to_owned()),
        Err(error) => {
            // The crate's message spans several lines with a caret; its last line says why.
            let message = error.to_string();
            let why = message
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid")
                .trim_start_matches("error: ")
                .to_owned();
            Err(format!("not a regular expression: {why}"))
        }
    }
}

/// Envoy's retry conditions Istio accepts, besides HTTP status codes.
pub const RETRY_CONDITIONS: [&str; 16] = [
    "5xx",
    "gateway-error",
    "reset",
    "reset-before-request",
    "connect-failure",
    "envoy-ratelimited",
    "retriable-4xx",
    "refused-stream",
    "retriable-status-codes",
    "retriable-headers",
    "http3-post-connect-failure",
    "cancelled",
    "deadline-exceeded",
    "internal",
    "resource-exhausted",
    "unavailable",
];

/// A comma-separated list of retry conditions, e.g. `5xx,connect-failure,503`.
pub fn retry_on(text: &str) -> Result<Vec<String>, String> {
    let mut conditions = Vec::new();
    for item in text.split(',').map(str::trim) {
        if item.is_empty() {
            if text.trim().is_empty() {
                return Ok(Vec::new());
            }
            return Err("an empty condition between commas".into());
        }
        let known = RETRY_CONDITIONS.contains(&item) || http_status(item).is_ok();
        if !known {
            return Err(format!(
                "{item:?} is not a retry condition (e.g. 5xx, connect-failure, 503)"
            ));
        }
        if !conditions.iter().any(|c| c == item) {
            conditions.push(item.to_owned());
        }
    }
    Ok(conditions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown<T: ToString>(result: Result<T, String>) -> Option<String> {
        result.ok().map(|value| value.to_string())
    }

    #[test]
    fn typed_text_reads_as_its_fields_type_or_is_refused() {
        let cases: [(&str, Option<String>, Option<&str>); 22] = [
            ("a whole number", shown(integer("80", 0, 100)), Some("80")),
            ("spaces around it", shown(integer(" 7 ", 0, 100)), Some("7")),
            ("above its range", shown(integer("101", 0, 100)), None),
            (
                "too large for any range",
                shown(integer("99999999999", 0, 100)),
                None,
            ),
            ("negative", shown(integer("-1", 0, 100)), None),
            (
                "empty optional number",
                shown(optional_integer(" ", 1, 9).map(|n| n.is_none())),
                Some("true"),
            ),
            ("duration 1.5s", shown(duration("1.5s")), Some("1.5s")),
            ("duration 200ms", shown(duration("200ms")), Some("200ms")),
            ("duration 1h30m", shown(duration("1h30m")), Some("1h30m")),
            ("duration below 1ms", shown(duration("999us")), None),
            ("duration without unit", shown(duration("5")), None),
            ("negative duration", shown(duration("-2s")), None),
            (
                "percent with decimals",
                shown(percent("12.5")),
                Some("12.5"),
            ),
            ("percent with a sign", shown(percent("50%")), Some("50")),
            ("percent above 100", shown(percent("100.1")), None),
            ("percent in words", shown(percent("half")), None),
            ("percent NaN", shown(percent("NaN")), None),
            ("status 503", shown(http_status("503")), Some("503")),
            ("status 600", shown(http_status("600")), None),
            ("header name", shown(header_name("X-User")), Some("X-User")),
            (
                "header name with a space",
                shown(header_name("end user")),
                None,
            ),
            ("regex that does not compile", shown(regex("(v1")), None),
        ];
        for (name, got, want) in cases {
            assert_eq!(got.as_deref(), want, "{name}");
        }
    }

    #[test]
    fn each_refusal_says_what_is_wrong() {
        assert_eq!(
            integer("101", 0, 100),
            Err("must be between 0 and 100".into())
        );
        assert_eq!(duration("999us"), Err("must be at least 1ms".into()));
        assert!(duration("5").unwrap_err().contains("not a duration"));
        assert_eq!(percent("100.1"), Err("must be from 0 to 100".into()));
        assert_eq!(
            http_status("600"),
            Err("an HTTP status is from 100 to 599".into())
        );
        assert_eq!(
            header_name("end user"),
            Err("' ' cannot be in a header name".into())
        );
        let regex_error = regex("(v1").unwrap_err();
        assert!(
            regex_error.starts_with("not a regular expression: ")
                && regex_error.contains("unclosed"),
            "{regex_error}"
        );
        assert_eq!(
            cookie_value("a;b"),
            Err("';' cannot be in a cookie value".into())
        );
    }

    #[test]
    fn retry_conditions_are_envoys_or_status_codes() {
        assert_eq!(
            retry_on("5xx, connect-failure,503,5xx"),
            Ok(vec!["5xx".into(), "connect-failure".into(), "503".into()])
        );
        assert_eq!(retry_on(""), Ok(vec![]));
        assert!(retry_on("5xx,,reset").is_err());
        assert!(retry_on("sometimes").unwrap_err().contains("\"sometimes\""));
    }
}
