"""Writing, publishing, scoping and finding knowledge base articles."""

import pytest

from quietdesk import access
from quietdesk.audit.models import AuditEvent
from quietdesk.errors import NotAllowed, NotFound, ValidationFailed
from quietdesk.kb import services as kb
from quietdesk.kb.models import Article, ArticleStatus, Category

pytestmark = pytest.mark.django_db


def refused_fields(**data) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as refused:
        kb.save_article(actor=data.pop("actor"), data=kb.ArticleIn(**data))
    return refused.value.fields


# --- Validation ------------------------------------------------------------------------------


def test_an_article_needs_a_title_and_a_text_in_at_least_one_language(world):
    fields = refused_fields(actor=world.agent, slug="x", titles={}, bodies={"de": "Hallo"})
    assert set(fields) == {"texts"}


def test_each_language_needs_both_its_title_and_its_text(world):
    fields = refused_fields(
        actor=world.agent,
        slug="x",
        titles={"en": "Title", "fr": "Titre"},
        bodies={"en": "Text", "fr": "  "},
    )
    assert set(fields) == {"body-fr"}
    fields = refused_fields(
        actor=world.agent, slug="x", titles={"en": "Title"}, bodies={"en": "Text", "fr": "Texte"}
    )
    assert set(fields) == {"title-fr"}


def test_the_address_is_made_from_the_title_and_must_be_unique(world):
    article = kb.save_article(
        actor=world.agent,
        data=kb.ArticleIn(slug="", titles={"fr": "Réponse rapide"}, bodies={"fr": "Oui."}),
    )
    assert article.slug == "reponse-rapide"
    fields = refused_fields(
        actor=world.agent, slug="Réponse rapide", titles={"en": "Other"}, bodies={"en": "Text"}
    )
    assert fields == {"slug": "Another article has this address."}


def test_too_long_texts_an_unknown_visibility_and_a_gone_category_are_named(world):
    gone = Category(slug="gone", names={"en": "Gone"})  # never saved
    fields = refused_fields(
        actor=world.agent,
        slug="x",
        titles={"en": "T" * (kb.TITLE_MAX_CHARS + 1)},
        bodies={"en": "b" * (kb.BODY_MAX_CHARS + 1)},
        visibility="everyone",
        category=gone,
    )
    assert set(fields) == {"title-en", "body-en", "visibility", "category"}


def test_only_the_service_team_writes_articles_and_only_admins_delete_them(world, library):
    with pytest.raises(NotAllowed):
        kb.save_article(
            actor=world.customer,
            data=kb.ArticleIn(slug="x", titles={"en": "T"}, bodies={"en": "B"}),
        )
    with pytest.raises(NotAllowed):
        kb.publish_article(actor=world.customer, article=library.draft)
    with pytest.raises(NotAllowed):
        kb.delete_article(actor=world.agent, article=library.draft)
    kb.delete_article(actor=world.admin, article=library.draft)
    assert not Article.objects.filter(slug="upcoming-prices").exists()
    assert AuditEvent.objects.filter(verb="kb_article.deleted").count() == 1


def test_only_admins_arrange_categories_and_deleting_one_keeps_its_articles(world, library):
    with pytest.raises(NotAllowed):
        kb.save_category(actor=world.agent, data=kb.CategoryIn(slug="x", names={"en": "X"}))
    with pytest.raises(ValidationFailed) as refused:
        kb.save_category(actor=world.admin, data=kb.CategoryIn(slug="", names={"en": " "}))
    assert set(refused.value.fields) == {"names", "slug"}
    kb.delete_category(actor=world.admin, category=library.category)
    library.invoices.refresh_from_db()
    assert library.invoices.category is None


# --- Publishing --------------------------------------------------------------------------------


def test_a_new_article_is_a_draft_until_published_and_can_go_back(world):
    article = kb.save_article(
        actor=world.agent,
        data=kb.ArticleIn(slug="hours", titles={"en": "Opening hours"}, bodies={"en": "9 to 5"}),
    )
    assert article.status == ArticleStatus.DRAFT
    assert article.author == world.agent
    assert article.published_at is None
    kb.publish_article(actor=world.agent, article=article)
    article.refresh_from_db()
    assert article.is_published and article.published_at is not None
    kb.unpublish_article(actor=world.admin, article=article)
    article.refresh_from_db()
    assert article.status == ArticleStatus.DRAFT
    verbs = list(AuditEvent.objects.order_by("id").values_list("verb", flat=True))
    assert verbs[-3:] == ["kb_article.saved", "kb_article.published", "kb_article.unpublished"]


