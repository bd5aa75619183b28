//! Civil time, time zones and UTC.
//!
//! Inside the shadow engine every instant is a [`UtcTime`]: seconds since
//! 1970-01-01T00:00:00Z on the POSIX time scale (every day has exactly 86 400 s,
//! leap seconds are not counted). Local civil time appears only at the edges:
//! reading user input ([`parse_time`], [`TimeZone::local_to_utc`]) and writing
//! reports ([`UtcTime::to_rfc3339`]).
//!
//! # Calendar
//! The proleptic Gregorian calendar is used for all dates, also before 1582
//! (the SPA paper switches to the Julian calendar before 1582-10-15; the sun
//! position itself is unaffected because [`UtcTime::julian_day`] is a continuous
//! count of days).
//!
//! # Time zones
//! No system time-zone database is read. A [`TimeZone`] is UTC, a fixed offset,
//! or one of the European zones listed in [`SUPPORTED_ZONES`] with the EU
//! summer-time rule (see [`TimeZone::offset_min_at`] for the exact rule and its
//! historical simplifications). For any other place give the fixed UTC offset
//! in force, e.g. `+09:00`.

use crate::error::{Result, ShadowError};
use std::fmt;

const SECONDS_PER_DAY: f64 = 86_400.0;
/// Julian day of the Unix epoch 1970-01-01T00:00:00 UT.
const UNIX_EPOCH_JD: f64 = 2_440_587.5;
/// Years accepted by the calendar functions (far wider than the SPA's −2000..6000).
const MIN_YEAR: i32 = -1_000_000;
const MAX_YEAR: i32 = 1_000_000;
/// Largest accepted UTC offset (the SPA paper's limit for its `timezone` input), minutes.
const MAX_OFFSET_MIN: i32 = 18 * 60;
/// First year for which the European summer-time rules are modelled.
const FIRST_RULE_YEAR: i32 = 1981;

// ---------------------------------------------------------------------------
// Calendar arithmetic
// ---------------------------------------------------------------------------

/// Whether `year` is a leap year of the (proleptic) Gregorian calendar.
pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Number of days in `month` (1..=12) of `year`; 0 for a month outside 1..=12.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days from 1970-01-01 to the given Gregorian date (negative before).
///
/// The year is counted from 1 March so that the leap day is the last day of the
/// counting year; 400-year cycles ("eras") of 146 097 days are then regular.
/// `month` must be 1..=12 and `day` 1..=31 (not checked here).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let (y, months_since_march) = if month <= 2 {
        (year - 1, i64::from(month) + 9)
    } else {
        (year, i64::from(month) - 3)
    };
    let era = y.div_euclid(400);
    let year_of_era = y.rem_euclid(400); // 0..=399
    // Day of the March-based year: the month lengths 31,30,31,30,31 repeat, which
    // (153 m + 2) / 5 reproduces exactly.
    let day_of_year = (153 * months_since_march + 2) / 5 + i64::from(day) - 1; // 0..=365
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719 468 days separate 0000-03-01 (day 0 of era 0) from 1970-01-01.
    era * 146_097 + day_of_era - 719_468
}

/// Gregorian date (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097); // 0..=146096
    // Remove the leap days of the era before dividing by 365.
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let months_since_march = (5 * day_of_year + 2) / 153; // 0 = March .. 11 = February
    let day = day_of_year - (153 * months_since_march + 2) / 5 + 1;
    let month = if months_since_march < 10 {
        months_since_march + 3
    } else {
        months_since_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // month is 1..=12 and day 1..=31 by construction.
    (year, month as u32, day as u32)
}

/// Day of the week of a day count since 1970-01-01: 0 = Sunday .. 6 = Saturday.
fn weekday(days: i64) -> i64 {
    // 1970-01-01 was a Thursday.
    (days + 4).rem_euclid(7)
}

/// Day count of the last Sunday of `month` in `year`.
fn last_sunday(year: i32, month: u32) -> i64 {
    let last = days_from_civil(i64::from(year), month, days_in_month(year, month));
    last - weekday(last)
}

/// Day count of the first Sunday on or after `day` of `month` in `year`.
fn sunday_on_or_after(year: i32, month: u32, day: u32) -> i64 {
    let d = days_from_civil(i64::from(year), month, day);
    d + (7 - weekday(d)) % 7
}

/// `YYYY-MM-DDTHH:MM:SS[.ffffff]` for error messages (no validation).
fn format_fields(year: i32, month: u32, day: u32, hour: u32, minute: u32, second: f64) -> String {
    format!(
        "{}-{month:02}-{day:02}T{hour:02}:{minute:02}:{}",
        format_year(year),
        format_second(second)
    )
}

fn format_year(year: i32) -> String {
    if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else if year < 0 {
        format!("-{:04}", i64::from(year).abs())
    } else {
        format!("+{year}")
    }
}

fn format_second(second: f64) -> String {
    if !second.is_finite() {
        return format!("{second}");
    }
    if second == second.trunc() {
        return format!("{:02}", second as i64);
    }
    let mut s = format!("{second:09.6}");
    while s.ends_with('0') {
        s.pop();
    }
    s
}

/// `+HH:MM` / `-HH:MM` for an offset in minutes.
fn format_offset(offset_min: i32) -> String {
    let sign = if offset_min < 0 { '-' } else { '+' };
    let a = i64::from(offset_min).abs();
    format!("{sign}{:02}:{:02}", a / 60, a % 60)
}

/// Validated civil fields to POSIX seconds; the error is a message without the text.
fn civil_to_seconds(
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: f64,
) -> std::result::Result<f64, String> {
    if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
        return Err(format!("year {year} outside {MIN_YEAR}..={MAX_YEAR}"));
    }
    if !(1..=12).contains(&month) {
        return Err(format!("month {month} outside 1..=12"));
    }
    let dim = days_in_month(year, month);
    if day < 1 || day > dim {
        return Err(format!(
            "day {day} does not exist in {}-{month:02} ({dim} days)",
            format_year(year)
        ));
    }
    if hour > 23 {
        return Err(format!("hour {hour} outside 0..=23"));
    }
    if minute > 59 {
        return Err(format!("minute {minute} outside 0..=59"));
    }
    if !(0.0..61.0).contains(&second) {
        return Err(format!(
            "second {second} outside [0, 61) (60.x is accepted for a leap second)"
        ));
    }
    let days = days_from_civil(i64::from(year), month, day) as f64;
    Ok(days * SECONDS_PER_DAY + f64::from(hour * 3600 + minute * 60) + second)
}

/// Seconds bounds that keep the calendar arithmetic in range (years ±1 000 000).
fn seconds_bounds() -> (f64, f64) {
    let lo = days_from_civil(i64::from(MIN_YEAR), 1, 1) as f64 * SECONDS_PER_DAY;
    let hi = days_from_civil(i64::from(MAX_YEAR), 12, 31) as f64 * SECONDS_PER_DAY;
    (lo, hi)
}

// ---------------------------------------------------------------------------
// UtcTime
// ---------------------------------------------------------------------------

/// An instant in UTC: seconds since 1970-01-01T00:00:00Z (POSIX, no leap seconds).
///
/// `f64` seconds resolve about 0.2 µs around the present, far below what the sun
/// position needs (the sun moves 0.004° per second of time in hour angle).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct UtcTime(pub f64);

