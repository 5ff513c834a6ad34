# De woorden van het klachtendomein, in het Nederlands. Elk bericht hier heeft een tweeling in
# ../en/domain.ftl (de tests van src/i18n.rs vergelijken de ids). Paginateksten staan in pages.ftl.

## Gebeurtenissen: ComplaintEvent::name()

event-ComplaintFiled = Klacht geregistreerd
event-ContactLogged = Contact vastgelegd
event-ObligationOpened = Verplichting om te reageren ontstaan
event-ObligationDischarged = Verplichting om te reageren nagekomen
event-OwnerAssigned = Eigenaar toegewezen
event-HandoverOffered = Overdracht aangeboden
event-HandoverAccepted = Overdracht geaccepteerd
event-HandoverDeclined = Overdracht geweigerd
event-TakenOver = Overgenomen
event-HandedBackToCustomer = Teruggelegd bij de klant
event-PromiseMade = Toezegging gedaan
event-PromiseKept = Toezegging nagekomen
event-PromiseRenegotiated = Toezegging opnieuw afgesproken
event-PromiseWithdrawn = Toezegging ingetrokken
event-PromiseBroken = Toezegging niet nagekomen
event-ReminderRecorded = Herinnering vastgelegd
event-FollowUpScheduled = Opvolging gepland
event-FollowUpCompleted = Opvolging afgerond
event-Escalated = Geëscaleerd
event-ConductIncidentRecorded = Gedragsincident vastgelegd
event-SensitiveCaseFlagged = Gemarkeerd als gevoelig
event-SensitiveFlagCleared = Markering ‘gevoelig’ verwijderd
event-NonNegotiableElementFlagged = Niet-onderhandelbaar onderdeel gemarkeerd
event-ResolutionProposed = Oplossing voorgesteld
event-ResolutionAccepted = Oplossing geaccepteerd door de klant
event-ResolutionRejected = Oplossing afgewezen door de klant
event-ComplaintResolved = Klacht opgelost
event-ComplaintClosed = Klacht gesloten
event-ComplaintReopened = Klacht heropend
event-DeadlinesSet = Termijnen vastgesteld
event-DeadlineExtended = Termijn verlengd
event-DeadlineMet = Termijn gehaald
event-ClockPaused = Termijnen opgeschort
event-ClockResumed = Termijnen hervat
event-PausedClockContacted = Klantcontact tijdens opschorting
event-LadderScheduled = Herinneringen ingepland
event-RungReached = Herinneringsstap bereikt

## Opdrachten: ComplaintCommand::NAMES (knoppen en formulierkoppen)

command-FileComplaint = Klacht registreren
command-LogContact = Contact vastleggen
command-AssignOwner = Eigenaar toewijzen
command-OfferHandover = Overdracht aanbieden
command-AcceptHandover = Overdracht accepteren
command-DeclineHandover = Overdracht weigeren
command-TakeOver = Overnemen
command-HandBackToCustomer = Terugleggen bij de klant
command-MakePromise = Toezegging doen
command-KeepPromise = Toezegging nakomen
command-RenegotiatePromise = Toezegging opnieuw afspreken
command-WithdrawPromise = Toezegging intrekken
command-MarkPromiseBroken = Toezegging als niet nagekomen markeren
command-RecordReminder = Herinnering vastleggen
command-ScheduleFollowUp = Opvolging plannen
command-CompleteFollowUp = Opvolging afronden
command-Escalate = Escaleren
command-RecordConductIncident = Gedragsincident vastleggen
command-FlagSensitive = Markeren als gevoelig
command-ClearSensitiveFlag = Markering ‘gevoelig’ verwijderen
command-FlagNonNegotiable = Niet-onderhandelbaar onderdeel markeren
command-ProposeResolution = Oplossing voorstellen
command-RecordCustomerResponse = Reactie van de klant vastleggen
command-Resolve = Oplossen
command-Close = Sluiten
command-Reopen = Heropenen
command-RecalculateDeadlines = Termijnen herberekenen
command-ExtendDeadline = Termijn verlengen
command-PauseClock = Termijnen opschorten
command-ResumeClock = Termijnen hervatten
command-ReachRung = Herinneringsstap uitvoeren

