//! Compact number formats for a terminal cell budget.

/// Request rate: `0.2/s`, `12/s`, `1.5k/s`.
pub fn rate(per_s: f64) -> String {
    if per_s >= 999.5 {
        format!("{:.1}k/s", per_s / 1000.0)
    } else if per_s >= 9.95 {
        format!("{per_s:.0}/s")
    } else if per_s >= 0.05 {
        format!("{per_s:.1}/s")
    } else if per_s > 0.0 {
        "<0.1/s".into()
    } else {
        "0/s".into()
    }
}

/// A percentage with one decimal under 10, none above: `0.4%`, `12%`.
pub fn percent(pct: f64) -> String {
    if pct <= 0.0 {
        "0%".into()
    } else if pct < 0.05 {
        "<0.1%".into()
    } else if pct < 9.95 {
        format!("{pct:.1}%")
    } else {
        format!("{pct:.0}%")
    }
}

/// Bytes per second: `512B/s`, `1.2KB/s`, `3.4MB/s`.
pub fn bytes_rate(per_s: f64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut value = per_s.max(0.0);
    let mut unit = 0;
    while value >= 999.5 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 || value >= 99.95 {
        format!("{value:.0}{}/s", UNITS[unit])
    } else {
        format!("{value:.1}{}/s", UNITS[unit])
    }
}

/// Milliseconds: `0.8ms`, `45ms`, `1.2s`.
pub fn millis(ms: f64) -> String {
    if ms >= 999.5 {
        format!("{:.1}s", ms / 1000.0)
    } else if ms >= 9.95 {
        format!("{ms:.0}ms")
    } else {
        format!("{ms:.1}ms")
    }
}

/// Age of the data: `0s`, `42s`, `3m`, `2h`.
pub fn age(seconds: f64) -> String {
    let s = seconds.max(0.0).floor() as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        _ => format!("{}h", s / 3600),
    }
}

/// A pod's age, as kubectl shows it: `42s`, `3m`, `5h`, `12d`.
pub fn long_age(seconds: f64) -> String {
    let s = seconds.max(0.0).floor() as u64;
    if s >= 2 * 86_400 {
        format!("{}d", s / 86_400)
    } else {
        age(seconds)
    }
}

/// A duration as the status bar shows a time window: `1m`, `30s`, `1h`.
pub fn window(seconds: u64) -> String {
    if seconds % 3600 == 0 && seconds > 0 {
        format!("{}h", seconds / 3600)
    } else if seconds % 60 == 0 && seconds > 0 {
        format!("{}m", seconds / 60)
    } else {
        format!("{seconds}s")
    }
}

/// A table's sort column and direction as the screen says it, e.g. `rps ↓` (`rps desc`
/// without Unicode).
pub fn sort_label(column: &str, reversed: bool, ascii: bool) -> String {
    let arrow = match (reversed, ascii) {
        (false, false) => "↓",
        (true, false) => "↑",
        (false, true) => "desc",
        (true, true) => "asc",
    };
    format!("{column} {arrow}")
}

/// An edge's rate as a table shows it: bytes per second for TCP, requests otherwise.
pub fn edge_rate(protocol: crate::mesh::Protocol, rate: f64) -> String {
    if protocol == crate::mesh::Protocol::Tcp {
        bytes_rate(rate)
    } else {
        self::rate(rate)
    }
}

/// A share (0..=1) as a whole percentage, or `-` when unknown (e.g. mTLS without a
/// destination proxy).
pub fn share(share: Option<f64>) -> String {
    share
        .map(|s| format!("{:.0}%", s * 100.0))
        .unwrap_or_else(|| "-".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_fit_their_cell_budget() {
        let cases = [
            (rate(0.0), "0/s"),
            (rate(0.004), "<0.1/s"),
            (rate(0.04), "<0.1/s"),
            (rate(0.2), "0.2/s"),
            (rate(9.94), "9.9/s"),
            (rate(12.4), "12/s"),
            (rate(1520.0), "1.5k/s"),
            (percent(0.0), "0%"),
            (percent(0.44), "0.4%"),
            (percent(11.1), "11%"),
            (bytes_rate(512.0), "512B/s"),
            (bytes_rate(1234.0), "1.2KB/s"),
            (bytes_rate(3_400_000.0), "3.4MB/s"),
            (bytes_rate(118_800.0), "119KB/s"),
            (millis(0.8), "0.8ms"),
            (millis(45.2), "45ms"),
            (millis(1234.0), "1.2s"),
            (age(42.9), "42s"),
            (age(190.0), "3m"),
            (long_age(190.0), "3m"),
            (long_age(7_200.0), "2h"),
            (long_age(400_000.0), "4d"),
            (window(60), "1m"),
            (window(90), "90s"),
        ];
        for (got, expected) in cases {
            assert_eq!(got, expected);
        }
    }
}
