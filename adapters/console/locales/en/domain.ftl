# The words of the complaint domain, in English. Every message here has a twin in
# ../nl/domain.ftl (the tests of src/i18n.rs compare the ids). Page texts live in pages.ftl.

## Events: ComplaintEvent::name()

event-ComplaintFiled = Complaint registered
event-ContactLogged = Contact logged
event-ObligationOpened = Obligation to respond opened
event-ObligationDischarged = Obligation to respond met
event-OwnerAssigned = Owner assigned
event-HandoverOffered = Handover offered
event-HandoverAccepted = Handover accepted
event-HandoverDeclined = Handover declined
event-TakenOver = Taken over
event-HandedBackToCustomer = Handed back to the customer
event-PromiseMade = Promise made
event-PromiseKept = Promise kept
event-PromiseRenegotiated = Promise renegotiated
event-PromiseWithdrawn = Promise withdrawn
event-PromiseBroken = Promise broken
event-ReminderRecorded = Reminder recorded
event-FollowUpScheduled = Follow-up scheduled
event-FollowUpCompleted = Follow-up completed
event-Escalated = Escalated
event-ConductIncidentRecorded = Conduct incident recorded
event-SensitiveCaseFlagged = Flagged as sensitive
event-SensitiveFlagCleared = Sensitive flag cleared
event-NonNegotiableElementFlagged = Non-negotiable element flagged
event-ResolutionProposed = Resolution proposed
event-ResolutionAccepted = Resolution accepted by the customer
event-ResolutionRejected = Resolution rejected by the customer
event-ComplaintResolved = Complaint resolved
event-ComplaintClosed = Complaint closed
event-ComplaintReopened = Complaint reopened
event-DeadlinesSet = Deadlines set
event-DeadlineExtended = Deadline extended
event-DeadlineMet = Deadline met
event-ClockPaused = Deadline clock paused
event-ClockResumed = Deadline clock resumed
event-PausedClockContacted = Customer contact while the clock was paused
event-LadderScheduled = Reminders scheduled
event-RungReached = Reminder step reached

## Commands: ComplaintCommand::NAMES (buttons and form headings)

command-FileComplaint = Register a complaint
command-LogContact = Log a contact
command-AssignOwner = Assign an owner
command-OfferHandover = Offer a handover
command-AcceptHandover = Accept the handover
command-DeclineHandover = Decline the handover
command-TakeOver = Take over
command-HandBackToCustomer = Hand back to the customer
command-MakePromise = Make a promise
command-KeepPromise = Keep a promise
command-RenegotiatePromise = Renegotiate a promise
command-WithdrawPromise = Withdraw a promise
command-MarkPromiseBroken = Mark a promise as broken
command-RecordReminder = Record a reminder
command-ScheduleFollowUp = Schedule a follow-up
command-CompleteFollowUp = Complete a follow-up
command-Escalate = Escalate
command-RecordConductIncident = Record a conduct incident
command-FlagSensitive = Flag as sensitive
command-ClearSensitiveFlag = Clear the sensitive flag
command-FlagNonNegotiable = Flag a non-negotiable element
command-ProposeResolution = Propose a resolution
command-RecordCustomerResponse = Record the customer's response
command-Resolve = Resolve
command-Close = Close
command-Reopen = Reopen
command-RecalculateDeadlines = Recalculate the deadlines
command-ExtendDeadline = Extend a deadline
command-PauseClock = Pause the deadline clock
command-ResumeClock = Resume the deadline clock
command-ReachRung = Reach a reminder step

## Refusals: ComplaintError::slug(), in plain words for staff

