//! Snapshot tests that guard the stored JSON of every event variant.
//!
//! The event JSON is a compatibility boundary: integrations and auditors read it for years. Each
//! variant has one sample with fixed times and ids and every optional field filled in, so that a
//! snapshot shows the whole shape. A failing snapshot means the stored format changed: bump
//! `EVENT_VERSION` and write an upcaster, do not just accept the new snapshot.

use cqrs_es::DomainEvent;
use insta::assert_json_snapshot;
use jiff::Timestamp;
use uuid::Uuid;

use crate::{
    Category, Channel, ComplaintEvent, ConductKind, ConductResponse, Customer, CustomerReference,
    Direction, Discharge, ElementName, EscalationReason, EscalationTarget, FollowUpId,
    HandBackReason, Owner, PromiseId, PromiseKind, PublicText, SealedText, SensitiveReason,
    StaffAlias, StaffId, EVENT_VERSION,
};
use crate::{DeadlineDue, DeadlineKind, Notified, Recipient, Regime, ScheduledRung, Subject};

use ComplaintEvent as E;

fn at() -> Timestamp {
    "2025-03-03T09:15:30Z".parse().expect("valid timestamp")
}

fn due() -> Timestamp {
    "2025-03-05T09:15:30Z".parse().expect("valid timestamp")
}

fn earlier_due() -> Timestamp {
    "2025-03-04T17:00:00Z".parse().expect("valid timestamp")
}

fn sealed(stored: &str) -> SealedText {
    SealedText::from_stored(stored.into())
}

fn staff(name: &str) -> StaffId {
    StaffId::parse(name).expect("valid staff id")
}

fn alias() -> StaffAlias {
    StaffAlias::parse("sam").expect("valid alias")
}

fn promise_id() -> PromiseId {
    PromiseId::new(Uuid::from_u128(0x0195_5e3a_7c00_7000_8000_0000_0000_0001))
}

fn follow_up_id() -> FollowUpId {
    FollowUpId::new(Uuid::from_u128(0x0195_5e3a_7c00_7000_8000_0000_0000_0002))
}

fn element() -> ElementName {
    ElementName::parse("statutory-fee").expect("valid element")
}

fn public(text: &str) -> PublicText {
    PublicText::parse(text).expect("valid public text")
}

// --- one sample per variant ------------------------------------------------------------------

fn complaint_filed() -> ComplaintEvent {
    E::ComplaintFiled {
        customer: Customer {
            reference: CustomerReference::parse("cust-0042").expect("valid reference"),
            name: sealed("c2VhbGVkOm5hbWU="),
            email: Some(sealed("c2VhbGVkOmVtYWls")),
            phone: Some(sealed("c2VhbGVkOnBob25l")),
        },
        channel: Channel::Phone,
        category: Category::parse("billing").expect("valid category"),
        description: sealed("c2VhbGVkOmRlc2NyaXB0aW9u"),
        filed_by: staff("alice"),
        at: at(),
    }
}

fn contact_logged() -> ComplaintEvent {
    E::ContactLogged {
        contact_no: 2,
        direction: Direction::Inbound,
        channel: Channel::InPerson,
        summary: sealed("c2VhbGVkOnN1bW1hcnk="),
        request: true,
        staff: staff("alice"),
        alias: Some(alias()),
        at: at(),
    }
}

fn obligation_opened() -> ComplaintEvent {
    E::ObligationOpened {
        obligation_no: 1,
        contact_no: 2,
        due_at: due(),
    }
}

fn obligation_discharged() -> ComplaintEvent {
    E::ObligationDischarged {
        obligation_no: 1,
        by: Discharge::Reply { contact_no: 3 },
        on_time: true,
        at: at(),
    }
}

fn owner_assigned() -> ComplaintEvent {
    E::OwnerAssigned {
        owner: Owner::Team(staff("billing")),
        previous: Some(Owner::Person(staff("alice"))),
        triage_due_at: Some(due()),
        by: staff("lead"),
        at: at(),
    }
}

