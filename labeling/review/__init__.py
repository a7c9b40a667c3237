"""Review: disputed-first ordering of tasks, adjudication and gold aggregation (``gold``, run
as a job by ``gold_jobs``). Their REST endpoints are in ``labeling.api.gold_views``."""
