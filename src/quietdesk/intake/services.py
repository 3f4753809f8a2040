"""Intake forms: admins build them; customers and visitors fill them in to open tickets.

A submission is a channel of its own (``web_form``): the ticket is opened for the
person who filled the form in, routed to the form's team with the form's tags, and
the answers are kept both as structured data (:class:`~quietdesk.intake.models.Submission`)
and as the opening message's text, so that mail, search and the API read them as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from quietdesk import access
from quietdesk.accounts import services as accounts
from quietdesk.accounts.models import Team, User
from quietdesk.audit.services import record
from quietdesk.errors import NotAllowed, NotFound, ValidationFailed
from quietdesk.intake.models import FieldKind, IntakeField, IntakeForm, Submission
from quietdesk.text import clean_body, clean_line, in_language
from quietdesk.tickets import files
from quietdesk.tickets import services as tickets
from quietdesk.tickets.models import Channel, Ticket

#: The longest answer kept for a short and a long text field.
SHORT_MAX_CHARS = 300
LONG_MAX_CHARS = 20_000
#: A form holds at most this many fields (one page a person can fill in).
MAX_FIELDS = 30


@dataclass(frozen=True)
class ChoiceIn:
    value: str
    labels: dict[str, str]


@dataclass(frozen=True)
class FieldIn:
    key: str
    kind: str
    labels: dict[str, str]
    helps: dict[str, str] = field(default_factory=dict)
    required: bool = False
    choices: list[ChoiceIn] = field(default_factory=list)


@dataclass(frozen=True)
class FormIn:
    slug: str
    titles: dict[str, str]
    intros: dict[str, str] = field(default_factory=dict)
    team: Team | None = None
    tags: list[str] = field(default_factory=list)
    is_active: bool = True
    allows_anonymous: bool = True
    position: int = 0
    fields: list[FieldIn] = field(default_factory=list)


# --- Building forms (admins) -------------------------------------------------------------------


def _texts(values: Mapping[str, str], *, body: bool = False) -> dict[str, str]:
    """Keep the installation's languages, cleaned, dropping empty versions."""
    languages = dict(settings.LANGUAGES)
    clean = clean_body if body else clean_line
    kept = {code: clean(text).strip() for code, text in values.items() if code in languages}
    return {code: text for code, text in kept.items() if text}


def save_form(*, actor: User, data: FormIn, form: IntakeForm | None = None) -> IntakeForm:
    """Create or replace a form and its fields; every problem is named by its field.

    Field problems are keyed ``field-<n>-<part>`` (``n`` counts from 0 in the order
    given), e.g. ``field-2-key`` or ``field-0-choices``.
    """
    access.require_admin(actor)
    errors: dict[str, str] = {}
    slug = slugify(data.slug)[:60].strip("-")
    if not slug:
        errors["slug"] = _("Give the form an address: letters, digits and dashes.")
    elif IntakeForm.objects.filter(slug=slug).exclude(pk=form.pk if form else 0).exists():
        errors["slug"] = _("Another form has this address.")
    titles = _texts(data.titles)
    if not titles:
        errors["titles"] = _("Give the form a title in at least one language.")
    intros = _texts(data.intros, body=True)
    tag_names: list[str] = []
    try:
        tag_names = tickets.normalise_tags(data.tags)
    except ValidationFailed as refused:
        errors["tags"] = str(next(iter(refused.fields.values())))
    if len(data.fields) > MAX_FIELDS:
        errors["fields"] = _("A form has at most %(n)d fields.") % {"n": MAX_FIELDS}
    if not data.fields:
        errors["fields"] = _("Add at least one field.")
    fields = [_check_field(n, f, errors) for n, f in enumerate(data.fields)]
    seen: dict[str, int] = {}
    for n, checked in enumerate(fields):
        if checked.key in seen and checked.key:
            errors[f"field-{n}-key"] = _("Two fields cannot share a key.")
        seen[checked.key] = n
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        before = _describe(form) if form else {}
        form = form or IntakeForm()
        form.slug = slug
        form.titles = titles
        form.intros = intros
        form.team = data.team
        form.tags = tag_names
        form.is_active = data.is_active
        form.allows_anonymous = data.allows_anonymous
        form.position = data.position
        form.updated_at = timezone.now()
        form.save()
        form.fields.all().delete()
        for position, checked in enumerate(fields):
            checked.form = form
            checked.position = position
        IntakeField.objects.bulk_create(fields)
        record(
            actor=actor, verb="intake_form.saved", target=form, before=before, after=_describe(form)
        )
    return form


