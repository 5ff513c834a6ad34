## De pagina Team: de wachtrijen van het team en wat te laat is, voor teamleiders.

nav-team = Team
