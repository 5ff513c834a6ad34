//! The scheduler of the promise clock: finds the ladder rungs that are due through the due scan
//! (`rm_due_rungs`, the next rung of every running ladder, indexed by due time) and reaches each
//! through the normal command path (`ReachRung`), so every reminder, broken promise and
//! escalation is an event in the complaint's history.
//!
//! Why this is safe and complete:
//! - **At most once.** The aggregate refuses a rung already reached (invariant 5), under the same
//!   optimistic concurrency as any command. Several schedulers (instances of `obliged serve`, an
//!   operator's `obliged clock tick`) may race for a rung; one appends, the others are refused
//!   and count it as skipped.
//! - **In order, nothing missed.** The due scan shows one row per ladder: its next rung. A tick
//!   reaches what is due, lets the projector catch up, and looks again, until nothing due is
//!   left; so a scheduler that was stopped for a week reaches every missed rung, each ladder in
//!   order, each stamped with when it was due and when it was noticed.
//! - **Work follows what is due.** Each pass reads the rows due by now, a range of an index on
//!   the due time; open promises that are not due are never read.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use jiff::Timestamp;
use obliged_domain::{ComplaintCommand, ComplaintError, StaffId, Subject};
use obliged_projections::{DueRungRow, ProjectionError, Projector, ReadModels};
use obliged_storage::{CommandRequest, Engine, EngineError};
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use uuid::Uuid;

/// The actor recorded on every rung the scheduler reaches.
pub const SCHEDULER_ACTOR: &str = "obliged-scheduler";

/// Rows read per pass of the due scan.
const BATCH: u32 = 1_000;
/// Complaints worked on at once; one complaint's rungs are reached one after the other.
const PARALLELISM: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error("reading the due scan: {0}")]
    Database(#[from] sqlx::Error),
    #[error("catching up the read models: {0}")]
    Projection(#[from] ProjectionError),
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
}

/// A rung reached by this tick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReachedRung {
    pub complaint_id: Uuid,
    pub subject: String,
    pub rung: u32,
    pub due_at: Timestamp,
    /// The ledger position of the `RungReached` event's command (its last event).
    pub position: Option<u64>,
}

/// What one tick did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tick {
    /// The moment the tick looked for due rungs.
    pub now: Option<Timestamp>,
    pub reached: Vec<ReachedRung>,
    /// Rungs another scheduler reached first, or whose subject was settled meanwhile.
    pub skipped: u32,
    /// Rungs that failed (logged); the next tick tries them again.
    pub failed: u32,
    /// Passes over the due scan.
    pub passes: u32,
}

#[derive(Clone)]
pub struct Scheduler {
    engine: Engine,
    projector: Arc<Projector>,
    read_models: ReadModels,
    actor: StaffId,
}

enum Outcome {
    Reached(ReachedRung),
    Skipped,
    Failed,
    Unavailable(String),
}

impl Scheduler {
    pub fn new(engine: Engine, projector: Arc<Projector>, read_models: ReadModels) -> Self {
        Self {
            engine,
            projector,
            read_models,
            actor: StaffId::parse(SCHEDULER_ACTOR).expect("a valid staff id"),
        }
    }

    /// The rungs due at `now`, without reaching them (after bringing the read models up to
    /// date).
    pub async fn due(&self, now: Timestamp, limit: u32) -> Result<Vec<DueRungRow>, SchedulerError> {
        self.projector.catch_up().await?;
        Ok(self.read_models.due_rungs(now, limit).await?)
    }

    /// Reaches every rung due by the engine clock's now, each ladder in order, until nothing due
    /// is left.
    pub async fn tick(&self) -> Result<Tick, SchedulerError> {
        let now = self.engine.now();
        let mut tick = Tick {
            now: Some(now),
            ..Tick::default()
        };
        let mut attempted: HashSet<(String, String, u32)> = HashSet::new();
        loop {
            self.projector.catch_up().await?;
            let rows = self.read_models.due_rungs(now, BATCH).await?;
            let fresh: Vec<DueRungRow> = rows
                .into_iter()
                .filter(|row| {
                    attempted.insert((row.complaint_id.clone(), row.subject.clone(), row.rung))
                })
                .collect();
            if fresh.is_empty() {
                return Ok(tick);
            }
            tick.passes += 1;
            self.reach_all(fresh, &mut tick).await?;
        }
    }

    /// Reaches `rows`, complaints in parallel, each complaint's rows in due order.
    async fn reach_all(
        &self,
        rows: Vec<DueRungRow>,
        tick: &mut Tick,
    ) -> Result<(), SchedulerError> {
        let mut by_complaint: BTreeMap<String, Vec<DueRungRow>> = BTreeMap::new();
        for row in rows {
            by_complaint
                .entry(row.complaint_id.clone())
                .or_default()
                .push(row);
        }
        let permits = Arc::new(Semaphore::new(PARALLELISM));
        let mut tasks = JoinSet::new();
        for (_, rows) in by_complaint {
            let scheduler = self.clone();
            let permits = permits.clone();
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let mut outcomes = Vec::with_capacity(rows.len());
                for row in rows {
                    outcomes.push(scheduler.reach(row).await);
                }
                outcomes
            });
        }
        let mut unavailable = None;
        while let Some(joined) = tasks.join_next().await {
            let outcomes = joined.unwrap_or_else(|error| {
                tracing::error!(%error, "a scheduler task failed");
                vec![Outcome::Failed]
            });
            for outcome in outcomes {
                match outcome {
                    Outcome::Reached(reached) => tick.reached.push(reached),
                    Outcome::Skipped => tick.skipped += 1,
                    Outcome::Failed => tick.failed += 1,
                    Outcome::Unavailable(detail) => unavailable = Some(detail),
                }
            }
        }
        tick.reached
            .sort_by_key(|reached| (reached.due_at, reached.complaint_id));
        match unavailable {
            Some(detail) => Err(SchedulerError::Unavailable(detail)),
            None => Ok(()),
        }
    }

    async fn reach(&self, row: DueRungRow) -> Outcome {
        let (Ok(complaint_id), Some(subject)) = (
            Uuid::parse_str(&row.complaint_id),
            Subject::parse_key(&row.subject),
        ) else {
            tracing::error!(?row, "a due-scan row that does not parse");
            return Outcome::Failed;
        };
        let request = CommandRequest {
            actor: self.actor.clone(),
            command: ComplaintCommand::ReachRung {
                subject,
                rung: row.rung,
            },
            idempotency_key: None,
            correlation_id: None,
        };
        match self.engine.execute(complaint_id, request).await {
            Ok(outcome) => Outcome::Reached(ReachedRung {
                complaint_id,
                subject: row.subject,
                rung: row.rung,
                due_at: row.due_at,
                position: outcome.position,
            }),
            // Reached by another scheduler first, or the row was read before the subject was
            // settled or rescheduled: the projector's next pass corrects the row.
            Err(EngineError::Rejected(
                ComplaintError::RungAlreadyReached { .. }
                | ComplaintError::SubjectSettled { .. }
                | ComplaintError::RungNotScheduled { .. }
                | ComplaintError::RungOutOfOrder { .. }
                | ComplaintError::RungNotDue { .. }
                | ComplaintError::ClockPaused { .. }
                | ComplaintError::Closed,
            )) => Outcome::Skipped,
            Err(EngineError::Unavailable(detail)) => Outcome::Unavailable(detail),
            Err(error) => {
                tracing::warn!(%error, complaint_id = %complaint_id, subject = %row.subject, rung = row.rung, "could not reach a rung");
                Outcome::Failed
            }
        }
    }
}
