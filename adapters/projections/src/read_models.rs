//! Queries over the read models the projector maintains: the complaint list with its filters,
//! an owner's work queue, everyone's load and breaches (a lead's view), the owner counters, the
//! promises due by a moment, and the ladder rungs due by a moment (the promise clock's due
//! scan).

use std::collections::HashMap;

use jiff::Timestamp;
use serde::Serialize;

use obliged_storage::{with_pool, Database};

use crate::projector::{from_micros, micros};

/// The flags a complaint list can be filtered by.
pub const FLAGS: &[&str] = &[
    "sensitive",
    "non-negotiable",
    "special-care",
    "lead",
    "manager",
    "security",
];

#[derive(Debug, Clone, Default)]
pub struct ComplaintFilter {
    pub status: Option<String>,
    pub owner: Option<String>,
    pub channel: Option<String>,
    pub category: Option<String>,
    /// One of [`FLAGS`].
    pub flag: Option<String>,
    /// Only complaints with something overdue (`true`) or nothing overdue (`false`) at `now`.
    pub overdue: Option<bool>,
    pub customer_reference: Option<String>,
    /// Soonest next due time first (nothing due last) instead of most recently filed first.
    pub by_next_due: bool,
    pub limit: u32,
    pub offset: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComplaintListItem {
    pub id: String,
    pub status: String,
    pub owner: Option<String>,
    pub channel: Option<String>,
    pub category: Option<String>,
    pub customer_reference: Option<String>,
    pub filed_at: Option<Timestamp>,
    pub sensitive: bool,
    pub non_negotiable: bool,
    pub escalations: Vec<String>,
    pub next_due_at: Option<Timestamp>,
    pub overdue: bool,
    pub open_promises: i64,
    pub open_obligations: i64,
    pub open_follow_ups: i64,
    /// The ledger position this line reflects.
    pub position: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueItem {
    pub complaint_id: String,
    pub kind: String,
    pub item_id: String,
    pub due_at: Timestamp,
    pub overdue: bool,
}

/// A [`QueueItem`] with what a person needs to recognise it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkLine {
    pub item: QueueItem,
    /// For a promise: `pending` or `broken`.
    pub promise_status: Option<String>,
    pub category: Option<String>,
    pub customer_reference: Option<String>,
    pub complaint_status: Option<String>,
}

type WorkRow = (
    String,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OwnerCounters {
    pub owner: String,
    pub open_complaints: i64,
    pub open_promises: i64,
    pub promises_kept_on_time: i64,
    pub promises_kept_late: i64,
    pub promises_broken: i64,
    pub promises_withdrawn: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuePromise {
    pub complaint_id: String,
    pub promise_id: String,
    pub promiser: String,
    pub owner: String,
    pub due_at: Timestamp,
    pub status: String,
}

/// One person's (or team's) items of one kind, for a lead's overview: how many are open, how
/// many overdue, and since when the oldest one is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TeamLoad {
    pub person: String,
    pub kind: String,
    pub open: i64,
    pub overdue: i64,
    pub oldest_overdue: Option<Timestamp>,
}

/// An overdue item of anyone on the team, with the complaint's owner (who a lead takes over
/// from).
#[derive(Debug, Clone, PartialEq)]
pub struct OverdueLine {
    pub person: String,
    pub line: WorkLine,
    pub complaint_owner: Option<String>,
}

/// The kinds a lead oversees: everything owed with a due time (a handover offer waits for its
/// receiver and is not late).
const TEAM_KINDS: &str = "('promise', 'follow-up', 'obligation', 'deadline', 'triage')";

/// A work item's promise, when it is one (`p`), for its recorded state.
const PROMISE_STATE: &str = "LEFT JOIN rm_open_promises p ON w.kind = 'promise' \
     AND p.complaint_id = w.complaint_id AND p.promise_id = w.item_id";

/// A work item is overdue once its time has passed on this instance's clock, or once the ledger
/// records its promise broken (the promise clock of another instance, or one run ahead of this
/// one, may have recorded the breach first): the ledger is the truth.
const OVERDUE: &str = "(w.due_at < $1 OR p.status = 'broken')";

/// The next rung of a running ladder, due by the moment asked about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueRungRow {
    pub complaint_id: String,
    /// [`obliged_domain::Subject::key`].
    pub subject: String,
    pub rung: u32,
    pub due_at: Timestamp,
}

enum Arg {
    Text(String),
    Int(i64),
    Bool(bool),
}

/// Runs `$sql` with `$args` on either database, decoding rows as `$row`.
macro_rules! fetch_all {
    ($database:expr, $sql:expr, $args:expr, $row:ty) => {{
        let args: Vec<Arg> = $args;
        with_pool!($database, pool => {
            let mut query = sqlx::query_as::<_, $row>($sql);
            for arg in args {
                query = match arg {
                    Arg::Text(value) => query.bind(value),
                    Arg::Int(value) => query.bind(value),
                    Arg::Bool(value) => query.bind(value),
                };
            }
            query.fetch_all(pool).await
        })
    }};
}

type ComplaintRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    bool,
    bool,
    String,
    Option<i64>,
    i64,
    i64,
    i64,
    i64,
);

