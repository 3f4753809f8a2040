"""Knowledge base screens for the service team: the list (drafts included), the editor
with a preview, publishing; categories for admins.

Agents and admins write and publish articles; only admins delete them and shape the
categories (see :mod:`quietdesk.kb.services`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from quietdesk import access
from quietdesk.accounts.models import Role, User
from quietdesk.errors import ValidationFailed
from quietdesk.kb import services as kb
from quietdesk.kb.models import Article, Category, Visibility
from quietdesk.web.guards import admin_only, staff_only
from quietdesk.web.guards import signed_in_user as _me


def _languages() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in settings.LANGUAGES]


def _language() -> str:
    return get_language() or settings.LANGUAGE_CODE


@require_GET
@staff_only
def articles_list(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    language = _language()
    articles = access.manageable_articles(me).select_related("category", "author")
    rows = sorted(
        (
            (
                article,
                kb.shown(article, language),
                kb.category_name(article.category, language) if article.category else "",
            )
            for article in articles
        ),
        key=lambda row: (row[0].is_published, -row[0].updated_at.timestamp()),
    )
    categories = [(c, kb.category_name(c, language)) for c in kb.all_categories()]
    return render(
        request,
        "web/kb/manage.html",
        {
            "rows": rows,
            "categories": categories,
            "languages": dict(_languages()),
            "is_admin": me.role == Role.ADMIN,
        },
    )


@require_http_methods(["GET", "POST"])
@staff_only
def article_edit(request: HttpRequest, article_id: str | None = None) -> HttpResponse:
    """Write an article; "Preview" shows the posted texts as readers will, saving nothing."""
    me = _me(request)
    article = _article(me, article_id) if article_id else None
    errors: dict[str, str] = {}
    preview: list[tuple[str, str, str, str]] = []
    if request.method == "POST":
        post = request.POST
        shown = _posted(post)
        action = post.get("action", "save")
        if action == "preview":
            preview = [
                (code, name, shown["titles"].get(code, ""), kb.render_body(body))
                for code, name in _languages()
                if (body := shown["bodies"].get(code, "").strip())
            ]
            if not preview:
                messages.info(request, _("Write a text in at least one language to preview it."))
        else:
            category = kb.all_categories().filter(public_id=post.get("category", "")).first()
            data = kb.ArticleIn(
                slug=post.get("slug", ""),
                titles=shown["titles"],
                bodies=shown["bodies"],
                category=category,
                visibility=post.get("visibility", ""),
            )
            try:
                if post.get("category") and category is None:  # removed while the page was open
                    raise ValidationFailed(
                        {"category": _("This category no longer exists; choose another.")}
                    )
                saved = kb.save_article(actor=me, data=data, article=article)
            except ValidationFailed as refused:
                errors = {name: str(message) for name, message in refused.fields.items()}
                messages.error(request, _("The article was not saved: see the notes below."))
            else:
                if action == "publish":
                    kb.publish_article(actor=me, article=saved)
                    messages.success(request, _("Article saved and published."))
                else:
                    messages.success(request, _("Article saved."))
                return redirect("settings-kb-article", article_id=saved.public_id)
    else:
        shown = _shown(article)
    return render(
        request,
        "web/kb/article_edit.html",
        {
            "article": article,
            "shown": shown,
            "errors": errors,
            "preview": preview,
            "languages": _languages(),
            "categories": [(c, kb.category_name(c, _language())) for c in kb.all_categories()],
            "visibilities": Visibility.choices,
            "is_admin": me.role == Role.ADMIN,
        },
        status=422 if errors else 200,
    )


def _posted(post: QueryDict) -> dict[str, Any]:
    return {
        "slug": post.get("slug", ""),
        "category": post.get("category", ""),
        "visibility": post.get("visibility", Visibility.PUBLIC),
        "titles": {code: post.get(f"title-{code}", "") for code, _name in _languages()},
        "bodies": {code: post.get(f"body-{code}", "") for code, _name in _languages()},
    }


def _shown(article: Article | None) -> dict[str, Any]:
    if article is None:
        return {"visibility": Visibility.PUBLIC, "titles": {}, "bodies": {}}
    return {
        "slug": article.slug,
        "category": article.category.public_id if article.category else "",
        "visibility": article.visibility,
        "titles": article.titles,
        "bodies": article.bodies,
    }


@require_POST
@staff_only
def article_publish(request: HttpRequest, article_id: str) -> HttpResponse:
    me = _me(request)
    article = _article(me, article_id)
    if request.POST.get("unpublish"):
        kb.unpublish_article(actor=me, article=article)
        messages.success(request, _("The article is a draft again: readers no longer see it."))
    else:
        kb.publish_article(actor=me, article=article)
        messages.success(request, _("Article published."))
    return redirect("settings-kb-article", article_id=article.public_id)


@require_POST
@admin_only
def article_delete(request: HttpRequest, article_id: str) -> HttpResponse:
    me = _me(request)
    article = _article(me, article_id)
    kb.delete_article(actor=me, article=article)
    messages.success(request, _("Article “%(slug)s” deleted.") % {"slug": article.slug})
    return redirect("settings-kb")


def _article(me: User, article_id: str) -> Article:
    found = access.manageable_articles(me).filter(public_id=article_id).first()
    if found is None:
        raise Http404
    return found


# --- Categories (admins) ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@admin_only
def category_edit(request: HttpRequest, category_id: str | None = None) -> HttpResponse:
    me = _me(request)
    category = _category(category_id) if category_id else None
    errors: dict[str, str] = {}
    if request.method == "POST":
        post = request.POST
        shown: dict[str, Any] = {
            "slug": post.get("slug", ""),
            "position": post.get("position", "0"),
            "names": {code: post.get(f"name-{code}", "") for code, _name in _languages()},
        }
        try:
            position = max(0, min(int(post.get("position") or 0), 32767))
        except ValueError:
            position = 0
        try:
            kb.save_category(
                actor=me,
                data=kb.CategoryIn(slug=shown["slug"], names=shown["names"], position=position),
                category=category,
            )
        except ValidationFailed as refused:
            errors = {name: str(message) for name, message in refused.fields.items()}
            messages.error(request, _("The category was not saved: see the notes below."))
        else:
            messages.success(request, _("Category saved."))
            return redirect("settings-kb")
    elif category is not None:
        shown = {"slug": category.slug, "position": category.position, "names": category.names}
    else:
        shown = {"names": {}, "position": 0}
    return render(
        request,
        "web/kb/category_edit.html",
        {"category": category, "shown": shown, "errors": errors, "languages": _languages()},
        status=422 if errors else 200,
    )


@require_POST
@admin_only
def category_delete(request: HttpRequest, category_id: str) -> HttpResponse:
    me = _me(request)
    category = _category(category_id)
    kb.delete_category(actor=me, category=category)
    messages.success(request, _("Category deleted; its articles are kept without a category."))
    return redirect("settings-kb")


def _category(category_id: str) -> Category:
    found = kb.all_categories().filter(public_id=category_id).first()
    if found is None:
        raise Http404
    return found