def _check_field(n: int, data: FieldIn, errors: dict[str, str]) -> IntakeField:
    key = slugify(data.key).replace("-", "_")[:40]
    if not key:
        errors[f"field-{n}-key"] = _("Give the field a key: letters, digits and underscores.")
    if data.kind not in FieldKind.values:
        errors[f"field-{n}-kind"] = _("Choose what kind of field this is.")
    labels = _texts(data.labels)
    if not labels:
        errors[f"field-{n}-labels"] = _("Give the field a label in at least one language.")
    choices = []
    values: set[str] = set()
    for choice in data.choices:
        value = slugify(choice.value).replace("-", "_")[:40]
        choice_labels = _texts(choice.labels)
        if not value or not choice_labels:
            errors[f"field-{n}-choices"] = _(
                "Write each choice as a code and a label, e.g. “billing | Billing | Facturation”."
            )
        elif value in values:
            errors[f"field-{n}-choices"] = _("Two choices cannot share the code %(code)s.") % {
                "code": value
            }
        values.add(value)
        choices.append({"value": value, "labels": choice_labels})
    if data.kind == FieldKind.CHOICE and not choices:
        errors.setdefault(f"field-{n}-choices", _("A choice field needs at least one choice."))
    if data.kind != FieldKind.CHOICE:
        choices = []
    return IntakeField(
        key=key,
        kind=data.kind,
        labels=labels,
        helps=_texts(data.helps),
        required=data.required,
        choices=choices,
    )


def _describe(form: IntakeForm) -> dict[str, object]:
    return {
        "slug": form.slug,
        "titles": form.titles,
        "team": form.team.public_id if form.team else None,
        "tags": form.tags,
        "is_active": form.is_active,
        "fields": [f.key for f in form.fields.all()],
    }


def delete_form(*, actor: User, form: IntakeForm) -> None:
    """Remove a form; the tickets it opened keep their answers."""
    access.require_admin(actor)
    with transaction.atomic():
        record(actor=actor, verb="intake_form.deleted", target=form, before=_describe(form))
        form.delete()


# --- Reading forms ------------------------------------------------------------------------------


def all_forms(actor: User) -> QuerySet[IntakeForm]:
    access.require_admin(actor)
    return IntakeForm.objects.select_related("team").prefetch_related("fields")


def published_forms(reader: User | None) -> QuerySet[IntakeForm]:
    """The forms ``reader`` may fill in (``None``: a visitor who is not signed in)."""
    forms = IntakeForm.objects.filter(is_active=True)
    if reader is None:
        forms = forms.filter(allows_anonymous=True)
    return forms


def form_for(reader: User | None, slug: str) -> IntakeForm:
    """A published form by its address; staff may also open unpublished ones to try them.

    Whether a visitor who is not signed in may send it is the caller's question
    (``allows_anonymous``): they are asked to sign in rather than told it does not exist.
    """
    forms = IntakeForm.objects.all()
    if reader is None or not reader.is_agent_or_admin:
        forms = forms.filter(is_active=True)
    found = forms.prefetch_related("fields").filter(slug=slug).first()
    if found is None:
        raise NotFound(_("This form does not exist or is not published."))
    return found


@dataclass(frozen=True)
class Shown:
    """A field as one reader sees it, in their language."""

    key: str
    kind: str
    label: str
    help: str
    required: bool
    choices: list[tuple[str, str]]  # (code, label)
    value: str = ""


def shown_fields(
    form: IntakeForm, language: str, values: Mapping[str, str] | None = None
) -> list[Shown]:
    """The form's fields in ``language``, with ``values`` filled in where they fit.

    ``values`` is what a link prefilled or a refused submission held: a choice keeps
    only a code the field offers; a file field is never prefilled.
    """
    default = settings.LANGUAGE_CODE
    values = values or {}
    shown = []
    for f in form.fields.all():
        choices = [(c["value"], in_language(c["labels"], language, default)) for c in f.choices]
        value = str(values.get(f.key, ""))
        offered = {code for code, _label in choices}
        if f.kind == FieldKind.FILE or (f.kind == FieldKind.CHOICE and value not in offered):
            value = ""
        else:
            limit = SHORT_MAX_CHARS if f.kind == FieldKind.TEXT else LONG_MAX_CHARS
            value = (clean_line if f.kind == FieldKind.TEXT else clean_body)(value)[:limit]
        shown.append(
            Shown(
                key=f.key,
                kind=f.kind,
                label=in_language(f.labels, language, default),
                help=in_language(f.helps, language, default),
                required=f.required,
                choices=choices,
                value=value,
            )
        )
    return shown


def title(form: IntakeForm, language: str) -> str:
    return in_language(form.titles, language, settings.LANGUAGE_CODE) or form.slug


def intro(form: IntakeForm, language: str) -> str:
    return in_language(form.intros, language, settings.LANGUAGE_CODE)


