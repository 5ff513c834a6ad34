## The auditor's view of a complaint: as of any instant, differences, the ledger and its verification.

