"""Quality control: control questions, qualification, escalation, reservations, quotas, reports."""
