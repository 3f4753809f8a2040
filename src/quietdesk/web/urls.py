from django.contrib.auth import views as auth_views
from django.urls import path

from quietdesk.web import settings_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "attachments/<str:attachment_id>/download",
        views.download_attachment,
        name="download_attachment",
    ),
    path("healthz", views.healthz, name="healthz"),
    path("settings/hours/", settings_views.calendars, name="settings-calendars"),
    path("settings/hours/new", settings_views.calendar_edit, name="settings-calendar-new"),
    path(
        "settings/hours/<str:calendar_id>/",
        settings_views.calendar_edit,
        name="settings-calendar",
    ),
    path(
        "settings/hours/<str:calendar_id>/delete",
        settings_views.calendar_delete,
        name="settings-calendar-delete",
    ),
    path("settings/sla/", settings_views.policies, name="settings-policies"),
    path("settings/sla/new", settings_views.policy_edit, name="settings-policy-new"),
    path("settings/sla/<str:policy_id>/", settings_views.policy_edit, name="settings-policy"),
    path(
        "settings/sla/<str:policy_id>/delete",
        settings_views.policy_delete,
        name="settings-policy-delete",
    ),
]
