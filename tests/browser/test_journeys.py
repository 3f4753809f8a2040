"""The main journeys of the workspace and the portal, end to end in a real browser.

Screenshots of each step go to tests/artifacts/; any console error, page error, dialog or
CSP violation fails the test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core import mail as django_mail
from playwright.sync_api import expect

from quietdesk.intake import services as intake
from quietdesk.mail.models import Mailbox
from quietdesk.replies import services as replies
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_form_to_inbox_to_canned_reply_to_portal_to_solved_to_one_click_rating(
    world, open_page, screenshot
):
    """Customer sends a form → agent finds it → canned reply → customer reads it → solved →
    the customer rates with one click from the mail and confirms."""
    replies.save_reply(
        actor=world.admin,
        data=replies.CannedReplyIn(
            name="Export fixed",
            texts={"en": "Hello {{ customer.first_name }}, ticket {{ ticket.number }} is fixed."},
        ),
    )
    Mailbox.objects.create(address="help@quietdesk.example", team=world.support)
    intake.save_form(
        actor=world.admin,
        data=intake.FormIn(
            slug="exports",
            titles={"en": "A problem with an export"},
            team=world.support,
            fields=[
                intake.FieldIn(
                    key="report",
                    kind="choice",
                    labels={"en": "Which report?"},
                    required=True,
                    choices=[
                        intake.ChoiceIn("sales", {"en": "Sales"}),
                        intake.ChoiceIn("stock", {"en": "Stock"}),
                    ],
                ),
                intake.FieldIn(
                    key="summary", kind="text", labels={"en": "In one line"}, required=True
                ),
                intake.FieldIn(key="details", kind="long_text", labels={"en": "Details"}),
                intake.FieldIn(key="file", kind="file", labels={"en": "The file you got"}),
            ],
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

    # … picks the topic's form (a prefilled link would open it the same way) and sends it.
    customer.get_by_role("link", name="New request").click()
    customer.get_by_role("link", name="A problem with an export").click()
    customer.get_by_label("Which report?").select_option(label="Sales")
    customer.get_by_label("In one line").fill("The export is empty")
    customer.get_by_label("Details").fill("The CSV export has no rows.")
    customer.get_by_label("The file you got").set_input_files(
        {"name": "export.csv", "mimeType": "text/csv", "buffer": b"id,amount\n"}
    )
    screenshot(customer, "2-form")
    customer.get_by_role("button", name="Send").click()
    expect(customer.get_by_text("Thank you. Your request is")).to_be_visible()
    number = re.search(r"#(\d+)", customer.get_by_text("Thank you.").inner_text())[1]
    screenshot(customer, "3-request-sent")

    # The agent sees it in the inbox, reads the answers, downloads the file, and answers
    # with the canned reply.
    agent = open_page()
    sign_in(agent, world.agent.email)
    agent.get_by_role("link", name=re.compile("^My teams")).click()
    row = agent.get_by_role("row", name=re.compile("The export is empty"))
    expect(row).to_be_visible()
    screenshot(agent, "4-inbox")
    row.get_by_role("link", name=re.compile("The export is empty")).click()
    answers = agent.locator(".answers-box")
    expect(answers).to_contain_text("Which report?")
    expect(answers).to_contain_text("Sales")
    with agent.expect_download() as download:
        agent.get_by_role("link", name="export.csv").first.click()
    assert download.value.suggested_filename == "export.csv"
    assert Path(download.value.path()).read_bytes() == b"id,amount\n"
    agent.get_by_label("Canned reply").select_option(label="Export fixed")
    agent.get_by_role("button", name="Insert").click()
    composer = agent.get_by_label("Message")
    expect(composer).to_have_value(f"Hello Ana, ticket {number} is fixed.")
    expect(agent.get_by_role("status").filter(has_text="Inserted in English")).to_be_visible()
    screenshot(agent, "5-composer")
    agent.get_by_role("button", name="Send", exact=True).click()
    expect(agent.get_by_text("Reply sent.")).to_be_visible()

    # The customer reads the answer in the portal.
    customer.get_by_role("link", name="My requests").first.click()
    customer.get_by_role("link", name=re.compile("The export is empty")).click()
    expect(customer.get_by_text(f"Hello Ana, ticket {number} is fixed.")).to_be_visible()
    screenshot(customer, "6-answer-read")

    # The agent solves it; the customer gets a mail with one link per score.
    agent.reload()
    agent.locator(".sidebar select[name=status]").select_option(label="Solved")
    agent.locator(".sidebar").get_by_role("button", name="Save", exact=True).click()
    expect(agent.locator(".ticket-head .status")).to_have_text("Solved")
    asked = next(m for m in reversed(django_mail.outbox) if "/rate/" in m.body)
    happy = re.search(r"https?://[^/\s]+(/rate/\S+\?score=5)", asked.body)[1]
    rate_page = open_page()  # the mail client's browser, signed in to nothing
    rate_page.goto(happy)
    expect(rate_page.get_by_label("Very happy")).to_be_checked()
    rate_page.get_by_label("A comment (optional)").fill("Fast and clear, thank you.")
    screenshot(rate_page, "7-rating")
    rate_page.get_by_role("button", name="Send my rating").click()
    expect(rate_page.get_by_role("heading", name="Thank you for your rating")).to_be_visible()
    screenshot(rate_page, "8-rated")
    agent.reload()
    expect(agent.locator(".sidebar .rating")).to_contain_text("Very happy")
    expect(agent.locator(".sidebar .rating")).to_contain_text("Fast and clear")


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
