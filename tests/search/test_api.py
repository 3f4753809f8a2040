"""GET /api/v1/search: the query language over HTTP, errors in the API's one shape."""

from __future__ import annotations

from typing import Any

import pytest

from quietdesk.api.main import api
from tests.conftest import api_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(world: Any) -> Any:
    return api_client(world.agent)


def test_results_carry_the_ticket_the_match_and_the_count(
    world: Any, open_ticket: Any, client: Any
) -> None:
    ticket = open_ticket("Facture de mars", "Votre réponse <b>attendue</b>", team=world.support)
    response = client.get("/api/v1/search", {"q": "reponse"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 1 and body["count_is_exact"] is True
    assert body["next_cursor"] is None
    [item] = body["items"]
    assert item["ticket"]["id"] == ticket.public_id
    assert item["matched"] == "reply"
    assert item["message_id"] == ticket.opening_message.public_id
    assert item["snippet_html"] == "Votre <mark>réponse</mark> &lt;b&gt;attendue&lt;/b&gt;"


def test_pages_follow_the_cursor(world: Any, open_ticket: Any, client: Any) -> None:
    for index in range(3):
        open_ticket(f"Colis {index}", "colis")
    first = client.get("/api/v1/search", {"q": "colis", "limit": 2}).json()
    assert len(first["items"]) == 2
    second = client.get(
        "/api/v1/search", {"q": "colis", "limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    assert second["count"] == 3


@pytest.mark.parametrize(
    ("q", "words"),
    [
        ('"unclosed', "The quote at position 1 is never closed."),
        ("x" * 10_000, "The query is too long: at most 500 characters (it has 10000)."),
        ("- OR", "OR at position 3 needs something on both sides."),
        ("* - ()", "Nothing to search for"),
        ("-spam", "The query only excludes"),
        ("colis status:nope", "Unknown status nope at position 7"),
        ("colis\x01", "control character at position 6"),
        ("", "Nothing to search for"),
    ],
)
def test_a_query_that_cannot_be_understood_says_why(client: Any, q: str, words: str) -> None:
    response = client.get("/api/v1/search", {"q": q})
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "invalid_query"
    assert words in body["message"]
    assert body["details"] == [{"field": "q", "message": body["message"]}]


def test_a_nul_byte_is_refused_before_searching(client: Any) -> None:
    response = client.get("/api/v1/search?q=colis%00")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed"


def test_a_missing_query_names_the_field(client: Any) -> None:
    response = client.get("/api/v1/search")
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "q"


def test_a_bad_cursor_names_the_field(client: Any) -> None:
    response = client.get("/api/v1/search", {"q": "colis", "cursor": "!!"})
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "cursor"


def test_the_search_is_documented_in_the_openapi_schema() -> None:
    operation = api.get_openapi_schema()["paths"]["/api/v1/search"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert set(parameters) >= {"q", "order", "limit", "cursor"}
    assert "status:" in parameters["q"]["description"]
    assert "422" in {str(code) for code in operation["responses"]}
