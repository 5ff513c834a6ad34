//! Property tests of the `Complaint` aggregate: random histories of commands, valid and invalid,
//! issued by random members of staff while time moves forward, with the invariants of
//! DESIGN.md checked after every step.
//!
//! Each step goes through [`Complaint::decide`] (checked to be pure: the same answer twice, the
//! state untouched) and through `Aggregate::handle` on a copy (checked to agree with `decide`,
//! and to leave the copy as it was when it refuses). Accepted events are applied; then:
//!
//! 1. once a complaint has an owner it keeps exactly one; the owner changes only through an
//!    assignment, an accepted handover or a take-over, and an offer alone changes nothing;
//! 2. an obligation to respond is discharged only by a reply, a promise, a resolution proposal
//!    or a final resolution, each with its own `Discharge`, and never twice;
//! 3. a complaint that closes had no outstanding promise, open follow-up or unmet obligation;
//! 4. a promise's `due_at` changes only through a `PromiseRenegotiated` naming the old and new
//!    time;
//! 5. a reminder rung of a promise is recorded at most once in the whole history, and a ladder
//!    rung is reached at most once per due time, in order, never before it is due;
//! 6. a refused command produces no events and leaves the state as it was, and nothing that was
//!    recorded ever disappears from the state.
//!
//! Replaying every event emitted so far with [`Complaint::from_events`] must give exactly the
//! state built step by step, and every event must round-trip through serde_json unchanged.
//!
//! The generators pick identifiers, people and elements from small pools, so that random
//! commands often refer to things that exist and get past the first check. There is one
//! strategy function per command family (`intake`, `contacts`, `ownership`, `promises`,
//! `follow_ups`, `escalation_and_conduct`, `flags`, `resolution`, `clock`); a new command goes
//! into its
//! family, and `generated_histories_reach_every_command_and_event` fails until it does.
//!
//! 256 cases by default; a longer run: `PROPTEST_CASES=20000 cargo nextest run -p
//! obliged-domain properties`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestCaseError, TestRng, TestRunner};
use uuid::Uuid;

use crate::time::later;
use crate::{
    BusinessCalendar, Category, Channel, Complaint, ComplaintCommand, ComplaintError,
    ComplaintEvent, ComplaintServices, ConductKind, ConductResponse, Customer, CustomerReference,
    DeadlineKind, Direction, Discharge, ElementName, EscalationTarget, FixedClock, FollowUpId,
    HandBackReason, IssuedCommand, Offset, Owner, Policy, PromiseId, PromiseKind, PublicText,
    Recipient, Regime, RungSpec, SealedText, SensitiveReason, StaffAlias, StaffId, Status, Subject,
    SubjectKind,
};

use ComplaintCommand as C;
use ComplaintEvent as E;

/// The longest generated history, in commands.
const MAX_STEPS: usize = 40;

/// When every generated history starts.
fn start() -> Timestamp {
    "2026-01-05T09:00:00Z".parse().expect("valid timestamp")
}

// ---------------------------------------------------------------------------------------------
// Generated histories
// ---------------------------------------------------------------------------------------------

/// When a generated command says something is due.
#[derive(Debug, Clone, Copy)]
enum Due {
    /// This long after the moment the command is issued (negative: already past).
    In(SignedDuration),
    /// At one of a few fixed moments, weeks apart, the same for every command that picks it:
    /// two commands can then name the same due time, as a renegotiation to the current time
    /// does.
    At(Timestamp),
}

/// A generated command. Its due time, if it has one, is resolved when it is issued, so that
/// "due in two hours" stays valid however far the clock has moved.
#[derive(Debug, Clone)]
struct Draft {
    command: ComplaintCommand,
    due: Option<Due>,
}

impl Draft {
    fn fixed(command: ComplaintCommand) -> Self {
        Self { command, due: None }
    }

    fn due(command: ComplaintCommand, due: Due) -> Self {
        Self {
            command,
            due: Some(due),
        }
    }

    /// The command as issued at `now`.
    fn issue(&self, now: Timestamp) -> ComplaintCommand {
        let mut command = self.command.clone();
        if let Some(due) = self.due {
            let resolved = match due {
                Due::In(offset) => later(now, offset),
                Due::At(at) => at,
            };
            match &mut command {
                C::MakePromise { due_at, .. }
                | C::RenegotiatePromise { due_at, .. }
                | C::ScheduleFollowUp { due_at, .. } => *due_at = resolved,
                C::ExtendDeadline { due_at, .. } => *due_at = Some(resolved),
                other => panic!("{} has no due time", other.name()),
            }
        }
        command
    }
}

