//! Statistics per queue and channel: offered, answered, abandoned, speed of answer, service
//! level, and the recent handle times that expected wait is estimated from.

use super::config::Target;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Counts for one queue on one channel since the engine started.
///
/// Conventions: `offered` counts every contact that entered the queue, overflowing in
/// included. Waits are measured from the contact's original enqueue time, so a contact that
/// overflowed keeps the time it has waited. A contact is answered when its offer is accepted;
/// `abandoned_after_target` counts abandons that waited longer than the target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelStats {
    pub target: Option<Target>,
    pub offered: u64,
    pub answered: u64,
    pub answered_within_target: u64,
    pub abandoned: u64,
    pub abandoned_after_target: u64,
    pub overflowed_out: u64,
    /// Inbound contacts finished.
    pub handled: u64,
    /// Outbound work finished.
    pub outbound_handled: u64,
    pub total_answer_wait_ms: i64,
    /// Handle time: from accept to finish, plus wrap-up.
    pub total_handle_ms: i64,
    recent_handle_ms: VecDeque<i64>,
}

impl ChannelStats {
    pub(super) fn new(target: Option<Target>) -> ChannelStats {
        ChannelStats {
            target,
            offered: 0,
            answered: 0,
            answered_within_target: 0,
            abandoned: 0,
            abandoned_after_target: 0,
            overflowed_out: 0,
            handled: 0,
            outbound_handled: 0,
            total_answer_wait_ms: 0,
            total_handle_ms: 0,
            recent_handle_ms: VecDeque::new(),
        }
    }

    pub(super) fn record_answer(&mut self, waited_ms: i64) {
        self.answered += 1;
        self.total_answer_wait_ms += waited_ms;
        if self.target.is_some_and(|target| waited_ms <= target.within_ms) {
            self.answered_within_target += 1;
        }
    }

    pub(super) fn record_abandon(&mut self, waited_ms: i64) {
        self.abandoned += 1;
        if self.target.is_some_and(|target| waited_ms > target.within_ms) {
            self.abandoned_after_target += 1;
        }
    }

    pub(super) fn record_handle(&mut self, handle_ms: i64, window: usize) {
        self.handled += 1;
        self.total_handle_ms += handle_ms;
        if window == 0 {
            return;
        }
        if self.recent_handle_ms.len() == window {
            self.recent_handle_ms.pop_front();
        }
        self.recent_handle_ms.push_back(handle_ms);
    }

    /// Average speed of answer: mean wait of answered contacts.
    pub fn average_speed_of_answer_ms(&self) -> Option<f64> {
        (self.answered > 0).then(|| self.total_answer_wait_ms as f64 / self.answered as f64)
    }

    /// `answered_within_target / (answered + abandoned_after_target)`, from 0 to 1: short
    /// abandons (within the target) count neither for nor against. None without a target or
    /// before any contact counts.
    pub fn service_level(&self) -> Option<f64> {
        self.target?;
        let counted = self.answered + self.abandoned_after_target;
        (counted > 0).then(|| self.answered_within_target as f64 / counted as f64)
    }

    /// Mean handle time (accept to finish, plus wrap-up) over all handled contacts.
    pub fn average_handle_ms(&self) -> Option<f64> {
        (self.handled > 0).then(|| self.total_handle_ms as f64 / self.handled as f64)
    }

    /// Mean of the last few handle times (`Config::handle_window`).
    pub fn recent_handle_ms(&self) -> Option<f64> {
        let count = self.recent_handle_ms.len();
        (count > 0).then(|| self.recent_handle_ms.iter().sum::<i64>() as f64 / count as f64)
    }
}
