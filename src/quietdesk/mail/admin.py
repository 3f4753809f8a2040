from django.contrib import admin

from quietdesk.mail.models import InboundMail, Mailbox


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin[Mailbox]):
    list_display = ("address", "name", "team", "language", "send_acknowledgement")
    list_select_related = ("team",)


@admin.register(InboundMail)
class InboundMailAdmin(admin.ModelAdmin[InboundMail]):
    """Every received mail; filter on "Unprocessable" to see what needs attention and why."""

    list_display = ("received_at", "status", "message_id", "source", "outcome", "reason")
    list_filter = ("status", "source", "mailbox")
    search_fields = ("message_id", "sha256", "reason")
    list_select_related = ("mailbox",)
    date_hierarchy = "received_at"
    readonly_fields = [field.name for field in InboundMail._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
