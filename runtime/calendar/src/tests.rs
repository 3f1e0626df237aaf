//! Tests of the public calendar API. Expected instants are written as local times with the
//! zone's abbreviation (`GMT`/`BST`, `EST`/`EDT`) so a DST mistake shows in the diff.

use super::*;
use jiff::civil::{date, Date};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

const LONDON: &str = "Europe/London";
const NEW_YORK: &str = "America/New_York";

fn zone(name: &str) -> TimeZone {
    time_zone(name).unwrap()
}

/// A local time in a zone, as a test writes it.
fn at(text: &str, zone: &str) -> Timestamp {
    parse_local(text, zone).unwrap()
}

fn utc(text: &str) -> Timestamp {
    at(text, "UTC")
}

/// An instant as a local time with the zone's abbreviation.
fn show(instant: Timestamp, zone_name: &str) -> String {
    instant.to_zoned(zone(zone_name)).strftime("%Y-%m-%d %H:%M:%S %Z").to_string()
}

fn hm(hour: u32, minute: u32) -> u32 {
    hour * 60 + minute
}

// ---------------------------------------------------------------------------------------------
// Zones and the DST policy

#[test]
fn zones_come_from_the_bundled_database() {
    assert_eq!(zone("europe/london").iana_name(), Some(LONDON));
    assert_eq!(zone("UTC"), TimeZone::UTC);
    assert_eq!(time_zone("Mars/Olympus_Mons").unwrap_err(), "unknown time zone `Mars/Olympus_Mons`");
    assert_eq!(time_zone("  ").unwrap_err(), "expected a time zone like `Europe/London`, found nothing");
}

#[test]
fn a_skipped_local_time_is_the_instant_the_clocks_jump() {
    // London 2026-03-29: 01:00 GMT becomes 02:00 BST at 01:00 UTC.
    let london = zone(LONDON);
    let skipped = date(2026, 3, 29).at(1, 30, 0, 0);
    assert_eq!(resolve_local(&london, skipped), utc("2026-03-29 01:00"));
    assert_eq!(show(resolve_local(&london, skipped), LONDON), "2026-03-29 02:00:00 BST");
    // New York 2026-03-08: 02:00 EST becomes 03:00 EDT at 07:00 UTC.
    let new_york = zone(NEW_YORK);
    assert_eq!(resolve_local(&new_york, date(2026, 3, 8).at(2, 30, 0, 0)), utc("2026-03-08 07:00"));
    assert_eq!(resolve_local(&new_york, date(2026, 3, 8).at(2, 0, 0, 0)), utc("2026-03-08 07:00"));
}

#[test]
fn a_repeated_local_time_is_its_first_occurrence() {
    // London 2026-10-25: 02:00 BST becomes 01:00 GMT at 01:00 UTC, so 01:30 happens twice.
    assert_eq!(resolve_local(&zone(LONDON), date(2026, 10, 25).at(1, 30, 0, 0)), utc("2026-10-25 00:30"));
    // New York 2026-11-01: 02:00 EDT becomes 01:00 EST at 06:00 UTC.
    assert_eq!(resolve_local(&zone(NEW_YORK), date(2026, 11, 1).at(1, 30, 0, 0)), utc("2026-11-01 05:30"));
}

// ---------------------------------------------------------------------------------------------
// Clocks

#[test]
fn the_test_clock_starts_monday_2026_01_05_noon_utc() {
    assert_eq!(TEST_START, utc("2026-01-05 12:00"));
    assert_eq!(TEST_START.to_zoned(TimeZone::UTC).weekday(), jiff::civil::Weekday::Monday);
}

// ---------------------------------------------------------------------------------------------
// Business hours

/// `hours office` from the language reference.
fn office() -> Hours {
    let weekday = vec![(hm(8, 0), hm(18, 0))];
    Hours::new(
        LONDON,
        [
            weekday.clone(),
            weekday.clone(),
            weekday.clone(),
            weekday.clone(),
            weekday,
            vec![(hm(9, 0), hm(13, 0))],
            vec![],
        ],
        vec![date(2026, 12, 25), date(2026, 12, 26)],
    )
    .unwrap()
}

fn every_day(zone: &str, ranges: Vec<(u32, u32)>, closed: Vec<Date>) -> Hours {
    Hours::new(zone, std::array::from_fn(|_| ranges.clone()), closed).unwrap()
}

