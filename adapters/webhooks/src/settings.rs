//! The worker's typed settings (timeouts, the retry schedule, the claim lease, how often to look
//! for work) and the retry schedule itself: exponential backoff with jitter. The binary fills
//! the settings from its configuration; this crate never reads the environment.

use std::time::Duration;

use jiff::SignedDuration;
use rand::Rng;

use crate::egress::EgressPolicy;
use crate::error::WebhookError;

/// The most attempts a subscription may ask for on one entry.
pub const MAX_ATTEMPTS_LIMIT: u32 = 100;

#[derive(Debug, Clone, PartialEq)]
pub struct WebhookSettings {
    /// How long one delivery (connect, send, wait for the status line) may take.
    pub request_timeout: Duration,
    /// The delay after the first failed attempt on an entry.
    pub backoff_base: Duration,
    /// The delay never grows past this (before jitter).
    pub backoff_cap: Duration,
    /// Each delay is spread by up to this fraction either way (0.2 = ±20%), so receivers that
    /// come back after an outage are not hit by every subscription in the same second.
    pub jitter: f64,
    /// Attempts per entry before it is dead-lettered, for subscriptions that do not say.
    pub default_max_attempts: u32,
    /// How long a worker's claim on a subscription lasts. It must outlast a whole delivery
    /// step (the request timeout plus database round trips): a claim that expires while its
    /// holder is still working lets another instance deliver the same entry concurrently.
    /// It only matters when a worker dies mid-delivery: then the subscription waits this long.
    pub lease: Duration,
    /// How often `run` looks at the database even when nothing woke it, so that entries
    /// sequenced by other instances and expired claims are noticed.
    pub poll_interval: Duration,
    /// How many ledger entries a step reads at once while looking for the next entry its
    /// subscription's filter wants. Progress past unwanted entries is written after each batch.
    pub scan_batch: usize,
    /// Where deliveries may go: every public address, and the internal hosts and networks the
    /// operator allows (none by default).
    pub egress: EgressPolicy,
    /// The most active subscriptions one token may make: each entry fans out once per
    /// subscription, so one integration must not multiply every delivery.
    pub max_subscriptions_per_token: usize,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(10),
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(600),
            jitter: 0.2,
            default_max_attempts: 8,
            lease: Duration::from_secs(120),
            poll_interval: Duration::from_secs(2),
            scan_batch: 500,
            egress: EgressPolicy::default(),
            max_subscriptions_per_token: 10,
        }
    }
}

impl WebhookSettings {
    pub(crate) fn validate(&self) -> Result<(), WebhookError> {
        let invalid = |reason: &str| Err(WebhookError::InvalidSettings(reason.to_owned()));
        if self.request_timeout.is_zero() {
            return invalid("the request timeout must be positive");
        }
        if self.backoff_base.is_zero() {
            return invalid("the backoff base must be positive");
        }
        if self.backoff_cap < self.backoff_base {
            return invalid("the backoff cap must not be below the backoff base");
        }
        // Beyond what a timestamp can sensibly be moved by; also keeps the arithmetic exact.
        if self.backoff_cap > Duration::from_secs(30 * 24 * 3600) {
            return invalid("the backoff cap must be at most 30 days");
        }
        if !(0.0..1.0).contains(&self.jitter) {
            return invalid("the jitter must be a fraction from 0 up to (not including) 1");
        }
        if self.default_max_attempts == 0 || self.default_max_attempts > MAX_ATTEMPTS_LIMIT {
            return invalid("the default max attempts must be between 1 and 100");
        }
        if self.lease <= self.request_timeout {
            return invalid("the claim lease must be longer than the request timeout");
        }
        if self.lease > Duration::from_secs(24 * 3600) {
            return invalid("the claim lease must be at most a day");
        }
        if self.max_subscriptions_per_token == 0 {
            return invalid("a token must be allowed at least one subscription");
        }
        if self.poll_interval.is_zero() {
            return invalid("the poll interval must be positive");
        }
        if self.scan_batch == 0 || self.scan_batch > 10_000 {
            return invalid("the scan batch must be between 1 and 10000 entries");
        }
        Ok(())
    }

    /// The delay before the next attempt after `failed_attempts` (≥ 1) failures on one entry:
    /// `base · 2^(failed_attempts − 1)`, capped, then spread by the jitter. The jitter comes after
    /// the cap so that receivers at the cap are still spread out.
    pub fn backoff(&self, failed_attempts: u32) -> SignedDuration {
        let factor = 1.0 + self.jitter * rand::thread_rng().gen_range(-1.0..=1.0);
        self.backoff_with(failed_attempts, factor)
    }

    /// [`Self::backoff`] with the jitter factor given (1.0 is no jitter).
    pub(crate) fn backoff_with(&self, failed_attempts: u32, factor: f64) -> SignedDuration {
        // 2^31 seconds is far past any cap, so stopping the doubling there loses nothing.
        let doublings = failed_attempts.saturating_sub(1).min(31);
        let unjittered = self
            .backoff_base
            .saturating_mul(1u32 << doublings)
            .min(self.backoff_cap);
        let seconds = unjittered.as_secs_f64() * factor;
        // Whole milliseconds: timestamps are stored as text, and sub-millisecond noise in them
        // helps nobody.
        SignedDuration::from_millis((seconds * 1000.0).round().max(1.0) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> WebhookSettings {
        WebhookSettings {
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(600),
            ..WebhookSettings::default()
        }
    }

    #[test]
    fn delays_double_from_the_base_up_to_the_cap() {
        let settings = settings();
        let delays: Vec<i64> = (1..=12)
            .map(|attempt| settings.backoff_with(attempt, 1.0).as_secs())
            .collect();
        assert_eq!(
            delays,
            [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600],
            "doubling, then capped"
        );
        assert_eq!(settings.backoff_with(u32::MAX, 1.0).as_secs(), 600);
    }

    #[test]
    fn jitter_stays_within_its_fraction_and_varies() {
        let settings = settings();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let delay = settings.backoff(3).as_millis();
            assert!(
                (3_200..=4_800).contains(&delay),
                "{delay} ms is outside 4 s ± 20%"
            );
            seen.insert(delay);
        }
        assert!(seen.len() > 10, "the jitter spreads the delays: {seen:?}");
        for _ in 0..200 {
            let delay = settings.backoff(20).as_millis();
            assert!(
                (480_000..=720_000).contains(&delay),
                "{delay} ms is outside the cap ± 20%"
            );
        }
    }

    #[test]
    fn settings_are_checked() {
        assert!(WebhookSettings::default().validate().is_ok());
        let bad = [
            WebhookSettings {
                request_timeout: Duration::ZERO,
                ..WebhookSettings::default()
            },
            WebhookSettings {
                backoff_cap: Duration::from_millis(500),
                ..WebhookSettings::default()
            },
            WebhookSettings {
                jitter: 1.0,
                ..WebhookSettings::default()
            },
            WebhookSettings {
                jitter: f64::NAN,
                ..WebhookSettings::default()
            },
            WebhookSettings {
                default_max_attempts: 0,
                ..WebhookSettings::default()
            },
            WebhookSettings {
                lease: Duration::from_secs(10),
                ..WebhookSettings::default()
            },
        ];
        for settings in bad {
            assert!(
                matches!(settings.validate(), Err(WebhookError::InvalidSettings(_))),
                "{settings:?} was accepted"
            );
        }
    }
}
