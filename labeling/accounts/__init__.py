"""People: users, their credentials and their project roles (``people``). The REST
endpoints are in ``labeling.api.user_views``; the management command is ``import_users``."""
