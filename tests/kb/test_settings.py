"""The knowledge base screens of the service team: list, editor, preview, publishing."""

import pytest
from django.test import Client

from quietdesk.kb.models import Article, ArticleStatus, Category

pytestmark = pytest.mark.django_db


def signed_in(person) -> Client:
    client = Client(headers={"accept-language": "en"})
    client.force_login(person)
    return client


def article_post(**overrides) -> dict[str, str]:
    data = {
        "slug": "",
        "category": "",
        "visibility": "public",
        "title-en": "Reset your password",
        "body-en": "Open **Settings**, then *Password*.",
        "title-fr": "",
        "body-fr": "",
        "action": "save",
    }
    data.update(overrides)
    return data


def test_the_list_shows_drafts_to_agents_and_refuses_customers(world, library):
    html = signed_in(world.agent).get("/settings/kb/").content.decode()
    assert "Next year&#x27;s prices" in html and "Draft" in html
    assert "Refunding a double charge" in html
    assert 'href="/settings/kb/categories/new"' not in html  # admins arrange categories
    assert 'href="/settings/kb/"' in html  # the settings tab, for agents too
    assert 'href="/settings/hours/"' not in html  # other settings are admins'
    customer = signed_in(world.customer).get("/settings/kb/")
    assert customer.status_code == 302 and customer.url == "/portal/"
    assert Client().get("/settings/kb/").status_code == 302
    admin = signed_in(world.admin).get("/settings/kb/").content.decode()
    assert 'href="/settings/kb/categories/new"' in admin


def test_an_agent_writes_a_draft_then_publishes_it(world):
    agent = signed_in(world.agent)
    saved = agent.post("/settings/kb/new", article_post())
    article = Article.objects.get()
    assert saved.status_code == 302 and saved.url == f"/settings/kb/{article.public_id}/"
    assert article.slug == "reset-your-password"
    assert article.status == ArticleStatus.DRAFT and article.author == world.agent
    assert Client().get("/help/reset-your-password/").status_code == 404
    agent.post(f"/settings/kb/{article.public_id}/publish")
    article.refresh_from_db()
    assert article.is_published
    assert Client().get("/help/reset-your-password/").status_code == 200
    agent.post(f"/settings/kb/{article.public_id}/publish", {"unpublish": "1"})
    article.refresh_from_db()
    assert article.status == ArticleStatus.DRAFT


def test_save_and_publish_in_one_step(world):
    signed_in(world.agent).post("/settings/kb/new", article_post(action="publish"))
    assert Article.objects.get().is_published


def test_a_preview_shows_the_rendered_texts_and_saves_nothing(world):
    page = signed_in(world.agent).post(
        "/settings/kb/new",
        article_post(action="preview", **{"body-en": "Hello <script>x()</script>**bold**"}),
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "Preview (not saved)" in html and "<strong>bold</strong>" in html
    assert "<script>x()" not in html
    assert Article.objects.count() == 0


def test_refused_articles_keep_what_was_typed_and_name_each_problem(world):
    page = signed_in(world.agent).post(
        "/settings/kb/new", article_post(**{"title-fr": "Sans texte", "title-en": ""})
    )
    html = page.content.decode()
    assert page.status_code == 422
    assert "Write the text of this version, or remove its title." in html
    assert "Give this version a title, or remove its text." in html
    assert 'value="Sans texte"' in html
    assert Article.objects.count() == 0


def test_only_admins_delete_articles(world, library):
    url = f"/settings/kb/{library.draft.public_id}/delete"
    assert signed_in(world.agent).post(url).status_code == 403
    assert signed_in(world.admin).post(url).status_code == 302
    assert not Article.objects.filter(pk=library.draft.pk).exists()


def test_admins_create_and_remove_categories(world):
    admin = signed_in(world.admin)
    answer = admin.post(
        "/settings/kb/categories/new",
        {"slug": "", "name-en": "Getting started", "name-fr": "Premiers pas", "position": "3"},
    )
    assert answer.status_code == 302
    category = Category.objects.get()
    assert (category.slug, category.position) == ("getting-started", 3)
    assert signed_in(world.agent).get("/settings/kb/categories/new").status_code == 403
    refused = admin.post("/settings/kb/categories/new", {"slug": "getting-started"})
    assert refused.status_code == 422
    admin.post(f"/settings/kb/categories/{category.public_id}/delete")
    assert Category.objects.count() == 0
