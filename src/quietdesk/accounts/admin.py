from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from quietdesk.accounts.models import (
    ApiToken,
    EmailAddress,
    Organisation,
    PhoneNumber,
    Team,
    User,
)


class EmailAddressInline(admin.TabularInline[EmailAddress, User]):
    model = EmailAddress
    extra = 0


class PhoneNumberInline(admin.TabularInline[PhoneNumber, User]):
    model = PhoneNumber
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin):  # type: ignore[type-arg]
    ordering = ("email",)
    list_display = ("email", "name", "role", "organisation", "time_zone", "is_active")
    list_filter = ("role", "is_active", "organisation")
    search_fields = ("email", "name", "email_addresses__address")
    list_select_related = ("organisation",)
    readonly_fields = ("public_id", "last_login", "date_joined")
    inlines = (EmailAddressInline, PhoneNumberInline)
    fieldsets = (
        (None, {"fields": ("public_id", "email", "password")}),
        (_("Profile"), {"fields": ("name", "role", "organisation", "time_zone", "language")}),
        (_("Access"), {"fields": ("is_active", "sees_all_teams", "is_superuser")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"fields": ("email", "name", "role", "password1", "password2")}),)
    filter_horizontal = ()


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    list_display = ("name", "shares_tickets", "created_at")
    search_fields = ("name",)
    readonly_fields = ("public_id",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ("name", "slug")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("members",)
    readonly_fields = ("public_id",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_select_related = ("user",)
    readonly_fields = ("public_id", "user", "prefix", "created_at", "last_used_at")
    fields = ("public_id", "user", "name", "prefix", "created_at", "last_used_at", "revoked_at")

    def has_add_permission(self, request: object) -> bool:
        # Tokens are created with `quietdesk token create`, which shows the secret once.
        return False