#[test]
fn office_hours_open_and_close_on_the_local_clock() {
    let office = office();
    for (when, open) in [
        ("2026-11-23 07:59:59", false), // Monday
        ("2026-11-23 08:00", true),
        ("2026-11-23 17:59:59", true),
        ("2026-11-23 18:00", false),
        ("2026-11-28 09:00", true), // Saturday
        ("2026-11-28 13:00", false),
        ("2026-11-29 12:00", false), // Sunday
        ("2026-12-25 10:00", false), // a closed Friday
        ("2026-12-24 10:00", true),
        ("2026-06-01 08:00", true), // BST: 07:00 UTC
        ("2026-06-01 07:59", false),
    ] {
        assert_eq!(office.is_open(at(when, LONDON)), open, "{when}");
    }
    assert!(office.is_open(utc("2026-06-01 07:00")));
    assert!(!office.is_open(utc("2026-06-01 17:00")));
}

#[test]
fn next_open_skips_evenings_weekends_and_closed_dates() {
    let office = office();
    for (after, expected) in [
        ("2026-11-23 10:00", "2026-11-23 10:00:00 GMT"), // already open
        ("2026-11-23 06:00", "2026-11-23 08:00:00 GMT"),
        ("2026-11-27 18:30", "2026-11-28 09:00:00 GMT"), // Friday evening → Saturday
        ("2026-11-28 13:00", "2026-11-30 08:00:00 GMT"), // Saturday afternoon → Monday
        ("2026-12-24 18:00", "2026-12-28 08:00:00 GMT"), // Christmas and Boxing Day closed
        ("2026-03-27 18:00", "2026-03-28 09:00:00 GMT"),
        ("2026-03-28 13:00", "2026-03-30 08:00:00 BST"), // over the spring change
        ("2026-10-24 13:00", "2026-10-26 08:00:00 GMT"), // over the autumn change
    ] {
        assert_eq!(show(office.next_open(at(after, LONDON)).unwrap(), LONDON), expected, "{after}");
    }
}

#[test]
fn next_close_finds_the_end_of_the_day_or_returns_now_when_closed() {
    let office = office();
    assert_eq!(show(office.next_close(at("2026-11-23 10:00", LONDON)).unwrap(), LONDON), "2026-11-23 18:00:00 GMT");
    assert_eq!(show(office.next_close(at("2026-11-28 10:00", LONDON)).unwrap(), LONDON), "2026-11-28 13:00:00 GMT");
    assert_eq!(office.next_close(at("2026-11-23 19:00", LONDON)), Some(at("2026-11-23 19:00", LONDON)));
}

#[test]
fn hours_open_around_the_clock_close_only_on_closed_dates() {
    let always = every_day(LONDON, vec![(0, DAY_MINUTES)], vec![]);
    assert!(always.is_open(at("2026-10-25 01:30", LONDON)));
    assert_eq!(always.next_close(at("2026-11-23 10:00", LONDON)), None);
    let with_holiday = every_day(LONDON, vec![(0, DAY_MINUTES)], vec![date(2026, 12, 25)]);
    assert_eq!(
        show(with_holiday.next_close(at("2026-11-23 10:00", LONDON)).unwrap(), LONDON),
        "2026-12-25 00:00:00 GMT"
    );
    assert_eq!(
        show(with_holiday.next_open(at("2026-12-25 10:00", LONDON)).unwrap(), LONDON),
        "2026-12-26 00:00:00 GMT"
    );
    let never = Hours::new(LONDON, Default::default(), vec![]).unwrap();
    assert_eq!(never.next_open(TEST_START), None);
    assert_eq!(never.next_close(TEST_START), Some(TEST_START));
}

