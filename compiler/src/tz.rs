//! Time-zone names, checked against the IANA database bundled into the binary (never the
//! host's copy: the compiler reads no files, and a check must not depend on the machine).

use std::sync::LazyLock;

static DB: LazyLock<jiff::tz::TimeZoneDatabase> = LazyLock::new(jiff::tz::TimeZoneDatabase::bundled);

static NAMES: LazyLock<Vec<String>> = LazyLock::new(|| DB.available().map(|n| n.as_str().to_string()).collect());

/// Whether `name` is a time zone of the bundled database.
pub fn exists(name: &str) -> bool {
    !name.is_empty() && DB.get(name).is_ok()
}

/// The time zone called `name`, from the bundled database.
pub fn get(name: &str) -> Option<jiff::tz::TimeZone> {
    DB.get(name).ok()
}

/// The closest known name, for "did you mean".
pub fn closest(name: &str) -> Option<&'static str> {
    // The longest zone name has 32 characters: a far longer name misspells none, and
    // comparing it with every zone would take time in proportion to its length.
    if name.len() > 64 {
        return None;
    }
    let lower = name.to_ascii_lowercase().replace(' ', "_");
    if let Some(exact) = NAMES.iter().find(|n| n.to_ascii_lowercase() == lower) {
        return Some(exact);
    }
    NAMES
        .iter()
        .map(|n| (strsim::jaro_winkler(&lower, &n.to_ascii_lowercase()), n))
        .filter(|(score, _)| *score > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n.as_str())
}
