//! Date functions: `addDays` (policy-only), `dateTimeAdd` (ISO 8601 durations), `dateTimeToEpoch`,
//! `dateTimeFromEpoch`, plus the .NET-style date formatting behind `utcNow(format)`.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, NaiveDateTime, Timelike, Utc};
use serde_json::Value;

use super::super::value::{arg_int, arg_str};
use super::super::EvalError;

/// Evaluate a date function.
pub(crate) fn call(name: &str, args: &[Value]) -> Result<Value, EvalError> {
    match name {
        "adddays" => {
            let dt = parse_datetime(name, arg_str(name, args, 0)?)?;
            let days = arg_int(name, args, 1)?;
            let out = Duration::try_days(days)
                .and_then(|d| dt.checked_add_signed(d))
                .ok_or_else(|| {
                    EvalError(format!(
                        "function `adddays` result is out of range adding `{days}` days"
                    ))
                })?;
            Ok(Value::String(format_policy_default(&out)))
        }
        "datetimeadd" => {
            let base_text = arg_str(name, args, 0)?;
            let base = parse_datetime(name, base_text)?;
            let dur = arg_str(name, args, 1)?;
            let out = add_iso_duration(&base, dur)?;
            match args.get(2) {
                Some(_) => format_datetime(&out, arg_str(name, args, 2)?).map(Value::String),
                None => Ok(Value::String(format_policy_default(&out))),
            }
        }
        "datetimetoepoch" => {
            let dt = parse_datetime(name, arg_str(name, args, 0)?)?;
            Ok(Value::Number(dt.timestamp().into()))
        }
        "datetimefromepoch" => {
            let secs = arg_int(name, args, 0)?;
            let dt = DateTime::<Utc>::from_timestamp(secs, 0).ok_or_else(|| {
                EvalError(format!(
                    "function `datetimefromepoch` epoch value `{secs}` is out of range"
                ))
            })?;
            Ok(Value::String(dt.format("%Y-%m-%dT%H:%M:%SZ").to_string()))
        }
        _ => Err(EvalError(format!("unknown function `{name}`"))),
    }
}

