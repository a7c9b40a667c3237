"""Webhooks: a project's leads register URLs that receive its domain events, signed.

``models`` (Webhook, WebhookDelivery), ``signing`` and ``targets`` (pure: signatures in
the Standard Webhooks scheme, which URLs may be called), ``delivering`` (the events
subscriber and the delivery job). The REST endpoints are in ``labeling.api.webhook_*``,
the admin pages in ``labeling.admin.webhook_admins``. Deliveries are background jobs
(``labeling.jobs``): never sent by a request.
"""
