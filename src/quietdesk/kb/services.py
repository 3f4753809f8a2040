"""The knowledge base: writing, publishing, showing and finding articles.

Who may do what:

* **agents and admins** write articles, preview them, publish and unpublish them: agents
  are the ones who see the same question come back, so they write the answer down;
* **admins** also shape the help centre (categories) and delete articles;
* **customers and visitors** read published public articles; internal ones and drafts
  do not exist for them (see :func:`quietdesk.access.visible_articles`).

An article's text is written as Markdown (plain paragraphs are plain text; HTML is
allowed) and rendered once, when saved, through :func:`~quietdesk.tickets.html.sanitise_html`,
so that pages only read the stored result.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import Truncator, slugify
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

from quietdesk import access
from quietdesk.accounts.models import User
from quietdesk.audit.services import record
from quietdesk.errors import ValidationFailed
from quietdesk.kb.models import Article, ArticleStatus, Category, Visibility
from quietdesk.text import STOP_WORDS, clean_body, clean_line, pick_language
from quietdesk.tickets.html import html_to_text, sanitise_html

TITLE_MAX_CHARS = 200
BODY_MAX_CHARS = 100_000
#: The length of a page's meta description (what search engines show under the title).
DESCRIPTION_CHARS = 160
#: A search looks at this many words of what was typed, and ranks this many candidates.
SEARCH_MAX_WORDS = 8
SEARCH_CANDIDATES = 200

# "commonmark" with raw HTML on: authors may paste HTML; the sanitiser decides what stays.
_markdown = MarkdownIt("commonmark", {"html": True})


@dataclass(frozen=True)
class CategoryIn:
    slug: str
    names: dict[str, str]
    position: int = 0


@dataclass(frozen=True)
class ArticleIn:
    slug: str
    titles: dict[str, str]
    bodies: dict[str, str]
    category: Category | None = None
    visibility: str = Visibility.PUBLIC


# --- Texts ---------------------------------------------------------------------------------


def _texts(values: Mapping[str, str], *, body: bool = False) -> dict[str, str]:
    """Keep the installation's languages, cleaned, dropping empty versions."""
    languages = dict(settings.LANGUAGES)
    clean = clean_body if body else clean_line
    kept = {code: clean(text).strip() for code, text in values.items() if code in languages}
    return {code: text for code, text in kept.items() if text}


def render_body(source: str) -> str:
    """An article's text as safe HTML: Markdown rendered, then sanitised like mail."""
    return sanitise_html(_markdown.render(source))


_LIST_TAG = re.compile(r"<(/?)(ol|ul|li)\b[^>]*>", re.IGNORECASE)
# Line breaks inside a list: the list items' own ends already break the lines.
_INSIDE_LIST = re.compile(r"(</li>|<[ou]l\b[^>]*>)\s*\n\s*(?=<)", re.IGNORECASE)
_LINK = re.compile(r'<a\s[^>]*href="([^"]+)"[^>]*>(.*?)</a>', re.IGNORECASE | re.DOTALL)


def _mark_list_items(body_html: str) -> str:
    """Start each list item with "• ", or with its number in a numbered list."""
    counters: list[int | None] = []  # one per open list: None for bullets

    def mark(found: re.Match[str]) -> str:
        closing, tag = found.group(1), found.group(2).lower()
        if tag in ("ol", "ul"):
            if closing:
                counters.pop() if counters else None
            else:
                counters.append(0 if tag == "ol" else None)
            return found.group(0)
        if closing or not counters or counters[-1] is None:
            return found.group(0) + ("" if closing else "• ")
        counters[-1] += 1
        return f"{found.group(0)}{counters[-1]}. "

    return _LIST_TAG.sub(mark, body_html)


def plain_text(body_html: str) -> str:
    """A rendered text as plain text for a reply: list items keep a bullet, links their URL."""
    marked = _mark_list_items(_INSIDE_LIST.sub(r"\1", body_html))
    marked = _LINK.sub(
        lambda found: (
            found.group(2)
            if found.group(2) == found.group(1)
            else f"{found.group(2)} ({found.group(1)})"
        ),
        marked,
    )
    return html_to_text(marked)