/// One step of a history: the clock moves on by `advance`, then `actor` issues the command.
#[derive(Debug, Clone)]
struct Step {
    advance: SignedDuration,
    actor: StaffId,
    draft: Draft,
}

#[derive(Debug, Clone)]
struct History {
    policy: Policy,
    steps: Vec<Step>,
}

// --- values, from small pools ----------------------------------------------------------------

const PEOPLE: &[&str] = &["alice", "bob", "carol", "lena"];
const TEAMS: &[&str] = &["billing", "care"];
const ELEMENTS: &[&str] = &["statutory-fee", "tax-rate"];

fn staff(name: &str) -> StaffId {
    StaffId::parse(name).expect("valid staff id")
}

fn actor() -> impl Strategy<Value = StaffId> {
    prop::sample::select(PEOPLE).prop_map(staff)
}

fn owner() -> impl Strategy<Value = Owner> {
    prop_oneof![
        3 => actor().prop_map(Owner::Person),
        1 => prop::sample::select(TEAMS).prop_map(|team| Owner::Team(staff(team))),
    ]
}

fn promise_id() -> impl Strategy<Value = PromiseId> {
    (1..=3u128).prop_map(|number| PromiseId::new(Uuid::from_u128(number)))
}

fn follow_up_id() -> impl Strategy<Value = FollowUpId> {
    (1..=2u128).prop_map(|number| FollowUpId::new(Uuid::from_u128(0xF000 + number)))
}

fn element() -> impl Strategy<Value = ElementName> {
    prop::sample::select(ELEMENTS).prop_map(|name| ElementName::parse(name).expect("valid"))
}

/// Sealed text. The domain never looks inside, so any string will do; arbitrary characters
/// exercise the JSON round trip.
fn text() -> impl Strategy<Value = SealedText> {
    prop::collection::vec(any::<char>(), 0..12)
        .prop_map(|characters| SealedText::from_stored(characters.into_iter().collect()))
}

fn public_text() -> impl Strategy<Value = PublicText> {
    prop::sample::select(&["Set by law.", "Statutory rate; see the regulator."][..])
        .prop_map(|text| PublicText::parse(text).expect("valid"))
}

fn alias() -> impl Strategy<Value = Option<StaffAlias>> {
    prop::option::of(Just(StaffAlias::parse("sam").expect("valid")))
}

fn channel() -> impl Strategy<Value = Channel> {
    prop::sample::select(
        &[
            Channel::Phone,
            Channel::Email,
            Channel::Chat,
            Channel::Letter,
            Channel::Social,
            Channel::InPerson,
        ][..],
    )
}

fn due() -> impl Strategy<Value = Due> {
    prop_oneof![
        // Mostly in the future (often soon, so that later steps find it overdue), sometimes
        // already past.
        4 => (-120i64..=4 * 24 * 60).prop_map(|minutes| Due::In(SignedDuration::from_mins(minutes))),
        1 => fixed_due(),
    ]
}

/// One of a few fixed moments weeks ahead, shared by every command that picks one.
fn fixed_due() -> impl Strategy<Value = Due> {
    (1i64..=3).prop_map(|weeks| Due::At(later(start(), SignedDuration::from_hours(7 * 24 * weeks))))
}

fn advance() -> impl Strategy<Value = SignedDuration> {
    prop_oneof![
        1 => Just(SignedDuration::ZERO),
        2 => (1i64..=180).prop_map(SignedDuration::from_mins),
        1 => (1i64..=72).prop_map(SignedDuration::from_hours),
    ]
}

fn rung(name: &str, offset: &str) -> RungSpec {
    RungSpec {
        name: name.to_owned(),
        offset: Offset::parse(offset).expect("valid offset"),
        remind: vec![Recipient::Owner],
        mark_broken: false,
        escalate: None,
    }
}

/// Short ladders around the due time, so that random histories reach, skip and repeat rungs.
fn ladders() -> BTreeMap<SubjectKind, Vec<RungSpec>> {
    BTreeMap::from([
        (
            SubjectKind::Promise,
            crate::clock_tests::warning_breach_manager(rung, "-1h", "+2h"),
        ),
        (SubjectKind::FollowUp, vec![rung("due", "0")]),
        (
            SubjectKind::Obligation,
            vec![rung("warning", "-30m"), rung("overdue", "0")],
        ),
        (SubjectKind::Acknowledge, vec![rung("overdue", "0")]),
        (
            SubjectKind::FinalResponse,
            vec![RungSpec {
                escalate: Some(EscalationTarget::SpecialCare),
                ..rung("warning", "-3d")
            }],
        ),
    ])
}

