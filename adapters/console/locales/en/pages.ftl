## The console's pages: layout, navigation, forms and messages.

skip-to-content = Skip to content
nav-label = Main
nav-my-work = My work
nav-complaints = Complaints
nav-new-complaint = New complaint
nav-admin = Admin
nav-settings = Settings
sign-out = Sign out
shortcuts-button = Shortcuts
shortcuts-title = Keyboard shortcuts
shortcut-my-work = Go to My work
shortcut-search = Search complaints
shortcut-new-complaint = New complaint
shortcut-log-contact = Log a contact (on a complaint)
shortcut-make-promise = Make a promise (on a complaint)
shortcut-help = Show this help
close = Close
save = Save
back-home = Back to My work
optional = optional
choose = Choose…
yes = Yes
no = No
overdue = Overdue
unassigned = Unassigned
erased = Erased
actor-unknown = Unknown
nothing-due = Nothing due

## Signing in
sign-in-title = Sign in
sign-in-name = Name
sign-in-password = Password
sign-in-submit = Sign in
sign-in-failed = That name and password do not match an active account.
sign-in-throttled = Too many attempts. Try again in { $seconds } seconds.
sign-in-first-time = First time? An administrator creates your account with “obliged user add”.

## Errors
error-status = Status { $status }
error-not-found = Page not found
error-not-found-detail = There is nothing at this address.
error-no-complaint = Complaint not found
error-no-complaint-detail = No complaint has this id.
error-forbidden = Not allowed
error-forbidden-detail = Your role does not allow this page or action.
error-csrf = Form expired
error-csrf-detail = This form was not sent from your current session, so nothing was done. Go back, reload the page and try again.
error-unavailable = Temporarily unavailable
error-unavailable-detail = The database cannot be reached right now. Nothing was changed; try again in a moment.
error-bad-form = Form not understood
error-bad-form-detail = The form was incomplete, so nothing was done. Reload the page and try again.

## My work
my-work-title = My work
my-work-lede = Everything you owe, soonest first.
my-work-empty = Nothing owed right now.
my-work-summary = { $total } open, { $overdue } overdue
complaint-short = Complaint { $id }
promise-broken = Broken

## Complaints
complaints-title = Complaints
complaints-empty = No complaint matches these filters.
filter-search = Customer reference or complaint id
filter-search-hint = e.g. C-1042
filter-any = Any
filter-apply = Apply
filter-reset = Reset
filter-overdue-yes = Overdue
filter-overdue-no = Not overdue
sort-filed = Newest first
sort-due = Next due first
list-invalid-filter = The filter “{ $field }” is not valid and was ignored.
count-promises = { $count ->
    [one] 1 promise
   *[other] { $count } promises
}
count-obligations = { $count ->
    [one] 1 to answer
   *[other] { $count } to answer
}
count-follow-ups = { $count ->
    [one] 1 follow-up
   *[other] { $count } follow-ups
}
pager-label = Pages
pager-previous = Previous
pager-next = Next
pager-page = Page { $page }
flag-sensitive = Sensitive
flag-non-negotiable = Non-negotiable
flag-special-care = Special care
flag-lead = Team lead
flag-manager = Manager
flag-security = Security

## The complaint
complaint-title = Complaint { $id }
complaint-filed = Complaint filed.
command-done = Done: { $command }.
history-title = History
side-label = What is owed and what to do
owed-title = What we owe
owed-nothing = Nothing owed right now.
owed-settled = { $count } settled
obligation-text = Answer contact { $contact }
ladder-label = Reminders and escalations
rung-reached = reached
deadlines-title = Deadlines
deadline-met = met on time
deadline-met-late = met late
deadline-extended = extended
non-negotiable-title = Cannot be negotiated
clock-paused-since = Clock paused since { $when }
handover-pending = { $from } offered it to { $to } on { $when }
flag-sensitive-because = Sensitive: { $reason }
flag-escalated-to = Escalated: { $target }
event-actor-alias = { $alias } ({ $person })
live-changed = Updated: { $event } by { $actor }
actions-title = Actions
group-contact = Contact
group-promises = Promises
group-follow-ups = Follow-ups
group-ownership = Ownership
group-customer = Customer
group-resolution = Resolution
group-flags = Escalation and flags
group-deadlines = Deadlines and clock
form-missing = Fill in “{ $field }”.
form-invalid = “{ $field }” is not valid.

## New complaint
new-complaint-title = New complaint
new-complaint-lede = Write down what the customer told you, in their words, so nobody has to ask again.
new-complaint-about = The complaint
new-complaint-take = I own this complaint
new-complaint-submit = File complaint

## Fields
field-complaint = Complaint
field-status = Status
field-owner = Owner
field-overdue = Overdue
field-flag = Flag
field-sort = Order
field-customer = Customer
field-customer_reference = Customer reference
field-customer_name = Name
field-customer_email = Email
field-customer_phone = Phone
field-customer-reference = Customer reference
field-customer-name = Name
field-customer-email = Email
field-customer-phone = Phone
field-category = Category
field-category-hint = A short word such as billing or delivery (letters, digits, . _ @ -).
field-channel = Channel
field-description = Description
field-next-due = Next due
field-open = Open
field-filed = Filed
field-handover = Handover
field-direction = Direction
field-summary = Summary
field-request = The customer asks for something (we owe an answer)
field-alias = Name used towards the customer
field-kind = Kind
field-due_at = Due
field-previous_due_at = Was due
field-concerns = Concerns the element
field-promise_id = Promise
field-follow_up_id = Follow-up
field-evidence = How it was kept
field-reason = Reason
field-customer_agreed = The customer agreed
field-customer_consented = The customer consented
field-outcome = Outcome
field-to = To
field-from = From
field-note = Note
field-response = Response
field-element = Element
field-explanation = Explanation for the customer
field-referral = Where the customer can turn
field-accepted = Did the customer accept?
field-comment = Comment
field-override_reason = Reason to resolve without the customer's acceptance
field-deadline = Deadline
field-notice = Notice sent to the customer
field-regime = Regime
field-rung = Step
field-time-zone-hint = In the office's time zone.

## Settings
settings-title = Settings
settings-language = Language
settings-language-hint = “Browser” follows your browser's language.
settings-saved = Settings saved.
language-auto = Browser
language-en = English
language-nl = Nederlands
