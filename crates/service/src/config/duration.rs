//! Durations as written in the config file and on the command line: `"90s"`, `"15m"`,
//! `"1h"`, `"2h30m"`, `"1d"`, `"500ms"`.

use std::time::Duration;

/// The units in the order they must appear, with their length in milliseconds.
const UNITS: [(&str, u64); 5] = [
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Parses a duration: one or more `<digits><unit>` parts with units `d`, `h`, `m`, `s` and
/// `ms`, each at most once and from largest to smallest (`"2h30m"`, not `"30m2h"`).
///
/// Surrounding whitespace is ignored; anything else (signs, decimals, spaces inside, a
/// number without a unit) is refused with a message that says what was expected.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let expected = "expected a duration such as \"90s\", \"15m\", \"1h\", \"2h30m\" or \"1d\"";
    if trimmed.is_empty() {
        return Err(format!("empty duration; {expected}"));
    }
    let mut rest = trimmed;
    let mut total_ms: u64 = 0;
    // Index into UNITS of the next unit allowed (units must strictly decrease).
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!("{trimmed:?} is not a duration; {expected}"));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("{trimmed:?}: number too large"))?;
        rest = &rest[digits..];
        let letters = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..letters];
        rest = &rest[letters..];
        if unit.is_empty() {
            return Err(format!(
                "{trimmed:?} has a number without a unit (d, h, m, s or ms); {expected}"
            ));
        }
        let position = UNITS
            .iter()
            .position(|(name, _)| *name == unit)
            .ok_or_else(|| format!("{trimmed:?}: unknown unit {unit:?} (use d, h, m, s or ms)"))?;
        if position < next_unit {
            return Err(format!(
                "{trimmed:?}: units must go from largest to smallest, each once (like \"2h30m\")"
            ));
        }
        next_unit = position + 1;
        total_ms = number
            .checked_mul(UNITS[position].1)
            .and_then(|ms| total_ms.checked_add(ms))
            .ok_or_else(|| format!("{trimmed:?}: duration too large"))?;
    }
    Ok(Duration::from_millis(total_ms))
}

/// Formats a duration in the form [`parse_duration`] reads, largest units first
/// (`5400s` → `"1h30m"`, zero → `"0s"`). Sub-millisecond parts are dropped.
pub fn format_duration(duration: Duration) -> String {
    let mut ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    for (name, size) in UNITS {
        if ms >= size {
            out.push_str(&format!("{}{name}", ms / size));
            ms %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_forms() {
        let cases = [
            ("90s", 90),
            ("15m", 15 * 60),
            ("1h", 3600),
            ("2h30m", 2 * 3600 + 30 * 60),
            ("1d", 86_400),
            ("1d2h3m4s", 86_400 + 2 * 3600 + 3 * 60 + 4),
            (" 30s ", 30),
            ("0s", 0),
        ];
        for (text, secs) in cases {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_secs(secs)),
                "{text}"
            );
        }
        assert_eq!(parse_duration("1s500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
    }

    #[test]
    fn refuses_everything_else() {
        for text in [
            "",
            "  ",
            "10",
            "h",
            "1.5h",
            "-1h",
            "+1h",
            "1 h",
            "1h 30m",
            "30m2h",
            "1h1h",
            "1w",
            "1H",
            "1hour",
            "s1",
            "1d-",
            "99999999999999999999s",
        ] {
            assert!(parse_duration(text).is_err(), "{text:?} should be refused");
        }
        assert!(parse_duration("10").unwrap_err().contains("without a unit"));
        assert!(parse_duration("30m2h")
            .unwrap_err()
            .contains("largest to smallest"));
        assert!(parse_duration("1w").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("213503982334602d")
            .unwrap_err()
            .contains("too large"));
    }

    #[test]
    fn formatting_round_trips() {
        for text in [
            "0s", "1s", "90m", "1h30m", "1d", "2d3h4m5s", "1s500ms", "250ms",
        ] {
            let parsed = parse_duration(text).unwrap();
            assert_eq!(
                parse_duration(&format_duration(parsed)),
                Ok(parsed),
                "{text}"
            );
        }
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(format_duration(Duration::ZERO), "0s");
    }
}
