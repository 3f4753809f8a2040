"""The agent workspace: inbox views, filters, bulk actions, saved views, the ticket page."""

import datetime as dt

import pytest
from django.core import mail as django_mail
from django.test import Client
from django.utils import timezone

from quietdesk.audit.models import AuditEvent
from quietdesk.sla import services as sla
from quietdesk.tickets import services
from quietdesk.tickets.files import InMemoryUpload
from quietdesk.tickets.models import SavedView, Ticket
from tests import factories

pytestmark = pytest.mark.django_db


def signed_in(person):
    client = Client()
    client.force_login(person)
    return client


def numbers(response) -> list[int]:
    return [t.number for t in response.context["tickets"]]


def support_ticket(world, subject="Printer on fire", **kwargs):
    return factories.ticket(requester=world.customer, team=world.support, subject=subject, **kwargs)


def test_the_inbox_views_hold_what_their_names_say_with_counts(world):
    mine = support_ticket(world, "Mine")
    services.assign(ticket=mine, actor=world.agent, assignee=world.agent)
    unassigned = support_ticket(world, "Nobody's")
    waiting = support_ticket(world, "Waiting")
    services.change_status(ticket=waiting, actor=world.agent, status="pending")
    solved = support_ticket(world, "Done")
    services.change_status(ticket=solved, actor=world.agent, status="solved")
    billing = factories.ticket(requester=world.customer, team=world.billing, subject="Billing")
    client = signed_in(world.agent)

    def view(name):
        return set(numbers(client.get("/inbox/", {"view": name})))

    assert view("mine") == {mine.number}
    assert view("unassigned") == {unassigned.number}
    assert view("teams") == {mine.number, unassigned.number, waiting.number}
    assert view("waiting") == {waiting.number}
    # "All" is everything this agent may see: the Billing team's ticket is not for them.
    assert view("all") == {mine.number, unassigned.number, waiting.number, solved.number}
    assert billing.number not in view("all")
    counts = {v.slug: n for v, n, _url in client.get("/inbox/").context["views"]}
    assert counts == {
        "mine": 1,
        "unassigned": 1,
        "teams": 3,
        "waiting": 1,
        "breaching": 0,
        "all": 4,
    }


def test_the_inbox_sorts_by_due_time_and_shows_breaching_tickets(world):
    sla.save_policy(
        actor=world.admin,
        data=sla.PolicyIn(name="Day", targets={"first_response": (8 * 3600, False)}),
    )
    later = support_ticket(world, "Later")
    sooner = support_ticket(world, "Sooner")
    sla.save_policy(
        actor=world.admin,
        data=sla.PolicyIn(
            name="Urgent",
            position=0,
            priorities=["urgent"],
            targets={"first_response": (3600, False)},
        ),
    )
    services.set_priority(ticket=sooner, actor=world.agent, priority="urgent")
    answered = support_ticket(world, "Answered")
    services.post_message(ticket=answered, author=world.agent, body="Done.", via="web")
    client = signed_in(world.agent)
    order = numbers(client.get("/inbox/", {"view": "teams"}))
    # Due in 1 h, then due in 8 h, then no running deadline.
    assert order == [sooner.number, later.number, answered.number]
    assert numbers(client.get("/inbox/", {"view": "breaching"})) == [sooner.number]


def test_filters_narrow_a_view_and_bad_values_explain_themselves(world):
    tagged = support_ticket(world, "Tagged")
    services.set_tags(ticket=tagged, actor=world.agent, tags=["vip", "export"])
    other = factories.ticket(requester=world.colleague, team=world.support, subject="Other")
    client = signed_in(world.agent)
    assert numbers(client.get("/inbox/", {"view": "all", "tag": "vip"})) == [tagged.number]
    assert numbers(
        client.get("/inbox/", {"view": "all", "requester": world.colleague.public_id})
    ) == [other.number]
    assert numbers(client.get("/inbox/", {"view": "all", "status": "solved"})) == []
    wrong = client.get("/inbox/", {"view": "all", "status": "sleeping"})
    assert wrong.status_code == 200
    assert "Unknown value sleeping." in wrong.content.decode()


def test_customers_are_sent_to_their_portal_and_strangers_to_sign_in(world):
    assert signed_in(world.customer).get("/inbox/").url == "/portal/"
    assert Client().get("/inbox/").url.startswith("/login/")