## Weigeringen: ComplaintError::slug(), in gewone taal voor medewerkers

refusal-complaint-not-found = Deze klacht bestaat niet.
refusal-already-filed = Deze klacht is al geregistreerd.
refusal-complaint-closed = Deze klacht is gesloten. Heropen de klacht eerst.
refusal-no-owner = Deze klacht heeft nog geen eigenaar. Wijs eerst een eigenaar toe.
refusal-already-owned = Deze klacht heeft al een eigenaar: { $owner }. Bied een overdracht aan of neem de klacht over.
refusal-already-owner = { $owner } is al eigenaar van deze klacht.
refusal-handover-pending = Er staat al een overdracht aan { $to } open.
refusal-no-handover-pending = Er staat geen overdracht open.
refusal-not-handover-receiver = De overdracht is aangeboden aan { $to }; alleen die kan hem accepteren of weigeren.
refusal-hand-back-refused = Dit kan niet worden teruggelegd bij de klant: ‘{ $reason }’ is onze eigen opvolging en nooit een taak van de klant. Plan in plaats daarvan een opvolging.
refusal-due-in-past = Het tijdstip { $due_at } ligt niet in de toekomst (het is nu { $now }).
refusal-promise-exists = Er bestaat al een toezegging met dit kenmerk ({ $promise_id }).
refusal-promise-not-found = Toezegging { $promise_id } hoort niet bij deze klacht.
refusal-promise-already-kept = Deze toezegging is al nagekomen.
refusal-promise-withdrawn = Deze toezegging is ingetrokken.
refusal-promise-already-broken = Deze toezegging staat al als niet nagekomen.
refusal-promise-not-due = Deze toezegging loopt nog tot { $due_at }.
refusal-due-time-unchanged = Deze toezegging staat al op { $due_at }. Kies een ander tijdstip.
refusal-consent-required = Voor het intrekken van deze toezegging is toestemming van de klant nodig.
refusal-reminder-already-recorded = Herinnering { $rung } voor deze toezegging is al vastgelegd.
refusal-non-negotiable-element = ‘{ $element }’ is niet onderhandelbaar: { $explanation } (verwijs de klant naar: { $referral })
refusal-element-already-flagged = ‘{ $element }’ is al gemarkeerd als niet-onderhandelbaar.
refusal-follow-up-exists = Er bestaat al een opvolging met dit kenmerk ({ $follow_up_id }).
refusal-follow-up-not-found = Opvolging { $follow_up_id } hoort niet bij deze klacht.
refusal-follow-up-already-completed = Deze opvolging is al afgerond.
refusal-already-escalated = Deze klacht is al geëscaleerd naar { $to }.
refusal-already-sensitive = Deze klacht is al gemarkeerd als gevoelig.
refusal-not-sensitive = Deze klacht is niet gemarkeerd als gevoelig.
refusal-proposal-pending = Oplossingsvoorstel { $proposal_no } wacht nog op antwoord van de klant.
refusal-no-pending-proposal = Er wacht geen oplossingsvoorstel op antwoord van de klant.
refusal-resolution-not-accepted = De klant heeft geen oplossing geaccepteerd. Geef een reden om de klacht toch op te lossen, of stel een oplossing voor.
refusal-already-resolved = Deze klacht is al opgelost.
refusal-not-resolved = Deze klacht is nog niet opgelost.
refusal-open-promises = Deze klacht kan nog niet worden gesloten: { $count ->
        [one] er staat nog een toezegging open.
       *[other] er staan nog { $count } toezeggingen open.
    }
