//! Given/when/then tests of every rule of the `Complaint` aggregate.
//!
//! Each test states the past (`given`), one command issued through `Aggregate::handle` with a
//! [`FixedClock`] (`when_async`), and the exact events or the typed refusal it must produce
//! (`then_expect_*`). Where a rule is about the state an event leaves behind (who is accountable
//! during a handover, which promise is still owed), the test rebuilds the state with
//! [`Complaint::from_events`] and checks it.

use std::sync::Arc;

use cqrs_es::test::TestFramework;
use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

use crate::{
    Category, Channel, Complaint, ComplaintCommand, ComplaintError, ComplaintEvent,
    ComplaintServices, ConductKind, ConductResponse, Customer, CustomerReference, DeadlineKind,
    Direction, Discharge, ElementName, EscalationReason, EscalationTarget, FixedClock, FollowUpId,
    FollowUpStatus, HandBackReason, IssuedCommand, Owner, Policy, PromiseId, PromiseKind,
    PromiseStatus, PublicText, Regime, ResolutionState, SealedText, SensitiveReason, StaffAlias,
    StaffId, Status, Subject,
};

use ComplaintCommand as C;
use ComplaintEvent as E;

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

const ALICE: &str = "alice";
const BOB: &str = "bob";
const CAROL: &str = "carol";
const LEAD: &str = "lead";
const BILLING_TEAM: &str = "billing";

/// The moment the complaint is filed in every test.
fn t0() -> Timestamp {
    "2025-03-03T09:00:00Z".parse().expect("valid timestamp")
}

/// `hours` after [`t0`].
fn hours(hours: i64) -> Timestamp {
    t0() + SignedDuration::from_hours(hours)
}

/// `minutes` after [`t0`].
fn minutes(minutes: i64) -> Timestamp {
    t0() + SignedDuration::from_mins(minutes)
}

fn sealed(text: &str) -> SealedText {
    SealedText::from_stored(text.into())
}

fn staff(name: &str) -> StaffId {
    StaffId::parse(name).expect("valid staff id")
}

fn person(name: &str) -> Owner {
    Owner::Person(staff(name))
}

fn team(name: &str) -> Owner {
    Owner::Team(staff(name))
}

fn promise_id(number: u128) -> PromiseId {
    PromiseId::new(Uuid::from_u128(number))
}

fn follow_up_id(number: u128) -> FollowUpId {
    FollowUpId::new(Uuid::from_u128(0xF000 + number))
}

fn element(name: &str) -> ElementName {
    ElementName::parse(name).expect("valid element name")
}

fn public(text: &str) -> PublicText {
    PublicText::parse(text).expect("valid public text")
}

/// A test framework whose clock stands at `now`, with the default policy.
fn at(now: Timestamp) -> TestFramework<Complaint> {
    at_with(now, Policy::default())
}

/// A test framework whose clock stands at `now`, with `policy`.
fn at_with(now: Timestamp, policy: Policy) -> TestFramework<Complaint> {
    TestFramework::with(ComplaintServices::new(
        Arc::new(FixedClock::new(now)),
        policy,
    ))
}

fn by(actor: &str, command: ComplaintCommand) -> IssuedCommand {
    IssuedCommand {
        actor: staff(actor),
        command,
    }
}

fn customer() -> Customer<SealedText> {
    Customer {
        reference: CustomerReference::parse("cust-0042").expect("valid reference"),
        name: sealed("sealed:name"),
        email: Some(sealed("sealed:email")),
        phone: None,
    }
}

/// The state `events` leave behind.
fn state_after(events: &[ComplaintEvent]) -> Complaint {
    Complaint::from_events(events)
}

// --- commands --------------------------------------------------------------------------------

fn file_complaint() -> ComplaintCommand {
    C::FileComplaint {
        customer: customer(),
        channel: Channel::Phone,
        category: Category::parse("billing").expect("valid category"),
        description: sealed("sealed:charged twice"),
    }
}

fn log_contact(direction: Direction, request: bool) -> ComplaintCommand {
    C::LogContact {
        direction,
        channel: Channel::Phone,
        summary: sealed("sealed:contact"),
        request,
        alias: None,
    }
}

fn make_promise(id: PromiseId, due_at: Timestamp) -> ComplaintCommand {
    C::MakePromise {
        promise_id: id,
        kind: PromiseKind::Callback,
        description: sealed("sealed:we will call back"),
        due_at,
        concerns: None,
    }
}

fn keep_promise(id: PromiseId) -> ComplaintCommand {
    C::KeepPromise {
        promise_id: id,
        evidence: sealed("sealed:called"),
    }
}

fn renegotiate(id: PromiseId, due_at: Timestamp) -> ComplaintCommand {
    C::RenegotiatePromise {
        promise_id: id,
        due_at,
        reason: sealed("sealed:supplier late"),
        customer_agreed: true,
    }
}

fn withdraw(id: PromiseId, customer_consented: bool) -> ComplaintCommand {
    C::WithdrawPromise {
        promise_id: id,
        reason: sealed("sealed:no longer needed"),
        customer_consented,
    }
}

fn schedule_follow_up(id: FollowUpId, due_at: Timestamp) -> ComplaintCommand {
    C::ScheduleFollowUp {
        follow_up_id: id,
        description: sealed("sealed:check with supplier"),
        due_at,
    }
}

fn complete_follow_up(id: FollowUpId) -> ComplaintCommand {
    C::CompleteFollowUp {
        follow_up_id: id,
        outcome: sealed("sealed:supplier confirmed"),
    }
}

fn mark_broken(id: PromiseId) -> ComplaintCommand {
    C::MarkPromiseBroken { promise_id: id }
}

fn record_reminder(id: PromiseId, rung: u32) -> ComplaintCommand {
    C::RecordReminder {
        promise_id: id,
        rung,
    }
}

fn offer_handover(to: Owner) -> ComplaintCommand {
    C::OfferHandover { to, note: None }
}

fn propose(summary: &str) -> ComplaintCommand {
    C::ProposeResolution {
        summary: sealed(summary),
    }
}

fn customer_response(accepted: bool) -> ComplaintCommand {
    C::RecordCustomerResponse {
        accepted,
        comment: None,
    }
}

/// Resolves, with the reason for overriding the normal path if one is given.
fn resolve(override_reason: Option<&str>) -> ComplaintCommand {
    C::Resolve {
        override_reason: override_reason.map(sealed),
    }
}

fn record_incident(kind: ConductKind, response: ConductResponse) -> ComplaintCommand {
    C::RecordConductIncident {
        kind,
        response,
        description: sealed("sealed:what was said"),
        alias: None,
    }
}

/// One instance of every command, in declaration order.
fn every_command() -> Vec<ComplaintCommand> {
    vec![
        file_complaint(),
        log_contact(Direction::Inbound, true),
        C::AssignOwner { owner: person(BOB) },
        offer_handover(person(BOB)),
        C::AcceptHandover,
        C::DeclineHandover {
            reason: sealed("sealed:busy"),
        },
        C::TakeOver {
            reason: sealed("sealed:lead steps in"),
        },
        C::HandBackToCustomer {
            reason: HandBackReason::CustomerDocumentRequired,
            note: sealed("sealed:send the invoice"),
        },
        make_promise(promise_id(1), hours(100)),
        keep_promise(promise_id(1)),
        renegotiate(promise_id(1), hours(200)),
        withdraw(promise_id(1), true),
        mark_broken(promise_id(1)),
        record_reminder(promise_id(1), 1),
        schedule_follow_up(follow_up_id(1), hours(100)),
        complete_follow_up(follow_up_id(1)),
        C::Escalate {
            to: EscalationTarget::Lead,
            reason: sealed("sealed:customer asked"),
        },
        record_incident(ConductKind::Insult, ConductResponse::Warning),
        C::FlagSensitive {
            reason: SensitiveReason::Bereavement,
            note: None,
        },
        C::ClearSensitiveFlag {
            reason: sealed("sealed:settled"),
        },
        C::FlagNonNegotiable {
            element: element("statutory-fee"),
            explanation: public("set by law"),
            referral: public("the regulator"),
        },
        propose("sealed:refund"),
        customer_response(true),
        resolve(Some("sealed:override")),
        C::Close,
        C::Reopen {
            reason: sealed("sealed:came back"),
        },
        C::RecalculateDeadlines {
            regime: Some(Regime::Kifid),
            reason: sealed("sealed:wrong regime"),
        },
        C::ExtendDeadline {
            deadline: DeadlineKind::FinalResponse,
            due_at: None,
            notice: sealed("sealed:notice"),
        },
        C::PauseClock {
            reason: sealed("sealed:waiting for bank statements"),
        },
        C::ResumeClock,
        C::ReachRung {
            subject: Subject::Deadline {
                deadline: DeadlineKind::Acknowledge,
            },
            rung: 1,
        },
    ]
}

// --- events ----------------------------------------------------------------------------------

fn filed() -> ComplaintEvent {
    E::ComplaintFiled {
        customer: customer(),
        channel: Channel::Phone,
        category: Category::parse("billing").expect("valid category"),
        description: sealed("sealed:charged twice"),
        filed_by: staff(ALICE),
        at: t0(),
    }
}

fn assigned(owner: Owner, previous: Option<Owner>, at: Timestamp) -> ComplaintEvent {
    let triage_due_at = owner
        .is_team()
        .then(|| at + Policy::default().triage_within);
    E::OwnerAssigned {
        owner,
        previous,
        triage_due_at,
        by: staff(LEAD),
        at,
    }
}

/// Filed and triaged to Alice at `t0`.
fn owned_by_alice() -> Vec<ComplaintEvent> {
    vec![filed(), assigned(person(ALICE), None, t0())]
}

fn contact(contact_no: u32, direction: Direction, request: bool, at: Timestamp) -> ComplaintEvent {
    E::ContactLogged {
        contact_no,
        direction,
        channel: Channel::Phone,
        summary: sealed("sealed:contact"),
        request,
        staff: staff(ALICE),
        alias: None,
        at,
    }
}

/// An inbound request and the obligation it opened under the default policy.
fn inbound_request(contact_no: u32, obligation_no: u32, at: Timestamp) -> Vec<ComplaintEvent> {
    vec![
        contact(contact_no, Direction::Inbound, true, at),
        E::ObligationOpened {
            obligation_no,
            contact_no,
            due_at: at + Policy::default().respond_within,
        },
    ]
}

fn discharged(obligation_no: u32, by: Discharge, on_time: bool, at: Timestamp) -> ComplaintEvent {
    E::ObligationDischarged {
        obligation_no,
        by,
        on_time,
        at,
    }
}

fn escalated_automatically(to: EscalationTarget, reason: EscalationReason, at: Timestamp) -> E {
    E::Escalated {
        to,
        reason,
        note: None,
        by: None,
        at,
    }
}

fn promise_made(id: PromiseId, due_at: Timestamp) -> ComplaintEvent {
    E::PromiseMade {
        promise_id: id,
        kind: PromiseKind::Callback,
        description: sealed("sealed:we will call back"),
        due_at,
        promiser: staff(ALICE),
        concerns: None,
        at: t0(),
    }
}

fn promise_kept(id: PromiseId, on_time: bool, at: Timestamp) -> ComplaintEvent {
    E::PromiseKept {
        promise_id: id,
        evidence: sealed("sealed:called"),
        on_time,
        by: staff(ALICE),
        at,
    }
}

fn promise_broken(id: PromiseId, due_at: Timestamp, at: Timestamp) -> ComplaintEvent {
    E::PromiseBroken {
        promise_id: id,
        due_at,
        at,
    }
}