#[derive(Clone)]
pub struct ReadModels {
    database: Database,
}

impl ReadModels {
    pub fn new(database: Database) -> Self {
        Self { database }
    }

    /// Complaints matching `filter`, most recently filed first.
    pub async fn list(
        &self,
        filter: &ComplaintFilter,
        now: Timestamp,
    ) -> Result<Vec<ComplaintListItem>, sqlx::Error> {
        let mut conditions: Vec<String> = Vec::new();
        let mut args: Vec<Arg> = Vec::new();
        let mut push = |condition: &str, arg: Arg| {
            args.push(arg);
            conditions.push(condition.replace('?', &format!("${}", args.len())));
        };
        if let Some(status) = &filter.status {
            push("status = ?", Arg::Text(status.clone()));
        }
        if let Some(owner) = &filter.owner {
            push("owner = ?", Arg::Text(owner.clone()));
        }
        if let Some(channel) = &filter.channel {
            push("channel = ?", Arg::Text(channel.clone()));
        }
        if let Some(category) = &filter.category {
            push("category = ?", Arg::Text(category.clone()));
        }
        if let Some(reference) = &filter.customer_reference {
            push("customer_reference = ?", Arg::Text(reference.clone()));
        }
        match filter.flag.as_deref() {
            None => {}
            Some("sensitive") => push("sensitive = ?", Arg::Bool(true)),
            Some("non-negotiable") => push("non_negotiable = ?", Arg::Bool(true)),
            Some(target) => push("escalations LIKE ?", Arg::Text(format!("%,{target},%"))),
        }
        match filter.overdue {
            None => {}
            Some(true) => push("next_due_at < ?", Arg::Int(micros(now))),
            Some(false) => push(
                "(next_due_at IS NULL OR next_due_at >= ?)",
                Arg::Int(micros(now)),
            ),
        }
        let where_clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        args.push(Arg::Int(i64::from(filter.limit)));
        args.push(Arg::Int(i64::from(filter.offset)));
        let order = if filter.by_next_due {
            "next_due_at IS NULL, next_due_at, complaint_id"
        } else {
            "filed_at DESC, complaint_id"
        };
        let sql = format!(
            "SELECT complaint_id, status, owner, channel, category, customer_reference, filed_at, \
             sensitive, non_negotiable, escalations, next_due_at, open_promises, \
             open_obligations, open_follow_ups, position FROM rm_complaints {where_clause} \
             ORDER BY {order} LIMIT ${} OFFSET ${}",
            args.len() - 1,
            args.len()
        );
        let rows = fetch_all!(&self.database, &sql, args, ComplaintRow)?;
        let now = micros(now);
        Ok(rows
            .into_iter()
            .map(|row| ComplaintListItem {
                id: row.0,
                status: row.1,
                owner: row.2,
                channel: row.3,
                category: row.4,
                customer_reference: row.5,
                filed_at: row.6.map(from_micros),
                sensitive: row.7,
                non_negotiable: row.8,
                escalations: row
                    .9
                    .split(',')
                    .filter(|target| !target.is_empty())
                    .map(str::to_owned)
                    .collect(),
                next_due_at: row.10.map(from_micros),
                overdue: row.10.is_some_and(|due| due < now),
                open_promises: row.11,
                open_obligations: row.12,
                open_follow_ups: row.13,
                position: row.14,
            })
            .collect())
    }

