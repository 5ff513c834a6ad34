## De pagina's van de console: opmaak, navigatie, formulieren en meldingen.

skip-to-content = Naar de inhoud
nav-label = Hoofdmenu
nav-my-work = Mijn werk
nav-complaints = Klachten
nav-new-complaint = Nieuwe klacht
nav-admin = Beheer
nav-settings = Instellingen
sign-out = Afmelden
shortcuts-button = Sneltoetsen
shortcuts-title = Sneltoetsen
shortcut-my-work = Naar Mijn werk
shortcut-search = Klachten zoeken
shortcut-new-complaint = Nieuwe klacht
shortcut-log-contact = Contact vastleggen (bij een klacht)
shortcut-make-promise = Toezegging doen (bij een klacht)
shortcut-help = Deze hulp tonen
close = Sluiten
save = Opslaan
back-home = Terug naar Mijn werk
optional = optioneel
choose = Kies…
yes = Ja
no = Nee
overdue = Te laat
unassigned = Geen eigenaar
erased = Gewist
actor-unknown = Onbekend
nothing-due = Niets open

## Aanmelden
sign-in-title = Aanmelden
sign-in-name = Naam
sign-in-password = Wachtwoord
sign-in-submit = Aanmelden
sign-in-failed = Deze naam en dit wachtwoord horen niet bij een actief account.
sign-in-throttled = Te veel pogingen. Probeer het over { $seconds } seconden opnieuw.
sign-in-first-time = Eerste keer? Een beheerder maakt je account aan met “obliged user add”.

## Fouten
error-status = Status { $status }
error-not-found = Pagina niet gevonden
error-not-found-detail = Op dit adres staat niets.
error-no-complaint = Klacht niet gevonden
error-no-complaint-detail = Er is geen klacht met dit nummer.
error-forbidden = Niet toegestaan
error-forbidden-detail = Je rol staat deze pagina of handeling niet toe.
error-csrf = Formulier verlopen
error-csrf-detail = Dit formulier kwam niet uit je huidige sessie, dus er is niets gedaan. Ga terug, laad de pagina opnieuw en probeer het nog eens.
error-unavailable = Tijdelijk niet beschikbaar
error-unavailable-detail = De database is nu niet bereikbaar. Er is niets gewijzigd; probeer het zo opnieuw.
error-bad-form = Formulier niet begrepen
error-bad-form-detail = Het formulier was onvolledig, dus er is niets gedaan. Laad de pagina opnieuw en probeer het nog eens.

## Mijn werk
my-work-title = Mijn werk
my-work-lede = Alles wat je nog moet doen, het eerst verlopende bovenaan.
my-work-empty = Je hebt nu niets openstaan.
my-work-summary = { $total } open, { $overdue } te laat
complaint-short = Klacht { $id }
promise-broken = Niet nagekomen

## Klachten
complaints-title = Klachten
complaints-empty = Geen klacht voldoet aan deze filters.
filter-search = Klantnummer of klachtnummer
filter-search-hint = bijv. C-1042
filter-any = Alle
filter-apply = Toepassen
filter-reset = Wissen
filter-overdue-yes = Te laat
filter-overdue-no = Niet te laat
sort-filed = Nieuwste eerst
sort-due = Eerst verlopend eerst
list-invalid-filter = Het filter “{ $field }” is ongeldig en is genegeerd.
count-promises = { $count ->
    [one] 1 toezegging
   *[other] { $count } toezeggingen
}
count-obligations = { $count ->
    [one] 1 te beantwoorden
   *[other] { $count } te beantwoorden
}
count-follow-ups = { $count ->
    [one] 1 opvolging
   *[other] { $count } opvolgingen
}
pager-label = Pagina's
pager-previous = Vorige
pager-next = Volgende
pager-page = Pagina { $page }
flag-sensitive = Gevoelig
flag-non-negotiable = Niet onderhandelbaar
flag-special-care = Bijzondere zorg
flag-lead = Teamleider
flag-manager = Manager
flag-security = Beveiliging