fn handover_offered() -> ComplaintEvent {
    E::HandoverOffered {
        from: Owner::Person(staff("alice")),
        to: Owner::Person(staff("bob")),
        note: Some(sealed("c2VhbGVkOm5vdGU=")),
        by: staff("alice"),
        at: at(),
    }
}

fn handover_accepted() -> ComplaintEvent {
    E::HandoverAccepted {
        from: Owner::Person(staff("alice")),
        to: Owner::Team(staff("billing")),
        triage_due_at: Some(at()),
        by: staff("bob"),
        at: at(),
    }
}

fn handover_declined() -> ComplaintEvent {
    E::HandoverDeclined {
        to: Owner::Person(staff("bob")),
        reason: sealed("c2VhbGVkOnJlYXNvbg=="),
        by: staff("bob"),
        at: at(),
    }
}

fn taken_over() -> ComplaintEvent {
    E::TakenOver {
        from: Owner::Team(staff("billing")),
        to: Owner::Person(staff("lead")),
        reason: sealed("c2VhbGVkOnJlYXNvbg=="),
        at: at(),
    }
}

fn handed_back_to_customer() -> ComplaintEvent {
    E::HandedBackToCustomer {
        reason: HandBackReason::CustomerDocumentRequired,
        note: sealed("c2VhbGVkOm5vdGU="),
        by: staff("alice"),
        at: at(),
    }
}

fn promise_made() -> ComplaintEvent {
    E::PromiseMade {
        promise_id: promise_id(),
        kind: PromiseKind::Refund,
        description: sealed("c2VhbGVkOmRlc2NyaXB0aW9u"),
        due_at: due(),
        promiser: staff("alice"),
        concerns: Some(ElementName::parse("late-fee").expect("valid element")),
        at: at(),
    }
}

fn promise_kept() -> ComplaintEvent {
    E::PromiseKept {
        promise_id: promise_id(),
        evidence: sealed("c2VhbGVkOmV2aWRlbmNl"),
        on_time: false,
        by: staff("bob"),
        at: at(),
    }
}

fn promise_renegotiated() -> ComplaintEvent {
    E::PromiseRenegotiated {
        promise_id: promise_id(),
        previous_due_at: earlier_due(),
        due_at: due(),
        reason: sealed("c2VhbGVkOnJlYXNvbg=="),
        customer_agreed: true,
        by: staff("alice"),
        at: at(),
    }
}

fn promise_withdrawn() -> ComplaintEvent {
    E::PromiseWithdrawn {
        promise_id: promise_id(),
        reason: sealed("c2VhbGVkOnJlYXNvbg=="),
        by: staff("alice"),
        at: at(),
    }
}

fn promise_broken() -> ComplaintEvent {
    E::PromiseBroken {
        promise_id: promise_id(),
        due_at: earlier_due(),
        at: at(),
    }
}

fn reminder_recorded() -> ComplaintEvent {
    E::ReminderRecorded {
        promise_id: promise_id(),
        rung: 2,
        at: at(),
    }
}

fn follow_up_scheduled() -> ComplaintEvent {
    E::FollowUpScheduled {
        follow_up_id: follow_up_id(),
        description: sealed("c2VhbGVkOmRlc2NyaXB0aW9u"),
        due_at: due(),
        owner: staff("alice"),
        at: at(),
    }
}

fn follow_up_completed() -> ComplaintEvent {
    E::FollowUpCompleted {
        follow_up_id: follow_up_id(),
        outcome: sealed("c2VhbGVkOm91dGNvbWU="),
        on_time: true,
        by: staff("alice"),
        at: at(),
    }
}

fn escalated() -> ComplaintEvent {
    E::Escalated {
        to: EscalationTarget::SpecialCare,
        reason: EscalationReason::Requested,
        note: Some(sealed("c2VhbGVkOm5vdGU=")),
        by: Some(staff("alice")),
        at: at(),
    }
}

