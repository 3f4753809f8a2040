"""Redis is the cache and channel layer at scale; it must work when configured."""

import os

import pytest
from asgiref.sync import async_to_sync

from tests.conftest import require_service


@pytest.fixture
def redis_url():
    url = os.environ.get("QUIETDESK_TEST_REDIS_URL", "")
    if not url:
        require_service("Redis", "set QUIETDESK_TEST_REDIS_URL (make test does)")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        require_service("Redis", f"{url} does not answer: {exc}")
    return url


def test_the_redis_cache_backend_stores_and_expires(redis_url, settings):
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    cache = RedisCache(redis_url, {"KEY_PREFIX": "quietdesk-test"})
    cache.set("greeting", {"text": "bonjour"}, timeout=30)
    assert cache.get("greeting") == {"text": "bonjour"}
    cache.delete("greeting")
    assert cache.get("greeting") is None
    assert caches["default"] is not None


def test_the_redis_channel_layer_delivers_group_messages(redis_url):
    from channels_redis.core import RedisChannelLayer

    layer = RedisChannelLayer(hosts=[redis_url], prefix="quietdesk-test")

    async def round_trip():
        channel = await layer.new_channel()
        await layer.group_add("ticket-42", channel)
        await layer.group_send("ticket-42", {"type": "ticket.updated", "status": "open"})
        message = await layer.receive(channel)
        await layer.group_discard("ticket-42", channel)
        await layer.flush()
        return message

    assert async_to_sync(round_trip)() == {"type": "ticket.updated", "status": "open"}
