//! The JSON shape of a complaint's current state, as shown to back-office staff and auditors.

use jiff::Timestamp;
use obliged_domain::{Complaint, PromiseStatus, ResolutionState};
use serde_json::{json, Value};
use uuid::Uuid;

pub fn complaint(id: Uuid, complaint: &Complaint, as_of: Option<Timestamp>) -> Value {
    let promises: Vec<Value> = complaint
        .promises
        .iter()
        .map(|(promise_id, promise)| {
            let (status, on_time) = match promise.status {
                PromiseStatus::Pending => ("pending", None),
                PromiseStatus::Broken => ("broken", None),
                PromiseStatus::Kept { on_time } => ("kept", Some(on_time)),
                PromiseStatus::Withdrawn => ("withdrawn", None),
            };
            json!({
                "promise_id": promise_id,
                "kind": promise.kind,
                "promiser": promise.promiser,
                "due_at": promise.due_at,
                "status": status,
                "kept_on_time": on_time,
                "open": promise.status.is_outstanding(),
                "reminders": promise.reminders,
            })
        })
        .collect();
    let open_promises: Vec<&Value> = promises
        .iter()
        .filter(|promise| promise["open"] == json!(true))
        .collect();
    let open_obligations: Vec<Value> = complaint
        .obligations
        .iter()
        .filter(|(_, obligation)| obligation.discharged.is_none())
        .map(|(obligation_no, obligation)| {
            json!({
                "obligation_no": obligation_no,
                "contact_no": obligation.contact_no,
                "due_at": obligation.due_at,
            })
        })
        .collect();
    let follow_ups: Vec<Value> = complaint
        .follow_ups
        .iter()
        .map(|(follow_up_id, follow_up)| {
            json!({
                "follow_up_id": follow_up_id,
                "owner": follow_up.owner,
                "due_at": follow_up.due_at,
                "status": follow_up.status,
            })
        })
        .collect();
    let non_negotiable: Vec<Value> = complaint
        .non_negotiable
        .iter()
        .map(|(element, rule)| {
            json!({
                "element": element,
                "explanation": rule.explanation,
                "referral": rule.referral,
            })
        })
        .collect();
    let resolution = match complaint.resolution {
        ResolutionState::None => json!(null),
        ResolutionState::Proposed { proposal_no } => {
            json!({"state": "proposed", "proposal_no": proposal_no})
        }
        ResolutionState::Accepted { proposal_no } => {
            json!({"state": "accepted", "proposal_no": proposal_no})
        }
        ResolutionState::Rejected { proposal_no } => {
            json!({"state": "rejected", "proposal_no": proposal_no})
        }
    };
    let deadlines: Vec<Value> = complaint
        .deadlines
        .iter()
        .map(|(deadline, state)| {
            json!({
                "deadline": deadline,
                "due_at": state.due_at,
                "extended": state.extended,
                "met": state.met.is_some(),
                "met_on_time": state.met,
            })
        })
        .collect();
    let next_rungs: Vec<Value> = complaint
        .next_rungs()
        .into_iter()
        .map(|(subject, rung)| {
            json!({
                "subject": subject,
                "rung": rung.rung,
                "name": rung.name,
                "due_at": rung.due_at,
            })
        })
        .collect();
    json!({
        "id": id,
        "as_of": as_of,
        "status": complaint.status.as_str(),
        "customer_reference": complaint.customer_reference,
        "channel": complaint.channel,
        "category": complaint.category,
        "filed_at": complaint.filed_at,
        "owner": complaint.owner,
        "triage_due_at": complaint.triage_due_at,
        "pending_handover": complaint.pending_handover.as_ref().map(|offer| json!({
            "from": offer.from,
            "to": offer.to,
            "offered_at": offer.offered_at,
        })),
        "contacts": complaint.contacts,
        "open_obligations": open_obligations,
        "open_promises": open_promises,
        "promises": promises,
        "follow_ups": follow_ups,
        "escalations": complaint.escalations,
        "conduct_incidents": complaint.conduct_incidents,
        "hand_backs": complaint.hand_backs,
        "flags": {
            "sensitive": complaint.sensitive,
            "non_negotiable": non_negotiable,
        },
        "resolution": resolution,
        "regime": complaint.regime,
        "deadlines": deadlines,
        "clock_paused_at": complaint.clock_paused_at,
        "next_rungs": next_rungs,
    })
}
