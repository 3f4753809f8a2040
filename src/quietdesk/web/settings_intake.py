"""Admin screens for intake forms: the list, and the builder (a row per field).

The builder needs no script: each field is a row of inputs; two empty rows wait at the
end for new fields (save to get two more), a row is removed by ticking its box, and
rows are ordered by their number. Choices are written one per line as
``code | English label | French label`` (one label per installed language, in order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from quietdesk.accounts.models import Team
from quietdesk.errors import ValidationFailed
from quietdesk.intake import services as intake
from quietdesk.intake.models import FieldKind, IntakeForm
from quietdesk.web.guards import admin_only
from quietdesk.web.guards import signed_in_user as _me

#: Empty rows offered for new fields below the existing ones.
SPARE_ROWS = 2


@dataclass
class Row:
    """One field's inputs as the builder shows them (and as they were posted)."""

    number: int
    key: str = ""
    kind: str = FieldKind.TEXT
    labels: dict[str, str] = field(default_factory=dict)
    helps: dict[str, str] = field(default_factory=dict)
    required: bool = False
    choices: str = ""
    order: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def is_blank(self) -> bool:
        return not (self.key or any(self.labels.values()) or self.choices.strip())


def _languages() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in settings.LANGUAGES]


def _choices_text(choices: list[dict[str, Any]]) -> str:
    codes = [code for code, _name in _languages()]
    return "\n".join(
        " | ".join([c["value"], *(c["labels"].get(code, "") for code in codes)]) for c in choices
    )


def _parse_choices(text: str) -> list[intake.ChoiceIn]:
    codes = [code for code, _name in _languages()]
    parsed = []
    for line in text.splitlines():
        if not line.strip():
            continue
        value, *labels = (part.strip() for part in line.split("|"))
        named = dict(zip(codes, labels, strict=False))
        if not any(named.values()):
            named = {settings.LANGUAGE_CODE: value}  # "Billing" alone: code and label
        parsed.append(intake.ChoiceIn(value=value, labels=named))
    return parsed


def _rows_of(form: IntakeForm | None) -> list[Row]:
    rows = []
    for n, f in enumerate(form.fields.all() if form else []):
        rows.append(
            Row(
                number=n,
                key=f.key,
                kind=f.kind,
                labels=dict(f.labels),
                helps=dict(f.helps),
                required=f.required,
                choices=_choices_text(f.choices),
                order=n + 1,
            )
        )
    return rows


def _posted_rows(post: QueryDict) -> list[Row]:
    try:
        count = min(int(post.get("rows", "0")), intake.MAX_FIELDS + SPARE_ROWS)
    except ValueError:
        count = 0
    rows = []
    for n in range(count):
        if post.get(f"field-{n}-remove"):
            continue
        try:
            order = int(post.get(f"field-{n}-order", "") or n + 1)
        except ValueError:
            order = n + 1
        row = Row(
            number=n,
            key=post.get(f"field-{n}-key", "").strip(),
            kind=post.get(f"field-{n}-kind", FieldKind.TEXT),
            labels={c: post.get(f"field-{n}-label-{c}", "") for c, _name in _languages()},
            helps={c: post.get(f"field-{n}-help-{c}", "") for c, _name in _languages()},
            required=bool(post.get(f"field-{n}-required")),
            choices=post.get(f"field-{n}-choices", ""),
            order=order,
        )
        if not row.is_blank:
            rows.append(row)
    rows.sort(key=lambda row: (row.order, row.number))
    return rows