def test_bulk_actions_change_only_the_ticked_tickets_the_agent_may_see(world):
    first = support_ticket(world, "First")
    second = support_ticket(world, "Second")
    untouched = support_ticket(world, "Untouched")
    hidden = factories.ticket(requester=world.customer, team=world.billing, subject="Hidden")
    client = signed_in(world.agent)
    ticked = [first.public_id, second.public_id, hidden.public_id]
    response = client.post(
        "/inbox/bulk", {"ticket": ticked, "action": "assign_me", "return_query": "view=all"}
    )
    assert response.url == "/inbox/?view=all"
    client.post("/inbox/bulk", {"ticket": ticked, "action": "add_tag", "tag": "Batch"})
    client.post("/inbox/bulk", {"ticket": ticked, "action": "status", "status": "pending"})
    for ticket in (first, second):
        ticket.refresh_from_db()
        assert ticket.assignee == world.agent
        assert ticket.status == "pending"
        assert list(ticket.tags.values_list("name", flat=True)) == ["batch"]
    untouched.refresh_from_db()
    hidden.refresh_from_db()
    assert untouched.assignee is None and hidden.assignee is None
    assert not hidden.tags.exists()
    # A change the state machine refuses is reported per ticket, not a crash.
    refused = client.post(
        "/inbox/bulk",
        {"ticket": [first.public_id], "action": "status", "status": "closed"},
        follow=True,
    )
    assert f"#{first.number}:" in refused.content.decode()


def test_a_saved_view_keeps_filters_and_order_for_its_owner_only(world):
    client = signed_in(world.agent)
    response = client.post(
        "/inbox/views",
        {"name": "VIP first", "return_query": "view=all&tag=vip&sort=updated"},
    )
    saved = SavedView.objects.get(owner=world.agent)
    assert saved.query == "view=all&sort=updated&tag=vip"
    assert response.url == f"/inbox/?{saved.query}"
    page = client.get(response.url)
    assert page.context["query"].sort == "updated"
    assert "VIP first" in page.content.decode()
    assert (
        signed_in(world.other_agent).post(f"/inbox/views/{saved.public_id}/delete").status_code
        == 404
    )
    client.post(f"/inbox/views/{saved.public_id}/delete")
    assert not SavedView.objects.exists()
    empty = client.post("/inbox/views", {"name": " ", "return_query": "view=all"}, follow=True)
    assert "Give the view a name." in empty.content.decode()


def test_the_ticket_page_shows_the_whole_timeline_and_the_customers_history(world):
    earlier = support_ticket(world, "Earlier question")
    ticket = services.create_ticket(
        actor=None,
        requester=world.customer,
        subject="Invoice",
        body="Where is my invoice?",
        channel="email",
        team=world.support,
        channel_metadata={"quoted": "> an older message"},
        attachments=[InMemoryUpload("scan.pdf", b"%PDF-1.4", "application/pdf")],
    )
    services.post_message(
        ticket=ticket, author=world.agent, body="Checking with billing.", kind="note", via="web"
    )
    services.change_status(ticket=ticket, actor=world.agent, status="pending")
    page = signed_in(world.agent).get(f"/tickets/{ticket.public_id}/").content.decode()
    assert "Where is my invoice?" in page
    assert "Checking with billing." in page and "Internal note" in page
    assert "Show the quoted history" in page and "an older message" in page
    assert "scan.pdf" in page
    assert "changed the status from New to Waiting on customer" in page
    assert earlier.subject in page  # the requester's other tickets
    assert signed_in(world.other_agent).get(f"/tickets/{ticket.public_id}/").status_code == 404


def test_the_ticket_page_costs_the_same_queries_for_5_or_50_messages(
    world, django_assert_num_queries
):
    def page_queries(count):
        ticket = support_ticket(world, f"Long {count}")
        for index in range(count):
            services.post_message(
                ticket=ticket, author=world.customer, body=f"Message {index}", via="portal"
            )
        client = signed_in(world.agent)
        client.get(f"/tickets/{ticket.public_id}/")  # warm the session
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/tickets/{ticket.public_id}/").status_code == 200
        return len(queries)

    five = page_queries(5)
    assert five > 3  # the capture works: the page reads the ticket, messages, events…
    assert page_queries(50) == five


