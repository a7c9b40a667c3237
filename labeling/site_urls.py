"""Non-API pages outside the admin: the site root sends people to the admin."""

from django.urls import path
from django.views.generic import RedirectView

urlpatterns = [path("", RedirectView.as_view(url="/admin/", permanent=False))]
