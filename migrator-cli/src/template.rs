//! New revision files: ids, slugs, Alembic's `file_template` tokens, and
//! the text of a new file.

use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

/// Alembic's default file template.
pub(crate) const DEFAULT_TEMPLATE: &str = "%(year)d%(month).2d%(day).2d_%(hour).2d%(minute).2d_%(rev)s_%(slug)s";

/// A random 12-hex-character revision id.
pub(crate) fn random_id() -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(nanos);
    h.write_u32(std::process::id());
    format!("{:012x}", h.finish() & 0xffff_ffff_ffff)
}

/// Alembic's slug: the words of the message, lowercased, joined by `_`,
/// cut at a word boundary to at most `max` characters (plus a trailing
/// `_` when cut).
pub(crate) fn slug(message: &str, max: usize) -> String {
    let words: Vec<String> = message
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let slug = words.join("_");
    if slug.chars().count() <= max {
        return slug;
    }
    let cut: String = slug.chars().take(max).collect();
    match cut.rsplit_once('_') {
        Some((head, _)) => format!("{head}_"),
        None => format!("{cut}_"),
    }
}

/// A point in time, broken down, with the zone it is in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stamp {
    pub epoch: i64,
    pub parts: [i64; 6],
}

/// Now, in `timezone`: `UTC` (the default), a fixed offset such as
/// `+02:00`, or a named zone such as `Europe/Paris` (from the system's
/// time zone database), as Alembic's `timezone` takes.
pub(crate) fn now_in(timezone: Option<&str>) -> Result<Stamp, String> {
    let zone = match timezone.map(str::trim) {
        None | Some("UTC" | "utc" | "Z" | "") => jiff::tz::TimeZone::UTC,
        Some(tz) => match parse_offset(tz) {
            Some(secs) => jiff::tz::Offset::from_seconds(secs)
                .map(jiff::tz::TimeZone::fixed)
                .map_err(|e| format!("timezone `{tz}`: {e}"))?,
            None => jiff::tz::TimeZone::get(tz).map_err(|e| {
                format!("timezone `{tz}` is not UTC, an offset like +02:00, or a known zone name ({e})")
            })?,
        },
    };
    let now = jiff::Timestamp::now();
    let t = zone.to_datetime(now);
    Ok(Stamp {
        epoch: now.as_second(),
        parts: [
            i64::from(t.year()),
            i64::from(t.month()),
            i64::from(t.day()),
            i64::from(t.hour()),
            i64::from(t.minute()),
            i64::from(t.second()),
        ],
    })
}

fn parse_offset(tz: &str) -> Option<i32> {
    let (sign, rest) = match tz.as_bytes().first()? {
        b'+' => (1, &tz[1..]),
        b'-' => (-1, &tz[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

/// Fills Alembic's `%(name)s` / `%(name)d` / `%(name).2d` / `%(name)02d`
/// template.
pub(crate) fn render(template: &str, rev: &str, slug: &str, at: &Stamp) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos + 1..];
        if let Some(r) = rest.strip_prefix('%') {
            // alembic.ini escapes every `%` of a token for configparser:
            // `%%(year)d` there is `%(year)d` here.
            if !r.starts_with('(') {
                out.push('%');
                rest = r;
                continue;
            }
            rest = r;
        }
        let bad = || format!("file_template `{template}`: expected `%(name)s` or `%(name)d` after `%`");
        let r = rest.strip_prefix('(').ok_or_else(bad)?;
        let close = r.find(')').ok_or_else(bad)?;
        let name = &r[..close];
        let r = &r[close + 1..];
        let spec_end = r.find(|c: char| c.is_ascii_alphabetic()).ok_or_else(bad)?;
        let (spec, kind) = (&r[..spec_end], &r[spec_end..=spec_end]);
        rest = &r[spec_end + 1..];
        let (zero_pad, width) = match spec.strip_prefix('.') {
            Some(p) => (true, p.parse::<usize>().map_err(|_| bad())?),
            None if spec.starts_with('0') => (true, spec.parse::<usize>().map_err(|_| bad())?),
            None if spec.is_empty() => (false, 0),
            None => (false, spec.parse::<usize>().map_err(|_| bad())?),
        };
        if width > 32 {
            return Err(format!(
                "file_template `{template}`: a width of {width} is too wide for a file name; use at most 32"
            ));
        }
        let [year, month, day, hour, minute, second] = at.parts;
        let number = match name {
            "epoch" => Some(at.epoch),
            "year" => Some(year),
            "month" => Some(month),
            "day" => Some(day),
            "hour" => Some(hour),
            "minute" => Some(minute),
            "second" => Some(second),
            _ => None,
        };
        let text = match (name, number) {
            ("rev", _) => rev.to_owned(),
            ("slug", _) => slug.to_owned(),
            (_, Some(n)) if kind == "d" && zero_pad => format!("{n:0width$}"),
            (_, Some(n)) if kind == "d" => format!("{n:width$}"),
            (_, Some(n)) => n.to_string(),
            _ => {
                return Err(format!(
                    "file_template `{template}`: unknown token `{name}`; the tokens are rev, slug, epoch, year, month, day, hour, minute, second"
                ));
            }
        };
        out.push_str(&text);
    }
    out.push_str(rest);
    Ok(out)
}

/// What goes into a new revision file.
#[derive(Debug)]
pub(crate) struct NewFile<'a> {
    pub message: &'a str,
    pub id: &'a str,
    pub revises: &'a [String],
    pub labels: &'a [String],
    pub depends_on: &'a [String],
    /// The sections: one pair per dialect from autogenerate, one plain
    /// empty pair otherwise.
    pub sections: &'a [Sections],
}