/// An escalation nobody asked for and nobody noted: its optional fields are absent.
fn escalated_automatically() -> ComplaintEvent {
    E::Escalated {
        to: EscalationTarget::Security,
        reason: EscalationReason::Threat,
        note: None,
        by: None,
        at: at(),
    }
}

fn conduct_incident_recorded() -> ComplaintEvent {
    E::ConductIncidentRecorded {
        incident_no: 1,
        kind: ConductKind::Threat,
        response: ConductResponse::PoliceReport,
        description: sealed("c2VhbGVkOmRlc2NyaXB0aW9u"),
        staff: staff("alice"),
        alias: Some(alias()),
        at: at(),
    }
}

fn sensitive_case_flagged() -> ComplaintEvent {
    E::SensitiveCaseFlagged {
        reason: SensitiveReason::Bereavement,
        note: Some(sealed("c2VhbGVkOm5vdGU=")),
        by: staff("alice"),
        at: at(),
    }
}

fn sensitive_flag_cleared() -> ComplaintEvent {
    E::SensitiveFlagCleared {
        reason: sealed("c2VhbGVkOnJlYXNvbg=="),
        by: staff("lead"),
        at: at(),
    }
}

fn non_negotiable_element_flagged() -> ComplaintEvent {
    E::NonNegotiableElementFlagged {
        element: element(),
        explanation: public("the fee is set by the energy regulator"),
        referral: public("Energy Ombudsman, 0800 000 000"),
        by: staff("lead"),
        at: at(),
    }
}

fn resolution_proposed() -> ComplaintEvent {
    E::ResolutionProposed {
        proposal_no: 1,
        summary: sealed("c2VhbGVkOnN1bW1hcnk="),
        by: staff("alice"),
        at: at(),
    }
}

fn resolution_accepted() -> ComplaintEvent {
    E::ResolutionAccepted {
        proposal_no: 1,
        comment: Some(sealed("c2VhbGVkOmNvbW1lbnQ=")),
        at: at(),
    }
}

fn resolution_rejected() -> ComplaintEvent {
    E::ResolutionRejected {
        proposal_no: 1,
        comment: Some(sealed("c2VhbGVkOmNvbW1lbnQ=")),
        at: at(),
    }
}

fn complaint_resolved() -> ComplaintEvent {
    E::ComplaintResolved {
        override_reason: Some(sealed("c2VhbGVkOnJlYXNvbg==")),
        by: staff("alice"),
        at: at(),
    }
}

fn complaint_closed() -> ComplaintEvent {
    E::ComplaintClosed {
        by: staff("alice"),
        at: at(),
    }
}

fn complaint_reopened() -> ComplaintEvent {
    E::ComplaintReopened {
        reason: sealed("c2VhbGVkOnJlYXNvbg=="),
        by: staff("bob"),
        at: at(),
    }
}

fn deadlines_set() -> ComplaintEvent {
    E::DeadlinesSet {
        regime: Regime::FcaDisp,
        deadlines: vec![
            DeadlineDue {
                deadline: DeadlineKind::SummaryResolution,
                due_at: earlier_due(),
            },
            DeadlineDue {
                deadline: DeadlineKind::FinalResponse,
                due_at: due(),
            },
        ],
        reason: Some(sealed("c2VhbGVkOnJlYXNvbg==")),
        by: staff("alice"),
        at: at(),
    }
}

fn deadline_extended() -> ComplaintEvent {
    E::DeadlineExtended {
        deadline: DeadlineKind::FinalResponse,
        previous_due_at: earlier_due(),
        due_at: due(),
        notice: sealed("c2VhbGVkOm5vdGljZQ=="),
        by: staff("alice"),
        at: at(),
    }
}

fn deadline_met() -> ComplaintEvent {
    E::DeadlineMet {
        deadline: DeadlineKind::Acknowledge,
        due_at: due(),
        on_time: true,
        at: at(),
    }
}

