"""Quality control: control questions, qualification, escalation, reservations, quotas, reports.

Its REST endpoints are in ``labeling.api.quality_views``; its admin page in the admin."""
