"""Top-level URLs: the admin, the REST API under /api/, the OpenAPI schema and its docs.

Swagger UI (/api/docs/) and Redoc (/api/redoc/) come from drf-spectacular-sidecar's
static files: they work with no network.
"""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("", include("labeling.site_urls")),
    # The admin's set-a-new-password pages, for the reset links of new users
    # (labeling.accounts: ``import_users --reset-links`` and ``POST /api/users/``).
    path(
        "admin/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "admin/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("admin/", admin.site.urls),
    path("api/", include("labeling.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="labeling/redoc.html"),
        name="api-redoc",
    ),
]