refusal-open-follow-ups = Deze klacht kan nog niet worden gesloten: { $count ->
        [one] er staat nog een opvolging open.
       *[other] er staan nog { $count } opvolgingen open.
    }
refusal-unmet-obligations = Deze klacht kan nog niet worden gesloten: { $count ->
        [one] er is nog een verplichting om te reageren niet nagekomen.
       *[other] er zijn nog { $count } verplichtingen om te reageren niet nagekomen.
    }
refusal-not-reopenable = Alleen een opgeloste of gesloten klacht kan worden heropend.
refusal-no-such-deadline = Deze klacht heeft geen termijn ‘{ $deadline }’.
refusal-deadline-already-met = De termijn ‘{ $deadline }’ is al gehaald.
refusal-extension-not-allowed = Het regime ‘{ $regime }’ staat geen verlenging van de termijn ‘{ $deadline }’ toe.
refusal-already-extended = De termijn ‘{ $deadline }’ is al een keer verlengd.
refusal-extension-beyond-limit = De termijn ‘{ $deadline }’ kan tot uiterlijk { $limit } worden verlengd.
refusal-extension-not-later = Een verlenging moet de termijn ‘{ $deadline }’ later leggen dan { $due_at }.
refusal-clock-already-paused = De termijnen zijn al opgeschort (sinds { $paused_at }).
refusal-clock-not-paused = De termijnen zijn niet opgeschort.
refusal-nothing-to-pause = Er loopt geen termijn, dus er valt niets op te schorten.
refusal-clock-paused = De termijnen zijn opgeschort; { $subject } wacht tot ze worden hervat.
refusal-rung-not-scheduled = Er is geen herinneringsstap { $rung } voor { $subject }.
refusal-rung-already-reached = Herinneringsstap { $rung } voor { $subject } is al bereikt.
refusal-rung-out-of-order = Herinneringsstap { $rung } voor { $subject } komt na stap { $next }, en die is nog niet bereikt.
refusal-rung-not-due = Herinneringsstap { $rung } voor { $subject } is pas op { $due_at } aan de beurt.
refusal-subject-settled = Voor { $subject } staat niets meer open.

## Weigeringen van de motor rond de klacht (EngineError)

refusal-engine-not-found = Deze klacht is niet gevonden.
refusal-engine-conflict = Anderen wijzigden deze klacht op hetzelfde moment. Bekijk de tijdlijn en probeer het opnieuw.
refusal-engine-erased = De persoonsgegevens van deze klacht zijn gewist; de klacht kan niet meer worden gewijzigd.
refusal-engine-unavailable = Het systeem is even niet beschikbaar. Er is niets opgeslagen; probeer het zo opnieuw.
refusal-engine-idempotency-key-reused = Dit formulier is al eerder verstuurd met andere gegevens. Laad de pagina opnieuw en probeer het nog eens.
refusal-engine-internal = Er ging bij ons iets mis. Er is niets opgeslagen.

## Iets wat we verschuldigd zijn, midden in een zin (Subject)

subject-promise = toezegging { $id }
subject-follow-up = opvolging { $id }
subject-obligation = verplichting om te reageren { $no }
subject-deadline = de termijn ‘{ $deadline }’

## Gesloten reeksen waarden: <reeks>-<slug>

status-not-filed = Niet geregistreerd
status-new = Nieuw
status-open = In behandeling
status-resolved = Opgelost
status-closed = Gesloten

channel-phone = Telefoon
channel-email = E-mail
channel-chat = Chat
channel-letter = Brief
channel-social = Sociale media
channel-in-person = Persoonlijk

direction-inbound = Inkomend
direction-outbound = Uitgaand

promise-kind-callback = Terugbellen
promise-kind-visit = Bezoek
promise-kind-information = Informatie
promise-kind-refund = Terugbetaling
promise-kind-repair = Herstel
promise-kind-other = Anders

escalation-target-special-care = Bijzondere zorg
escalation-target-lead = Teamleider
escalation-target-manager = Manager
escalation-target-security = Beveiliging

