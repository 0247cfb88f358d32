//! Exact decimal numbers, so that body conditions compare `50.00`, `5e1` and `50` as the
//! same number and never round through `f64`.

use std::cmp::Ordering;
use std::fmt;

/// The longest exponent (in digits) accepted; larger numbers are refused, not rounded.
const MAX_EXPONENT_DIGITS: usize = 9;

/// An exact decimal: `±digits × 10^exp`, with no leading or trailing zeros in `digits`
/// (zero has no digits and is never negative), so equal numbers have equal fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Decimal {
    negative: bool,
    digits: String,
    exp: i64,
}

impl Decimal {
    /// Parses a number in JSON's grammar (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`).
    /// `None` for anything else, or an exponent of more than nine digits.
    pub fn parse(text: &str) -> Option<Decimal> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        let (int, frac) = match mantissa.split_once('.') {
            Some((int, frac)) => (int, Some(frac)),
            None => (mantissa, None),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(int) || (int.len() > 1 && int.starts_with('0')) {
            return None;
        }
        if frac.is_some_and(|f| !all_digits(f)) {
            return None;
        }
        let exp = match exponent {
            None => 0,
            Some(e) => {
                let unsigned = e.strip_prefix(['+', '-']).unwrap_or(e);
                if !all_digits(unsigned) || unsigned.len() > MAX_EXPONENT_DIGITS {
                    return None;
                }
                e.parse::<i64>().ok()?
            }
        };
        let frac = frac.unwrap_or("");
        let mut digits = format!("{int}{frac}");
        let mut exp = exp - frac.len() as i64;
        let trailing = digits.len() - digits.trim_end_matches('0').len();
        digits.truncate(digits.len() - trailing);
        exp += trailing as i64;
        let digits = digits.trim_start_matches('0').to_string();
        if digits.is_empty() {
            return Some(Decimal::zero());
        }
        Some(Decimal {
            negative,
            digits,
            exp,
        })
    }

    /// Zero.
    pub fn zero() -> Decimal {
        Decimal {
            negative: false,
            digits: String::new(),
            exp: 0,
        }
    }

    /// From a TOML float, through its shortest round-trip spelling (`0.1` stays `0.1`).
    /// `None` for infinities and NaN.
    pub fn from_f64(value: f64) -> Option<Decimal> {
        if !value.is_finite() {
            return None;
        }
        Decimal::parse(&format!("{value}"))
    }

    fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// Compares magnitudes (both non-zero).
    fn cmp_magnitude(&self, other: &Decimal) -> Ordering {
        // The position of the most significant digit decides first; with the same position,
        // digit strings without trailing zeros compare lexicographically.
        let top = |d: &Decimal| d.digits.len() as i64 + d.exp;
        top(self)
            .cmp(&top(other))
            .then_with(|| self.digits.cmp(&other.digits))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => {
                return if other.negative {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (false, true) => {
                return if self.negative {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (false, false) => {}
        }
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let sign = if self.negative { "-" } else { "" };
        if self.exp >= 0 && self.exp <= 20 {
            let zeros = "0".repeat(self.exp as usize);
            return write!(f, "{sign}{}{zeros}", self.digits);
        }
        let point = self.digits.len() as i64 + self.exp;
        if self.exp < 0 && point > 0 {
            let (int, frac) = self.digits.split_at(point as usize);
            return write!(f, "{sign}{int}.{frac}");
        }
        if self.exp < 0 && point > -20 {
            let zeros = "0".repeat((-point) as usize);
            return write!(f, "{sign}0.{zeros}{}", self.digits);
        }
        write!(f, "{sign}{}e{}", self.digits, self.exp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(text: &str) -> Decimal {
        Decimal::parse(text).unwrap_or_else(|| panic!("{text:?} should parse"))
    }

    #[test]
    fn spellings_of_one_number_are_equal() {
        for text in [
            "50", "50.0", "50.00", "5e1", "5E1", "5e+1", "500e-1", "0.5e2", "50.000",
        ] {
            assert_eq!(d(text), d("50"), "{text}");
        }
        assert_eq!(d("-0"), d("0"));
        assert_eq!(d("0.000"), d("0e5"));
    }

    #[test]
    fn order_is_exact() {
        assert!(d("50.001") > d("50"));
        assert!(d("49.999999999999999999999") < d("50"));
        assert!(d("5000") > d("50.00"));
        assert!(d("-1") < d("0"));
        assert!(d("-2") < d("-1.5"));
        assert!(d("0.2") > d("0.15"));
        assert!(d("1e-400000") > d("0"));
        assert!(d("1e400000") > d("99999999999999999999999999"));
        // Beyond f64: these are equal as f64 but not as decimals.
        assert!(d("9007199254740993") > d("9007199254740992"));
        assert!(d("0.1") < d("0.10000000000000000001"));
    }

    #[test]
    fn non_json_numbers_are_refused() {
        for text in [
            "",
            "-",
            "+1",
            "01",
            "1.",
            ".5",
            "1e",
            "1e+",
            "0x10",
            "1_000",
            "NaN",
            "Infinity",
            " 1",
            "1 ",
            "1e1234567890",
            "--1",
        ] {
            assert!(Decimal::parse(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn displays_plainly() {
        assert_eq!(d("50.00").to_string(), "50");
        assert_eq!(d("5e1").to_string(), "50");
        assert_eq!(d("-12.50").to_string(), "-12.5");
        assert_eq!(d("0.0012").to_string(), "0.0012");
        assert_eq!(d("1e40").to_string(), "1e40");
        assert_eq!(Decimal::from_f64(0.1).unwrap(), d("0.1"));
        assert!(Decimal::from_f64(f64::NAN).is_none());
    }

    proptest! {
        #[test]
        fn agrees_with_integers(a in any::<i64>(), b in any::<i64>()) {
            prop_assert_eq!(d(&a.to_string()).cmp(&d(&b.to_string())), a.cmp(&b));
        }

        #[test]
        fn scaling_the_spelling_keeps_the_value(a in any::<i32>(), zeros in 0usize..5) {
            let plain = d(&a.to_string());
            let with_fraction = d(&format!("{a}.{}", "0".repeat(zeros + 1)));
            prop_assert_eq!(&plain, &with_fraction);
            prop_assert_eq!(d(&format!("{a}e0")), plain);
        }
    }
}
