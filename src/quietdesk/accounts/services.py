"""Every change to people, organisations, teams and tokens: one function per intent."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from quietdesk import access
from quietdesk.accounts.models import (
    ApiToken,
    EmailAddress,
    Organisation,
    PhoneNumber,
    Role,
    SignInLink,
    Team,
    User,
    validate_time_zone,
)
from quietdesk.audit.services import record
from quietdesk.errors import NotAllowed, ValidationFailed
from quietdesk.schedule.models import Calendar
from quietdesk.schedule.services import set_team_calendar
from quietdesk.search import indexing as search_index
from quietdesk.text import clean_body, clean_line

TOKEN_PREFIX = "qd_"  # noqa: S105 - a public marker, not a secret


def normalise_email(address: str) -> str:
    """``address`` lower-cased and checked; internationalised addresses (RFC 6531: UTF-8
    in the local part, a Unicode domain) are kept as written and checked in their ASCII
    shape (each other character as a letter, the domain in punycode)."""
    address = clean_line(address).lower()
    try:
        address = _unicode_domain(address)
        validate_email(_ascii_shape(address))
    except (ValidationError, UnicodeError):
        raise ValidationFailed(
            {"email": _("%(address)s is not a valid email address.") % {"address": address[:100]}}
        ) from None
    return address


def _unicode_domain(address: str) -> str:
    """One spelling per address: an internationalised domain is kept in Unicode, so that
    ``hans@xn--bro-hoa.example`` and ``hans@büro.example`` are the same person."""
    local, at, domain = address.rpartition("@")
    if not at or (domain.isascii() and "xn--" not in domain):
        return address
    return f"{local}@{domain.encode('idna').decode('idna')}"


def _ascii_shape(address: str) -> str:
    if address.isascii():
        return address
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    letters = "".join(c if c.isascii() else ("x" if c.isalnum() else " ") for c in local)
    return f"{letters}@{domain.encode('idna').decode('ascii')}"


def find_person_by_email(address: str) -> User | None:
    """The person who writes from ``address`` (any of their addresses), if known."""
    address = address.strip().lower()
    # Two indexed look-ups (an OR across both would scan the users on PostgreSQL): people
    # created here have their address in EmailAddress; older or hand-made accounts may
    # only have User.email. Each is unique, so no ORDER BY is needed.
    people = User.objects.select_related("organisation").order_by()
    found = next(iter(people.filter(email_addresses__address=address)[:1]), None)
    return found or next(iter(people.filter(email=address)[:1]), None)


def _check_profile(time_zone: str, language: str | None) -> None:
    try:
        validate_time_zone(time_zone)
    except ValidationError as exc:
        raise ValidationFailed({"time_zone": exc.messages[0]}) from None
    codes = [code for code, _name in settings.LANGUAGES]
    if language is not None and language not in codes:
        raise ValidationFailed(
            {
                "language": _("Unknown language %(code)s; available: %(codes)s.")
                % {"code": language, "codes": ", ".join(codes)}
            }
        )


def _create_person(
    *,
    actor: User | None,
    email: str,
    name: str,
    role: str,
    time_zone: str,
    language: str | None,
    password: str | None = None,
    organisation: Organisation | None = None,
    extra_emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    **fields: Any,
) -> User:
    email = normalise_email(email)
    addresses = [email, *[normalise_email(a) for a in extra_emails if a.strip()]]
    _check_profile(time_zone, language)
    clashes = set(
        EmailAddress.objects.filter(address__in=addresses)
        .order_by()
        .values_list("address", flat=True)
        .union(User.objects.filter(email__in=addresses).order_by().values_list("email", flat=True))
        .order_by()
    )
    if clashes:
        raise ValidationFailed(
            {
                "email": _("Already in use: %(addresses)s.")
                % {"addresses": ", ".join(sorted(clashes))}
            }
        )
    with transaction.atomic():
        person = User.objects.create_user(
            email,
            password,
            name=clean_line(name),
            role=role,
            time_zone=time_zone,
            language=language or settings.LANGUAGE_CODE,
            organisation=organisation,
            **fields,
        )
        EmailAddress.objects.bulk_create(
            [
                EmailAddress(person=person, address=address, is_primary=index == 0)
                for index, address in enumerate(dict.fromkeys(addresses))
            ]
        )
        numbers = [clean_line(p) for p in phones if clean_line(p)]
        PhoneNumber.objects.bulk_create(
            [PhoneNumber(person=person, number=number) for number in dict.fromkeys(numbers)]
        )
        record(
            actor=actor,
            verb="person.created",
            target=person,
            after={
                "email": email,
                "role": role,
                "name": person.name,
                "organisation": organisation.public_id if organisation else None,
            },
        )
    return person


def set_own_language(*, person: User, language: str, why: str = "chosen") -> User:
    """A person chooses the language Quietdesk speaks to them (pages and mail).

    ``why`` is kept in the audit trail: ``chosen`` (the switcher, a profile) or
    ``browser`` (their browser's language, adopted when they first sign in)."""
    _check_profile(person.time_zone, language)
    if person.language != language:
        with transaction.atomic():
            before = person.language
            person.language = language
            person.save(update_fields=["language"])
            record(
                actor=person,
                verb="person.language_changed",
                target=person,
                before={"language": before},
                after={"language": language, "why": why},
            )
    return person


def take_browser_language(*, person: User, language: str) -> User:
    """On a person's first sign-in (never signed in before), adopt their browser's language.

    A contact met by mail got the mail's (or the mailbox's) language; the browser they
    read the portal in says more. Later visits keep what they have or chose themselves."""
    if person.last_login is None:
        set_own_language(person=person, language=language, why="browser")
    return person


def create_contact(
    *,
    actor: User | None,
    email: str,
    name: str = "",
    organisation: Organisation | None = None,
    extra_emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    time_zone: str = "UTC",
    language: str | None = None,
    password: str | None = None,
) -> User:
    """Add a customer contact. ``actor`` is None when a channel creates it (e.g. mail)."""
    if actor is not None:
        access.require_staff(actor)
    return _create_person(
        actor=actor,
        email=email,
        name=name,
        role=Role.CUSTOMER,
        time_zone=time_zone,
        language=language,
        password=password,
        organisation=organisation,
        extra_emails=extra_emails,
        phones=phones,
    )


def contact_for_email(*, actor: User | None, email: str, name: str = "") -> User:
    """The person who writes from ``email``, created as a contact if unknown.

    The door for every channel that meets a new customer by address (the API today,
    inbound mail next). ``actor`` is None when a channel acts on its own.
    """
    if actor is not None:
        access.require_staff(actor)
    return find_person_by_email(normalise_email(email)) or create_contact(
        actor=actor, email=email, name=name
    )


def create_staff(
    *,
    actor: User | None,
    email: str,
    name: str,
    role: str = Role.AGENT,
    time_zone: str = "UTC",
    language: str | None = None,
    password: str | None = None,
    teams: Iterable[Team] = (),
    sees_all_teams: bool = False,
) -> User:
    """Add an agent or an admin. ``actor`` is None only for bootstrap commands.

    Without ``password`` the person gets a random one that nobody knows, not an unusable
    one: Django's "Forgotten your password?" mails no link to an account without a
    usable password, and that link is how a new team member chooses theirs.
    """
    if actor is not None:
        access.require_admin(actor)
    if role not in (Role.AGENT, Role.ADMIN):
        raise ValidationFailed(
            {"role": _("Staff members must have the agent or administrator role.")}
        )
    with transaction.atomic():
        person = _create_person(
            actor=actor,
            email=email,
            name=name,
            role=role,
            time_zone=time_zone,
            language=language,
            password=password or secrets.token_urlsafe(32),
            is_superuser=role == Role.ADMIN,
            sees_all_teams=sees_all_teams,
        )
        for team in teams:
            add_team_member(actor=actor, team=team, person=person)
    return person


def _staff_snapshot(person: User) -> dict[str, Any]:
    return {
        "name": person.name,
        "role": person.role,
        "teams": sorted(person.teams.values_list("public_id", flat=True)),
        "sees_all_teams": person.sees_all_teams,
        "is_active": person.is_active,
        "language": person.language,
        "time_zone": person.time_zone,
    }


def update_staff(
    *,
    actor: User,
    person: User,
    name: str,
    role: str,
    teams: Iterable[Team],
    sees_all_teams: bool,
    is_active: bool,
    language: str,
    time_zone: str,
) -> User:
    """Change an agent's or admin's profile, role, teams and whether they may sign in.

    Nobody takes away their own administrator role or account (another administrator
    must), and the last active administrator stays one: the installation always keeps
    someone who can change its settings.
    """
    access.require_admin(actor)
    if not person.is_agent_or_admin:
        raise NotAllowed(_("Only members of the service team are changed here."))
    errors: dict[str, str] = {}
    name = clean_line(name)
    if not name:
        errors["name"] = _("Give the person a name.")
    elif len(name) > 200:
        errors["name"] = _("A name can have at most %(max)d characters.") % {"max": 200}
    if role not in (Role.AGENT, Role.ADMIN):
        errors["role"] = _("Staff members must have the agent or administrator role.")
    try:
        _check_profile(time_zone, language)
    except ValidationFailed as refused:
        errors.update({key: str(message) for key, message in refused.fields.items()})
    demoted = person.role == Role.ADMIN and role != Role.ADMIN
    deactivated = person.is_active and not is_active
    if person.pk == actor.pk:
        if demoted:
            errors["role"] = _(
                "You cannot take away your own administrator role; another administrator can."
            )
        if deactivated:
            errors["is_active"] = _("You cannot deactivate yourself; another administrator can.")
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        if person.role == Role.ADMIN and person.is_active and (demoted or deactivated):
            # Lock the active admins: two admins demoting each other at the same moment
            # must not leave the installation without one.
            others = (
                User.objects.select_for_update()
                .filter(role=Role.ADMIN, is_active=True)
                .exclude(pk=person.pk)
            )
            if not list(others.values_list("pk", flat=True)):
                raise ValidationFailed(
                    {
                        "role" if demoted else "is_active": _(
                            "%(name)s is the last active administrator; make someone else "
                            "an administrator first."
                        )
                        % {"name": person.display_name}
                    }
                )
        before = _staff_snapshot(person)
        person.name = name
        person.role = role
        person.is_superuser = role == Role.ADMIN
        person.sees_all_teams = sees_all_teams
        person.is_active = is_active
        person.language = language
        person.time_zone = time_zone
        person.save(
            update_fields=[
                "name",
                "role",
                "is_superuser",
                "sees_all_teams",
                "is_active",
                "language",
                "time_zone",
            ]
        )
        person.teams.set(list(teams))
        if person.name != before["name"]:
            search_index.index_person(person)  # their name on the tickets they requested
        record(
            actor=actor,
            verb="person.changed",
            target=person,
            before=before,
            after=_staff_snapshot(person),
        )
    return person


def create_organisation(
    *, actor: User | None, name: str, shares_tickets: bool = False, notes: str = ""
) -> Organisation:
    if actor is not None:
        access.require_staff(actor)
    name = clean_line(name)
    if not name:
        raise ValidationFailed({"name": _("An organisation needs a name.")})
    if len(name) > 200:
        raise ValidationFailed(
            {"name": _("A name can have at most %(max)d characters.") % {"max": 200}}
        )
    if Organisation.objects.filter(name__iexact=name).exists():
        raise ValidationFailed(
            {"name": _("An organisation called %(name)s exists already.") % {"name": name}}
        )
    with transaction.atomic():
        organisation = Organisation.objects.create(
            name=name, shares_tickets=shares_tickets, notes=notes
        )
        record(
            actor=actor,
            verb="organisation.created",
            target=organisation,
            after={"name": name, "shares_tickets": shares_tickets},
        )
    return organisation


TEAM_DESCRIPTION_MAX_CHARS = 2000


def _check_team(
    *, name: str, slug: str, description: str, members: Iterable[User], team: Team | None
) -> tuple[str, str, str, list[User]]:
    """The cleaned name, short name, description and members of a team, or every problem.

    ``team`` is the team being changed (None for a new one): its own name is no clash.
    """
    errors: dict[str, str] = {}
    name = clean_line(name)
    slug_field = "slug" if slug.strip() else "name"
    if not name:
        errors["name"] = _("A team needs a name.")
    elif len(name) > 100:
        errors["name"] = _("A name can have at most %(max)d characters.") % {"max": 100}
    if slug.strip() and len(slugify(slug)) > 50:
        errors["slug"] = _("A short name can have at most %(max)d characters.") % {"max": 50}
    slug = slugify(slug.strip() or name)[:50].strip("-")
    if not slug and slug_field not in errors:
        errors[slug_field] = _("A short name needs at least one letter or digit (a to z, 0 to 9).")
    description = clean_body(description).strip()
    if len(description) > TEAM_DESCRIPTION_MAX_CHARS:
        errors["description"] = _("A description can have at most %(max)d characters.") % {
            "max": TEAM_DESCRIPTION_MAX_CHARS
        }
    people = list(dict.fromkeys(members))
    if any(not person.is_agent_or_admin for person in people):
        errors["members"] = _("Only agents and admins can join a team.")
    if not errors:
        others = Team.objects.exclude(pk=team.pk) if team is not None else Team.objects.all()
        if others.filter(name__iexact=name).exists():
            errors["name"] = _("A team called %(name)s exists already.") % {"name": name}
        clash = others.filter(slug=slug).first()
        if clash is not None and slug_field not in errors:
            errors[slug_field] = _("The short name %(slug)s is taken by the team %(team)s.") % {
                "slug": slug,
                "team": clash.name,
            }
    if errors:
        raise ValidationFailed(errors)
    return name, slug, description, people


def _team_snapshot(team: Team) -> dict[str, Any]:
    return {
        "name": team.name,
        "slug": team.slug,
        "description": team.description,
        "members": sorted(team.members.values_list("public_id", flat=True)),
        "calendar": team.calendar.public_id if team.calendar else None,
    }


def create_team(
    *,
    actor: User | None,
    name: str,
    slug: str = "",
    description: str = "",
    members: Iterable[User] = (),
    calendar: Calendar | None = None,
) -> Team:
    """Add a team; ``slug`` is made from the name when empty, ``calendar`` None is the default."""
    if actor is not None:
        access.require_admin(actor)
    name, slug, description, people = _check_team(
        name=name, slug=slug, description=description, members=members, team=None
    )
    with transaction.atomic():
        team = Team.objects.create(name=name, slug=slug, description=description, calendar=calendar)
        team.members.set(people)
        record(actor=actor, verb="team.created", target=team, after=_team_snapshot(team))
    return team


def update_team(
    *,
    actor: User,
    team: Team,
    name: str,
    slug: str,
    description: str,
    members: Iterable[User],
    calendar: Calendar | None,
) -> Team:
    """Change everything about a team at once: its names, its members and its calendar.

    The checks are :func:`create_team`'s; a new calendar goes through the door every
    calendar change takes (:func:`~quietdesk.schedule.services.set_team_calendar`), so
    the due times of the team's open tickets follow.
    """
    access.require_admin(actor)
    name, slug, description, people = _check_team(
        name=name, slug=slug, description=description, members=members, team=team
    )
    with transaction.atomic():
        before = _team_snapshot(team)
        team.name, team.slug, team.description = name, slug, description
        team.save(update_fields=["name", "slug", "description"])
        team.members.set(people)
        if team.calendar_id != (calendar.pk if calendar else None):
            set_team_calendar(actor=actor, team=team, calendar=calendar)
        record(
            actor=actor,
            verb="team.changed",
            target=team,
            before=before,
            after=_team_snapshot(team),
        )
    return team


def add_team_member(*, actor: User | None, team: Team, person: User) -> Team:
    if actor is not None:
        access.require_admin(actor)
    if not person.is_agent_or_admin:
        raise ValidationFailed({"person": _("Only agents and admins can join a team.")})
    with transaction.atomic():
        team.members.add(person)
        record(
            actor=actor, verb="team.member_added", target=team, after={"member": person.public_id}
        )
    return team


# --- API tokens ------------------------------------------------------------------------


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def create_api_token(*, actor: User | None, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for ``user``; return it and the secret, which is never stored."""
    if actor is not None and actor.pk != user.pk:
        access.require_admin(actor)
    name = clean_line(name) or _("API token")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name[:100], prefix=raw[:10], token_hash=hash_token(raw)
        )
        record(
            actor=actor,
            verb="token.created",
            target=token,
            after={"user": user.public_id, "name": token.name, "prefix": token.prefix},
        )
    return token, raw


def authenticate_token(raw: str) -> User | None:
    """The active person a presented token belongs to, or None."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__organisation")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Write at most once a minute per token: reads stay reads under load.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def revoke_api_token(*, actor: User, token: ApiToken) -> ApiToken:
    if actor.pk != token.user_id:
        access.require_admin(actor)
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(actor=actor, verb="token.revoked", target=token)
    return token


# --- Portal sign-in links ----------------------------------------------------------------------

SIGN_IN_LINK_MINUTES = 30
SIGN_IN_LINKS_PER_HOUR = 5


def create_sign_in_link(*, email: str, next_url: str = "") -> tuple[User, str] | None:
    """A one-time sign-in secret for the customer who owns ``email``, or None.

    None for an unknown, inactive or staff address (staff sign in with a password), and
    when the address already received SIGN_IN_LINKS_PER_HOUR links in the last hour: the
    caller answers the same either way, so that the form tells nobody who is a customer.
    """
    try:
        address = normalise_email(email)
    except ValidationFailed:
        return None
    person = find_person_by_email(address)
    if person is None or not person.is_active or not person.is_customer:
        return None
    now = timezone.now()
    recent = SignInLink.objects.filter(person=person, created_at__gte=now - dt.timedelta(hours=1))
    if recent.count() >= SIGN_IN_LINKS_PER_HOUR:
        return None
    raw = secrets.token_urlsafe(32)
    SignInLink.objects.create(
        person=person,
        token_hash=hash_token(raw),
        next_url=next_url[:300] if next_url.startswith("/") else "",
        expires_at=now + dt.timedelta(minutes=SIGN_IN_LINK_MINUTES),
    )
    return person, raw


def sign_in_link_person(raw: str) -> SignInLink | None:
    """The unused, unexpired link for ``raw`` (without using it up), or None."""
    if not raw or len(raw) > 100:
        return None
    return (
        SignInLink.objects.select_related("person")
        .filter(
            token_hash=hash_token(raw),
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
            person__is_active=True,
            person__role=Role.CUSTOMER,  # an address promoted to staff since: no link
        )
        .first()
    )


def use_sign_in_link(raw: str) -> SignInLink | None:
    """Spend the link (once: a second use finds nothing); return it with its person."""
    link = sign_in_link_person(raw)
    if link is None:
        return None
    now = timezone.now()
    with transaction.atomic():
        spent = SignInLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=now)
        if not spent:
            return None
        record(actor=link.person, verb="person.signed_in_by_link", target=link.person)
    return link