fn clock_paused() -> ComplaintEvent {
    E::ClockPaused {
        reason: sealed("c2VhbGVkOnJlYXNvbg=="),
        by: staff("alice"),
        at: at(),
    }
}

fn clock_resumed() -> ComplaintEvent {
    E::ClockResumed {
        paused_at: earlier_due(),
        deadlines: vec![DeadlineDue {
            deadline: DeadlineKind::FinalResponse,
            due_at: due(),
        }],
        by: staff("alice"),
        at: at(),
    }
}

fn paused_clock_contacted() -> ComplaintEvent {
    E::PausedClockContacted {
        contact_no: 3,
        paused_at: earlier_due(),
        at: at(),
    }
}

fn ladder_scheduled() -> ComplaintEvent {
    E::LadderScheduled {
        subject: Subject::Promise {
            promise_id: promise_id(),
        },
        subject_due_at: due(),
        rungs: vec![ScheduledRung {
            rung: 1,
            name: "breach".to_owned(),
            due_at: due(),
            remind: vec![Recipient::Owner, Recipient::Lead],
            mark_broken: true,
            escalate: Some(EscalationTarget::Manager),
        }],
        at: at(),
    }
}

fn rung_reached() -> ComplaintEvent {
    E::RungReached {
        subject: Subject::Deadline {
            deadline: DeadlineKind::FinalResponse,
        },
        rung: 2,
        name: "warning".to_owned(),
        due_at: earlier_due(),
        subject_due_at: due(),
        notified: vec![
            Notified {
                recipient: Recipient::Owner,
                who: Some("alice".to_owned()),
            },
            Notified {
                recipient: Recipient::Lead,
                who: None,
            },
        ],
        muted: vec![Recipient::Customer],
        at: at(),
    }
}

/// One sample of every variant, in declaration order.
pub(crate) fn every_variant() -> Vec<ComplaintEvent> {
    vec![
        complaint_filed(),
        contact_logged(),
        obligation_opened(),
        obligation_discharged(),
        owner_assigned(),
        handover_offered(),
        handover_accepted(),
        handover_declined(),
        taken_over(),
        handed_back_to_customer(),
        promise_made(),
        promise_kept(),
        promise_renegotiated(),
        promise_withdrawn(),
        promise_broken(),
        reminder_recorded(),
        follow_up_scheduled(),
        follow_up_completed(),
        escalated(),
        conduct_incident_recorded(),
        sensitive_case_flagged(),
        sensitive_flag_cleared(),
        non_negotiable_element_flagged(),
        resolution_proposed(),
        resolution_accepted(),
        resolution_rejected(),
        complaint_resolved(),
        complaint_closed(),
        complaint_reopened(),
        deadlines_set(),
        deadline_extended(),
        deadline_met(),
        clock_paused(),
        clock_resumed(),
        paused_clock_contacted(),
        ladder_scheduled(),
        rung_reached(),
    ]
}

/// The position of a variant in declaration order. The match has no wildcard, so a new variant
/// does not compile until it is listed here, and `every_variant_has_a_sample` then fails until
/// it gets a sample (and a snapshot test).
fn declaration_index(event: &ComplaintEvent) -> usize {
    match event {
        E::ComplaintFiled { .. } => 0,
        E::ContactLogged { .. } => 1,
        E::ObligationOpened { .. } => 2,
        E::ObligationDischarged { .. } => 3,
        E::OwnerAssigned { .. } => 4,
        E::HandoverOffered { .. } => 5,
        E::HandoverAccepted { .. } => 6,
        E::HandoverDeclined { .. } => 7,
        E::TakenOver { .. } => 8,
        E::HandedBackToCustomer { .. } => 9,
        E::PromiseMade { .. } => 10,
        E::PromiseKept { .. } => 11,
        E::PromiseRenegotiated { .. } => 12,
        E::PromiseWithdrawn { .. } => 13,
        E::PromiseBroken { .. } => 14,
        E::ReminderRecorded { .. } => 15,
        E::FollowUpScheduled { .. } => 16,
        E::FollowUpCompleted { .. } => 17,
        E::Escalated { .. } => 18,
        E::ConductIncidentRecorded { .. } => 19,
        E::SensitiveCaseFlagged { .. } => 20,
        E::SensitiveFlagCleared { .. } => 21,
        E::NonNegotiableElementFlagged { .. } => 22,
        E::ResolutionProposed { .. } => 23,
        E::ResolutionAccepted { .. } => 24,
        E::ResolutionRejected { .. } => 25,
        E::ComplaintResolved { .. } => 26,
        E::ComplaintClosed { .. } => 27,
        E::ComplaintReopened { .. } => 28,
        E::DeadlinesSet { .. } => 29,
        E::DeadlineExtended { .. } => 30,
        E::DeadlineMet { .. } => 31,
        E::ClockPaused { .. } => 32,
        E::ClockResumed { .. } => 33,
        E::PausedClockContacted { .. } => 34,
        E::LadderScheduled { .. } => 35,
        E::RungReached { .. } => 36,
    }
}