#[test]
fn daily_hours_keep_local_times_over_dst_changes() {
    let london = every_day(LONDON, vec![(hm(8, 0), hm(18, 0))], vec![]);
    let open = london.next_open(at("2026-03-28 18:00", LONDON)).unwrap();
    assert_eq!((show(open, LONDON), open), ("2026-03-29 08:00:00 BST".to_string(), utc("2026-03-29 07:00")));
    let open = london.next_open(at("2026-10-24 18:00", LONDON)).unwrap();
    assert_eq!((show(open, LONDON), open), ("2026-10-25 08:00:00 GMT".to_string(), utc("2026-10-25 08:00")));

    let new_york = every_day(NEW_YORK, vec![(hm(9, 0), hm(17, 0))], vec![]);
    let open = new_york.next_open(at("2026-03-07 17:00", NEW_YORK)).unwrap();
    assert_eq!((show(open, NEW_YORK), open), ("2026-03-08 09:00:00 EDT".to_string(), utc("2026-03-08 13:00")));
    let open = new_york.next_open(at("2026-10-31 17:00", NEW_YORK)).unwrap();
    assert_eq!((show(open, NEW_YORK), open), ("2026-11-01 09:00:00 EST".to_string(), utc("2026-11-01 14:00")));
    let close = new_york.next_close(at("2026-11-01 10:00", NEW_YORK)).unwrap();
    assert_eq!(show(close, NEW_YORK), "2026-11-01 17:00:00 EST");
}

#[test]
fn hours_opening_inside_a_skipped_hour_open_when_the_clocks_jump() {
    // Open 01:30-05:00 every night; on 2026-03-29 London skips 01:00-02:00.
    let night = every_day(LONDON, vec![(hm(1, 30), hm(5, 0))], vec![]);
    assert_eq!(night.next_open(utc("2026-03-29 00:30")), Some(utc("2026-03-29 01:00")));
    assert!(!night.is_open(utc("2026-03-29 00:59:59")));
    assert!(night.is_open(utc("2026-03-29 01:00")));
    assert_eq!(show(night.next_close(utc("2026-03-29 01:00")).unwrap(), LONDON), "2026-03-29 05:00:00 BST");
}

#[test]
fn hours_in_a_repeated_hour_open_twice() {
    // Open 00:00-01:30; on 2026-10-25 London shows 01:00-02:00 twice (BST, then GMT).
    let early = every_day(LONDON, vec![(0, hm(1, 30))], vec![]);
    assert!(early.is_open(utc("2026-10-25 00:15"))); // 01:15 BST
    assert!(!early.is_open(utc("2026-10-25 00:45"))); // 01:45 BST
    assert_eq!(early.next_close(utc("2026-10-25 00:00")), Some(utc("2026-10-25 00:30")));
    assert_eq!(show(early.next_open(utc("2026-10-25 00:45")).unwrap(), LONDON), "2026-10-25 01:00:00 GMT");
    assert_eq!(early.next_close(utc("2026-10-25 01:00")), Some(utc("2026-10-25 01:30")));

    let new_york = every_day(NEW_YORK, vec![(0, hm(1, 30))], vec![]);
    assert_eq!(show(new_york.next_open(utc("2026-11-01 05:45")).unwrap(), NEW_YORK), "2026-11-01 01:00:00 EST");
}

#[test]
fn overnight_ranges_run_into_the_next_day() {
    let friday_night = vec![(hm(22, 0), hm(6, 0))];
    let mut weekly: [Vec<(u32, u32)>; 7] = Default::default();
    weekly[4] = friday_night;
    weekly[6] = vec![(hm(22, 0), hm(2, 0))]; // Sunday night into Monday
    let nights = Hours::new(LONDON, weekly.clone(), vec![]).unwrap();
    for (when, open) in [
        ("2026-11-27 21:59", false), // Friday
        ("2026-11-27 22:00", true),
        ("2026-11-28 00:00", true), // Saturday
        ("2026-11-28 05:59", true),
        ("2026-11-28 06:00", false),
        ("2026-11-28 22:30", false),
        ("2026-11-30 01:00", true), // Monday, from Sunday night
        ("2026-11-30 02:00", false),
    ] {
        assert_eq!(nights.is_open(at(when, LONDON)), open, "{when}");
    }
    assert_eq!(show(nights.next_close(at("2026-11-27 23:00", LONDON)).unwrap(), LONDON), "2026-11-28 06:00:00 GMT");
    assert_eq!(show(nights.next_open(at("2026-11-28 07:00", LONDON)).unwrap(), LONDON), "2026-11-29 22:00:00 GMT");

    // A closed Saturday cuts Friday night short at midnight.
    let cut = Hours::new(LONDON, weekly, vec![date(2026, 11, 28)]).unwrap();
    assert!(cut.is_open(at("2026-11-27 23:00", LONDON)));
    assert!(!cut.is_open(at("2026-11-28 01:00", LONDON)));
    assert_eq!(show(cut.next_close(at("2026-11-27 23:00", LONDON)).unwrap(), LONDON), "2026-11-28 00:00:00 GMT");
}