/// The policy `utcNow()` format `yyyy-MM-ddTHH:mm:ss.fffffffZ`.
// DECISION: `addDays` and `dateTimeAdd` (without a format) return this same format, so that their results
// compare correctly (as strings) with `utcNow()`, which is how the built-ins use them.
pub(crate) fn format_policy_default(dt: &DateTime<Utc>) -> String {
    let ticks = dt.nanosecond() % 1_000_000_000 / 100;
    // Years outside four digits and leap seconds (second 60) are left to chrono.
    if !(0..=9999).contains(&dt.year()) || dt.nanosecond() >= 1_000_000_000 {
        return format!("{}.{ticks:07}Z", dt.format("%Y-%m-%dT%H:%M:%S"));
    }
    // Written field by field: built-ins call this once per resource (`addDays(utcNow(), -90)`),
    // and parsing a strftime pattern each time cost more than the rest of the call.
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{ticks:07}Z",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// Parse an ISO 8601 date-time (with `Z`, an offset, or no zone meaning UTC; a space may replace `T`;
/// a date alone means midnight UTC).
pub(crate) fn parse_datetime(func: &str, s: &str) -> Result<DateTime<Utc>, EvalError> {
    let t = s.trim();
    if let Some(d) = crate::compare::plain_date(t) {
        return Ok(d);
    }
    let with_t = t.replacen(' ', "T", 1);
    if let Ok(dt) = DateTime::parse_from_rfc3339(&with_t) {
        return Ok(dt.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M%#z"] {
        if let Ok(dt) = DateTime::parse_from_str(&with_t, f) {
            return Ok(dt.with_timezone(&Utc));
        }
    }
    let naive = with_t.strip_suffix('Z').unwrap_or(&with_t);
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(naive, f) {
            return Ok(n.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(naive, "%Y-%m-%d") {
        if let Some(n) = d.and_hms_opt(0, 0, 0) {
            return Ok(n.and_utc());
        }
    }
    Err(EvalError(format!(
        "function `{func}` cannot parse `{s}` as an ISO 8601 date-time"
    )))
}

/// Add an ISO 8601 duration such as `P1Y2M3DT4H5M6.5S`, `PT1H`, `P2W` or `-P1D`.
fn add_iso_duration(base: &DateTime<Utc>, text: &str) -> Result<DateTime<Utc>, EvalError> {
    let bad = || {
        EvalError(format!(
            "function `datetimeadd` cannot parse `{text}` as an ISO 8601 duration"
        ))
    };
    let (neg, rest) = match text.trim().strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.trim()),
    };
    let rest = rest.strip_prefix('P').ok_or_else(bad)?;
    let (date_part, time_part) = match rest.split_once('T') {
        Some((d, t)) => {
            if t.is_empty() {
                return Err(bad());
            }
            (d, Some(t))
        }
        None => (rest, None),
    };
    if date_part.is_empty() && time_part.is_none() {
        return Err(bad());
    }
    let mut months: i64 = 0;
    let mut nanos: i128 = 0;
    const NS: i128 = 1_000_000_000;
    for (unit, num) in components(date_part).ok_or_else(bad)? {
        let whole = num.parse::<i64>().map_err(|_| bad())?;
        match unit {
            'Y' => {
                months = months
                    .checked_add(whole.checked_mul(12).ok_or_else(bad)?)
                    .ok_or_else(bad)?
            }
            'M' => months = months.checked_add(whole).ok_or_else(bad)?,
            'W' => nanos += i128::from(whole) * 7 * 86_400 * NS,
            'D' => nanos += i128::from(whole) * 86_400 * NS,
            _ => return Err(bad()),
        }
    }
    if let Some(tp) = time_part {
        for (unit, num) in components(tp).ok_or_else(bad)? {
            let per: i128 = match unit {
                'H' => 3_600 * NS,
                'M' => 60 * NS,
                'S' => NS,
                _ => return Err(bad()),
            };
            let value: f64 = num.parse().map_err(|_| bad())?;
            if !value.is_finite() || value.abs() > 1e15 {
                return Err(bad());
            }
            nanos += (value * per as f64).round() as i128;
        }
    }
    if neg {
        months = -months;
        nanos = -nanos;
    }
    let mut out = *base;
    if months != 0 {
        let m = Months::new(u32::try_from(months.unsigned_abs()).map_err(|_| bad())?);
        out = if months > 0 {
            out.checked_add_months(m)
        } else {
            out.checked_sub_months(m)
        }
        .ok_or_else(bad)?;
    }
    let d = i64::try_from(nanos)
        .map(Duration::nanoseconds)
        .map_err(|_| bad())?;
    out.checked_add_signed(d).ok_or_else(bad)
}

/// Split `1Y2M3D` into `[('Y', "1"), ('M', "2"), ('D', "3")]`.
fn components(s: &str) -> Option<Vec<(char, String)>> {
    let mut out = Vec::new();
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() || c == '.' || c == ',' {
            num.push(if c == ',' { '.' } else { c });
        } else if c.is_ascii_alphabetic() {
            if num.is_empty() {
                return None;
            }
            out.push((c.to_ascii_uppercase(), std::mem::take(&mut num)));
        } else {
            return None;
        }
    }
    if num.is_empty() {
        Some(out)
    } else {
        None
    }
}

const DAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Format a UTC date-time with a .NET format string (standard single-letter formats or custom patterns),
/// invariant culture.
pub(crate) fn format_datetime(dt: &DateTime<Utc>, fmt: &str) -> Result<String, EvalError> {
    let mut chars = fmt.chars();
    let pattern = match (chars.next(), chars.next()) {
        (Some(c), None) => match c {
            'd' => "MM/dd/yyyy",
            'D' => "dddd, dd MMMM yyyy",
            'f' => "dddd, dd MMMM yyyy HH:mm",
            'F' | 'U' => "dddd, dd MMMM yyyy HH:mm:ss",
            'g' => "MM/dd/yyyy HH:mm",
            'G' => "MM/dd/yyyy HH:mm:ss",
            'M' | 'm' => "MMMM dd",
            'O' | 'o' => "yyyy-MM-ddTHH:mm:ss.fffffffK",
            'R' | 'r' => "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
            's' => "yyyy-MM-ddTHH:mm:ss",
            't' => "HH:mm",
            'T' => "HH:mm:ss",
            'u' => "yyyy-MM-dd HH:mm:ssZ",
            'Y' | 'y' => "yyyy MMMM",
            _ => {
                return Err(EvalError(format!(
                    "function `utcnow` got an invalid date format `{fmt}`"
                )))
            }
        },
        (None, _) => "yyyy-MM-ddTHH:mm:ss.fffffffK",
        _ => fmt,
    };
    format_custom(dt, pattern)
}

fn format_custom(dt: &DateTime<Utc>, pat: &str) -> Result<String, EvalError> {
    let chars: Vec<char> = pat.chars().collect();
    let mut out = String::new();
    let mut i = 0usize;
    let frac = u64::from(dt.nanosecond() % 1_000_000_000) / 100; // 7 digits
    let bad = || {
        EvalError(format!(
            "function `utcnow` got an invalid date format `{pat}`"
        ))
    };
    while let Some(&c) = chars.get(i) {
        let mut run = 1usize;
        while chars.get(i.saturating_add(run)) == Some(&c) {
            run = run.saturating_add(1);
        }
        match c {
            'y' => {
                let y = dt.year();
                match run {
                    1 => out.push_str(&(y % 100).to_string()),
                    2 => out.push_str(&format!("{:02}", y % 100)),
                    n => out.push_str(&format!("{:0n$}", y)),
                }
            }
            'M' => match run {
                1 => out.push_str(&dt.month().to_string()),
                2 => out.push_str(&format!("{:02}", dt.month())),
                3 => out.push_str(
                    MONTH_NAMES
                        .get(dt.month0() as usize)
                        .and_then(|m| m.get(..3))
                        .unwrap_or_default(),
                ),
                _ => out.push_str(
                    MONTH_NAMES
                        .get(dt.month0() as usize)
                        .copied()
                        .unwrap_or_default(),
                ),
            },
            'd' => match run {
                1 => out.push_str(&dt.day().to_string()),
                2 => out.push_str(&format!("{:02}", dt.day())),
                3 => out.push_str(
                    DAY_NAMES
                        .get(dt.weekday().num_days_from_monday() as usize)
                        .and_then(|m| m.get(..3))
                        .unwrap_or_default(),
                ),
                _ => out.push_str(
                    DAY_NAMES
                        .get(dt.weekday().num_days_from_monday() as usize)
                        .copied()
                        .unwrap_or_default(),
                ),
            },
            'H' => out.push_str(&pad(dt.hour(), run)),
            'h' => {
                let h = match dt.hour() % 12 {
                    0 => 12,
                    x => x,
                };
                out.push_str(&pad(h, run));
            }
            'm' => out.push_str(&pad(dt.minute(), run)),
            's' => out.push_str(&pad(dt.second(), run)),
            't' => {
                let am = dt.hour() < 12;
                out.push_str(match (run, am) {
                    (1, true) => "A",
                    (1, false) => "P",
                    (_, true) => "AM",
                    (_, false) => "PM",
                });
            }
            'f' | 'F' => {
                if run > 7 {
                    return Err(bad());
                }
                let digits = format!("{frac:07}");
                let mut part = digits.get(..run).unwrap_or_default().to_string();
                if c == 'F' {
                    part = part.trim_end_matches('0').to_string();
                    if part.is_empty() && out.ends_with('.') {
                        out.pop();
                    }
                }
                out.push_str(&part);
            }
            'K' => out.push('Z'),
            'z' => out.push_str(match run {
                1 => "+0",
                2 => "+00",
                _ => "+00:00",
            }),
            'g' => out.push_str("A.D."),
            '\'' | '"' => {
                // quoted literal
                let mut j = i.saturating_add(1);
                loop {
                    match chars.get(j) {
                        Some(&q) if q == c => break,
                        Some('\\') => {
                            j = j.saturating_add(1);
                            if let Some(&e) = chars.get(j) {
                                out.push(e);
                            }
                        }
                        Some(&other) => out.push(other),
                        None => return Err(bad()),
                    }
                    j = j.saturating_add(1);
                }
                i = j.saturating_add(1);
                continue;
            }
            '\\' => {
                match chars.get(i.saturating_add(1)) {
                    Some(&e) => out.push(e),
                    None => return Err(bad()),
                }
                i = i.saturating_add(2);
                continue;
            }
            '%' => {
                // `%d` forces a custom single-character specifier
                i = i.saturating_add(1);
                continue;
            }
            other => {
                for _ in 0..run {
                    out.push(other);
                }
            }
        }
        i = i.saturating_add(run);
    }
    Ok(out)
}

fn pad(v: u32, run: usize) -> String {
    if run >= 2 {
        format!("{v:02}")
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::super::super::eval::tests::run;
    use super::*;
    use chrono::TimeZone;

    /// The field-by-field writer says what chrono's pattern says, across years, padding,
    /// ticks and the leap second.
    #[test]
    fn policy_default_format_matches_chrono() {
        let chrono_way = |dt: &DateTime<Utc>| {
            format!(
                "{}.{:07}Z",
                dt.format("%Y-%m-%dT%H:%M:%S"),
                dt.nanosecond() % 1_000_000_000 / 100
            )
        };
        let mut cases: Vec<DateTime<Utc>> = [
            (1, 1, 1, 0, 0, 0),
            (999, 12, 31, 23, 59, 59),
            (2024, 2, 29, 7, 5, 3),
            (9999, 12, 31, 23, 59, 59),
        ]
        .iter()
        .map(|&(y, mo, d, h, mi, s)| Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap())
        .collect();
        cases.push(cases[2] + Duration::nanoseconds(123_456_789));
        cases.push(cases[2] + Duration::nanoseconds(99));
        cases.push(Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap());
        cases.push(Utc.with_ymd_and_hms(-1, 6, 1, 0, 0, 0).unwrap());
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap()
            .and_utc();
        cases.push(leap);
        for dt in &cases {
            assert_eq!(format_policy_default(dt), chrono_way(dt), "{dt:?}");
        }
        assert_eq!(format_policy_default(&leap), "2016-12-31T23:59:60.5000000Z");
    }
    use serde_json::json;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2019, 10, 1, 9, 5, 7).single().unwrap()
            + Duration::nanoseconds(123_456_700)
    }

    #[test]
    fn dotnet_formats() {
        let t = at();
        assert_eq!(
            format_datetime(&t, "").unwrap(),
            "2019-10-01T09:05:07.1234567Z"
        );
        assert_eq!(
            format_datetime(&t, "o").unwrap(),
            "2019-10-01T09:05:07.1234567Z"
        );
        assert_eq!(format_datetime(&t, "u").unwrap(), "2019-10-01 09:05:07Z");
        assert_eq!(format_datetime(&t, "s").unwrap(), "2019-10-01T09:05:07");
        assert_eq!(format_datetime(&t, "d").unwrap(), "10/01/2019");
        assert_eq!(
            format_datetime(&t, "D").unwrap(),
            "Tuesday, 01 October 2019"
        );
        assert_eq!(
            format_datetime(&t, "r").unwrap(),
            "Tue, 01 Oct 2019 09:05:07 GMT"
        );
        assert_eq!(
            format_datetime(&t, "yyyyMMddTHHmmssZ").unwrap(),
            "20191001T090507Z"
        );
        assert_eq!(
            format_datetime(&t, "M/d/yy h:m:s tt").unwrap(),
            "10/1/19 9:5:7 AM"
        );
        assert_eq!(
            format_datetime(&t, "yyyy-MM-dd'T'HH:mm:ss.fffK").unwrap(),
            "2019-10-01T09:05:07.123Z"
        );
        assert_eq!(
            format_datetime(&t, "MMM dddd \\y zzz").unwrap(),
            "Oct Tuesday y +00:00"
        );
        let whole = Utc.with_ymd_and_hms(2019, 10, 1, 9, 5, 7).single().unwrap();
        assert_eq!(format_datetime(&whole, "HH:mm:ss.FFF").unwrap(), "09:05:07");
        assert!(format_datetime(&t, "q").is_err());
        assert!(format_datetime(&t, "'open").is_err());
        assert!(format_datetime(&t, "ffffffff").is_err());
    }

    #[test]
    fn add_days() {
        assert_eq!(
            run("[addDays(utcNow(), -1)]").unwrap(),
            json!("2024-02-28T13:04:05.0000000Z")
        );
        assert_eq!(
            run("[addDays('2024-02-28T00:00:00Z', 1)]").unwrap(),
            json!("2024-02-29T00:00:00.0000000Z")
        );
        assert_eq!(
            run("[addDays('2024-01-01T10:00:00.5+02:00', 0)]").unwrap(),
            json!("2024-01-01T08:00:00.5000000Z")
        );
        assert_eq!(
            run("[addDays('2024-01-01', 31)]").unwrap(),
            json!("2024-02-01T00:00:00.0000000Z")
        );
        assert_eq!(
            run("[less(addDays('2024-01-01T00:00:00Z', 10), utcNow())]").unwrap(),
            json!(true)
        );
        assert!(run("[addDays('yesterday', 1)]").is_err());
        assert!(run("[addDays(utcNow(), '1')]").is_err());
        assert!(run("[addDays(utcNow(), 9223372036854775807)]").is_err());
    }

    #[test]
    fn date_time_add() {
        assert_eq!(
            run("[dateTimeAdd('2020-04-07 14:53:14Z', 'P3Y')]").unwrap(),
            json!("2023-04-07T14:53:14.0000000Z")
        );
        assert_eq!(
            run("[dateTimeAdd('2020-04-07T14:53:14Z', '-PT9H')]").unwrap(),
            json!("2020-04-07T05:53:14.0000000Z")
        );
        assert_eq!(
            run("[dateTimeAdd('2020-01-31T00:00:00Z', 'P1M', 'yyyy-MM-dd')]").unwrap(),
            json!("2020-02-29")
        );
        assert_eq!(
            run("[dateTimeAdd('2020-01-01T00:00:00Z', 'P1W1DT1H1M1.5S', 'o')]").unwrap(),
            json!("2020-01-09T01:01:01.5000000Z")
        );
        assert!(run("[dateTimeAdd('2020-01-01T00:00:00Z', '1D')]").is_err());
        assert!(run("[dateTimeAdd('2020-01-01T00:00:00Z', 'P')]").is_err());
        assert!(run("[dateTimeAdd('2020-01-01T00:00:00Z', 'PT')]").is_err());
        assert!(run("[dateTimeAdd('2020-01-01T00:00:00Z', 'P1H')]").is_err());
    }

    #[test]
    fn epochs() {
        assert_eq!(
            run("[dateTimeToEpoch('2023-05-02T15:16:13Z')]").unwrap(),
            json!(1683040573)
        );
        assert_eq!(
            run("[dateTimeFromEpoch(1683040573)]").unwrap(),
            json!("2023-05-02T15:16:13Z")
        );
        assert!(run("[dateTimeFromEpoch(9223372036854775807)]").is_err());
        assert!(run("[dateTimeToEpoch('x')]").is_err());
    }
}
