"""Routes of user management, included by ``labeling.api.urls``."""

from django.urls import path

from labeling.api import user_views as views

urlpatterns = [path("users/", views.UserListView.as_view(), name="users")]