fn promise_withdrawn(id: PromiseId, at: Timestamp) -> ComplaintEvent {
    E::PromiseWithdrawn {
        promise_id: id,
        reason: sealed("sealed:no longer needed"),
        by: staff(ALICE),
        at,
    }
}

fn follow_up_scheduled(id: FollowUpId, due_at: Timestamp) -> ComplaintEvent {
    E::FollowUpScheduled {
        follow_up_id: id,
        description: sealed("sealed:check with supplier"),
        due_at,
        owner: staff(ALICE),
        at: t0(),
    }
}

fn follow_up_completed(id: FollowUpId, at: Timestamp) -> ComplaintEvent {
    E::FollowUpCompleted {
        follow_up_id: id,
        outcome: sealed("sealed:supplier confirmed"),
        on_time: true,
        by: staff(ALICE),
        at,
    }
}

fn proposed(proposal_no: u32, at: Timestamp) -> ComplaintEvent {
    E::ResolutionProposed {
        proposal_no,
        summary: sealed("sealed:refund"),
        by: staff(ALICE),
        at,
    }
}

fn accepted(proposal_no: u32, at: Timestamp) -> ComplaintEvent {
    E::ResolutionAccepted {
        proposal_no,
        comment: None,
        at,
    }
}

fn rejected(proposal_no: u32, at: Timestamp) -> ComplaintEvent {
    E::ResolutionRejected {
        proposal_no,
        comment: None,
        at,
    }
}

fn resolved(override_reason: Option<SealedText>, at: Timestamp) -> ComplaintEvent {
    E::ComplaintResolved {
        override_reason,
        by: staff(ALICE),
        at,
    }
}

/// Owned by Alice, a resolution proposed at `hours(1)` and not answered yet.
fn proposal_pending() -> Vec<ComplaintEvent> {
    with(owned_by_alice(), [proposed(1, hours(1))])
}

/// Owned by Alice, a resolution proposed at `hours(1)` and accepted at `hours(2)`.
fn proposal_accepted() -> Vec<ComplaintEvent> {
    with(proposal_pending(), [accepted(1, hours(2))])
}

/// Owned by Alice, a resolution proposed at `hours(1)` and rejected at `hours(2)`.
fn proposal_rejected() -> Vec<ComplaintEvent> {
    with(proposal_pending(), [rejected(1, hours(2))])
}

/// Owned by Alice, resolution proposed and accepted, resolved at `hours(3)`; nothing open.
fn resolved_complaint() -> Vec<ComplaintEvent> {
    with(proposal_accepted(), [resolved(None, hours(3))])
}

fn closed_complaint() -> Vec<ComplaintEvent> {
    let mut events = resolved_complaint();
    events.push(E::ComplaintClosed {
        by: staff(ALICE),
        at: hours(4),
    });
    events
}

fn non_negotiable_flagged() -> ComplaintEvent {
    E::NonNegotiableElementFlagged {
        element: element("statutory-fee"),
        explanation: public("the fee is set by the energy regulator"),
        referral: public("Energy Ombudsman, 0800 000 000"),
        by: staff(LEAD),
        at: t0(),
    }
}

fn with(mut given: Vec<ComplaintEvent>, more: impl IntoIterator<Item = ComplaintEvent>) -> Vec<E> {
    given.extend(more);
    given
}

// ---------------------------------------------------------------------------------------------
// Filing
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn filing_records_the_complaint_with_its_filer_and_time() {
    at(t0())
        .given_no_previous_events()
        .when_async(by(ALICE, file_complaint()))
        .await
        .then_expect_events(vec![filed()]);
}

#[test]
fn a_filed_complaint_is_new_and_has_no_owner() {
    let complaint = state_after(&[filed()]);
    assert_eq!(complaint.status, Status::New);
    assert_eq!(complaint.owner, None);
    assert_eq!(complaint.filed_at, Some(t0()));
    assert_eq!(
        complaint.customer_reference,
        Some(CustomerReference::parse("cust-0042").unwrap())
    );
}

#[tokio::test]
async fn filing_twice_is_refused() {
    at(hours(1))
        .given(vec![filed()])
        .when_async(by(ALICE, file_complaint()))
        .await
        .then_expect_error(ComplaintError::AlreadyFiled);
}

