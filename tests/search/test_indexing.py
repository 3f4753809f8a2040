"""The index follows every change in the same transaction; reindexing is idempotent."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from quietdesk.accounts import services as accounts
from quietdesk.search import indexing
from quietdesk.search.backends import IndexedText, backend
from quietdesk.search.models import AttachmentText, Document, ExtractionStatus
from quietdesk.search.text import tokens
from quietdesk.tickets import services
from quietdesk.tickets.files import InMemoryUpload
from quietdesk.tickets.models import Ticket
from tests.search.conftest import found

pytestmark = pytest.mark.django_db


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF showing ``text`` in Helvetica (ASCII only)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def test_a_message_is_searchable_as_soon_as_its_transaction_commits(
    world: Any, open_ticket: Any
) -> None:
    ticket = open_ticket("Parcel", "Where is it?")
    services.post_message(
        ticket=ticket, author=world.customer, body="Still waiting, zebra", via="portal"
    )
    assert found(world.admin, "zebra") == ["Parcel"]


def test_a_rolled_back_message_is_never_indexed(world: Any, open_ticket: Any) -> None:
    ticket = open_ticket("Parcel", "Where is it?")
    with pytest.raises(RuntimeError), transaction.atomic():
        services.post_message(ticket=ticket, author=world.customer, body="giraffe", via="portal")
        raise RuntimeError
    assert found(world.admin, "giraffe") == []


def test_attachment_names_are_searchable_at_once(world: Any, open_ticket: Any) -> None:
    open_ticket(
        "Scan",
        "See attached.",
        attachments=[InMemoryUpload("bon-de-livraison.jpg", b"\xff\xd8", "image/jpeg")],
    )
    assert found(world.admin, '"bon de livraison"') == ["Scan"]


@pytest.mark.parametrize(
    ("filename", "content", "content_type", "word"),
    [
        ("notes.txt", "Numéro de série XK-42 défectueux".encode(), "text/plain", "defectueux"),
        (
            "page.html",
            b"<p>Le <b>condensateur</b> a grill\xc3\xa9</p>",
            "text/html",
            "condensateur",
        ),
        (
            "facture.pdf",
            minimal_pdf("Montant total ornithorynque"),
            "application/pdf",
            "ornithorynque",
        ),
        ("latin1.txt", "Réglé en espèces".encode("cp1252"), "text/plain", "especes"),
    ],
)
def test_the_text_of_attachments_is_read_in_the_background(
    world: Any,
    open_ticket: Any,
    django_capture_on_commit_callbacks: Any,
    filename: str,
    content: bytes,
    content_type: str,
    word: str,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(
            "Attached", "See file.", attachments=[InMemoryUpload(filename, content, content_type)]
        )
    assert AttachmentText.objects.get().status == ExtractionStatus.DONE
    hits = found(world.admin, word)
    assert hits == ["Attached"]
    assert search_kind(world.admin, word) == "attachment"


def search_kind(actor: Any, q: str) -> str:
    from quietdesk.search.queries import search

    return search(actor, q).hits[0].kind


def test_a_notes_attachment_is_for_staff_only(
    world: Any, open_ticket: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ticket = open_ticket("Parcel", "Where is it?")
    with django_capture_on_commit_callbacks(execute=True):
        services.post_message(
            ticket=ticket,
            author=world.admin,
            body="See the carrier's answer.",
            kind="note",
            via="web",
            attachments=[
                InMemoryUpload("carrier.txt", b"colis perdu definitivement", "text/plain")
            ],
        )
    assert found(world.admin, "definitivement") == ["Parcel"]
    assert found(world.customer, "definitivement") == []
    assert found(world.customer, "carrier") == []


def test_an_unreadable_attachment_is_recorded_and_skipped(
    world: Any, open_ticket: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(
            "Broken", "PDF", attachments=[InMemoryUpload("x.pdf", b"not a pdf", "application/pdf")]
        )
    assert AttachmentText.objects.get().status == ExtractionStatus.FAILED
    assert found(world.admin, "broken") == ["Broken"]


def test_renaming_a_staff_requester_updates_their_tickets(world: Any, open_ticket: Any) -> None:
    open_ticket("Own request", "Hello", requester=world.agent, actor=world.agent)
    accounts.update_staff(
        actor=world.admin,
        person=world.agent,
        name="Zéphyrin Durand",
        role="agent",
        teams=[world.support],
        sees_all_teams=False,
        is_active=True,
        language="fr",
        time_zone="Europe/Paris",
    )
    assert found(world.admin, "zephyrin") == ["Own request"]


def reindex() -> dict[str, int]:
    out = io.StringIO()
    call_command("search", "reindex", "--json", stdout=out)
    return json.loads(out.getvalue())


def test_reindex_rebuilds_what_is_missing_and_then_changes_nothing(
    world: Any, open_ticket: Any
) -> None:
    open_ticket("Parcel", "Where is it?")
    open_ticket("Invoice", "facture " * 20_000)  # several chunks
    assert reindex()["documents_changed"] == 0
    before = sorted(Document.objects.values_list("id", "fingerprint"))
    Document.objects.filter(ticket__subject="Parcel").delete()
    Ticket.objects.filter(subject="Invoice").update(subject="Facture")
    assert found(world.admin, "parcel") == []
    counts = reindex()
    assert counts["tickets"] == 2
    assert counts["documents_changed"] > 0
    assert found(world.admin, "parcel") == ["Parcel"]
    assert found(world.admin, "facture") == ["Facture"]
    assert reindex()["documents_changed"] == 0
    assert len(Document.objects.all()) == len(before)


def test_reindex_reads_attachments_never_read_with_extract(world: Any, open_ticket: Any) -> None:
    open_ticket(
        "Attached", "See file.", attachments=[InMemoryUpload("a.txt", b"kangourou", "text/plain")]
    )
    assert found(world.admin, "kangourou") == []  # the task never ran
    call_command("search", "reindex", "--extract", "--json", stdout=io.StringIO())
    assert found(world.admin, "kangourou") == ["Attached"]


def test_reindex_removes_index_entries_left_without_a_document(
    world: Any, open_ticket: Any
) -> None:
    open_ticket("Parcel", "Where is it?")
    if connection.vendor == "sqlite":  # PostgreSQL keeps the vector in the document's row
        backend().write([IndexedText(12345, ["orphan"], [], ["entry"])])
    pruned = reindex()["pruned"]
    assert pruned == (1 if connection.vendor == "sqlite" else 0)
    assert found(world.admin, "parcel") == ["Parcel"]
    assert reindex()["pruned"] == 0


def test_the_index_size_can_be_measured(world: Any, open_ticket: Any) -> None:
    open_ticket("Parcel", "Where is it?")
    assert backend().index_bytes() >= 0


def test_long_texts_are_cut_into_chunks_whatever_separates_their_words():
    log = "\n".join(f"line{n} ok" for n in range(20_000))  # newlines only: 40,000 tokens
    cjk = "日本語のテキスト" * 5_000  # one run without any space: 40,000 characters
    for text in (log, cjk):
        chunks = indexing._chunks(text)
        assert len(chunks) >= 2
        for _offset, chunk in chunks:
            assert len(chunk) <= indexing.CHUNK_TOKENS
            assert sum(map(len, chunk)) <= indexing.CHUNK_CHARS
        assert [t for _o, chunk in chunks for t in chunk] == tokens(text)  # nothing lost
    offsets = [offset for offset, _chunk in indexing._chunks(log)]
    assert offsets == sorted(offsets) and log[offsets[1] :].startswith("line")


def test_a_posted_message_carries_the_same_head_as_a_reindex_writes(world: Any) -> None:
    """The mail path reads the ticket's head in two light queries, reindexing through the
    models: both must give the same tokens, or every reindex would rewrite every document."""
    contact = accounts.create_contact(
        actor=world.admin,
        email="zoe@example.com",
        name="Zoé Martin",
        extra_emails=["alpha@example.com", "beta@example.org"],
        phones=["+33 6 12 34 56 78", "+1 555 0100"],
        organisation=world.acme,
    )
    ticket = services.create_ticket(
        actor=world.admin, requester=contact, subject="Casque", body="Bonjour", channel="email"
    )
    services.post_message(ticket=ticket, author=contact, body="Toujours rien", via="email")
    assert indexing._head_of(ticket.pk) == indexing.head_tokens(
        Ticket.objects.select_related("requester", "organisation").get(pk=ticket.pk)
    )
    assert reindex()["documents_changed"] == 0
    assert found(world.agent, "beta@example.org") == ["Casque"]
    assert found(world.agent, "0612345678") == ["Casque"]
