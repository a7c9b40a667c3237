"""Background jobs: one lifecycle, the Celery tasks (``*_job``) and the sweep.

"Task" means a labeling task in this project, so background work is a "job".
"""