@require_GET
@admin_only
def forms_list(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    language = get_language() or settings.LANGUAGE_CODE
    rows = [
        (form, intake.title(form, language), len(form.fields.all()))
        for form in intake.all_forms(me)
    ]
    return render(request, "web/settings/forms.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
@admin_only
def form_edit(request: HttpRequest, form_id: str | None = None) -> HttpResponse:
    me = _me(request)
    form = _form(me, form_id) if form_id else None
    errors: dict[str, str] = {}
    if request.method == "POST":
        post = request.POST
        rows = _posted_rows(post)
        values = _form_values(post)
        team = Team.objects.filter(public_id=post.get("team", "")).first()
        missing_team = bool(post.get("team")) and team is None
        data = intake.FormIn(
            slug=post.get("slug", ""),
            titles=values["titles"],
            intros=values["intros"],
            team=team,
            tags=[t for t in post.get("tags", "").split(",") if t.strip()],
            is_active=bool(post.get("is_active")),
            allows_anonymous=bool(post.get("allows_anonymous")),
            position=_number(post.get("position")),
            fields=[
                intake.FieldIn(
                    key=row.key,
                    kind=row.kind,
                    labels=row.labels,
                    helps=row.helps,
                    required=row.required,
                    choices=_parse_choices(row.choices),
                )
                for row in rows
            ],
        )
        try:
            if missing_team:  # removed while the page was open
                raise ValidationFailed({"team": _("This team no longer exists; choose another.")})
            saved = intake.save_form(actor=me, data=data, form=form)
        except ValidationFailed as refused:
            errors = {name: str(message) for name, message in refused.fields.items()}
            for n, row in enumerate(rows):
                row.errors = [m for k, m in errors.items() if k.startswith(f"field-{n}-")]
            messages.error(request, _("The form was not saved: see the notes below."))
        else:
            messages.success(request, _("Form “%(slug)s” saved.") % {"slug": saved.slug})
            return redirect("settings-form", form_id=saved.public_id)
        shown: dict[str, Any] = {
            **values,
            "slug": post.get("slug", ""),
            "tags": post.get("tags", ""),
        }
        shown |= {
            "team": post.get("team", ""),
            "is_active": bool(post.get("is_active")),
            "allows_anonymous": bool(post.get("allows_anonymous")),
            "position": post.get("position", "0"),
        }
    else:
        rows = _rows_of(form)
        shown = _form_shown(form)
    spare = len(rows)
    for n in range(SPARE_ROWS):
        rows.append(Row(number=spare + n, order=spare + n + 1))
    for n, row in enumerate(rows):
        row.number = n
    return render(
        request,
        "web/settings/form_edit.html",
        {
            "form": form,
            "shown": shown,
            "rows": rows,
            "errors": errors,
            "languages": _languages(),
            "kinds": FieldKind.choices,
            "teams": list(Team.objects.order_by("name")),
            "link": request.build_absolute_uri(f"/forms/{form.slug}/") if form else "",
            "example_key": next((r.key for r in rows if r.key and r.kind != "file"), ""),
        },
        status=422 if errors else 200,
    )


def _form_values(post: QueryDict) -> dict[str, dict[str, str]]:
    return {
        "titles": {c: post.get(f"title-{c}", "") for c, _name in _languages()},
        "intros": {c: post.get(f"intro-{c}", "") for c, _name in _languages()},
    }


def _form_shown(form: IntakeForm | None) -> dict[str, Any]:
    if form is None:
        return {"titles": {}, "intros": {}, "is_active": True, "allows_anonymous": True}
    return {
        "slug": form.slug,
        "titles": form.titles,
        "intros": form.intros,
        "team": form.team.public_id if form.team else "",
        "tags": ", ".join(form.tags),
        "is_active": form.is_active,
        "allows_anonymous": form.allows_anonymous,
        "position": form.position,
    }


def _number(raw: str | None) -> int:
    try:
        return max(0, min(int(raw or 0), 32767))
    except ValueError:
        return 0


@require_POST
@admin_only
def form_delete(request: HttpRequest, form_id: str) -> HttpResponse:
    me = _me(request)
    form = _form(me, form_id)
    intake.delete_form(actor=me, form=form)
    messages.success(request, _("Form “%(slug)s” deleted.") % {"slug": form.slug})
    return redirect("settings-forms")


def _form(me: Any, form_id: str) -> IntakeForm:
    found = intake.all_forms(me).filter(public_id=form_id).first()
    if found is None:
        raise Http404
    return found