def test_the_inbox_costs_the_same_queries_for_3_or_30_tickets(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in(world.agent)

    def queries():
        from django.core.cache import cache

        cache.clear()  # count the views too, not the cached counts
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/inbox/", {"view": "all"}).status_code == 200
        return len(captured)

    for index in range(3):
        support_ticket(world, f"Few {index}")
    few = queries()
    assert few > 3
    for index in range(27):
        ticket = support_ticket(world, f"More {index}")
        services.set_tags(ticket=ticket, actor=world.agent, tags=[f"t{index}"])
    assert queries() == few


def test_replying_notes_status_and_files_from_the_composer(world):
    ticket = support_ticket(world, "Export")
    client = signed_in(world.agent)
    response = client.post(
        f"/tickets/{ticket.public_id}/reply",
        {
            "kind": "reply",
            "body": "Here is the export.",
            "then_status": "pending",
            "files": [_upload("export.csv", b"a,b\n1,2\n")],
        },
    )
    assert response.url == f"/tickets/{ticket.public_id}/"
    ticket.refresh_from_db()
    assert ticket.status == "pending"
    reply = ticket.messages.get(body_text="Here is the export.")
    assert reply.kind == "reply" and reply.attachments.get().filename == "export.csv"
    client.post(f"/tickets/{ticket.public_id}/reply", {"kind": "note", "body": "FYI"})
    assert ticket.messages.get(body_text="FYI").kind == "note"
    # An empty reply is refused and what was typed is not lost.
    refused = client.post(
        f"/tickets/{ticket.public_id}/reply", {"kind": "reply", "body": "   "}, follow=True
    )
    assert refused.status_code == 200
    assert ticket.messages.count() == 3


def test_the_properties_form_changes_status_team_assignee_priority_and_tags(world):
    ticket = support_ticket(world, "Move me")
    client = signed_in(world.admin)
    client.post(
        f"/tickets/{ticket.public_id}/update",
        {
            "status": "open",
            "team": world.support.public_id,
            "assignee": world.agent.public_id,
            "priority": "high",
            "tags": "Invoice, urgent-ish",
        },
    )
    ticket.refresh_from_db()
    assert (ticket.status, ticket.team, ticket.assignee, ticket.priority) == (
        "open",
        world.support,
        world.agent,
        "high",
    )
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["invoice", "urgent-ish"]
    assert AuditEvent.objects.filter(ticket=ticket, verb="ticket.priority_changed").exists()


def test_signing_in_stops_after_repeated_failures(world):
    client = Client()
    for _attempt in range(5):
        assert (
            client.post(
                "/login/", {"username": world.agent.email, "password": "wrong guess"}
            ).status_code
            == 200
        )
    blocked = client.post(
        "/login/", {"username": world.agent.email, "password": "correct horse battery staple"}
    )
    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.content.decode()
    other = Client().post(
        "/login/", {"username": world.admin.email, "password": "correct horse battery staple"}
    )
    assert other.status_code == 302  # another address is not blocked


def test_a_password_can_be_reset_by_email(world):
    response = Client().post("/password/reset/", {"email": world.agent.email})
    assert response.url == "/password/reset/sent/"
    assert len(django_mail.outbox) == 1
    body = django_mail.outbox[0].body
    link = next(line for line in body.splitlines() if "/password/reset/" in line)
    path = link.split("://", 1)[1].split("/", 1)[1]
    client = Client()
    form = client.get(f"/{path}", follow=True)
    assert form.context["validlink"]
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a much better secret 42", "new_password2": "a much better secret 42"},
    )
    assert done.url == "/password/reset/done/"
    assert Client().login(username=world.agent.email, password="a much better secret 42")