#[test]
fn overlapping_and_touching_ranges_merge() {
    let mut weekly: [Vec<(u32, u32)>; 7] = Default::default();
    weekly[0] = vec![(hm(12, 0), hm(18, 0)), (hm(8, 0), hm(12, 0)), (hm(10, 0), hm(11, 0))];
    let hours = Hours::new(LONDON, weekly, vec![]).unwrap();
    assert_eq!(show(hours.next_close(at("2026-11-23 09:00", LONDON)).unwrap(), LONDON), "2026-11-23 18:00:00 GMT");
}

#[test]
fn bad_hours_are_explained() {
    let day = |ranges: Vec<(u32, u32)>| -> [Vec<(u32, u32)>; 7] {
        let mut weekly: [Vec<(u32, u32)>; 7] = Default::default();
        weekly[2] = ranges;
        weekly
    };
    assert_eq!(
        Hours::new(LONDON, day(vec![(hm(8, 0), hm(25, 0))]), vec![]).unwrap_err(),
        "wednesday 08:00-25:00: a range must lie within 00:00-24:00"
    );
    assert_eq!(
        Hours::new(LONDON, day(vec![(DAY_MINUTES, hm(2, 0))]), vec![]).unwrap_err(),
        "wednesday 24:00-02:00: a range must lie within 00:00-24:00"
    );
    assert_eq!(
        Hours::new(LONDON, day(vec![(hm(9, 0), hm(9, 0))]), vec![]).unwrap_err(),
        "wednesday 09:00-09:00: a range must not open and close at the same time (all day is 00:00-24:00)"
    );
    assert_eq!(Hours::new("Europe/Londn", day(vec![]), vec![]).unwrap_err(), "unknown time zone `Europe/Londn`");
}

#[test]
fn hours_serialize_as_their_plain_data() {
    let office = office();
    let json = serde_json::to_value(&office).unwrap();
    assert_eq!(json["zone"], LONDON);
    assert_eq!(json["closed"], serde_json::json!(["2026-12-25", "2026-12-26"]));
    let back: Hours = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back.spec(), office.spec());
    assert_eq!(back.next_open(at("2026-12-24 18:00", LONDON)), office.next_open(at("2026-12-24 18:00", LONDON)));

    let mut bad = json;
    bad["zone"] = "Nowhere/Special".into();
    let error = serde_json::from_value::<Hours>(bad).unwrap_err().to_string();
    assert!(error.contains("unknown time zone `Nowhere/Special`"), "{error}");
}

// ---------------------------------------------------------------------------------------------
// Quiet hours

const EVENINGS: Quiet = Quiet { from: 21 * 60, to: 8 * 60 };

#[test]
fn quiet_hours_wrap_midnight() {
    let london = zone(LONDON);
    for (when, quiet) in [
        ("2026-11-23 20:59:59", false),
        ("2026-11-23 21:00", true),
        ("2026-11-24 00:00", true),
        ("2026-11-24 02:00", true),
        ("2026-11-24 07:59:59", true),
        ("2026-11-24 08:00", false),
        ("2026-11-24 12:00", false),
    ] {
        assert_eq!(EVENINGS.contains(&london, at(when, LONDON)), quiet, "{when}");
    }
    let lunch = Quiet::new(hm(12, 0), hm(13, 0)).unwrap();
    assert!(lunch.contains(&london, at("2026-11-24 12:30", LONDON)));
    assert!(!lunch.contains(&london, at("2026-11-24 13:00", LONDON)));
    assert!(!Quiet::NONE.contains(&london, at("2026-11-24 02:00", LONDON)));
    assert!(Quiet::new(hm(9, 0), hm(9, 0)).unwrap().is_none());
}

