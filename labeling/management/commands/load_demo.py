"""Load the demo project: the example document, the built-in kinds and a custom one, a
lead, three annotators and simulated annotations, so agreement and review have something
to show. What each kind's simulated annotators answer comes from the kind registry.

Idempotent: a second run finds the project and only prints the log-ins.
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from labeling.agreement_runs.runs import request_agreement_run
from labeling.importing.documents import import_documents
from labeling.importing.readers import read_records
from labeling.kinds import BUILTIN, kind_spec, sorted_kinds
from labeling.models import Project, Role, Task
from labeling.projects import add_member, create_project
from labeling.queue import next_task, skip_task, submit_annotation
from labeling.review.gold import aggregate_gold

PROJECT_NAME = "Demo: Azovstal news"
DOCUMENT = Path(settings.BASE_DIR) / "fixtures" / "000_54c65cebe7473141.txt"
DOCUMENT_TITLE = "Putin tells Michel that Kiev is preventing Azovstal surrender"
#: A custom question, to show that custom kinds flow like the built-in ones.
CUSTOM_SCHEMAS: list[dict[str, Any]] = [
    {
        "kind": "certainty",
        "description": "How certain does the sentence present its claim?",
        "labels": ["doubtful", "possible", "likely", "certain"],
        "level": "interval",
        "values": [0, 0.4, 0.7, 1],
    }
]
SCHEMAS = [spec.demo_schema for spec in BUILTIN.values() if spec.demo_schema] + CUSTOM_SCHEMAS
GUIDELINES = "\n".join(
    [spec.demo_guideline for spec in BUILTIN.values() if spec.demo_guideline]
    + [f"{s['kind'].capitalize()}: {s['description']}" for s in CUSTOM_SCHEMAS]
)
# Annotators and how often they stray from the simulated "true" label.
ANNOTATORS = {"anna": 0.08, "ben": 0.18, "chloe": 0.3}
LOGINS = {"lead": "lead-demo-pass", "admin": "admin-demo-pass"} | {
    name: f"{name}-demo-pass" for name in ANNOTATORS
}


class Command(BaseCommand):
    help = "Load the demo project with the example document and simulated annotations."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, seed: int, **options: Any) -> None:
        users = _ensure_users()
        project = Project.objects.filter(name=PROJECT_NAME).first()
        if project is None:
            project = _build(users, random.Random(seed))
            self.stdout.write(self.style.SUCCESS(f"Loaded demo project #{project.pk}."))
        else:
            self.stdout.write(f"Demo project #{project.pk} is already loaded.")
        self.stdout.write("Log in at http://127.0.0.1:8000/admin/ as:")
        for name, password in LOGINS.items():
            role = "staff" if name == "admin" else "lead" if name == "lead" else "annotator"
            self.stdout.write(f"  {role:9s}  username {name:6s}  password {password}")


def _ensure_users() -> dict[str, Any]:
    user_model = get_user_model()
    users = {}
    for name, password in LOGINS.items():
        user = user_model.objects.filter(username=name).first()
        if user is None:
            if name == "admin":
                user = user_model.objects.create_superuser(name, f"{name}@example.org", password)
            else:
                user = user_model.objects.create_user(name, f"{name}@example.org", password)
        users[name] = user
    return users


def _build(users: dict[str, Any], rng: random.Random) -> Project:
    with transaction.atomic():
        project = create_project(
            name=PROJECT_NAME,
            annotators_per_item=3,
            schemas=SCHEMAS,
            created_by=users["lead"],
            description="A wire-service article full of reported speech and contested claims.",
            guidelines=GUIDELINES,
        )
        add_member(project=project, username="lead", role=Role.LEAD)
        for name in ANNOTATORS:
            add_member(project=project, username=name, role=Role.ANNOTATOR)
        records = read_records(DOCUMENT.read_bytes(), format="txt", filename=DOCUMENT.name)
        records = [
            replace(r, external_id=DOCUMENT.stem, title=DOCUMENT_TITLE, source_url="")
            for r in records
        ]
        import_documents(project=project, records=records)
    _simulate(project, users, rng)
    for kind in sorted_kinds(s["kind"] for s in SCHEMAS):
        request_agreement_run(project=project, kind=kind, user=users["lead"])
        aggregate_gold(project=project, kind=kind)
    return project


def _simulate(project: Project, users: dict[str, Any], rng: random.Random) -> None:
    """Each annotator works through most of the queue; some tasks stay open or skipped."""
    schemas = {s.kind: s for s in project.schemas.all()}
    share = {"anna": 1.0, "ben": 0.9, "chloe": 0.6}
    for name, error_rate in ANNOTATORS.items():
        user = users[name]
        for kind, schema in schemas.items():
            targets = schema.targets or [None]
            for target in targets:
                total = Task.objects.filter(project=project, kind=kind, target=target or "").count()
                for _ in range(int(total * share[name])):
                    assignment = next_task(user=user, project=project, kind=kind, target=target)
                    if assignment is None:
                        break
                    task = Task.objects.select_related("sentence").get(pk=assignment.task_id)
                    if rng.random() < 0.03:
                        skip_task(user=user, task=task)
                        continue
                    spec = kind_spec(kind)
                    value = spec.simulate_value(
                        text=task.sentence.text,
                        start=task.sentence.start,
                        target=task.target,
                        schema=schema,
                        rng=rng,
                    )
                    if rng.random() < error_rate:
                        value = spec.perturb_value(value, schema=schema, rng=rng)
                    submit_annotation(
                        user=user, task=task, value=value, lead_time_ms=rng.randint(2500, 25000)
                    )