def _upload(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_due_times_show_in_the_agents_time_zone(world):
    sla.save_policy(
        actor=world.admin,
        data=sla.PolicyIn(name="Fast", targets={"first_response": (2 * 3600, False)}),
    )
    ticket = support_ticket(world, "Zones")
    world.agent.time_zone = "America/New_York"
    world.agent.save()
    page = signed_in(world.agent).get(f"/tickets/{ticket.public_id}/").content.decode()
    due = Ticket.objects.get(pk=ticket.pk).due_at
    assert due is not None and abs(due - timezone.now() - dt.timedelta(hours=2)) < dt.timedelta(
        minutes=1
    )
    from zoneinfo import ZoneInfo

    assert f'datetime="{due.astimezone(ZoneInfo("America/New_York")).isoformat()}"' in page


def test_a_canned_reply_is_inserted_into_the_composer_with_and_without_htmx(world):
    from quietdesk.replies import services as replies

    reply = replies.save_reply(
        actor=world.admin,
        data=replies.CannedReplyIn(
            name="Thanks",
            texts={
                "en": "Thanks {{ customer.first_name }}!",
                "fr": "Merci {{ customer.first_name }} !",
            },
        ),
    )
    world.customer.name = "Ana Lima"
    world.customer.language = "fr"
    world.customer.save()
    ticket = support_ticket(world, "Help")
    client = signed_in(world.agent)
    partial = client.post(
        f"/tickets/{ticket.public_id}/canned",
        {"canned": reply.public_id, "body": "Typed first."},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "Typed first.\n\nMerci Ana !" in partial
    assert "Inserted in French, the customer&#x27;s language." in partial
    # Without JavaScript the draft comes back on the ticket page.
    back = client.post(
        f"/tickets/{ticket.public_id}/canned", {"canned": reply.public_id, "body": ""}, follow=True
    )
    assert ">Merci Ana !</textarea>" in back.content.decode()


def test_admins_manage_canned_replies_from_the_settings(world):
    client = signed_in(world.admin)
    response = client.post(
        "/settings/replies/new",
        {
            "name": "Welcome",
            "team": "",
            "text_en": "Hello {{ customer.first_name }}",
            "text_fr": "",
        },
    )
    assert response.url == "/settings/replies/"
    assert "Welcome" in client.get("/settings/replies/").content.decode()
    wrong = client.post(
        "/settings/replies/new", {"name": "Bad", "text_en": "{{ nope }}", "text_fr": ""}
    )
    assert "Unknown placeholder" in wrong.content.decode()
    assert signed_in(world.agent).get("/settings/replies/").status_code == 403


def test_a_refused_status_change_does_not_send_the_reply_either(world):
    ticket = support_ticket(world, "Twice")
    client = signed_in(world.agent)
    refused = client.post(
        f"/tickets/{ticket.public_id}/reply",
        {"kind": "reply", "body": "Answer once.", "then_status": "closed"},
        follow=True,
    )
    assert not ticket.messages.filter(body_text="Answer once.").exists()
    assert ">Answer once.</textarea>" in refused.content.decode()  # the draft is kept


def test_saving_the_sidebar_keeps_an_assignee_who_left_the_team(world):
    ticket = support_ticket(world, "Keep me")
    services.assign(ticket=ticket, actor=world.agent, assignee=world.agent)
    world.support.members.remove(world.agent)
    client = signed_in(world.admin)
    page = client.get(f"/tickets/{ticket.public_id}/").content.decode()
    assert f'value="{world.agent.public_id}" selected' in page
    client.post(
        f"/tickets/{ticket.public_id}/update",
        {
            "status": ticket.status,
            "team": world.support.public_id,
            "assignee": world.agent.public_id,
            "priority": "high",
            "tags": "",
        },
    )
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.priority) == (world.agent, "high")


def test_a_successful_sign_in_resets_the_count_of_failures(world):
    client = Client()
    for _attempt in range(4):
        client.post("/login/", {"username": world.agent.email, "password": "wrong"})
    assert (
        client.post(
            "/login/", {"username": world.agent.email, "password": "correct horse battery staple"}
        ).status_code
        == 302
    )
    for _attempt in range(4):
        assert (
            Client()
            .post("/login/", {"username": world.agent.email, "password": "wrong"})
            .status_code
            == 200
        )


def test_a_long_thread_opens_folded_on_its_first_and_latest_messages(world, monkeypatch):
    from quietdesk.web import workspace

    monkeypatch.setattr(workspace, "FOLD_AFTER", 8)
    monkeypatch.setattr(workspace, "SHOWN_WHEN_FOLDED", 3)
    ticket = support_ticket(world, "Long", body="The very first message")
    for index in range(10):
        services.post_message(
            ticket=ticket, author=world.customer, body=f"Follow-up number {index}", via="portal"
        )
    client = signed_in(world.agent)
    page = client.get(f"/tickets/{ticket.public_id}/").content.decode()
    assert "The very first message" in page and "Follow-up number 9" in page
    assert "Follow-up number 6" not in page
    assert "Show 8 earlier entries" in page  # 7 messages and the assignment
    whole = client.get(f"/tickets/{ticket.public_id}/?whole=1").content.decode()
    assert all(f"Follow-up number {i}" in whole for i in range(10))


def test_pages_by_due_time_run_from_deadlines_into_tickets_without_one(world):
    from quietdesk.tickets.inbox import InboxQuery

    plain = [support_ticket(world, f"Plain {i}") for i in range(3)]
    sla.save_policy(
        actor=world.admin,
        data=sla.PolicyIn(name="Day", targets={"first_response": (8 * 3600, False)}),
    )
    timed = [support_ticket(world, f"Timed {i}") for i in range(3)]
    query = InboxQuery(view="teams")
    order = [timed[0].pk, timed[1].pk, timed[2].pk, plain[2].pk, plain[1].pk, plain[0].pk]
    for offset in range(6):
        assert query.page_ids(world.agent, offset=offset, limit=2) == order[offset : offset + 2]
    assert query.page_ids(world.agent, offset=6, limit=2) == []