const VARIANT_COUNT: usize = 37;

// --- the format, variant by variant -----------------------------------------------------------

#[test]
fn complaint_filed_json() {
    assert_json_snapshot!(complaint_filed());
}

#[test]
fn contact_logged_json() {
    assert_json_snapshot!(contact_logged());
}

#[test]
fn obligation_opened_json() {
    assert_json_snapshot!(obligation_opened());
}

#[test]
fn obligation_discharged_json() {
    assert_json_snapshot!(obligation_discharged());
}

#[test]
fn owner_assigned_json() {
    assert_json_snapshot!(owner_assigned());
}

#[test]
fn handover_offered_json() {
    assert_json_snapshot!(handover_offered());
}

#[test]
fn handover_accepted_json() {
    assert_json_snapshot!(handover_accepted());
}

#[test]
fn handover_declined_json() {
    assert_json_snapshot!(handover_declined());
}

#[test]
fn taken_over_json() {
    assert_json_snapshot!(taken_over());
}

#[test]
fn handed_back_to_customer_json() {
    assert_json_snapshot!(handed_back_to_customer());
}

#[test]
fn promise_made_json() {
    assert_json_snapshot!(promise_made());
}

#[test]
fn promise_kept_json() {
    assert_json_snapshot!(promise_kept());
}

#[test]
fn promise_renegotiated_json() {
    assert_json_snapshot!(promise_renegotiated());
}

#[test]
fn promise_withdrawn_json() {
    assert_json_snapshot!(promise_withdrawn());
}

#[test]
fn promise_broken_json() {
    assert_json_snapshot!(promise_broken());
}

#[test]
fn reminder_recorded_json() {
    assert_json_snapshot!(reminder_recorded());
}

#[test]
fn follow_up_scheduled_json() {
    assert_json_snapshot!(follow_up_scheduled());
}

#[test]
fn follow_up_completed_json() {
    assert_json_snapshot!(follow_up_completed());
}

#[test]
fn escalated_json() {
    assert_json_snapshot!(escalated());
}

#[test]
fn conduct_incident_recorded_json() {
    assert_json_snapshot!(conduct_incident_recorded());
}

#[test]
fn sensitive_case_flagged_json() {
    assert_json_snapshot!(sensitive_case_flagged());
}

#[test]
fn sensitive_flag_cleared_json() {
    assert_json_snapshot!(sensitive_flag_cleared());
}

#[test]
fn non_negotiable_element_flagged_json() {
    assert_json_snapshot!(non_negotiable_element_flagged());
}

#[test]
fn resolution_proposed_json() {
    assert_json_snapshot!(resolution_proposed());
}

#[test]
fn resolution_accepted_json() {
    assert_json_snapshot!(resolution_accepted());
}

#[test]
fn resolution_rejected_json() {
    assert_json_snapshot!(resolution_rejected());
}

#[test]
fn complaint_resolved_json() {
    assert_json_snapshot!(complaint_resolved());
}

