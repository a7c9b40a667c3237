"""Webhooks: a project's leads register URLs that receive its domain events, signed.

``models`` (Webhook, WebhookDelivery), ``signing`` and ``targets`` (pure: signatures in
the Standard Webhooks scheme, which URLs may be called), ``delivering`` (the events
subscriber and the delivery job), and the REST interface (``serializers``, ``views``,
``urls``). Deliveries are background jobs (``labeling.jobs``): never sent by a request.
"""