#[tokio::test]
async fn every_other_command_before_filing_is_refused_as_not_filed() {
    let commands = every_command();
    let names: Vec<_> = commands.iter().map(ComplaintCommand::name).collect();
    assert_eq!(
        names,
        ComplaintCommand::<SealedText>::NAMES,
        "cover every command"
    );
    for command in commands.into_iter().skip(1) {
        let name = command.name();
        let result = at(t0())
            .given_no_previous_events()
            .when_async(by(ALICE, command))
            .await
            .inspect_result();
        assert_eq!(result, Err(ComplaintError::NotFiled), "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Contacts and obligations to respond
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_inbound_request_opens_an_obligation_due_within_the_response_window() {
    at(hours(1))
        .given(vec![filed()])
        .when_async(by(ALICE, log_contact(Direction::Inbound, true)))
        .await
        .then_expect_events(vec![
            contact(1, Direction::Inbound, true, hours(1)),
            E::ObligationOpened {
                obligation_no: 1,
                contact_no: 1,
                due_at: hours(1 + 48),
            },
        ]);
}

#[tokio::test]
async fn the_response_deadline_follows_the_policy() {
    let policy = Policy {
        respond_within: SignedDuration::from_hours(2),
        ..Policy::default()
    };
    at_with(hours(1), policy)
        .given(vec![filed()])
        .when_async(by(ALICE, log_contact(Direction::Inbound, true)))
        .await
        .then_expect_events(vec![
            contact(1, Direction::Inbound, true, hours(1)),
            E::ObligationOpened {
                obligation_no: 1,
                contact_no: 1,
                due_at: hours(3),
            },
        ]);
}

#[tokio::test]
async fn obligations_and_contacts_are_numbered_in_order() {
    let given = with(
        vec![filed()],
        with(
            inbound_request(1, 1, hours(1)),
            [contact(2, Direction::Outbound, false, hours(2))],
        ),
    );
    at(hours(3))
        .given(with(
            given,
            [discharged(
                1,
                Discharge::Reply { contact_no: 2 },
                true,
                hours(2),
            )],
        ))
        .when_async(by(ALICE, log_contact(Direction::Inbound, true)))
        .await
        .then_expect_events(vec![
            contact(3, Direction::Inbound, true, hours(3)),
            E::ObligationOpened {
                obligation_no: 2,
                contact_no: 3,
                due_at: hours(3 + 48),
            },
        ]);
}

#[tokio::test]
async fn an_inbound_contact_that_asks_nothing_opens_no_obligation() {
    at(hours(1))
        .given(vec![filed()])
        .when_async(by(ALICE, log_contact(Direction::Inbound, false)))
        .await
        .then_expect_events(vec![contact(1, Direction::Inbound, false, hours(1))]);
}

#[tokio::test]
async fn the_alias_used_towards_the_customer_is_recorded_with_the_contact() {
    let alias = StaffAlias::parse("sam").unwrap();
    at(hours(1))
        .given(vec![filed()])
        .when_async(by(
            ALICE,
            C::LogContact {
                direction: Direction::Outbound,
                channel: Channel::Email,
                summary: sealed("sealed:reply"),
                request: false,
                alias: Some(alias.clone()),
            },
        ))
        .await
        .then_expect_events(vec![E::ContactLogged {
            contact_no: 1,
            direction: Direction::Outbound,
            channel: Channel::Email,
            summary: sealed("sealed:reply"),
            request: false,
            staff: staff(ALICE),
            alias: Some(alias),
            at: hours(1),
        }]);
}

#[tokio::test]
async fn a_reply_discharges_every_open_obligation_on_time_or_late_by_its_own_deadline() {
    // Obligations 1 to 3 were answered at 12h; obligation 4 is due at 61h, obligation 5 at 68h.
    let given = [
        vec![filed()],
        inbound_request(1, 1, hours(1)),
        inbound_request(2, 2, hours(10)),
        inbound_request(3, 3, hours(11)),
        vec![
            contact(4, Direction::Outbound, false, hours(12)),
            discharged(1, Discharge::Reply { contact_no: 4 }, true, hours(12)),
            discharged(2, Discharge::Reply { contact_no: 4 }, true, hours(12)),
            discharged(3, Discharge::Reply { contact_no: 4 }, true, hours(12)),
        ],
        inbound_request(5, 4, hours(13)),
        inbound_request(6, 5, hours(20)),
    ]
    .concat();
    // A reply at 62h is late for obligation 4 and on time for obligation 5.
    at(hours(62))
        .given(given)
        .when_async(by(BOB, log_contact(Direction::Outbound, false)))
        .await
        .then_expect_events(vec![
            E::ContactLogged {
                contact_no: 7,
                direction: Direction::Outbound,
                channel: Channel::Phone,
                summary: sealed("sealed:contact"),
                request: false,
                staff: staff(BOB),
                alias: None,
                at: hours(62),
            },
            discharged(4, Discharge::Reply { contact_no: 7 }, false, hours(62)),
            discharged(5, Discharge::Reply { contact_no: 7 }, true, hours(62)),
        ]);
}

#[tokio::test]
async fn a_reply_exactly_at_the_deadline_is_on_time() {
    at(hours(49))
        .given(with(vec![filed()], inbound_request(1, 1, hours(1))))
        .when_async(by(ALICE, log_contact(Direction::Outbound, false)))
        .await
        .then_expect_events(vec![
            contact(2, Direction::Outbound, false, hours(49)),
            discharged(1, Discharge::Reply { contact_no: 2 }, true, hours(49)),
        ]);
}

#[tokio::test]
async fn a_reply_with_nothing_owed_only_logs_the_contact() {
    at(hours(1))
        .given(vec![filed()])
        .when_async(by(ALICE, log_contact(Direction::Outbound, false)))
        .await
        .then_expect_events(vec![contact(1, Direction::Outbound, false, hours(1))]);
}

#[test]
fn a_discharged_obligation_records_what_discharged_it() {
    let events = with(
        with(vec![filed()], inbound_request(1, 1, hours(1))),
        [
            contact(2, Direction::Outbound, false, hours(2)),
            discharged(1, Discharge::Reply { contact_no: 2 }, true, hours(2)),
        ],
    );
    let complaint = state_after(&events);
    assert_eq!(complaint.unmet_obligation_nos(), Vec::<u32>::new());
    assert_eq!(
        complaint.obligations[&1].discharged,
        Some(Discharge::Reply { contact_no: 2 })
    );
    assert_eq!(complaint.contacts, 2);
}

// ---------------------------------------------------------------------------------------------
// Repeat contacts: Special Care
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_inbound_contact_that_reaches_the_threshold_escalates_to_special_care() {
    let given = vec![
        filed(),
        contact(1, Direction::Inbound, false, hours(1)),
        contact(2, Direction::Inbound, false, hours(2)),
    ];
    at(hours(3))
        .given(given)
        .when_async(by(ALICE, log_contact(Direction::Inbound, true)))
        .await
        .then_expect_events(vec![
            contact(3, Direction::Inbound, true, hours(3)),
            E::ObligationOpened {
                obligation_no: 1,
                contact_no: 3,
                due_at: hours(3 + 48),
            },
            escalated_automatically(
                EscalationTarget::SpecialCare,
                EscalationReason::RepeatContacts,
                hours(3),
            ),
        ]);
}

#[tokio::test]
async fn outbound_contacts_do_not_count_towards_the_threshold() {
    let given = vec![
        filed(),
        contact(1, Direction::Inbound, false, hours(1)),
        contact(2, Direction::Outbound, false, hours(2)),
        contact(3, Direction::Outbound, false, hours(3)),
    ];
    at(hours(4))
        .given(given)
        .when_async(by(ALICE, log_contact(Direction::Inbound, false)))
        .await
        .then_expect_events(vec![contact(4, Direction::Inbound, false, hours(4))]);
}

#[tokio::test]
async fn the_repeat_contact_threshold_follows_the_policy() {
    let policy = Policy {
        repeat_contact_threshold: 2,
        ..Policy::default()
    };
    at_with(hours(2), policy)
        .given(vec![
            filed(),
            contact(1, Direction::Inbound, false, hours(1)),
        ])
        .when_async(by(ALICE, log_contact(Direction::Inbound, false)))
        .await
        .then_expect_events(vec![
            contact(2, Direction::Inbound, false, hours(2)),
            escalated_automatically(
                EscalationTarget::SpecialCare,
                EscalationReason::RepeatContacts,
                hours(2),
            ),
        ]);
}

#[tokio::test]
async fn a_zero_threshold_turns_the_repeat_contact_rule_off() {
    let policy = Policy {
        repeat_contact_threshold: 0,
        ..Policy::default()
    };
    let given = vec![
        filed(),
        contact(1, Direction::Inbound, false, hours(1)),
        contact(2, Direction::Inbound, false, hours(2)),
        contact(3, Direction::Inbound, false, hours(3)),
    ];
    at_with(hours(4), policy)
        .given(given)
        .when_async(by(ALICE, log_contact(Direction::Inbound, false)))
        .await
        .then_expect_events(vec![contact(4, Direction::Inbound, false, hours(4))]);
}

#[tokio::test]
async fn the_repeat_contact_escalation_happens_once_only() {
    let given = vec![
        filed(),
        contact(1, Direction::Inbound, false, hours(1)),
        contact(2, Direction::Inbound, false, hours(2)),
        contact(3, Direction::Inbound, false, hours(3)),
        escalated_automatically(
            EscalationTarget::SpecialCare,
            EscalationReason::RepeatContacts,
            hours(3),
        ),
    ];
    at(hours(4))
        .given(given)
        .when_async(by(ALICE, log_contact(Direction::Inbound, false)))
        .await
        .then_expect_events(vec![contact(4, Direction::Inbound, false, hours(4))]);
}

#[tokio::test]
async fn no_repeat_contact_escalation_when_special_care_already_has_the_case() {
    let given = vec![
        filed(),
        E::Escalated {
            to: EscalationTarget::SpecialCare,
            reason: EscalationReason::Requested,
            note: Some(sealed("sealed:vulnerable customer")),
            by: Some(staff(LEAD)),
            at: minutes(30),
        },
        contact(1, Direction::Inbound, false, hours(1)),
        contact(2, Direction::Inbound, false, hours(2)),
    ];
    at(hours(3))
        .given(given)
        .when_async(by(ALICE, log_contact(Direction::Inbound, false)))
        .await
        .then_expect_events(vec![contact(3, Direction::Inbound, false, hours(3))]);
}

#[tokio::test]
async fn a_resolution_restarts_the_repeat_contact_count() {
    // Two inbound contacts before the resolution, one after the reopening: not three in a row.
    let given = [
        owned_by_alice(),
        vec![
            contact(1, Direction::Inbound, false, hours(1)),
            contact(2, Direction::Inbound, false, hours(2)),
            resolved(Some(sealed("sealed:goodwill refund")), hours(3)),
            E::ComplaintReopened {
                reason: sealed("sealed:refund missing"),
                by: staff(ALICE),
                at: hours(4),
            },
            contact(3, Direction::Inbound, false, hours(5)),
        ],
    ]
    .concat();
    at(hours(6))
        .given(given)
        .when_async(by(ALICE, log_contact(Direction::Inbound, false)))
        .await
        .then_expect_events(vec![contact(4, Direction::Inbound, false, hours(6))]);
}

#[tokio::test]
async fn contacts_on_a_resolved_complaint_do_not_escalate_to_special_care() {
    let given = with(
        resolved_complaint(),
        [
            contact(1, Direction::Inbound, false, hours(4)),
            contact(2, Direction::Inbound, false, hours(5)),
        ],
    );
    at(hours(6))
        .given(given)
        .when_async(by(ALICE, log_contact(Direction::Inbound, false)))
        .await
        .then_expect_events(vec![contact(3, Direction::Inbound, false, hours(6))]);
}

// ---------------------------------------------------------------------------------------------
// Ownership: triage, team queues, pick-up
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn triage_assigns_a_person_as_owner() {
    at(hours(1))
        .given(vec![filed()])
        .when_async(by(LEAD, C::AssignOwner { owner: person(BOB) }))
        .await
        .then_expect_events(vec![E::OwnerAssigned {
            owner: person(BOB),
            previous: None,
            triage_due_at: None,
            by: staff(LEAD),
            at: hours(1),
        }]);
}

#[test]
fn an_assigned_complaint_is_open_with_its_owner() {
    let complaint = state_after(&[filed(), assigned(person(BOB), None, hours(1))]);
    assert_eq!(complaint.status, Status::Open);
    assert_eq!(complaint.owner, Some(person(BOB)));
    assert_eq!(complaint.triage_due_at, None);
}

#[tokio::test]
async fn a_team_queue_gets_a_triage_deadline() {
    at(hours(1))
        .given(vec![filed()])
        .when_async(by(
            LEAD,
            C::AssignOwner {
                owner: team(BILLING_TEAM),
            },
        ))
        .await
        .then_expect_events(vec![E::OwnerAssigned {
            owner: team(BILLING_TEAM),
            previous: None,
            triage_due_at: Some(hours(1 + 4)),
            by: staff(LEAD),
            at: hours(1),
        }]);
}

#[tokio::test]
async fn a_person_picks_the_complaint_up_from_the_team_queue() {
    at(hours(2))
        .given(vec![filed(), assigned(team(BILLING_TEAM), None, hours(1))])
        .when_async(by(
            CAROL,
            C::AssignOwner {
                owner: person(CAROL),
            },
        ))
        .await
        .then_expect_events(vec![E::OwnerAssigned {
            owner: person(CAROL),
            previous: Some(team(BILLING_TEAM)),
            triage_due_at: None,
            by: staff(CAROL),
            at: hours(2),
        }]);
}

#[test]
fn picking_up_from_the_team_queue_ends_the_triage_deadline() {
    let in_queue = state_after(&[filed(), assigned(team(BILLING_TEAM), None, hours(1))]);
    assert_eq!(in_queue.owner, Some(team(BILLING_TEAM)));
    assert_eq!(in_queue.triage_due_at, Some(hours(5)));

    let picked_up = state_after(&[
        filed(),
        assigned(team(BILLING_TEAM), None, hours(1)),
        assigned(person(CAROL), Some(team(BILLING_TEAM)), hours(2)),
    ]);
    assert_eq!(picked_up.owner, Some(person(CAROL)));
    assert_eq!(picked_up.triage_due_at, None);
    assert_eq!(picked_up.status, Status::Open);
}

#[tokio::test]
async fn assigning_a_complaint_a_person_owns_is_refused() {
    at(hours(1))
        .given(owned_by_alice())
        .when_async(by(LEAD, C::AssignOwner { owner: person(BOB) }))
        .await
        .then_expect_error(ComplaintError::AlreadyOwned {
            owner: person(ALICE),
        });
}

#[tokio::test]
async fn moving_a_personally_owned_complaint_to_a_team_queue_is_refused() {
    at(hours(1))
        .given(owned_by_alice())
        .when_async(by(
            LEAD,
            C::AssignOwner {
                owner: team(BILLING_TEAM),
            },
        ))
        .await
        .then_expect_error(ComplaintError::AlreadyOwned {
            owner: person(ALICE),
        });
}

#[tokio::test]
async fn assigning_the_current_owner_again_is_refused() {
    at(hours(1))
        .given(owned_by_alice())
        .when_async(by(
            LEAD,
            C::AssignOwner {
                owner: person(ALICE),
            },
        ))
        .await
        .then_expect_error(ComplaintError::AlreadyOwner {
            owner: person(ALICE),
        });

    at(hours(2))
        .given(vec![filed(), assigned(team(BILLING_TEAM), None, hours(1))])
        .when_async(by(
            LEAD,
            C::AssignOwner {
                owner: team(BILLING_TEAM),
            },
        ))
        .await
        .then_expect_error(ComplaintError::AlreadyOwner {
            owner: team(BILLING_TEAM),
        });
}

// ---------------------------------------------------------------------------------------------
// Handover: an offer until accepted
// ---------------------------------------------------------------------------------------------

fn handover_offered_to(to: Owner, at: Timestamp) -> ComplaintEvent {
    E::HandoverOffered {
        from: person(ALICE),
        to,
        note: Some(sealed("sealed:you know this supplier")),
        by: staff(ALICE),
        at,
    }
}

fn offered_to_bob() -> Vec<ComplaintEvent> {
    with(
        owned_by_alice(),
        [handover_offered_to(person(BOB), hours(1))],
    )
}

#[tokio::test]
async fn the_owner_offers_a_handover() {
    at(hours(1))
        .given(owned_by_alice())
        .when_async(by(
            ALICE,
            C::OfferHandover {
                to: person(BOB),
                note: Some(sealed("sealed:you know this supplier")),
            },
        ))
        .await
        .then_expect_events(vec![handover_offered_to(person(BOB), hours(1))]);
}

#[test]
fn the_previous_owner_stays_accountable_until_the_handover_is_accepted() {
    let offered = state_after(&offered_to_bob());
    assert_eq!(offered.owner, Some(person(ALICE)));
    let offer = offered.pending_handover.expect("offer pending");
    assert_eq!(
        (offer.from, offer.to, offer.offered_at),
        (person(ALICE), person(BOB), hours(1))
    );

    let accepted = state_after(&with(
        offered_to_bob(),
        [E::HandoverAccepted {
            from: person(ALICE),
            to: person(BOB),
            triage_due_at: None,
            by: staff(BOB),
            at: hours(2),
        }],
    ));
    assert_eq!(accepted.owner, Some(person(BOB)));
    assert_eq!(accepted.pending_handover, None);
}

#[tokio::test]
async fn the_previous_owner_can_still_act_while_a_handover_is_pending() {
    at(hours(2))
        .given(offered_to_bob())
        .when_async(by(ALICE, propose("sealed:refund")))
        .await
        .then_expect_events(vec![proposed(1, hours(2))]);
}

#[tokio::test]
async fn a_handover_needs_an_owner_to_hand_over() {
    at(hours(1))
        .given(vec![filed()])
        .when_async(by(ALICE, offer_handover(person(BOB))))
        .await
        .then_expect_error(ComplaintError::NoOwner);
}

#[tokio::test]
async fn a_handover_to_the_current_owner_is_refused() {
    at(hours(1))
        .given(owned_by_alice())
        .when_async(by(ALICE, offer_handover(person(ALICE))))
        .await
        .then_expect_error(ComplaintError::AlreadyOwner {
            owner: person(ALICE),
        });
}

#[tokio::test]
async fn a_second_handover_while_one_is_pending_is_refused() {
    at(hours(2))
        .given(offered_to_bob())
        .when_async(by(ALICE, offer_handover(person(CAROL))))
        .await
        .then_expect_error(ComplaintError::HandoverPending { to: person(BOB) });
}

#[tokio::test]
async fn the_receiver_accepts_the_handover() {
    at(hours(2))
        .given(offered_to_bob())
        .when_async(by(BOB, C::AcceptHandover))
        .await
        .then_expect_events(vec![E::HandoverAccepted {
            from: person(ALICE),
            to: person(BOB),
            triage_due_at: None,
            by: staff(BOB),
            at: hours(2),
        }]);
}

#[tokio::test]
async fn only_the_receiver_can_answer_a_handover() {
    for actor in [ALICE, CAROL] {
        at(hours(2))
            .given(offered_to_bob())
            .when_async(by(actor, C::AcceptHandover))
            .await
            .then_expect_error(ComplaintError::NotHandoverReceiver { to: person(BOB) });
        at(hours(2))
            .given(offered_to_bob())
            .when_async(by(
                actor,
                C::DeclineHandover {
                    reason: sealed("sealed:not mine"),
                },
            ))
            .await
            .then_expect_error(ComplaintError::NotHandoverReceiver { to: person(BOB) });
    }
}

#[tokio::test]
async fn a_member_of_the_receiving_team_accepts_a_handover_to_a_team_queue() {
    at(hours(2))
        .given(with(
            owned_by_alice(),
            [handover_offered_to(team(BILLING_TEAM), hours(1))],
        ))
        .when_async(by(CAROL, C::AcceptHandover))
        .await
        .then_expect_events(vec![E::HandoverAccepted {
            from: person(ALICE),
            to: team(BILLING_TEAM),
            triage_due_at: Some(hours(6)),
            by: staff(CAROL),
            at: hours(2),
        }]);
}

#[test]
fn a_team_queue_reached_by_handover_gets_a_triage_deadline() {
    let accepted = state_after(&with(
        with(
            owned_by_alice(),
            [handover_offered_to(team(BILLING_TEAM), hours(1))],
        ),
        [E::HandoverAccepted {
            from: person(ALICE),
            to: team(BILLING_TEAM),
            triage_due_at: Some(hours(6)),
            by: staff(CAROL),
            at: hours(2),
        }],
    ));
    assert_eq!(accepted.owner, Some(team(BILLING_TEAM)));
    assert_eq!(accepted.triage_due_at, Some(hours(6)));
}

#[tokio::test]
async fn the_offerer_cannot_accept_their_own_handover_to_a_team() {
    at(hours(2))
        .given(with(
            owned_by_alice(),
            [handover_offered_to(team(BILLING_TEAM), hours(1))],
        ))
        .when_async(by(ALICE, C::AcceptHandover))
        .await
        .then_expect_error(ComplaintError::NotHandoverReceiver {
            to: team(BILLING_TEAM),
        });
}

#[tokio::test]
async fn the_receiver_declines_the_handover() {
    at(hours(2))
        .given(offered_to_bob())
        .when_async(by(
            BOB,
            C::DeclineHandover {
                reason: sealed("sealed:on leave"),
            },
        ))
        .await
        .then_expect_events(vec![E::HandoverDeclined {
            to: person(BOB),
            reason: sealed("sealed:on leave"),
            by: staff(BOB),
            at: hours(2),
        }]);
}

#[test]
fn a_declined_handover_leaves_the_owner_in_place() {
    let complaint = state_after(&with(
        offered_to_bob(),
        [E::HandoverDeclined {
            to: person(BOB),
            reason: sealed("sealed:on leave"),
            by: staff(BOB),
            at: hours(2),
        }],
    ));
    assert_eq!(complaint.owner, Some(person(ALICE)));
    assert_eq!(complaint.pending_handover, None);
}

#[tokio::test]
async fn answering_without_a_pending_handover_is_refused() {
    let declined = with(
        offered_to_bob(),
        [E::HandoverDeclined {
            to: person(BOB),
            reason: sealed("sealed:on leave"),
            by: staff(BOB),
            at: hours(2),
        }],
    );
    for given in [owned_by_alice(), declined] {
        at(hours(3))
            .given(given.clone())
            .when_async(by(BOB, C::AcceptHandover))
            .await
            .then_expect_error(ComplaintError::NoHandoverPending);
        at(hours(3))
            .given(given)
            .when_async(by(
                BOB,
                C::DeclineHandover {
                    reason: sealed("sealed:no"),
                },
            ))
            .await
            .then_expect_error(ComplaintError::NoHandoverPending);
    }
}

// ---------------------------------------------------------------------------------------------
// Take-over
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_lead_takes_the_complaint_over() {
    at(hours(1))
        .given(owned_by_alice())
        .when_async(by(
            LEAD,
            C::TakeOver {
                reason: sealed("sealed:alice is ill"),
            },
        ))
        .await
        .then_expect_events(vec![E::TakenOver {
            from: person(ALICE),
            to: person(LEAD),
            reason: sealed("sealed:alice is ill"),
            at: hours(1),
        }]);
}

#[test]
fn a_take_over_moves_ownership_and_ends_a_pending_handover_and_triage_deadline() {
    let from_handover = state_after(&with(
        offered_to_bob(),
        [E::TakenOver {
            from: person(ALICE),
            to: person(LEAD),
            reason: sealed("sealed:alice is ill"),
            at: hours(2),
        }],
    ));
    assert_eq!(from_handover.owner, Some(person(LEAD)));
    assert_eq!(from_handover.pending_handover, None);

    let from_queue = state_after(&[
        filed(),
        assigned(team(BILLING_TEAM), None, hours(1)),
        E::TakenOver {
            from: team(BILLING_TEAM),
            to: person(LEAD),
            reason: sealed("sealed:queue is full"),
            at: hours(2),
        },
    ]);
    assert_eq!(from_queue.owner, Some(person(LEAD)));
    assert_eq!(from_queue.triage_due_at, None);
}

#[tokio::test]
async fn taking_over_needs_an_owner_and_a_different_person() {
    at(hours(1))
        .given(vec![filed()])
        .when_async(by(
            LEAD,
            C::TakeOver {
                reason: sealed("sealed:mine"),
            },
        ))
        .await
        .then_expect_error(ComplaintError::NoOwner);

    at(hours(1))
        .given(owned_by_alice())
        .when_async(by(
            ALICE,
            C::TakeOver {
                reason: sealed("sealed:mine"),
            },
        ))
        .await
        .then_expect_error(ComplaintError::AlreadyOwner {
            owner: person(ALICE),
        });
}

// ---------------------------------------------------------------------------------------------
// Hand-back to the customer
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_hand_back_is_recorded_for_each_allowed_reason() {
    for reason in [
        HandBackReason::CustomerDecisionRequired,
        HandBackReason::CustomerDocumentRequired,
        HandBackReason::OutsideOurRemit,
    ] {
        at(hours(1))
            .given(owned_by_alice())
            .when_async(by(
                ALICE,
                C::HandBackToCustomer {
                    reason,
                    note: sealed("sealed:please send the meter photo"),
                },
            ))
            .await
            .then_expect_events(vec![E::HandedBackToCustomer {
                reason,
                note: sealed("sealed:please send the meter photo"),
                by: staff(ALICE),
                at: hours(1),
            }]);
    }
}

#[test]
fn a_hand_back_is_counted_and_is_not_an_ownership_change() {
    let complaint = state_after(&with(
        owned_by_alice(),
        [E::HandedBackToCustomer {
            reason: HandBackReason::OutsideOurRemit,
            note: sealed("sealed:ask your bank"),
            by: staff(ALICE),
            at: hours(1),
        }],
    ));
    assert_eq!(complaint.hand_backs, 1);
    assert_eq!(complaint.owner, Some(person(ALICE)));
    assert_eq!(complaint.status, Status::Open);
}

#[tokio::test]
async fn handing_a_third_party_dependency_back_to_the_customer_is_refused() {
    at(hours(1))
        .given(owned_by_alice())
        .when_async(by(
            ALICE,
            C::HandBackToCustomer {
                reason: HandBackReason::ThirdPartyDependency,
                note: sealed("sealed:call the supplier yourself"),
            },
        ))
        .await
        .then_expect_error(ComplaintError::HandBackRefused {
            reason: HandBackReason::ThirdPartyDependency,
        });
}

// ---------------------------------------------------------------------------------------------
// Promises: making
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_promise_is_made_by_the_actor_who_stays_accountable() {
    at(t0())
        .given(owned_by_alice())
        .when_async(by(ALICE, make_promise(promise_id(1), hours(24))))
        .await
        .then_expect_events(vec![promise_made(promise_id(1), hours(24))]);
}

#[test]
fn a_new_promise_is_pending_and_owed() {
    let complaint = state_after(&with(
        owned_by_alice(),
        [promise_made(promise_id(1), hours(24))],
    ));
    let promise = &complaint.promises[&promise_id(1)];
    assert_eq!(promise.status, PromiseStatus::Pending);
    assert_eq!(promise.due_at, hours(24));
    assert_eq!(promise.promiser, staff(ALICE));
    assert_eq!(complaint.open_promise_ids(), vec![promise_id(1)]);
}

#[tokio::test]
async fn a_promise_discharges_every_open_obligation() {
    // Obligation 1 was due at 49h (late at 50h), obligation 2 at 58h (on time at 50h).
    let given = [
        owned_by_alice(),
        inbound_request(1, 1, hours(1)),
        inbound_request(2, 2, hours(10)),
    ]
    .concat();
    at(hours(50))
        .given(given)
        .when_async(by(BOB, make_promise(promise_id(7), hours(72))))
        .await
        .then_expect_events(vec![
            E::PromiseMade {
                promise_id: promise_id(7),
                kind: PromiseKind::Callback,
                description: sealed("sealed:we will call back"),
                due_at: hours(72),
                promiser: staff(BOB),
                concerns: None,
                at: hours(50),
            },
            discharged(
                1,
                Discharge::Promise {
                    promise_id: promise_id(7),
                },
                false,
                hours(50),
            ),
            discharged(
                2,
                Discharge::Promise {
                    promise_id: promise_id(7),
                },
                true,
                hours(50),
            ),
        ]);
}

#[tokio::test]
async fn a_promise_due_now_or_earlier_is_refused() {
    for due_at in [hours(5), hours(4)] {
        at(hours(5))
            .given(owned_by_alice())
            .when_async(by(ALICE, make_promise(promise_id(1), due_at)))
            .await
            .then_expect_error(ComplaintError::DueInPast {
                due_at,
                now: hours(5),
            });
    }
}

#[tokio::test]
async fn a_promise_id_is_used_once() {
    // Even a promise that was kept keeps its id: a new promise needs a new id.
    let kept = with(
        owned_by_alice(),
        [
            promise_made(promise_id(1), hours(24)),
            promise_kept(promise_id(1), true, hours(2)),
        ],
    );
    for given in [
        with(owned_by_alice(), [promise_made(promise_id(1), hours(24))]),
        kept,
    ] {
        at(hours(3))
            .given(given)
            .when_async(by(ALICE, make_promise(promise_id(1), hours(48))))
            .await
            .then_expect_error(ComplaintError::PromiseExists {
                promise_id: promise_id(1),
            });
    }
}

#[tokio::test]
async fn a_promise_to_change_a_non_negotiable_element_is_refused_with_the_explanation() {
    let result = at(hours(1))
        .given(with(owned_by_alice(), [non_negotiable_flagged()]))
        .when_async(by(
            ALICE,
            C::MakePromise {
                promise_id: promise_id(1),
                kind: PromiseKind::Refund,
                description: sealed("sealed:we will waive the fee"),
                due_at: hours(24),
                concerns: Some(element("statutory-fee")),
            },
        ))
        .await
        .inspect_result();
    let error = result.expect_err("the promise must be refused");
    assert_eq!(
        error,
        ComplaintError::NonNegotiableElement {
            element: element("statutory-fee"),
            explanation: public("the fee is set by the energy regulator"),
            referral: public("Energy Ombudsman, 0800 000 000"),
        }
    );
    assert_eq!(error.slug(), "non-negotiable-element");
    assert_eq!(
        error.to_string(),
        "statutory-fee is non-negotiable: the fee is set by the energy regulator \
         (referral: Energy Ombudsman, 0800 000 000)"
    );
}

#[tokio::test]
async fn renegotiating_a_promise_about_an_element_flagged_later_is_refused() {
    let mut made = promise_made(promise_id(1), hours(24));
    if let E::PromiseMade { concerns, .. } = &mut made {
        *concerns = Some(element("statutory-fee"));
    }
    at(hours(2))
        .given(with(owned_by_alice(), [made, non_negotiable_flagged()]))
        .when_async(by(
            ALICE,
            C::RenegotiatePromise {
                promise_id: promise_id(1),
                due_at: hours(48),
                reason: sealed("sealed:need more time"),
                customer_agreed: true,
            },
        ))
        .await
        .then_expect_error(ComplaintError::NonNegotiableElement {
            element: element("statutory-fee"),
            explanation: public("the fee is set by the energy regulator"),
            referral: public("Energy Ombudsman, 0800 000 000"),
        });
}

#[tokio::test]
async fn a_promise_about_another_element_is_allowed() {
    at(hours(1))
        .given(with(owned_by_alice(), [non_negotiable_flagged()]))
        .when_async(by(
            ALICE,
            C::MakePromise {
                promise_id: promise_id(1),
                kind: PromiseKind::Refund,
                description: sealed("sealed:we refund the late fee"),
                due_at: hours(24),
                concerns: Some(element("late-fee")),
            },
        ))
        .await
        .then_expect_events(vec![E::PromiseMade {
            promise_id: promise_id(1),
            kind: PromiseKind::Refund,
            description: sealed("sealed:we refund the late fee"),
            due_at: hours(24),
            promiser: staff(ALICE),
            concerns: Some(element("late-fee")),
            at: hours(1),
        }]);
}

// ---------------------------------------------------------------------------------------------
// Promises: keeping
// ---------------------------------------------------------------------------------------------

fn promised(due_at: Timestamp) -> Vec<ComplaintEvent> {
    with(owned_by_alice(), [promise_made(promise_id(1), due_at)])
}

#[tokio::test]
async fn a_promise_kept_by_its_due_time_is_kept_on_time() {
    // Exactly at the due time still counts as on time.
    for now in [hours(10), hours(24)] {
        at(now)
            .given(promised(hours(24)))
            .when_async(by(BOB, keep_promise(promise_id(1))))
            .await
            .then_expect_events(vec![E::PromiseKept {
                promise_id: promise_id(1),
                evidence: sealed("sealed:called"),
                on_time: true,
                by: staff(BOB),
                at: now,
            }]);
    }
}

#[tokio::test]
async fn a_promise_kept_after_its_due_time_is_kept_late() {
    at(hours(24) + SignedDuration::from_secs(1))
        .given(promised(hours(24)))
        .when_async(by(ALICE, keep_promise(promise_id(1))))
        .await
        .then_expect_events(vec![E::PromiseKept {
            promise_id: promise_id(1),
            evidence: sealed("sealed:called"),
            on_time: false,
            by: staff(ALICE),
            at: hours(24) + SignedDuration::from_secs(1),
        }]);
}

#[tokio::test]
async fn a_broken_promise_can_still_be_kept_late() {
    let given = with(
        promised(hours(24)),
        [promise_broken(promise_id(1), hours(24), hours(25))],
    );
    at(hours(30))
        .given(given)
        .when_async(by(ALICE, keep_promise(promise_id(1))))
        .await
        .then_expect_events(vec![promise_kept(promise_id(1), false, hours(30))]);
}

#[test]
fn a_kept_promise_is_no_longer_owed() {
    let complaint = state_after(&with(
        promised(hours(24)),
        [promise_kept(promise_id(1), false, hours(30))],
    ));
    assert_eq!(
        complaint.promises[&promise_id(1)].status,
        PromiseStatus::Kept { on_time: false }
    );
    assert_eq!(complaint.open_promise_ids(), Vec::<PromiseId>::new());
}

#[tokio::test]
async fn an_unknown_promise_cannot_be_acted_on() {
    let unknown = promise_id(99);
    let commands = vec![
        keep_promise(unknown),
        renegotiate(unknown, hours(48)),
        withdraw(unknown, true),
        mark_broken(unknown),
        record_reminder(unknown, 1),
    ];
    for command in commands {
        let name = command.name();
        let result = at(hours(30))
            .given(promised(hours(24)))
            .when_async(by(ALICE, command))
            .await
            .inspect_result();
        assert_eq!(
            result,
            Err(ComplaintError::PromiseNotFound {
                promise_id: unknown
            }),
            "{name}"
        );
    }
}

/// Every command that changes an existing promise 1, at a time after its due time.
fn every_promise_change() -> Vec<ComplaintCommand> {
    vec![
        keep_promise(promise_id(1)),
        renegotiate(promise_id(1), hours(48)),
        withdraw(promise_id(1), true),
        mark_broken(promise_id(1)),
        record_reminder(promise_id(1), 1),
    ]
}

#[tokio::test]
async fn a_kept_promise_refuses_further_changes() {
    let given = with(
        promised(hours(24)),
        [promise_kept(promise_id(1), true, hours(20))],
    );
    for command in every_promise_change() {
        let name = command.name();
        let result = at(hours(30))
            .given(given.clone())
            .when_async(by(ALICE, command))
            .await
            .inspect_result();
        assert_eq!(
            result,
            Err(ComplaintError::PromiseAlreadyKept {
                promise_id: promise_id(1)
            }),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_withdrawn_promise_refuses_further_changes() {
    let given = with(
        promised(hours(24)),
        [promise_withdrawn(promise_id(1), hours(20))],
    );
    for command in every_promise_change() {
        let name = command.name();
        let result = at(hours(30))
            .given(given.clone())
            .when_async(by(ALICE, command))
            .await
            .inspect_result();
        assert_eq!(
            result,
            Err(ComplaintError::PromiseWithdrawn {
                promise_id: promise_id(1)
            }),
            "{name}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Promises: renegotiating, withdrawing, breaking
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_renegotiation_moves_the_due_time_with_a_reason() {
    at(hours(10))
        .given(promised(hours(24)))
        .when_async(by(
            BOB,
            C::RenegotiatePromise {
                promise_id: promise_id(1),
                due_at: hours(72),
                reason: sealed("sealed:part on back order"),
                customer_agreed: false,
            },
        ))
        .await
        .then_expect_events(vec![E::PromiseRenegotiated {
            promise_id: promise_id(1),
            previous_due_at: hours(24),
            due_at: hours(72),
            reason: sealed("sealed:part on back order"),
            customer_agreed: false,
            by: staff(BOB),
            at: hours(10),
        }]);
}

#[tokio::test]
async fn a_renegotiation_may_bring_the_due_time_forward() {
    at(hours(10))
        .given(promised(hours(24)))
        .when_async(by(ALICE, renegotiate(promise_id(1), hours(12))))
        .await
        .then_expect_events(vec![E::PromiseRenegotiated {
            promise_id: promise_id(1),
            previous_due_at: hours(24),
            due_at: hours(12),
            reason: sealed("sealed:supplier late"),
            customer_agreed: true,
            by: staff(ALICE),
            at: hours(10),
        }]);
}

#[tokio::test]
async fn a_renegotiation_to_the_same_due_time_is_refused() {
    at(hours(10))
        .given(promised(hours(24)))
        .when_async(by(ALICE, renegotiate(promise_id(1), hours(24))))
        .await
        .then_expect_error(ComplaintError::DueTimeUnchanged {
            promise_id: promise_id(1),
            due_at: hours(24),
        });
}

#[tokio::test]
async fn a_renegotiation_into_the_past_is_refused() {
    for due_at in [hours(10), hours(9)] {
        at(hours(10))
            .given(promised(hours(24)))
            .when_async(by(ALICE, renegotiate(promise_id(1), due_at)))
            .await
            .then_expect_error(ComplaintError::DueInPast {
                due_at,
                now: hours(10),
            });
    }
}

#[tokio::test]
async fn a_broken_promise_can_be_renegotiated() {
    let given = with(
        promised(hours(24)),
        [promise_broken(promise_id(1), hours(24), hours(25))],
    );
    at(hours(30))
        .given(given)
        .when_async(by(ALICE, renegotiate(promise_id(1), hours(48))))
        .await
        .then_expect_events(vec![E::PromiseRenegotiated {
            promise_id: promise_id(1),
            previous_due_at: hours(24),
            due_at: hours(48),
            reason: sealed("sealed:supplier late"),
            customer_agreed: true,
            by: staff(ALICE),
            at: hours(30),
        }]);
}

#[test]
fn a_renegotiated_promise_is_pending_again_at_its_new_due_time() {
    let complaint = state_after(&with(
        promised(hours(24)),
        [
            promise_broken(promise_id(1), hours(24), hours(25)),
            E::PromiseRenegotiated {
                promise_id: promise_id(1),
                previous_due_at: hours(24),
                due_at: hours(48),
                reason: sealed("sealed:supplier late"),
                customer_agreed: true,
                by: staff(ALICE),
                at: hours(30),
            },
        ],
    ));
    let promise = &complaint.promises[&promise_id(1)];
    assert_eq!(promise.status, PromiseStatus::Pending);
    assert_eq!(promise.due_at, hours(48));
}

#[tokio::test]
async fn a_promise_is_withdrawn_with_the_customers_consent() {
    at(hours(10))
        .given(promised(hours(24)))
        .when_async(by(ALICE, withdraw(promise_id(1), true)))
        .await
        .then_expect_events(vec![promise_withdrawn(promise_id(1), hours(10))]);
}

#[tokio::test]
async fn withdrawing_a_promise_without_consent_is_refused() {
    at(hours(10))
        .given(promised(hours(24)))
        .when_async(by(ALICE, withdraw(promise_id(1), false)))
        .await
        .then_expect_error(ComplaintError::ConsentRequired {
            promise_id: promise_id(1),
        });
}

#[test]
fn a_withdrawn_promise_is_no_longer_owed() {
    let complaint = state_after(&with(
        promised(hours(24)),
        [promise_withdrawn(promise_id(1), hours(10))],
    ));
    assert_eq!(
        complaint.promises[&promise_id(1)].status,
        PromiseStatus::Withdrawn
    );
    assert_eq!(complaint.open_promise_ids(), Vec::<PromiseId>::new());
}

#[tokio::test]
async fn a_promise_past_its_due_time_is_marked_broken() {
    at(hours(25))
        .given(promised(hours(24)))
        .when_async(by(LEAD, mark_broken(promise_id(1))))
        .await
        .then_expect_events(vec![promise_broken(promise_id(1), hours(24), hours(25))]);
}

#[test]
fn a_broken_promise_is_still_owed() {
    let complaint = state_after(&with(
        promised(hours(24)),
        [promise_broken(promise_id(1), hours(24), hours(25))],
    ));
    assert_eq!(
        complaint.promises[&promise_id(1)].status,
        PromiseStatus::Broken
    );
    assert_eq!(complaint.open_promise_ids(), vec![promise_id(1)]);
}

#[tokio::test]
async fn a_promise_is_not_broken_before_or_at_its_due_time() {
    for now in [hours(10), hours(24)] {
        at(now)
            .given(promised(hours(24)))
            .when_async(by(LEAD, mark_broken(promise_id(1))))
            .await
            .then_expect_error(ComplaintError::PromiseNotDue {
                promise_id: promise_id(1),
                due_at: hours(24),
            });
    }
}

#[tokio::test]
async fn a_promise_is_marked_broken_once() {
    at(hours(30))
        .given(with(
            promised(hours(24)),
            [promise_broken(promise_id(1), hours(24), hours(25))],
        ))
        .when_async(by(LEAD, mark_broken(promise_id(1))))
        .await
        .then_expect_error(ComplaintError::PromiseAlreadyBroken {
            promise_id: promise_id(1),
        });
}

#[tokio::test]
async fn a_renegotiated_promise_is_judged_against_its_new_due_time() {
    let given = with(
        promised(hours(24)),
        [E::PromiseRenegotiated {
            promise_id: promise_id(1),
            previous_due_at: hours(24),
            due_at: hours(48),
            reason: sealed("sealed:supplier late"),
            customer_agreed: true,
            by: staff(ALICE),
            at: hours(10),
        }],
    );
    at(hours(30))
        .given(given.clone())
        .when_async(by(LEAD, mark_broken(promise_id(1))))
        .await
        .then_expect_error(ComplaintError::PromiseNotDue {
            promise_id: promise_id(1),
            due_at: hours(48),
        });
    at(hours(30))
        .given(given)
        .when_async(by(ALICE, keep_promise(promise_id(1))))
        .await
        .then_expect_events(vec![promise_kept(promise_id(1), true, hours(30))]);
}

// ---------------------------------------------------------------------------------------------
// Promises: reminders (one per rung)
// ---------------------------------------------------------------------------------------------

fn reminder(rung: u32, at: Timestamp) -> ComplaintEvent {
    E::ReminderRecorded {
        promise_id: promise_id(1),
        rung,
        at,
    }
}

#[tokio::test]
async fn a_reminder_is_recorded_for_a_rung() {
    at(hours(20))
        .given(promised(hours(24)))
        .when_async(by(LEAD, record_reminder(promise_id(1), 1)))
        .await
        .then_expect_events(vec![reminder(1, hours(20))]);
}

#[tokio::test]
async fn a_reminder_rung_is_recorded_at_most_once() {
    at(hours(21))
        .given(with(promised(hours(24)), [reminder(1, hours(20))]))
        .when_async(by(LEAD, record_reminder(promise_id(1), 1)))
        .await
        .then_expect_error(ComplaintError::ReminderAlreadyRecorded {
            promise_id: promise_id(1),
            rung: 1,
        });
}

#[tokio::test]
async fn the_next_rung_is_recorded_after_the_first_even_on_a_broken_promise() {
    let given = with(
        promised(hours(24)),
        [
            reminder(1, hours(20)),
            promise_broken(promise_id(1), hours(24), hours(25)),
        ],
    );
    at(hours(26))
        .given(given)
        .when_async(by(LEAD, record_reminder(promise_id(1), 2)))
        .await
        .then_expect_events(vec![reminder(2, hours(26))]);
}

#[test]
fn recorded_rungs_are_remembered_per_promise() {
    let complaint = state_after(&with(
        with(
            promised(hours(24)),
            [promise_made(promise_id(2), hours(30))],
        ),
        [reminder(1, hours(20)), reminder(3, hours(22))],
    ));
    assert_eq!(
        complaint.promises[&promise_id(1)]
            .reminders
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        vec![1, 3]
    );
    assert!(complaint.promises[&promise_id(2)].reminders.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Follow-ups
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_follow_up_is_scheduled_for_the_actor() {
    at(t0())
        .given(owned_by_alice())
        .when_async(by(ALICE, schedule_follow_up(follow_up_id(1), hours(24))))
        .await
        .then_expect_events(vec![follow_up_scheduled(follow_up_id(1), hours(24))]);
}

#[tokio::test]
async fn a_follow_up_id_is_used_once() {
    at(hours(1))
        .given(with(
            owned_by_alice(),
            [follow_up_scheduled(follow_up_id(1), hours(24))],
        ))
        .when_async(by(ALICE, schedule_follow_up(follow_up_id(1), hours(48))))
        .await
        .then_expect_error(ComplaintError::FollowUpExists {
            follow_up_id: follow_up_id(1),
        });
}

#[tokio::test]
async fn a_follow_up_due_now_or_earlier_is_refused() {
    for due_at in [hours(1), t0()] {
        at(hours(1))
            .given(owned_by_alice())
            .when_async(by(ALICE, schedule_follow_up(follow_up_id(1), due_at)))
            .await
            .then_expect_error(ComplaintError::DueInPast {
                due_at,
                now: hours(1),
            });
    }
}

#[tokio::test]
async fn a_follow_up_is_completed_on_time_or_late() {
    for (now, on_time) in [(hours(24), true), (hours(25), false)] {
        at(now)
            .given(with(
                owned_by_alice(),
                [follow_up_scheduled(follow_up_id(1), hours(24))],
            ))
            .when_async(by(BOB, complete_follow_up(follow_up_id(1))))
            .await
            .then_expect_events(vec![E::FollowUpCompleted {
                follow_up_id: follow_up_id(1),
                outcome: sealed("sealed:supplier confirmed"),
                on_time,
                by: staff(BOB),
                at: now,
            }]);
    }
}

#[tokio::test]
async fn an_unknown_follow_up_cannot_be_completed() {
    at(hours(1))
        .given(owned_by_alice())
        .when_async(by(ALICE, complete_follow_up(follow_up_id(9))))
        .await
        .then_expect_error(ComplaintError::FollowUpNotFound {
            follow_up_id: follow_up_id(9),
        });
}

#[tokio::test]
async fn a_follow_up_is_completed_once() {
    let given = with(
        owned_by_alice(),
        [
            follow_up_scheduled(follow_up_id(1), hours(24)),
            follow_up_completed(follow_up_id(1), hours(2)),
        ],
    );
    at(hours(3))
        .given(given)
        .when_async(by(ALICE, complete_follow_up(follow_up_id(1))))
        .await
        .then_expect_error(ComplaintError::FollowUpAlreadyCompleted {
            follow_up_id: follow_up_id(1),
        });
}

#[test]
fn follow_up_state_tracks_scheduling_and_completion() {
    let scheduled = with(
        owned_by_alice(),
        [
            follow_up_scheduled(follow_up_id(1), hours(24)),
            follow_up_scheduled(follow_up_id(2), hours(24)),
        ],
    );
    assert_eq!(
        state_after(&scheduled).open_follow_up_ids(),
        vec![follow_up_id(1), follow_up_id(2)]
    );
    let complaint = state_after(&with(
        scheduled,
        [follow_up_completed(follow_up_id(1), hours(2))],
    ));
    assert_eq!(complaint.open_follow_up_ids(), vec![follow_up_id(2)]);
    assert_eq!(
        complaint.follow_ups[&follow_up_id(1)].status,
        FollowUpStatus::Completed { on_time: true }
    );
}

// ---------------------------------------------------------------------------------------------
// Escalation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn staff_escalate_with_a_note() {
    at(hours(1))
        .given(owned_by_alice())
        .when_async(by(
            ALICE,
            C::Escalate {
                to: EscalationTarget::Manager,
                reason: sealed("sealed:customer asked for a manager"),
            },
        ))
        .await
        .then_expect_events(vec![E::Escalated {
            to: EscalationTarget::Manager,
            reason: EscalationReason::Requested,
            note: Some(sealed("sealed:customer asked for a manager")),
            by: Some(staff(ALICE)),
            at: hours(1),
        }]);
}

#[tokio::test]
async fn escalating_twice_to_the_same_target_is_refused_but_another_target_is_not() {
    let given = with(
        owned_by_alice(),
        [escalated_automatically(
            EscalationTarget::SpecialCare,
            EscalationReason::RepeatContacts,
            hours(1),
        )],
    );
    at(hours(2))
        .given(given.clone())
        .when_async(by(
            ALICE,
            C::Escalate {
                to: EscalationTarget::SpecialCare,
                reason: sealed("sealed:again"),
            },
        ))
        .await
        .then_expect_error(ComplaintError::AlreadyEscalated {
            to: EscalationTarget::SpecialCare,
        });
    at(hours(2))
        .given(given)
        .when_async(by(
            ALICE,
            C::Escalate {
                to: EscalationTarget::Lead,
                reason: sealed("sealed:overdue"),
            },
        ))
        .await
        .then_expect_events(vec![E::Escalated {
            to: EscalationTarget::Lead,
            reason: EscalationReason::Requested,
            note: Some(sealed("sealed:overdue")),
            by: Some(staff(ALICE)),
            at: hours(2),
        }]);
}

// ---------------------------------------------------------------------------------------------
// Conduct incidents
// ---------------------------------------------------------------------------------------------

fn incident(
    incident_no: u32,
    kind: ConductKind,
    response: ConductResponse,
    at: Timestamp,
) -> ComplaintEvent {
    E::ConductIncidentRecorded {
        incident_no,
        kind,
        response,
        description: sealed("sealed:what was said"),
        staff: staff(ALICE),
        alias: None,
        at,
    }
}

#[tokio::test]
async fn a_threat_escalates_to_security() {
    at(hours(1))
        .given(owned_by_alice())
        .when_async(by(
            ALICE,
            record_incident(ConductKind::Threat, ConductResponse::EndedContact),
        ))
        .await
        .then_expect_events(vec![
            incident(
                1,
                ConductKind::Threat,
                ConductResponse::EndedContact,
                hours(1),
            ),
            escalated_automatically(
                EscalationTarget::Security,
                EscalationReason::Threat,
                hours(1),
            ),
        ]);
}

#[tokio::test]
async fn a_second_threat_does_not_escalate_to_security_again() {
    let given = with(
        owned_by_alice(),
        [
            incident(1, ConductKind::Threat, ConductResponse::Warning, hours(1)),
            escalated_automatically(
                EscalationTarget::Security,
                EscalationReason::Threat,
                hours(1),
            ),
        ],
    );
    at(hours(2))
        .given(given)
        .when_async(by(
            ALICE,
            record_incident(ConductKind::Threat, ConductResponse::PoliceReport),
        ))
        .await
        .then_expect_events(vec![incident(
            2,
            ConductKind::Threat,
            ConductResponse::PoliceReport,
            hours(2),
        )]);
}

#[tokio::test]
async fn security_and_police_report_responses_escalate_to_security() {
    for (kind, response) in [
        (ConductKind::Insult, ConductResponse::Security),
        (ConductKind::Discrimination, ConductResponse::PoliceReport),
    ] {
        at(hours(1))
            .given(owned_by_alice())
            .when_async(by(ALICE, record_incident(kind, response)))
            .await
            .then_expect_events(vec![
                incident(1, kind, response, hours(1)),
                escalated_automatically(
                    EscalationTarget::Security,
                    EscalationReason::ConductResponse,
                    hours(1),
                ),
            ]);
    }
}

#[tokio::test]
async fn milder_incidents_are_recorded_without_escalation() {
    for (kind, response) in [
        (ConductKind::Insult, ConductResponse::Warning),
        (ConductKind::Insult, ConductResponse::EndedContact),
        (ConductKind::Discrimination, ConductResponse::Warning),
    ] {
        at(hours(1))
            .given(owned_by_alice())
            .when_async(by(ALICE, record_incident(kind, response)))
            .await
            .then_expect_events(vec![incident(1, kind, response, hours(1))]);
    }
}

#[tokio::test]
async fn an_incident_keeps_the_alias_staff_used() {
    let alias = StaffAlias::parse("sam").unwrap();
    at(hours(1))
        .given(owned_by_alice())
        .when_async(by(
            ALICE,
            C::RecordConductIncident {
                kind: ConductKind::Insult,
                response: ConductResponse::Warning,
                description: sealed("sealed:what was said"),
                alias: Some(alias.clone()),
            },
        ))
        .await
        .then_expect_events(vec![E::ConductIncidentRecorded {
            incident_no: 1,
            kind: ConductKind::Insult,
            response: ConductResponse::Warning,
            description: sealed("sealed:what was said"),
            staff: staff(ALICE),
            alias: Some(alias),
            at: hours(1),
        }]);
}

#[test]
fn incidents_are_counted() {
    let complaint = state_after(&with(
        owned_by_alice(),
        [
            incident(1, ConductKind::Insult, ConductResponse::Warning, hours(1)),
            incident(
                2,
                ConductKind::Insult,
                ConductResponse::EndedContact,
                hours(2),
            ),
        ],
    ));
    assert_eq!(complaint.conduct_incidents, 2);
}

// ---------------------------------------------------------------------------------------------
// Flags
// ---------------------------------------------------------------------------------------------

fn flagged_sensitive() -> ComplaintEvent {
    E::SensitiveCaseFlagged {
        reason: SensitiveReason::Bereavement,
        note: Some(sealed("sealed:account holder died")),
        by: staff(ALICE),
        at: hours(1),
    }
}

fn sensitive_cleared(at: Timestamp) -> ComplaintEvent {
    E::SensitiveFlagCleared {
        reason: sealed("sealed:estate settled"),
        by: staff(LEAD),
        at,
    }
}

#[tokio::test]
async fn a_case_is_flagged_sensitive() {
    at(hours(1))
        .given(owned_by_alice())
        .when_async(by(
            ALICE,
            C::FlagSensitive {
                reason: SensitiveReason::Bereavement,
                note: Some(sealed("sealed:account holder died")),
            },
        ))
        .await
        .then_expect_events(vec![flagged_sensitive()]);
}

#[tokio::test]
async fn flagging_a_sensitive_case_again_is_refused() {
    at(hours(2))
        .given(with(owned_by_alice(), [flagged_sensitive()]))
        .when_async(by(
            ALICE,
            C::FlagSensitive {
                reason: SensitiveReason::Divorce,
                note: None,
            },
        ))
        .await
        .then_expect_error(ComplaintError::AlreadySensitive);
}

#[tokio::test]
async fn the_sensitive_flag_is_cleared_with_a_reason() {
    at(hours(2))
        .given(with(owned_by_alice(), [flagged_sensitive()]))
        .when_async(by(
            LEAD,
            C::ClearSensitiveFlag {
                reason: sealed("sealed:estate settled"),
            },
        ))
        .await
        .then_expect_events(vec![sensitive_cleared(hours(2))]);
}

#[tokio::test]
async fn clearing_a_flag_that_is_not_set_is_refused() {
    let cleared = with(
        owned_by_alice(),
        [flagged_sensitive(), sensitive_cleared(hours(2))],
    );
    for given in [owned_by_alice(), cleared] {
        at(hours(3))
            .given(given)
            .when_async(by(
                LEAD,
                C::ClearSensitiveFlag {
                    reason: sealed("sealed:again"),
                },
            ))
            .await
            .then_expect_error(ComplaintError::NotSensitive);
    }
}

#[test]
fn the_sensitive_flag_is_set_and_cleared_in_state() {
    let flagged = with(owned_by_alice(), [flagged_sensitive()]);
    assert_eq!(
        state_after(&flagged).sensitive,
        Some(SensitiveReason::Bereavement)
    );
    assert_eq!(
        state_after(&with(flagged, [sensitive_cleared(hours(2))])).sensitive,
        None
    );
}

#[tokio::test]
async fn a_cleared_case_can_be_flagged_again() {
    at(hours(3))
        .given(with(
            owned_by_alice(),
            [flagged_sensitive(), sensitive_cleared(hours(2))],
        ))
        .when_async(by(
            ALICE,
            C::FlagSensitive {
                reason: SensitiveReason::Illness,
                note: None,
            },
        ))
        .await
        .then_expect_events(vec![E::SensitiveCaseFlagged {
            reason: SensitiveReason::Illness,
            note: None,
            by: staff(ALICE),
            at: hours(3),
        }]);
}

#[tokio::test]
async fn an_element_is_flagged_non_negotiable() {
    at(t0())
        .given(owned_by_alice())
        .when_async(by(
            LEAD,
            C::FlagNonNegotiable {
                element: element("statutory-fee"),
                explanation: public("the fee is set by the energy regulator"),
                referral: public("Energy Ombudsman, 0800 000 000"),
            },
        ))
        .await
        .then_expect_events(vec![non_negotiable_flagged()]);
}

#[tokio::test]
async fn an_element_is_flagged_non_negotiable_once() {
    at(hours(1))
        .given(with(owned_by_alice(), [non_negotiable_flagged()]))
        .when_async(by(
            LEAD,
            C::FlagNonNegotiable {
                element: element("statutory-fee"),
                explanation: public("another explanation"),
                referral: public("another referral"),
            },
        ))
        .await
        .then_expect_error(ComplaintError::ElementAlreadyFlagged {
            element: element("statutory-fee"),
        });
}

// ---------------------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_owner_proposes_a_resolution_which_discharges_open_obligations() {
    let given = [owned_by_alice(), inbound_request(1, 1, hours(1))].concat();
    at(hours(2))
        .given(given)
        .when_async(by(ALICE, propose("sealed:refund")))
        .await
        .then_expect_events(vec![
            proposed(1, hours(2)),
            discharged(1, Discharge::Resolution { proposal_no: 1 }, true, hours(2)),
        ]);
}

#[tokio::test]
async fn a_resolution_needs_an_owner() {
    for command in [propose("sealed:refund"), resolve(Some("sealed:override"))] {
        let name = command.name();
        let result = at(hours(1))
            .given(vec![filed()])
            .when_async(by(ALICE, command))
            .await
            .inspect_result();
        assert_eq!(result, Err(ComplaintError::NoOwner), "{name}");
    }
}

#[tokio::test]
async fn a_second_proposal_while_one_awaits_an_answer_is_refused() {
    at(hours(2))
        .given(proposal_pending())
        .when_async(by(ALICE, propose("sealed:bigger refund")))
        .await
        .then_expect_error(ComplaintError::ProposalPending { proposal_no: 1 });
}

#[tokio::test]
async fn a_new_proposal_follows_a_rejected_one() {
    at(hours(3))
        .given(proposal_rejected())
        .when_async(by(ALICE, propose("sealed:refund")))
        .await
        .then_expect_events(vec![proposed(2, hours(3))]);
}

#[tokio::test]
async fn the_customer_accepts_or_rejects_the_pending_proposal() {
    for accepts in [true, false] {
        let expected = if accepts {
            E::ResolutionAccepted {
                proposal_no: 1,
                comment: Some(sealed("sealed:thanks")),
                at: hours(2),
            }
        } else {
            E::ResolutionRejected {
                proposal_no: 1,
                comment: Some(sealed("sealed:thanks")),
                at: hours(2),
            }
        };
        at(hours(2))
            .given(proposal_pending())
            .when_async(by(
                ALICE,
                C::RecordCustomerResponse {
                    accepted: accepts,
                    comment: Some(sealed("sealed:thanks")),
                },
            ))
            .await
            .then_expect_events(vec![expected]);
    }
}

#[test]
fn the_resolution_conversation_is_tracked_in_state() {
    let proposed_once = proposal_pending();
    assert_eq!(
        state_after(&proposed_once).resolution,
        ResolutionState::Proposed { proposal_no: 1 }
    );
    let rejected_once = with(proposed_once, [rejected(1, hours(2))]);
    assert_eq!(
        state_after(&rejected_once).resolution,
        ResolutionState::Rejected { proposal_no: 1 }
    );
    let accepted_second = with(
        rejected_once,
        [proposed(2, hours(3)), accepted(2, hours(4))],
    );
    let complaint = state_after(&accepted_second);
    assert_eq!(
        complaint.resolution,
        ResolutionState::Accepted { proposal_no: 2 }
    );
    assert_eq!(complaint.proposals, 2);
}

#[tokio::test]
async fn a_customer_answer_needs_a_pending_proposal() {
    let answered = proposal_accepted();
    let rejected_already = proposal_rejected();
    for given in [owned_by_alice(), answered, rejected_already] {
        at(hours(3))
            .given(given)
            .when_async(by(ALICE, customer_response(true)))
            .await
            .then_expect_error(ComplaintError::NoPendingProposal);
    }
}

#[tokio::test]
async fn an_accepted_resolution_resolves_the_complaint() {
    at(hours(3))
        .given(proposal_accepted())
        .when_async(by(ALICE, resolve(None)))
        .await
        .then_expect_events(vec![resolved(None, hours(3))]);
}

#[tokio::test]
async fn resolving_without_the_customers_acceptance_is_refused() {
    let pending = proposal_pending();
    let rejected_once = proposal_rejected();
    for given in [owned_by_alice(), pending, rejected_once] {
        at(hours(3))
            .given(given)
            .when_async(by(ALICE, resolve(None)))
            .await
            .then_expect_error(ComplaintError::ResolutionNotAccepted);
    }
}

#[tokio::test]
async fn resolving_without_acceptance_is_allowed_with_an_override_reason() {
    at(hours(3))
        .given(proposal_rejected())
        .when_async(by(ALICE, resolve(Some("sealed:ombudsman decided"))))
        .await
        .then_expect_events(vec![resolved(
            Some(sealed("sealed:ombudsman decided")),
            hours(3),
        )]);
}

#[tokio::test]
async fn resolving_by_override_is_a_final_response_that_discharges_open_obligations() {
    at(hours(3))
        .given(with(owned_by_alice(), inbound_request(1, 1, hours(1))))
        .when_async(by(ALICE, resolve(Some("sealed:final response sent"))))
        .await
        .then_expect_events(vec![
            resolved(Some(sealed("sealed:final response sent")), hours(3)),
            discharged(1, Discharge::FinalResponse, true, hours(3)),
        ]);
}

#[tokio::test]
async fn a_customer_answer_after_resolution_is_refused() {
    at(hours(4))
        .given(with(
            owned_by_alice(),
            [
                proposed(1, hours(1)),
                resolved(Some(sealed("sealed:override")), hours(2)),
            ],
        ))
        .when_async(by(ALICE, customer_response(true)))
        .await
        .then_expect_error(ComplaintError::AlreadyResolved);
}

#[tokio::test]
async fn a_resolved_complaint_is_not_resolved_or_proposed_again() {
    for command in [resolve(Some("sealed:override")), propose("sealed:another")] {
        let name = command.name();
        let result = at(hours(5))
            .given(resolved_complaint())
            .when_async(by(ALICE, command))
            .await
            .inspect_result();
        assert_eq!(result, Err(ComplaintError::AlreadyResolved), "{name}");
    }
}

#[test]
fn a_resolved_complaint_has_status_resolved() {
    assert_eq!(state_after(&resolved_complaint()).status, Status::Resolved);
}

// ---------------------------------------------------------------------------------------------
// Closing
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn closing_with_open_promises_is_refused_and_names_them() {
    // Promise 2 is pending and 3 is broken: both still owed. 1 was kept and 4 withdrawn.
    let given = with(
        resolved_complaint(),
        [
            promise_made(promise_id(1), hours(24)),
            promise_made(promise_id(2), hours(24)),
            promise_made(promise_id(3), hours(24)),
            promise_made(promise_id(4), hours(24)),
            promise_kept(promise_id(1), true, hours(5)),
            promise_withdrawn(promise_id(4), hours(5)),
            promise_broken(promise_id(3), hours(24), hours(25)),
        ],
    );
    let result = at(hours(26))
        .given(given)
        .when_async(by(ALICE, C::Close))
        .await
        .inspect_result();
    let error = result.expect_err("closing must be refused");
    assert_eq!(
        error,
        ComplaintError::OpenPromises {
            promise_ids: vec![promise_id(2), promise_id(3)],
        }
    );
    assert_eq!(
        error.to_string(),
        format!(
            "complaint cannot be closed: promise(s) {}, {} still open",
            promise_id(2),
            promise_id(3)
        )
    );
}

#[tokio::test]
async fn closing_with_open_follow_ups_is_refused_and_names_them() {
    let given = with(
        resolved_complaint(),
        [
            follow_up_scheduled(follow_up_id(1), hours(24)),
            follow_up_scheduled(follow_up_id(2), hours(24)),
            follow_up_completed(follow_up_id(1), hours(5)),
        ],
    );
    at(hours(6))
        .given(given)
        .when_async(by(ALICE, C::Close))
        .await
        .then_expect_error(ComplaintError::OpenFollowUps {
            follow_up_ids: vec![follow_up_id(2)],
        });
}

#[tokio::test]
async fn closing_with_an_unmet_obligation_to_respond_is_refused() {
    // Resolved, and then the customer asked something new that was never answered.
    let given = [
        owned_by_alice(),
        inbound_request(1, 1, hours(1)),
        vec![
            contact(2, Direction::Outbound, false, hours(2)),
            discharged(1, Discharge::Reply { contact_no: 2 }, true, hours(2)),
            resolved(Some(sealed("sealed:goodwill")), hours(3)),
        ],
        inbound_request(3, 2, hours(4)),
    ]
    .concat();
    at(hours(5))
        .given(given)
        .when_async(by(ALICE, C::Close))
        .await
        .then_expect_error(ComplaintError::UnmetObligations {
            obligation_nos: vec![2],
        });
}

#[tokio::test]
async fn closing_an_unresolved_complaint_is_refused() {
    at(hours(1))
        .given(owned_by_alice())
        .when_async(by(ALICE, C::Close))
        .await
        .then_expect_error(ComplaintError::NotResolved);
}

#[tokio::test]
async fn a_resolved_complaint_with_nothing_owed_closes() {
    let given = [
        owned_by_alice(),
        inbound_request(1, 1, hours(1)),
        vec![
            promise_made(promise_id(1), hours(24)),
            discharged(
                1,
                Discharge::Promise {
                    promise_id: promise_id(1),
                },
                true,
                hours(1),
            ),
            promise_kept(promise_id(1), true, hours(5)),
            follow_up_scheduled(follow_up_id(1), hours(24)),
            follow_up_completed(follow_up_id(1), hours(5)),
            proposed(1, hours(6)),
            accepted(1, hours(7)),
            resolved(None, hours(8)),
        ],
    ]
    .concat();
    at(hours(9))
        .given(given)
        .when_async(by(BOB, C::Close))
        .await
        .then_expect_events(vec![E::ComplaintClosed {
            by: staff(BOB),
            at: hours(9),
        }]);
}

#[tokio::test]
async fn a_closed_complaint_refuses_everything_but_reopening() {
    for command in every_command() {
        let name = command.name();
        let expected = match name {
            "Reopen" => continue,
            "FileComplaint" => ComplaintError::AlreadyFiled,
            _ => ComplaintError::Closed,
        };
        let result = at(hours(5))
            .given(closed_complaint())
            .when_async(by(ALICE, command))
            .await
            .inspect_result();
        assert_eq!(result, Err(expected), "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Reopening
// ---------------------------------------------------------------------------------------------

fn reopen() -> ComplaintCommand {
    C::Reopen {
        reason: sealed("sealed:refund never arrived"),
    }
}

#[tokio::test]
async fn a_closed_or_resolved_complaint_is_reopened() {
    for given in [closed_complaint(), resolved_complaint()] {
        at(hours(10))
            .given(given)
            .when_async(by(BOB, reopen()))
            .await
            .then_expect_events(vec![E::ComplaintReopened {
                reason: sealed("sealed:refund never arrived"),
                by: staff(BOB),
                at: hours(10),
            }]);
    }
}

#[tokio::test]
async fn only_a_resolved_or_closed_complaint_is_reopened() {
    for given in [vec![filed()], owned_by_alice()] {
        at(hours(1))
            .given(given)
            .when_async(by(ALICE, reopen()))
            .await
            .then_expect_error(ComplaintError::NotReopenable);
    }
}

#[test]
fn a_reopened_complaint_is_open_with_its_owner_and_a_fresh_resolution_conversation() {
    let complaint = state_after(&with(
        closed_complaint(),
        [E::ComplaintReopened {
            reason: sealed("sealed:refund never arrived"),
            by: staff(BOB),
            at: hours(10),
        }],
    ));
    assert_eq!(complaint.status, Status::Open);
    assert_eq!(complaint.owner, Some(person(ALICE)));
    assert_eq!(complaint.resolution, ResolutionState::None);
    assert_eq!(complaint.proposals, 1);
}

#[tokio::test]
async fn a_reopened_complaint_is_resolved_through_a_new_proposal() {
    let reopened = with(
        closed_complaint(),
        [E::ComplaintReopened {
            reason: sealed("sealed:refund never arrived"),
            by: staff(BOB),
            at: hours(10),
        }],
    );
    at(hours(11))
        .given(reopened.clone())
        .when_async(by(ALICE, resolve(None)))
        .await
        .then_expect_error(ComplaintError::ResolutionNotAccepted);
    at(hours(11))
        .given(reopened)
        .when_async(by(ALICE, propose("sealed:refund again")))
        .await
        .then_expect_events(vec![E::ResolutionProposed {
            proposal_no: 2,
            summary: sealed("sealed:refund again"),
            by: staff(ALICE),
            at: hours(11),
        }]);
}

// ---------------------------------------------------------------------------------------------
// A whole life, replayed
// ---------------------------------------------------------------------------------------------

/// Drives a complaint through `Complaint::decide`, one command at a time, keeping the history.
struct Life {
    events: Vec<ComplaintEvent>,
    state: Complaint,
    policy: Policy,
}

impl Life {
    fn new() -> Self {
        Self {
            events: Vec::new(),
            state: Complaint::default(),
            policy: Policy::default(),
        }
    }

    /// Runs `command` by `actor` at `now`; it must succeed.
    fn run(&mut self, actor: &str, command: ComplaintCommand, now: Timestamp) -> Vec<E> {
        let name = command.name();
        let events = self
            .state
            .decide(&staff(actor), command, now, &self.policy)
            .unwrap_or_else(|error| panic!("{name} refused: {error}"));
        for event in &events {
            cqrs_es::Aggregate::apply(&mut self.state, event.clone());
        }
        self.events.extend(events.iter().cloned());
        events
    }
}

#[test]
fn replaying_a_whole_life_rebuilds_the_expected_state() {
    let mut life = Life::new();
    life.run(ALICE, file_complaint(), t0());
    life.run(
        LEAD,
        C::AssignOwner {
            owner: team(BILLING_TEAM),
        },
        minutes(10),
    );
    life.run(
        CAROL,
        C::AssignOwner {
            owner: person(CAROL),
        },
        minutes(30),
    );
    life.run(CAROL, log_contact(Direction::Inbound, true), hours(1));
    // A promise answers the request (obligation 1).
    life.run(CAROL, make_promise(promise_id(1), hours(24)), hours(2));
    life.run(CAROL, make_promise(promise_id(2), hours(30)), hours(2));
    life.run(CAROL, make_promise(promise_id(3), hours(30)), hours(2));
    life.run(
        CAROL,
        schedule_follow_up(follow_up_id(1), hours(20)),
        hours(2),
    );
    life.run(CAROL, offer_handover(person(BOB)), hours(3));
    life.run(BOB, C::AcceptHandover, hours(4));
    life.run(BOB, keep_promise(promise_id(1)), hours(10));
    life.run(BOB, complete_follow_up(follow_up_id(1)), hours(21));
    life.run(BOB, record_reminder(promise_id(2), 1), hours(29));
    life.run(LEAD, mark_broken(promise_id(2)), hours(31));
    life.run(BOB, keep_promise(promise_id(2)), hours(32));
    life.run(BOB, withdraw(promise_id(3), true), hours(32));
    life.run(
        BOB,
        record_incident(ConductKind::Threat, ConductResponse::Warning),
        hours(33),
    );
    life.run(BOB, log_contact(Direction::Inbound, true), hours(34));
    let proposal = life.run(BOB, propose("sealed:refund"), hours(35));
    assert_eq!(
        proposal[1],
        discharged(2, Discharge::Resolution { proposal_no: 1 }, true, hours(35))
    );
    life.run(BOB, customer_response(true), hours(36));
    life.run(BOB, resolve(None), hours(37));
    life.run(BOB, C::Close, hours(38));

    let complaint = Complaint::from_events(&life.events);
    assert_eq!(
        complaint, life.state,
        "replay equals the state built along the way"
    );
    assert_eq!(complaint.status, Status::Closed);
    assert_eq!(complaint.owner, Some(person(BOB)));
    assert_eq!(complaint.triage_due_at, None);
    assert_eq!(complaint.pending_handover, None);
    assert_eq!(complaint.filed_at, Some(t0()));
    assert_eq!(complaint.contacts, 2);
    assert_eq!(
        complaint
            .promises
            .iter()
            .map(|(id, promise)| (*id, promise.status))
            .collect::<Vec<_>>(),
        vec![
            (promise_id(1), PromiseStatus::Kept { on_time: true }),
            (promise_id(2), PromiseStatus::Kept { on_time: false }),
            (promise_id(3), PromiseStatus::Withdrawn),
        ]
    );
    assert_eq!(
        complaint.promises[&promise_id(2)]
            .reminders
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        vec![1]
    );
    assert_eq!(
        complaint.follow_ups[&follow_up_id(1)].status,
        FollowUpStatus::Completed { on_time: false }
    );
    assert_eq!(
        complaint.obligations[&1].discharged,
        Some(Discharge::Promise {
            promise_id: promise_id(1)
        })
    );
    assert_eq!(
        complaint.obligations[&2].discharged,
        Some(Discharge::Resolution { proposal_no: 1 })
    );
    assert!(complaint.open_promise_ids().is_empty());
    assert!(complaint.open_follow_up_ids().is_empty());
    assert!(complaint.unmet_obligation_nos().is_empty());
    assert_eq!(
        complaint.escalations.iter().copied().collect::<Vec<_>>(),
        vec![EscalationTarget::Security]
    );
    assert_eq!(complaint.conduct_incidents, 1);
    assert_eq!(
        complaint.resolution,
        ResolutionState::Accepted { proposal_no: 1 }
    );

    // Replaying only a prefix gives the state as of that moment: before the handover was
    // accepted, Carol was still accountable.
    let offered_at = life
        .events
        .iter()
        .position(|event| matches!(event, E::HandoverOffered { .. }))
        .expect("a handover was offered");
    let before_acceptance = Complaint::from_events(&life.events[..=offered_at]);
    assert_eq!(before_acceptance.owner, Some(person(CAROL)));
    assert_eq!(before_acceptance.status, Status::Open);
    assert!(before_acceptance.pending_handover.is_some());
}

#[test]
fn deciding_is_pure() {
    let complaint = state_after(&promised(hours(24)));
    let command = mark_broken(promise_id(1));
    let policy = Policy::default();
    let first = complaint.decide(&staff(LEAD), command.clone(), hours(25), &policy);
    let second = complaint.decide(&staff(LEAD), command, hours(25), &policy);
    assert_eq!(first, second);
    assert_eq!(
        first,
        Ok(vec![promise_broken(promise_id(1), hours(24), hours(25))])
    );
    assert_eq!(
        complaint,
        state_after(&promised(hours(24))),
        "state unchanged"
    );
}
