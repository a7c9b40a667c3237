"""The admin interface: the site class (``site``: who may log in, the index), the model
pages (``model_admins``, scoped by role through ``labeling.access``), and the labeling
pages (``views``: annotate, project form, import, members, progress, agreement
dashboard, adjudication; ``quality_views``: the quality page), plus the static-file
storage used in production (``static_storage``).

Nothing is imported here: Django imports this package while it builds the default site
(see ``site``), so ``LabelingConfig.ready`` registers ``model_admins``.
"""
