from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from quietdesk.search.text import fold, fold_with_origins, phone_forms, query_tokens, tokens


def test_folding_drops_case_and_accents() -> None:
    assert fold("Réponse À L'ÉTÉ") == "reponse a l'ete"
    assert fold("Straße Œuvre Ærø") == "strasse oeuvre aero"
    assert fold("Ёлка ПРИВЕТ") == "елка привет"


def test_words_are_runs_of_letters_and_digits() -> None:
    assert tokens("Commande FR-2024-0042, n°7 !") == ["commande", "fr", "2024", "0042", "n", "7"]
    assert tokens("alice@example.com") == ["alice", "example", "com"]


def test_japanese_is_cut_into_bigrams_and_the_last_character() -> None:
    assert tokens("東京タワー") == ["東京", "京タ", "タワ", "ワー", "ー"]
    assert tokens("iPhone用") == ["iphone", "用"]


def test_a_query_word_becomes_the_tokens_a_document_has_there() -> None:
    assert query_tokens("京タワ").tokens == ("京タ", "タワ")
    single = query_tokens("京")
    assert single.tokens == ("京",) and single.prefix
    assert query_tokens("東京 hello").tokens == ("東京", "京", "hello")


def test_phone_numbers_share_their_national_digits() -> None:
    assert phone_forms("+33 6 12 34 56 78") == ["33612345678", "612345678"]
    assert "612345678" in phone_forms("06.12.34.56.78")


@given(st.text(max_size=60))
def test_folding_keeps_a_map_to_the_original(text: str) -> None:
    folded, origins = fold_with_origins(text)
    assert len(origins) == len(folded)
    assert all(0 <= i < len(text) for i in origins)
    assert origins == sorted(origins)
