//! The command side of the `Complaint` aggregate: [`Complaint::decide`], which checks that the
//! complaint can take a command at all and hands it to the rules of its family, and the cqrs-es
//! `Aggregate` impl that feeds `decide` the clock and applies what it returns.
//!
//! One module per command family, in the order of `ComplaintCommand`. Rules used by more than
//! one family (ladders, deadlines met, a paused clock resumed, obligations discharged) live in
//! `shared`, once.

mod clock;
mod contacts;
mod escalation;
mod flags;
mod follow_ups;
mod intake;
mod ownership;
mod promises;
mod resolution;
mod shared;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use jiff::Timestamp;

use crate::aggregate::{Complaint, Status};
use crate::command::{ComplaintCommand, IssuedCommand};
use crate::error::ComplaintError;
use crate::event::ComplaintEvent;
use crate::policy::{ComplaintServices, Policy};
use crate::values::{SealedText, StaffId};

impl Complaint {
    /// Decides which events `command`, issued by `actor` at `now`, produces. Pure: the same
    /// state, command, time and policy always give the same answer.
    pub fn decide(
        &self,
        actor: &StaffId,
        command: ComplaintCommand<SealedText>,
        now: Timestamp,
        policy: &Policy,
    ) -> Result<Vec<ComplaintEvent>, ComplaintError> {
        use ComplaintCommand as C;

        // Filing is the one command a complaint that does not exist yet accepts, and the one a
        // filed complaint refuses; a closed complaint accepts nothing but `Reopen`.
        if !matches!(command, C::FileComplaint { .. }) {
            match self.status {
                Status::NotFiled => return Err(ComplaintError::NotFiled),
                Status::Closed if !matches!(command, C::Reopen { .. }) => {
                    return Err(ComplaintError::Closed)
                }
                _ => {}
            }
        }
        let decision = Decision {
            actor: actor.clone(),
            now,
            policy,
        };

        match command {
            command @ C::FileComplaint { .. } => self.decide_intake(command, decision),
            command @ C::LogContact { .. } => self.decide_contact(command, decision),
            command @ (C::AssignOwner { .. }
            | C::OfferHandover { .. }
            | C::AcceptHandover
            | C::DeclineHandover { .. }
            | C::TakeOver { .. }
            | C::HandBackToCustomer { .. }) => self.decide_ownership(command, decision),
            command @ (C::MakePromise { .. }
            | C::KeepPromise { .. }
            | C::RenegotiatePromise { .. }
            | C::WithdrawPromise { .. }
            | C::MarkPromiseBroken { .. }
            | C::RecordReminder { .. }) => self.decide_promise(command, decision),
            command @ (C::ScheduleFollowUp { .. } | C::CompleteFollowUp { .. }) => {
                self.decide_follow_up(command, decision)
            }
            command @ (C::Escalate { .. } | C::RecordConductIncident { .. }) => {
                self.decide_escalation(command, decision)
            }
            command @ (C::FlagSensitive { .. }
            | C::ClearSensitiveFlag { .. }
            | C::FlagNonNegotiable { .. }) => self.decide_flag(command, decision),
            command @ (C::ProposeResolution { .. }
            | C::RecordCustomerResponse { .. }
            | C::Resolve { .. }
            | C::Close
            | C::Reopen { .. }) => self.decide_resolution(command, decision),
            command @ (C::RecalculateDeadlines { .. }
            | C::ExtendDeadline { .. }
            | C::PauseClock { .. }
            | C::ResumeClock
            | C::ReachRung { .. }) => self.decide_clock(command, decision),
        }
    }
}

/// A command as the family rules take it, its free text already sealed.
type Command = ComplaintCommand<SealedText>;

/// What the family rules decide with, besides the command: who issued it, when, and under
/// which policy.
struct Decision<'a> {
    actor: StaffId,
    now: Timestamp,
    policy: &'a Policy,
}

/// What the family rules answer: the events a command produces, or why it is refused.
type Decided = Result<Vec<ComplaintEvent>, ComplaintError>;

/// Panics for a command `decide` routed to the wrong family: the routing above is exhaustive and
/// checked by the compiler, so reaching this is a bug in `decide` itself, never bad input.
fn misrouted(family: &str, command: &Command) -> ! {
    unreachable!("decide routed {} to the {family} rules", command.name())
}

impl Aggregate for Complaint {
    const TYPE: &'static str = "Complaint";
    type Command = IssuedCommand;
    type Event = ComplaintEvent;
    type Error = ComplaintError;
    type Services = ComplaintServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let now = services.clock.now();
        let events = self.decide(&command.actor, command.command, now, &services.policy)?;
        for event in events {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.evolve(event);
    }
}