#[test]
fn complaint_closed_json() {
    assert_json_snapshot!(complaint_closed());
}

#[test]
fn complaint_reopened_json() {
    assert_json_snapshot!(complaint_reopened());
}

/// `Discharge` is nested in `ObligationDischarged` with its own `kind` tag: all three kinds.
#[test]
fn discharge_kinds_json() {
    let kinds = vec![
        Discharge::Reply { contact_no: 3 },
        Discharge::Promise {
            promise_id: promise_id(),
        },
        Discharge::Resolution { proposal_no: 1 },
        Discharge::FinalResponse,
    ];
    assert_json_snapshot!(kinds);
}

/// Absent optional fields are stored as `null`, not left out: readers can rely on every key.
#[test]
fn absent_optional_fields_are_stored_as_null() {
    let event = escalated_automatically();
    assert_json_snapshot!(event);
}

// --- properties of every variant -------------------------------------------------------------

#[test]
fn deadlines_set_json() {
    assert_json_snapshot!(deadlines_set());
}

#[test]
fn deadline_extended_json() {
    assert_json_snapshot!(deadline_extended());
}

#[test]
fn deadline_met_json() {
    assert_json_snapshot!(deadline_met());
}

#[test]
fn clock_paused_json() {
    assert_json_snapshot!(clock_paused());
}

#[test]
fn clock_resumed_json() {
    assert_json_snapshot!(clock_resumed());
}

#[test]
fn paused_clock_contacted_json() {
    assert_json_snapshot!(paused_clock_contacted());
}

#[test]
fn ladder_scheduled_json() {
    assert_json_snapshot!(ladder_scheduled());
}

#[test]
fn rung_reached_json() {
    assert_json_snapshot!(rung_reached());
}

#[test]
fn every_variant_has_a_sample() {
    let indices: Vec<usize> = every_variant().iter().map(declaration_index).collect();
    assert_eq!(indices, (0..VARIANT_COUNT).collect::<Vec<_>>());
}

#[test]
fn event_type_is_the_serde_tag_of_every_variant() {
    for event in every_variant() {
        let json = serde_json::to_value(&event).expect("event serializes");
        let object = json.as_object().expect("an event is a JSON object");
        let tags: Vec<&String> = object.keys().collect();
        assert_eq!(tags, vec![&event.event_type()], "{json}");
        assert!(object[&event.event_type()].is_object(), "{json}");
        assert_eq!(event.event_type(), event.name());
        assert_eq!(event.event_version(), EVENT_VERSION);
    }
}

#[test]
fn every_variant_round_trips_through_json() {
    let mut samples = every_variant();
    // The other discharge kinds, and absent optional fields, must round-trip too.
    samples.extend([
        E::ObligationDischarged {
            obligation_no: 2,
            by: Discharge::Promise {
                promise_id: promise_id(),
            },
            on_time: false,
            at: at(),
        },
        E::ObligationDischarged {
            obligation_no: 3,
            by: Discharge::Resolution { proposal_no: 1 },
            on_time: true,
            at: at(),
        },
        E::OwnerAssigned {
            owner: Owner::Person(staff("carol")),
            previous: None,
            triage_due_at: None,
            by: staff("lead"),
            at: at(),
        },
        escalated_automatically(),
    ]);
    for event in samples {
        let text = serde_json::to_string(&event).expect("event serializes");
        let back: ComplaintEvent = serde_json::from_str(&text).expect("event deserializes");
        assert_eq!(back, event, "{text}");
        // The stored form is stable: serializing again gives the same text.
        assert_eq!(
            serde_json::to_string(&back).expect("event serializes"),
            text
        );
    }
}

#[test]
fn an_unknown_event_type_is_refused() {
    let result = serde_json::from_str::<ComplaintEvent>(
        r#"{"ComplaintDeleted":{"at":"2025-03-03T09:15:30Z"}}"#,
    );
    assert!(result.is_err());
}
