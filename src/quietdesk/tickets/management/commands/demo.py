"""Demonstration data that shows the product: safe to run again and again."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from quietdesk.accounts import services as accounts
from quietdesk.accounts.models import Organisation, Role, Team, User
from quietdesk.intake import services as intake
from quietdesk.kb import services as kb
from quietdesk.ratings import services as ratings
from quietdesk.replies import services as replies
from quietdesk.schedule import services as schedule
from quietdesk.sla import services as sla
from quietdesk.tickets import services as tickets
from quietdesk.tickets.files import InMemoryUpload
from quietdesk.tickets.models import Channel, MessageKind, Priority, Ticket
from quietdesk.tickets.states import Status

DEMO_PASSWORD = "quietdesk-demo"  # noqa: S105 - printed for the demo logins on purpose

ADMIN = ("admin@quietdesk.example", "Alex Admin", "Europe/Paris")
AGENTS = [
    ("camille@quietdesk.example", "Camille Laurent", "Europe/Paris", ["support", "projects"]),
    ("sam@quietdesk.example", "Sam Okafor", "America/New_York", ["support", "billing"]),
    ("yuki@quietdesk.example", "Yuki Tanaka", "Asia/Tokyo", ["projects"]),
]
TEAMS = [
    ("Support", "support", "Questions and problems from customers."),
    ("Billing", "billing", "Invoices, payments and contracts."),
    ("Projects", "projects", "Change requests on projects we run."),
]
ORGANISATIONS = [
    ("Atelier Boréal", True),
    ("Northwind Studio", False),
    ("Café Lumière", False),
]
CUSTOMERS = [
    ("marie@atelier-boreal.example", "Marie Dubois", "Atelier Boréal", "Europe/Paris", "fr"),
    ("louis@atelier-boreal.example", "Louis Martin", "Atelier Boréal", "America/Montreal", "fr"),
    ("jane@northwind.example", "Jane Cooper", "Northwind Studio", "America/New_York", "en"),
    ("paul@cafe-lumiere.example", "Paul Petit", "Café Lumière", "Europe/Brussels", "fr"),
]

# subject, requester, team, priority, final status, thread [(who, kind, text)]
# "who" is "customer" or an agent's email.
THREADS: list[tuple[str, str, str, str, str, list[tuple[str, str, str]]]] = [
    (
        "Le formulaire de contact n'envoie plus rien",
        "marie@atelier-boreal.example",
        "support",
        Priority.HIGH,
        Status.OPEN,
        [
            (
                "customer",
                MessageKind.REPLY,
                "Bonjour,\n\nDepuis hier soir, le formulaire de contact du site ne nous "
                "envoie plus aucun message. Pouvez-vous regarder ?\n\nMerci,\nMarie",
            ),
            (
                "camille@quietdesk.example",
                MessageKind.NOTE,
                "Le relais SMTP du client a changé de mot de passe lundi ; à vérifier.",
            ),
            (
                "camille@quietdesk.example",
                MessageKind.REPLY,
                "Bonjour Marie,\n\nJe regarde cela ce matin et reviens vers vous avant midi.\n\n"
                "Camille",
            ),
        ],
    ),
    (
        "Invoice 2026-114 shows the wrong VAT number",
        "jane@northwind.example",
        "billing",
        Priority.NORMAL,
        Status.PENDING,
        [
            (
                "customer",
                MessageKind.REPLY,
                "Hi, our new VAT number is on the attached letter. Could you reissue the invoice?",
            ),
            (
                "sam@quietdesk.example",
                MessageKind.REPLY,
                "Hi Jane, happy to. Could you confirm the billing address should stay the same?",
            ),
        ],
    ),
    (
        "New page for the spring collection",
        "paul@cafe-lumiere.example",
        "projects",
        Priority.NORMAL,
        Status.NEW,
        [
            (
                "customer",
                MessageKind.REPLY,
                "Bonjour, nous voudrions une nouvelle page pour la collection de printemps, "
                "avec une galerie de photos. Quel délai ?",
            ),
        ],
    ),
    (
        "Site down after the hosting migration",
        "louis@atelier-boreal.example",
        "support",
        Priority.URGENT,
        Status.SOLVED,
        [
            ("customer", MessageKind.REPLY, "The site shows a 502 error since 7 am."),
            (
                "sam@quietdesk.example",
                MessageKind.CALL,
                "Called Louis: DNS still points at the old host. Updated the record together.",
            ),
            (
                "sam@quietdesk.example",
                MessageKind.REPLY,
                "The DNS change has propagated and the site answers again. Let us know if anything "
                "still looks wrong.",
            ),
            ("customer", MessageKind.REPLY, "All good here, thank you!"),
        ],
    ),
    (
        "Export of last year's orders",
        "jane@northwind.example",
        "support",
        Priority.LOW,
        Status.CLOSED,
        [
            ("customer", MessageKind.REPLY, "Could we get a CSV export of all 2025 orders?"),
            (
                "camille@quietdesk.example",
                MessageKind.REPLY,
                "Here it is — the file covers January to December 2025.",
            ),
        ],
    ),
    (
        "Waiting on the payment provider's answer",
        "marie@atelier-boreal.example",
        "billing",
        Priority.NORMAL,
        Status.ON_HOLD,
        [
            (
                "customer",
                MessageKind.REPLY,
                "Un paiement par carte a été débité deux fois. Pouvez-vous vérifier ?",
            ),
            (
                "sam@quietdesk.example",
                MessageKind.NOTE,
                "Asked the payment provider for the transaction log; they answer within 3 days.",
            ),
            (
                "sam@quietdesk.example",
                MessageKind.REPLY,
                "Nous avons interrogé le prestataire de paiement et revenons vers vous "
                "dès sa réponse.",
            ),
        ],
    ),
]

KB_CATEGORIES = [
    ("website", {"en": "Your website", "fr": "Votre site"}, 10),
    ("billing", {"en": "Billing", "fr": "Facturation"}, 20),
]
# slug, category, visibility, titles, texts (Markdown)
KB_ARTICLES: list[tuple[str, str, str, dict[str, str], dict[str, str]]] = [
    (
        "contact-form-sends-nothing",
        "website",
        "public",
        {
            "en": "The contact form sends nothing",
            "fr": "Le formulaire de contact n'envoie plus rien",
        },
        {
            "en": "Most of the time the form works but its mail is refused on the way.\n\n"
            "1. Send yourself a test message from the form.\n"
            "2. Look in your spam folder.\n"
            "3. If your mail provider changed its password, tell us: we update the "
            "site's mail relay.\n\nStill nothing after an hour? Write to us with the time "
            "of your test.",
            "fr": "Le plus souvent, le formulaire fonctionne mais son message est refusé en "
            "chemin.\n\n1. Envoyez-vous un message de test depuis le formulaire.\n"
            "2. Regardez dans vos indésirables.\n"
            "3. Si votre messagerie a changé de mot de passe, dites-le-nous : nous mettons à "
            "jour le relais de messagerie du site.\n\nToujours rien au bout d'une heure ? "
            "Écrivez-nous en indiquant l'heure de votre test.",
        },
    ),
    (
        "site-down-after-moving-host",
        "website",
        "public",
        {
            "en": "Your site is down after moving to a new host",
            "fr": "Votre site ne répond plus après un changement d'hébergeur",
        },
        {
            "en": "A **502** or **404** error right after a move usually means the domain "
            "still points at the old host.\n\n- Changes to the DNS take up to 24 hours to "
            "reach everyone.\n- Check the address your domain points at with "
            "[a DNS lookup](https://dnschecker.org/).\n\nWe can make the change with you "
            "on a short call.",
            "fr": "Une erreur **502** ou **404** juste après un déménagement signifie "
            "souvent que le domaine pointe encore vers l'ancien hébergeur.\n\n"
            "- Un changement de DNS met jusqu'à 24 heures à se propager.\n"
            "- Vérifiez vers quelle adresse pointe votre domaine avec "
            "[une recherche DNS](https://dnschecker.org/).\n\nNous pouvons faire la "
            "modification avec vous lors d'un court appel.",
        },
    ),
    (
        "change-vat-number-on-invoices",
        "billing",
        "public",
        {
            "en": "Change the VAT number on your invoices",
            "fr": "Modifier le numéro de TVA de vos factures",
        },
        {
            "en": "Send us your new VAT number with the official letter that gives it. "
            "We reissue the invoices of the current month; earlier invoices keep the "
            "number that was valid when they were issued.",
            "fr": "Envoyez-nous votre nouveau numéro de TVA avec le courrier officiel qui "
            "l'attribue. Nous rééditons les factures du mois en cours ; les factures "
            "antérieures gardent le numéro valable à leur date.",
        },
    ),
    (
        "refund-a-double-charge",
        "billing",
        "internal",
        {
            "en": "Refunding a card payment charged twice",
            "fr": "Rembourser un paiement par carte débité deux fois",
        },
        {
            "en": "1. Ask the payment provider for the transaction log.\n"
            "2. Refund the second charge from the provider's dashboard, never by "
            "transfer.\n3. Put the refund reference in an internal note on the ticket.",
            "fr": "1. Demander le journal des transactions au prestataire de paiement.\n"
            "2. Rembourser le second débit depuis son tableau de bord, jamais par "
            "virement.\n3. Noter la référence du remboursement dans une note interne.",
        },
    ),
    (
        "export-your-orders",
        "website",
        "public",
        {"en": "Export your orders as a CSV file"},
        {
            "en": "Ask us for an export with the period you need: we send a CSV file "
            "that opens in any spreadsheet, one order per line.",
        },
    ),
]


class Command(BaseCommand):
    help = "Load demonstration teams, agents, customers and tickets (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            created = self._load()
        if created:
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        else:
            self.stdout.write("Demo data already present; nothing changed.")

    def _person(self, email: str) -> User | None:
        return User.objects.filter(email=email).first()

    def _load(self) -> bool:
        if User.objects.filter(email=ADMIN[0]).exists():
            return False
        admin = accounts.create_staff(
            actor=None,
            email=ADMIN[0],
            name=ADMIN[1],
            role=Role.ADMIN,
            time_zone=ADMIN[2],
            password=DEMO_PASSWORD,
        )
        teams = {
            slug: Team.objects.filter(slug=slug).first()
            or accounts.create_team(actor=admin, name=name, slug=slug, description=description)
            for name, slug, description in TEAMS
        }
        for email, name, zone, team_slugs in AGENTS:
            accounts.create_staff(
                actor=admin,
                email=email,
                name=name,
                time_zone=zone,
                password=DEMO_PASSWORD,
                teams=[teams[s] for s in team_slugs],
            )
        organisations = {
            name: Organisation.objects.filter(name=name).first()
            or accounts.create_organisation(actor=admin, name=name, shares_tickets=shares)
            for name, shares in ORGANISATIONS
        }
        for email, name, org, zone, language in CUSTOMERS:
            accounts.create_contact(
                actor=admin,
                email=email,
                name=name,
                organisation=organisations[org],
                time_zone=zone,
                language=language,
                password=DEMO_PASSWORD,
            )
        self._service_levels(admin, teams)
        self._threads(teams)
        self._forms_replies_and_ratings(admin, teams)
        self._knowledge_base(admin)
        return True

    def _knowledge_base(self, admin: User) -> None:
        """Two categories, bilingual articles (one internal), one in English only."""
        categories = {
            slug: kb.save_category(
                actor=admin, data=kb.CategoryIn(slug=slug, names=names, position=position)
            )
            for slug, names, position in KB_CATEGORIES
        }
        author = User.objects.get(email=AGENTS[0][0])
        for slug, category, visibility, titles, bodies in KB_ARTICLES:
            article = kb.save_article(
                actor=author,
                data=kb.ArticleIn(
                    slug=slug,
                    titles=titles,
                    bodies=bodies,
                    category=categories[category],
                    visibility=visibility,
                ),
            )
            kb.publish_article(actor=author, article=article)

    def _forms_replies_and_ratings(self, admin: User, teams: dict[str, Team]) -> None:
        """A bilingual intake form and one ticket it opened, a canned reply, a rating."""
        form = intake.save_form(
            actor=admin,
            data=intake.FormIn(
                slug="change-request",
                titles={"en": "Ask for a change to your site", "fr": "Demander une modification"},
                intros={
                    "en": "Tell us what to change; we answer within one business day.",
                    "fr": "Dites-nous quoi modifier : nous répondons sous un jour ouvré.",
                },
                team=teams["projects"],
                tags=["change-request"],
                fields=[
                    intake.FieldIn(
                        key="page",
                        kind="text",
                        labels={"en": "Which page?", "fr": "Quelle page ?"},
                        required=True,
                    ),
                    intake.FieldIn(
                        key="kind",
                        kind="choice",
                        labels={"en": "What kind of change?", "fr": "Quel type de modification ?"},
                        required=True,
                        choices=[
                            intake.ChoiceIn("text", {"en": "Text", "fr": "Texte"}),
                            intake.ChoiceIn("design", {"en": "Design", "fr": "Mise en page"}),
                            intake.ChoiceIn("feature", {"en": "New feature", "fr": "Fonction"}),
                        ],
                    ),
                    intake.FieldIn(
                        key="details",
                        kind="long_text",
                        labels={"en": "Details", "fr": "Détails"},
                        helps={
                            "en": "Links and examples help.",
                            "fr": "Liens et exemples bienvenus.",
                        },
                    ),
                    intake.FieldIn(
                        key="file", kind="file", labels={"en": "A file", "fr": "Un fichier"}
                    ),
                ],
            ),
        )
        intake.submit(
            form,
            reader=User.objects.get(email="paul@cafe-lumiere.example"),
            answers={
                "page": "/menu",
                "kind": "text",
                "details": "Les prix du menu d'hiver changent au 1er décembre.",
            },
            uploads={},
            language="fr",
        )
        replies.save_reply(
            actor=admin,
            data=replies.CannedReplyIn(
                name="We are on it",
                texts={
                    "en": "Hello {{ customer.first_name }},\n\nThank you: we are looking into "
                    "ticket {{ ticket.number }} and will come back to you today.\n\n"
                    "{{ agent.first_name }}",
                    "fr": "Bonjour {{ customer.first_name }},\n\nMerci : nous regardons le "
                    "ticket {{ ticket.number }} et revenons vers vous aujourd'hui.\n\n"
                    "{{ agent.first_name }}",
                },
            ),
        )
        solved = Ticket.objects.filter(status=Status.SOLVED).first()
        if solved is not None:
            ratings.rate(
                token=ratings.link_token(solved),
                score=5,
                comment="Quick and clear, thank you.",
            )

    def _service_levels(self, admin: User, teams: dict[str, Team]) -> None:
        """Paris office hours for Support and Billing, and two SLA policies."""
        weekdays = ("monday", "tuesday", "wednesday", "thursday", "friday")
        paris = schedule.save_calendar(
            actor=admin,
            data=schedule.CalendarIn(
                name="Paris office",
                time_zone="Europe/Paris",
                holiday_country="FR",
                openings=schedule.openings_from(
                    [
                        (day, start, end, False)
                        for day in weekdays
                        for start, end in (("09:00", "12:30"), ("13:30", "18:00"))
                    ]
                ),
            ),
        )
        for slug in ("support", "billing"):
            schedule.set_team_calendar(actor=admin, team=teams[slug], calendar=paris)
        sla.save_policy(
            actor=admin,
            data=sla.PolicyIn(
                name="Urgent",
                position=10,
                priorities=["urgent"],
                targets={"first_response": (3600, False), "resolution": (8 * 3600, False)},
            ),
        )
        sla.save_policy(
            actor=admin,
            data=sla.PolicyIn(
                name="Standard",
                position=100,
                targets={
                    "first_response": (4 * 3600, True),
                    "next_response": (8 * 3600, True),
                    "resolution": (3 * 24 * 3600, True),
                },
            ),
        )

    def _threads(self, teams: dict[str, Team]) -> None:
        start = timezone.now() - datetime.timedelta(days=len(THREADS) + 1)
        for index, (subject, requester_email, team, priority, status, thread) in enumerate(THREADS):
            requester = User.objects.get(email=requester_email)
            at = start + datetime.timedelta(days=index, hours=index)
            first_agent = next((who for who, _k, _t in thread if who != "customer"), None)
            assignee = User.objects.get(email=first_agent) if first_agent else None
            _who, _kind, body = thread[0]
            attachments = []
            if "VAT" in subject:
                attachments = [
                    InMemoryUpload("vat-letter.txt", b"VAT number: FR 12 345678901\n", "text/plain")
                ]
            ticket = tickets.create_ticket(
                actor=requester,
                subject=subject,
                body=body,
                channel=Channel.EMAIL,
                priority=Priority.NORMAL,
                attachments=attachments,
                created_at=at,
            )
            if assignee is not None:
                tickets.assign(ticket=ticket, actor=assignee, team=teams[team], assignee=assignee)
            else:
                ticket = tickets.assign(
                    ticket=ticket, actor=User.objects.get(email=ADMIN[0]), team=teams[team]
                )
            if priority != Priority.NORMAL:
                tickets.set_priority(ticket=ticket, actor=assignee or requester, priority=priority)
            for step, (who, kind, text) in enumerate(thread[1:], start=1):
                author = requester if who == "customer" else User.objects.get(email=who)
                tickets.post_message(
                    ticket=ticket,
                    author=author,
                    body=text,
                    kind=kind,
                    via=Channel.EMAIL if who == "customer" else Channel.WEB,
                    created_at=at + datetime.timedelta(hours=step * 3),
                )
            self._finish(ticket, status, assignee)

    def _finish(self, ticket: Ticket, status: str, agent: User | None) -> None:
        ticket.refresh_from_db()
        if agent is None or ticket.status == status:
            return
        path = {
            Status.PENDING: [Status.PENDING],
            Status.ON_HOLD: [Status.ON_HOLD],
            Status.SOLVED: [Status.SOLVED],
            Status.CLOSED: [Status.SOLVED, Status.CLOSED],
            Status.OPEN: [Status.OPEN],
        }[Status(status)]
        for step in path:
            ticket = tickets.change_status(ticket=ticket, actor=agent, status=step)