    /// What `owner` has to do, soonest first.
    pub async fn queue(
        &self,
        owner: &str,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<QueueItem>, sqlx::Error> {
        let rows = fetch_all!(
            &self.database,
            "SELECT complaint_id, kind, item_id, due_at FROM rm_work_items WHERE owner = $1 \
             ORDER BY due_at, complaint_id, kind, item_id LIMIT $2",
            vec![Arg::Text(owner.to_owned()), Arg::Int(i64::from(limit))],
            (String, String, String, i64)
        )?;
        let now = micros(now);
        Ok(rows
            .into_iter()
            .map(|(complaint_id, kind, item_id, due_at)| QueueItem {
                complaint_id,
                kind,
                item_id,
                due_at: from_micros(due_at),
                overdue: due_at < now,
            })
            .collect())
    }

    /// What `owner` has to do, soonest first, with what the console shows beside each item:
    /// the promise's state (pending or broken) and the complaint's category and customer.
    pub async fn work(
        &self,
        owner: &str,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<WorkLine>, sqlx::Error> {
        let rows = fetch_all!(
            &self.database,
            "SELECT w.complaint_id, w.kind, w.item_id, w.due_at, p.status, c.category, \
             c.customer_reference, c.status FROM rm_work_items w \
             LEFT JOIN rm_open_promises p ON w.kind = 'promise' \
             AND p.complaint_id = w.complaint_id AND p.promise_id = w.item_id \
             LEFT JOIN rm_complaints c ON c.complaint_id = w.complaint_id \
             WHERE w.owner = $1 ORDER BY w.due_at, w.complaint_id, w.kind, w.item_id LIMIT $2",
            vec![Arg::Text(owner.to_owned()), Arg::Int(i64::from(limit))],
            WorkRow
        )?;
        let now = micros(now);
        Ok(rows
            .into_iter()
            .map(
                |(
                    complaint_id,
                    kind,
                    item_id,
                    due_at,
                    promise_status,
                    category,
                    customer,
                    status,
                )| {
                    WorkLine {
                        item: QueueItem {
                            complaint_id,
                            kind,
                            item_id,
                            due_at: from_micros(due_at),
                            overdue: due_at < now,
                        },
                        promise_status,
                        category,
                        customer_reference: customer,
                        complaint_status: status,
                    }
                },
            )
            .collect())
    }

    /// Everyone's open items per kind, the people with the oldest breach first.
    pub async fn team_load(&self, now: Timestamp) -> Result<Vec<TeamLoad>, sqlx::Error> {
        let now = micros(now);
        let sql = format!(
            "SELECT w.owner, w.kind, count(*), \
             CAST(SUM(CASE WHEN {OVERDUE} THEN 1 ELSE 0 END) AS bigint), \
             MIN(CASE WHEN {OVERDUE} THEN w.due_at END) \
             FROM rm_work_items w {PROMISE_STATE} \
             WHERE w.kind IN {TEAM_KINDS} GROUP BY w.owner, w.kind"
        );
        let rows = fetch_all!(
            &self.database,
            &sql,
            vec![Arg::Int(now)],
            (String, String, i64, i64, Option<i64>)
        )?;
        let mut load: Vec<TeamLoad> = rows
            .into_iter()
            .map(|(person, kind, open, overdue, oldest)| TeamLoad {
                person,
                kind,
                open,
                overdue,
                oldest_overdue: oldest.map(from_micros),
            })
            .collect();
        // The person's oldest breach of any kind orders the people; then the person, the kind.
        let mut oldest: HashMap<String, i64> = HashMap::new();
        for row in &load {
            if let Some(at) = row.oldest_overdue {
                let entry = oldest.entry(row.person.clone()).or_insert(i64::MAX);
                *entry = (*entry).min(micros(at));
            }
        }
        load.sort_by(|a, b| {
            let key = |row: &TeamLoad| oldest.get(&row.person).copied().unwrap_or(i64::MAX);
            key(a)
                .cmp(&key(b))
                .then_with(|| a.person.cmp(&b.person))
                .then_with(|| a.kind.cmp(&b.kind))
        });
        Ok(load)
    }

    /// Overdue items of anyone (or of `person`, of `kind`), the oldest breach first.
    pub async fn team_overdue(
        &self,
        now: Timestamp,
        person: Option<&str>,
        kind: Option<&str>,
        limit: u32,
    ) -> Result<Vec<OverdueLine>, sqlx::Error> {
        let mut sql = format!(
            "SELECT w.owner, w.complaint_id, w.kind, w.item_id, w.due_at, p.status, c.category, \
             c.customer_reference, c.status, c.owner FROM rm_work_items w \
             {PROMISE_STATE} \
             LEFT JOIN rm_complaints c ON c.complaint_id = w.complaint_id \
             WHERE w.kind IN {TEAM_KINDS} AND {OVERDUE}"
        );
        let mut args = vec![Arg::Int(micros(now))];
        if let Some(person) = person {
            args.push(Arg::Text(person.to_owned()));
            sql.push_str(&format!(" AND w.owner = ${}", args.len()));
        }
        if let Some(kind) = kind {
            args.push(Arg::Text(kind.to_owned()));
            sql.push_str(&format!(" AND w.kind = ${}", args.len()));
        }
        args.push(Arg::Int(i64::from(limit)));
        sql.push_str(&format!(
            " ORDER BY w.due_at, w.owner, w.complaint_id, w.kind, w.item_id LIMIT ${}",
            args.len()
        ));
        type Row = (
            String,
            String,
            String,
            String,
            i64,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows = fetch_all!(&self.database, &sql, args, Row)?;
        Ok(rows
            .into_iter()
            .map(|row| OverdueLine {
                person: row.0,
                line: WorkLine {
                    item: QueueItem {
                        complaint_id: row.1,
                        kind: row.2,
                        item_id: row.3,
                        due_at: from_micros(row.4),
                        overdue: true,
                    },
                    promise_status: row.5,
                    category: row.6,
                    customer_reference: row.7,
                    complaint_status: row.8,
                },
                complaint_owner: row.9,
            })
            .collect())
    }

    /// Each owner's counters, summed over their complaints.
    pub async fn counters(&self) -> Result<Vec<OwnerCounters>, sqlx::Error> {
        // SUM over bigint is numeric on PostgreSQL: cast back so both databases give i64.
        let rows = fetch_all!(
            &self.database,
            "SELECT owner, CAST(SUM(open_complaints) AS bigint), CAST(SUM(open_promises) AS bigint), \
             CAST(SUM(promises_kept_on_time) AS bigint), CAST(SUM(promises_kept_late) AS bigint), \
             CAST(SUM(promises_broken) AS bigint), CAST(SUM(promises_withdrawn) AS bigint) \
             FROM rm_owner_counts GROUP BY owner ORDER BY owner",
            Vec::new(),
            (String, i64, i64, i64, i64, i64, i64)
        )?;
        Ok(rows
            .into_iter()
            .map(|row| OwnerCounters {
                owner: row.0,
                open_complaints: row.1,
                open_promises: row.2,
                promises_kept_on_time: row.3,
                promises_kept_late: row.4,
                promises_broken: row.5,
                promises_withdrawn: row.6,
            })
            .collect())
    }

    /// Open promises due at or before `now`, earliest first: work proportional to what is due.
    pub async fn due_promises(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<DuePromise>, sqlx::Error> {
        let rows = fetch_all!(
            &self.database,
            "SELECT complaint_id, promise_id, promiser, owner, due_at, status FROM rm_open_promises \
             WHERE due_at <= $1 ORDER BY due_at, complaint_id, promise_id LIMIT $2",
            vec![Arg::Int(micros(now)), Arg::Int(i64::from(limit))],
            (String, String, String, String, i64, String)
        )?;
        Ok(rows
            .into_iter()
            .map(
                |(complaint_id, promise_id, promiser, owner, due_at, status)| DuePromise {
                    complaint_id,
                    promise_id,
                    promiser,
                    owner,
                    due_at: from_micros(due_at),
                    status,
                },
            )
            .collect())
    }

    /// The next rungs due at or before `now`, earliest first, at most `limit`: the promise
    /// clock's due scan, an index range scan whose cost follows what is due, not what is open.
    pub async fn due_rungs(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<DueRungRow>, sqlx::Error> {
        let rows = fetch_all!(
            &self.database,
            "SELECT complaint_id, subject, rung, due_at FROM rm_due_rungs \
             WHERE due_at <= $1 ORDER BY due_at, complaint_id, subject LIMIT $2",
            vec![Arg::Int(micros(now)), Arg::Int(i64::from(limit))],
            (String, String, i64, i64)
        )?;
        Ok(rows
            .into_iter()
            .map(|(complaint_id, subject, rung, due_at)| DueRungRow {
                complaint_id,
                subject,
                rung: u32::try_from(rung).unwrap_or(u32::MAX),
                due_at: from_micros(due_at),
            })
            .collect())
    }

    /// How many ladders are running (one row each), for status output.
    pub async fn running_ladders(&self) -> Result<i64, sqlx::Error> {
        let rows = fetch_all!(
            &self.database,
            "SELECT COUNT(*) FROM rm_due_rungs",
            Vec::new(),
            (i64,)
        )?;
        Ok(rows.first().map_or(0, |(count,)| *count))
    }
}