impl UtcTime {
    /// The instant of UTC calendar fields (proleptic Gregorian calendar).
    ///
    /// All fields are validated: month 1..=12, the day must exist in that month
    /// (leap years included), hour 0..=23, minute 0..=59, second in [0, 61).
    /// A second of 60.x (leap second) is accepted and, as on the POSIX time scale,
    /// lands on the following second 0.x of the next minute.
    pub fn from_civil(
        year: i32,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: f64,
    ) -> Result<UtcTime> {
        civil_to_seconds(year, month, day, hour, minute, second)
            .map(UtcTime)
            .map_err(|m| {
                ShadowError::time(format_fields(year, month, day, hour, minute, second), m)
            })
    }

    /// UTC calendar fields `(year, month, day, hour, minute, second)`.
    ///
    /// Inverse of [`UtcTime::from_civil`] (except for leap seconds). Instants beyond
    /// years ±1 000 000, and non-finite ones, are clamped into that range (NaN reads
    /// as the epoch) instead of failing.
    pub fn to_civil(self) -> (i32, u32, u32, u32, u32, f64) {
        let (lo, hi) = seconds_bounds();
        let t = if self.0.is_nan() {
            0.0
        } else {
            self.0.clamp(lo, hi)
        };
        let mut days = (t / SECONDS_PER_DAY).floor();
        let mut sod = t - days * SECONDS_PER_DAY;
        if sod >= SECONDS_PER_DAY {
            days += 1.0;
            sod -= SECONDS_PER_DAY;
        }
        let sod = sod.max(0.0);
        let (year, month, day) = civil_from_days(days as i64);
        let hour = ((sod / 3600.0).floor() as u32).min(23);
        let rest = sod - f64::from(hour) * 3600.0;
        let minute = ((rest / 60.0).floor() as u32).min(59);
        let second = (rest - f64::from(minute) * 60.0).max(0.0);
        (year as i32, month, day, hour, minute, second)
    }

    /// Julian day of this instant, read as UT (JD 2440587.5 at the Unix epoch).
    ///
    /// Equal to the paper's eq. 4 for Gregorian dates; UT1 − UTC is applied by the
    /// SPA, not here.
    pub fn julian_day(self) -> f64 {
        self.0 / SECONDS_PER_DAY + UNIX_EPOCH_JD
    }

    /// The instant of a Julian day (inverse of [`UtcTime::julian_day`]).
    pub fn from_julian_day(jd: f64) -> UtcTime {
        UtcTime((jd - UNIX_EPOCH_JD) * SECONDS_PER_DAY)
    }

    /// Read an RFC 3339 timestamp: `2003-10-17T12:30:30-07:00`, `...Z`, with an
    /// optional fraction of a second (`12:30:30.25Z`).
    ///
    /// The offset is required (use [`parse_time`] for local times without one).
    /// `t`/`T`/space separate date and time, `z`/`Z` means UTC, a decimal comma is
    /// accepted like the point; the year has four digits.
    pub fn parse_rfc3339(text: &str) -> Result<UtcTime> {
        let p = parse_datetime(text, true)?;
        let offset = p.offset_min.unwrap_or(0);
        p.instant(text, offset)
    }

    /// RFC 3339 text of this instant in local time of `tz`, with its offset,
    /// rounded to whole seconds: `2026-03-21T15:00:00+01:00`, or `...Z` for
    /// [`TimeZone::Utc`].
    ///
    /// If the zone cannot give its offset at this instant (EU rules before 1981, an
    /// offset beyond ±18 h) the standard offset, clamped to ±18 h, is written; the
    /// text still denotes the same instant.
    pub fn to_rfc3339(self, tz: &TimeZone) -> String {
        let t = if self.0.is_finite() {
            UtcTime(self.0.round())
        } else {
            self
        };
        let offset = tz.offset_min_at(t).unwrap_or_else(|_| {
            tz.standard_offset_min()
                .clamp(-MAX_OFFSET_MIN, MAX_OFFSET_MIN)
        });
        let (y, mo, d, h, mi, s) = t.add_seconds(f64::from(offset) * 60.0).to_civil();
        let suffix = match tz {
            TimeZone::Utc => "Z".to_string(),
            _ => format_offset(offset),
        };
        format!(
            "{}-{mo:02}-{d:02}T{h:02}:{mi:02}:{:02}{suffix}",
            format_year(y),
            s.round() as u32
        )
    }

    /// This instant shifted by `s` seconds.
    pub fn add_seconds(self, s: f64) -> UtcTime {
        UtcTime(self.0 + s)
    }

    /// Seconds from `earlier` to `self` (negative if `earlier` is later).
    pub fn seconds_since(self, earlier: UtcTime) -> f64 {
        self.0 - earlier.0
    }

    /// UTC calendar year.
    pub fn year(self) -> i32 {
        self.to_civil().0
    }

    /// Day of the UTC year, 1..=366.
    pub fn day_of_year(self) -> u32 {
        let (y, m, d, ..) = self.to_civil();
        let n = days_from_civil(i64::from(y), m, d) - days_from_civil(i64::from(y), 1, 1);
        (n + 1) as u32
    }

    /// The year as a decimal number: `year + (elapsed part of the UTC year)`,
    /// e.g. 2026.0 at 2026-01-01T00:00Z, about 2026.5 in early July.
    pub fn year_fraction(self) -> f64 {
        let y = self.year();
        let start = days_from_civil(i64::from(y), 1, 1) as f64 * SECONDS_PER_DAY;
        let len = if is_leap_year(y) { 366.0 } else { 365.0 } * SECONDS_PER_DAY;
        f64::from(y) + (self.0 - start) / len
    }
}

impl fmt::Display for UtcTime {
    /// RFC 3339 in UTC, whole seconds: `2026-03-21T14:00:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339(&TimeZone::Utc))
    }
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

/// Fields of a date-time text before validation.
struct ParsedDateTime {
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: f64,
    offset_min: Option<i32>,
}

impl ParsedDateTime {
    fn instant(&self, text: &str, offset_min: i32) -> Result<UtcTime> {
        let local = civil_to_seconds(
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
        )
        .map_err(|m| ShadowError::time(text, m))?;
        Ok(UtcTime(local - f64::from(offset_min) * 60.0))
    }
}

/// A cursor over the ASCII bytes of a date-time text.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// Exactly `n` decimal digits.
    fn digits(&mut self, n: usize, what: &str) -> std::result::Result<u32, String> {
        let mut v: u32 = 0;
        for _ in 0..n {
            match self.peek() {
                Some(b) if b.is_ascii_digit() => {
                    v = v * 10 + u32::from(b - b'0');
                    self.pos += 1;
                }
                _ => return Err(format!("expected {n} digits for the {what}")),
            }
        }
        Ok(v)
    }

    fn expect(&mut self, c: u8, what: &str) -> std::result::Result<(), String> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("expected '{}' {what}", c as char))
        }
    }
}

/// `YYYY-MM-DD` at the cursor (not validated).
fn parse_date_fields(c: &mut Cursor<'_>) -> std::result::Result<(i32, u32, u32), String> {
    let year = c.digits(4, "year")? as i32;
    c.expect(b'-', "after the year")?;
    let month = c.digits(2, "month")?;
    c.expect(b'-', "after the month")?;
    let day = c.digits(2, "day")?;
    Ok((year, month, day))
}