#[test]
fn release_is_the_end_of_the_quiet_period() {
    let london = zone(LONDON);
    for (when, released) in [
        ("2026-11-23 22:00", "2026-11-24 08:00:00 GMT"), // evening → tomorrow morning
        ("2026-11-24 02:00", "2026-11-24 08:00:00 GMT"), // small hours → this morning
        ("2026-11-24 12:00", "2026-11-24 12:00:00 GMT"), // not quiet
        ("2026-03-28 22:00", "2026-03-29 08:00:00 BST"), // spring change overnight
        ("2026-10-24 22:00", "2026-10-25 08:00:00 GMT"), // autumn change overnight
    ] {
        assert_eq!(show(EVENINGS.release(&london, at(when, LONDON)), LONDON), released, "{when}");
    }
    assert_eq!(EVENINGS.release(&london, at("2026-03-28 22:00", LONDON)), utc("2026-03-29 07:00"));
    assert_eq!(EVENINGS.release(&london, at("2026-10-24 22:00", LONDON)), utc("2026-10-25 08:00"));

    let new_york = zone(NEW_YORK);
    assert_eq!(EVENINGS.release(&new_york, at("2026-03-07 22:00", NEW_YORK)), utc("2026-03-08 12:00"));
    assert_eq!(EVENINGS.release(&new_york, at("2026-10-31 22:00", NEW_YORK)), utc("2026-11-01 13:00"));
}

#[test]
fn release_ending_in_a_changed_hour() {
    let london = zone(LONDON);
    let small_hours = Quiet::new(0, hm(1, 30)).unwrap();
    // The end, 01:30, is skipped on 2026-03-29: released when the clocks jump.
    assert_eq!(small_hours.release(&london, utc("2026-03-29 00:30")), utc("2026-03-29 01:00"));
    // On 2026-10-25, 01:30 happens twice: each quiet stretch ends at its own 01:30.
    assert_eq!(small_hours.release(&london, utc("2026-10-25 00:10")), utc("2026-10-25 00:30"));
    assert!(small_hours.contains(&london, utc("2026-10-25 01:15")));
    assert_eq!(small_hours.release(&london, utc("2026-10-25 01:15")), utc("2026-10-25 01:30"));
}

#[test]
fn quiet_hours_until_midnight() {
    let late = Quiet::new(hm(21, 0), DAY_MINUTES).unwrap();
    let london = zone(LONDON);
    assert!(late.contains(&london, at("2026-11-23 23:59", LONDON)));
    assert!(!late.contains(&london, at("2026-11-24 00:00", LONDON)));
    assert_eq!(show(late.release(&london, at("2026-11-23 22:00", LONDON)), LONDON), "2026-11-24 00:00:00 GMT");
}

#[test]
fn bad_quiet_hours_are_explained() {
    assert_eq!(Quiet::new(hm(25, 0), hm(8, 0)).unwrap_err(), "quiet 25:00-08:00: times must lie within 00:00-24:00");
    assert_eq!(Quiet::new(0, DAY_MINUTES).unwrap_err(), "quiet 00:00-24:00: quiet hours may not cover the whole day");
}

// ---------------------------------------------------------------------------------------------
// Retry timelines

#[test]
fn next_at_is_today_when_still_to_come_else_tomorrow() {
    let london = zone(LONDON);
    let cases = [
        ("2026-11-24 02:00", hm(11, 0), "2026-11-24 11:00:00 GMT"), // same day, later
        ("2026-11-24 11:00", hm(11, 0), "2026-11-24 11:00:00 GMT"), // exactly now counts
        ("2026-11-24 11:00:01", hm(11, 0), "2026-11-25 11:00:00 GMT"), // just past → tomorrow
        ("2026-11-24 15:00", hm(11, 0), "2026-11-25 11:00:00 GMT"), // past today → tomorrow
        ("2026-11-24 23:30", 0, "2026-11-25 00:00:00 GMT"),         // midnight
        ("2026-12-31 12:00", hm(9, 0), "2027-01-01 09:00:00 GMT"),  // year end
        ("2026-03-28 15:00", hm(11, 0), "2026-03-29 11:00:00 BST"), // over the spring change
        ("2026-10-24 15:00", hm(11, 0), "2026-10-25 11:00:00 GMT"), // over the autumn change
    ];
    for (after, time_of_day, expected) in cases {
        assert_eq!(show(next_at(&london, at(after, LONDON), time_of_day), LONDON), expected, "{after}");
    }
}

