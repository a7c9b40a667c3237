"""Routes of user management, included by ``labeling.urls``."""

from django.urls import path

from labeling.accounts import views

urlpatterns = [path("users/", views.UserListView.as_view(), name="users")]
