from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class LabelingConfig(AppConfig):
    default = True
    name = "labeling"
    verbose_name = "Labeling"
    default_auto_field = "django.db.models.BigAutoField"


class LabelingAdminConfig(admin_apps.AdminConfig):
    """The admin with our site class: it admits project members as well as staff."""

    default = False
    default_site = "labeling.admin_site.LabelingAdminSite"
