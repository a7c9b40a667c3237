"""Bringing people in: create users with project roles, from the API or a CSV file.

Each new user gets one of two kinds of credentials:

* ``password``: a random initial password (``secrets``, 16 URL-safe characters) that is
  shown once, to the staff member who created the user, and never stored in clear;
* ``reset_link``: an unusable password and a link to the admin's password-reset
  confirmation page (Django's ``PasswordResetTokenGenerator``): the person sets their own
  password there. The link works once (setting a password invalidates it) and expires
  after ``PASSWORD_RESET_TIMEOUT`` seconds (Django's default: three days).

A row for a username that exists already adds or changes that user's membership and
leaves their credentials alone. Everything is all or nothing: every row is checked
first, and one transaction creates the users and memberships.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from labeling.models import Membership, Project, Role
from labeling.strings import string_problem

PASSWORD = "password"  # noqa: S105 - a credentials kind, not a secret
RESET_LINK = "reset_link"
CREDENTIALS = (PASSWORD, RESET_LINK)
CSV_COLUMNS = ("username", "email", "role", "project")
MAX_ROWS = 10_000

_email = EmailValidator()


@dataclass(frozen=True)
class Person:
    """One row: a user and, optionally, their role in a project."""

    username: str
    email: str = ""
    role: str = ""
    project_id: int | None = None
    line: int = 0


@dataclass
class Welcome:
    """What happened to one person: the user, and their credentials if they are new."""

    user: Any
    created: bool
    password: str | None = None
    reset_link: str | None = None
    memberships: list[Membership] = field(default_factory=list)


@dataclass(frozen=True)
class PersonError:
    """A problem with a row: 1-based ``line`` of the file (0: not from a file), the column."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}, " if self.line else ""
        return f"{where}column {self.column}: {self.message}"


class PeopleError(ValueError):
    """Rows that cannot be imported (all of them are reported; nothing was created)."""

    def __init__(self, errors: Iterable[PersonError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


def check_username(value: Any) -> str | None:
    """Why ``value`` is not a valid new username, or None."""
    if not isinstance(value, str) or not value.strip():
        return "is required"
    problem = string_problem(value)
    if problem:
        return problem
    user_model = get_user_model()
    max_length = user_model._meta.get_field("username").max_length or 150
    if len(value) > max_length:
        return f"is {len(value)} characters long; the limit is {max_length}"
    try:
        user_model.username_validator(value)
    except DjangoValidationError:
        return "may contain only letters, digits and @ . + - _"
    return None


def check_email(value: str) -> str | None:
    if not value:
        return None
    try:
        _email(value)
    except DjangoValidationError:
        return f"is not an email address: {value[:80]!r}"
    return None


def parse_people_csv(data: bytes, *, project_id: int | None = None) -> list[Person]:
    """Rows of a CSV with a header naming ``username`` and optionally ``email``, ``role``
    and ``project`` (a project id; default ``project_id``). All errors, or the people."""
    errors: list[PersonError] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PeopleError([PersonError(line, "", "the file is not UTF-8")]) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    people: list[Person] = []
    prev = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(PersonError(prev + 1, "", f"malformed CSV: {exc}"))
            break
        line, prev = prev + 1, reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        if header is None:
            header = [h.strip().lower() for h in row]
            for name in header:
                if name not in CSV_COLUMNS:
                    allowed = ", ".join(CSV_COLUMNS)
                    errors.append(PersonError(line, name, f"unknown column (allowed: {allowed})"))
            if "username" not in header:
                errors.append(PersonError(line, "username", "missing column"))
            if len(set(header)) != len(header):
                errors.append(PersonError(line, "", "a column is named twice"))
            if errors:
                break
            continue
        if len(row) != len(header):
            errors.append(PersonError(line, "", f"expected {len(header)} fields, got {len(row)}"))
            continue
        cells = {name: cell.strip() for name, cell in zip(header, row, strict=True)}
        project = project_id
        if cells.get("project"):
            raw = cells["project"]
            if not raw.isdigit() or not 0 < int(raw) < 2**63:
                errors.append(PersonError(line, "project", f"must be a project id, got {raw!r}"))
                continue
            project = int(raw)
        people.append(
            Person(
                username=cells["username"],
                email=cells.get("email", ""),
                role=cells.get("role", "").lower(),
                project_id=project,
                line=line,
            )
        )
        if len(people) > MAX_ROWS:
            errors.append(PersonError(line, "", f"at most {MAX_ROWS:,} people per file"))
            break
    if header is None and not errors:
        errors.append(PersonError(1, "", "the file is empty: expected a header row"))
    elif not people and not errors:
        errors.append(PersonError(prev or 1, "", "the file names no people"))
    if errors:
        raise PeopleError(errors)
    return people


def _check(people: Sequence[Person]) -> list[PersonError]:
    """Every problem of ``people`` (checked against the database, read only)."""
    errors: list[PersonError] = []
    project_ids = {p.project_id for p in people if p.project_id is not None}
    projects = set(Project.objects.filter(pk__in=project_ids).values_list("pk", flat=True))
    seen: dict[tuple[str, int | None], int] = {}
    for person in people:

        def err(column: str, message: str, person: Person = person) -> None:
            errors.append(PersonError(person.line, column, message))

        if problem := check_username(person.username):
            err("username", problem)
        if problem := check_email(person.email):
            err("email", problem)
        if person.role and person.role not in Role.values:
            err("role", f"must be one of {', '.join(Role.values)}, got {person.role!r}")
        if person.role and person.project_id is None:
            err("project", "is required with a role (a column, or --project)")
        if person.project_id is not None and person.project_id not in projects:
            err("project", f"no project with id {person.project_id}")
        if person.project_id is not None and not person.role:
            err("role", f"is required with a project (one of {', '.join(Role.values)})")
        key = (person.username.lower(), person.project_id)
        if key in seen:
            where = f"line {seen[key]}" if seen[key] else "above"
            err("username", f"is listed twice for this project ({where})")
        seen[key] = person.line
    return errors


def reset_link(user: User, base_url: str) -> str:
    """An absolute link to the admin's set-a-new-password page for ``user``."""
    generator: PasswordResetTokenGenerator = default_token_generator
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": generator.make_token(user),
        },
    )
    return base_url.rstrip("/") + path


