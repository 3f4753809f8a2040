"""Admin settings screens for mailboxes: the addresses customers write to.

Thin adapters like :mod:`quietdesk.web.settings_views`: :mod:`quietdesk.mail.services`
checks and saves. The IMAP and SMTP passwords never pass through here: a mailbox names
the environment variable that holds each, and the pages say whether this server has that
variable, never what it holds.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from quietdesk import access
from quietdesk.accounts.models import User
from quietdesk.errors import NotFound, ValidationFailed
from quietdesk.mail import services as mail
from quietdesk.mail.models import Mailbox
from quietdesk.web import settings_forms as forms
from quietdesk.web.guards import admin_only
from quietdesk.web.guards import signed_in_user as _me


@require_GET
@admin_only
def mailboxes(request: HttpRequest) -> HttpResponse:
    rows = [
        (mailbox, mail.password_source(mailbox), mail.smtp_password_source(mailbox))
        for mailbox in access.visible_mailboxes(_me(request))
        .select_related("team")
        .order_by("address")
    ]
    return render(request, "web/settings/mailboxes.html", {"mailboxes": rows})


@require_http_methods(["GET", "POST"])
@admin_only
def mailbox_edit(request: HttpRequest, mailbox_id: str | None = None) -> HttpResponse:
    me = _me(request)
    mailbox = _mailbox(me, mailbox_id) if mailbox_id else None
    if request.method == "POST":
        form = forms.MailboxForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = mail.save_mailbox(
                    actor=me,
                    mailbox=mailbox,
                    data=mail.MailboxIn(
                        address=data["address"],
                        name=data["name"],
                        team=data["team"],
                        language=data["language"],
                        send_acknowledgement=data["send_acknowledgement"],
                        imap_host=data["imap_host"],
                        imap_port=data["imap_port"],
                        imap_tls=data["imap_tls"],
                        imap_user=data["imap_user"],
                        imap_folder=data["imap_folder"],
                        imap_password_variable=data["imap_password_variable"],
                        smtp_host=data["smtp_host"],
                        smtp_port=data["smtp_port"],
                        smtp_security=data["smtp_security"],
                        smtp_user=data["smtp_user"],
                        smtp_password_variable=data["smtp_password_variable"],
                        acknowledgement_texts=form.texts("acknowledgement_texts"),
                        signatures=form.texts("signatures"),
                    ),
                )
            except ValidationFailed as refused:
                form.add_service_errors(refused)
            else:
                messages.success(
                    request, _("Mailbox %(address)s saved.") % {"address": saved.address}
                )
                return redirect("settings-mailboxes")
        # A "variable name" that is none may be the password itself: never echo it back,
        # whichever field's error stopped the saving.
        shown = request.POST.copy()
        for name in mail.PASSWORD_VARIABLE_FIELDS:
            if not mail.shows_as_variable_name(name, shown.get(name, "")):
                shown[name] = ""
        form.data = shown
    else:
        form = forms.MailboxForm(initial=forms.mailbox_initial(mailbox) if mailbox else None)
    return render(
        request,
        "web/settings/mailbox_form.html",
        {
            "form": form,
            "mailbox": mailbox,
            # Of the saved mailbox: what this server's poller and sender would find now.
            "password_source": mail.password_source(mailbox) if mailbox else None,
            "smtp_password_source": mail.smtp_password_source(mailbox) if mailbox else None,
        },
        status=422 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@admin_only
def mailbox_delete(request: HttpRequest, mailbox_id: str) -> HttpResponse:
    """GET asks for confirmation (saying what is kept), POST deletes."""
    me = _me(request)
    mailbox = _mailbox(me, mailbox_id)
    if request.method == "POST":
        mail.delete_mailbox(actor=me, mailbox=mailbox)
        messages.success(request, _("Mailbox %(address)s deleted.") % {"address": mailbox.address})
        return redirect("settings-mailboxes")
    return render(request, "web/settings/mailbox_delete.html", {"mailbox": mailbox})


def _mailbox(me: User, mailbox_id: str) -> Mailbox:
    try:
        return access.get_mailbox(me, mailbox_id)
    except NotFound:
        raise Http404 from None
