//! Staffing maths: how many agents a queue needs to meet its service level (Erlang C, and
//! Erlang A when callers hang up), the command-line spellings of the inputs, and the
//! rendering of the answer as text or JSON.
//!
//! Everything here is a pure function of its inputs: no clock, no I/O.
//!
//! # The models
//!
//! Both models assume Poisson arrivals at rate λ, exponential handling times with mean
//! AHT (μ = 1/AHT), `n` identical agents and one first-come-first-served queue. The
//! offered traffic is A = λ·AHT Erlangs.
//!
//! **Erlang C (M/M/n)**: nobody hangs up. P(wait) is computed from the Erlang B
//! recurrence B(0) = 1, B(k) = A·B(k−1) / (k + A·B(k−1)) and C = n·B / (n − A·(1 − B)),
//! so no power or factorial is ever formed and 100 000 Erlangs are as safe as 10. Then
//! service level = 1 − C·e^(−(n−A)·t/AHT), ASA = C·AHT / (n − A), occupancy = A/n.
//!
//! **Erlang A (M/M/n+M, Palm)**: each waiting caller hangs up after an exponential patience
//! with mean `patience` (θ = 1/patience). We use the birth–death steady state, summed in
//! log space and truncated once the remaining queue probabilities are below 1e-15 of the
//! sum (a geometric bound, since the ratios of successive queue probabilities decrease). For
//! a caller who arrives to find `j` callers waiting, with a = nμ/θ:
//!
//! * it is answered with probability a / (a + j + 1) (a product of competing exponentials
//!   that telescopes), otherwise it abandons;
//! * it is answered within `t` with probability a / (a + j + 1) · I_x(j + 1, a + 1), where
//!   x = 1 − e^(−θt) and I is the regularized incomplete beta function: the time to reach
//!   an agent, given that it is answered, is a sum of exponentials with rates θ(a+1), …,
//!   θ(a+j+1), i.e. an order statistic of exponentials. I_x(j+1, a+1) is evaluated as
//!   1 − (negative-binomial CDF), whose terms follow a one-step recurrence;
//! * its expected wait, given that it is answered, is Σ_{i=1}^{j+1} 1/(θ(a+i)).
//!
//! Summing these against the steady state (PASTA) gives P(wait), P(abandon), the service
//! level and the ASA. This is the same model as Garnett, Mandelbaum & Reiman (2002),
//! "Designing a call center with impatient customers", whose closed forms use incomplete
//! gamma functions of the same quantities.
//!
//! The figures mean, for both models:
//!
//! * `service_level`: the share of *all offered* contacts answered within the target time
//!   (a contact that hangs up counts as a miss);
//! * `probability_of_waiting`: the share of contacts that find every agent busy;
//! * `asa_seconds`: the mean wait of the contacts that are answered;
//! * `occupancy`: the share of agent time spent handling contacts, A·(1 − abandonment)/n;
//! * `abandonment` (Erlang A only): the share of contacts that hang up before an answer.

use serde::Serialize;
use std::fmt;

/// The largest team the search will consider.
pub const MAX_AGENTS: u32 = 1_000_000;

/// Erlang A sums the queue distribution up to this many waiting contacts at most; a queue
/// that would be longer is reported as overloaded.
const MAX_QUEUE: usize = 10_000_000;

/// The Erlang A queue distribution is truncated once the rest is below this share of it.
const TAIL: f64 = 1e-15;

/// Targets are met within this margin, so that a figure that equals its target in exact
/// arithmetic (85% occupancy with 17 Erlangs on 20 agents) is not lost to rounding dust.
const SLACK: f64 = 1e-9;

/// Contacts arriving per interval, as a forecast states them: `100/30m`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Rate {
    pub contacts: f64,
    pub interval_seconds: f64,
}

impl Rate {
    pub fn per_second(self) -> f64 {
        self.contacts / self.interval_seconds
    }
}

/// What a queue must achieve: `fraction` of contacts answered within `within_seconds`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ServiceTarget {
    pub fraction: f64,
    pub within_seconds: f64,
}

/// One staffing question: the forecast for one interval and what it must achieve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StaffingRequest {
    pub rate: Rate,
    /// Average handling time.
    pub aht_seconds: f64,
    pub target: ServiceTarget,
    /// Share of paid time agents are not on the phones (breaks, training): 0.3 for 30%.
    pub shrinkage: Option<f64>,
    /// The busiest agents may be, as a share of their time: 0.85 for 85%.
    pub max_occupancy: Option<f64>,
    /// Mean time a caller waits before hanging up. Given, it selects Erlang A.
    pub patience_seconds: Option<f64>,
}

impl StaffingRequest {
    pub fn new(rate: Rate, aht_seconds: f64, target: ServiceTarget) -> StaffingRequest {
        StaffingRequest { rate, aht_seconds, target, shrinkage: None, max_occupancy: None, patience_seconds: None }
    }

    /// The offered traffic in Erlangs: contacts × AHT / interval.
    pub fn traffic_erlangs(&self) -> f64 {
        self.rate.contacts * self.aht_seconds / self.rate.interval_seconds
    }

