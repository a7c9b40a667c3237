"""Dataset export: parameters, records, writers, splits, dataset card, export job work, API."""
