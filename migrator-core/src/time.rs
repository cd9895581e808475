//! UTC timestamps as the log writes them (`YYYY-MM-DD HH:MM:SS.mmm`),
//! through jiff.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

/// The current UTC time as `YYYY-MM-DD HH:MM:SS.mmm`.
pub fn now_utc() -> String {
    format_utc(Timestamp::now())
}

/// `at` in UTC as `YYYY-MM-DD HH:MM:SS.mmm`.
pub fn format_utc(at: Timestamp) -> String {
    let t = TimeZone::UTC.to_datetime(at);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Milliseconds since the Unix epoch of a timestamp written by
/// [`now_utc`] (`YYYY-MM-DD HH:MM:SS.mmm`, UTC); `None` for anything else.
pub fn parse_utc_millis(s: &str) -> Option<i64> {
    let t: DateTime = s.trim().parse().ok()?;
    Some(TimeZone::UTC.to_timestamp(t).ok()?.as_millisecond())
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    #[test]
    fn formats_and_reads_known_instants() {
        let at = |s: i64, ms: i64| Timestamp::from_millisecond(s * 1000 + ms).unwrap();
        assert_eq!(super::format_utc(at(0, 0)), "1970-01-01 00:00:00.000");
        assert_eq!(super::format_utc(at(1_768_487_400, 5)), "2026-01-15 14:30:00.005");
        assert_eq!(super::format_utc(at(951_782_400, 0)), "2000-02-29 00:00:00.000");
        assert_eq!(
            super::parse_utc_millis("2026-01-15 14:30:00.005"),
            Some(1_768_487_400_005)
        );
        assert_eq!(super::parse_utc_millis("1970-01-01 00:00:01.000"), Some(1000));
        assert_eq!(super::parse_utc_millis("garbage"), None);
        // What now_utc writes, it reads back.
        let now = super::now_utc();
        assert!(super::parse_utc_millis(&now).is_some(), "{now}");
    }
}
