//! Pure projection logic: the rows a complaint contributes to the read models (the complaint
//! list, owners' work queues, the open-promise index, the owner counters and the next rung of
//! every running ladder), computed from its
//! state alone. The storage adapter replaces a complaint's rows with these whenever its events
//! are projected, so the read models are always a function of the ledger.

use jiff::Timestamp;

use crate::aggregate::{Complaint, FollowUpStatus, PromiseStatus, Status};
use crate::values::{EscalationTarget, Owner};

/// The owner recorded for work that nobody has picked up yet.
pub const UNASSIGNED: &str = "unassigned";

/// One line of the complaint list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintSummary {
    pub status: Status,
    pub owner: Option<String>,
    pub channel: Option<String>,
    pub category: Option<String>,
    pub customer_reference: Option<String>,
    pub filed_at: Option<Timestamp>,
    pub sensitive: bool,
    pub non_negotiable: bool,
    pub escalations: Vec<EscalationTarget>,
    /// The earliest due time of anything still owed (a complaint is overdue once it passes).
    pub next_due_at: Option<Timestamp>,
    pub open_promises: u32,
    pub open_obligations: u32,
    pub open_follow_ups: u32,
}

/// Something an owner has to do by a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkItem {
    /// `obligation`, `promise`, `follow-up`, `triage`, `handover` (an offer waiting for its
    /// receiver) or `deadline` (a regulatory deadline of the owner's complaint).
    pub kind: &'static str,
    /// The promise or follow-up id, the obligation number, `triage`, `handover`, or the
    /// deadline's kind.
    pub item_id: String,
    pub owner: String,
    pub due_at: Timestamp,
}

/// A promise still owed, for the promise clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPromise {
    pub promise_id: String,
    pub promiser: String,
    pub owner: String,
    pub kind: String,
    pub due_at: Timestamp,
    /// `pending` or `broken`.
    pub status: &'static str,
}

/// The next ladder rung of something owed, for the promise clock's due scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueRung {
    /// [`Subject::key`](crate::Subject::key).
    pub subject: String,
    pub rung: u32,
    pub due_at: Timestamp,
}

/// What one complaint adds to one owner's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnerContribution {
    pub owner: String,
    pub open_complaints: u32,
    pub open_promises: u32,
    pub promises_kept_on_time: u32,
    pub promises_kept_late: u32,
    pub promises_broken: u32,
    pub promises_withdrawn: u32,
}

/// Every read-model row of one complaint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintRows {
    pub summary: ComplaintSummary,
    pub work_items: Vec<WorkItem>,
    pub open_promises: Vec<OpenPromise>,
    pub contributions: Vec<OwnerContribution>,
    /// One row per ladder still running: its next rung.
    pub due_rungs: Vec<DueRung>,
}

/// The counters of `owner` in `contributions`, added if missing.
fn contribution<'a>(
    contributions: &'a mut Vec<OwnerContribution>,
    owner: &str,
) -> &'a mut OwnerContribution {
    let index = match contributions.iter().position(|entry| entry.owner == owner) {
        Some(index) => index,
        None => {
            contributions.push(OwnerContribution {
                owner: owner.to_owned(),
                ..OwnerContribution::default()
            });
            contributions.len() - 1
        }
    };
    &mut contributions[index]
}

fn owner_name(owner: Option<&Owner>) -> String {
    owner.map_or_else(|| UNASSIGNED.to_owned(), ToString::to_string)
}

