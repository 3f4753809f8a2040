"""Articles for the knowledge base tests: a published public one in both languages, one
in English only, an internal one, and a draft."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from quietdesk.kb import services as kb
from quietdesk.kb.models import Article, Category


@dataclass
class Library:
    category: Category
    invoices: Article  # public, published, en + fr
    export: Article  # public, published, en only
    refunds: Article  # internal, published
    draft: Article  # public, draft


def write(world, slug: str, titles: dict[str, str], bodies: dict[str, str], **options) -> Article:
    publish = options.pop("publish", True)
    article = kb.save_article(
        actor=world.agent,
        data=kb.ArticleIn(slug=slug, titles=titles, bodies=bodies, **options),
    )
    if publish:
        article = kb.publish_article(actor=world.agent, article=article)
    return article


@pytest.fixture
def library(world) -> Library:
    category = kb.save_category(
        actor=world.admin,
        data=kb.CategoryIn(slug="billing", names={"en": "Billing", "fr": "Facturation"}),
    )
    return Library(
        category=category,
        invoices=write(
            world,
            "invoice-address",
            {"en": "Change the address on an invoice", "fr": "Changer l'adresse d'une facture"},
            {
                "en": "Send us the **new address**; we reissue the invoice.",
                "fr": "Envoyez-nous la **nouvelle adresse** : nous rééditons la facture.",
            },
            category=category,
        ),
        export=write(
            world,
            "export-orders",
            {"en": "Export your orders"},
            {"en": "Ask us for a CSV export of your orders."},
        ),
        refunds=write(
            world,
            "refunds",
            {"en": "Refunding a double charge"},
            {"en": "Refund the second charge from the provider's dashboard."},
            visibility="internal",
            category=category,
        ),
        draft=write(
            world,
            "upcoming-prices",
            {"en": "Next year's prices"},
            {"en": "Secret pricing for the invoice of next year."},
            publish=False,
        ),
    )
