from django.contrib.auth import views as auth_views
from django.urls import path

from quietdesk.web import auth, portal, settings_views, views, workspace

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth.RateLimitedLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # Agent workspace
    path("inbox/", workspace.inbox_page, name="inbox"),
    path("inbox/bulk", workspace.inbox_bulk, name="inbox-bulk"),
    path("inbox/views", workspace.saved_view_create, name="saved-view-create"),
    path(
        "inbox/views/<str:view_id>/delete",
        workspace.saved_view_delete,
        name="saved-view-delete",
    ),
    path("tickets/<str:ticket_id>/", workspace.ticket_page, name="ticket"),
    path("tickets/<str:ticket_id>/reply", workspace.ticket_reply, name="ticket-reply"),
    path("tickets/<str:ticket_id>/update", workspace.ticket_update, name="ticket-update"),
    path("tickets/<str:ticket_id>/canned", workspace.ticket_canned, name="ticket-canned"),
    # Customer portal
    path("portal/", portal.portal_home, name="portal"),
    path("portal/new", portal.portal_new, name="portal-new"),
    path("portal/sign-in", portal.sign_in, name="portal-sign-in"),
    path("portal/sign-in/<str:token>", portal.sign_in_link, name="portal-sign-in-link"),
    path("portal/password", portal.portal_password, name="portal-password"),
    path("portal/requests/<str:ticket_id>/", portal.portal_ticket, name="portal-ticket"),
    path("portal/requests/<str:ticket_id>/reply", portal.portal_reply, name="portal-reply"),
    path("portal/requests/<str:ticket_id>/solve", portal.portal_solve, name="portal-solve"),
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
    path("settings/replies/", settings_views.canned_replies, name="settings-replies"),
    path("settings/replies/new", settings_views.canned_reply_edit, name="settings-reply-new"),
    path(
        "settings/replies/<str:reply_id>/",
        settings_views.canned_reply_edit,
        name="settings-reply",
    ),
    path(
        "settings/replies/<str:reply_id>/delete",
        settings_views.canned_reply_delete,
        name="settings-reply-delete",
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
