"""The same answers through the ASGI (async) request path that uvicorn serves."""

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from quietdesk.accounts.services import create_api_token
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.anyio]


@pytest.fixture
def anyio_backend():
    return "asyncio"


async def test_pages_follow_the_reader_through_the_async_stack(world):
    await sync_to_async(factories.ticket)(requester=world.customer, subject="Horaires")
    world.customer.language = "fr"
    await world.customer.asave()
    client = AsyncClient()
    await client.aforce_login(world.customer)
    response = await client.get("/portal/", headers={"accept-language": "en"})
    assert response.status_code == 200
    assert response["Content-Language"] == "fr"
    assert "Mes demandes" in response.content.decode()


async def test_the_api_guard_answers_in_json_through_the_async_stack(world):
    _token, secret = await sync_to_async(create_api_token)(
        actor=None, user=world.admin, name="asgi"
    )
    client = AsyncClient()
    auth = {"authorization": f"Bearer {secret}"}
    nul = await client.get("/api/v1/tickets?requester=%00", headers=auth)
    assert (nul.status_code, nul.json()["code"]) == (400, "malformed")
    missing = await client.get("/api/v1/no-such-thing", headers=auth)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    wrong_method = await client.delete("/api/v1/tickets", headers=auth)
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "method_not_allowed"
    listed = await client.get("/api/v1/tickets", headers=auth)
    assert listed.status_code == 200
    assert listed.json()["items"] == []


async def test_the_served_application_answers_api_calls_and_streams_downloads(world):
    """Through ``quietdesk.asgi.application``, the exact app uvicorn serves."""
    import httpx

    from quietdesk.asgi import application

    _token, secret = await sync_to_async(create_api_token)(
        actor=None, user=world.admin, name="served"
    )
    payload = bytes(range(256)) * 800  # 200 KB: sent in several chunks
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver",
        headers={"authorization": f"Bearer {secret}"},
    ) as client:
        health = await client.get("/healthz")
        assert health.status_code == 200
        created = await client.post(
            "/api/v1/tickets",
            data={
                "subject": "Invoice",
                "body": "See attached",
                "requester": world.customer.public_id,
            },
            files={"attachments": ("data.bin", payload, "application/octet-stream")},
        )
        assert created.status_code == 201, created.text
        ticket = created.json()
        read = await client.get(f"/api/v1/tickets/{ticket['id']}")
        assert read.json()["subject"] == "Invoice"
        messages = (await client.get(f"/api/v1/tickets/{ticket['id']}/messages")).json()
        url = messages["items"][0]["attachments"][0]["download_url"]
        download = await client.get(url)
        assert download.status_code == 200
        assert download.content == payload
        assert download.headers["content-disposition"].startswith("attachment;")
        bad = await client.post(
            "/api/v1/tickets",
            content=b'{"subject": 1',
            headers={"content-type": "application/json"},
        )
        assert bad.status_code == 422
        assert bad.json()["code"] == "invalid"
