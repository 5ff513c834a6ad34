//! What the publisher is told by the binary: where NATS is, which stream and subjects to use,
//! how long JetStream remembers message ids, and how hard to pipeline. Also the one place that
//! knows how a ledger entry's subject is spelled, and which subject names are acceptable.

use std::time::Duration;

use crate::error::NatsError;

/// The stream every ledger entry goes to unless configured otherwise.
pub const DEFAULT_STREAM: &str = "OBLIGED_EVENTS";
/// The first tokens of every subject unless configured otherwise.
pub const DEFAULT_SUBJECT_PREFIX: &str = "obliged.events";
/// How long JetStream remembers a `Nats-Msg-Id` when the publisher creates the stream. It has
/// to cover the time between a publish and the checkpoint write that follows it, and a restart
/// after a crash in between; anything re-published later than this is stored twice, which
/// consumers recognise by its position.
pub const DEFAULT_DUPLICATE_WINDOW: Duration = Duration::from_secs(10 * 60);
/// The shortest duplicate window JetStream accepts.
const MIN_DUPLICATE_WINDOW: Duration = Duration::from_millis(100);
/// How many publishes may await their acks at once.
pub const DEFAULT_IN_FLIGHT: usize = 128;
/// How many ledger entries one step reads and publishes at most.
pub const DEFAULT_BATCH: usize = 1_000;
/// How often the running publisher looks at the ledger when nothing woke it: commands run by
/// other processes move the head without this process hearing of it.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How long one JetStream API request or publish ack may take before it counts as failed.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything the publisher needs to know, already parsed and typed by the binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsSettings {
    /// The NATS server, for example `nats://127.0.0.1:4222`.
    pub url: String,
    /// The JetStream stream; created with [`NatsSettings::duplicate_window`] if missing.
    pub stream: String,
    /// Subjects are `<subject_prefix>.<complaint_id>.<EventType>`.
    pub subject_prefix: String,
    /// The stream's deduplication window, used only when the publisher creates the stream.
    pub duplicate_window: Duration,
    /// How many publishes may be awaiting their acks at once (at least 1; 1 means one round trip
    /// per entry).
    pub in_flight: usize,
    /// How many entries [`NatsPublisher::run`](crate::NatsPublisher::run) takes per step.
    pub batch: usize,
    /// How often [`NatsPublisher::run`](crate::NatsPublisher::run) looks at the ledger without
    /// being woken.
    pub poll_interval: Duration,
    /// How long a JetStream API request or a publish's ack may take before it counts as failed.
    /// While NATS is unreachable, this is how long a step waits before it gives up and backs
    /// off; what was acknowledged before stays checkpointed.
    pub request_timeout: Duration,
}

impl NatsSettings {
    /// The defaults for everything but the server's address.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            stream: DEFAULT_STREAM.to_owned(),
            subject_prefix: DEFAULT_SUBJECT_PREFIX.to_owned(),
            duplicate_window: DEFAULT_DUPLICATE_WINDOW,
            in_flight: DEFAULT_IN_FLIGHT,
            batch: DEFAULT_BATCH,
            poll_interval: DEFAULT_POLL_INTERVAL,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }

    /// The name of the publisher's checkpoint: one per stream, so that two streams fed from the
    /// same database each get every entry.
    pub fn checkpoint_name(&self) -> String {
        format!("nats:{}", self.stream)
    }

    /// Refuses settings that could only fail later, with a message naming the setting.
    pub fn validate(&self) -> Result<(), NatsError> {
        let invalid = |reason: String| Err(NatsError::InvalidSettings(reason));
        if self.stream.is_empty()
            || self.stream.chars().any(|character| {
                matches!(character, '.' | '*' | '>' | '/' | '\\') || character.is_whitespace()
            })
        {
            return invalid(format!(
                "stream name {:?} must be non-empty, without '.', '*', '>', slashes or whitespace",
                self.stream
            ));
        }
        if self.subject_prefix.is_empty() || !self.subject_prefix.split('.').all(is_literal_token) {
            return invalid(format!(
                "subject prefix {:?} must be dot-separated tokens without '*', '>' or whitespace",
                self.subject_prefix
            ));
        }
        if self.duplicate_window < MIN_DUPLICATE_WINDOW {
            return invalid(format!(
                "the duplicate window must be at least {} ms (JetStream's minimum)",
                MIN_DUPLICATE_WINDOW.as_millis()
            ));
        }
        if self.in_flight == 0 {
            return invalid("at least one publish must be allowed in flight".to_owned());
        }
        if self.batch == 0 {
            return invalid("the batch must hold at least one entry".to_owned());
        }
        if self.poll_interval.is_zero() {
            return invalid("the poll interval must be longer than zero".to_owned());
        }
        if self.request_timeout.is_zero() {
            return invalid("the request timeout must be longer than zero".to_owned());
        }
        Ok(())
    }

    /// The subject pattern the stream is created with: everything under the prefix.
    pub(crate) fn stream_subjects(&self) -> String {
        format!("{}.>", self.subject_prefix)
    }

    /// The subject of one ledger entry, or `None` if the complaint id or event type could not be
    /// a single subject token (they never contain dots or wildcards, but a subject that quietly
    /// meant something else would be worse than stopping).
    pub(crate) fn subject(&self, complaint_id: &str, event_type: &str) -> Option<String> {
        (is_literal_token(complaint_id) && is_literal_token(event_type))
            .then(|| format!("{}.{complaint_id}.{event_type}", self.subject_prefix))
    }
}

