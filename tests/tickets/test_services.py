import pytest
from django.db import transaction

from quietdesk.audit.models import AuditEvent
from quietdesk.errors import InvalidTransition, NotAllowed, TicketClosed, ValidationFailed
from quietdesk.tickets import services
from quietdesk.tickets.files import InMemoryUpload
from quietdesk.tickets.models import Blob, Channel, MessageKind, Ticket
from quietdesk.tickets.states import Status
from tests import factories

pytestmark = pytest.mark.django_db


def verbs(ticket):
    return list(
        AuditEvent.objects.filter(ticket=ticket).order_by("id").values_list("verb", flat=True)
    )


def test_a_customer_opens_a_ticket_with_a_first_message_and_an_audit_trail(world):
    ticket = services.create_ticket(
        actor=world.customer,
        subject="  Invoice\tmissing  ",
        body="Where is it?",
        channel=Channel.PORTAL,
    )
    assert ticket.subject == "Invoice missing"
    assert ticket.status == Status.NEW
    assert ticket.requester == world.customer
    assert ticket.organisation == world.acme
    assert ticket.number >= 1
    assert len(ticket.public_id) == 16
    [message] = ticket.messages.all()
    assert message.author == world.customer
    assert message.kind == MessageKind.REPLY
    assert verbs(ticket) == ["ticket.created", "message.posted"]


def test_ticket_numbers_increase_and_public_ids_are_unguessable(world):
    first = factories.ticket(requester=world.customer)
    second = factories.ticket(requester=world.customer)
    assert second.number == first.number + 1
    assert first.public_id != second.public_id
    assert str(first.number) not in first.public_id


def test_a_customer_cannot_open_a_ticket_for_someone_else(world):
    with pytest.raises(NotAllowed):
        services.create_ticket(
            actor=world.customer,
            requester=world.outsider,
            subject="x",
            body="y",
            channel=Channel.PORTAL,
        )


def test_a_customer_cannot_choose_team_assignee_or_tags(world):
    with pytest.raises(NotAllowed):
        services.create_ticket(
            actor=world.customer, subject="x", body="y", channel=Channel.PORTAL, tags=["vip"]
        )


def test_an_empty_subject_or_body_is_refused_with_the_field_named(world):
    with pytest.raises(ValidationFailed) as info:
        services.create_ticket(actor=world.customer, subject="   ", body="y", channel="portal")
    assert "subject" in info.value.fields
    with pytest.raises(ValidationFailed) as info:
        services.create_ticket(actor=world.customer, subject="x", body=" \n ", channel="portal")
    assert "body" in info.value.fields
    assert not Ticket.objects.exists()


def test_html_bodies_are_sanitised_and_give_a_text_version(world):
    ticket = services.create_ticket(
        actor=world.customer,
        subject="Hi",
        channel="portal",
        body_html='<p onclick="x()">Hello <b>there</b></p><script>alert(1)</script>'
        '<a href="javascript:alert(1)">link</a><form><input></form>',
    )
    message = ticket.messages.get()
    assert "script" not in message.body_html
    assert "onclick" not in message.body_html
    assert "javascript:" not in message.body_html
    assert "<form" not in message.body_html
    assert "<b>there</b>" in message.body_html
    assert message.body_text.startswith("Hello there")


def test_nul_bytes_and_control_characters_are_removed(world):
    ticket = services.create_ticket(
        actor=world.customer, subject="A\x00B", body="x\x00y\x07z", channel="portal"
    )
    assert ticket.subject == "AB"
    assert ticket.messages.get().body_text == "xyz"


def test_the_first_public_agent_reply_opens_the_ticket_and_marks_first_response(world):
    ticket = factories.ticket(requester=world.customer, team=world.support)
    note = services.post_message(
        ticket=ticket, author=world.agent, body="internal", kind=MessageKind.NOTE, via=Channel.WEB
    )
    ticket.refresh_from_db()
    assert ticket.first_response_at is None, "an internal note is not a response"
    assert note.is_public is False
    reply = services.post_message(ticket=ticket, author=world.agent, body="On it", via=Channel.WEB)
    ticket.refresh_from_db()
    assert ticket.first_response_at == reply.created_at
    assert ticket.status == Status.OPEN


