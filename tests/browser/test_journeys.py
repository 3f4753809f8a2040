"""The main journeys of the workspace and the portal, end to end in a real browser.

Screenshots of each step go to tests/artifacts/; any console error, page error, dialog or
CSP violation fails the test.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail as django_mail
from playwright.sync_api import expect

from quietdesk.replies import services as replies
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_customer_asks_agent_answers_with_a_canned_reply_and_customer_reads_it(
    world, open_page, screenshot
):
    replies.save_reply(
        actor=world.admin,
        data=replies.CannedReplyIn(
            name="Export fixed",
            texts={"en": "Hello {{ customer.first_name }}, ticket {{ ticket.number }} is fixed."},
        ),
    )
    world.customer.name = "Ana Lima"
    world.customer.save()

    # The customer signs in with a link sent by email, no password.
    customer = open_page()
    customer.goto("/")
    customer.get_by_role("link", name="See my requests").click()
    customer.get_by_label("Email address").fill(world.customer.email)
    customer.get_by_role("button", name="Send me a sign-in link").click()
    expect(customer.get_by_role("heading", name="Check your inbox")).to_be_visible()
    link = re.search(r"https?://\S+/portal/sign-in/\S+", django_mail.outbox[-1].body)[0]
    customer.goto(link)
    screenshot(customer, "1-confirm-link")
    customer.get_by_role("button", name="Sign in").click()
    expect(customer.get_by_role("heading", name="My requests")).to_be_visible()

    # … and opens a request with a file.
    customer.get_by_role("link", name="New request").click()
    customer.get_by_label("Subject").fill("The export is empty")
    customer.get_by_label("What can we do for you?").fill("The CSV export has no rows.")
    customer.locator('input[type="file"]').set_input_files(
        {"name": "export.csv", "mimeType": "text/csv", "buffer": b"id,amount\n"}
    )
    customer.get_by_role("button", name="Send").click()
    expect(customer.get_by_text("Thank you. Your request is")).to_be_visible()
    number = re.search(r"#(\d+)", customer.get_by_text("Thank you.").inner_text())[1]
    screenshot(customer, "2-request-sent")

    # The agent sees it in the inbox, takes it, and answers with the canned reply.
    agent = open_page()
    sign_in(agent, world.agent.email)
    agent.get_by_role("link", name=re.compile("^Unassigned")).click()
    row = agent.get_by_role("row", name=re.compile("The export is empty"))
    expect(row).to_be_visible()
    screenshot(agent, "3-inbox")
    row.get_by_role("link", name="The export is empty").click()
    expect(agent.get_by_role("link", name="export.csv")).to_be_visible()
    agent.get_by_label("Canned reply").select_option(label="Export fixed")
    agent.get_by_role("button", name="Insert").click()
    composer = agent.get_by_label("Message")
    expect(composer).to_have_value(f"Hello Ana, ticket {number} is fixed.")
    expect(agent.get_by_role("status").filter(has_text="Inserted in English")).to_be_visible()
    agent.get_by_label("Then set the status to").select_option(label="Solved")
    screenshot(agent, "4-composer")
    agent.get_by_role("button", name="Send", exact=True).click()
    expect(agent.get_by_text("Reply sent.")).to_be_visible()
    expect(agent.locator(".ticket-head .status")).to_have_text("Solved")

    # The customer reads the answer in the portal; internal notes never show.
    customer.get_by_role("link", name="My requests").first.click()
    customer.get_by_role("link", name="The export is empty").click()
    expect(customer.get_by_text(f"Hello Ana, ticket {number} is fixed.")).to_be_visible()
    expect(customer.locator(".status").first).to_have_text("Solved")
    screenshot(customer, "5-answer-read")


def test_an_agent_ticks_tickets_saves_a_view_and_uses_the_keyboard(world, page, screenshot):
    from tests import factories

    for subject in ("Printer on fire", "Cannot log in", "Refund please"):
        factories.ticket(requester=world.customer, subject=subject, team=world.support)
    sign_in(page, world.agent.email)
    page.goto("/inbox/?view=teams")
    page.keyboard.press("j")
    expect(page.locator("td.subject a").first).to_be_focused()
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.get_by_label("With the ticked tickets").select_option(label="Assign to me")
    page.get_by_role("button", name="Apply to ticked").click()
    expect(page.get_by_text("2 tickets updated.")).to_be_visible()
    page.get_by_role("link", name=re.compile("^Mine")).click()
    expect(page.locator("tbody tr")).to_have_count(2)
    page.get_by_label("Save this view as").fill("My fires")
    page.get_by_role("button", name="Save view").click()
    expect(page.get_by_role("link", name="My fires")).to_have_attribute("aria-current", "page")
    screenshot(page, "saved-view")
