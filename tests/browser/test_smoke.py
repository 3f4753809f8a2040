"""The main journeys through a real browser against the live server.

Every page is watched: a console error, page error, dialog or CSP violation fails the
test unless it allows it (``browser_problems.allow``).
"""

from __future__ import annotations

import json
import re
import zoneinfo

import pytest
from django.utils import formats
from playwright.sync_api import expect

from quietdesk.tickets.files import InMemoryUpload
from tests import factories
from tests.browser.conftest import PHONE, sign_in

pytestmark = pytest.mark.browser


def ticket_rows(page):
    return page.get_by_role("row").filter(has=page.get_by_role("cell"))


def test_an_agent_sees_the_tickets_of_their_team_and_signs_out(
    world, live_server, page, screenshot
):
    factories.ticket(requester=world.customer, subject="Invoice is wrong", team=world.billing)
    factories.ticket(requester=world.customer, subject="Printer on fire", team=world.support)
    factories.ticket(requester=world.outsider, subject="Cannot log in", team=world.support)

    sign_in(page, world.agent.email)

    expect(page).to_have_url(f"{live_server.url}/inbox/")
    page.get_by_role("link", name=re.compile(r"^My teams")).click()
    expect(ticket_rows(page)).to_have_count(2)
    expect(ticket_rows(page).nth(0)).to_contain_text("Cannot log in")
    expect(ticket_rows(page).nth(1)).to_contain_text("Printer on fire")
    expect(page.get_by_text("Invoice is wrong")).to_have_count(0)
    expect(page.get_by_role("navigation", name="Main navigation")).to_contain_text(
        world.agent.display_name
    )
    screenshot(page, "inbox")

    page.get_by_role("button", name="Sign out").click()

    expect(page.get_by_role("link", name="Team sign-in").first).to_be_visible()
    expect(page.get_by_text("Printer on fire")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    screenshot(page, "signed-out")


def test_an_agent_reads_ticket_times_in_their_own_time_zone(world, page):
    ticket = factories.ticket(requester=world.customer, team=world.support)
    in_paris = ticket.created_at.astimezone(zoneinfo.ZoneInfo(world.agent.time_zone))

    sign_in(page, world.agent.email)
    page.goto(f"/tickets/{ticket.public_id}/")

    written = page.locator(".entry.message time").first
    expect(written).to_be_visible()
    assert written.inner_text() == formats.date_format(in_paris, "DATETIME_FORMAT")


def test_a_customer_sees_only_their_own_tickets_and_a_wrong_password_is_refused(
    world, page, screenshot
):
    # Globex does not share tickets between its contacts.
    factories.ticket(requester=world.outsider, subject="My own request")
    factories.ticket(requester=world.outsider_colleague, subject="A colleague's request")
    factories.ticket(requester=world.customer, subject="Another company's request")

    sign_in(page, world.outsider.email, password="not the password")

    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct email address")
    expect(page.get_by_label("Email address")).to_have_value(world.outsider.email)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    screenshot(page, "wrong-password")

    sign_in(page, world.outsider.email)

    expect(page.get_by_role("heading", name="My requests")).to_be_visible()
    expect(ticket_rows(page)).to_have_count(1)
    expect(ticket_rows(page).first).to_contain_text("My own request")
    screenshot(page, "home")


def test_the_api_docs_render_swagger_ui_under_the_strict_csp(page, screenshot):
    response = page.goto("/api/v1/docs")

    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    expect(page.get_by_role("heading", name=re.compile("Quietdesk API"))).to_be_visible()
    expect(page.get_by_text("Open a ticket", exact=True)).to_be_visible()

    page.get_by_text("List tickets you can see").click()

    expect(page.get_by_role("button", name="Try it out")).to_be_visible()
    expect(page.get_by_role("heading", name="Parameters")).to_be_visible()
    screenshot(page, "docs")


def test_the_api_docs_resolve_every_schema_they_refer_to(page):
    document = page.request.get("/api/v1/openapi.json").json()
    defined = set(document["components"]["schemas"])
    referred = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(document)))
    assert referred <= defined, f"undefined schemas: {sorted(referred - defined)}"

    page.goto("/api/v1/docs")
    page.get_by_text("List tickets you can see").click()
    expect(page.locator(".response[data-code='422']")).to_be_visible()
    errors = page.locator(".errors-wrapper")
    assert errors.count() == 0, errors.inner_text()