refusal-complaint-not-found = This complaint does not exist.
refusal-already-filed = This complaint has already been registered.
refusal-complaint-closed = This complaint is closed. Reopen it first.
refusal-no-owner = This complaint has no owner yet. Assign one first.
refusal-already-owned = This complaint is already owned by { $owner }. Offer a handover or take it over.
refusal-already-owner = { $owner } already owns this complaint.
refusal-handover-pending = A handover to { $to } is already waiting for an answer.
refusal-no-handover-pending = No handover is waiting for an answer.
refusal-not-handover-receiver = The handover was offered to { $to }; only they can accept or decline it.
refusal-hand-back-refused = This cannot be handed back to the customer: “{ $reason }” is our own follow-up, never the customer's job. Schedule a follow-up instead.
refusal-due-in-past = The due time { $due_at } is not in the future (it is now { $now }).
refusal-promise-exists = A promise with this reference already exists ({ $promise_id }).
refusal-promise-not-found = Promise { $promise_id } does not belong to this complaint.
refusal-promise-already-kept = This promise has already been kept.
refusal-promise-withdrawn = This promise was withdrawn.
refusal-promise-already-broken = This promise is already marked as broken.
refusal-promise-not-due = This promise is not due until { $due_at }.
refusal-due-time-unchanged = This promise is already due at { $due_at }. Choose a different time.
refusal-consent-required = Withdrawing this promise needs the customer's consent.
refusal-reminder-already-recorded = Reminder { $rung } for this promise has already been recorded.
refusal-non-negotiable-element = “{ $element }” is not negotiable: { $explanation } (refer the customer to: { $referral })
refusal-element-already-flagged = “{ $element }” is already flagged as non-negotiable.
refusal-follow-up-exists = A follow-up with this reference already exists ({ $follow_up_id }).
refusal-follow-up-not-found = Follow-up { $follow_up_id } does not belong to this complaint.
refusal-follow-up-already-completed = This follow-up has already been completed.
refusal-already-escalated = This complaint is already escalated to { $to }.
refusal-already-sensitive = This complaint is already flagged as sensitive.
refusal-not-sensitive = This complaint is not flagged as sensitive.
refusal-proposal-pending = Resolution proposal { $proposal_no } is still waiting for the customer's answer.
refusal-no-pending-proposal = No resolution proposal is waiting for the customer's answer.
refusal-resolution-not-accepted = The customer has not accepted a resolution. Give a reason to resolve it anyway, or propose a resolution.
refusal-already-resolved = This complaint is already resolved.
refusal-not-resolved = This complaint is not resolved yet.
refusal-open-promises = This complaint cannot be closed yet: { $count ->
        [one] a promise is
       *[other] { $count } promises are
    } still open.
refusal-open-follow-ups = This complaint cannot be closed yet: { $count ->
        [one] a follow-up is
       *[other] { $count } follow-ups are
    } still open.
refusal-unmet-obligations = This complaint cannot be closed yet: { $count ->
        [one] an obligation to respond has
       *[other] { $count } obligations to respond have
    } not been met.
refusal-not-reopenable = Only a resolved or closed complaint can be reopened.
refusal-no-such-deadline = This complaint has no “{ $deadline }” deadline.
refusal-deadline-already-met = The “{ $deadline }” deadline has already been met.
refusal-extension-not-allowed = The regime “{ $regime }” allows no extension of the “{ $deadline }” deadline.
refusal-already-extended = The “{ $deadline }” deadline has already been extended once.
refusal-extension-beyond-limit = The “{ $deadline }” deadline can be extended to { $limit } at the latest.
refusal-extension-not-later = An extension must move the “{ $deadline }” deadline past { $due_at }.
refusal-clock-already-paused = The deadline clock is already paused (since { $paused_at }).
refusal-clock-not-paused = The deadline clock is not paused.
refusal-nothing-to-pause = No deadline is running, so there is no clock to pause.
refusal-clock-paused = The deadline clock is paused; { $subject } waits until it resumes.
refusal-rung-not-scheduled = There is no reminder step { $rung } for { $subject }.
refusal-rung-already-reached = Reminder step { $rung } for { $subject } has already been reached.
refusal-rung-out-of-order = Reminder step { $rung } for { $subject } comes after step { $next }, which has not been reached yet.
refusal-rung-not-due = Reminder step { $rung } for { $subject } is not due until { $due_at }.
refusal-subject-settled = Nothing is owed for { $subject } any more.

## Refusals of the engine around the aggregate (EngineError)

refusal-engine-not-found = This complaint was not found.
refusal-engine-conflict = Others were changing this complaint at the same moment. Check the timeline and try again.
refusal-engine-erased = The personal data of this complaint has been erased, so it can no longer be changed.
refusal-engine-unavailable = The system is unavailable for a moment. Nothing was saved; please try again shortly.
refusal-engine-idempotency-key-reused = This form was already sent with different values. Reload the page and try again.
refusal-engine-internal = Something went wrong on our side. Nothing was saved.