    fn validate(&self) -> Result<(), StaffingError> {
        let positive = |value: f64| value.is_finite() && value > 0.0;
        if !positive(self.rate.contacts) || !positive(self.rate.interval_seconds) {
            return Err(StaffingError::new("rate must be more than zero contacts per interval"));
        }
        if !positive(self.aht_seconds) {
            return Err(StaffingError::new("aht must be longer than zero"));
        }
        let target = self.target;
        if !(target.fraction > 0.0 && target.fraction < 1.0) {
            return Err(StaffingError::new("target must be above 0% and below 100%"));
        }
        if !(target.within_seconds.is_finite() && target.within_seconds >= 0.0) {
            return Err(StaffingError::new("target time must not be negative"));
        }
        if self.shrinkage.is_some_and(|s| !(0.0..1.0).contains(&s)) {
            return Err(StaffingError::new("shrinkage must be at least 0% and below 100%"));
        }
        if self.max_occupancy.is_some_and(|m| !(m > 0.0 && m <= 1.0)) {
            return Err(StaffingError::new("max occupancy must be above 0% and at most 100%"));
        }
        if self.patience_seconds.is_some_and(|p| !positive(p)) {
            return Err(StaffingError::new("patience must be longer than zero"));
        }
        if self.traffic_erlangs() >= f64::from(MAX_AGENTS) {
            return Err(too_many_agents());
        }
        Ok(())
    }

    fn is_met_by(&self, performance: &Performance) -> bool {
        performance.service_level >= self.target.fraction - SLACK
            && self.max_occupancy.is_none_or(|max| performance.occupancy <= max + SLACK)
    }
}

/// How a queue performs with a given number of agents. See the module documentation for
/// what each figure means.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Performance {
    pub service_level: f64,
    pub probability_of_waiting: f64,
    pub asa_seconds: f64,
    pub occupancy: f64,
    /// Present for Erlang A only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abandonment: Option<f64>,
}

/// The answer to a staffing question.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Staffing {
    /// Agents on the phones: the fewest that meet the target and the occupancy cap.
    pub agents: u32,
    /// Agents to put on the schedule so that, after shrinkage, `agents` are on the phones.
    pub agents_scheduled: u32,
    #[serde(flatten)]
    pub performance: Performance,
}

/// Why a staffing question has no answer: an input out of range or unreadable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffingError {
    message: String,
}

impl StaffingError {
    fn new(message: impl Into<String>) -> StaffingError {
        StaffingError { message: message.into() }
    }
}

impl fmt::Display for StaffingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StaffingError {}

fn too_many_agents() -> StaffingError {
    StaffingError::new(format!("this workload needs more than {MAX_AGENTS} agents"))
}

/// The fewest agents that meet the request's service level and occupancy cap, with the
/// queue's performance at that staffing. Erlang A when the request gives a patience,
/// Erlang C otherwise.
pub fn staff(request: &StaffingRequest) -> Result<Staffing, StaffingError> {
    request.validate()?;
    let (agents, performance) = match request.patience_seconds {
        None => staff_erlang_c(request)?,
        Some(patience) => staff_erlang_a(request, patience)?,
    };
    let agents_scheduled = scheduled(agents, request.shrinkage.unwrap_or(0.0));
    Ok(Staffing { agents, agents_scheduled, performance })
}

/// How the queue of `request` performs with `agents` agents (its own staffing answer
/// aside). With too few agents for the queue to settle (Erlang C with agents ≤ traffic,
/// or no agents at all), nobody is answered in time: service level 0, ASA infinite.
pub fn performance(request: &StaffingRequest, agents: u32) -> Performance {
    match request.patience_seconds {
        None => erlang_c_performance(request, agents, erlang_b(agents, request.traffic_erlangs())),
        Some(patience) => erlang_a_performance(request, agents, patience),
    }
}

/// Erlang B: the probability that a contact finds all `agents` busy in a system without a
/// queue, offered `traffic` Erlangs. By the recurrence B(k) = A·B(k−1) / (k + A·B(k−1)).
pub fn erlang_b(agents: u32, traffic: f64) -> f64 {
    (1..=agents).fold(1.0, |b, k| traffic * b / (f64::from(k) + traffic * b))
}

/// Erlang C: the probability that a contact waits, with `agents` agents offered `traffic`
/// Erlangs. 1 when agents ≤ traffic: the queue then grows without bound.
pub fn erlang_c(agents: u32, traffic: f64) -> f64 {
    let n = f64::from(agents);
    if n <= traffic {
        return 1.0;
    }
    let b = erlang_b(agents, traffic);
    n * b / (n - traffic * (1.0 - b))
}

/// Agents to schedule so that `agents` remain after `shrinkage`: ⌈agents / (1 − shrinkage)⌉.
/// A quotient within rounding dust of a whole number (14 / 0.7) is that number.
fn scheduled(agents: u32, shrinkage: f64) -> u32 {
    let exact = f64::from(agents) / (1.0 - shrinkage);
    let nearest = exact.round();
    let whole = if (exact - nearest).abs() <= SLACK * nearest.max(1.0) { nearest } else { exact.ceil() };
    // Saturating: a float-to-int `as` cast clamps to u32::MAX.
    whole as u32
}

/// Saturated queue figures: nobody is answered within any target.
fn overloaded(abandonment: Option<f64>) -> Performance {
    Performance {
        service_level: 0.0,
        probability_of_waiting: 1.0,
        asa_seconds: f64::INFINITY,
        occupancy: 1.0,
        abandonment,
    }
}

/// Erlang C figures for `agents` agents, given B = Erlang B for them.
fn erlang_c_performance(request: &StaffingRequest, agents: u32, b: f64) -> Performance {
    let n = f64::from(agents);
    let traffic = request.traffic_erlangs();
    if n <= traffic {
        return overloaded(None);
    }
    let c = n * b / (n - traffic * (1.0 - b));
    let spare = n - traffic;
    Performance {
        service_level: 1.0 - c * (-spare * request.target.within_seconds / request.aht_seconds).exp(),
        probability_of_waiting: c,
        asa_seconds: c * request.aht_seconds / spare,
        occupancy: traffic / n,
        abandonment: None,
    }
}

