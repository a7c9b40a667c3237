"""People: users, their credentials and their project roles (API and management command)."""