_NOT_WORD = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """Lower case, accents removed, words separated by single spaces ("Réponse!" → "reponse")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NOT_WORD.sub(" ", bare).strip()


def _search_text(titles: Mapping[str, str], bodies_html: Mapping[str, str]) -> str:
    parts = [*titles.values(), *(html_to_text(html) for html in bodies_html.values())]
    return f" {fold(' '.join(parts))} "


# --- Categories (admins) ---------------------------------------------------------------------


def save_category(*, actor: User, data: CategoryIn, category: Category | None = None) -> Category:
    """Create or rename a category; problems are keyed ``slug`` and ``names``."""
    access.require_admin(actor)
    errors: dict[str, str] = {}
    names = {code: name[:100] for code, name in _texts(data.names).items()}
    if not names:
        errors["names"] = _("Name the category in at least one language.")
    slug = slugify(data.slug or next(iter(names.values()), ""))[:60].strip("-")
    if not slug:
        errors["slug"] = _("Give the category an address: letters, digits and dashes.")
    elif Category.objects.filter(slug=slug).exclude(pk=category.pk if category else 0).exists():
        errors["slug"] = _("Another category has this address.")
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        before = _describe_category(category) if category else {}
        category = category or Category()
        category.slug = slug
        category.names = names
        category.position = max(0, min(data.position, 32767))
        category.updated_at = timezone.now()
        category.save()
        record(
            actor=actor,
            verb="kb_category.saved",
            target=category,
            before=before,
            after=_describe_category(category),
        )
    return category


def delete_category(*, actor: User, category: Category) -> None:
    """Remove a category; its articles stay, without a category."""
    access.require_admin(actor)
    with transaction.atomic():
        record(
            actor=actor,
            verb="kb_category.deleted",
            target=category,
            before=_describe_category(category),
        )
        category.delete()


def _describe_category(category: Category) -> dict[str, object]:
    return {"slug": category.slug, "names": category.names, "position": category.position}


# --- Articles (the service team) -------------------------------------------------------------


def save_article(*, actor: User, data: ArticleIn, article: Article | None = None) -> Article:
    """Create or change an article; a new one is a draft until published.

    Each problem is named by its field: ``slug``, ``category``, ``visibility``,
    ``title-<language>``, ``body-<language>``, or ``texts`` when no language has both a
    title and a text. Changing a published article changes what readers see at once.
    """
    access.require_staff(actor)
    errors: dict[str, str] = {}
    titles = _texts(data.titles)
    bodies = _texts(data.bodies, body=True)
    for code, _name in settings.LANGUAGES:
        title, body = titles.get(code, ""), bodies.get(code, "")
        if len(title) > TITLE_MAX_CHARS:
            errors[f"title-{code}"] = _("At most %(n)d characters.") % {"n": TITLE_MAX_CHARS}
        if len(body) > BODY_MAX_CHARS:
            errors[f"body-{code}"] = _("At most %(n)d characters.") % {"n": BODY_MAX_CHARS}
        if title and not body:
            errors[f"body-{code}"] = _("Write the text of this version, or remove its title.")
        if body and not title:
            errors[f"title-{code}"] = _("Give this version a title, or remove its text.")
    if not set(titles) & set(bodies):
        errors["texts"] = _("Write the article in at least one language: a title and a text.")
    slug = slugify(data.slug or next(iter(titles.values()), ""))[:80].strip("-")
    if not slug:
        errors["slug"] = _("Give the article an address: letters, digits and dashes.")
    elif Article.objects.filter(slug=slug).exclude(pk=article.pk if article else 0).exists():
        errors["slug"] = _("Another article has this address.")
    if data.visibility not in Visibility.values:
        errors["visibility"] = _("Choose who may read the article.")
    if data.category is not None and not Category.objects.filter(pk=data.category.pk).exists():
        errors["category"] = _("This category no longer exists; choose another.")
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        before = _describe(article) if article else {}
        article = article or Article(author=actor)
        article.slug = slug
        article.category = data.category
        article.visibility = data.visibility
        article.titles = titles
        article.bodies = bodies
        article.bodies_html = {code: render_body(text) for code, text in bodies.items()}
        article.search_text = _search_text(titles, article.bodies_html)
        article.updated_at = timezone.now()
        article.save()
        record(
            actor=actor,
            verb="kb_article.saved",
            target=article,
            before=before,
            after=_describe(article),
        )
    return article


def publish_article(*, actor: User, article: Article) -> Article:
    """Make an article readable by those its visibility names."""
    access.require_staff(actor)
    if article.is_published:
        return article
    return _set_status(actor, article, ArticleStatus.PUBLISHED)


def unpublish_article(*, actor: User, article: Article) -> Article:
    """Take an article back to draft: readers no longer find it."""
    access.require_staff(actor)
    if not article.is_published:
        return article
    return _set_status(actor, article, ArticleStatus.DRAFT)


def _set_status(actor: User, article: Article, status: str) -> Article:
    with transaction.atomic():
        before = _describe(article)
        article.status = status
        if status == ArticleStatus.PUBLISHED:
            article.published_at = timezone.now()
        article.save(update_fields=["status", "published_at"])
        verb = "kb_article.published" if article.is_published else "kb_article.unpublished"
        record(actor=actor, verb=verb, target=article, before=before, after=_describe(article))
    return article


def delete_article(*, actor: User, article: Article) -> None:
    """Remove an article for good (admins); unpublishing keeps it."""
    access.require_admin(actor)
    with transaction.atomic():
        record(actor=actor, verb="kb_article.deleted", target=article, before=_describe(article))
        article.delete()


def _describe(article: Article) -> dict[str, object]:
    return {
        "slug": article.slug,
        "titles": article.titles,
        "languages": sorted(article.bodies),
        "category": article.category.slug if article.category else None,
        "status": article.status,
        "visibility": article.visibility,
    }


# --- Showing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """An article in the language a reader gets: theirs, else the default, else any."""

    title: str
    html: str
    description: str
    language: str
    #: The reader asked for another language, which this article has no text in.
    is_fallback: bool
    languages: list[str]


def shown(article: Article, language: str) -> Shown:
    chosen = pick_language(article.bodies_html, language, settings.LANGUAGE_CODE)
    body_html = article.bodies_html.get(chosen, "")
    return Shown(
        title=article.titles.get(chosen, "") or article.slug,
        html=body_html,
        description=Truncator(" ".join(html_to_text(body_html).split())).chars(DESCRIPTION_CHARS),
        language=chosen,
        is_fallback=chosen != language,
        languages=[code for code, _name in settings.LANGUAGES if code in article.bodies_html],
    )


def title(article: Article, language: str) -> str:
    return shown(article, language).title


def text_for_reply(article: Article, language: str) -> tuple[str, str]:
    """The article as plain text for a reply, and the language it is in."""
    chosen = pick_language(article.bodies_html, language, settings.LANGUAGE_CODE)
    heading = article.titles.get(chosen, "")
    text = plain_text(article.bodies_html.get(chosen, ""))
    return (f"{heading}\n\n{text}" if heading else text), chosen


def category_name(category: Category | None, language: str) -> str:
    if category is None:
        return _("Other articles")
    chosen = pick_language(category.names, language, settings.LANGUAGE_CODE)
    return category.names.get(chosen, "") or category.slug


def all_categories() -> QuerySet[Category]:
    """Categories are the help centre's headings, not secrets: anyone may list them."""
    return Category.objects.all()


