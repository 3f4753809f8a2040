"""The rest of the corpus: one expected outcome per mail, received into an empty helpdesk."""

from __future__ import annotations

import pytest

from quietdesk.mail import inbound
from quietdesk.mail.models import InboundStatus, Mailbox
from tests.mail.test_inbound import raw

pytestmark = pytest.mark.django_db


def body(mail):
    return mail.ticket_message.body_text


def files(mail):
    return [(a.filename, a.blob.size) for a in mail.ticket_message.attachments.order_by("id")]


# name → (automatic reason or "", check on the stored mail)
EXPECTED = {
    "31-koi8r.eml": ("", lambda m: "не работает вход" in body(m) and m.ticket.subject == "Привет"),
    "32-shift-jis.eml": (
        "",
        lambda m: "ログインできません" in body(m) and m.ticket.subject == "こんにちは",
    ),
    "33-big5.eml": ("", lambda m: "無法登入系統" in body(m)),
    "34-utf16.eml": ("", lambda m: "accents éàü" in body(m)),
    "35-base64-utf8.eml": ("", lambda m: body(m) == "Corps encodé en base64, très bien."),
    "36-invalid-base64.eml": ("", lambda m: m.ticket.subject == "Broken base64"),
    "37-rfc2231-filename.eml": ("", lambda m: files(m) == [("facture décembre.pdf", 17)]),
    "38-aw-prefix-german.eml": ("", lambda m: "schnelle Antwort" in body(m)),
    "39-tr-prefix-french.eml": ("", lambda m: m.ticket.subject == "TR: Problème de connexion"),
    "40-undisclosed-recipients.eml": ("", lambda m: m.ticket_message.channel_metadata["to"] == []),
    "41-nul-in-body.eml": ("", lambda m: "\x00" not in body(m) and "NUL" in body(m)),
    "42-calendar-reply.eml": ("", lambda m: [f[0] for f in files(m)] == ["invite.ics"]),
    "43-only-html.eml": (
        "",
        lambda m: (
            "onerror" not in m.ticket_message.body_html
            and "<i>HTML</i>" in m.ticket_message.body_html
        ),
    ),
    "44-no-content-type.eml": ("", lambda m: body(m) == "Plain old RFC 822 text."),
    "45-multipart-no-boundary.eml": (
        "",
        lambda m: m.ticket.subject == "Multipart without boundary",
    ),
    "46-zero-byte-part.eml": ("", lambda m: ("empty.bin", 0) in files(m)),
    "47-reply-to-header.eml": ("", lambda m: m.ticket.requester.email == "iris@client.example"),
    "48-long-subject.eml": ("", lambda m: m.ticket.subject.startswith("Very long subject")),
    "49-date-in-future.eml": ("", lambda m: m.ticket_message.channel_metadata["date"] is None),
    "50-x-autoreply.eml": ("X-Autoreply", lambda m: m.status == InboundStatus.PROCESSED),
    "51-list-unsubscribe.eml": ("mailing list", lambda m: m.status == InboundStatus.PROCESSED),
    "52-precedence-junk.eml": ("Precedence: junk", lambda m: m.status == InboundStatus.PROCESSED),
    "53-postmaster.eml": ("sender postmaster", lambda m: m.status == InboundStatus.PROCESSED),
    "54-noreply-sender.eml": ("sender no-reply", lambda m: m.status == InboundStatus.PROCESSED),
    "55-auto-submitted-no.eml": ("", lambda m: m.status == InboundStatus.PROCESSED),
    "56-french-quote.eml": ("", lambda m: body(m) == "D'accord pour le devis."),
    "57-outlook-french-quote.eml": ("", lambda m: body(m) == "Merci."),
    "58-underscore-separator.eml": ("", lambda m: body(m) == "Short answer."),
    "59-name-with-comma.eml": ("", lambda m: m.ticket.requester.name == "Dupont, Marie"),
    "60-uppercase-address.eml": ("", lambda m: m.ticket.requester.email == "iris@client.example"),
    "61-encoded-filename-q.eml": ("", lambda m: files(m)[0][0] == "résumé.txt"),
    "62-nested-alternative-related.eml": (
        "",
        lambda m: (
            body(m) == "Texte brut."
            and "<b>riche</b>" in m.ticket_message.body_html
            and [f[0] for f in files(m)] == ["image.gif"]
        ),
    ),
    "63-utf8-sender-address.eml": (
        "",
        lambda m: (
            m.ticket.requester.email == "zoë@büro.example"
            and m.ticket.requester.name == "Zoë Müller"
            and m.ticket.subject == "Adresse accentuée"
        ),
    ),
    "64-punycode-domain.eml": (
        "",
        lambda m: m.ticket.requester.email == "hans@büro.example",  # one spelling
    ),
}


def test_the_corpus_has_sixty_mails_or_more():
    corpus = sorted(p.name for p in (raw.__globals__["CORPUS"]).glob("*.eml"))
    assert len(corpus) >= 60


@pytest.mark.parametrize(("name", "automatic", "check"), [(n, *v) for n, v in EXPECTED.items()])
def test_each_mail_has_its_expected_outcome(world, name, automatic, check):
    box = Mailbox.objects.create(address="support@quietdesk.example", team=world.support)
    mail = inbound.receive(raw(name), mailbox=box, source="test")
    assert mail.status == InboundStatus.PROCESSED, mail.reason
    assert mail.automatic == automatic
    assert check(mail)
