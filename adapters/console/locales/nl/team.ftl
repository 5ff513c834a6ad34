## De pagina Team: de wachtrijen van het team en wat te laat is, voor teamleiders.

nav-team = Team
team-title = Team
team-load-title = Werkvoorraad van iedereen
team-load-hint = Openstaande punten per persoon en soort, de personen met de oudste overschrijding eerst. Een getal leidt naar de te late punten van die persoon.
team-load-caption = Openstaande en te late punten per persoon en soort
team-empty = Niemand heeft iets openstaan.
team-person = Persoon of wachtrij
team-oldest-breach = Oudste overschrijding
team-overdue-count = { $count } te laat
team-none-overdue = Niets te laat
team-overdue-title = Te laat, oudste eerst
team-overdue-empty = Niets is te laat.
team-overdue-limit = De { $count } oudste worden getoond; beperk de lijst tot een persoon of soort.
team-filter-person = Te late punten van { $person }
team-filter-kind = Te late punten van de soort { $kind }
team-filter-both = Te late punten van de soort { $kind } van { $person }
team-filter-clear = Toon die van iedereen
team-owned-by = klacht van { $owner }
team-take-over = Overnemen…
team-take-over-reason = Waarom u deze klacht overneemt
team-take-over-submit = Klacht overnemen
