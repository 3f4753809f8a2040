"""Hostile text in every field people can write, shown on every page that displays it.

Each payload is a classic way to run script (tags, event handlers, javascript: and
data: URLs, SVG, broken markup, template syntax). The browser watch (see conftest)
fails the test on any dialog, page error or Content-Security-Policy violation; the test
also checks that each payload shows as the text it is.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from quietdesk.accounts import services as accounts
from quietdesk.intake import services as intake
from quietdesk.kb import services as kb
from quietdesk.mail import services as mail_services
from quietdesk.ratings import services as ratings
from quietdesk.replies import services as replies
from quietdesk.tickets import services
from quietdesk.tickets.files import InMemoryUpload
from quietdesk.tickets.models import Channel, MessageKind
from quietdesk.tickets.states import Status
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

PAYLOADS = [
    '<script>alert("script")</script>',
    '"><img src=x onerror=alert("img")>',
    "javascript:alert('url')",
    '<a href="javascript:alert(1)">click</a>',
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    '<svg onload=alert("svg")>',
    "<svg><script>alert('svg-script')</script></svg>",
    "'';!--\"<XSS>=&{()}",
    '<iframe src="javascript:alert(`frame`)"></iframe>',
    "</textarea><script>alert('textarea')</script>",
    '<style>body{display:none}</style><div style="background:url(javascript:alert(2))">',
    "{{ 7*7 }}{% now 'Y' %}<!--",
]


def hostile(n: int) -> str:
    """A payload with a marker, so each field's text can be found on the page."""
    return f"x{n} {PAYLOADS[n % len(PAYLOADS)]}"


