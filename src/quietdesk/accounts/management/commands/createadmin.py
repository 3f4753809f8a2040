from __future__ import annotations

import getpass
import os
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from quietdesk.accounts import services
from quietdesk.accounts.models import Role
from quietdesk.errors import ValidationFailed


class Command(BaseCommand):
    help = "Add an administrator. The password is asked for, or read from QUIETDESK_ADMIN_PASSWORD."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--name", default="")
        parser.add_argument("--time-zone", default="UTC")

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("QUIETDESK_ADMIN_PASSWORD") or ""
        if not password:
            if not os.isatty(0):
                raise CommandError("Set QUIETDESK_ADMIN_PASSWORD or run in a terminal to type it.")
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The two passwords differ.")
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        try:
            admin = services.create_staff(
                actor=None,
                email=options["email"],
                name=options["name"],
                role=Role.ADMIN,
                time_zone=options["time_zone"],
                password=password,
            )
        except ValidationFailed as exc:
            raise CommandError("; ".join(f"{k}: {v}" for k, v in exc.fields.items())) from None
        self.stdout.write(self.style.SUCCESS(f"Administrator {admin.email} created."))