/// Erlang C needs more agents than traffic; from there each further agent is one step of the
/// Erlang B recurrence, and the first count that meets the request is the answer.
fn staff_erlang_c(request: &StaffingRequest) -> Result<(u32, Performance), StaffingError> {
    let traffic = request.traffic_erlangs();
    // `validate` keeps traffic below MAX_AGENTS, so this fits.
    let mut agents = traffic.floor() as u32 + 1;
    let mut b = erlang_b(agents, traffic);
    loop {
        let performance = erlang_c_performance(request, agents, b);
        if request.is_met_by(&performance) {
            return Ok((agents, performance));
        }
        if agents >= MAX_AGENTS {
            return Err(too_many_agents());
        }
        agents += 1;
        b = traffic * b / (f64::from(agents) + traffic * b);
    }
}

/// Erlang A can meet a target with fewer agents than traffic (callers who hang up take
/// their work with them), so the search starts from one agent. Service level rises and
/// occupancy falls with each agent, so the fewest that work are found by doubling until
/// one count works, then bisecting.
fn staff_erlang_a(request: &StaffingRequest, patience: f64) -> Result<(u32, Performance), StaffingError> {
    let works = |agents: u32| {
        let performance = erlang_a_performance(request, agents, patience);
        request.is_met_by(&performance).then_some(performance)
    };
    // Zero agents answer nobody.
    let mut failing = 0;
    let mut candidate = (request.traffic_erlangs().ceil() as u32).max(1);
    let mut best = loop {
        if let Some(performance) = works(candidate) {
            break (candidate, performance);
        }
        if candidate >= MAX_AGENTS {
            return Err(too_many_agents());
        }
        failing = candidate;
        candidate = candidate.saturating_mul(2).min(MAX_AGENTS);
    };
    while best.0 - failing > 1 {
        let middle = failing + (best.0 - failing) / 2;
        match works(middle) {
            Some(performance) => best = (middle, performance),
            None => failing = middle,
        }
    }
    Ok(best)
}

/// Sums over the steady-state queue, each weighted by the probability that an arriving
/// contact finds that many waiting, relative to a common scale.
#[derive(Default)]
struct QueueSums {
    /// Arrivals that find every agent busy.
    waiting: f64,
    /// … that hang up.
    abandoning: f64,
    /// … that are not answered within the target time.
    missing: f64,
    /// … times their wait, when answered.
    answered_wait: f64,
}

impl QueueSums {
    fn rescale(&mut self, factor: f64) {
        self.waiting *= factor;
        self.abandoning *= factor;
        self.missing *= factor;
        self.answered_wait *= factor;
    }
}

/// Erlang A figures for `agents` agents; see the module documentation for the method.
fn erlang_a_performance(request: &StaffingRequest, agents: u32, patience: f64) -> Performance {
    if agents == 0 {
        return overloaded(Some(1.0));
    }
    let n = f64::from(agents);
    let traffic = request.traffic_erlangs();
    let within = request.target.within_seconds;
    // a = nμ/θ and r = λ/θ: service and arrival rates in units of the abandonment rate.
    let a = n * patience / request.aht_seconds;
    let ln_r = (request.rate.per_second() * patience).ln();
    let ln_x = (-(-within / patience).exp_m1()).ln();
    // P(fewer than n in the system) / P(exactly n): the Erlang B normalisation.
    let below = 1.0 / erlang_b(agents, traffic) - 1.0;

    let mut sums = QueueSums::default();
    // Every weight and sum is relative to e^scale, the largest weight so far.
    let mut scale = 0.0;
    // ln of the weight of "j waiting", relative to "all agents busy, none waiting".
    let mut ln_weight: f64 = 0.0;
    // ln of the j-th negative-binomial term, and the running CDF: 1 − I_x(j + 1, a + 1).
    let mut ln_term = -(a + 1.0) * within / patience;
    let mut not_within = 0.0;
    // Σ 1/(a + i) for i = 1..=j+1: the expected wait in units of patience, when answered.
    let mut harmonic = 0.0;
    let mut settled = false;
    for j in 0..MAX_QUEUE {
        let j = j as f64;
        if j > 0.0 {
            ln_weight += ln_r - (a + j).ln();
            ln_term += ln_x + (a + j).ln() - j.ln();
        }
        not_within = (not_within + ln_term.exp()).min(1.0);
        harmonic += 1.0 / (a + j + 1.0);
        if ln_weight > scale {
            sums.rescale((scale - ln_weight).exp());
            scale = ln_weight;
        }
        let weight = (ln_weight - scale).exp();
        let answered = a / (a + j + 1.0);
        sums.waiting += weight;
        sums.abandoning += weight * (j + 1.0) / (a + j + 1.0);
        sums.missing += weight * (1.0 - answered * (1.0 - not_within));
        sums.answered_wait += weight * answered * harmonic * patience;
        // The ratio of the next weight to this one; later ratios are smaller still.
        let ratio = (ln_r - (a + j + 1.0).ln()).exp();
        if ratio < 1.0 && weight * ratio / (1.0 - ratio) <= TAIL * sums.waiting {
            settled = true;
            break;
        }
    }
    if !settled {
        // Fluid approximation: in heavy overload the agents carry n Erlangs, the rest hangs up.
        return overloaded(Some((1.0 - n / traffic).clamp(0.0, 1.0)));
    }
    // `below` is infinite only when Erlang B underflows, i.e. agents far exceed traffic;
    // then scale is 0 and every share below comes out 0, as it should.
    let total = below * (-scale).exp() + sums.waiting;
    let abandonment = sums.abandoning / total;
    let answered = 1.0 - abandonment;
    Performance {
        service_level: 1.0 - sums.missing / total,
        probability_of_waiting: sums.waiting / total,
        asa_seconds: sums.answered_wait / total / answered,
        occupancy: traffic * answered / n,
        abandonment: Some(abandonment),
    }
}

