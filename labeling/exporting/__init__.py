"""Dataset export: parameters, records, writers, splits, dataset card, export job work.

Its REST endpoints are in ``labeling.api.export_views``."""
