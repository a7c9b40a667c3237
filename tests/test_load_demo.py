"""The demo command builds a realistic project once, through the real functions."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from labeling.models import (
    AgreementRun,
    Annotation,
    Document,
    JobStatus,
    Membership,
    Project,
    Task,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_demo_loads_once_with_annotations_and_agreement(capsys):
    call_command("load_demo")
    out = capsys.readouterr().out
    assert "password anna-demo-pass" in out
    project = Project.objects.get()
    doc = Document.objects.get(project=project)
    n = doc.sentences.count()
    assert n == 22
    for s in doc.sentences.all():
        assert doc.text[s.start : s.end] == s.text
    # verifiability, two stance targets, attribution, the custom "certainty"
    assert Task.objects.filter(project=project).count() == 5 * n
    assert Membership.objects.filter(project=project, role="annotator").count() == 3
    n_annotations = Annotation.objects.filter(task__project=project).count()
    assert 0.5 * 3 * 5 * n < n_annotations < 3 * 5 * n  # realistic: most, not all
    assert (
        Task.objects.filter(project=project, n_submitted__gt=project.annotators_per_item).count()
        == 0
    )
    done = AgreementRun.objects.filter(project=project, status=JobStatus.DONE, trigger="manual")
    assert set(done.values_list("kind", flat=True)) == {
        "attribution",
        "stance",
        "verifiability",
        "certainty",
    }
    assert all(run.result["alpha"] is not None for run in done)

    call_command("load_demo")
    assert "already loaded" in capsys.readouterr().out
    assert Project.objects.count() == 1
    assert Annotation.objects.count() == n_annotations