#[test]
fn next_at_a_changed_hour() {
    let london = zone(LONDON);
    // 01:30 is skipped on 2026-03-29: the step goes when the clocks jump.
    assert_eq!(next_at(&london, utc("2026-03-29 00:00"), hm(1, 30)), utc("2026-03-29 01:00"));
    // 01:30 happens twice on 2026-10-25: the first one still ahead counts.
    assert_eq!(next_at(&london, utc("2026-10-25 00:00"), hm(1, 30)), utc("2026-10-25 00:30"));
    assert_eq!(next_at(&london, utc("2026-10-25 00:45"), hm(1, 30)), utc("2026-10-25 01:30"));
    assert_eq!(next_at(&london, utc("2026-10-25 01:31"), hm(1, 30)), utc("2026-10-26 01:30"));
    let new_york = zone(NEW_YORK);
    assert_eq!(next_at(&new_york, utc("2026-03-08 05:00"), hm(2, 30)), utc("2026-03-08 07:00"));
    assert_eq!(next_at(&new_york, utc("2026-11-01 05:45"), hm(1, 30)), utc("2026-11-01 06:30"));
}

#[test]
fn after_counts_whole_days_on_the_calendar_and_the_rest_exactly() {
    let london = zone(LONDON);
    let hours = |h| SignedDuration::from_hours(h);
    // Whole days keep the local time: 23 hours pass in spring, 25 in autumn.
    assert_eq!(show(after(&london, at("2026-03-28 10:00", LONDON), hours(24)), LONDON), "2026-03-29 10:00:00 BST");
    assert_eq!(show(after(&london, at("2026-10-24 10:00", LONDON), hours(48)), LONDON), "2026-10-26 10:00:00 GMT");
    // Anything else is elapsed time: 2h from 00:30 GMT on the spring change is 03:30 BST.
    assert_eq!(show(after(&london, at("2026-03-29 00:30", LONDON), hours(2)), LONDON), "2026-03-29 03:30:00 BST");
    assert_eq!(show(after(&london, at("2026-03-28 10:00", LONDON), hours(25)), LONDON), "2026-03-29 12:00:00 BST");
    assert_eq!(after(&london, TEST_START, SignedDuration::ZERO), TEST_START);
    assert_eq!(after(&london, Timestamp::MAX, hours(1)), Timestamp::MAX);
    assert_eq!(after(&london, Timestamp::MAX, hours(24)), Timestamp::MAX);
}

#[test]
fn again_in_a_day_at_two_keeps_two_oclock_over_dst_changes() {
    let day = SignedDuration::from_hours(24);
    let two = Some(hm(14, 0));
    let london = zone(LONDON);
    // The no-answer outcome comes in a little after the 14:00 call.
    let cases = [
        (LONDON, &london, "2026-03-28 14:00:40", "2026-03-29 14:00:00 BST"),
        (LONDON, &london, "2026-10-24 14:00:40", "2026-10-25 14:00:00 GMT"),
    ];
    for (name, zone, from, expected) in cases {
        assert_eq!(show(again(zone, at(from, name), day, two), name), expected, "{from}");
    }
    let new_york = zone(NEW_YORK);
    assert_eq!(show(again(&new_york, at("2026-03-07 14:00", NEW_YORK), day, two), NEW_YORK), "2026-03-08 14:00:00 EDT");
    assert_eq!(show(again(&new_york, at("2026-10-31 14:00", NEW_YORK), day, two), NEW_YORK), "2026-11-01 14:00:00 EST");
    assert_eq!(again(&new_york, at("2026-10-31 14:00", NEW_YORK), day, two), utc("2026-11-01 19:00"));
}

#[test]
fn again_without_a_time_or_within_the_day() {
    let london = zone(LONDON);
    let from = at("2026-11-24 14:00", LONDON);
    assert_eq!(again(&london, from, SignedDuration::from_hours(2), None), at("2026-11-24 16:00", LONDON));
    assert_eq!(again(&london, from, SignedDuration::from_hours(48), Some(hm(10, 0))), at("2026-11-26 10:00", LONDON));
    // `again in 2h at 09:00` at 14:00: today's 09:00 is gone, so tomorrow's.
    assert_eq!(again(&london, from, SignedDuration::from_hours(2), Some(hm(9, 0))), at("2026-11-25 09:00", LONDON));
    assert_eq!(again(&london, from, SignedDuration::from_hours(2), Some(hm(17, 0))), at("2026-11-24 17:00", LONDON));
}

