"""What a task is shown with: its sentence's neighbours (``sentence_window``) and the
cached suggestions of kinds that suggest (``suggestions``, the Django side of the pure
``labeling.suggesting``). Shared by the API's task payload and the admin pages."""
