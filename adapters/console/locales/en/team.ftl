## The Team page: the team's queues and what is overdue, for leads.

nav-team = Team