// ---------------------------------------------------------------------------------------
// Command-line spellings

/// A plain decimal number: digits with at most one point. No signs, exponents or `inf`.
fn parse_number(text: &str) -> Option<f64> {
    let plain = !text.is_empty()
        && text.chars().all(|c| c.is_ascii_digit() || c == '.')
        && text.chars().filter(|&c| c == '.').count() <= 1
        && text != ".";
    if plain {
        text.parse().ok()
    } else {
        None
    }
}

/// A duration such as `30s`, `5m`, `2h`, `1d` or `1.5h`, in seconds.
pub fn parse_duration(text: &str) -> Option<f64> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let seconds = match unit {
        's' => 1.0,
        'm' => 60.0,
        'h' => 3600.0,
        'd' => 86_400.0,
        _ => return None,
    };
    parse_number(&text[..text.len() - 1]).map(|number| number * seconds)
}

/// A percentage such as `80%` or `12.5%`, as a fraction.
pub fn parse_percent(text: &str) -> Option<f64> {
    parse_number(text.trim().strip_suffix('%')?).map(|percent| percent / 100.0)
}

/// `--rate 100/30m`: contacts per interval.
pub fn parse_rate(text: &str) -> Result<Rate, StaffingError> {
    let shape = || StaffingError::new(format!("rate must look like 100/30m (contacts per interval), not `{text}`"));
    let (contacts, interval) = text.split_once('/').ok_or_else(shape)?;
    let contacts = parse_number(contacts.trim()).ok_or_else(shape)?;
    let interval_seconds = parse_duration(interval).ok_or_else(shape)?;
    if contacts <= 0.0 {
        return Err(StaffingError::new("rate must be more than zero contacts per interval"));
    }
    if interval_seconds <= 0.0 {
        return Err(StaffingError::new("the rate's interval must be longer than zero"));
    }
    Ok(Rate { contacts, interval_seconds })
}

/// `--aht 180s`: average handling time, in seconds.
pub fn parse_aht(text: &str) -> Result<f64, StaffingError> {
    match parse_duration(text) {
        Some(seconds) if seconds > 0.0 => Ok(seconds),
        Some(_) => Err(StaffingError::new("aht must be longer than zero")),
        None => Err(StaffingError::new(format!("aht must be a duration like 180s or 3m, not `{text}`"))),
    }
}

/// `--target 80%/20s`: the share of contacts to answer within a time.
pub fn parse_target(text: &str) -> Result<ServiceTarget, StaffingError> {
    let shape =
        || StaffingError::new(format!("target must look like 80%/20s (share answered within a time), not `{text}`"));
    let (share, within) = text.split_once('/').ok_or_else(shape)?;
    let fraction = parse_percent(share).ok_or_else(shape)?;
    let within_seconds = parse_duration(within).ok_or_else(shape)?;
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(StaffingError::new(format!("target must be above 0% and below 100%, not {}", share.trim())));
    }
    Ok(ServiceTarget { fraction, within_seconds })
}

/// `--shrinkage 30%`: the share of paid time agents are off the phones.
pub fn parse_shrinkage(text: &str) -> Result<f64, StaffingError> {
    match parse_percent(text) {
        Some(fraction) if fraction < 1.0 => Ok(fraction),
        Some(_) => Err(StaffingError::new(format!("shrinkage must be below 100%, not {}", text.trim()))),
        None => Err(StaffingError::new(format!("shrinkage must be a percentage like 30%, not `{text}`"))),
    }
}

/// `--max-occupancy 85%`: the busiest agents may be.
pub fn parse_max_occupancy(text: &str) -> Result<f64, StaffingError> {
    match parse_percent(text) {
        Some(fraction) if fraction > 0.0 && fraction <= 1.0 => Ok(fraction),
        Some(_) => {
            Err(StaffingError::new(format!("max occupancy must be above 0% and at most 100%, not {}", text.trim())))
        }
        None => Err(StaffingError::new(format!("max occupancy must be a percentage like 85%, not `{text}`"))),
    }
}

/// `--patience 60s`: how long callers wait, on average, before hanging up.
pub fn parse_patience(text: &str) -> Result<f64, StaffingError> {
    match parse_duration(text) {
        Some(seconds) if seconds > 0.0 => Ok(seconds),
        Some(_) => Err(StaffingError::new("patience must be longer than zero")),
        None => Err(StaffingError::new(format!("patience must be a duration like 60s or 2m, not `{text}`"))),
    }
}

// ---------------------------------------------------------------------------------------
// Rendering

/// The answer as one line of JSON:
/// `{"agents":N,"agents_scheduled":N,"service_level":x,"probability_of_waiting":x,"asa_seconds":x,"occupancy":x}`,
/// with `"abandonment":x` at the end for Erlang A. An infinite ASA prints as `null`.
pub fn render_json(staffing: &Staffing) -> String {
    serde_json::to_string(staffing).expect("a struct of numbers always serializes")
}