impl ComplaintRows {
    pub fn of(complaint: &Complaint) -> Self {
        let owner = owner_name(complaint.owner.as_ref());
        let is_open = !matches!(complaint.status, Status::Closed | Status::NotFiled);
        let mut work_items = Vec::new();
        let mut open_promises = Vec::new();
        let mut contributions: Vec<OwnerContribution> = Vec::new();

        if is_open {
            contribution(&mut contributions, &owner).open_complaints += 1;
            if let (Some(Owner::Team(_)), Some(due_at)) =
                (&complaint.owner, complaint.triage_due_at)
            {
                work_items.push(WorkItem {
                    kind: "triage",
                    item_id: "triage".to_owned(),
                    owner: owner.clone(),
                    due_at,
                });
            }
        }
        if let Some(offer) = &complaint.pending_handover {
            work_items.push(WorkItem {
                kind: "handover",
                item_id: "handover".to_owned(),
                owner: offer.to.to_string(),
                due_at: offer.offered_at,
            });
        }
        if is_open {
            for (kind, deadline) in &complaint.deadlines {
                if deadline.met.is_none() {
                    work_items.push(WorkItem {
                        kind: "deadline",
                        item_id: kind.to_string(),
                        owner: owner.clone(),
                        due_at: deadline.due_at,
                    });
                }
            }
        }
        for (number, obligation) in &complaint.obligations {
            if obligation.discharged.is_none() {
                work_items.push(WorkItem {
                    kind: "obligation",
                    item_id: number.to_string(),
                    owner: owner.clone(),
                    due_at: obligation.due_at,
                });
            }
        }
        for (promise_id, promise) in &complaint.promises {
            let promiser = promise.promiser.to_string();
            let counts = contribution(&mut contributions, &promiser);
            match promise.status {
                PromiseStatus::Pending | PromiseStatus::Broken => {
                    work_items.push(WorkItem {
                        kind: "promise",
                        item_id: promise_id.to_string(),
                        owner: promiser.clone(),
                        due_at: promise.due_at,
                    });
                    open_promises.push(OpenPromise {
                        promise_id: promise_id.to_string(),
                        promiser: promiser.clone(),
                        owner: owner.clone(),
                        kind: promise.kind.to_string(),
                        due_at: promise.due_at,
                        status: if promise.status == PromiseStatus::Broken {
                            "broken"
                        } else {
                            "pending"
                        },
                    });
                    counts.open_promises += 1;
                    if promise.status == PromiseStatus::Broken {
                        counts.promises_broken += 1;
                    }
                }
                PromiseStatus::Kept { on_time: true } => counts.promises_kept_on_time += 1,
                PromiseStatus::Kept { on_time: false } => counts.promises_kept_late += 1,
                PromiseStatus::Withdrawn => counts.promises_withdrawn += 1,
            }
        }
        for (follow_up_id, follow_up) in &complaint.follow_ups {
            if follow_up.status == FollowUpStatus::Open {
                work_items.push(WorkItem {
                    kind: "follow-up",
                    item_id: follow_up_id.to_string(),
                    owner: follow_up.owner.to_string(),
                    due_at: follow_up.due_at,
                });
            }
        }
        work_items
            .sort_by(|a, b| (a.due_at, a.kind, &a.item_id).cmp(&(b.due_at, b.kind, &b.item_id)));

        let summary = ComplaintSummary {
            status: complaint.status,
            owner: complaint.owner.as_ref().map(ToString::to_string),
            channel: complaint.channel.map(|channel| channel.to_string()),
            category: complaint.category.as_ref().map(ToString::to_string),
            customer_reference: complaint
                .customer_reference
                .as_ref()
                .map(ToString::to_string),
            filed_at: complaint.filed_at,
            sensitive: complaint.sensitive.is_some(),
            non_negotiable: !complaint.non_negotiable.is_empty(),
            escalations: complaint.escalations.iter().copied().collect(),
            next_due_at: work_items.iter().map(|item| item.due_at).min(),
            open_promises: open_promises.len() as u32,
            open_obligations: complaint.unmet_obligation_nos().len() as u32,
            open_follow_ups: complaint.open_follow_up_ids().len() as u32,
        };
        let due_rungs = complaint
            .next_rungs()
            .into_iter()
            .map(|(subject, rung)| DueRung {
                subject: subject.key(),
                rung: rung.rung,
                due_at: rung.due_at,
            })
            .collect();
        Self {
            summary,
            work_items,
            open_promises,
            contributions,
            due_rungs,
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::{SignedDuration, Timestamp};
    use uuid::Uuid;

    use super::*;
    use crate::{
        Category, Channel, ComplaintEvent as E, Customer, CustomerReference, Discharge,
        EscalationReason, FollowUpId, PromiseId, PromiseKind, SealedText, StaffId,
    };

    fn at(hours: i64) -> Timestamp {
        Timestamp::UNIX_EPOCH + SignedDuration::from_hours(hours)
    }

    fn staff(name: &str) -> StaffId {
        StaffId::parse(name).unwrap()
    }

    fn sealed() -> SealedText {
        SealedText::from_stored("x".into())
    }

    fn filed() -> E {
        E::ComplaintFiled {
            customer: Customer {
                reference: CustomerReference::parse("CUST-9").unwrap(),
                name: sealed(),
                email: None,
                phone: None,
            },
            channel: Channel::Chat,
            category: Category::parse("delivery").unwrap(),
            description: sealed(),
            filed_by: staff("alice"),
            at: at(0),
        }
    }

    fn promise(id: u128, promiser: &str, due: i64) -> E {
        E::PromiseMade {
            promise_id: PromiseId::new(Uuid::from_u128(id)),
            kind: PromiseKind::Callback,
            description: sealed(),
            due_at: at(due),
            promiser: staff(promiser),
            concerns: None,
            at: at(1),
        }
    }

    #[test]
    fn rows_list_what_is_owed_by_whom_and_count_kept_promises() {
        let complaint = Complaint::from_events(&[
            filed(),
            E::ContactLogged {
                contact_no: 1,
                direction: crate::Direction::Inbound,
                channel: Channel::Chat,
                summary: sealed(),
                request: true,
                staff: staff("alice"),
                alias: None,
                at: at(1),
            },
            E::ObligationOpened {
                obligation_no: 1,
                contact_no: 1,
                due_at: at(49),
            },
            E::OwnerAssigned {
                owner: Owner::Team(staff("billing")),
                previous: None,
                triage_due_at: Some(at(5)),
                by: staff("alice"),
                at: at(1),
            },
            promise(1, "bob", 24),
            E::ObligationDischarged {
                obligation_no: 1,
                by: Discharge::Promise {
                    promise_id: PromiseId::new(Uuid::from_u128(1)),
                },
                on_time: true,
                at: at(1),
            },
            promise(2, "bob", 10),
            E::PromiseKept {
                promise_id: PromiseId::new(Uuid::from_u128(2)),
                evidence: sealed(),
                on_time: true,
                by: staff("bob"),
                at: at(9),
            },
            E::FollowUpScheduled {
                follow_up_id: FollowUpId::new(Uuid::from_u128(3)),
                description: sealed(),
                due_at: at(30),
                owner: staff("carol"),
                at: at(2),
            },
            E::Escalated {
                to: EscalationTarget::Security,
                reason: EscalationReason::Threat,
                note: None,
                by: None,
                at: at(2),
            },
        ]);
        let rows = ComplaintRows::of(&complaint);

        assert_eq!(rows.summary.owner.as_deref(), Some("team:billing"));
        assert_eq!(
            rows.summary.next_due_at,
            Some(at(5)),
            "the triage deadline comes first"
        );
        assert_eq!(rows.summary.open_promises, 1);
        assert_eq!(rows.summary.open_obligations, 0);
        assert_eq!(rows.summary.open_follow_ups, 1);
        assert_eq!(rows.summary.escalations, [EscalationTarget::Security]);

        let queue: Vec<(&str, &str, Timestamp)> = rows
            .work_items
            .iter()
            .map(|item| (item.kind, item.owner.as_str(), item.due_at))
            .collect();
        assert_eq!(
            queue,
            [
                ("triage", "team:billing", at(5)),
                ("promise", "bob", at(24)),
                ("follow-up", "carol", at(30)),
            ]
        );
        assert_eq!(rows.open_promises.len(), 1);
        assert_eq!(rows.open_promises[0].owner, "team:billing");

        let bob = rows
            .contributions
            .iter()
            .find(|counts| counts.owner == "bob")
            .unwrap();
        assert_eq!((bob.open_promises, bob.promises_kept_on_time), (1, 1));
        let team = rows
            .contributions
            .iter()
            .find(|counts| counts.owner == "team:billing")
            .unwrap();
        assert_eq!(team.open_complaints, 1);
    }

    #[test]
    fn a_closed_complaint_owes_nothing_and_counts_as_closed() {
        let mut events = vec![
            filed(),
            E::OwnerAssigned {
                owner: Owner::Person(staff("alice")),
                previous: None,
                triage_due_at: None,
                by: staff("alice"),
                at: at(1),
            },
        ];
        events.push(E::ComplaintResolved {
            override_reason: Some(sealed()),
            by: staff("alice"),
            at: at(2),
        });
        events.push(E::ComplaintClosed {
            by: staff("alice"),
            at: at(3),
        });
        let rows = ComplaintRows::of(&Complaint::from_events(&events));
        assert_eq!(rows.summary.status, Status::Closed);
        assert!(rows.work_items.is_empty());
        assert_eq!(rows.summary.next_due_at, None);
        assert!(rows
            .contributions
            .iter()
            .all(|counts| counts.open_complaints == 0));
    }
}
