//! A report as a table for people, as CSV (one line per row, every figure a column, times
//! in seconds and shares from 0 to 1, empty for none) or as JSON.

use super::{By, Figures, Report, Row};
use std::fmt::Write;

/// The columns of the CSV after the row's own: each figure, named as in JSON.
const FIGURES: [&str; 29] = [
    "contacts",
    "offered",
    "answered",
    "abandoned",
    "abandon_mean_seconds",
    "abandon_p90_seconds",
    "waiting",
    "overflowed",
    "target_percent",
    "target_seconds",
    "sl_abandons_excluded",
    "sl_abandons_met",
    "sl_abandons_against",
    "asa_seconds",
    "aht_seconds",
    "talk_seconds",
    "hold_seconds",
    "wrap_up_seconds",
    "transfers",
    "fcr",
    "fcr_contacts",
    "csat",
    "csat_responses",
    "nps",
    "nps_responses",
    "ces",
    "ces_responses",
    "qa_score",
    "qa_reviews",
];

impl Report {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes")
    }

    /// The row's own columns: interval, what it is for, segment.
    fn head(&self) -> Vec<&'static str> {
        let mut head = Vec::new();
        if self.interval.is_some() {
            head.push("interval");
        }
        match self.by {
            By::Queue => head.extend(["queue", "channel"]),
            By::Channel => head.push("channel"),
            By::Flow => head.push("flow"),
            By::Waypoint => head.push("waypoint"),
            By::Agent => head.push("agent"),
        }
        if self.segment.is_some() {
            head.push("segment");
        }
        head
    }

    fn words(&self, row: &Row) -> Vec<String> {
        let word = |w: &Option<String>| w.clone().unwrap_or_default();
        let mut words = Vec::new();
        if self.interval.is_some() {
            words.push(word(&row.interval));
        }
        match self.by {
            By::Queue => words.extend([word(&row.queue), word(&row.channel)]),
            By::Channel => words.push(word(&row.channel)),
            By::Flow => words.push(word(&row.flow)),
            By::Waypoint => words.push(word(&row.waypoint)),
            By::Agent => words.push(word(&row.agent)),
        }
        if self.segment.is_some() {
            words.push(word(&row.segment));
        }
        words
    }

    /// CSV with a header line.
    pub fn to_csv(&self) -> String {
        let mut out = csv::Writer::from_writer(Vec::new());
        let names: Vec<&str> = self.head().into_iter().chain(FIGURES).collect();
        let _ = out.write_record(&names);
        for row in &self.rows {
            let f = &row.figures;
            let n = |v: f64| format!("{v}");
            let opt = |v: Option<f64>| v.map(n).unwrap_or_default();
            let int = |v: u64| v.to_string();
            let cells: Vec<String> = self
                .words(row)
                .into_iter()
                .chain([
                    int(f.contacts),
                    int(f.offered),
                    int(f.answered),
                    f.abandoned.map(int).unwrap_or_default(),
                    opt(f.abandon_mean_seconds),
                    opt(f.abandon_p90_seconds),
                    int(f.waiting),
                    int(f.overflowed),
                    f.target.map(|t| t.percent.to_string()).unwrap_or_default(),
                    f.target.map(|t| n(t.within_ms as f64 / 1000.0)).unwrap_or_default(),
                    opt(f.sl_abandons_excluded),
                    opt(f.sl_abandons_met),
                    opt(f.sl_abandons_against),
                    opt(f.asa_seconds),
                    opt(f.aht_seconds),
                    opt(f.talk_seconds),
                    opt(f.hold_seconds),
                    opt(f.wrap_up_seconds),
                    int(f.transfers),
                    opt(f.fcr),
                    int(f.fcr_contacts),
                    opt(f.csat),
                    int(f.csat_responses),
                    opt(f.nps),
                    int(f.nps_responses),
                    opt(f.ces),
                    int(f.ces_responses),
                    opt(f.qa_score),
                    int(f.qa_reviews),
                ])
                .collect();
            let _ = out.write_record(&cells);
        }
        String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// A table for people, with a line saying what it covers and what the three service
    /// levels are.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let by = match self.by {
            By::Queue => "queue and channel",
            By::Channel => "channel",
            By::Flow => "flow",
            By::Waypoint => "waypoint",
            By::Agent => "agent",
        };
        let period = match (&self.from, &self.to) {
            (None, None) => "everything in the store".to_string(),
            (Some(from), None) => format!("from {from}"),
            (None, Some(to)) => format!("until {to}"),
            (Some(from), Some(to)) => format!("from {from} until {to}"),
        };
        let segment = self.segment.as_ref().map(|s| format!(", split by {s}")).unwrap_or_default();
        let _ = writeln!(out, "contacts by {by}{segment}, {period}; FCR within {}", seconds(self.fcr_window_seconds));
        let _ = writeln!(
            out,
            "SL excl: abandons excluded (as /metrics); SL met: abandons within the target as met (as Amazon \
             Connect counts); SL against: abandons after the target against (as routing and simulate)"
        );
        out.push('\n');
        let by_queue = self.by == By::Queue;
        let mut header: Vec<&str> = self.head();
        header.extend(["contacts", "offered", "answered", "abandoned", "abandon mean/p90", "waiting"]);
        if by_queue {
            header.extend(["overflowed", "target"]);
        }
        header.extend([
            "SL excl",
            "SL met",
            "SL against",
            "ASA",
            "AHT",
            "talk",
            "hold",
            "wrap-up",
            "transfers",
            "FCR",
            "CSAT",
            "NPS",
            "CES",
        ]);
        let by_agent = self.by == By::Agent;
        if by_agent {
            header.push("QA");
        }
        let mut align = "l".repeat(self.head().len());
        align.push_str(&"r".repeat(header.len() - align.len()));
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| {
                let f: &Figures = &row.figures;
                let mut cells = self.words(row);
                let abandon = match (f.abandon_mean_seconds, f.abandon_p90_seconds) {
                    (Some(mean), Some(p90)) => format!("{}/{}", seconds(mean), seconds(p90)),
                    _ => "-".to_string(),
                };
                cells.extend([
                    f.contacts.to_string(),
                    f.offered.to_string(),
                    f.answered.to_string(),
                    f.abandoned.map_or("-".to_string(), |n| n.to_string()),
                    abandon,
                    f.waiting.to_string(),
                ]);
                if by_queue {
                    cells.push(f.overflowed.to_string());
                    cells.push(f.target.map_or("-".to_string(), |t| {
                        format!("{}% in {}", t.percent, seconds(t.within_ms as f64 / 1000.0))
                    }));
                }
                let pct = |v: Option<f64>| v.map_or("-".to_string(), percent);
                let secs = |v: Option<f64>| v.map_or("-".to_string(), seconds);
                let counted = |v: Option<f64>, n: u64, show: &dyn Fn(f64) -> String| match v {
                    Some(v) => format!("{} ({n})", show(v)),
                    None => "-".to_string(),
                };
                cells.extend([
                    pct(f.sl_abandons_excluded),
                    pct(f.sl_abandons_met),
                    pct(f.sl_abandons_against),
                    secs(f.asa_seconds),
                    secs(f.aht_seconds),
                    secs(f.talk_seconds),
                    secs(f.hold_seconds),
                    secs(f.wrap_up_seconds),
                    f.transfers.to_string(),
                    counted(f.fcr, f.fcr_contacts, &percent),
                    counted(f.csat, f.csat_responses, &percent),
                    counted(f.nps, f.nps_responses, &|v| format!("{v:+.0}")),
                    counted(f.ces, f.ces_responses, &|v| format!("{v:.2}")),
                ]);
                if by_agent {
                    cells.push(counted(f.qa_score, f.qa_reviews, &|v| format!("{v:.1}")));
                }
                cells
            })
            .collect();
        if rows.is_empty() {
            out.push_str("no contacts in the period\n");
        } else {
            out.push_str(&table(&header, &align, &rows));
        }
        out
    }
}

/// Columns padded to their widest cell; `align` has `l` or `r` for each column.
fn table(header: &[&str], align: &str, rows: &[Vec<String>]) -> String {
    let align: Vec<char> = align.chars().collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            if i > 0 {
                text.push_str("  ");
            }
            if align[i] == 'r' {
                text.push_str(&" ".repeat(pad));
                text.push_str(cell);
            } else {
                text.push_str(cell);
                text.push_str(&" ".repeat(pad));
            }
        }
        text.truncate(text.trim_end().len());
        text.push('\n');
        text
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

fn percent(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

/// `12.3s`, `4m05s`, `2h03m`.
pub(super) fn seconds(s: f64) -> String {
    if s < 60.0 && s.fract() == 0.0 {
        format!("{s}s")
    } else if s < 60.0 {
        format!("{s:.1}s")
    } else if s < 3600.0 {
        let whole = s.round() as u64;
        format!("{}m{:02}s", whole / 60, whole % 60)
    } else {
        let minutes = (s / 60.0).round() as u64;
        format!("{}h{:02}m", minutes / 60, minutes % 60)
    }
}