# --- Submitting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Visitor:
    """Who a visitor who is not signed in says they are."""

    email: str
    name: str = ""


def submit(
    form: IntakeForm,
    *,
    reader: User | None,
    visitor: Visitor | None = None,
    answers: Mapping[str, str],
    uploads: Mapping[str, files.Upload],
    language: str,
) -> Ticket | None:
    """Open the ticket a filled-in form asks for.

    ``reader`` is the signed-in customer, or None for a visitor, who then gives their
    address (``visitor``). Refusals name each field (``answer-<key>``, ``email``, or
    ``form`` for the form as a whole); nothing is created for a refused submission, not even
    the contact. A visitor's new contact reads ``language``. A visitor who types a staff
    member's address gets the same answer as anyone else, and no ticket (None): the form
    does not tell who works here.
    """
    if reader is None and not form.allows_anonymous:
        raise NotAllowed(_("Sign in to send this form."))
    if reader is not None and not reader.is_customer:
        raise ValidationFailed(
            {"form": _("Forms open tickets for customers; use the inbox to open one yourself.")}
        )
    errors: dict[str, str] = {}
    address = ""
    if reader is None:
        address = accounts.normalise_email(visitor.email if visitor else "")
        if not address or "@" not in address or len(address) > 254:
            errors["email"] = _("Enter your email address so that we can answer you.")
    kept, attachments = _checked_answers(form, answers, uploads, language, errors)
    if errors:
        raise ValidationFailed(errors)
    form_title = title(form, language)
    first_line = next((a["value"] for a in kept if a["kind"] == FieldKind.TEXT), "")
    subject = f"{form_title} — {first_line}" if first_line else form_title
    body = "\n\n".join(f"{a['label']}\n{a['value']}" for a in kept) or form_title
    with transaction.atomic():
        requester = reader or accounts.find_person_by_email(address)
        if requester is None:
            try:
                requester = accounts.create_contact(
                    actor=None,
                    email=address,
                    name=clean_line(visitor.name if visitor else "")[:200],
                    language=language,
                )
            except ValidationFailed as refused:
                raise ValidationFailed(
                    {"email": str(next(iter(refused.fields.values())))}
                ) from None
        elif not requester.is_customer:
            return None
        ticket = tickets.create_ticket(
            actor=None,
            requester=requester,
            subject=subject[:250],
            body=body,
            channel=Channel.WEB_FORM,
            team=form.team,
            tags=form.tags,
            attachments=attachments,
            channel_metadata={
                "form": form.slug,
                "form_id": form.public_id,
                "visitor": reader is None,
            },
        )
        Submission.objects.create(
            ticket=ticket,
            form=form,
            language=language,
            answers=kept,
            from_visitor=reader is None,
        )
    return ticket


def _checked_answers(
    form: IntakeForm,
    answers: Mapping[str, str],
    uploads: Mapping[str, files.Upload],
    language: str,
    errors: dict[str, str],
) -> tuple[list[dict[str, str]], list[files.Upload]]:
    kept: list[dict[str, str]] = []
    attachments: list[files.Upload] = []
    for shown in shown_fields(form, language):
        name = f"answer-{shown.key}"
        entry = {"key": shown.key, "kind": shown.kind, "label": shown.label}
        if shown.kind == FieldKind.FILE:
            upload = uploads.get(shown.key)
            if upload is None or not upload.name:
                if shown.required:
                    errors[name] = _("Attach a file here.")
                continue
            attachments.append(upload)
            kept.append({**entry, "value": files.clean_filename(upload.name)})
            continue
        raw = str(answers.get(shown.key, ""))
        if shown.kind == FieldKind.TEXT:
            value = clean_line(raw)
            limit = SHORT_MAX_CHARS
        else:
            value = clean_body(raw).strip()
            limit = LONG_MAX_CHARS
        if not value:
            if shown.required:
                errors[name] = _("This field is required.")
            continue
        if shown.kind == FieldKind.CHOICE:
            labels = dict(shown.choices)
            if value not in labels:
                errors[name] = _("Choose one of the options offered.")
                continue
            kept.append({**entry, "choice": value, "value": labels[value]})
            continue
        if len(value) > limit:
            errors[name] = _("At most %(n)d characters.") % {"n": limit}
            continue
        kept.append({**entry, "value": value})
    return kept, attachments


def sent_ticket(public_id: str) -> Ticket | None:
    """The ticket a visitor's form opened, for the thank-you page (number and promise only)."""
    if not public_id:
        return None
    return (
        Ticket.objects.select_related("requester")
        .filter(public_id=public_id, channel=Channel.WEB_FORM)
        .first()
    )