/// An up and a down section for one dialect (`None`: for every dialect).
#[derive(Debug, Clone, Default)]
pub(crate) struct Sections {
    pub dialect: Option<migrator_core::Dialect>,
    pub up: String,
    pub down: String,
}

/// A message as one header line: line breaks and other control characters
/// become spaces, so that no message can add header keys or sections.
pub(crate) fn one_line(message: &str) -> String {
    let spaced: String = message.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text of a new revision file.
pub(crate) fn revision_file(f: &NewFile<'_>, at: &Stamp) -> String {
    let [y, mo, d, h, mi, s] = at.parts;
    let mut t = format!(
        "-- {}\n--\n-- Revision ID: {}\n-- Revises: {}\n-- Create Date: {y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}\n",
        one_line(f.message),
        f.id,
        f.revises.join(", ")
    );
    if !f.labels.is_empty() {
        t += &format!("-- Branch Labels: {}\n", f.labels.join(", "));
    }
    if !f.depends_on.is_empty() {
        t += &format!("-- Depends On: {}\n", f.depends_on.join(", "));
    }
    let plain = [Sections::default()];
    let sections = if f.sections.is_empty() { &plain[..] } else { f.sections };
    for s in sections {
        let qualifier = s.dialect.map_or(String::new(), |d| format!(" {}", d.name()));
        t += &format!(
            "\n-- migrate:up{qualifier}\n{}\n\n-- migrate:down{qualifier}\n{}\n",
            s.up, s.down
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: Stamp = Stamp {
        epoch: 1_768_487_400,
        parts: [2026, 1, 5, 9, 3, 7],
    };

    #[test]
    fn alembic_default_template() {
        assert_eq!(
            render(DEFAULT_TEMPLATE, "ab12cd34ef56", "add_users", &AT).unwrap(),
            "20260105_0903_ab12cd34ef56_add_users"
        );
        assert_eq!(
            render("%(epoch)s-%(second)02d-%(rev)s%%", "x", "", &AT).unwrap(),
            "1768487400-07-x%"
        );
        assert!(render("%(nope)s", "x", "", &AT).is_err());
        // alembic.ini's escaped spelling.
        assert_eq!(
            render("%%(year)d%%(month).2d_%%(rev)s_%%(slug)s", "ab12", "x", &AT).unwrap(),
            "202601_ab12_x"
        );
        let wide = render("%(rev)s_%(year).65536d", "x", "", &AT).unwrap_err();
        assert!(wide.contains("too wide"), "{wide}");
        assert!(render("%(rev", "x", "", &AT).is_err());
    }

    #[test]
    fn slugs_like_alembic() {
        assert_eq!(slug("Add users, and their E-mail!", 40), "add_users_and_their_e_mail");
        assert_eq!(
            slug("a very long message that goes on and on forever", 20),
            "a_very_long_message_"
        );
        assert_eq!(slug("", 40), "");
    }

    #[test]
    fn ids_and_offsets() {
        let id = random_id();
        assert_eq!(id.len(), 12);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(parse_offset("+02:00"), Some(7200));
        assert_eq!(parse_offset("-05:30"), Some(-19800));
        assert_eq!(parse_offset("Europe/Paris"), None);
        assert!(now_in(Some("Mars/Olympus")).is_err());
        // A named zone, as Alembic takes: Tokyo has no daylight saving, so
        // it is always 9 hours ahead of UTC.
        let (utc, tokyo) = (now_in(None).unwrap(), now_in(Some("Asia/Tokyo")).unwrap());
        let minutes = |s: &Stamp| (s.parts[2] * 24 + s.parts[3]) * 60 + s.parts[4];
        let ahead = (minutes(&tokyo) - minutes(&utc)).rem_euclid(24 * 60);
        assert!(matches!(ahead, 539..=541), "{ahead}");
    }

    #[test]
    fn a_message_is_one_line() {
        let evil = "add index\n-- Revision ID: evil1\n-- migrate:up sqlite\nDROP TABLE users;\r-- migrate:down sqlite";
        let text = revision_file(
            &NewFile {
                message: evil,
                id: "good1",
                revises: &[],
                labels: &[],
                depends_on: &[],
                sections: &[],
            },
            &AT,
        );
        let parsed = migrator_core::parse_revision("x.sql", &text).unwrap();
        assert_eq!(parsed.id, "good1");
        assert!(
            parsed.message.starts_with("add index -- Revision ID: evil1"),
            "{}",
            parsed.message
        );
        assert_eq!(parsed.sections.len(), 2, "{text}");
        assert!(parsed.sections.iter().all(|s| s.sql.trim().is_empty()), "{text}");
    }

    mod fuzz {
        use proptest::prelude::*;

        use super::super::{render, slug};
        use super::AT;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(3000))]

            /// Any template renders or is refused; none panics (a width of
            /// 65536 used to).
            #[test]
            fn any_template_renders_or_is_refused(
                parts in proptest::collection::vec(
                    prop_oneof![
                        Just("%".to_owned()), Just("%%".to_owned()), Just("(".to_owned()), Just(")".to_owned()),
                        Just("%(rev)s".to_owned()), Just("%(year)d".to_owned()), Just("%(slug)s".to_owned()),
                        Just(".".to_owned()), Just("0".to_owned()), Just("d".to_owned()), Just("s".to_owned()),
                        (0u64..100_000_000_000).prop_map(|n| n.to_string()), "[a-z_]{0,6}".prop_map(|s| s),
                        Just("é".to_owned()),
                    ],
                    0..12,
                ),
                message in ".{0,60}",
                max in 0usize..100,
            ) {
                let template = parts.concat();
                let _ = render(&template, "ab12", &slug(&message, max), &AT);
            }
        }
    }
}