#[test]
fn quiet_hours_hold_calls_and_sms_but_never_email() {
    let london = zone(LONDON);
    let night = at("2026-11-24 02:00", LONDON);
    assert_eq!(hold(&london, EVENINGS, night, false), night);
    assert_eq!(show(hold(&london, EVENINGS, night, true), LONDON), "2026-11-24 08:00:00 GMT");
    assert_eq!(hold(&london, Quiet::NONE, night, true), night);
    let day = at("2026-11-24 11:00", LONDON);
    assert_eq!(hold(&london, EVENINGS, day, true), day);
}

/// `retry web_inquiry` from the sample contact center, step by step.
#[test]
fn a_2am_enquiry_email_now_sms_at_11_call_at_2_again_tomorrow() {
    let london = zone(LONDON);
    let created = at("2026-11-24 02:00", LONDON);
    // immediately send email: not held by quiet 21:00-08:00
    let email = hold(&london, EVENINGS, created, false);
    // at 11:00 send sms
    let sms = hold(&london, EVENINGS, next_at(&london, email, hm(11, 0)), true);
    // at 14:00 call
    let call = hold(&london, EVENINGS, next_at(&london, sms, hm(14, 0)), true);
    // on no_answer: again in 1d at 14:00
    let retry = hold(&london, EVENINGS, again(&london, call, SignedDuration::from_hours(24), Some(hm(14, 0))), true);
    let timeline: Vec<String> = [email, sms, call, retry].into_iter().map(|t| show(t, LONDON)).collect();
    assert_eq!(
        timeline,
        ["2026-11-24 02:00:00 GMT", "2026-11-24 11:00:00 GMT", "2026-11-24 14:00:00 GMT", "2026-11-25 14:00:00 GMT"]
    );
    // Had the first step been an SMS, it would have waited for 08:00.
    assert_eq!(show(hold(&london, EVENINGS, created, true), LONDON), "2026-11-24 08:00:00 GMT");
}

// ---------------------------------------------------------------------------------------------
// Timers

#[test]
fn timers_fire_by_due_time_then_scheduling_order() {
    let mut timers = InMemoryTimers::new();
    let noon = utc("2026-01-05 12:00");
    let later = utc("2026-01-05 12:05");
    let c = timers.schedule(later, "c");
    let a = timers.schedule(noon, "a");
    let b = timers.schedule(noon, "b");
    let d = timers.schedule(utc("2026-01-05 13:00"), "d");
    assert_eq!(timers.next_due(), Some(noon));
    assert_eq!(timers.pop_due(utc("2026-01-05 11:59")), vec![]);
    assert_eq!(timers.pop_due(later), vec![(a, "a"), (b, "b"), (c, "c")]);
    assert_eq!(timers.next_due(), Some(utc("2026-01-05 13:00")));
    assert_eq!(timers.len(), 1);
    assert_eq!(timers.pop_due(Timestamp::MAX), vec![(d, "d")]);
    assert_eq!(timers.next_due(), None);
    assert!(timers.is_empty());
}

#[test]
fn cancelled_timers_never_fire() {
    let mut timers = InMemoryTimers::new();
    let first = timers.schedule(utc("2026-01-05 12:00"), 1);
    let second = timers.schedule(utc("2026-01-05 12:01"), 2);
    assert!(timers.cancel(first));
    assert!(!timers.cancel(first));
    assert!(!timers.cancel(TimerId(99)));
    assert_eq!(timers.next_due(), Some(utc("2026-01-05 12:01")));
    assert_eq!(timers.pop_due(Timestamp::MAX), vec![(second, 2)]);
    assert!(!timers.cancel(second), "a fired timer cannot be cancelled");
}

