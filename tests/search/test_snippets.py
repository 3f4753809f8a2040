"""Highlighting: whole words, prefixes and CJK substrings, marked in the original text."""

from __future__ import annotations

from quietdesk.search.query import parse
from quietdesk.search.snippets import Needles, highlight, snippet
from quietdesk.search.text import MAX_TOKEN_CHARS


def needles(q: str) -> Needles:
    return Needles.of(parse(q).terms())


def test_a_word_is_marked_only_where_it_is_a_whole_word() -> None:
    marked = highlight("Facture, factures, préfacture, FACTURE2, facture_2", needles("facture"))
    assert marked == (
        "<mark>Facture</mark>, factures, préfacture, FACTURE2, <mark>facture</mark>_2"
    )  # "_" separates words, as when the text is indexed


def test_a_prefix_marks_every_word_starting_with_it() -> None:
    marked = highlight("Factures et facturation, pas préfacture.", needles("factur*"))
    assert marked == "<mark>Factures</mark> et <mark>facturation</mark>, pas préfacture."


def test_accents_and_case_are_ignored_and_the_original_is_shown() -> None:
    assert highlight("La RÉPONSE arrive", needles("reponse")) == "La <mark>RÉPONSE</mark> arrive"


def test_a_word_beside_cjk_characters_is_still_found() -> None:
    assert highlight("commande東京", needles("commande")) == "<mark>commande</mark>東京"
    assert highlight("東京タワー", needles("京タ")) == "東<mark>京タ</mark>ワー"


def test_a_very_long_word_is_found_by_its_first_characters() -> None:
    long = "a" * (MAX_TOKEN_CHARS + 15)
    assert snippet(f"x {long} y", needles(long)) == f"x <mark>{long}</mark> y"


def test_html_is_escaped_around_the_marks() -> None:
    assert highlight("<b>colis</b>", needles("colis")) == "&lt;b&gt;<mark>colis</mark>&lt;/b&gt;"
