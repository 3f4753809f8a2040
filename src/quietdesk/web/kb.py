"""The help centre (``/help/``), article suggestions, and articles in the ticket composer.

The help centre needs no sign-in and no script: plain pages with a title, a description
and a canonical address per language, for readers and search engines alike. Who reads
what is ``access.visible_articles``'s business (visitors and customers: published public
articles; the service team: every article, so the article page is also the preview).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from quietdesk import access
from quietdesk.accounts.models import User
from quietdesk.errors import NotFound
from quietdesk.kb import services as kb
from quietdesk.kb.models import Article, ArticleStatus, Category
from quietdesk.web.guards import signed_in_user, staff_only
from quietdesk.web.workspace import load_ticket

#: Articles a search of the help centre lists, and suggestions shown while typing.
HELP_SEARCH_LIMIT = 20
SUGGESTIONS = 5
#: What a suggestion reads of the text typed so far.
SUGGEST_MAX_CHARS = 500


@dataclass(frozen=True)
class Item:
    """An article as one list shows it, in the reader's language."""

    article: Article
    shown: kb.Shown


def _reader(request: HttpRequest) -> User | None:
    user = request.user
    if isinstance(user, User) and user.is_authenticated and user.is_active:
        return user
    return None


def _language() -> str:
    return get_language() or settings.LANGUAGE_CODE


def _items(articles: list[Article], language: str) -> list[Item]:
    return [Item(article, kb.shown(article, language)) for article in articles]


@require_GET
def help_home(request: HttpRequest) -> HttpResponse:
    """Every article the reader may read, by category; or what a search found."""
    reader = _reader(request)
    language = _language()
    query = request.GET.get("q", "")[:200].strip()
    found = None
    if query:
        found = _items(kb.find_articles(reader, query, language, HELP_SEARCH_LIMIT), language)
    published = list(
        access.visible_articles(reader)
        .filter(status=ArticleStatus.PUBLISHED)
        .select_related("category")
    )
    published.sort(key=lambda a: _category_order(a.category))
    sections = []
    for category, articles in groupby(published, key=lambda a: a.category):
        items = sorted(_items(list(articles), language), key=lambda i: i.shown.title.casefold())
        sections.append((kb.category_name(category, language), items))
    return render(
        request,
        "web/kb/help.html",
        {
            "query": query,
            "found": found,
            "sections": sections,
            "canonical": request.build_absolute_uri(reverse("help")),
        },
    )


def _category_order(category: Category | None) -> tuple[int, int, str]:
    if category is None:  # uncategorised articles come last
        return (1, 0, "")
    return (0, category.position, category.slug)


@require_GET
def help_article(request: HttpRequest, slug: str) -> HttpResponse:
    """One article, in ``?lang=`` if it has that version, else in the reader's language."""
    reader = _reader(request)
    try:
        article = access.get_article(reader, slug)
    except NotFound:
        raise Http404 from None
    language = _language()
    asked = request.GET.get("lang", "")
    shown = kb.shown(article, asked if asked in article.bodies_html else language)
    address = request.build_absolute_uri(reverse("help-article", args=[article.slug]))
    alternates = [(code, f"{address}?{urlencode({'lang': code})}") for code in shown.languages]
    return render(
        request,
        "web/kb/article.html",
        {
            "article": article,
            "shown": shown,
            # The reader's language has no version: say which one they get instead.
            "fallback": language not in shown.languages,
            "reader_language": language,
            "canonical": f"{address}?{urlencode({'lang': shown.language})}",
            "alternates": alternates,
            "others": [(code, url) for code, url in alternates if code != shown.language],
            "category": kb.category_name(article.category, language) if article.category else "",
            # Drafts and internal articles are for the service team's eyes only.
            "indexable": article.is_published and article.is_public,
        },
    )


@require_GET
def suggest(request: HttpRequest) -> HttpResponse:
    """Up to five articles for what a customer is typing (``q``, or a form's answers)."""
    text = request.GET.get("q", "") or " ".join(
        request.GET.get(name, "") for name in request.GET if name.startswith("answer-")
    )
    language = _language()
    articles = kb.find_articles(_reader(request), text[:SUGGEST_MAX_CHARS], language, SUGGESTIONS)
    return render(request, "web/kb/_suggestions.html", {"items": _items(articles, language)})


# --- In the ticket composer (the service team) -----------------------------------------------


@require_GET
@staff_only
def composer_articles(request: HttpRequest, ticket_id: str) -> HttpResponse:
    """Articles for the ticket's subject, or for ``q``, in the customer's language."""
    reader = signed_in_user(request)
    ticket = load_ticket(reader, ticket_id)
    query = request.GET.get("q", "")[:SUGGEST_MAX_CHARS].strip()
    language = ticket.requester.language
    articles = kb.find_articles(reader, query or ticket.subject, language, SUGGESTIONS)
    return render(
        request,
        "web/kb/_composer_articles.html",
        {"ticket": ticket, "items": _items(articles, language), "query": query},
    )


@require_POST
@staff_only
def composer_insert(request: HttpRequest, ticket_id: str) -> HttpResponse:
    """Add an article's link or text to the reply, as a canned reply is added.

    ``insert`` is ``link:<article id>`` or ``text:<article id>``. With htmx, answers the
    new text area and a note; without, keeps the draft for the ticket page.
    """
    reader = signed_in_user(request)
    ticket = load_ticket(reader, ticket_id)
    body = request.POST.get("body", "")
    how, _sep, article_id = request.POST.get("insert", "").partition(":")
    article = (
        access.visible_articles(reader)
        .filter(status=ArticleStatus.PUBLISHED, public_id=article_id)
        .first()
    )
    language = ticket.requester.language
    if article is None or how not in ("link", "text"):
        note = _("This article is no longer published.")
    elif how == "link" and not article.is_public:
        note = _("This article is internal: the customer could not open a link to it.")
    else:
        shown = kb.shown(article, language)
        if how == "link":
            address = request.build_absolute_uri(reverse("help-article", args=[article.slug]))
            added = f"{shown.title}: {address}?{urlencode({'lang': shown.language})}"
            note = _("Added a link to “%(title)s”.") % {"title": shown.title}
        else:
            added, _chosen = kb.text_for_reply(article, language)
            note = _("Added the text of “%(title)s”.") % {"title": shown.title}
            if not article.is_public:
                note += " " + _("It is an internal article: check it suits the customer.")
        if shown.is_fallback:
            note += " " + _("It has no version in the customer's language (%(language)s).") % {
                "language": dict(settings.LANGUAGES).get(language, language)
            }
        body = f"{body.rstrip()}\n\n{added}" if body.strip() else added
    if request.headers.get("HX-Request"):
        return render(request, "web/_composer_body.html", {"draft": body, "note": note})
    request.session[f"draft-{ticket.public_id}"] = body[:100_000]
    messages.info(request, note)
    return redirect("ticket", ticket_id=ticket.public_id)