fn policy() -> impl Strategy<Value = Policy> {
    (
        prop::sample::select(&[1i64, 48][..]),
        prop::sample::select(&[1i64, 4][..]),
        0u32..=4,
        prop::option::of(prop::sample::select(&[1i64, 8][..])),
        prop::sample::select(
            &[
                Regime::None,
                Regime::FcaDisp,
                Regime::FcaPaymentServices,
                Regime::Kifid,
                Regime::Awb,
            ][..],
        ),
        any::<bool>(),
        prop::bool::weighted(0.8),
    )
        .prop_map(
            |(
                respond_hours,
                triage_hours,
                threshold,
                acknowledge_hours,
                regime,
                office,
                laddered,
            )| {
                Policy {
                    calendar: if office {
                        BusinessCalendar::office_hours(jiff::tz::TimeZone::UTC)
                    } else {
                        BusinessCalendar::always_open()
                    },
                    acknowledge_within: acknowledge_hours.map(SignedDuration::from_hours),
                    respond_within: SignedDuration::from_hours(respond_hours),
                    triage_within: SignedDuration::from_hours(triage_hours),
                    repeat_contact_threshold: threshold,
                    regime,
                    regime_rules: Vec::new(),
                    ladders: if laddered { ladders() } else { BTreeMap::new() },
                    teams: BTreeMap::new(),
                }
            },
        )
}

// --- one strategy per command family ---------------------------------------------------------

fn intake() -> BoxedStrategy<Draft> {
    (text(), prop::option::of(text()), channel(), text())
        .prop_map(|(name, email, channel, description)| {
            Draft::fixed(C::FileComplaint {
                customer: Customer {
                    reference: CustomerReference::parse("cust-0042").expect("valid"),
                    name,
                    email,
                    phone: None,
                },
                channel,
                category: Category::parse("billing").expect("valid"),
                description,
            })
        })
        .boxed()
}

fn contacts() -> BoxedStrategy<Draft> {
    (
        prop::sample::select(&[Direction::Inbound, Direction::Outbound][..]),
        channel(),
        text(),
        any::<bool>(),
        alias(),
    )
        .prop_map(|(direction, channel, summary, request, alias)| {
            Draft::fixed(C::LogContact {
                direction,
                channel,
                summary,
                request,
                alias,
            })
        })
        .boxed()
}

fn ownership() -> BoxedStrategy<Draft> {
    // Assignments and handovers weigh most: most other rules need an owner first.
    prop_oneof![
        3 => owner().prop_map(|owner| Draft::fixed(C::AssignOwner { owner })),
        2 => (owner(), prop::option::of(text()))
            .prop_map(|(to, note)| Draft::fixed(C::OfferHandover { to, note })),
        2 => Just(Draft::fixed(C::AcceptHandover)),
        1 => text().prop_map(|reason| Draft::fixed(C::DeclineHandover { reason })),
        1 => text().prop_map(|reason| Draft::fixed(C::TakeOver { reason })),
        1 => (
            prop::sample::select(
                &[
                    HandBackReason::CustomerDecisionRequired,
                    HandBackReason::CustomerDocumentRequired,
                    HandBackReason::OutsideOurRemit,
                    HandBackReason::ThirdPartyDependency,
                ][..]
            ),
            text(),
        )
            .prop_map(|(reason, note)| Draft::fixed(C::HandBackToCustomer { reason, note })),
    ]
    .boxed()
}