def test_no_field_runs_script_on_any_page(
    world, open_page, browser_problems, django_capture_on_commit_callbacks
):
    # Names people give themselves and their companies.
    world.customer.name = hostile(0)
    world.customer.save()
    world.acme.name = hostile(1)
    world.acme.save()
    accounts.update_team(
        actor=world.admin,
        team=world.support,
        name=hostile(2)[:100],
        slug="support",
        description=hostile(3),
        members=list(world.support.members.all()),
        calendar=None,
    )
    mailbox = mail_services.save_mailbox(
        actor=world.admin,
        data=mail_services.MailboxIn(
            address="help@quietdesk.example", name=hostile(7)[:100], team=world.support
        ),
    )
    # A form whose texts and answers are hostile.
    form = intake.save_form(
        actor=world.admin,
        data=intake.FormIn(
            slug="hostile",
            titles={"en": hostile(4)},
            intros={"en": hostile(5)},
            team=world.support,
            tags=[hostile(6)[:50].replace(",", ";")],
            fields=[
                intake.FieldIn(
                    key="line", kind="text", labels={"en": hostile(7)}, helps={"en": hostile(8)}
                ),
                intake.FieldIn(key="story", kind="long_text", labels={"en": hostile(9)}),
                intake.FieldIn(
                    key="pick",
                    kind="choice",
                    labels={"en": hostile(10)},
                    choices=[intake.ChoiceIn("a", {"en": hostile(11)})],
                ),
            ],
        ),
    )
    ticket = intake.submit(
        form,
        reader=world.customer,
        answers={"line": hostile(1), "story": hostile(0), "pick": "a"},
        uploads={},
        language="en",
    )
    services.post_message(
        ticket=ticket,
        author=world.customer,
        body=hostile(5),
        attachments=[InMemoryUpload(name=hostile(6)[:60] + ".txt", content=b"hi")],
        via=Channel.PORTAL,
    )
    services.post_message(
        ticket=ticket,
        author=world.agent,
        body="internal " + hostile(10),
        kind=MessageKind.NOTE,
        via=Channel.WEB,
    )
    services.post_message(ticket=ticket, author=world.agent, body=hostile(3), via=Channel.WEB)
    replies.save_reply(
        actor=world.admin,
        data=replies.CannedReplyIn(name=hostile(9)[:100], texts={"en": hostile(8)}),
    )
    # A knowledge base article written with hostile text, in Markdown and HTML.
    category = kb.save_category(
        actor=world.admin, data=kb.CategoryIn(slug="hostile", names={"en": hostile(1)})
    )
    article = kb.save_article(
        actor=world.agent,
        data=kb.ArticleIn(
            slug="hostile",
            titles={"en": hostile(2)},
            bodies={"en": "\n\n".join(hostile(n) for n in range(len(PAYLOADS)))},
            category=category,
        ),
    )
    kb.publish_article(actor=world.agent, article=article)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(ticket=ticket, actor=world.agent, status=Status.SOLVED)
    token = ratings.link_token(ticket)
    ratings.rate(token=token, score=1, comment=hostile(2))

    agent = open_page()
    sign_in(agent, world.admin.email)
    for path in (
        "/inbox/?view=all",
        f"/inbox/?view=all&tags={quote(hostile(6))}&requester={quote(hostile(0))}",
        f"/tickets/{ticket.public_id}/",
        "/settings/forms/",
        f"/settings/forms/{form.public_id}/",
        "/settings/replies/",
        "/settings/teams/",
        "/settings/agents/",
        f"/settings/teams/{world.support.public_id}/",
        f"/settings/agents/{world.agent.public_id}/",
        f"/settings/mailboxes/{mailbox.public_id}/",
        "/settings/mailboxes/",
        "/settings/kb/",
        f"/settings/kb/{article.public_id}/",
        f"/settings/kb/categories/{category.public_id}/",
        f"/tickets/{ticket.public_id}/articles?q={quote(hostile(2))}",
    ):
        response = agent.goto(path)
        assert response is not None and response.status < 400, path
    agent.goto(f"/tickets/{ticket.public_id}/")
    for text in (
        hostile(0),
        hostile(1),
        hostile(2),
        hostile(3),
        hostile(5),
        "internal " + hostile(10),
    ):
        expect(agent.get_by_text(text, exact=False).first).to_be_attached()

    customer = open_page()
    sign_in(customer, world.customer.email)
    for path in (
        "/portal/",
        f"/portal/requests/{ticket.public_id}/",
        f"/forms/{form.slug}/?line={quote(hostile(0))}&story={quote(hostile(9))}",
        f"/rate/{token}?score={quote(PAYLOADS[1])}",
        "/help/",
        f"/help/?q={quote(hostile(2))}",
        "/help/hostile/",
        f"/help/suggest?q={quote(hostile(2))}",
    ):
        response = customer.goto(path)
        assert response is not None and response.status < 400, path
    customer.goto("/help/hostile/")
    expect(customer.get_by_role("heading", name=hostile(2))).to_be_visible()
    customer.goto(f"/portal/requests/{ticket.public_id}/")
    expect(customer.get_by_text(hostile(3), exact=False).first).to_be_attached()
    expect(customer.get_by_text("internal x10", exact=False)).to_have_count(0)  # the note
    # A hostile form sent through the browser itself shows as text too.
    customer.goto(f"/forms/{form.slug}/")
    customer.get_by_label(hostile(7)).fill(hostile(11))
    customer.get_by_role("button", name="Send").click()
    expect(customer.get_by_text(hostile(11), exact=False).first).to_be_attached()
    # The rating pages, before and after sending a hostile comment.
    customer.goto(f"/rate/{token}?score=2")
    customer.get_by_label("A comment (optional)").fill(hostile(4))
    customer.get_by_role("button", name="Send my rating").click()
    expect(customer.get_by_role("heading", name="Thank you for your rating")).to_be_visible()

    # A visitor's refused and accepted forms show their own text back as text.
    visitor = open_page()
    browser_problems.allow(r"status of 422 .*/forms/hostile/")  # the refused send, below
    visitor.goto(f"/forms/{form.slug}/?email={quote(hostile(3))}&name={quote(hostile(0))}")
    visitor.get_by_label(hostile(9)).fill(hostile(6))
    visitor.get_by_role("button", name="Send").click()  # refused: the address is hostile
    expect(
        visitor.get_by_role("alert").filter(has_text="not a valid email address")
    ).to_be_visible()
    expect(visitor.get_by_label(hostile(9))).to_have_value(hostile(6))
    visitor.get_by_label("Your email address").fill("visitor@example.org")
    visitor.get_by_role("button", name="Send").click()
    expect(visitor.get_by_role("heading", name="Thank you, we have your request")).to_be_visible()
