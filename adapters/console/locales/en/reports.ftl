## Reports: the accountability report, its chart, table, drill-down and downloads.

nav-reports = Reports