fn promises() -> BoxedStrategy<Draft> {
    let kind = prop::sample::select(
        &[
            PromiseKind::Callback,
            PromiseKind::Visit,
            PromiseKind::Information,
            PromiseKind::Refund,
            PromiseKind::Repair,
            PromiseKind::Other,
        ][..],
    );
    prop_oneof![
        3 => (promise_id(), kind, text(), due(), prop::option::weighted(0.3, element())).prop_map(
            |(promise_id, kind, description, due, concerns)| {
                Draft::due(
                    C::MakePromise {
                        promise_id,
                        kind,
                        description,
                        due_at: start(),
                        concerns,
                    },
                    due,
                )
            }
        ),
        2 => (promise_id(), text())
            .prop_map(|(promise_id, evidence)| Draft::fixed(C::KeepPromise { promise_id, evidence })),
        // Often to one of the fixed moments, which may be the promise's own due time already.
        2 => (promise_id(), prop_oneof![due(), fixed_due()], text(), any::<bool>()).prop_map(
            |(promise_id, due, reason, customer_agreed)| {
                Draft::due(
                    C::RenegotiatePromise {
                        promise_id,
                        due_at: start(),
                        reason,
                        customer_agreed,
                    },
                    due,
                )
            }
        ),
        1 => (promise_id(), text(), any::<bool>()).prop_map(
            |(promise_id, reason, customer_consented)| {
                Draft::fixed(C::WithdrawPromise {
                    promise_id,
                    reason,
                    customer_consented,
                })
            }
        ),
        2 => promise_id().prop_map(|promise_id| Draft::fixed(C::MarkPromiseBroken { promise_id })),
        2 => (promise_id(), 1u32..=3)
            .prop_map(|(promise_id, rung)| Draft::fixed(C::RecordReminder { promise_id, rung })),
    ]
    .boxed()
}

fn follow_ups() -> BoxedStrategy<Draft> {
    prop_oneof![
        (follow_up_id(), text(), due()).prop_map(|(follow_up_id, description, due)| {
            Draft::due(
                C::ScheduleFollowUp {
                    follow_up_id,
                    description,
                    due_at: start(),
                },
                due,
            )
        }),
        (follow_up_id(), text()).prop_map(|(follow_up_id, outcome)| {
            Draft::fixed(C::CompleteFollowUp {
                follow_up_id,
                outcome,
            })
        }),
    ]
    .boxed()
}

fn escalation_and_conduct() -> BoxedStrategy<Draft> {
    prop_oneof![
        (
            prop::sample::select(
                &[
                    EscalationTarget::SpecialCare,
                    EscalationTarget::Lead,
                    EscalationTarget::Manager,
                    EscalationTarget::Security,
                ][..]
            ),
            text(),
        )
            .prop_map(|(to, reason)| Draft::fixed(C::Escalate { to, reason })),
        (
            prop::sample::select(
                &[
                    ConductKind::Insult,
                    ConductKind::Threat,
                    ConductKind::Discrimination
                ][..]
            ),
            prop::sample::select(
                &[
                    ConductResponse::Warning,
                    ConductResponse::EndedContact,
                    ConductResponse::Security,
                    ConductResponse::PoliceReport,
                ][..]
            ),
            text(),
            alias(),
        )
            .prop_map(|(kind, response, description, alias)| {
                Draft::fixed(C::RecordConductIncident {
                    kind,
                    response,
                    description,
                    alias,
                })
            }),
    ]
    .boxed()
}

fn flags() -> BoxedStrategy<Draft> {
    prop_oneof![
        (
            prop::sample::select(
                &[
                    SensitiveReason::Bereavement,
                    SensitiveReason::Divorce,
                    SensitiveReason::Illness,
                    SensitiveReason::Vulnerability,
                    SensitiveReason::Other,
                ][..]
            ),
            prop::option::of(text()),
        )
            .prop_map(|(reason, note)| Draft::fixed(C::FlagSensitive { reason, note })),
        text().prop_map(|reason| Draft::fixed(C::ClearSensitiveFlag { reason })),
        (element(), public_text(), public_text()).prop_map(|(element, explanation, referral)| {
            Draft::fixed(C::FlagNonNegotiable {
                element,
                explanation,
                referral,
            })
        }),
    ]
    .boxed()
}

fn resolution() -> BoxedStrategy<Draft> {
    prop_oneof![
        2 => text().prop_map(|summary| Draft::fixed(C::ProposeResolution { summary })),
        2 => (any::<bool>(), prop::option::of(text())).prop_map(|(accepted, comment)| {
            Draft::fixed(C::RecordCustomerResponse { accepted, comment })
        }),
        2 => prop::option::of(text())
            .prop_map(|override_reason| Draft::fixed(C::Resolve { override_reason })),
        3 => Just(Draft::fixed(C::Close)),
        1 => text().prop_map(|reason| Draft::fixed(C::Reopen { reason })),
    ]
    .boxed()
}

