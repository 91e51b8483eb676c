//! The date formats core reads besides Unix seconds: HTTP dates (`Retry-After`) and the
//! Azure CLI's local time, parsed by hand (exact formats, no allocation).

use time::OffsetDateTime;

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only form servers may send.
pub(crate) fn parse_http_date(value: &str) -> Option<OffsetDateTime> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let b = value.as_bytes();
    if b.len() != 29 || &b[3..5] != b", " || b[7] != b' ' || b[11] != b' ' || &b[25..] != b" GMT" {
        return None;
    }
    let weekday = WEEKDAYS.iter().position(|w| w.as_bytes() == &b[..3])?;
    let month = MONTHS.iter().position(|m| m.as_bytes() == &b[8..11])?;
    let day = digits(&b[5..7])?;
    let year = digits(&b[12..16])?;
    let at = parse_date_time(year, month as u32 + 1, day, &b[16..25], b' ')?;
    (at.weekday().number_days_from_monday() as usize == weekday).then_some(at)
}

/// `year`-`month`-`day` at `sep` `HH:MM:SS` (the 9 bytes of `time`, starting with `sep`), UTC.
pub(crate) fn parse_date_time(year: u32, month: u32, day: u32, time: &[u8], sep: u8) -> Option<OffsetDateTime> {
    if time.len() != 9 || time[0] != sep || time[3] != b':' || time[6] != b':' {
        return None;
    }
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = time::Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()?;
    let hms = [digits(&time[1..3])?, digits(&time[4..6])?, digits(&time[7..9])?].map(|n| n as u8);
    let clock = time::Time::from_hms(hms[0], hms[1], hms[2]).ok()?;
    Some(date.with_time(clock).assume_utc())
}

/// The value of a run of ASCII digits (no sign, no spaces).
pub(crate) fn digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || bytes.len() > 9 {
        return None;
    }
    bytes.iter().try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        let at = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(at.unix_timestamp(), 784_111_777);
        for bad in [
            "Mon, 06 Nov 1994 08:49:37 GMT", // wrong weekday
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nvo 1994 08:49:37 GMT",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:3x GMT",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT ",
            "",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }
}
