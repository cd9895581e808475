//! UTC timestamps as ISO-8601 text, without a date-time dependency.

use std::time::{SystemTime, UNIX_EPOCH};

/// The current UTC time as `YYYY-MM-DD HH:MM:SS.mmm`.
pub fn now_utc() -> String {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    format_utc(since.as_secs(), since.subsec_millis())
}

/// Formats seconds since the Unix epoch plus milliseconds.
pub fn format_utc(secs: u64, millis: u32) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(i64::try_from(days).unwrap_or(0));
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{millis:03}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Year, month, day, hour, minute and second of `secs` since the Unix
/// epoch (UTC, or shifted by an offset the caller added).
pub fn civil_parts(secs: i64) -> [i64; 6] {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    [y, i64::from(m), i64::from(d), rem / 3600, rem % 3600 / 60, rem % 60]
}

/// Milliseconds since the Unix epoch of a timestamp written by
/// [`now_utc`] (`YYYY-MM-DD HH:MM:SS.mmm`, UTC).
pub fn parse_utc_millis(s: &str) -> Option<i64> {
    let (date, time) = s.trim().split_once(' ')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>());
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let (hms, millis) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.split(':').map(|x| x.parse::<i64>());
    let (hh, mm, ss) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
    let millis: i64 = millis.get(..3.min(millis.len()))?.parse().ok()?;
    Some(((days_from_civil(y, m, day) * 24 + hh) * 60 + mm) * 60_000 + ss * 1000 + millis)
}

/// Howard Hinnant's civil-to-days algorithm.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_known_instants() {
        assert_eq!(super::format_utc(0, 0), "1970-01-01 00:00:00.000");
        assert_eq!(super::format_utc(1_768_487_400, 5), "2026-01-15 14:30:00.005");
        assert_eq!(super::format_utc(951_782_400, 0), "2000-02-29 00:00:00.000");
        assert_eq!(
            super::parse_utc_millis("2026-01-15 14:30:00.005"),
            Some(1_768_487_400_005)
        );
        assert_eq!(super::parse_utc_millis("1970-01-01 00:00:01.000"), Some(1000));
        assert_eq!(super::parse_utc_millis("garbage"), None);
    }
}