/// Parse `YYYY-MM-DD[T| ]HH:MM[:SS[.f+]][Z|±HH:MM]`.
///
/// `rfc3339` requires the seconds and the offset; otherwise both are optional.
fn parse_datetime(text: &str, rfc3339: bool) -> Result<ParsedDateTime> {
    let expected = if rfc3339 {
        "expected RFC 3339 like 2026-03-21T15:00:00+01:00 or 2026-03-21T14:00:00Z (the offset is required)"
    } else {
        "expected 2026-03-21T15:00, 2026-03-21 15:00:00 (local time) or RFC 3339 with an offset"
    };
    let err = |m: String| ShadowError::time(text, format!("{m}; {expected}"));
    let t = text.trim();
    if !t.is_ascii() {
        return Err(err("unexpected non-ASCII character".into()));
    }
    let mut c = Cursor {
        bytes: t.as_bytes(),
        pos: 0,
    };
    let (year, month, day) = parse_date_fields(&mut c).map_err(err)?;
    if c.at_end() {
        return Err(err(
            "a date without a time of day (for a whole day see parse_date)".into(),
        ));
    }
    match c.peek() {
        Some(b'T' | b't' | b' ') => c.pos += 1,
        _ => return Err(err("expected 'T' or a space between date and time".into())),
    }
    let hour = c.digits(2, "hour").map_err(err)?;
    c.expect(b':', "after the hour").map_err(err)?;
    let minute = c.digits(2, "minute").map_err(err)?;
    let mut second = 0.0;
    if c.peek() == Some(b':') {
        c.pos += 1;
        let whole = c.digits(2, "second").map_err(err)?;
        second = f64::from(whole);
        if c.peek() == Some(b'.') || c.peek() == Some(b',') {
            c.pos += 1;
            let start = c.pos;
            while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                c.pos += 1;
            }
            if c.pos == start {
                return Err(err("expected digits after the decimal point".into()));
            }
            // The slice is ASCII digits, so it is valid UTF-8 and parses.
            let frac_text = std::str::from_utf8(&c.bytes[start..c.pos]).unwrap_or("0");
            let frac: f64 = format!("0.{frac_text}").parse().unwrap_or(0.0);
            second += frac;
        }
    } else if rfc3339 {
        return Err(err("seconds are required".into()));
    }
    let offset_min = match c.peek() {
        None => None,
        Some(b'Z' | b'z') => {
            c.pos += 1;
            Some(0)
        }
        Some(s @ (b'+' | b'-')) => {
            c.pos += 1;
            let oh = c.digits(2, "offset hours").map_err(err)?;
            c.expect(b':', "in the offset (±HH:MM)").map_err(err)?;
            let om = c.digits(2, "offset minutes").map_err(err)?;
            if oh > 18 || om > 59 || oh * 60 + om > MAX_OFFSET_MIN as u32 {
                return Err(err(format!(
                    "offset {}{oh:02}:{om:02} outside ±18:00",
                    s as char
                )));
            }
            let m = (oh * 60 + om) as i32;
            Some(if s == b'-' { -m } else { m })
        }
        Some(_) => return Err(err("unexpected text after the time".into())),
    };
    if !c.at_end() {
        return Err(err("unexpected text after the offset".into()));
    }
    if rfc3339 && offset_min.is_none() {
        return Err(err("missing offset ('Z' or ±HH:MM)".into()));
    }
    Ok(ParsedDateTime {
        year,
        month,
        day,
        hour,
        minute,
        second,
        offset_min,
    })
}

/// Read a time: RFC 3339 with an offset (`2026-03-21T15:00:00+01:00`, `...Z`),
/// or a local civil time without offset in `tz` (`2026-03-21T15:00`,
/// `2026-03-21 15:00:00`, `2026-03-21T15:00:00.5`).
///
/// An explicit offset wins over `tz`. Local times are resolved with
/// [`TimeZone::local_to_utc`]: a time in the spring-forward gap is an error, an
/// ambiguous autumn time means the earlier instant (summer time).
pub fn parse_time(text: &str, tz: &TimeZone) -> Result<UtcTime> {
    let p = parse_datetime(text, false)?;
    match p.offset_min {
        Some(offset) => p.instant(text, offset),
        None => tz
            .local_to_utc(p.year, p.month, p.day, p.hour, p.minute, p.second)
            .map_err(|e| match e {
                ShadowError::Time { message, .. } => ShadowError::time(text, message),
                other => other,
            }),
    }
}

/// Read a date `YYYY-MM-DD`; the day must exist (leap years included).
pub fn parse_date(text: &str) -> Result<(i32, u32, u32)> {
    let err = |m: String| ShadowError::time(text, format!("{m}; expected a date like 2026-03-21"));
    let t = text.trim();
    if !t.is_ascii() {
        return Err(err("unexpected non-ASCII character".into()));
    }
    let mut c = Cursor {
        bytes: t.as_bytes(),
        pos: 0,
    };
    let (year, month, day) = parse_date_fields(&mut c).map_err(err)?;
    if !c.at_end() {
        return Err(err("unexpected text after the date".into()));
    }
    civil_to_seconds(year, month, day, 0, 0, 0.0).map_err(err)?;
    Ok((year, month, day))
}

// ---------------------------------------------------------------------------
// Time zones
// ---------------------------------------------------------------------------

/// The named zones [`TimeZone::parse`] knows: (IANA name, standard offset in
/// minutes, whether the EU summer-time rule applies).
///
/// EU and EEA member states and Switzerland, plus the zone abbreviations
/// `WET`, `CET`, `EET` (which in the IANA database follow the EU rule too).
pub const SUPPORTED_ZONES: &[(&str, i32, bool)] = &[
    // Western European Time, UTC+0 (summer UTC+1)
    ("Europe/London", 0, true),
    ("Europe/Dublin", 0, true),
    ("Europe/Lisbon", 0, true),
    ("Atlantic/Madeira", 0, true),
    ("Atlantic/Canary", 0, true),
    ("WET", 0, true),
    // Azores, UTC−1 (summer UTC+0)
    ("Atlantic/Azores", -60, true),
    // Iceland: UTC all year
    ("Atlantic/Reykjavik", 0, false),
    // Central European Time, UTC+1 (summer UTC+2)
    ("Europe/Berlin", 60, true),
    ("Europe/Amsterdam", 60, true),
    ("Europe/Brussels", 60, true),
    ("Europe/Paris", 60, true),
    ("Europe/Vienna", 60, true),
    ("Europe/Zurich", 60, true),
    ("Europe/Copenhagen", 60, true),
    ("Europe/Oslo", 60, true),
    ("Europe/Stockholm", 60, true),
    ("Europe/Rome", 60, true),
    ("Europe/Madrid", 60, true),
    ("Europe/Prague", 60, true),
    ("Europe/Warsaw", 60, true),
    ("Europe/Luxembourg", 60, true),
    ("Europe/Budapest", 60, true),
    ("Europe/Ljubljana", 60, true),
    ("Europe/Zagreb", 60, true),
    ("Europe/Bratislava", 60, true),
    ("Europe/Malta", 60, true),
    ("Europe/Vaduz", 60, true),
    ("CET", 60, true),
    // Eastern European Time, UTC+2 (summer UTC+3)
    ("Europe/Helsinki", 120, true),
    ("Europe/Athens", 120, true),
    ("Europe/Riga", 120, true),
    ("Europe/Tallinn", 120, true),
    ("Europe/Vilnius", 120, true),
    ("Europe/Sofia", 120, true),
    ("Europe/Bucharest", 120, true),
    ("Asia/Nicosia", 120, true),
    ("EET", 120, true),
];

/// Zones whose summer time ended in October (UK rule) rather than September
/// before 1996.
fn uses_uk_rule(name: &str) -> bool {
    name.eq_ignore_ascii_case("Europe/London") || name.eq_ignore_ascii_case("Europe/Dublin")
}