fn deadline() -> impl Strategy<Value = DeadlineKind> {
    prop::sample::select(
        &[
            DeadlineKind::Acknowledge,
            DeadlineKind::SummaryResolution,
            DeadlineKind::FinalResponse,
        ][..],
    )
}

fn subject() -> impl Strategy<Value = Subject> {
    prop_oneof![
        3 => promise_id().prop_map(|promise_id| Subject::Promise { promise_id }),
        1 => follow_up_id().prop_map(|follow_up_id| Subject::FollowUp { follow_up_id }),
        2 => (1u32..=3).prop_map(|obligation_no| Subject::Obligation { obligation_no }),
        2 => deadline().prop_map(|deadline| Subject::Deadline { deadline }),
    ]
}

fn clock() -> BoxedStrategy<Draft> {
    let weeks = |weeks: i64| Due::At(later(start(), SignedDuration::from_hours(7 * 24 * weeks)));
    prop_oneof![
        1 => (
            prop::option::of(prop::sample::select(&[Regime::None, Regime::Kifid, Regime::Awb][..])),
            text(),
        )
            .prop_map(|(regime, reason)| Draft::fixed(C::RecalculateDeadlines { regime, reason })),
        // To the limit, to a time inside an Awb extension, beyond any limit, or too early.
        3 => (
            prop::sample::select(
                &[
                    DeadlineKind::FinalResponse,
                    DeadlineKind::FinalResponse,
                    DeadlineKind::FinalResponse,
                    DeadlineKind::Acknowledge,
                    DeadlineKind::SummaryResolution,
                ][..],
            ),
            prop::sample::select(vec![None, Some(weeks(7)), Some(weeks(12)), Some(Due::In(SignedDuration::from_hours(-2)))]),
            text(),
        )
            .prop_map(|(deadline, due, notice)| {
                let command = C::ExtendDeadline {
                    deadline,
                    due_at: None,
                    notice,
                };
                match due {
                    Some(due) => Draft::due(command, due),
                    None => Draft::fixed(command),
                }
            }),
        2 => text().prop_map(|reason| Draft::fixed(C::PauseClock { reason })),
        2 => Just(Draft::fixed(C::ResumeClock)),
        // Mostly the first rungs, so that a rung is often asked for again.
        6 => (subject(), prop::sample::select(&[1u32, 1, 1, 2, 2, 3, 4][..]))
            .prop_map(|(subject, rung)| Draft::fixed(C::ReachRung { subject, rung })),
        // The first promise's warning, again and again: a scheduler that lost a race.
        3 => Just(Draft::fixed(C::ReachRung {
            subject: Subject::Promise {
                promise_id: PromiseId::new(Uuid::from_u128(1)),
            },
            rung: 1,
        })),
    ]
    .boxed()
}

/// Any command, weighted towards the families with the most rules.
fn any_command() -> BoxedStrategy<Draft> {
    prop_oneof![
        1 => intake(),
        4 => contacts(),
        4 => ownership(),
        7 => promises(),
        3 => follow_ups(),
        2 => escalation_and_conduct(),
        2 => flags(),
        6 => resolution(),
        5 => clock(),
    ]
    .boxed()
}

fn step() -> impl Strategy<Value = Step> {
    (advance(), actor(), any_command()).prop_map(|(advance, actor, draft)| Step {
        advance,
        actor,
        draft,
    })
}

/// A history: nearly always a filing first (or nothing else can happen), then up to
/// [`MAX_STEPS`] commands of any kind.
fn history() -> impl Strategy<Value = History> {
    (
        policy(),
        prop::bool::weighted(0.95),
        (actor(), intake()),
        prop::collection::vec(step(), 0..=MAX_STEPS),
    )
        .prop_map(|(policy, file_first, (filer, filing), mut steps)| {
            if file_first {
                steps.insert(
                    0,
                    Step {
                        advance: SignedDuration::ZERO,
                        actor: filer,
                        draft: filing,
                    },
                );
                steps.truncate(MAX_STEPS);
            }
            History { policy, steps }
        })
}

// ---------------------------------------------------------------------------------------------
// Running a history and checking the invariants
// ---------------------------------------------------------------------------------------------

/// What a history did, for the coverage check.
#[derive(Debug, Default)]
struct Record {
    accepted: BTreeSet<&'static str>,
    events: BTreeSet<&'static str>,
    refusals: BTreeSet<&'static str>,
}