## Something owed, inside a sentence (Subject)

subject-promise = promise { $id }
subject-follow-up = follow-up { $id }
subject-obligation = obligation to respond { $no }
subject-deadline = the “{ $deadline }” deadline

## Closed sets of values: <set>-<slug>

status-not-filed = Not registered
status-new = New
status-open = Open
status-resolved = Resolved
status-closed = Closed

channel-phone = Phone
channel-email = E-mail
channel-chat = Chat
channel-letter = Letter
channel-social = Social media
channel-in-person = In person

direction-inbound = Inbound
direction-outbound = Outbound

promise-kind-callback = Call back
promise-kind-visit = Visit
promise-kind-information = Information
promise-kind-refund = Refund
promise-kind-repair = Repair
promise-kind-other = Other

escalation-target-special-care = Special Care
escalation-target-lead = Team lead
escalation-target-manager = Manager
escalation-target-security = Security

escalation-reason-requested = Requested by the customer
escalation-reason-repeat-contacts = Repeated contacts
escalation-reason-threat = Threat
escalation-reason-conduct-response = Response to conduct
escalation-reason-ladder = Reminder schedule

conduct-kind-insult = Insult
conduct-kind-threat = Threat
conduct-kind-discrimination = Discrimination

conduct-response-warning = Warning given
conduct-response-ended-contact = Contact ended
conduct-response-security = Security called
conduct-response-police-report = Reported to the police

sensitive-reason-bereavement = Bereavement
sensitive-reason-divorce = Divorce
sensitive-reason-illness = Illness
sensitive-reason-vulnerability = Vulnerability
sensitive-reason-other = Other

hand-back-reason-customer-decision-required = The customer has to decide
hand-back-reason-customer-document-required = A document from the customer is needed
hand-back-reason-outside-our-remit = Outside our remit
hand-back-reason-third-party-dependency = Waiting on a third party

deadline-kind-acknowledge = Acknowledgement
deadline-kind-summary-resolution = Summary resolution
deadline-kind-final-response = Final response

regime-none = No regulatory deadlines
regime-fca-disp = FCA DISP
regime-fca-payment-services = FCA payment services
regime-kifid = Kifid
regime-awb = Awb

subject-kind-promise = Promise
subject-kind-follow-up = Follow-up
subject-kind-obligation = Obligation to respond
subject-kind-acknowledge = Acknowledgement
subject-kind-summary-resolution = Summary resolution
subject-kind-final-response = Final response

recipient-promiser = Whoever made the promise
recipient-owner = Owner
recipient-lead = Team lead
recipient-manager = Manager
recipient-special-care = Special Care
recipient-customer = Customer

discharge-reply = Reply
discharge-promise = Promise
discharge-resolution = Resolution
discharge-final-response = Final response

resolution-state-none = No proposal
resolution-state-proposed = Proposed
resolution-state-accepted = Accepted
resolution-state-rejected = Rejected

work-kind-promise = Promise
work-kind-follow-up = Follow-up
work-kind-obligation = Obligation to respond
work-kind-triage = Triage
work-kind-handover = Handover
work-kind-deadline = Deadline

role-agent = Agent
role-lead = Team lead
role-auditor = Auditor
role-integration = Integration
role-admin = Administrator

promise-status-pending = Pending
promise-status-kept = Kept
promise-status-kept-late = Kept late
promise-status-broken = Broken
promise-status-withdrawn = Withdrawn

follow-up-status-open = Open
follow-up-status-completed = Completed
follow-up-status-completed-late = Completed late

## Time

countdown-future = in { $time }
countdown-past = { $time } overdue
countdown-now = now
unit-day = d
unit-hour = h
unit-minute = min

# Absolute times: Tr::datetime and Tr::date fill these.
datetime = { $weekday } { $day } { $month } { $year }, { $time }
date = { $weekday } { $day } { $month } { $year }

weekday-mon = Mon
weekday-tue = Tue
weekday-wed = Wed
weekday-thu = Thu
weekday-fri = Fri
weekday-sat = Sat
weekday-sun = Sun

month-jan = Jan
month-feb = Feb
month-mar = Mar
month-apr = Apr
month-may = May
month-jun = Jun
month-jul = Jul
month-aug = Aug
month-sep = Sep
month-oct = Oct
month-nov = Nov
month-dec = Dec
