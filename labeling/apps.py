from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class LabelingConfig(AppConfig):
    default = True
    name = "labeling"
    verbose_name = "Labeling"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register the admin's model pages and the Celery tasks (``publish`` finds a job's
        task by name, so ``labeling.jobs.lifecycle`` never imports the tasks that call the
        concerns); subscribe automatic agreement runs, low-agreement routing and webhooks to
        events."""
        import labeling.admin.model_admins  # noqa: F401  (registers the model pages)
        import labeling.jobs.tasks  # noqa: F401  (registers the *_job tasks with Celery)
        from labeling import events
        from labeling.agreement_runs.runs import note_new_annotation
        from labeling.quality.escalation import on_task_completed

        events.subscribe(events.ANNOTATION_SUBMITTED, note_new_annotation)
        events.subscribe(events.ANNOTATION_EDITED, note_new_annotation)
        events.subscribe(events.TASK_COMPLETED, on_task_completed)
        from labeling.webhooks.delivering import queue_deliveries

        for name in sorted(events.NAMES):
            events.subscribe(name, queue_deliveries)


class LabelingAdminConfig(admin_apps.AdminConfig):
    """The admin with our site class: it admits project members as well as staff."""

    default = False
    default_site = "labeling.admin.site.LabelingAdminSite"
