"""Review: disputed-first ordering of tasks and the gold-label API beside it."""
