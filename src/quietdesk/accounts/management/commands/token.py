from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from quietdesk.accounts import services
from quietdesk.accounts.models import ApiToken


class Command(BaseCommand):
    help = "Create, list or revoke personal API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token and print it once.")
        create.add_argument("email")
        create.add_argument("--name", default="command line")
        list_ = sub.add_parser("list", help="List a person's tokens (never the secrets).")
        list_.add_argument("email")
        revoke = sub.add_parser("revoke", help="Revoke a token by the prefix shown in the list.")
        revoke.add_argument("email")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        person = services.find_person_by_email(options["email"])
        if person is None:
            raise CommandError(f"Nobody with the address {options['email']}.")
        if options["action"] == "create":
            _token, secret = services.create_api_token(
                actor=None, user=person, name=options["name"]
            )
            self.stderr.write(f"Token for {person.email} (shown once, store it now):")
            self.stdout.write(secret)
        elif options["action"] == "list":
            for token in ApiToken.objects.filter(user=person):
                state = "revoked" if token.revoked_at else "active"
                self.stdout.write(
                    f"{token.prefix}…  {token.name}  {state}  "
                    f"last used {token.last_used_at or 'never'}"
                )
        else:
            found = ApiToken.objects.filter(
                user=person, prefix=options["prefix"], revoked_at__isnull=True
            ).first()
            if found is None:
                raise CommandError("No active token with that prefix.")
            services.revoke_api_token(actor=person, token=found)
            self.stdout.write(f"Revoked {found.prefix}….")
