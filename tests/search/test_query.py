from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quietdesk.search.query import (
    All,
    AnyOf,
    QueryError,
    Term,
    parse,
    to_fts5,
    to_tsquery,
)


def test_words_are_all_required() -> None:
    query = parse("facture mars")
    assert query.text == All((Term(("facture",)), Term(("mars",))))


def test_phrases_prefixes_exclusions_and_or() -> None:
    query = parse('"order 1042" factur* -spam (refund OR remboursement)')
    assert query.text == All(
        (
            Term(("order", "1042")),
            Term(("factur",), prefix=True),
            AnyOf((Term(("refund",)), Term(("remboursement",)))),
        ),
        (Term(("spam",)),),
    )


def test_compiled_for_each_backend() -> None:
    node = parse('"order 1042" factur* -spam').text
    assert node is not None
    assert to_fts5(node) == '(("order 1042" AND "factur" *) NOT "spam")'
    assert to_tsquery(node) == "(('order' <-> '1042') & ('factur':*) & !('spam'))"
    # Customers: the head and the body only, never the requesters' addresses and numbers.
    assert to_fts5(node, contacts=False) == "{head body} : " + to_fts5(node)
    assert to_tsquery(node, contacts=False) == (
        "(('order':AD <-> '1042':AD) & ('factur':*AD) & !('spam':AD))"
    )


def test_filters_are_taken_apart_from_words() -> None:
    query = parse('invoice status:open,pending -tag:spam org:"Acme Corp"')
    assert query.text == Term(("invoice",))
    assert [(f.name, f.values, f.negated) for f in query.filters] == [
        ("status", ("open", "pending"), False),
        ("tag", ("spam",), True),
        ("org", ("Acme Corp",), False),
    ]


def test_filters_alone_are_a_query() -> None:
    query = parse("status:open from:me")
    assert query.text is None
    assert len(query.filters) == 2


def test_a_colon_that_is_no_filter_is_text() -> None:
    assert parse("10:30").text == Term(("10", "30"))


def test_a_phone_number_also_matches_its_national_digits() -> None:
    node = parse("06.12.34.56.78").text
    assert isinstance(node, AnyOf)
    assert Term(("612345678",)) in node.choices


@pytest.mark.parametrize(
    ("query", "position", "words"),
    [
        ('"unclosed phrase', 1, "never closed"),
        ("facture (mars", 9, "never closed"),
        ("facture mars)", 13, "closes nothing"),
        ("OR facture", 1, "both sides"),
        ("facture OR", 9, "both sides"),
        ("-spam", 0, "only excludes"),
        ("f*", 1, "at least 2"),
        ("status:", 1, "needs a value"),
        ("status:open OR tag:x", 13, "cannot be combined"),
        ("(status:open)", 2, "must stand on its own"),
        ("-before:2024-01-01 x", 2, "cannot be excluded"),
        ("a OR -b", 7, "exclusion"),
        ("factures\x00", 9, "control character"),
        ("- OR * ()", 0, ""),
    ],
)
def test_mistakes_name_the_problem_and_where(query: str, position: int, words: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(query)
    assert caught.value.position == position
    assert words in str(caught.value.message)
    assert caught.value.fields["q"] == caught.value.message


def test_only_operators_say_there_is_nothing_to_search_for() -> None:
    with pytest.raises(QueryError, match="Nothing to search for"):
        parse('- * "" ()')


def test_a_very_long_query_is_refused_with_its_length() -> None:
    with pytest.raises(QueryError, match="at most 500 characters"):
        parse("a" * 10_000)


def test_too_many_words_are_refused() -> None:
    with pytest.raises(QueryError, match="too many words"):
        parse(" ".join(f"w{i}" for i in range(40)))


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(QueryError, match="nested"):
        parse("(" * 20 + "a" + ")" * 20)


@given(st.text(max_size=80))
def test_any_input_parses_or_explains_itself(source: str) -> None:
    try:
        query = parse(source)
    except QueryError as error:
        assert str(error.message)
    else:
        if query.text is not None:
            assert to_fts5(query.text)
            assert to_tsquery(query.text)
