"""Bring a team in from a CSV: users with their project roles, and how each one logs in.

The CSV has a header row naming ``username`` and optionally ``email``, ``role``
(``annotator`` | ``lead``) and ``project`` (a project id; ``--project`` gives a default).
Every row is checked first: a bad row stops the import with its line and column, and
nothing is created. New users get a random initial password, printed once, or with
``--reset-links`` an unusable password and a link to set one (``--base-url`` is where the
site is served). Existing users keep their credentials and get the role.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from labeling.accounts.people import (
    PASSWORD,
    RESET_LINK,
    PeopleError,
    add_people,
    parse_people_csv,
)


class Command(BaseCommand):
    help = (
        "Create users from a CSV (username, email, role, project) and print each new user's "
        "initial password, or with --reset-links a link where they set their own."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("csv_file", help="The CSV file ('-' reads standard input).")
        parser.add_argument("--project", type=int, help="Project id for rows without one.")
        parser.add_argument(
            "--reset-links",
            action="store_true",
            help="Set no password; print a password-reset link for each new user.",
        )
        parser.add_argument(
            "--base-url",
            default="",
            help="The site's address for the links, e.g. https://labels.example.org",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["reset_links"] and not options["base_url"]:
            raise CommandError("--reset-links needs --base-url (where people open the link)")
        source = options["csv_file"]
        try:
            data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {source}: {exc.strerror}") from exc
        try:
            people = parse_people_csv(data, project_id=options["project"])
            welcomes = add_people(
                people,
                credentials=RESET_LINK if options["reset_links"] else PASSWORD,
                base_url=options["base_url"],
            )
        except PeopleError as exc:
            lines = "\n".join(f"  {e}" for e in exc.errors)
            raise CommandError(f"{source}: nothing was imported:\n{lines}") from exc
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(["username", "status", "password", "reset_link", "projects"])
        for w in welcomes:
            roles = " ".join(f"{m.project_id}:{m.role}" for m in w.memberships)
            status = "created" if w.created else "exists"
            writer.writerow(
                [w.user.get_username(), status, w.password or "", w.reset_link or "", roles]
            )
        created = sum(w.created for w in welcomes)
        self.stderr.write(
            f"{created} users created, {len(welcomes) - created} existing; "
            "the passwords and links above are shown only now."
        )