def test_an_attachment_downloads_for_its_requester_and_is_not_found_for_another_company(
    world, open_page, browser_problems, screenshot
):
    ticket = factories.ticket(
        requester=world.customer,
        subject="Printer on fire",
        attachments=[InMemoryUpload("smoke.txt", b"it smells of toner", "text/plain")],
    )
    url = f"/attachments/{ticket.attachments.get().public_id}/download"

    anonymous = open_page().request.get(url, max_redirects=0)
    assert anonymous.status == 302
    assert anonymous.headers["location"].startswith("/login/?next=")

    requester = open_page()
    sign_in(requester, world.customer.email)
    expect(requester.get_by_role("heading", name="My requests")).to_be_visible()
    response = requester.request.get(url)
    assert response.status == 200
    assert response.body() == b"it smells of toner"
    assert response.headers["content-disposition"].startswith("attachment;")
    requester.get_by_role("link", name="Printer on fire").click()
    with requester.expect_download() as download_info:
        requester.get_by_role("link", name="smoke.txt").click()
    download = download_info.value
    assert download.suggested_filename == "smoke.txt"
    assert download.failure() is None
    screenshot(requester, "requester")

    outsider = open_page()
    sign_in(outsider, world.outsider.email)
    expect(outsider.get_by_role("heading", name="My requests")).to_be_visible()
    assert outsider.request.get(url).status == 404
    browser_problems.allow(r"^console error: Failed to load resource: .* 404 .*/download:")
    response = outsider.goto(url)
    assert response is not None
    assert response.status == 404
    expect(outsider.get_by_text("Printer on fire")).to_have_count(0)
    screenshot(outsider, "outsider-not-found")


@pytest.mark.parametrize("who", ["anonymous", "agent"])
def test_the_start_page_and_inbox_fit_a_phone_without_horizontal_scrolling(
    who, world, open_page, screenshot
):
    for subject in ["Printer on fire", "Refund for order 18-2207 never arrived", "Cannot log in"]:
        factories.ticket(requester=world.customer, subject=subject, team=world.support)
    page = open_page(**PHONE)
    if who == "agent":
        sign_in(page, world.agent.email)
        page.goto("/inbox/?view=teams")
        expect(ticket_rows(page)).to_have_count(3)
    else:
        page.goto("/")
        expect(page.get_by_role("link", name="Team sign-in").first).to_be_visible()

    widths = page.evaluate(
        "({viewport: window.innerWidth, content: document.documentElement.scrollWidth})"
    )
    screenshot(page, "home")
    assert widths["viewport"] == PHONE["viewport"]["width"], "the viewport meta tag is honoured"
    assert widths["content"] <= widths["viewport"], f"the page scrolls sideways: {widths}"


def test_pages_link_a_favicon_that_exists(page):
    page.goto("/")

    icons = page.locator("link[rel~='icon']")
    assert icons.count() == 1  # the document has loaded: no need to wait for it
    assert page.request.get(icons.get_attribute("href") or "").ok


def test_the_browser_watch_catches_csp_violations_page_errors_and_dialogs(page, browser_problems):
    """The watch itself: a quiet page must be quiet because nothing went wrong."""
    page.route(
        "**/watch-probe",
        lambda route: route.fulfill(
            content_type="text/html",
            headers={"Content-Security-Policy": "script-src 'self'"},
            body="<p>probe</p><script>document.title = 'inline ran';</script>"
            '<script src="/watch-probe.js"></script>',
        ),
    )
    page.route(
        "**/watch-probe.js",
        lambda route: route.fulfill(
            content_type="text/javascript",
            body="console.error('oops'); alert('hello'); throw new Error('boom');",
        ),
    )

    page.goto("/watch-probe")
    expect(page.get_by_text("probe")).to_be_visible()
    assert page.title() != "inline ran"
    browser_problems.collect()

    problems = "\n".join(browser_problems.problems)
    assert re.search(r"CSP violation: script-src-elem blocked inline", problems), problems
    assert "console error: oops" in problems
    assert "dialog alert: hello" in problems
    assert "page error: boom" in problems
    browser_problems.allow(".")