/// A time zone: explicit rules, no system tz database.
#[derive(Debug, Clone, PartialEq)]
pub enum TimeZone {
    /// Coordinated Universal Time.
    Utc,
    /// A fixed offset from UTC in minutes, east positive (`+01:00` = 60), at most ±18 h.
    Fixed {
        /// Offset from UTC in minutes, east positive.
        offset_min: i32,
    },
    /// A named zone with a standard offset and, if `eu_dst`, EU summer time
    /// (one hour ahead of standard time). `Europe/London` and `Europe/Dublin`
    /// (matched by name) use the UK end dates before 1996.
    Rules {
        /// IANA name, e.g. `Europe/Berlin`.
        name: String,
        /// Standard (winter) offset from UTC in minutes, east positive.
        standard_offset_min: i32,
        /// Whether the EU summer-time rule applies.
        eu_dst: bool,
    },
}

impl TimeZone {
    /// Read a time zone.
    ///
    /// Accepted (case-insensitive): `UTC`, `Z`, `GMT`, `Etc/UTC`; fixed offsets
    /// `+01:00`, `-07:00`, `+0530`, `+01`, `UTC+1`, `UTC-07:00`, `UTC+5:30`
    /// (at most ±18:00); and the IANA names in [`SUPPORTED_ZONES`]. An unknown
    /// name is an error that lists what is supported.
    pub fn parse(text: &str) -> Result<TimeZone> {
        let t = text.trim();
        if t.is_empty() {
            return Err(ShadowError::time(text, "empty time zone"));
        }
        let upper = t.to_ascii_uppercase();
        if matches!(
            upper.as_str(),
            "UTC" | "Z" | "GMT" | "ETC/UTC" | "ETC/GMT" | "UCT"
        ) {
            return Ok(TimeZone::Utc);
        }
        if t.starts_with('+') || t.starts_with('-') {
            return parse_offset(t)
                .map(|offset_min| TimeZone::Fixed { offset_min })
                .map_err(|m| ShadowError::time(text, m));
        }
        if upper.starts_with("UTC") && (t[3..].starts_with('+') || t[3..].starts_with('-')) {
            return parse_offset(&t[3..])
                .map(|offset_min| TimeZone::Fixed { offset_min })
                .map_err(|m| ShadowError::time(text, m));
        }
        if let Some(&(name, standard_offset_min, eu_dst)) = SUPPORTED_ZONES
            .iter()
            .find(|(name, ..)| name.eq_ignore_ascii_case(t))
        {
            return Ok(TimeZone::Rules {
                name: name.to_string(),
                standard_offset_min,
                eu_dst,
            });
        }
        let names: Vec<&str> = SUPPORTED_ZONES.iter().map(|z| z.0).collect();
        let hint = if upper.starts_with("ETC/GMT") {
            " (note: in Etc/GMT+N the sign is inverted; write the offset as UTC-N or -NN:00)"
        } else {
            ""
        };
        Err(ShadowError::time(
            text,
            format!(
                "unknown time zone{hint}; supported: UTC, fixed offsets like +01:00, -07:00 or UTC+1, \
                 and the European zones with EU summer time {}. For other places give the fixed \
                 UTC offset in force at the time of interest, e.g. +09:00 (no daylight saving)",
                names.join(", ")
            ),
        ))
    }

    /// The standard (winter) offset in minutes, without summer time.
    pub fn standard_offset_min(&self) -> i32 {
        match self {
            TimeZone::Utc => 0,
            TimeZone::Fixed { offset_min } => *offset_min,
            TimeZone::Rules {
                standard_offset_min,
                ..
            } => *standard_offset_min,
        }
    }

    /// Offset from UTC (minutes, east positive) in force at the instant `t`.
    ///
    /// EU rule (all zones with `eu_dst`): summer time, one hour ahead of standard
    /// time, from the last Sunday of March 01:00 UTC to the last Sunday of October
    /// 01:00 UTC, since 1996. From 1981 to 1995 it ended on the last Sunday of
    /// September, except in `Europe/London` and `Europe/Dublin`, where it ended
    /// on the Sunday on or after 23 October (1981–1989) or 22 October (1990–1995),
    /// 01:00 UTC.
    ///
    /// Simplification: from 1981 to 2002 the zones are assumed to follow these
    /// rules throughout; national deviations are not modelled (e.g. Portugal on
    /// CET 1992–1996, the Baltic states' Soviet-era and 1998–2002 exceptions,
    /// later starts of summer time in some countries in the early 1980s). From
    /// 2003 on the rules are those of the IANA database for all supported zones.
    /// Before 1981 (UTC year of `t`) the offset is an error asking for a fixed
    /// offset. A future abolition of summer time is, of course, not known here.
    pub fn offset_min_at(&self, t: UtcTime) -> Result<i32> {
        match self {
            TimeZone::Utc => Ok(0),
            TimeZone::Fixed { offset_min } => check_offset(*offset_min).map(|_| *offset_min),
            TimeZone::Rules {
                name,
                standard_offset_min,
                eu_dst,
            } => {
                check_offset(*standard_offset_min)?;
                if !eu_dst {
                    return Ok(*standard_offset_min);
                }
                let year = t.year();
                if year < FIRST_RULE_YEAR {
                    return Err(ShadowError::time(
                        t.to_rfc3339(&TimeZone::Utc),
                        format!(
                            "{name}: summer-time rules are only modelled from {FIRST_RULE_YEAR} on; \
                             give the fixed UTC offset in force then instead (e.g. {} for standard time)",
                            format_offset(*standard_offset_min)
                        ),
                    ));
                }
                let (start, end) = summer_time_window(year, uses_uk_rule(name));
                Ok(if t.0 >= start && t.0 < end {
                    standard_offset_min.saturating_add(60)
                } else {
                    *standard_offset_min
                })
            }
        }
    }

    /// The instant of a local civil time in this zone.
    ///
    /// The fields are validated like [`UtcTime::from_civil`]. A local time that
    /// does not exist (skipped when the clocks go forward in spring, e.g.
    /// 2026-03-29 02:00–02:59:59 in Europe/Berlin) is an error naming it. A local
    /// time that occurs twice (when the clocks go back in autumn, e.g. 2026-10-25
    /// 02:00–02:59:59 in Europe/Berlin) is resolved to the **earlier** instant, i.e.
    /// read as summer time.
    pub fn local_to_utc(
        &self,
        year: i32,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: f64,
    ) -> Result<UtcTime> {
        match self.resolve_local(year, month, day, hour, minute, second)? {
            Resolved::Instant(t) => Ok(t),
            Resolved::Gap {
                transition,
                standard_offset_min,
            } => {
                let before = transition.add_seconds(f64::from(standard_offset_min) * 60.0);
                let (.., bh, bm, _) = before.to_civil();
                let (.., ah, am, _) = before.add_seconds(3600.0).to_civil();
                Err(ShadowError::time(
                    format_fields(year, month, day, hour, minute, second),
                    format!(
                        "this local time does not exist in {}: at the start of summer time the \
                         clocks jump from {bh:02}:{bm:02} to {ah:02}:{am:02}; give a time outside \
                         the gap or an explicit UTC offset",
                        self.name()
                    ),
                ))
            }
        }
    }