def add_people(
    people: Sequence[Person], *, credentials: str = PASSWORD, base_url: str = ""
) -> list[Welcome]:
    """Create the users that do not exist yet and give everyone their role; all or nothing.

    Raises ``PeopleError`` naming each bad row (nothing is created then).
    """
    if credentials not in CREDENTIALS:
        raise ValueError(f"credentials must be one of {CREDENTIALS}")
    errors = _check(people)
    if errors:
        raise PeopleError(errors)
    user_model = get_user_model()
    welcomes: dict[str, Welcome] = {}
    with transaction.atomic():
        names = {p.username.lower() for p in people}
        existing: dict[str, Any] = {  # usernames match case-insensitively: "Ana" is "ana"
            u.get_username().lower(): u
            for u in user_model.objects.select_for_update()
            .annotate(lower_name=Lower("username"))
            .filter(lower_name__in=names)
        }
        for person in people:
            key = person.username.lower()
            welcome = welcomes.get(key)
            if welcome is None:
                user = existing.get(key)
                if user is None:  # rows differing only in case are one new user
                    user = user_model.objects.create_user(
                        username=person.username, email=person.email
                    )
                    welcome = Welcome(user=user, created=True)
                    _give_credentials(welcome, credentials, base_url)
                    existing[key] = user
                else:
                    welcome = Welcome(user=user, created=False)
                welcomes[key] = welcome
            if person.project_id is not None and person.role:
                membership, _ = Membership.objects.update_or_create(
                    project_id=person.project_id, user=welcome.user, defaults={"role": person.role}
                )
                welcome.memberships.append(membership)
    return list(welcomes.values())


def _give_credentials(welcome: Welcome, credentials: str, base_url: str) -> None:
    user = welcome.user
    if credentials == PASSWORD:
        welcome.password = secrets.token_urlsafe(12)
        user.set_password(welcome.password)
    else:
        user.set_unusable_password()
    user.save(update_fields=["password"])
    if credentials == RESET_LINK:
        welcome.reset_link = reset_link(user, base_url)  # the token covers the saved hash
