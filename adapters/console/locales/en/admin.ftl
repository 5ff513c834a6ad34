## Admin: people, API tokens, webhooks, projections and publishers.