    /// Like [`TimeZone::local_to_utc`], but a local time in the spring-forward gap
    /// maps to the instant the gap ends (the first instant at or after it).
    fn local_to_utc_or_after(
        &self,
        year: i32,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: f64,
    ) -> Result<UtcTime> {
        Ok(
            match self.resolve_local(year, month, day, hour, minute, second)? {
                Resolved::Instant(t) => t,
                Resolved::Gap { transition, .. } => transition,
            },
        )
    }

    fn resolve_local(
        &self,
        year: i32,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: f64,
    ) -> Result<Resolved> {
        let local = civil_to_seconds(year, month, day, hour, minute, second).map_err(|m| {
            ShadowError::time(format_fields(year, month, day, hour, minute, second), m)
        })?;
        let at = |offset: i32| UtcTime(local - f64::from(offset) * 60.0);
        match self {
            TimeZone::Utc => Ok(Resolved::Instant(UtcTime(local))),
            TimeZone::Fixed { offset_min } => {
                check_offset(*offset_min)?;
                Ok(Resolved::Instant(at(*offset_min)))
            }
            TimeZone::Rules {
                name,
                standard_offset_min,
                eu_dst,
            } => {
                let std = *standard_offset_min;
                check_offset(std)?;
                if !eu_dst {
                    return Ok(Resolved::Instant(at(std)));
                }
                let dst = std.saturating_add(60);
                let as_dst = at(dst);
                let as_std = at(std);
                // Earlier instant first: summer time wins when both readings are valid.
                if self.offset_min_at(as_dst)? == dst {
                    Ok(Resolved::Instant(as_dst))
                } else if self.offset_min_at(as_std)? == std {
                    Ok(Resolved::Instant(as_std))
                } else {
                    let (start, _) = summer_time_window(as_std.year(), uses_uk_rule(name));
                    Ok(Resolved::Gap {
                        transition: UtcTime(start),
                        standard_offset_min: std,
                    })
                }
            }
        }
    }

    /// Display name: `UTC`, `+01:00` for a fixed offset, or the IANA name.
    pub fn name(&self) -> String {
        match self {
            TimeZone::Utc => "UTC".to_string(),
            TimeZone::Fixed { offset_min } => format_offset(*offset_min),
            TimeZone::Rules { name, .. } => name.clone(),
        }
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Result of reading a local civil time in a zone.
enum Resolved {
    Instant(UtcTime),
    /// The local time lies in the spring-forward gap that starts at `transition`.
    Gap {
        transition: UtcTime,
        standard_offset_min: i32,
    },
}

fn check_offset(offset_min: i32) -> Result<()> {
    if (-MAX_OFFSET_MIN..=MAX_OFFSET_MIN).contains(&offset_min) {
        Ok(())
    } else {
        Err(ShadowError::param(
            "offset_min",
            format!("UTC offset {offset_min} min outside ±18 h"),
        ))
    }
}

/// `±HH:MM`, `±HHMM`, `±HH` or `±H` (hours at most 18, minutes 0..=59).
fn parse_offset(text: &str) -> std::result::Result<i32, String> {
    let bad = || format!("expected a UTC offset like +01:00, -07:00, +0530 or UTC+1, got {text:?}");
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => return Err(bad()),
    };
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit() || b == b':') {
        return Err(bad());
    }
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) if (1..=2).contains(&h.len()) && m.len() == 2 => (h, m),
        Some(_) => return Err(bad()),
        None if rest.len() <= 2 => (rest, "0"),
        None if rest.len() == 4 => (&rest[..2], &rest[2..]),
        None => return Err(bad()),
    };
    let h: i32 = h.parse().map_err(|_| bad())?;
    let m: i32 = m.parse().map_err(|_| bad())?;
    if m > 59 || h * 60 + m > MAX_OFFSET_MIN {
        return Err(format!("UTC offset {text} outside ±18:00"));
    }
    Ok(sign * (h * 60 + m))
}

/// Summer time `[start, end)` of `year` as POSIX seconds (see [`TimeZone::offset_min_at`]).
fn summer_time_window(year: i32, uk: bool) -> (f64, f64) {
    let one_am = 3600.0;
    let start = last_sunday(year, 3) as f64 * SECONDS_PER_DAY + one_am;
    let end_day = if year >= 1996 {
        last_sunday(year, 10)
    } else if uk {
        sunday_on_or_after(year, 10, if year <= 1989 { 23 } else { 22 })
    } else {
        last_sunday(year, 9)
    };
    (start, end_day as f64 * SECONDS_PER_DAY + one_am)
}