escalation-reason-requested = Op verzoek van de klant
escalation-reason-repeat-contacts = Herhaald contact
escalation-reason-threat = Bedreiging
escalation-reason-conduct-response = Reactie op gedrag
escalation-reason-ladder = Herinneringsschema

conduct-kind-insult = Belediging
conduct-kind-threat = Bedreiging
conduct-kind-discrimination = Discriminatie

conduct-response-warning = Waarschuwing gegeven
conduct-response-ended-contact = Contact beëindigd
conduct-response-security = Beveiliging ingeschakeld
conduct-response-police-report = Aangifte gedaan

sensitive-reason-bereavement = Overlijden
sensitive-reason-divorce = Echtscheiding
sensitive-reason-illness = Ziekte
sensitive-reason-vulnerability = Kwetsbaarheid
sensitive-reason-other = Anders

hand-back-reason-customer-decision-required = De klant moet een beslissing nemen
hand-back-reason-customer-document-required = Er is een document van de klant nodig
hand-back-reason-outside-our-remit = Valt buiten onze verantwoordelijkheid
hand-back-reason-third-party-dependency = Wachten op een derde partij

deadline-kind-acknowledge = Ontvangstbevestiging
deadline-kind-summary-resolution = Snelle afhandeling
deadline-kind-final-response = Definitief standpunt

regime-none = Geen wettelijke termijnen
regime-fca-disp = FCA DISP
regime-fca-payment-services = FCA betaaldiensten
regime-kifid = Kifid
regime-awb = Awb

subject-kind-promise = Toezegging
subject-kind-follow-up = Opvolging
subject-kind-obligation = Verplichting om te reageren
subject-kind-acknowledge = Ontvangstbevestiging
subject-kind-summary-resolution = Snelle afhandeling
subject-kind-final-response = Definitief standpunt

recipient-promiser = Wie de toezegging deed
recipient-owner = Eigenaar
recipient-lead = Teamleider
recipient-manager = Manager
recipient-special-care = Bijzondere zorg
recipient-customer = Klant

discharge-reply = Antwoord
discharge-promise = Toezegging
discharge-resolution = Oplossing
discharge-final-response = Definitief standpunt

resolution-state-none = Geen voorstel
resolution-state-proposed = Voorgesteld
resolution-state-accepted = Geaccepteerd
resolution-state-rejected = Afgewezen

work-kind-promise = Toezegging
work-kind-follow-up = Opvolging
work-kind-obligation = Verplichting om te reageren
work-kind-triage = Triage
work-kind-handover = Overdracht
work-kind-deadline = Termijn

role-agent = Medewerker
role-lead = Teamleider
role-auditor = Auditor
role-integration = Koppeling
role-admin = Beheerder

promise-status-pending = Lopend
promise-status-kept = Nagekomen
promise-status-kept-late = Te laat nagekomen
promise-status-broken = Niet nagekomen
promise-status-withdrawn = Ingetrokken

follow-up-status-open = Open
follow-up-status-completed = Afgerond
follow-up-status-completed-late = Te laat afgerond

## Tijd

countdown-future = over { $time }
countdown-past = { $time } te laat
countdown-now = nu
unit-day = d
unit-hour = u
unit-minute = min

# Absolute tijden: Tr::datetime en Tr::date vullen deze in.
datetime = { $weekday } { $day } { $month } { $year }, { $time }
date = { $weekday } { $day } { $month } { $year }

weekday-mon = ma
weekday-tue = di
weekday-wed = wo
weekday-thu = do
weekday-fri = vr
weekday-sat = za
weekday-sun = zo

month-jan = jan
month-feb = feb
month-mar = mrt
month-apr = apr
month-may = mei
month-jun = jun
month-jul = jul
month-aug = aug
month-sep = sep
month-oct = okt
month-nov = nov
month-dec = dec
