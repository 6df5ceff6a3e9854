//! Command-line values the two programs share, checked when parsed so that no flag can make
//! a run panic (`Duration::from_secs_f64` panics on NaN, infinities and huge values), spin
//! (an interval of 0) or hang (a vCPU asleep for 584,942 years).

use std::time::Duration;

/// The longest `--duration`: a year is more than any demo or test needs and far from the
/// limits of `Duration` and of the clock arithmetic done with it.
pub const MAX_DURATION_SECS: f64 = 365.0 * 24.0 * 3600.0;

/// The shortest `--interval` of `statsfs top`: kvm_stat's own minimum refresh is 0.1 s;
/// below 10 ms a sample costs more than it shows.
pub const MIN_INTERVAL_SECS: f64 = 0.01;

/// The longest `--interval`: a day.
pub const MAX_INTERVAL_SECS: f64 = 24.0 * 3600.0;

/// The longest `--pace-us`: 10 s halted per HLT is already a VM that does nothing.
pub const MAX_PACE_US: u64 = 10_000_000;

fn seconds_in(text: &str, min: f64, max: f64) -> Result<Duration, String> {
    let v: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !v.is_finite() {
        return Err(format!("`{text}` is not a finite number of seconds"));
    }
    if v < min || v > max {
        return Err(format!("{} s is outside {min} s ..= {max} s", text.trim()));
    }
    Ok(Duration::from_secs_f64(v))
}

/// `--duration`: seconds, 0 up to a year.
pub fn duration(text: &str) -> Result<Duration, String> {
    seconds_in(text, 0.0, MAX_DURATION_SECS)
}

/// `--interval`: seconds, 10 ms up to a day.
pub fn interval(text: &str) -> Result<Duration, String> {
    seconds_in(text, MIN_INTERVAL_SECS, MAX_INTERVAL_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_that_would_panic_or_spin_are_errors() {
        assert_eq!(duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(duration("0"), Ok(Duration::ZERO));
        assert_eq!(duration("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(
            duration("-1").unwrap_err(),
            "-1 s is outside 0 s ..= 31536000 s"
        );
        assert_eq!(
            duration("nan").unwrap_err(),
            "`nan` is not a finite number of seconds"
        );
        assert_eq!(
            duration("inf").unwrap_err(),
            "`inf` is not a finite number of seconds"
        );
        assert_eq!(
            duration("1e300").unwrap_err(),
            "1e300 s is outside 0 s ..= 31536000 s"
        );
        assert_eq!(
            duration("soon").unwrap_err(),
            "`soon` is not a number of seconds"
        );
        assert_eq!(
            interval("0").unwrap_err(),
            "0 s is outside 0.01 s ..= 86400 s"
        );
        assert_eq!(
            interval("1e20").unwrap_err(),
            "1e20 s is outside 0.01 s ..= 86400 s"
        );
        assert_eq!(interval("0.5"), Ok(Duration::from_millis(500)));
    }
}