def test_the_text_is_rendered_from_markdown_and_sanitised(world):
    article = kb.save_article(
        actor=world.agent,
        data=kb.ArticleIn(
            slug="x",
            titles={"en": "<b>Title</b>"},
            bodies={
                "en": "# Heading\n\n- one\n- two\n\n<script>alert(1)</script>"
                '<img src=x onerror="alert(2)"> [bad](javascript:alert(3)) '
                '<a href="javascript:alert(4)">link</a> <iframe src="https://evil"></iframe>'
            },
        ),
    )
    html = article.bodies_html["en"]
    assert "<h1>Heading</h1>" in html and "<li>one</li>" in html
    for danger in ("<script", "onerror", 'href="javascript', "<iframe", "alert(1)"):
        assert danger not in html
    assert article.bodies["en"].startswith("# Heading")  # the source is kept as written


# --- Who sees what ----------------------------------------------------------------------------


def test_visitors_and_customers_see_published_public_articles_only(world, library):
    for reader in (None, world.customer):
        seen = set(access.visible_articles(reader).values_list("slug", flat=True))
        assert seen == {"invoice-address", "export-orders"}
        with pytest.raises(NotFound):
            access.get_article(reader, "upcoming-prices")
        with pytest.raises(NotFound):
            access.get_article(reader, "refunds")


def test_the_service_team_sees_every_article(world, library):
    for reader in (world.agent, world.other_agent, world.admin):
        assert access.visible_articles(reader).count() == 4
        assert access.get_article(reader, "upcoming-prices") == library.draft


def test_a_deactivated_agent_sees_what_a_visitor_sees(world, library):
    world.agent.is_active = False
    world.agent.save()
    assert access.visible_articles(world.agent).count() == 2


# --- Languages --------------------------------------------------------------------------------


def test_a_reader_gets_their_language_else_the_other_one_with_a_flag(world, library):
    in_french = kb.shown(library.invoices, "fr")
    assert in_french.title == "Changer l'adresse d'une facture"
    assert not in_french.is_fallback
    assert in_french.languages == ["en", "fr"]
    english_only = kb.shown(library.export, "fr")
    assert english_only.title == "Export your orders"
    assert english_only.language == "en" and english_only.is_fallback
    assert "<strong>nouvelle adresse</strong>" in in_french.html
    assert in_french.description == "Envoyez-nous la nouvelle adresse : nous rééditons la facture."


def test_the_text_for_a_reply_is_plain_with_bullets_and_link_addresses(world):
    article = kb.save_article(
        actor=world.agent,
        data=kb.ArticleIn(
            slug="x",
            titles={"en": "Steps"},
            bodies={"en": "- First\n- Second\n\nSee [the guide](https://example.org/guide)."},
        ),
    )
    text, language = kb.text_for_reply(article, "fr")
    assert language == "en"
    assert text.startswith("Steps\n\n")
    assert "• First" in text and "• Second" in text
    assert "the guide (https://example.org/guide)" in text
    assert "<" not in text


# --- Finding ----------------------------------------------------------------------------------


def test_finding_ignores_case_and_accents_and_matches_word_starts(world, library):
    for text in ("FACTURE", "reeditons", "factur", "Rééd?"):
        found = kb.find_articles(world.customer, text, "fr")
        assert found == [library.invoices], text
    assert kb.find_articles(world.customer, "dress", "en") == []  # not a word's start


def test_finding_only_returns_published_articles_the_reader_may_see(world, library):
    assert kb.find_articles(None, "invoice", "en") == [library.invoices]  # not the draft
    assert kb.find_articles(world.customer, "refund charge", "en") == []
    assert kb.find_articles(world.agent, "refund charge", "en") == [library.refunds]


def test_articles_matching_more_words_and_in_their_title_come_first(world, library):
    found = kb.find_articles(world.agent, "charge invoice address", "en")
    assert found[0] == library.invoices  # two words, in the title
    assert set(found) == {library.invoices, library.refunds}
    assert kb.find_articles(world.agent, "invoice", "en", limit=1) == [library.invoices]


def test_common_words_empty_text_and_odd_input_find_nothing(world, library):
    for text in ("", "   ", "the and of", "le la les", "\x00", "?!"):
        assert kb.find_articles(world.agent, text, "en") == []
    assert kb.search_words("Où est ma facture ? facture") == ["facture"]
    assert len(kb.search_words(" ".join(f"word{n}" for n in range(50)))) == kb.SEARCH_MAX_WORDS