/// Runs `history`, checking every invariant after every step.
fn run(history: &History, record: &mut Record) -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut state = Complaint::default();
    let mut log: Vec<ComplaintEvent> = Vec::new();
    let mut now = start();
    for (index, step) in history.steps.iter().enumerate() {
        now = later(now, step.advance);
        let command = step.draft.issue(now);
        let before = state.clone();

        let decided = state.decide(&step.actor, command.clone(), now, &history.policy);
        prop_assert_eq!(&state, &before, "decide changed the state");
        let again = state.decide(&step.actor, command.clone(), now, &history.policy);
        prop_assert_eq!(&decided, &again, "decide is not deterministic");
        let handled = handle(
            &runtime,
            &before,
            &step.actor,
            &command,
            now,
            &history.policy,
        );

        match decided {
            Err(error) => {
                record.refusals.insert(error.slug());
                // Invariant 6: a refusal writes nothing and leaves the aggregate as it was.
                prop_assert_eq!(handled, (Err(error), Vec::new(), before.clone()));
            }
            Ok(events) => {
                record.accepted.insert(command.name());
                prop_assert!(
                    !events.is_empty(),
                    "{} accepted without events",
                    command.name()
                );
                for event in &events {
                    record.events.insert(event.name());
                    round_trips(event)?;
                    state.apply(event.clone());
                }
                prop_assert_eq!(handled, (Ok(()), events.clone(), state.clone()));
                check_step(&before, &command, &events, &state, now)?;
                log.extend(events);
            }
        }
        check_state(&state, &log)?;
        prop_assert_eq!(
            &Complaint::from_events(&log),
            &state,
            "replaying the events after step {} gives another state",
            index
        );
    }
    Ok(())
}

type Handled = (Result<(), ComplaintError>, Vec<ComplaintEvent>, Complaint);

/// Issues `command` through `Aggregate::handle` on a copy of `state`, as the engine does.
fn handle(
    runtime: &tokio::runtime::Runtime,
    state: &Complaint,
    actor: &StaffId,
    command: &ComplaintCommand,
    now: Timestamp,
    policy: &Policy,
) -> Handled {
    let services = ComplaintServices::new(Arc::new(FixedClock::new(now)), policy.clone());
    let mut copy = state.clone();
    runtime.block_on(async {
        let sink = EventSink::default();
        let result = copy
            .handle(
                IssuedCommand {
                    actor: actor.clone(),
                    command: command.clone(),
                },
                &services,
                &sink,
            )
            .await;
        (result, sink.collect().await, copy)
    })
}

fn round_trips(event: &ComplaintEvent) -> Result<(), TestCaseError> {
    let json =
        serde_json::to_string(event).map_err(|error| TestCaseError::fail(error.to_string()))?;
    let back: ComplaintEvent = serde_json::from_str(&json)
        .map_err(|error| TestCaseError::fail(format!("{error}: {json}")))?;
    prop_assert_eq!(
        &back,
        event,
        "{} does not round-trip: {}",
        event.name(),
        json
    );
    Ok(())
}