/// A subject token that matches only itself.
fn is_literal_token(token: &str) -> bool {
    !token.is_empty()
        && token
            .chars()
            .all(|character| !matches!(character, '.' | '*' | '>') && !character.is_whitespace())
}

/// Whether the stream subject `pattern` captures every subject `<prefix>.<token>.<token>`, so
/// that an existing stream configured by hand is known to receive what the publisher sends.
pub(crate) fn pattern_covers(pattern: &str, prefix: &str) -> bool {
    // Our subjects, with `None` for the two tokens that vary.
    let subject: Vec<Option<&str>> = prefix.split('.').map(Some).chain([None, None]).collect();
    let pattern: Vec<&str> = pattern.split('.').collect();
    for (index, token) in pattern.iter().enumerate() {
        match (*token, subject.get(index)) {
            // `>` matches one or more remaining tokens.
            (">", Some(_)) => return index + 1 == pattern.len(),
            ("*", Some(_)) => {}
            (literal, Some(Some(ours))) if literal == *ours => {}
            _ => return false,
        }
    }
    pattern.len() == subject.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_name_the_checkpoint_after_the_stream() {
        let settings = NatsSettings::new("nats://127.0.0.1:4222");
        settings.validate().expect("valid defaults");
        assert_eq!(settings.checkpoint_name(), "nats:OBLIGED_EVENTS");
        assert_eq!(settings.stream_subjects(), "obliged.events.>");
    }

    #[test]
    fn subjects_are_prefix_complaint_and_event_type() {
        let settings = NatsSettings::new("nats://localhost");
        assert_eq!(
            settings
                .subject("0192c1d2-0000-7000-8000-000000000001", "ComplaintFiled")
                .as_deref(),
            Some("obliged.events.0192c1d2-0000-7000-8000-000000000001.ComplaintFiled")
        );
        for (complaint_id, event_type) in [
            ("a.b", "T"),
            ("a", "*"),
            ("a", ">"),
            ("", "T"),
            ("a b", "T"),
        ] {
            assert_eq!(settings.subject(complaint_id, event_type), None);
        }
    }

    #[test]
    fn settings_that_cannot_work_are_refused() {
        let base = NatsSettings::new("nats://localhost");
        let mut variants = Vec::new();
        for stream in ["", "A.B", "A B", "A*", "A>"] {
            variants.push(NatsSettings {
                stream: stream.to_owned(),
                ..base.clone()
            });
        }
        for prefix in ["", ".a", "a.", "a..b", "a.*", "a.>", "a b"] {
            variants.push(NatsSettings {
                subject_prefix: prefix.to_owned(),
                ..base.clone()
            });
        }
        variants.push(NatsSettings {
            duplicate_window: Duration::ZERO,
            ..base.clone()
        });
        variants.push(NatsSettings {
            in_flight: 0,
            ..base.clone()
        });
        variants.push(NatsSettings {
            batch: 0,
            ..base.clone()
        });
        variants.push(NatsSettings {
            poll_interval: Duration::ZERO,
            ..base.clone()
        });
        variants.push(NatsSettings {
            request_timeout: Duration::ZERO,
            ..base.clone()
        });
        for settings in variants {
            assert!(
                matches!(settings.validate(), Err(NatsError::InvalidSettings(_))),
                "{settings:?} was accepted"
            );
        }
    }

    #[test]
    fn a_stream_pattern_covers_the_prefix_only_when_it_matches_every_subject_under_it() {
        for pattern in [
            "obliged.events.>",
            "obliged.>",
            ">",
            "obliged.*.*.*",
            "*.events.>",
            "obliged.events.*.*",
        ] {
            assert!(pattern_covers(pattern, "obliged.events"), "{pattern}");
        }
        for pattern in [
            "obliged.events",
            "obliged.events.*",
            "obliged.events.*.ComplaintFiled",
            "obliged.events.*.*.*",
            "other.>",
            "obliged.event.>",
            "obliged.events.x.>",
        ] {
            assert!(!pattern_covers(pattern, "obliged.events"), "{pattern}");
        }
    }
}
