## Rapportages: het verantwoordingsrapport, de grafiek, tabel, onderbouwing en downloads.

nav-reports = Rapportages
