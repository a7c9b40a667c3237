"""Top-level URLs: the admin, the REST API under /api/, the OpenAPI schema and its docs.

Swagger UI (/api/docs/) and Redoc (/api/redoc/) come from drf-spectacular-sidecar's
static files: they work with no network, under a CSP without inline scripts.
"""

from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"

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
    path("api/", include("labeling.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's init code as a script file (?script): no inline
    # script, so the Content-Security-Policy needs no unsafe-inline.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    # Redoc's footer always draws Redocly's logo from its CDN (a decorative image that
    # fails quietly offline); the policy names that one image rather than report it.
    path(
        "api/redoc/",
        csp_update({"img-src": REDOC_LOGO})(
            SpectacularRedocView.as_view(url_name="schema", template_name="labeling/redoc.html")
        ),
        name="api-redoc",
    ),
]