/// The instants of local midnight starting and ending the local civil day
/// `year-month-day` in `tz`.
///
/// The day is 23 hours long when the clocks go forward and 25 hours when they
/// go back. Where midnight itself is skipped (e.g. Atlantic/Azores, whose clocks
/// jump from 00:00 to 01:00), the day starts when the gap ends; where midnight
/// occurs twice the earlier instant is used, consistently for both ends.
pub fn local_day_bounds(
    tz: &TimeZone,
    year: i32,
    month: u32,
    day: u32,
) -> Result<(UtcTime, UtcTime)> {
    civil_to_seconds(year, month, day, 0, 0, 0.0)
        .map_err(|m| ShadowError::time(format_fields(year, month, day, 0, 0, 0.0), m))?;
    let (ny, nm, nd) = civil_from_days(days_from_civil(i64::from(year), month, day) + 1);
    let start = tz.local_to_utc_or_after(year, month, day, 0, 0, 0.0)?;
    let end = tz.local_to_utc_or_after(ny as i32, nm, nd, 0, 0, 0.0)?;
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> TimeZone {
        TimeZone::parse("Europe/Berlin").expect("known zone")
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: f64) -> UtcTime {
        UtcTime::from_civil(y, mo, d, h, mi, s).expect("valid test date")
    }

    #[test]
    fn epoch_and_julian_day() {
        let e = utc(1970, 1, 1, 0, 0, 0.0);
        assert_eq!(e.0, 0.0);
        assert_eq!(e.julian_day(), 2_440_587.5);
        // J2000.0 = 2000-01-01T12:00 (as UT here) = JD 2451545.0
        assert_eq!(utc(2000, 1, 1, 12, 0, 0.0).julian_day(), 2_451_545.0);
        // The paper's example instant, eq. 4: JD 2452930.312847
        let t = utc(2003, 10, 17, 19, 30, 30.0);
        assert!((t.julian_day() - 2_452_930.312_847).abs() < 1e-6);
        assert!((UtcTime::from_julian_day(t.julian_day()).0 - t.0).abs() < 1e-4);
        // Before the Gregorian reform the proleptic calendar is used: 1582-10-15 is JD 2299160.5.
        assert_eq!(utc(1582, 10, 15, 0, 0, 0.0).julian_day(), 2_299_160.5);
    }

    #[test]
    fn civil_round_trips() {
        // Every 7th day over 1200 years, plus times of day, both signs of the epoch.
        let mut days = days_from_civil(1400, 1, 1);
        let stop = days_from_civil(2600, 1, 1);
        let mut count = 0;
        while days < stop {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            let sec = (days.rem_euclid(86_400)) as f64 + 0.25;
            let t = UtcTime(days as f64 * 86_400.0 + sec);
            let (yy, mm, dd, h, mi, s) = t.to_civil();
            assert_eq!((i64::from(yy), mm, dd), (y, m, d));
            let back = UtcTime::from_civil(yy, mm, dd, h, mi, s).expect("round trip");
            assert!((back.0 - t.0).abs() < 1e-6, "{t:?} -> {back:?}");
            days += 7;
            count += 1;
        }
        assert!(count > 60_000);
        // Far years, negative and year 0.
        for &(y, m, d) in &[
            (0, 2, 29),
            (-44, 3, 15),
            (-2000, 1, 1),
            (6000, 12, 31),
            (9999, 12, 31),
        ] {
            let t = utc(y, m, d, 23, 59, 59.5);
            let (yy, mm, dd, h, mi, s) = t.to_civil();
            assert_eq!((yy, mm, dd, h, mi), (y, m, d, 23, 59));
            assert!((s - 59.5).abs() < 1e-3);
        }
        // Just before the epoch.
        let (y, m, d, h, mi, s) = UtcTime(-0.5).to_civil();
        assert_eq!((y, m, d, h, mi), (1969, 12, 31, 23, 59));
        assert!((s - 59.5).abs() < 1e-9);
        // A tiny negative value rounds to the epoch instead of producing hour 24.
        assert_eq!(UtcTime(-1e-30).to_civil(), (1970, 1, 1, 0, 0, 0.0));
        // Non-finite instants do not panic.
        let _ = UtcTime(f64::NAN).to_civil();
        let _ = UtcTime(f64::INFINITY).to_civil();
        let _ = UtcTime(f64::NEG_INFINITY).to_rfc3339(&berlin());
    }

    #[test]
    fn leap_years_and_day_of_year() {
        assert!(is_leap_year(2000) && is_leap_year(2024) && is_leap_year(1600));
        assert!(!is_leap_year(1900) && !is_leap_year(2023) && !is_leap_year(2100));
        assert!(UtcTime::from_civil(2024, 2, 29, 0, 0, 0.0).is_ok());
        assert!(UtcTime::from_civil(2000, 2, 29, 0, 0, 0.0).is_ok());
        let e = UtcTime::from_civil(1900, 2, 29, 0, 0, 0.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("day 29") && e.contains("1900-02"), "{e}");
        assert!(UtcTime::from_civil(2023, 2, 29, 0, 0, 0.0).is_err());
        assert!(UtcTime::from_civil(2026, 4, 31, 0, 0, 0.0).is_err());
        assert!(UtcTime::from_civil(2026, 13, 1, 0, 0, 0.0).is_err());
        assert!(UtcTime::from_civil(2026, 0, 1, 0, 0, 0.0).is_err());
        assert!(UtcTime::from_civil(2026, 1, 0, 0, 0, 0.0).is_err());
        assert!(UtcTime::from_civil(2026, 1, 1, 24, 0, 0.0).is_err());
        assert!(UtcTime::from_civil(2026, 1, 1, 0, 60, 0.0).is_err());
        assert!(UtcTime::from_civil(2026, 1, 1, 0, 0, 61.0).is_err());
        assert!(UtcTime::from_civil(2026, 1, 1, 0, 0, -0.5).is_err());
        assert!(UtcTime::from_civil(2026, 1, 1, 0, 0, f64::NAN).is_err());
        // Leap second: accepted, lands on the next minute (POSIX).
        let leap = UtcTime::from_civil(2016, 12, 31, 23, 59, 60.0).expect("leap second");
        assert_eq!(leap, utc(2017, 1, 1, 0, 0, 0.0));
        assert_eq!(utc(2024, 12, 31, 12, 0, 0.0).day_of_year(), 366);
        assert_eq!(utc(2023, 12, 31, 12, 0, 0.0).day_of_year(), 365);
        assert_eq!(utc(2024, 3, 1, 0, 0, 0.0).day_of_year(), 61);
        assert_eq!(utc(2026, 1, 1, 0, 0, 0.0).day_of_year(), 1);
        assert_eq!(utc(2026, 7, 1, 0, 0, 0.0).year(), 2026);
        assert_eq!(utc(2026, 1, 1, 0, 0, 0.0).year_fraction(), 2026.0);
        assert!((utc(2024, 7, 2, 0, 0, 0.0).year_fraction() - 2024.5).abs() < 1e-12);
        // Weekdays: 2026-03-29 and 2026-10-25 are Sundays.
        assert_eq!(weekday(days_from_civil(2026, 3, 29)), 0);
        assert_eq!(last_sunday(2026, 3), days_from_civil(2026, 3, 29));
        assert_eq!(last_sunday(2026, 10), days_from_civil(2026, 10, 25));
    }

    #[test]
    fn rfc3339_parse() {
        let t = UtcTime::parse_rfc3339("2003-10-17T12:30:30-07:00").expect("paper example");
        assert_eq!(t, utc(2003, 10, 17, 19, 30, 30.0));
        assert_eq!(
            UtcTime::parse_rfc3339("2026-03-21T14:00:00Z").expect("Z"),
            utc(2026, 3, 21, 14, 0, 0.0)
        );
        assert_eq!(
            UtcTime::parse_rfc3339("2026-03-21t14:00:00z").expect("lower case"),
            utc(2026, 3, 21, 14, 0, 0.0)
        );
        assert_eq!(
            UtcTime::parse_rfc3339(" 2026-03-21 15:00:00+01:00 ").expect("space"),
            utc(2026, 3, 21, 14, 0, 0.0)
        );
        let f = UtcTime::parse_rfc3339("2026-03-21T14:00:00.125Z").expect("fraction");
        assert_eq!(f.0, utc(2026, 3, 21, 14, 0, 0.0).0 + 0.125);
        let f = UtcTime::parse_rfc3339("2026-03-21T14:00:00.5+05:30").expect("fraction, offset");
        assert_eq!(f.0, utc(2026, 3, 21, 8, 30, 0.5).0);
        assert!(UtcTime::parse_rfc3339("2016-12-31T23:59:60Z").is_ok());
    }

    #[test]
    fn rfc3339_parse_errors() {
        let cases = [
            ("", "year"),
            ("2026-03-21T14:00:00", "offset"),
            ("2026-03-21T14:00Z", "seconds"),
            ("2026-03-21", "without a time"),
            ("2026-13-01T00:00:00Z", "month 13"),
            ("2026-02-30T00:00:00Z", "day 30"),
            ("2026-03-21T24:00:00Z", "hour 24"),
            ("2026-03-21T12:60:00Z", "minute 60"),
            ("2026-03-21T12:00:00+25:00", "outside"),
            ("2026-03-21T12:00:00+01", "':'"),
            ("2026-03-21T12:00:00Zjunk", "after the offset"),
            ("2026-03-21T12:00:00.Z", "decimal point"),
            ("26-03-21T12:00:00Z", "4 digits"),
            ("2026/03/21T12:00:00Z", "'-'"),
            ("2026-03-21T12:00:00 UTC", "after the time"),
            ("2026-03-21T12:00:00+01:00\u{00e9}", "non-ASCII"),
            ("tomorrow", "digits"),
        ];
        for (text, needle) in cases {
            let e = UtcTime::parse_rfc3339(text).expect_err(text).to_string();
            assert!(e.contains(needle), "{text:?}: {e}");
            assert!(
                e.contains(&format!("{:?}", text)),
                "error names the text: {e}"
            );
        }
    }

    #[test]
    fn rfc3339_format() {
        let t = utc(2026, 3, 21, 14, 0, 0.0);
        assert_eq!(t.to_rfc3339(&berlin()), "2026-03-21T15:00:00+01:00");
        assert_eq!(t.to_rfc3339(&TimeZone::Utc), "2026-03-21T14:00:00Z");
        assert_eq!(t.to_string(), "2026-03-21T14:00:00Z");
        let summer = utc(2026, 7, 1, 10, 0, 0.0);
        assert_eq!(summer.to_rfc3339(&berlin()), "2026-07-01T12:00:00+02:00");
        let ny = TimeZone::parse("-05:00").expect("offset");
        assert_eq!(summer.to_rfc3339(&ny), "2026-07-01T05:00:00-05:00");
        let london = TimeZone::parse("Europe/London").expect("zone");
        assert_eq!(t.to_rfc3339(&london), "2026-03-21T14:00:00+00:00");
        // Rounding to whole seconds, also across the minute, hour and day.
        assert_eq!(
            utc(2026, 12, 31, 23, 59, 59.6).to_rfc3339(&TimeZone::Utc),
            "2027-01-01T00:00:00Z"
        );
        assert_eq!(
            utc(2026, 12, 31, 23, 59, 59.4).to_rfc3339(&TimeZone::Utc),
            "2026-12-31T23:59:59Z"
        );
        // Rounding happens before the offset is chosen: 00:59:59.6Z is 01:00:00Z, summer time.
        assert_eq!(
            utc(2026, 3, 29, 0, 59, 59.6).to_rfc3339(&berlin()),
            "2026-03-29T03:00:00+02:00"
        );
        // Before 1981 the standard offset is written (still the same instant).
        assert_eq!(
            utc(1975, 6, 1, 12, 0, 0.0).to_rfc3339(&berlin()),
            "1975-06-01T13:00:00+01:00"
        );
        // Round trip through text.
        for &s in &[0.0, 1e9, 1.7e9, -1e9] {
            let t = UtcTime(s);
            let text = t.to_rfc3339(&berlin());
            assert_eq!(UtcTime::parse_rfc3339(&text).expect(&text), t, "{text}");
        }
    }

    #[test]
    fn dst_offsets_berlin_2026() {
        let z = berlin();
        let off = |t: UtcTime| z.offset_min_at(t).expect("offset");
        // Spring: 29 March 2026, 01:00 UTC (02:00 CET -> 03:00 CEST).
        assert_eq!(off(utc(2026, 3, 29, 0, 59, 59.0)), 60);
        assert_eq!(off(utc(2026, 3, 29, 1, 0, 0.0)), 120);
        // Autumn: 25 October 2026, 01:00 UTC (03:00 CEST -> 02:00 CET).
        assert_eq!(off(utc(2026, 10, 25, 0, 59, 59.0)), 120);
        assert_eq!(off(utc(2026, 10, 25, 1, 0, 0.0)), 60);
        assert_eq!(off(utc(2026, 1, 15, 12, 0, 0.0)), 60);
        assert_eq!(off(utc(2026, 7, 15, 12, 0, 0.0)), 120);
        // The local clock around the transitions.
        assert_eq!(
            utc(2026, 3, 29, 0, 59, 59.0).to_rfc3339(&z),
            "2026-03-29T01:59:59+01:00"
        );
        assert_eq!(
            utc(2026, 3, 29, 1, 0, 0.0).to_rfc3339(&z),
            "2026-03-29T03:00:00+02:00"
        );
        assert_eq!(
            utc(2026, 10, 25, 0, 59, 59.0).to_rfc3339(&z),
            "2026-10-25T02:59:59+02:00"
        );
        assert_eq!(
            utc(2026, 10, 25, 1, 0, 0.0).to_rfc3339(&z),
            "2026-10-25T02:00:00+01:00"
        );
        // Same UTC instant everywhere in the EU; Helsinki and London local clocks.
        let hel = TimeZone::parse("Europe/Helsinki").expect("zone");
        let lon = TimeZone::parse("Europe/London").expect("zone");
        assert_eq!(
            hel.offset_min_at(utc(2026, 3, 29, 1, 0, 0.0)).ok(),
            Some(180)
        );
        assert_eq!(
            lon.offset_min_at(utc(2026, 3, 29, 0, 59, 0.0)).ok(),
            Some(0)
        );
        assert_eq!(
            lon.offset_min_at(utc(2026, 3, 29, 1, 0, 0.0)).ok(),
            Some(60)
        );
        let rey = TimeZone::parse("Atlantic/Reykjavik").expect("zone");
        assert_eq!(rey.offset_min_at(utc(2026, 7, 1, 0, 0, 0.0)).ok(), Some(0));
        assert_eq!(rey.offset_min_at(utc(1950, 7, 1, 0, 0, 0.0)).ok(), Some(0));
    }

    #[test]
    fn historical_rules() {
        let z = berlin();
        let lon = TimeZone::parse("Europe/London").expect("zone");
        // 1995: continental summer time ended on the last Sunday of September (24 Sep),
        // the UK's on the Sunday on or after 22 October (22 Oct).
        assert_eq!(
            z.offset_min_at(utc(1995, 9, 24, 0, 59, 0.0)).ok(),
            Some(120)
        );
        assert_eq!(z.offset_min_at(utc(1995, 9, 24, 1, 0, 0.0)).ok(), Some(60));
        assert_eq!(
            lon.offset_min_at(utc(1995, 9, 30, 12, 0, 0.0)).ok(),
            Some(60)
        );
        assert_eq!(
            lon.offset_min_at(utc(1995, 10, 22, 0, 59, 0.0)).ok(),
            Some(60)
        );
        assert_eq!(
            lon.offset_min_at(utc(1995, 10, 22, 1, 0, 0.0)).ok(),
            Some(0)
        );
        // 1985 UK: Sunday on or after 23 October = 27 October 1985.
        assert_eq!(
            lon.offset_min_at(utc(1985, 10, 27, 0, 59, 0.0)).ok(),
            Some(60)
        );
        assert_eq!(
            lon.offset_min_at(utc(1985, 10, 27, 1, 0, 0.0)).ok(),
            Some(0)
        );
        // 1996 on: last Sunday of October (27 October 1996) everywhere.
        assert_eq!(
            z.offset_min_at(utc(1996, 10, 27, 0, 59, 0.0)).ok(),
            Some(120)
        );
        assert_eq!(
            lon.offset_min_at(utc(1996, 10, 27, 1, 0, 0.0)).ok(),
            Some(0)
        );
        // Before 1981: an error that asks for a fixed offset.
        let e = z
            .offset_min_at(utc(1980, 7, 1, 0, 0, 0.0))
            .unwrap_err()
            .to_string();
        assert!(e.contains("1981") && e.contains("fixed UTC offset"), "{e}");
        assert!(z.local_to_utc(1979, 7, 1, 12, 0, 0.0).is_err());
        // A fixed offset works any time.
        let f = TimeZone::parse("+01:00").expect("offset");
        assert_eq!(f.offset_min_at(utc(1900, 7, 1, 0, 0, 0.0)).ok(), Some(60));
    }

    #[test]
    fn local_gap_and_ambiguity() {
        let z = berlin();
        // 02:00..03:00 on 29 March 2026 does not exist.
        for (h, m) in [(2, 0), (2, 30), (2, 59)] {
            let e = z
                .local_to_utc(2026, 3, 29, h, m, 0.0)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!("2026-03-29T{h:02}:{m:02}:00"))
                    && e.contains("does not exist")
                    && e.contains("02:00 to 03:00")
                    && e.contains("Europe/Berlin"),
                "{e}"
            );
        }
        assert_eq!(
            z.local_to_utc(2026, 3, 29, 1, 59, 59.0).ok(),
            Some(utc(2026, 3, 29, 0, 59, 59.0))
        );
        assert_eq!(
            z.local_to_utc(2026, 3, 29, 3, 0, 0.0).ok(),
            Some(utc(2026, 3, 29, 1, 0, 0.0))
        );
        // 02:00..03:00 on 25 October 2026 happens twice: the earlier (summer time) is taken.
        assert_eq!(
            z.local_to_utc(2026, 10, 25, 2, 30, 0.0).ok(),
            Some(utc(2026, 10, 25, 0, 30, 0.0))
        );
        assert_eq!(
            z.local_to_utc(2026, 10, 25, 2, 0, 0.0).ok(),
            Some(utc(2026, 10, 25, 0, 0, 0.0))
        );
        assert_eq!(
            z.local_to_utc(2026, 10, 25, 1, 59, 0.0).ok(),
            Some(utc(2026, 10, 24, 23, 59, 0.0))
        );
        assert_eq!(
            z.local_to_utc(2026, 10, 25, 3, 0, 0.0).ok(),
            Some(utc(2026, 10, 25, 2, 0, 0.0))
        );
        // Invalid fields are reported as such.
        let e = z
            .local_to_utc(2026, 2, 29, 12, 0, 0.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("day 29"), "{e}");
        // Fixed zones and UTC.
        let f = TimeZone::Fixed { offset_min: -420 };
        assert_eq!(
            f.local_to_utc(2003, 10, 17, 12, 30, 30.0).ok(),
            Some(utc(2003, 10, 17, 19, 30, 30.0))
        );
        assert!(
            TimeZone::Fixed { offset_min: 5000 }
                .local_to_utc(2026, 1, 1, 0, 0, 0.0)
                .is_err()
        );
    }

    #[test]
    fn day_bounds() {
        let z = berlin();
        let hours = |y, m, d| {
            let (a, b) = local_day_bounds(&z, y, m, d).expect("bounds");
            b.seconds_since(a) / 3600.0
        };
        assert_eq!(hours(2026, 3, 29), 23.0);
        assert_eq!(hours(2026, 10, 25), 25.0);
        assert_eq!(hours(2026, 6, 1), 24.0);
        let (a, b) = local_day_bounds(&z, 2026, 3, 29).expect("bounds");
        assert_eq!(a, utc(2026, 3, 28, 23, 0, 0.0));
        assert_eq!(b, utc(2026, 3, 29, 22, 0, 0.0));
        let (a, b) = local_day_bounds(&z, 2026, 10, 25).expect("bounds");
        assert_eq!(a, utc(2026, 10, 24, 22, 0, 0.0));
        assert_eq!(b, utc(2026, 10, 25, 23, 0, 0.0));
        let (a, b) = local_day_bounds(&TimeZone::Utc, 2024, 2, 29).expect("bounds");
        assert_eq!(
            (a, b),
            (utc(2024, 2, 29, 0, 0, 0.0), utc(2024, 3, 1, 0, 0, 0.0))
        );
        // Azores: the clocks jump from 00:00 to 01:00, the day starts at the jump.
        let az = TimeZone::parse("Atlantic/Azores").expect("zone");
        let (a, b) = local_day_bounds(&az, 2026, 3, 29).expect("bounds");
        assert_eq!(a, utc(2026, 3, 29, 1, 0, 0.0));
        assert_eq!(b, utc(2026, 3, 30, 0, 0, 0.0));
        let (_, prev_end) = local_day_bounds(&az, 2026, 3, 28).expect("bounds");
        assert_eq!(prev_end, a);
        assert!(az.local_to_utc(2026, 3, 29, 0, 0, 0.0).is_err());
        assert!(local_day_bounds(&z, 2026, 2, 30).is_err());
    }

    #[test]
    fn zone_parsing() {
        assert_eq!(TimeZone::parse("UTC").ok(), Some(TimeZone::Utc));
        assert_eq!(TimeZone::parse("z").ok(), Some(TimeZone::Utc));
        assert_eq!(
            TimeZone::parse("+01:00").ok(),
            Some(TimeZone::Fixed { offset_min: 60 })
        );
        assert_eq!(
            TimeZone::parse("-07:00").ok(),
            Some(TimeZone::Fixed { offset_min: -420 })
        );
        assert_eq!(
            TimeZone::parse("+0530").ok(),
            Some(TimeZone::Fixed { offset_min: 330 })
        );
        assert_eq!(
            TimeZone::parse("UTC+1").ok(),
            Some(TimeZone::Fixed { offset_min: 60 })
        );
        assert_eq!(
            TimeZone::parse("utc-7").ok(),
            Some(TimeZone::Fixed { offset_min: -420 })
        );
        assert_eq!(
            TimeZone::parse("UTC+5:30").ok(),
            Some(TimeZone::Fixed { offset_min: 330 })
        );
        let b = TimeZone::parse("europe/berlin").expect("case-insensitive");
        assert_eq!(b.name(), "Europe/Berlin");
        assert_eq!(
            b,
            TimeZone::Rules {
                name: "Europe/Berlin".into(),
                standard_offset_min: 60,
                eu_dst: true
            }
        );
        for (name, std) in [
            ("Europe/Amsterdam", 60),
            ("Europe/Zurich", 60),
            ("Europe/Budapest", 60),
            ("Europe/Lisbon", 0),
            ("Europe/Dublin", 0),
            ("Europe/Athens", 120),
            ("Europe/Bucharest", 120),
        ] {
            let z = TimeZone::parse(name).expect(name);
            assert_eq!(z.standard_offset_min(), std, "{name}");
        }
        assert_eq!(TimeZone::Fixed { offset_min: -90 }.name(), "-01:30");
        assert_eq!(TimeZone::Utc.name(), "UTC");
        let e = TimeZone::parse("America/New_York").unwrap_err().to_string();
        assert!(
            e.contains("Europe/Berlin") && e.contains("fixed") && e.contains("America/New_York"),
            "{e}"
        );
        assert!(
            TimeZone::parse("Etc/GMT+5")
                .unwrap_err()
                .to_string()
                .contains("inverted")
        );
        for bad in ["", "+19:00", "+01:60", "+1:00:00", "UTC+", "+abc", "-123"] {
            assert!(TimeZone::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn parse_time_and_date() {
        let z = berlin();
        let want = utc(2026, 3, 21, 14, 0, 0.0);
        assert_eq!(parse_time("2026-03-21T15:00", &z).ok(), Some(want));
        assert_eq!(parse_time("2026-03-21 15:00:00", &z).ok(), Some(want));
        assert_eq!(
            parse_time("2026-03-21T15:00:00+01:00", &TimeZone::Utc).ok(),
            Some(want)
        );
        assert_eq!(parse_time("2026-03-21T14:00Z", &z).ok(), Some(want));
        assert_eq!(
            parse_time("2026-07-01T12:00", &z).ok(),
            Some(utc(2026, 7, 1, 10, 0, 0.0))
        );
        let e = parse_time("2026-03-29T02:30", &z).unwrap_err().to_string();
        assert!(
            e.contains("\"2026-03-29T02:30\"") && e.contains("does not exist"),
            "{e}"
        );
        assert!(parse_time("2026-03-21", &z).is_err());
        assert!(parse_time("2026-03-21T15", &z).is_err());
        assert!(parse_time("15:00", &z).is_err());
        assert_eq!(parse_date("2024-02-29").ok(), Some((2024, 2, 29)));
        assert_eq!(parse_date(" 2026-03-21 ").ok(), Some((2026, 3, 21)));
        for bad in [
            "2023-02-29",
            "2026-3-21",
            "2026-03-21T00:00",
            "",
            "2026-00-10",
        ] {
            assert!(parse_date(bad).is_err(), "{bad:?}");
        }
    }
}