/// The answer as text for a person, with the question it answers.
pub fn render_text(request: &StaffingRequest, staffing: &Staffing) -> String {
    let performance = &staffing.performance;
    let model = if request.patience_seconds.is_some() { "Erlang A" } else { "Erlang C" };
    let mut lines = vec![
        format!(
            "traffic             {:.2} Erlangs ({} contacts per {}, {} average handling time, {model})",
            request.traffic_erlangs(),
            format_number(request.rate.contacts),
            format_duration(request.rate.interval_seconds),
            format_duration(request.aht_seconds),
        ),
        format!("agents              {}", staffing.agents),
    ];
    if let Some(shrinkage) = request.shrinkage {
        lines.push(format!(
            "agents to schedule  {} (after {} shrinkage)",
            staffing.agents_scheduled,
            percent(shrinkage)
        ));
    }
    lines.push(format!(
        "service level       {} answered within {} (target {})",
        percent(performance.service_level),
        format_duration(request.target.within_seconds),
        percent(request.target.fraction),
    ));
    lines.push(format!("chance of waiting   {}", percent(performance.probability_of_waiting)));
    lines.push(format!("average answer      {} (ASA)", format_seconds(performance.asa_seconds)));
    let cap = request.max_occupancy.map(|max| format!(" (at most {})", percent(max))).unwrap_or_default();
    lines.push(format!("occupancy           {}{cap}", percent(performance.occupancy)));
    if let (Some(abandonment), Some(patience)) = (performance.abandonment, request.patience_seconds) {
        lines.push(format!(
            "abandonment         {} (callers wait {} on average before hanging up)",
            percent(abandonment),
            format_duration(patience)
        ));
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

fn percent(fraction: f64) -> String {
    format!("{}%", format_number(((fraction * 1000.0).round() / 10.0).max(0.0)))
}

fn format_seconds(seconds: f64) -> String {
    if seconds.is_finite() {
        format!("{seconds:.1}s")
    } else {
        "never".to_string()
    }
}

/// A number without trailing zeros: `100`, `12.5`.
fn format_number(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Seconds in the largest unit that divides them: `30m`, `20s`, `1.5h` stays `90m`.
fn format_duration(seconds: f64) -> String {
    for (unit, size) in [("d", 86_400.0), ("h", 3600.0), ("m", 60.0)] {
        if seconds >= size && (seconds / size).fract() == 0.0 {
            return format!("{}{unit}", format_number(seconds / size));
        }
    }
    format!("{}s", format_number(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(rate: &str, aht: &str, target: &str) -> StaffingRequest {
        StaffingRequest::new(parse_rate(rate).unwrap(), parse_aht(aht).unwrap(), parse_target(target).unwrap())
    }

    #[track_caller]
    fn close(actual: f64, expected: f64, tolerance: f64) {
        assert!((actual - expected).abs() <= tolerance, "expected {expected} ± {tolerance}, got {actual}");
    }

    /// The answer is the fewest agents: one fewer must fail the request.
    #[track_caller]
    fn fewest(request: &StaffingRequest, staffing: &Staffing) {
        let fewer = performance(request, staffing.agents - 1);
        assert!(!request.is_met_by(&fewer), "{} agents would do: {fewer:?}", staffing.agents - 1);
        assert_eq!(performance(request, staffing.agents), staffing.performance);
    }

    // Worked example: "Erlang C Formula – Made Simple With an Easy Worked Example",
    // callcentrehelper.com. 100 calls per 30 minutes, AHT 180 s, 80% answered in 20 s,
    // 30% shrinkage, 85% maximum occupancy: traffic 10 Erlangs, 14 agents, P(wait) 17.41%,
    // occupancy 71.4%, 14 / (1 − 0.3) = 20 agents to schedule.
    // Service level and ASA cross-checked in exact rational arithmetic (Python `fractions`):
    // SL = 1 − 0.174132·e^(−4·20/180) = 0.888350, ASA = 0.174132·180/4 = 7.8359 s.
    #[test]
    fn callcentrehelper_worked_example() {
        let mut request = request("100/30m", "180s", "80%/20s");
        request.shrinkage = Some(parse_shrinkage("30%").unwrap());
        request.max_occupancy = Some(parse_max_occupancy("85%").unwrap());
        close(request.traffic_erlangs(), 10.0, 1e-12);
        let staffing = staff(&request).unwrap();
        assert_eq!(staffing.agents, 14);
        assert_eq!(staffing.agents_scheduled, 20);
        let p = staffing.performance;
        close(p.probability_of_waiting, 0.174_131_933_595_05, 1e-12);
        close(p.service_level, 0.888_350_019_179_47, 1e-12);
        close(p.asa_seconds, 7.835_937_011_777_24, 1e-10);
        close(p.occupancy, 10.0 / 14.0, 1e-15);
        assert_eq!(p.abandonment, None);
        fewest(&request, &staffing);
        // 13 agents: P(wait) 0.285270, SL 0.795595 — just short of 80%.
        let thirteen = performance(&request, 13);
        close(thirteen.probability_of_waiting, 0.285_270_453_036_49, 1e-12);
        close(thirteen.service_level, 0.795_594_788_417_78, 1e-12);
    }

    // The same workload with the occupancy cap at 70%: 14 agents would be 71.4% busy, so
    // the cap, not the service level, sets the answer: 15 agents (SL 0.941453, ASA 3.6735 s,
    // cross-checked in exact rational arithmetic).
    #[test]
    fn max_occupancy_can_decide() {
        let mut request = request("100/30m", "3m", "80%/20s");
        request.max_occupancy = Some(0.70);
        let staffing = staff(&request).unwrap();
        assert_eq!(staffing.agents, 15);
        assert_eq!(staffing.agents_scheduled, 15);
        close(staffing.performance.occupancy, 10.0 / 15.0, 1e-15);
        close(staffing.performance.service_level, 0.941_452_842_869_00, 1e-12);
        close(staffing.performance.asa_seconds, 3.673_525_212_287_57, 1e-10);
        // An occupancy exactly at its cap is allowed: 17 Erlangs on 20 agents is 85%.
        let mut exact = self::request("340/1h", "180s", "50%/20s");
        exact.max_occupancy = Some(0.85);
        assert_eq!(staff(&exact).unwrap().agents, 20);
    }

    // Worked example: "The Erlang-C Formula" (Mitan Ltd / Westbay Engineering traffic
    // pages): 360 calls per half hour, 4-minute calls, 55 agents, 15 s target: traffic 48
    // Erlangs, occupancy 87.3%. Figures cross-checked in exact rational arithmetic:
    // P(wait) 0.238701, SL 0.845883 (of calls answered within 15 s), ASA 8.1840 s; and 55 is
    // also the fewest agents for an 80%-in-15 s target.
    #[test]
    fn mitan_worked_example() {
        let request = request("360/30m", "4m", "80%/15s");
        close(request.traffic_erlangs(), 48.0, 1e-12);
        let at_55 = performance(&request, 55);
        close(at_55.occupancy, 48.0 / 55.0, 1e-15);
        close(at_55.probability_of_waiting, 0.238_700_936_378_01, 1e-12);
        close(at_55.service_level, 0.845_883_092_170_58, 1e-12);
        close(at_55.asa_seconds, 8.184_032_104_388_89, 1e-10);
        let staffing = staff(&request).unwrap();
        assert_eq!(staffing.agents, 55);
        fewest(&request, &staffing);
    }

    // Large traffic, where factorials would overflow f64 after 170 agents. 10 000 calls per
    // 30 minutes at 180 s is 1 000 Erlangs. Cross-checked two ways: exact rational arithmetic
    // and a log-space sum of A^k/k! via lgamma: 1 011 agents, P(wait) 0.632109, SL 0.813797,
    // ASA 10.3436 s; for 90% in 10 s, 1 023 agents with SL 0.900014 (a 1.4e-5 margin).
    // 100 000 Erlangs (log-space sum): 100 014 agents, P(wait) 0.945670, SL 0.800396.
    #[test]
    fn large_traffic_is_stable() {
        let request = request("10000/30m", "180s", "80%/20s");
        let staffing = staff(&request).unwrap();
        assert_eq!(staffing.agents, 1011);
        close(staffing.performance.probability_of_waiting, 0.632_109_174_689_9, 1e-9);
        close(staffing.performance.service_level, 0.813_796_548_392_5, 1e-9);
        close(staffing.performance.asa_seconds, 10.343_604_676_74, 1e-7);
        fewest(&request, &staffing);

        let strict = self::request("10000/30m", "180s", "90%/10s");
        let staffing = staff(&strict).unwrap();
        assert_eq!(staffing.agents, 1023);
        close(staffing.performance.service_level, 0.900_013_974_898_8, 1e-9);
        fewest(&strict, &staffing);

        let huge = self::request("1000000/30m", "180s", "80%/20s");
        let staffing = staff(&huge).unwrap();
        assert_eq!(staffing.agents, 100_014);
        close(staffing.performance.probability_of_waiting, 0.945_669_777_396, 1e-8);
        close(staffing.performance.service_level, 0.800_395_505_724, 1e-8);
        fewest(&huge, &staffing);
    }

    // Erlang B and C against a table value: B(10 agents, 10 Erlangs) = 0.214582 (the
    // classic Erlang B table entry 0.2146), and C = n·B / (n − A(1 − B)).
    #[test]
    fn erlang_b_and_c() {
        close(erlang_b(10, 10.0), 0.214_582_343_107_35, 1e-12);
        close(erlang_b(0, 10.0), 1.0, 0.0);
        close(erlang_c(14, 10.0), 0.174_131_933_595_05, 1e-12);
        assert_eq!(erlang_c(10, 10.0), 1.0);
        // Far more agents than traffic: B underflows to 0 and nothing breaks.
        assert_eq!(erlang_c(2000, 10.0), 0.0);
        let calm = performance(&request("100/30m", "180s", "80%/20s"), 2000);
        assert_eq!((calm.service_level, calm.asa_seconds), (1.0, 0.0));
    }

    #[test]
    fn too_few_agents_for_erlang_c() {
        let request = request("100/30m", "180s", "80%/20s");
        let p = performance(&request, 10);
        assert_eq!((p.service_level, p.probability_of_waiting, p.occupancy), (0.0, 1.0, 1.0));
        assert!(p.asa_seconds.is_infinite());
    }

    #[test]
    fn shrinkage_rounds_up_but_not_for_rounding_dust() {
        assert_eq!(scheduled(14, 0.3), 20);
        assert_eq!(scheduled(14, 0.25), 19);
        assert_eq!(scheduled(14, 0.0), 14);
        assert_eq!(scheduled(1011, 0.35), 1556);
    }

    // Erlang A at 14 agents for the callcentrehelper workload with 60 s mean patience.
    // Cross-checked against an independent Python model: the same birth–death steady state,
    // but each queue position's chance of an answer within 20 s found by uniformizing the
    // caller's own Markov chain (no incomplete-beta identity), and the ASA by integrating
    // P(answered, wait > s) over s. Both agree to 1e-13. A discrete-event simulation of
    // 1.35 million calls gave P(wait) 0.1119, abandonment 0.0303, SL 0.9437, ASA 1.41 s.
    #[test]
    fn erlang_a_figures() {
        let mut request = request("100/30m", "180s", "80%/20s");
        request.patience_seconds = Some(parse_patience("60s").unwrap());
        let p = performance(&request, 14);
        close(p.probability_of_waiting, 0.111_527_340_716_234, 1e-10);
        close(p.abandonment.unwrap(), 0.030_321_837_312_992, 1e-10);
        close(p.service_level, 0.943_776_107_339_79, 1e-10);
        close(p.asa_seconds, 1.408_290_551_892_4, 1e-8);
        close(p.occupancy, 10.0 * (1.0 - 0.030_321_837_312_992) / 14.0, 1e-10);

        // 12 agents, 120 s patience (simulation: P(wait) 0.2821, abandonment 0.0620, SL 0.8242).
        request.patience_seconds = Some(120.0);
        let p = performance(&request, 12);
        close(p.probability_of_waiting, 0.279_807_018_645_444, 1e-10);
        close(p.abandonment.unwrap(), 0.061_597_377_003_680, 1e-10);
        close(p.service_level, 0.825_582_644_361_76, 1e-10);
        close(p.asa_seconds, 6.334_774_172_819, 1e-7);
    }

    // Staffing with Erlang A, same references. With 60 s patience 12 agents reach 80% in 20 s
    // (SL 0.860301, abandonment 7.59%); 11 give 0.796523. Callers who hang up take their
    // work with them, so a lenient target can be met with fewer agents than Erlangs: 50% in
    // 20 s with 30 s patience needs 7 agents for 10 Erlangs (SL 0.531616, abandonment 36.9%).
    #[test]
    fn erlang_a_staffing() {
        let mut request = request("100/30m", "180s", "80%/20s");
        request.patience_seconds = Some(60.0);
        let staffing = staff(&request).unwrap();
        assert_eq!(staffing.agents, 12);
        close(staffing.performance.service_level, 0.860_300_659_647_69, 1e-10);
        close(staffing.performance.abandonment.unwrap(), 0.075_901_796_933_45, 1e-10);
        fewest(&request, &staffing);
        close(performance(&request, 11).service_level, 0.796_522_711_476_59, 1e-10);

        let mut lenient = self::request("100/30m", "180s", "50%/20s");
        lenient.patience_seconds = Some(30.0);
        let staffing = staff(&lenient).unwrap();
        assert_eq!(staffing.agents, 7);
        close(staffing.performance.service_level, 0.531_615_841_530_47, 1e-10);
        close(staffing.performance.abandonment.unwrap(), 0.369_218_544_372_82, 1e-10);
        fewest(&lenient, &staffing);
    }

    // 1 000 Erlangs with 120 s patience: 892 agents meet 80% in 20 s (SL 0.804697, abandonment
    // 10.80%), 891 give 0.799477 — the overloaded, efficiency-driven regime. Uniformization
    // reference as above.
    #[test]
    fn erlang_a_large_traffic() {
        let mut request = request("10000/30m", "180s", "80%/20s");
        request.patience_seconds = Some(120.0);
        let staffing = staff(&request).unwrap();
        assert_eq!(staffing.agents, 892);
        close(staffing.performance.service_level, 0.804_697_461_141, 1e-9);
        close(staffing.performance.abandonment.unwrap(), 0.108_018_103_572, 1e-9);
        fewest(&request, &staffing);
        close(performance(&request, 891).service_level, 0.799_476_740_838, 1e-9);
    }

    #[test]
    fn abandonment_shortens_waiting() {
        let patient = request("100/30m", "180s", "80%/20s");
        let erlang_c = performance(&patient, 14);
        let mut previous = erlang_c.probability_of_waiting;
        for patience in [600.0, 120.0, 60.0, 10.0] {
            let mut impatient = patient;
            impatient.patience_seconds = Some(patience);
            let p = performance(&impatient, 14);
            assert!(p.probability_of_waiting < previous, "patience {patience}: {p:?}");
            assert!(p.asa_seconds < erlang_c.asa_seconds);
            previous = p.probability_of_waiting;
        }
    }

    // As patience grows without bound, Erlang A becomes Erlang C. With 10⁷ s of patience the
    // independent reference gives P(wait) 0.174130, SL 0.888352, abandonment 7.8e-7.
    #[test]
    fn endless_patience_approaches_erlang_c() {
        let patient = request("100/30m", "180s", "80%/20s");
        let c = performance(&patient, 14);
        let mut impatient = patient;
        impatient.patience_seconds = Some(1e7);
        let a = performance(&impatient, 14);
        close(a.probability_of_waiting, c.probability_of_waiting, 1e-5);
        close(a.service_level, c.service_level, 1e-5);
        close(a.asa_seconds, c.asa_seconds, 1e-3);
        close(a.occupancy, c.occupancy, 1e-5);
        close(a.abandonment.unwrap(), 7.835_652_655_5e-7, 1e-12);
        assert_eq!(staff(&impatient).unwrap().agents, 14);
    }

    // Light, heavy and overloaded queues alike: every share stays a share, a caller who hangs
    // up is never counted as answered in time, and the ASA stays finite.
    #[test]
    fn erlang_a_answers_stay_in_range() {
        for (rate, patience, agents) in
            [("100/30m", 5.0, 3), ("100/30m", 600.0, 9), ("50/1h", 30.0, 1), ("10000/30m", 90.0, 700)]
        {
            let mut request = request(rate, "180s", "80%/20s");
            request.patience_seconds = Some(patience);
            let p = performance(&request, agents);
            let abandonment = p.abandonment.unwrap();
            for share in [p.service_level, p.probability_of_waiting, p.occupancy, abandonment] {
                assert!((0.0..=1.0).contains(&share), "{rate} {patience} {agents}: {p:?}");
            }
            assert!(p.service_level <= 1.0 - abandonment + 1e-12);
            assert!(p.asa_seconds.is_finite());
        }
    }

    #[test]
    fn zero_second_target_is_answered_at_once() {
        let request = request("100/30m", "180s", "80%/0s");
        let p = performance(&request, 14);
        close(p.service_level, 1.0 - p.probability_of_waiting, 1e-15);
        let mut impatient = request;
        impatient.patience_seconds = Some(60.0);
        let p = performance(&impatient, 14);
        close(p.service_level, 1.0 - p.probability_of_waiting, 1e-12);
    }

    #[test]
    fn parses_the_cli_spellings() {
        assert_eq!(parse_rate("100/30m"), Ok(Rate { contacts: 100.0, interval_seconds: 1800.0 }));
        assert_eq!(parse_rate(" 12.5 / 1h "), Ok(Rate { contacts: 12.5, interval_seconds: 3600.0 }));
        assert_eq!(parse_rate("2400/1d").unwrap().interval_seconds, 86_400.0);
        assert_eq!(parse_aht("180s"), Ok(180.0));
        assert_eq!(parse_aht("1.5m"), Ok(90.0));
        assert_eq!(parse_target("80%/20s"), Ok(ServiceTarget { fraction: 0.8, within_seconds: 20.0 }));
        assert_eq!(parse_shrinkage("30%"), Ok(0.3));
        assert_eq!(parse_shrinkage("0%"), Ok(0.0));
        assert_eq!(parse_max_occupancy("85%"), Ok(0.85));
        assert_eq!(parse_max_occupancy("100%"), Ok(1.0));
        assert_eq!(parse_patience("2m"), Ok(120.0));
        assert_eq!(parse_duration("2h"), Some(7200.0));
    }

    #[test]
    fn bad_cli_spellings_say_what_they_should_look_like() {
        let message = |result: Result<f64, StaffingError>| result.unwrap_err().to_string();
        assert_eq!(
            parse_rate("100 per 30m").unwrap_err().to_string(),
            "rate must look like 100/30m (contacts per interval), not `100 per 30m`"
        );
        assert!(parse_rate("100/30").unwrap_err().to_string().starts_with("rate must look like 100/30m"));
        assert!(parse_rate("-5/30m").unwrap_err().to_string().starts_with("rate must look like 100/30m"));
        assert!(parse_rate("1e3/30m").is_err());
        assert!(parse_rate("inf/30m").is_err());
        assert_eq!(parse_rate("0/30m").unwrap_err().to_string(), "rate must be more than zero contacts per interval");
        assert_eq!(parse_rate("10/0m").unwrap_err().to_string(), "the rate's interval must be longer than zero");
        assert_eq!(message(parse_aht("3 minutes")), "aht must be a duration like 180s or 3m, not `3 minutes`");
        assert_eq!(message(parse_aht("0s")), "aht must be longer than zero");
        assert_eq!(
            parse_target("80/20s").unwrap_err().to_string(),
            "target must look like 80%/20s (share answered within a time), not `80/20s`"
        );
        assert_eq!(
            parse_target("100%/20s").unwrap_err().to_string(),
            "target must be above 0% and below 100%, not 100%"
        );
        assert_eq!(message(parse_shrinkage("30")), "shrinkage must be a percentage like 30%, not `30`");
        assert_eq!(message(parse_shrinkage("100%")), "shrinkage must be below 100%, not 100%");
        assert_eq!(message(parse_max_occupancy("0%")), "max occupancy must be above 0% and at most 100%, not 0%");
        assert_eq!(message(parse_max_occupancy("120%")), "max occupancy must be above 0% and at most 100%, not 120%");
        assert_eq!(message(parse_patience("soon")), "patience must be a duration like 60s or 2m, not `soon`");
        assert_eq!(parse_duration("5w"), None);
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration(".s"), None);
        assert_eq!(parse_percent("1.2.3%"), None);
    }

    #[test]
    fn staff_rejects_requests_built_by_hand() {
        let good = request("100/30m", "180s", "80%/20s");
        let mut bad = good;
        bad.aht_seconds = f64::NAN;
        assert_eq!(staff(&bad).unwrap_err().to_string(), "aht must be longer than zero");
        let mut bad = good;
        bad.shrinkage = Some(1.0);
        assert_eq!(staff(&bad).unwrap_err().to_string(), "shrinkage must be at least 0% and below 100%");
        let mut bad = good;
        bad.rate.contacts = 1e9;
        assert_eq!(staff(&bad).unwrap_err().to_string(), "this workload needs more than 1000000 agents");
    }

    #[test]
    fn json_has_exactly_the_documented_fields() {
        let mut staffing = Staffing {
            agents: 14,
            agents_scheduled: 20,
            performance: Performance {
                service_level: 0.875,
                probability_of_waiting: 0.25,
                asa_seconds: 7.5,
                occupancy: 0.5,
                abandonment: None,
            },
        };
        assert_eq!(
            render_json(&staffing),
            r#"{"agents":14,"agents_scheduled":20,"service_level":0.875,"probability_of_waiting":0.25,"asa_seconds":7.5,"occupancy":0.5}"#
        );
        staffing.performance.abandonment = Some(0.125);
        assert_eq!(
            render_json(&staffing),
            r#"{"agents":14,"agents_scheduled":20,"service_level":0.875,"probability_of_waiting":0.25,"asa_seconds":7.5,"occupancy":0.5,"abandonment":0.125}"#
        );
    }

    #[test]
    fn text_for_the_worked_example() {
        let mut request = request("100/30m", "180s", "80%/20s");
        request.shrinkage = Some(0.3);
        request.max_occupancy = Some(0.85);
        let staffing = staff(&request).unwrap();
        assert_eq!(
            render_text(&request, &staffing),
            "\
traffic             10.00 Erlangs (100 contacts per 30m, 3m average handling time, Erlang C)
agents              14
agents to schedule  20 (after 30% shrinkage)
service level       88.8% answered within 20s (target 80%)
chance of waiting   17.4%
average answer      7.8s (ASA)
occupancy           71.4% (at most 85%)
"
        );
        request.patience_seconds = Some(60.0);
        let staffing = staff(&request).unwrap();
        let text = render_text(&request, &staffing);
        assert!(text.contains("Erlang A"), "{text}");
        assert!(text.contains("agents              12\n"), "{text}");
        assert!(text.contains("abandonment         7.6% (callers wait 1m on average before hanging up)"), "{text}");
    }
}
