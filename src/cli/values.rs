//! Parsers for the values users type on the command line: durations, instants, endpoints.

use std::time::Duration;

/// `500ms`, `30s`, `5m`, `1h`, `1d`; a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (try 30s, 5m, 1h, 1d)"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        "d" => value * 86_400.0,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?} (use ms, s, m, h or d)"
            ))
        }
    };
    if !seconds.is_finite() || seconds <= 0.0 || seconds > 365.0 * 86_400.0 {
        return Err(format!("{text:?} is not a usable duration"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// An instant as Unix seconds (`1795557600`) or UTC RFC 3339 (`2026-11-24T22:00:00Z`).
pub fn parse_instant(text: &str) -> Result<f64, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        if seconds.is_finite() && seconds >= 0.0 {
            return Ok(seconds);
        }
    }
    parse_rfc3339_utc(text).ok_or_else(|| {
        format!("{text:?} is not a time (Unix seconds, or UTC like 2026-11-24T22:00:00Z)")
    })
}

fn parse_rfc3339_utc(text: &str) -> Option<f64> {
    let body = text
        .strip_suffix('Z')
        .or_else(|| text.strip_suffix("+00:00"))?;
    let (date, time) = body.split_once('T')?;
    let mut date_parts = date.split('-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (
        date_parts.next()??,
        date_parts.next()??,
        date_parts.next()??,
    );
    let mut time_parts = time.split(':');
    let hour: i64 = time_parts.next()?.parse().ok()?;
    let minute: i64 = time_parts.next()?.parse().ok()?;
    let second: f64 = time_parts.next()?.parse().ok()?;
    let valid = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && (0..24).contains(&hour)
        && (0..60).contains(&minute)
        && (0.0..61.0).contains(&second)
        && date_parts.next().is_none()
        && time_parts.next().is_none();
    if !valid {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some((days * 86_400 + hour * 3600 + minute * 60) as f64 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's well-known method).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// A kubeconfig context to watch, and the cluster id Istio's metrics give that cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextArg {
    pub context: String,
    /// The `source_cluster`/`destination_cluster` value; `None`: the context's name.
    pub cluster: Option<String>,
}

/// `CONTEXT` or `CONTEXT=CLUSTER`.
pub fn parse_context(text: &str) -> Result<ContextArg, String> {
    let text = text.trim();
    let (context, cluster) = match text.split_once('=') {
        Some((context, cluster)) => (context.trim(), Some(cluster.trim())),
        None => (text, None),
    };
    let printable = |s: &str| !s.is_empty() && !s.chars().any(char::is_control);
    if !printable(context) {
        return Err(format!(
            "{text:?} names no context (write CONTEXT or CONTEXT=CLUSTER)"
        ));
    }
    if cluster.is_some_and(|c| !printable(c) || c.contains('=')) {
        return Err(format!(
            "{text:?} names no cluster after '=' (write CONTEXT=CLUSTER, the cluster as \
             Istio's source_cluster label names it)"
        ));
    }
    Ok(ContextArg {
        context: context.to_owned(),
        cluster: cluster.map(str::to_owned),
    })
}

/// `Name: value`, as `curl -H` takes headers.
/// A Prometheus label name: letters, digits and `_`, not first a digit, not `__` first.
pub fn parse_label_name(text: &str) -> Result<String, String> {
    let mut chars = text.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !text.starts_with("__");
    if valid {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "{text:?} is not a Prometheus label name (letters, digits and '_', not first a digit)"
        ))
    }
}

pub fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?} is not a header (write it as 'Name: value')"))?;
    let name = name.trim();
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(format!("{name:?} is not a header name"));
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        let cases = [
            ("500ms", 0.5),
            ("30s", 30.0),
            ("45", 45.0),
            ("5m", 300.0),
            ("1h", 3600.0),
            ("1d", 86_400.0),
            ("1.5m", 90.0),
        ];
        for (text, seconds) in cases {
            assert_eq!(
                parse_duration(text).unwrap(),
                Duration::from_secs_f64(seconds),
                "{text}"
            );
        }
        for bad in ["", "m", "5 weeks", "-1s", "0s", "1y", "abc", "1e400s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn instants_are_unix_seconds_or_utc_rfc3339() {
        let cases = [
            ("1795557600", 1_795_557_600.0),
            ("2026-11-24T22:00:00Z", 1_795_557_600.0),
            ("2026-11-24T22:00:00+00:00", 1_795_557_600.0),
            ("1970-01-01T00:00:00Z", 0.0),
            ("2000-02-29T12:30:15.5Z", 951_827_415.5),
        ];
        for (text, seconds) in cases {
            assert_eq!(parse_instant(text).unwrap(), seconds, "{text}");
        }
        for bad in [
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-24 22:00:00",
            "2026-11-24T22:00:00+02:00",
            "-5",
        ] {
            assert!(parse_instant(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn contexts_are_a_name_with_an_optional_cluster_after_an_equals_sign() {
        let cases = [
            ("prod", "prod", None),
            ("prod=cluster-east", "prod", Some("cluster-east")),
            (" prod = east ", "prod", Some("east")),
            (
                "arn:aws:eks:eu-west-1:123:cluster/prod=eks-prod",
                "arn:aws:eks:eu-west-1:123:cluster/prod",
                Some("eks-prod"),
            ),
        ];
        for (text, context, cluster) in cases {
            let parsed = parse_context(text).unwrap();
            assert_eq!(parsed.context, context, "{text}");
            assert_eq!(parsed.cluster.as_deref(), cluster, "{text}");
        }
        for bad in ["", "=east", "prod=", "prod=a=b", "pr\u{1b}od"] {
            assert!(parse_context(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn headers_are_name_colon_value() {
        assert_eq!(
            parse_header("X-Scope-OrgID: tenant-1").unwrap(),
            ("X-Scope-OrgID".into(), "tenant-1".into())
        );
        assert!(parse_header("no colon").is_err());
        assert!(parse_header("bad name: x").is_err());
    }
}
