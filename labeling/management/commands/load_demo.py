"""Load the demo project: the example document, three kinds, a lead, three annotators and
simulated annotations, so that agreement and review have something to show.

Idempotent: a second run finds the project and only prints the log-ins.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from labeling.agreement_runs import request_agreement_run
from labeling.annotating import submit_annotation
from labeling.assignment import next_task, skip_task
from labeling.gold import aggregate_gold
from labeling.importing import import_documents
from labeling.models import Kind, Project, Role, Task
from labeling.projects import add_member, create_project
from labeling.readers import read_records

PROJECT_NAME = "Demo: Azovstal news"
DOCUMENT = Path(settings.BASE_DIR) / "fixtures" / "000_54c65cebe7473141.txt"
DOCUMENT_TITLE = "Putin tells Michel that Kiev is preventing Azovstal surrender"
SCHEMAS = [
    {"kind": "verifiability", "labels": ["verifiable", "unverifiable", "not_a_claim"]},
    {
        "kind": "stance",
        "labels": ["against", "neutral", "favor"],
        "level": "ordinal",
        "targets": ["Ukrainian government", "Russian government"],
    },
    {"kind": "attribution"},
]
GUIDELINES = "\n".join(
    [
        'Verifiability: "verifiable" if the sentence states a fact that could be checked '
        'against records (numbers, events, who did what); "unverifiable" for opinions, '
        'predictions and claims nobody could check; "not_a_claim" for headlines without a '
        "claim, questions and pure reporting frames.",
        "Stance: the stance the sentence (or the speaker it reports) takes toward the target.",
        "Attribution: mark who (source) says (cue) what (content). The cue is the speech verb "
        "or phrase in this sentence; source and content may reach into the neighbouring "
        "sentence.",
    ]
)
# Annotators and how often they stray from the simulated "true" label.
ANNOTATORS = {"anna": 0.08, "ben": 0.18, "chloe": 0.3}
LOGINS = {"lead": "lead-demo-pass", "admin": "admin-demo-pass"} | {
    name: f"{name}-demo-pass" for name in ANNOTATORS
}
CUES = re.compile(
    r"\b(said|says|told|noted|added|emphasised|emphasized|stated|claimed|according to|"
    r"warned|stressed|insisted|accused|urged|called on)\b"
)


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
    for kind in (Kind.VERIFIABILITY, Kind.STANCE, Kind.ATTRIBUTION):
        request_agreement_run(project=project, kind=kind, user=users["lead"])
        aggregate_gold(project=project, kind=kind)
    return project


def _truth(task: Task, rng: random.Random) -> dict:
    """A plausible 'true' value for a task, from simple cues in the sentence."""
    text = task.sentence.text
    if task.kind == Kind.VERIFIABILITY:
        if "“" in text and not re.search(r"\d", text):
            return {"label": "unverifiable"}
        if CUES.search(text) or re.search(r"\d", text):
            return {"label": "verifiable"}
        return {"label": "not_a_claim"}
    if task.kind == Kind.STANCE:
        lowered = text.lower()
        if task.target == "Ukrainian government":
            hostile = (
                "kiev regime",
                "nationalist",
                "crimes",
                "does not allow",
                "ukrainian security",
            )
            return {"label": "against" if any(w in lowered for w in hostile) else "neutral"}
        friendly = ("humanitarian", "guaranteed", "ceasefire", "safe evacuation")
        return {"label": "favor" if any(w in lowered for w in friendly) else "neutral"}
    match = CUES.search(text)
    if not match:
        return {"attributions": []}
    start = task.sentence.start
    cue = {"start": start + match.start(), "end": start + match.end()}
    before = text[: match.start()].rstrip(' ,”"')
    words = list(re.finditer(r"[\w’'-]+", before))
    if len(words) >= 2 and match.start() > len(text) // 2:
        # "…,” the Kremlin press service said": source just before the cue, content before it.
        src_words = words[-3:]
        source = {"start": start + src_words[0].start(), "end": start + src_words[-1].end()}
        content_end = src_words[0].start()
        content = {"start": start, "end": start + max(1, len(text[:content_end].rstrip(' ,”"')))}
    else:
        head = list(re.finditer(r"[\w’'-]+", text[: match.start()]))[:4] or words
        if not head:
            return {"attributions": []}
        source = {"start": start + head[0].start(), "end": start + head[-1].end()}
        rest = text[match.end() :].strip()
        if not rest:
            return {"attributions": []}
        offset = text.index(rest, match.end())
        content = {"start": start + offset, "end": start + offset + len(rest.rstrip("."))}
    if not (source["start"] < source["end"] and content["start"] < content["end"]):
        return {"attributions": []}
    return {"attributions": [{"source": source, "cue": cue, "content": content}]}


def _noisy(
    task: Task, truth: dict, error_rate: float, labels: list[str], rng: random.Random
) -> dict:
    if rng.random() >= error_rate:
        return truth
    if task.kind == Kind.ATTRIBUTION:
        if truth["attributions"] and rng.random() < 0.5:
            return {"attributions": []}
        if truth["attributions"]:
            triple = {k: dict(v) for k, v in truth["attributions"][0].items()}
            triple["source"]["end"] = max(
                triple["source"]["start"] + 1, triple["source"]["end"] - 3
            )
            return {"attributions": [triple]}
        return truth
    i = labels.index(truth["label"])
    j = i + rng.choice([-1, 1]) if 0 < i < len(labels) - 1 else (1 if i == 0 else i - 1)
    return {"label": labels[j]}


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
                    value = _noisy(task, _truth(task, rng), error_rate, schema.labels, rng)
                    submit_annotation(
                        user=user, task=task, value=value, lead_time_ms=rng.randint(2500, 25000)
                    )
