"""Take the README's screenshots (docs/img/) from a running Quietdesk with the demo data.

    make run                      # in one terminal (serves the demo on :8000)
    .venv/bin/python scripts/screenshots.py [--url http://127.0.0.1:8000]

Uses Debian's chromium (/usr/bin/chromium) through Playwright.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

OUT = Path(__file__).resolve().parents[1] / "docs" / "img"
PASSWORD = "quietdesk-demo"  # noqa: S105 - the demo logins, printed by make run


def sign_in(page: Page, email: str) -> None:
    page.goto("/login/")
    page.locator('input[name="username"]').fill(email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('form button[type="submit"]').click()
    page.wait_for_load_state()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox"]
        )
        options = {"base_url": args.url, "viewport": {"width": 1280, "height": 800}}

        agent = browser.new_context(
            **options, locale="en-GB", timezone_id="Europe/Paris"
        ).new_page()
        sign_in(agent, "camille@quietdesk.example")
        agent.goto("/inbox/?view=all")
        agent.screenshot(path=OUT / "inbox.png")
        agent.get_by_role("link", name="Le formulaire de contact n'envoie plus rien").click()
        agent.wait_for_load_state()
        agent.screenshot(path=OUT / "ticket.png")

        customer = browser.new_context(
            **options, locale="fr-FR", timezone_id="Europe/Paris"
        ).new_page()
        sign_in(customer, "marie@atelier-boreal.example")
        customer.goto("/portal/")
        customer.screenshot(path=OUT / "portal.png")
        customer.goto("/forms/change-request/?page=/contact&kind=design")
        customer.screenshot(path=OUT / "form.png")
        browser.close()
    for name in ("inbox", "ticket", "portal", "form"):
        print(OUT / f"{name}.png")


if __name__ == "__main__":
    main()