#[test]
fn timers_survive_serialization() {
    let mut timers = InMemoryTimers::new();
    let due = utc("2026-01-05 12:00");
    timers.schedule(utc("2026-01-05 12:30"), "later".to_string());
    let cancelled = timers.schedule(due, "cancelled".to_string());
    let first = timers.schedule(due, "first".to_string());
    timers.cancel(cancelled);
    let json = serde_json::to_string(&timers).unwrap();
    let mut back: InMemoryTimers<String> = serde_json::from_str(&json).unwrap();
    assert_eq!(back.next_due(), Some(due));
    assert_eq!(back.get(first).map(|p| p.timer.as_str()), Some("first"));
    let order: Vec<&str> = back.iter().map(|(_, p)| p.timer.as_str()).collect();
    assert_eq!(order, ["first", "later"]);
    // Ids are never reused, even for a cancelled timer.
    let fresh = back.schedule(due, "fresh".to_string());
    assert!(fresh > first && fresh != cancelled);
    let fired: Vec<String> = back.pop_due(Timestamp::MAX).into_iter().map(|(_, t)| t).collect();
    assert_eq!(fired, ["first", "fresh", "later"]);
    let postcard = postcard::to_stdvec(&timers).unwrap();
    let back: InMemoryTimers<String> = postcard::from_bytes(&postcard).unwrap();
    assert_eq!(back.len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Parsing

#[test]
fn parse_local_reads_dates_and_times_in_a_zone() {
    assert_eq!(parse_local("2026-11-23 10:00", LONDON), Ok(utc("2026-11-23 10:00")));
    assert_eq!(parse_local("2026-06-23 10:00:30", LONDON), Ok(utc("2026-06-23 09:00:30")));
    assert_eq!(parse_local("  2026-06-23   10:00 ", NEW_YORK), Ok(utc("2026-06-23 14:00")));
    assert_eq!(parse_local("2026-10-25 01:30", LONDON), Ok(utc("2026-10-25 00:30")));
    assert_eq!(parse_local("2026-03-29 01:30", LONDON), Ok(utc("2026-03-29 01:00")));
}

#[test]
fn parse_errors_say_what_was_expected() {
    let cases = [
        ("2026-11-23", LONDON, "expected a date and time like `2026-11-23 10:00`, found `2026-11-23`"),
        (
            "2026-11-23 10:00 extra",
            LONDON,
            "expected a date and time like `2026-11-23 10:00`, found `2026-11-23 10:00 extra`",
        ),
        ("10:00 2026-11-23", LONDON, "expected a date like `2026-11-23`, found `10:00`"),
        ("2026-2-3 10:00", LONDON, "expected a date like `2026-11-23`, found `2026-2-3`"),
        ("2026-02-30 10:00", LONDON, "`2026-02-30` is not a date"),
        ("2026-11-23 25:00", LONDON, "`25:00` is not a time of day"),
        ("2026-11-23 10:60", LONDON, "`10:60` is not a time of day"),
        ("2026-11-23 10h", LONDON, "expected a time like `10:00` or `10:00:30`, found `10h`"),
        ("2026-11-23 +1:00", LONDON, "expected a time like `10:00` or `10:00:30`, found `+1:00`"),
        ("2026-11-23 10:00", "Mars/Base", "unknown time zone `Mars/Base`"),
        ("9999-12-31 23:00", NEW_YORK, "`9999-12-31 23:00` is outside the supported range of years"),
    ];
    for (text, zone, error) in cases {
        assert_eq!(parse_local(text, zone), Err(error.to_string()), "{text}");
    }
}

#[test]
fn parse_at_takes_an_optional_zone() {
    let london = parse_at("2026-11-23 10:00 Europe/London").unwrap();
    assert_eq!(london.timestamp(), utc("2026-11-23 10:00"));
    assert_eq!(london.time_zone().iana_name(), Some(LONDON));
    let quoted = parse_at("2026-06-23 10:00 \"Europe/London\"").unwrap();
    assert_eq!(quoted.timestamp(), utc("2026-06-23 09:00"));
    let bare = parse_at("2026-06-23 10:00:05").unwrap();
    assert_eq!((bare.timestamp(), bare.time_zone().clone()), (utc("2026-06-23 10:00:05"), TimeZone::UTC));
    assert_eq!(parse_at("2026-06-23 10:00 Europe/Lundon").unwrap_err(), "unknown time zone `Europe/Lundon`");
    assert_eq!(
        parse_at("tomorrow").unwrap_err(),
        "expected a date and time like `2026-11-23 10:00`, optionally followed by a time zone like `Europe/London`, found `tomorrow`"
    );
}
