"""People (agents and contacts), customer organisations, teams and API tokens."""

from __future__ import annotations

import functools
import zoneinfo
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from quietdesk.ids import new_public_id


@functools.cache
def known_time_zones() -> frozenset[str]:
    """IANA zone names (read from disk once: the scan takes tens of milliseconds)."""
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in known_time_zones():
        raise ValidationError(
            _("%(value)s is not a known time zone; use an IANA name such as Europe/Paris."),
            params={"value": value},
            code="invalid_time_zone",
        )


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    AGENT = "agent", _("Agent")
    CUSTOMER = "customer", _("Customer")


STAFF_ROLES = frozenset({Role.ADMIN, Role.AGENT})


class Organisation(models.Model):
    """A customer organisation: a company whose people write to the service team."""

    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    name = models.CharField(_("name"), max_length=200, unique=True)
    shares_tickets = models.BooleanField(
        _("tickets shared among members"),
        default=False,
        help_text=_("When set, every contact of the organisation sees all its tickets."),
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ("name",)
        verbose_name = _("customer organisation")
        verbose_name_plural = _("customer organisations")

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("role", Role.ADMIN)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person: an agent or admin of the service team, or a customer contact.

    Contacts created from an inbound channel have no usable password; they sign
    in to the portal by other means (or not at all).
    """

    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    email = models.EmailField(_("email address"), unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.CUSTOMER)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    sees_all_teams = models.BooleanField(
        _("sees every team's tickets"),
        default=False,
        help_text=_("Agents normally see only the tickets of their own teams."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ("name", "email")
        verbose_name = _("person")
        verbose_name_plural = _("people")
        indexes: ClassVar = [models.Index(fields=["role", "name"])]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or self.email

    @property
    def is_staff(self) -> bool:
        """Admins operate the Django admin; agents work in the app."""
        return self.role == Role.ADMIN and self.is_active

    @property
    def is_agent_or_admin(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_customer(self) -> bool:
        return self.role == Role.CUSTOMER

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class EmailAddress(models.Model):
    """Every address a person writes from; the primary one mirrors ``User.email``."""

    person = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_addresses")
    address = models.EmailField(_("address"), unique=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        ordering = ("-is_primary", "address")
        verbose_name = _("email address")
        verbose_name_plural = _("email addresses")
        constraints: ClassVar = [
            models.UniqueConstraint(
                Lower("address"), name="accounts_emailaddress_address_ci_unique"
            )
        ]

    def __str__(self) -> str:
        return self.address


class PhoneNumber(models.Model):
    person = models.ForeignKey(User, on_delete=models.CASCADE, related_name="phone_numbers")
    number = models.CharField(_("number"), max_length=40)
    label = models.CharField(_("label"), max_length=40, blank=True)

    class Meta:
        ordering = ("id",)
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["person", "number"], name="accounts_phone_unique")
        ]

    def __str__(self) -> str:
        return self.number


class Team(models.Model):
    """A queue of work and the agents who answer it."""

    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("short name"), max_length=50, unique=True)
    description = models.TextField(_("description"), blank=True)
    members = models.ManyToManyField(
        User, verbose_name=_("members"), related_name="teams", blank=True
    )
    calendar = models.ForeignKey(
        "schedule.Calendar",
        verbose_name=_("business hours"),
        related_name="teams",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text=_("Empty: the installation's default calendar."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ("name",)
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once."""

    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(
        _("prefix"),
        max_length=16,
        help_text=_("The first characters of the token, shown so you can recognise it."),
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class SignInLink(models.Model):
    """A one-time link that signs a customer in to the portal (only its SHA-256 is kept)."""

    person = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sign_in_links")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    next_url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("sign-in link")
        verbose_name_plural = _("sign-in links")

    def __str__(self) -> str:
        return f"{self.person_id} {self.created_at:%Y-%m-%d %H:%M}"