## De klacht
complaint-title = Klacht { $id }
complaint-filed = Klacht geregistreerd.
command-done = Gedaan: { $command }.
history-title = Geschiedenis
side-label = Wat we verschuldigd zijn en wat te doen
owed-title = Wat we nog moeten doen
owed-nothing = Er staat nu niets open.
owed-settled = { $count } afgehandeld
obligation-text = Contact { $contact } beantwoorden
ladder-label = Herinneringen en escalaties
rung-reached = bereikt
deadlines-title = Termijnen
deadline-met = op tijd gehaald
deadline-met-late = te laat gehaald
deadline-extended = verlengd
non-negotiable-title = Niet onderhandelbaar
clock-paused-since = Klok stilgezet sinds { $when }
handover-pending = { $from } heeft haar op { $when } aan { $to } aangeboden
flag-sensitive-because = Gevoelig: { $reason }
flag-escalated-to = Geëscaleerd: { $target }
event-actor-alias = { $alias } ({ $person })
live-changed = Bijgewerkt: { $event } door { $actor }
actions-title = Acties
group-contact = Contact
group-promises = Toezeggingen
group-follow-ups = Opvolgingen
group-ownership = Eigenaarschap
group-customer = Klant
group-resolution = Oplossing
group-flags = Escalatie en markeringen
group-deadlines = Termijnen en klok
form-missing = Vul “{ $field }” in.
form-invalid = “{ $field }” is ongeldig.

## Nieuwe klacht
new-complaint-title = Nieuwe klacht
new-complaint-lede = Schrijf op wat de klant vertelde, in zijn eigen woorden, zodat niemand het opnieuw hoeft te vragen.
new-complaint-about = De klacht
new-complaint-take = Ik ben eigenaar van deze klacht
new-complaint-submit = Klacht registreren

## Velden
field-complaint = Klacht
field-status = Status
field-owner = Eigenaar
field-overdue = Te laat
field-flag = Markering
field-sort = Volgorde
field-customer = Klant
field-customer_reference = Klantnummer
field-customer_name = Naam
field-customer_email = E-mail
field-customer_phone = Telefoon
field-customer-reference = Klantnummer
field-customer-name = Naam
field-customer-email = E-mail
field-customer-phone = Telefoon
field-category = Categorie
field-category-hint = Een kort woord zoals facturatie of bezorging (letters, cijfers, . _ @ -).
field-channel = Kanaal
field-description = Omschrijving
field-next-due = Eerstvolgende termijn
field-open = Open
field-filed = Geregistreerd
field-handover = Overdracht
field-direction = Richting
field-summary = Samenvatting
field-request = De klant vraagt iets (we zijn een antwoord verschuldigd)
field-alias = Naam gebruikt tegenover de klant
field-kind = Soort
field-due_at = Uiterlijk
field-previous_due_at = Was uiterlijk
field-concerns = Betreft het onderdeel
field-promise_id = Toezegging
field-follow_up_id = Opvolging
field-evidence = Hoe het is nagekomen
field-reason = Reden
field-customer_agreed = De klant is akkoord
field-customer_consented = De klant heeft toestemming gegeven
field-outcome = Uitkomst
field-to = Aan
field-from = Van
field-note = Notitie
field-response = Reactie
field-element = Onderdeel
field-explanation = Uitleg voor de klant
field-referral = Waar de klant terechtkan
field-accepted = Heeft de klant het geaccepteerd?
field-comment = Opmerking
field-override_reason = Reden om af te handelen zonder akkoord van de klant
field-deadline = Termijn
field-notice = Bericht aan de klant
field-regime = Regeling
field-rung = Stap
field-time-zone-hint = In de tijdzone van het kantoor.

## Instellingen
settings-title = Instellingen
settings-language = Taal
settings-language-hint = “Browser” volgt de taal van je browser.
settings-saved = Instellingen opgeslagen.
language-auto = Browser
language-en = English
language-nl = Nederlands
