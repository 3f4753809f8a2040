"""Exit 0 when the named service answers at the given URL, 1 otherwise (with the reason)."""

import sys


def postgres(url: str) -> None:
    import psycopg

    with psycopg.connect(url, connect_timeout=3) as conn:
        conn.execute("SELECT 1")


def redis(url: str) -> None:
    import redis as redis_client

    redis_client.Redis.from_url(url, socket_connect_timeout=3).ping()


if __name__ == "__main__":
    service, url = sys.argv[1], sys.argv[2]
    try:
        {"postgres": postgres, "redis": redis}[service](url)
    except Exception as exc:
        print(f"{service} not reachable at {url}: {exc}", file=sys.stderr)
        sys.exit(1)