/// The invariants about one accepted step: what changed from `before` to `after`, and why.
fn check_step(
    before: &Complaint,
    command: &ComplaintCommand,
    events: &[ComplaintEvent],
    after: &Complaint,
    now: Timestamp,
) -> Result<(), TestCaseError> {
    // 1. Once owned, always owned; the owner changes only by the events that move ownership.
    if before.owner.is_some() {
        prop_assert!(
            after.owner.is_some(),
            "{} cleared the owner",
            command.name()
        );
    }
    if before.owner != after.owner {
        let moved_to = events.iter().rev().find_map(|event| match event {
            E::OwnerAssigned { owner, .. } => Some(owner),
            E::HandoverAccepted { to, .. } | E::TakenOver { to, .. } => Some(to),
            _ => None,
        });
        prop_assert_eq!(
            moved_to,
            after.owner.as_ref(),
            "{} changed the owner without an ownership event",
            command.name()
        );
    }
    if events
        .iter()
        .any(|event| matches!(event, E::HandoverOffered { .. }))
    {
        prop_assert_eq!(
            &before.owner,
            &after.owner,
            "an offer alone moved the complaint"
        );
    }

    // 2. Obligations are discharged only by a reply, a promise or a resolution, once.
    let discharge = match command {
        C::LogContact {
            direction: Direction::Outbound,
            ..
        } => Some(Discharge::Reply {
            contact_no: after.contacts,
        }),
        C::MakePromise { promise_id, .. } => Some(Discharge::Promise {
            promise_id: *promise_id,
        }),
        C::ProposeResolution { .. } => Some(Discharge::Resolution {
            proposal_no: after.proposals,
        }),
        C::Resolve { .. } => Some(Discharge::FinalResponse),
        _ => None,
    };
    let mut discharged_now = BTreeSet::new();
    for event in events {
        if let E::ObligationDischarged {
            obligation_no,
            by,
            on_time,
            ..
        } = event
        {
            prop_assert_eq!(
                Some(by),
                discharge.as_ref(),
                "{} discharged obligation {}",
                command.name(),
                obligation_no
            );
            let obligation = before.obligations.get(obligation_no);
            prop_assert!(
                obligation.is_some_and(|obligation| obligation.discharged.is_none()),
                "obligation {} was not open",
                obligation_no
            );
            let due_at = obligation.map(|obligation| obligation.due_at);
            prop_assert_eq!(Some(*on_time), due_at.map(|due_at| now <= due_at));
            discharged_now.insert(*obligation_no);
        }
    }
    for (obligation_no, obligation) in &after.obligations {
        let was_open = before
            .obligations
            .get(obligation_no)
            .is_some_and(|previous| previous.discharged.is_none());
        if was_open && obligation.discharged.is_some() {
            prop_assert!(
                discharged_now.contains(obligation_no),
                "obligation {} discharged without an ObligationDischarged event",
                obligation_no
            );
        }
    }
    if discharge.is_some() {
        // A discharging command leaves no obligation unmet that was open before it.
        prop_assert_eq!(
            after.unmet_obligation_nos(),
            after
                .obligations
                .keys()
                .filter(|number| !before.obligations.contains_key(number))
                .copied()
                .filter(|number| after.obligations[number].discharged.is_none())
                .collect::<Vec<_>>()
        );
    }

    // 3. Closing needs nothing owed.
    if after.status == Status::Closed && before.status != Status::Closed {
        prop_assert_eq!(
            before.status,
            Status::Resolved,
            "closed without a resolution"
        );
        prop_assert!(
            before.open_promise_ids().is_empty(),
            "closed with a promise open"
        );
        prop_assert!(
            before.open_follow_up_ids().is_empty(),
            "closed with a follow-up open"
        );
        prop_assert!(
            before.unmet_obligation_nos().is_empty(),
            "closed with an obligation unmet"
        );
    }
    if before.status == Status::Closed {
        prop_assert!(
            matches!(command, C::Reopen { .. }),
            "{} was accepted on a closed complaint",
            command.name()
        );
    }

    // 4. A due time moves only through a renegotiation, to a time still ahead.
    for (promise_id, promise) in &after.promises {
        let Some(previous) = before.promises.get(promise_id) else {
            continue;
        };
        let renegotiated = events.iter().find_map(|event| match event {
            E::PromiseRenegotiated {
                promise_id: renegotiated,
                previous_due_at,
                due_at,
                ..
            } if renegotiated == promise_id => Some((*previous_due_at, *due_at)),
            _ => None,
        });
        match renegotiated {
            Some((previous_due_at, due_at)) => {
                prop_assert_eq!(previous_due_at, previous.due_at);
                prop_assert_eq!(due_at, promise.due_at);
                prop_assert!(due_at > now, "renegotiated into the past");
                prop_assert!(due_at != previous.due_at, "renegotiated to the same time");
            }
            None => prop_assert_eq!(
                previous.due_at,
                promise.due_at,
                "promise {}'s due time moved without a renegotiation",
                promise_id
            ),
        }
    }

    // 6. Nothing recorded disappears.
    let kept_keys = |name: &str, old: Vec<String>, new: Vec<String>| {
        let new: BTreeSet<String> = new.into_iter().collect();
        match old.iter().find(|key| !new.contains(*key)) {
            Some(key) => Err(TestCaseError::fail(format!("{name} {key} disappeared"))),
            None => Ok(()),
        }
    };
    kept_keys(
        "obligation",
        keys(&before.obligations),
        keys(&after.obligations),
    )?;
    kept_keys("promise", keys(&before.promises), keys(&after.promises))?;
    kept_keys(
        "follow-up",
        keys(&before.follow_ups),
        keys(&after.follow_ups),
    )?;
    kept_keys(
        "element",
        keys(&before.non_negotiable),
        keys(&after.non_negotiable),
    )?;
    prop_assert!(before.escalations.is_subset(&after.escalations));
    for (promise_id, promise) in &before.promises {
        prop_assert!(
            promise
                .reminders
                .is_subset(&after.promises[promise_id].reminders),
            "a reminder of promise {} disappeared",
            promise_id
        );
    }
    prop_assert!(after.contacts >= before.contacts);
    prop_assert!(after.conduct_incidents >= before.conduct_incidents);
    prop_assert!(after.hand_backs >= before.hand_backs);
    prop_assert!(after.proposals >= before.proposals);
    Ok(())
}

