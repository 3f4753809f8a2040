from django.contrib import admin

from quietdesk.tickets.models import Attachment, Message, Tag, Ticket


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin[Ticket]):
    """Read-mostly: changes go through the app and the API, which audit them."""

    list_display = ("number", "subject", "status", "priority", "team", "assignee", "created_at")
    list_filter = ("status", "priority", "channel", "team")
    search_fields = ("=number", "subject", "requester__email")
    list_select_related = ("team", "assignee")
    raw_id_fields = ("requester", "assignee", "organisation", "follow_up_of", "copied")
    readonly_fields = [f.name for f in Ticket._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin[Message]):
    list_display = ("ticket", "kind", "author", "channel", "created_at")
    list_filter = ("kind", "channel")
    raw_id_fields = ("ticket", "author")
    readonly_fields = [f.name for f in Message._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin[Attachment]):
    list_display = ("filename", "content_type", "size", "ticket", "created_at")
    readonly_fields = [f.name for f in Attachment._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin[Tag]):
    search_fields = ("name",)
