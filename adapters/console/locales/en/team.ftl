## The Team page: the team's queues and what is overdue, for leads.

nav-team = Team
team-title = Team
team-load-title = Everyone's load
team-load-hint = Open items per person and kind, the people with the oldest breach first. A number leads to that person's overdue items.
team-load-caption = Open and overdue items per person and kind
team-empty = Nobody has anything open.
team-person = Person or queue
team-oldest-breach = Oldest breach
team-overdue-count = { $count } overdue
team-none-overdue = Nothing overdue
team-overdue-title = Overdue, oldest first
team-overdue-empty = Nothing is overdue.
team-overdue-limit = Showing the { $count } oldest; narrow the list by person or kind.
team-filter-person = Overdue items of { $person }
team-filter-kind = Overdue items of kind { $kind }
team-filter-both = Overdue items of kind { $kind } of { $person }
team-filter-clear = Show everyone's
team-owned-by = complaint owned by { $owner }
team-take-over = Take over…
team-take-over-reason = Why you take this complaint over
team-take-over-submit = Take over the complaint
