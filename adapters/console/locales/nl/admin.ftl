## Beheer: personen, API-tokens, webhooks, projecties en publicatie.

