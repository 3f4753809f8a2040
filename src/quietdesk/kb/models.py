"""The knowledge base: articles, grouped in categories, that answer common questions.

An article holds one version per language (``{"en": …, "fr": …}``) of its title and its
text. The text is written as Markdown, where plain paragraphs are plain text and HTML is
allowed; what readers get is rendered once, when the article is saved, and passed
through the same sanitiser as mail (``bodies_html``). ``search_text`` keeps every
version's words folded (lower case, no accents) so that a plain ``LIKE`` finds
"reponse" in "Réponse" on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from quietdesk.ids import new_public_id


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    INTERNAL = "internal", _("Internal (service team only)")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class Category(models.Model):
    """A heading of the help centre, named in each language."""

    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    slug = models.SlugField(_("address"), max_length=60, unique=True)
    names = models.JSONField(_("names"), default=dict)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        ordering = ("position", "slug")
        verbose_name = _("article category")
        verbose_name_plural = _("article categories")

    def __str__(self) -> str:
        return self.slug


class Article(models.Model):
    """One answer, in one or more languages; readers see it once published."""

    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    slug = models.SlugField(_("address"), max_length=80, unique=True)
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles",
    )
    titles = models.JSONField(_("titles"), default=dict)
    #: What the author wrote, per language (Markdown, HTML allowed).
    bodies = models.JSONField(_("texts"), default=dict)
    #: ``bodies`` rendered and sanitised, per language: what pages show.
    bodies_html = models.JSONField(default=dict, editable=False)
    #: Every title and text, folded to lower case without accents, words separated by
    #: single spaces and framed by spaces (so `` word`` matches a word's start).
    search_text = models.TextField(default="", editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    visibility = models.CharField(
        _("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="kb_articles",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    class Meta:
        ordering = ("category__position", "slug")
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        indexes: ClassVar = [
            models.Index(fields=["status", "visibility"], name="kb_article_status_vis")
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_published(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC
