"""Every page of the portal, the workspace and the settings, read in French and in English.

Each page is checked twice: its key labels in the reader's language, and no string of
the other language left. The second check is not a hand-kept list: every entry of the
French catalogue (ours and Django's) whose English text is a whole text of the page as
an English reader sees it must be gone from the page a French reader sees, and the other
way round. A new route that renders a page must be added here (the last test says so).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import pytest
from babel import Locale
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import get_language_info, trans_real

from quietdesk.accounts.models import User
from quietdesk.accounts.services import create_sign_in_link
from quietdesk.intake import services as intake
from quietdesk.kb import services as kb
from quietdesk.mail.models import Mailbox
from quietdesk.ratings.services import link_token
from quietdesk.replies import services as replies
from quietdesk.schedule import services as schedule
from quietdesk.sla import services as sla
from quietdesk.tickets import services as tickets
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db

WHO = ("anonymous", "customer", "agent", "admin")


class _Texts(HTMLParser):
    """The texts a reader sees or hears: text nodes and labelling attributes."""

    SEEN_ATTRIBUTES = ("placeholder", "aria-label", "title", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.texts: set[str] = set()
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        values = dict(attrs)
        for name in self.SEEN_ATTRIBUTES:
            self._add(values.get(name))
        if tag == "input" and values.get("type") in ("submit", "button"):
            self._add(values.get("value"))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._add(data)

    def _add(self, text: str | None) -> None:
        if text and (cleaned := re.sub(r"\s+", " ", text).strip()):
            self.texts.add(cleaned)
            self.texts.add(cleaned.rstrip(" :…"))


def texts_of(html: str) -> set[str]:
    parser = _Texts()
    parser.feed(html)
    return parser.texts


def catalogue() -> dict[str, str]:
    """English → French for every whole string that the two languages write differently."""
    pairs = trans_real.translation("fr")._catalog.items()  # ours merged with Django's
    return {
        english: french
        for english, french in pairs
        if isinstance(english, str)
        and english != french
        and len(english) > 2
        and re.search(r"[A-Za-z]{3}", english)
        and "%" not in english
        and "{" not in english
    }


@dataclass(frozen=True)
class Page:
    name: str  # the URL pattern's name
    reader: str  # one of WHO
    url: Callable[[Any], str]
    french: tuple[str, ...]  # key labels a French reader must see
    english: tuple[str, ...]  # the same labels in English
    status: int = 200


class Site:
    """One of every object the pages show."""

    def __init__(self, world: Any) -> None:
        self.world = world
        self.ticket = tickets.create_ticket(
            actor=world.agent,
            requester=world.customer,
            subject="Zorglub quarterly export",
            body="Zorglub export stopped on Monday.",
            channel="portal",
            team=world.support,
        )
        tickets.post_message(
            ticket=self.ticket, author=world.agent, body="Zorglub looked into.", via="web"
        )
        tickets.post_message(
            ticket=self.ticket, author=world.agent, body="Zorglub aside.", kind="note", via="web"
        )
        self.solved = tickets.create_ticket(
            actor=world.agent,
            requester=world.customer,
            subject="Zorglub solved one",
            body="Zorglub fixed?",
            channel="portal",
            team=world.support,
        )
        tickets.change_status(ticket=self.solved, actor=world.agent, status="solved")
        self.calendar = schedule.save_calendar(
            actor=world.admin,
            data=schedule.CalendarIn(
                name="Zorglub office",
                time_zone="Europe/Paris",
                openings=schedule.openings_from([("monday", "09:00", "17:00", False)]),
            ),
        )
        self.policy = sla.save_policy(
            actor=world.admin,
            data=sla.PolicyIn(name="Zorglub policy", targets={"first_response": (3600, True)}),
        )
        self.reply = replies.save_reply(
            actor=world.admin,
            data=replies.CannedReplyIn(
                name="Zorglub thanks", texts={"en": "Zorglub thanks.", "fr": "Zorglub merci."}
            ),
        )
        self.form = intake.save_form(
            actor=world.admin,
            data=intake.FormIn(
                slug="zorglub",
                titles={"en": "Zorglub request", "fr": "Demande Zorglub"},
                team=world.support,
                fields=[
                    intake.FieldIn(
                        key="details",
                        kind="long_text",
                        labels={"en": "Zorglub details", "fr": "Détails Zorglub"},
                        required=True,
                    )
                ],
            ),
        )
        self.mailbox = Mailbox.objects.create(address="zorglub@quietdesk.example")
        self.category = kb.save_category(
            actor=world.admin,
            data=kb.CategoryIn(slug="zorglub", names={"en": "Zorglub", "fr": "Zorglub"}),
        )
        self.article = kb.save_article(
            actor=world.admin,
            data=kb.ArticleIn(
                slug="zorglub-export",
                category=self.category,
                titles={"en": "Zorglub export", "fr": "Export Zorglub"},
                bodies={"en": "Zorglub export, step by step.", "fr": "Export Zorglub, pas à pas."},
            ),
        )
        kb.publish_article(actor=world.admin, article=self.article)
        self.teammate = AgentFactory(teams=[world.support])

    def reset_link(self) -> str:
        person = self.world.customer
        uid = urlsafe_base64_encode(force_bytes(person.pk))
        return f"/password/reset/{uid}/{default_token_generator.make_token(person)}/"

    def sign_in_link(self) -> str:
        created = create_sign_in_link(email=self.world.customer.email)
        assert created is not None
        return f"/portal/sign-in/{created[1]}"


PAGES = [
    # Signing in
    Page("login", "anonymous", lambda s: "/login/", ("Se connecter",), ("Sign in",)),
    Page(
        "password_reset",
        "anonymous",
        lambda s: "/password/reset/",
        ("Réinitialisation du mot de passe",),
        ("Password reset",),
    ),
    Page(
        "password_reset_done",
        "anonymous",
        lambda s: "/password/reset/sent/",
        ("Message de réinitialisation du mot de passe envoyé",),
        ("Password reset sent",),
    ),
    Page(
        "password_reset_confirm",
        "anonymous",
        lambda s: s.reset_link(),
        (
            "Saisissez deux fois votre nouveau mot de passe afin de vérifier qu’il est "
            "correctement saisi.",
        ),
        ("Please enter your new password twice so we can verify you typed it in correctly.",),
    ),
    Page(
        "password_reset_complete",
        "anonymous",
        lambda s: "/password/reset/done/",
        ("Mise à jour du mot de passe terminée",),
        ("Password reset complete",),
    ),
    Page(
        "portal-sign-in",
        "anonymous",
        lambda s: "/portal/sign-in",
        ("Accéder à vos demandes", "M’envoyer un lien de connexion"),
        ("Sign in to your requests", "Send me a sign-in link"),
    ),
    Page(
        "portal-sign-in-link",
        "anonymous",
        lambda s: s.sign_in_link(),
        ("Se connecter",),
        ("Sign in",),
    ),
    # Portal
    Page("portal", "customer", lambda s: "/portal/", ("Mes demandes",), ("My requests",)),
    Page(
        "portal-new", "customer", lambda s: "/portal/new", ("Nouvelle demande",), ("New request",)
    ),
    Page(
        "portal-ticket",
        "customer",
        lambda s: f"/portal/requests/{s.ticket.public_id}/",
        ("Envoyer", "Mon problème est résolu"),
        ("Send", "My problem is solved"),
    ),
    Page(
        "portal-password",
        "customer",
        lambda s: "/portal/password",
        ("Définir un mot de passe", "Enregistrer le mot de passe"),
        ("Set a password", "Save the password"),
    ),
    Page(
        "intake-form",
        "anonymous",
        lambda s: "/forms/zorglub/",
        ("Demande Zorglub", "Détails Zorglub", "Envoyer"),
        ("Zorglub request", "Zorglub details", "Send"),
    ),
    Page(
        "intake-form-sent",
        "customer",
        lambda s: "/forms/zorglub/sent",
        ("Merci, nous avons bien reçu votre demande",),
        ("Thank you, we have your request",),
    ),
    Page(
        "rate",
        "customer",  # the page speaks the language of the requester the link was sent to
        lambda s: f"/rate/{link_token(s.solved)}?score=5",
        ("Très satisfait",),
        ("Very happy",),
    ),
    Page("help", "anonymous", lambda s: "/help/", ("Centre d’aide",), ("Help centre",)),
    Page(
        "help-article",
        "anonymous",
        lambda s: "/help/zorglub-export/",
        ("Export Zorglub",),
        ("Zorglub export",),
    ),
    # Workspace
    Page(
        "inbox",
        "agent",
        lambda s: "/inbox/",
        ("Boîte de réception", "Appliquer aux tickets cochés"),
        ("Inbox", "Apply to ticked"),
    ),
    Page(
        "ticket",
        "agent",
        lambda s: f"/tickets/{s.ticket.public_id}/",
        ("Note interne", "Réponse publique", "Propriétés", "Insérer"),
        ("Internal note", "Public reply", "Properties", "Insert"),
    ),
    Page(
        "search",
        "agent",
        lambda s: "/search/?q=zorglub",
        ("Chercher dans toutes les conversations", "Plus récents d’abord"),
        ("Search every conversation", "Newest first"),
    ),
    Page(
        "customer",
        "agent",
        lambda s: f"/customers/{s.world.customer.public_id}/?q=zorglub",
        ("Ses tickets, les plus récents d’abord", "Chercher dans les conversations de ce client"),
        ("Their tickets, newest first", "Search this customer's conversations"),
    ),
    Page(
        "portal-search",
        "customer",
        lambda s: "/portal/search?q=zorglub",
        ("Chercher dans vos demandes", "Dans le centre d’aide"),
        ("Search your requests", "From the help centre"),
    ),
    # Settings
    *(
        Page(name, "admin", url, (french,), (english,))
        for name, url, french, english in [
            (
                "settings-calendars",
                lambda s: "/settings/hours/",
                "Heures ouvrées",
                "Business hours",
            ),
            ("settings-calendar-new", lambda s: "/settings/hours/new", "Lundi", "Monday"),
            (
                "settings-calendar",
                lambda s: f"/settings/hours/{s.calendar.public_id}/",
                "Lundi",
                "Monday",
            ),
            (
                "settings-replies",
                lambda s: "/settings/replies/",
                "Réponses types",
                "Canned replies",
            ),
            (
                "settings-reply-new",
                lambda s: "/settings/replies/new",
                "Nouvelle réponse type",
                "New canned reply",
            ),
            (
                "settings-reply",
                lambda s: f"/settings/replies/{s.reply.public_id}/",
                "Supprimer cette réponse type",
                "Remove this canned reply",
            ),
            (
                "settings-forms",
                lambda s: "/settings/forms/",
                "Formulaires de demande",
                "Intake forms",
            ),
            (
                "settings-form-new",
                lambda s: "/settings/forms/new",
                "Nouveau formulaire de demande",
                "New intake form",
            ),
            (
                "settings-form",
                lambda s: f"/settings/forms/{s.form.public_id}/",
                "Formulaire « zorglub »",
                "Form “zorglub”",
            ),
            ("settings-kb", lambda s: "/settings/kb/", "Base de connaissances", "Knowledge base"),
            ("settings-kb-article-new", lambda s: "/settings/kb/new", "Enregistrer", "Save"),
            (
                "settings-kb-article",
                lambda s: f"/settings/kb/{s.article.public_id}/",
                "Enregistrer",
                "Save",
            ),
            (
                "settings-kb-category-new",
                lambda s: "/settings/kb/categories/new",
                "Enregistrer",
                "Save",
            ),
            (
                "settings-kb-category",
                lambda s: f"/settings/kb/categories/{s.category.public_id}/",
                "Enregistrer",
                "Save",
            ),
            ("settings-policies", lambda s: "/settings/sla/", "Politiques de SLA", "SLA policies"),
            (
                "settings-policy-new",
                lambda s: "/settings/sla/new",
                "Première réponse",
                "First response",
            ),
            (
                "settings-policy",
                lambda s: f"/settings/sla/{s.policy.public_id}/",
                "Première réponse",
                "First response",
            ),
            ("settings-teams", lambda s: "/settings/teams/", "Équipes", "Teams"),
            ("settings-team-new", lambda s: "/settings/teams/new", "Nouvelle équipe", "New team"),
            (
                "settings-team",
                lambda s: f"/settings/teams/{s.world.support.public_id}/",
                "Membres",
                "Members",
            ),
            (
                "settings-agents",
                lambda s: "/settings/agents/",
                "Se déconnecter",
                "Sign out",
            ),
            ("settings-agent-new", lambda s: "/settings/agents/new", "Nouvel agent", "New agent"),
            (
                "settings-agent",
                lambda s: f"/settings/agents/{s.teammate.public_id}/",
                "Rôle",
                "Role",
            ),
            (
                "settings-mailboxes",
                lambda s: "/settings/mailboxes/",
                "Boîtes de réception",
                "Mailboxes",
            ),
            (
                "settings-mailbox-new",
                lambda s: "/settings/mailboxes/new",
                "Signature (Français)",
                "Signature (English)",
            ),
            (
                "settings-mailbox",
                lambda s: f"/settings/mailboxes/{s.mailbox.public_id}/",
                "Signature (Français)",
                "Signature (English)",
            ),
            (
                "settings-mailbox-delete",
                lambda s: f"/settings/mailboxes/{s.mailbox.public_id}/delete",
                "Supprimer la boîte de réception",
                "Delete the mailbox",
            ),
        ]
    ),
]

#: Routes that render no page of their own: actions (POST, then a redirect), files, the
#: script catalogue, htmx fragments, health checks. Each is covered by its own tests.
NOT_PAGES = {
    "home",  # redirects to the inbox or the portal
    "logout",
    "inbox-bulk",
    "saved-view-create",
    "saved-view-delete",
    "ticket-reply",
    "ticket-update",
    "ticket-canned",
    "ticket-articles",
    "ticket-similar",
    "ticket-article-insert",
    "portal-reply",
    "portal-solve",
    "help-suggest",
    "download_attachment",
    "healthz",
    "choose-language",
    "settings-kb-article-publish",
    # Deleting is a POST from the edit page's button (tested with each screen).
    "settings-calendar-delete",
    "settings-reply-delete",
    "settings-form-delete",
    "settings-kb-article-delete",
    "settings-kb-category-delete",
    "settings-policy-delete",
    "javascript-catalog",
}


def reader(site: Site, who: str, language: str) -> Client:
    client = Client(headers={"accept-language": language})
    if who != "anonymous":
        person: User = {
            "customer": site.world.customer,
            "agent": site.world.agent,
            "admin": site.world.admin,
        }[who]
        person.language = language
        person.save(update_fields=["language"])
        client.force_login(person)
    return client


def render(site: Site, page: Page, language: str) -> set[str]:
    response = reader(site, page.reader, language).get(page.url(site), follow=True)
    assert response.status_code == page.status, (page.name, response.status_code)
    html = response.content.decode()
    assert f'<html lang="{language}"' in html, page.name
    return texts_of(html)


@pytest.fixture
def site(world) -> Site:
    return Site(world)


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_each_page_speaks_the_readers_language_and_only_that(site, page):
    french, english = render(site, page, "fr"), render(site, page, "en")
    words = catalogue()
    # The language switcher names each language in itself ("English" on a French page).
    for code, _name in settings.LANGUAGES:
        words.pop(get_language_info(code)["name"], None)
    assert set(page.french) <= french, (page.name, set(page.french) - french)
    assert set(page.english) <= english, (page.name, set(page.english) - english)
    # Every translated string on the English page must be gone from the French one...
    left_in_french = {text for text in english & set(words) if text in french}
    assert not left_in_french, (page.name, sorted(left_in_french))
    # ...and no French string shows on the English page.
    # (Country names are proper nouns: Réunion is the island on the English page too.)
    places = set(Locale("en").territories.values())
    french_words = {fr for en, fr in words.items() if fr not in words and fr not in places}
    assert not (english & french_words), (page.name, sorted(english & french_words))
    assert len(english & set(words)) >= 3, (page.name, "too few translated strings to check")


def _routes(patterns: list[Any], prefix: str = "") -> set[str]:
    names: set[str] = set()
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if str(entry.pattern) in ("api/v1/", "admin/"):
                continue  # the API speaks JSON (tests/api), the admin is Django's
            names |= _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(entry.name)
    return names


def test_every_route_is_checked_here_or_says_why_not():
    routes = _routes(get_resolver().url_patterns)
    checked = {page.name for page in PAGES}
    assert routes - checked - NOT_PAGES == set(), "add the new page to PAGES"
    assert (checked | NOT_PAGES) - routes == set(), "a page listed here no longer exists"