fn keys<K: ToString, V>(map: &BTreeMap<K, V>) -> Vec<String> {
    map.keys().map(ToString::to_string).collect()
}

/// The invariants that hold of any state, given every event so far.
fn check_state(state: &Complaint, log: &[ComplaintEvent]) -> Result<(), TestCaseError> {
    // 1. After triage there is an owner, and a pending offer comes from that owner.
    if matches!(
        state.status,
        Status::Open | Status::Resolved | Status::Closed
    ) {
        prop_assert!(state.owner.is_some(), "{:?} without an owner", state.status);
    }
    if let Some(offer) = &state.pending_handover {
        prop_assert_eq!(Some(&offer.from), state.owner.as_ref());
    }
    // 3. A closed complaint owes nothing.
    if state.status == Status::Closed {
        prop_assert!(state.open_promise_ids().is_empty());
        prop_assert!(state.open_follow_up_ids().is_empty());
        prop_assert!(state.unmet_obligation_nos().is_empty());
    }
    // 5. Each reminder rung of a promise is recorded once in the whole history.
    let mut reminders = BTreeSet::new();
    for event in log {
        if let E::ReminderRecorded {
            promise_id, rung, ..
        } = event
        {
            prop_assert!(
                reminders.insert((*promise_id, *rung)),
                "reminder rung {} of promise {} recorded twice",
                rung,
                promise_id
            );
        }
    }
    // 5. Each ladder rung is reached once per due time, in order, and not before it is due.
    let mut reached: BTreeMap<(Subject, Timestamp), Vec<u32>> = BTreeMap::new();
    for event in log {
        if let E::RungReached {
            subject,
            rung,
            due_at,
            subject_due_at,
            at,
            ..
        } = event
        {
            prop_assert!(at >= due_at, "rung {} of {} reached early", rung, subject);
            let rungs = reached.entry((*subject, *subject_due_at)).or_default();
            prop_assert_eq!(
                *rung as usize,
                rungs.len() + 1,
                "rung {} of {} out of order or twice (reached before: {:?})",
                rung,
                subject,
                rungs
            );
            rungs.push(*rung);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

proptest! {
    // `Config::default()` reads PROPTEST_CASES (256 when unset) and the other PROPTEST_* knobs.
    #![proptest_config(Config::default())]

    #[test]
    fn every_history_keeps_the_invariants(history in history()) {
        run(&history, &mut Record::default())?;
    }
}

/// The generators are only as good as what they reach: a fixed-seed sample of histories must
/// get every command accepted, every event emitted, and every kind of refusal. A new command
/// or event that no generator produces fails here.
/// How many kinds of refusal (`ComplaintError` variants) there are.
const REFUSAL_KINDS: usize = 52;

#[test]
fn generated_histories_reach_every_command_and_event() {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &[7; 32]),
    );
    let strategy = history();
    let mut record = Record::default();
    for _ in 0..1024 {
        let history = strategy.new_tree(&mut runner).expect("a history").current();
        run(&history, &mut record).expect("the invariants hold");
    }
    let commands: BTreeSet<&str> = ComplaintCommand::<SealedText>::NAMES
        .iter()
        .copied()
        .collect();
    let never_accepted: Vec<_> = commands.difference(&record.accepted).collect();
    assert!(
        never_accepted.is_empty(),
        "never accepted: {never_accepted:?}"
    );
    let events: BTreeSet<&str> = crate::event_snapshots::every_variant()
        .iter()
        .map(ComplaintEvent::name)
        .collect();
    let never_emitted: Vec<_> = events.difference(&record.events).collect();
    assert!(never_emitted.is_empty(), "never emitted: {never_emitted:?}");
    assert!(
        record.refusals.len() >= REFUSAL_KINDS,
        "only {} kinds of refusal reached: {:?}",
        record.refusals.len(),
        record.refusals
    );
}