# --- Finding ---------------------------------------------------------------------------------


def search_words(text: str) -> list[str]:
    """The words of ``text`` a search looks for: folded, without common words, in order."""
    words: list[str] = []
    for word in fold(text[:1000]).split():
        if len(word) > 1 and word not in STOP_WORDS and word not in words:
            words.append(word)
    return words[:SEARCH_MAX_WORDS]


def find_articles(actor: User | None, text: str, language: str, limit: int = 5) -> list[Article]:
    """Published articles ``actor`` may read whose words start like those of ``text``.

    Case and accents do not matter ("reponse" finds "Réponse"); each word matches the
    start of a word ("factur" finds "facturation"). The articles matching the most words
    come first, a word in the title counting more than one in the text, then the most
    recently published. Kept small on purpose: the search app can take its place.
    """
    words = search_words(text)
    if not words or limit < 1:
        return []
    any_word = Q()
    for word in words:
        any_word |= Q(search_text__contains=f" {word}")
    candidates = list(
        access.visible_articles(actor)
        .filter(status=ArticleStatus.PUBLISHED)
        .filter(any_word)
        .select_related("category")
        .order_by("-published_at")[:SEARCH_CANDIDATES]
    )

    def rank(article: Article) -> tuple[int, int]:
        in_title = f" {fold(title(article, language))} "
        matched = [word for word in words if f" {word}" in article.search_text]
        return len(matched), sum(2 for word in matched if f" {word}" in in_title)

    return sorted(candidates, key=rank, reverse=True)[:limit]