@pytest.mark.parametrize("waiting", [Status.PENDING, Status.SOLVED])
def test_a_customer_reply_reopens_a_pending_or_solved_ticket(world, waiting):
    ticket = factories.ticket(requester=world.customer, team=world.support)
    services.change_status(ticket=ticket, actor=world.agent, status=Status.OPEN)
    services.change_status(ticket=ticket, actor=world.agent, status=waiting)
    services.post_message(
        ticket=ticket, author=world.customer, body="Still broken", via=Channel.EMAIL
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.solved_at is None
    event = AuditEvent.objects.filter(ticket=ticket, verb="ticket.status_changed").latest("id")
    assert event.before == {"status": waiting}
    assert event.after == {"status": "open", "reason": "customer_reply"}


def test_a_customer_reply_leaves_an_on_hold_ticket_on_hold(world):
    ticket = factories.ticket(requester=world.customer, team=world.support)
    services.change_status(ticket=ticket, actor=world.agent, status=Status.ON_HOLD)
    services.post_message(ticket=ticket, author=world.customer, body="Any news?", via="email")
    ticket.refresh_from_db()
    assert ticket.status == Status.ON_HOLD


def test_a_reply_to_a_closed_ticket_opens_a_linked_follow_up(world):
    ticket = factories.ticket(requester=world.customer, team=world.support, subject="Old issue")
    services.set_tags(ticket=ticket, actor=world.agent, tags=["website"])
    services.change_status(ticket=ticket, actor=world.agent, status=Status.SOLVED)
    services.change_status(ticket=ticket, actor=world.agent, status=Status.CLOSED)
    message = services.post_message(
        ticket=ticket, author=world.customer, body="It is back", via=Channel.EMAIL
    )
    follow_up = message.ticket
    assert follow_up.pk != ticket.pk
    assert follow_up.follow_up_of == ticket
    assert follow_up.subject == "Old issue"
    assert follow_up.team == world.support
    assert list(follow_up.tags.values_list("name", flat=True)) == ["website"]
    assert follow_up.status == Status.NEW
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert ticket.messages.count() == 1
    assert "ticket.followed_up" in verbs(ticket)


def test_a_note_on_a_closed_ticket_is_refused(world):
    ticket = factories.ticket(requester=world.customer, team=world.support)
    services.change_status(ticket=ticket, actor=world.agent, status=Status.SOLVED)
    services.change_status(ticket=ticket, actor=world.agent, status=Status.CLOSED)
    with pytest.raises(TicketClosed):
        services.post_message(ticket=ticket, author=world.agent, body="n", kind="note", via="web")
    with pytest.raises(TicketClosed):
        services.set_priority(ticket=ticket, actor=world.agent, priority="high")


def test_status_changes_stamp_solved_and_closed_times(world):
    ticket = factories.ticket(requester=world.customer, team=world.support)
    ticket = services.change_status(ticket=ticket, actor=world.agent, status=Status.SOLVED)
    assert ticket.solved_at is not None
    ticket = services.change_status(ticket=ticket, actor=world.agent, status=Status.OPEN)
    assert ticket.solved_at is None
    services.change_status(ticket=ticket, actor=world.agent, status=Status.SOLVED)
    ticket = services.change_status(ticket=ticket, actor=world.agent, status=Status.CLOSED)
    assert ticket.closed_at is not None
    with pytest.raises(TicketClosed):
        services.change_status(ticket=ticket, actor=world.agent, status=Status.OPEN)


def test_an_invalid_transition_changes_nothing(world):
    ticket = factories.ticket(requester=world.customer, team=world.support)
    before = verbs(ticket)
    with pytest.raises(InvalidTransition):
        services.change_status(ticket=ticket, actor=world.agent, status=Status.CLOSED)
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    assert verbs(ticket) == before


def test_a_customer_may_mark_their_own_request_solved_but_nothing_else(world):
    ticket = factories.ticket(requester=world.customer, team=world.support)
    with pytest.raises(NotAllowed):
        services.change_status(ticket=ticket, actor=world.customer, status=Status.PENDING)
    with pytest.raises(NotAllowed):
        services.change_status(ticket=ticket, actor=world.colleague, status=Status.SOLVED)
    ticket = services.change_status(ticket=ticket, actor=world.customer, status=Status.SOLVED)
    assert ticket.status == Status.SOLVED


def test_assigning_requires_a_member_of_the_team(world):
    ticket = factories.ticket(requester=world.customer, team=world.support)
    with pytest.raises(ValidationFailed) as info:
        services.assign(ticket=ticket, actor=world.admin, assignee=world.other_agent)
    assert "assignee" in info.value.fields
    with pytest.raises(ValidationFailed):
        services.assign(ticket=ticket, actor=world.admin, assignee=world.customer)
    ticket = services.assign(ticket=ticket, actor=world.admin, assignee=world.agent)
    assert ticket.assignee == world.agent
    event = AuditEvent.objects.filter(ticket=ticket, verb="ticket.assigned").latest("id")
    assert event.after == {"team": world.support.public_id, "assignee": world.agent.public_id}


def test_moving_to_another_team_drops_an_assignee_outside_it(world):
    ticket = factories.ticket(requester=world.customer, team=world.support)
    services.assign(ticket=ticket, actor=world.admin, assignee=world.agent)
    ticket = services.assign(ticket=ticket, actor=world.admin, team=world.billing)
    assert ticket.team == world.billing
    assert ticket.assignee is None


def test_an_agent_cannot_change_a_ticket_outside_their_teams(world):
    ticket = factories.ticket(requester=world.customer, team=world.billing)
    from quietdesk.errors import NotFound

    with pytest.raises(NotFound):
        services.set_priority(ticket=ticket, actor=world.agent, priority="high")


def test_tags_are_normalised_and_replaced(world):
    ticket = factories.ticket(requester=world.customer, team=world.support)
    services.set_tags(ticket=ticket, actor=world.agent, tags=["VIP", " vip ", "Website  Bug", ""])
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["vip", "website bug"]
    services.set_tags(ticket=ticket, actor=world.agent, tags=["billing"])
    assert list(ticket.tags.values_list("name", flat=True)) == ["billing"]
    with pytest.raises(ValidationFailed):
        services.set_tags(ticket=ticket, actor=world.agent, tags=["a,b"])
    assert verbs(ticket).count("ticket.tags_changed") == 2


def test_adding_and_removing_one_tag_keeps_the_others_even_from_a_stale_copy(world):
    ticket = factories.ticket(requester=world.customer, team=world.support)
    stale = Ticket.objects.get(pk=ticket.pk)  # another agent's page, loaded before any tag
    services.change_tags(ticket=ticket, actor=world.agent, add=["VIP", "website"])
    services.change_tags(ticket=stale, actor=world.agent, add=["refund"], remove=["Website"])
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["refund", "vip"]
    services.change_tags(ticket=ticket, actor=world.agent, remove=["absent"])
    assert verbs(ticket).count("ticket.tags_changed") == 2  # removing nothing changes nothing


def test_priority_changes_are_audited_and_checked(world):
    ticket = factories.ticket(requester=world.customer, team=world.support)
    services.set_priority(ticket=ticket, actor=world.agent, priority="urgent")
    with pytest.raises(ValidationFailed):
        services.set_priority(ticket=ticket, actor=world.agent, priority="whenever")
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"
    event = AuditEvent.objects.get(ticket=ticket, verb="ticket.priority_changed")
    assert (event.before, event.after) == ({"priority": "normal"}, {"priority": "urgent"})
    assert event.actor == world.agent


def test_customers_cannot_write_internal_notes(world):
    ticket = factories.ticket(requester=world.customer)
    with pytest.raises(NotAllowed):
        services.post_message(
            ticket=ticket, author=world.customer, body="x", kind="note", via="portal"
        )


def test_attachments_are_stored_once_by_content(world, settings):
    upload = InMemoryUpload("report.pdf", b"%PDF-1.4 same bytes", "application/pdf")
    first = factories.ticket(requester=world.customer, attachments=[upload])
    second = factories.ticket(
        requester=world.customer,
        attachments=[InMemoryUpload("../../etc/passwd", b"%PDF-1.4 same bytes", None)],
    )
    assert Blob.objects.count() == 1
    a1 = first.attachments.get()
    a2 = second.attachments.get()
    assert a1.blob == a2.blob
    import hashlib

    assert a1.blob.sha256 == hashlib.sha256(b"%PDF-1.4 same bytes").hexdigest()
    assert a1.blob.size == len(b"%PDF-1.4 same bytes")
    assert a2.filename == "passwd"
    assert a1.content_type == "application/pdf"


def test_an_attachment_over_the_limit_is_refused_and_nothing_is_saved(world, settings):
    from quietdesk.errors import TooLarge

    settings.ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(TooLarge):
        factories.ticket(
            requester=world.customer, attachments=[InMemoryUpload("big.bin", b"x" * 11)]
        )
    assert not Ticket.objects.exists()


def test_side_effects_run_after_commit_and_never_for_a_rolled_back_change(
    world, captured_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.ticket(requester=world.customer)
    assert [e.name for e in captured_events] == ["ticket.created"]
    captured_events.clear()

    class Boom(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        services.post_message(ticket=ticket, author=world.customer, body="x", via="portal")
        raise Boom
    assert captured_events == []
    assert ticket.messages.count() == 1


def test_a_refused_ticket_stores_no_file(world):
    upload = InMemoryUpload("plan.pdf", b"%PDF-1.4 refused", "application/pdf")
    with pytest.raises(ValidationFailed):
        services.create_ticket(
            actor=world.admin,
            requester=world.customer,
            subject="x",
            body="y",
            channel="api",
            assignee=world.customer,
            attachments=[upload],
        )
    assert not Blob.objects.exists()
