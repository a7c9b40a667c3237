"""Gold labels: adjudication, majority and Dawid-Skene aggregation, precedence, bulk writes."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labeling.exceptions import InvalidInput
from labeling.kinds.attribution import decide_attribution
from labeling.models import Annotation, GoldLabel, Sentence, Task
from labeling.review.gold import (
    adjudicate,
    aggregate_gold,
    clear_adjudication,
    estimate_annotator_accuracy,
)
from tests.factories import SAMPLE_TEXT, add_documents, make_project

pytestmark = pytest.mark.django_db

LABELS = ["verifiable", "unverifiable", "not_a_claim"]


def annotate(task: Task, user, value: dict) -> Annotation:
    """Store an annotation directly: these tests are about gold, not about submitting."""
    return Annotation.objects.create(task=task, annotator=user, value=value)


def label_tasks(project, kind: str = "verifiability") -> list[Task]:
    return list(Task.objects.filter(project=project, kind=kind).order_by("id"))


@pytest.fixture
def people(make_user):
    lead = make_user("lead")
    annotators = [make_user(f"ann{i}") for i in range(3)]
    return lead, annotators


@pytest.fixture
def project(people):
    lead, annotators = people
    project = make_project(lead=lead, annotators=annotators, overlap=3)
    add_documents(project)
    return project


def test_majority_vote_decides_by_plurality_and_leaves_ties_undecided(project, people, make_user):
    lead, (a, b, c) = people
    t0, t1, t2, t3 = label_tasks(project)
    for user in (a, b, c):
        annotate(t0, user, {"label": "verifiable"})
    annotate(t1, a, {"label": "verifiable"})
    annotate(t1, b, {"label": "unverifiable"})
    annotate(t1, c, {"label": "unverifiable"})
    annotate(t2, a, {"label": "verifiable"})
    annotate(t2, b, {"label": "unverifiable"})
    # t3 has no annotation at all.

    result = aggregate_gold(project=project, kind="verifiability", method="majority")

    gold = {g.task_id: g for g in GoldLabel.objects.all()}
    assert set(gold) == {t0.pk, t1.pk}
    assert gold[t0.pk].value == {"label": "verifiable"}
    # (top + 1) / (votes + 3 labels): 3 of 3 is 4/6, 2 of 3 is 3/6.
    assert gold[t0.pk].confidence == pytest.approx(4 / 6)
    assert gold[t0.pk].method == "majority"
    assert gold[t1.pk].value == {"label": "unverifiable"}
    assert gold[t1.pk].confidence == pytest.approx(3 / 6)
    assert result.n_items == 3
    assert result.n_created == 2
    assert result.n_undecided == 1
    accuracy = {row.username: row.accuracy for row in result.annotator_accuracy}
    # Against the majority of the others: a is right on t0, wrong on t1 (the others say
    # unverifiable) and t2 (b says unverifiable); b and c face a 1-1 tie of the others on
    # t1 (not scored); b is wrong against a on t2.
    assert accuracy == {
        "ann0": pytest.approx(1 / 3),
        "ann1": pytest.approx(1 / 2),
        "ann2": pytest.approx(1.0),
    }


def test_aggregation_is_idempotent_and_refreshes_changed_votes(project, people):
    _, (a, b, c) = people
    t0 = label_tasks(project)[0]
    annotate(t0, a, {"label": "verifiable"})
    annotate(t0, b, {"label": "verifiable"})
    flip = annotate(t0, c, {"label": "unverifiable"})

    first = aggregate_gold(project=project, kind="verifiability")
    again = aggregate_gold(project=project, kind="verifiability")
    assert (first.n_created, again.n_created, again.n_unchanged) == (1, 0, 1)

    Annotation.objects.filter(task=t0, annotator=b).update(value={"label": "unverifiable"})
    changed = aggregate_gold(project=project, kind="verifiability")
    assert changed.n_updated == 1
    assert GoldLabel.objects.get(task=t0).value == {"label": "unverifiable"}

    # Now a 1-1 tie: the stale aggregated gold goes away.
    flip.delete()
    Annotation.objects.filter(task=t0, annotator=a).update(value={"label": "not_a_claim"})
    tied = aggregate_gold(project=project, kind="verifiability")
    assert tied.n_deleted == 1
    assert not GoldLabel.objects.filter(task=t0).exists()


def test_adjudicated_gold_beats_aggregation_and_is_never_overwritten(project, people):
    lead, (a, b, c) = people
    t0, t1 = label_tasks(project)[:2]
    for user in (a, b, c):
        annotate(t0, user, {"label": "verifiable"})
        annotate(t1, user, {"label": "verifiable"})
    aggregate_gold(project=project, kind="verifiability")

    gold = adjudicate(task=t0, value={"label": "not_a_claim"}, user=lead, note="satire")
    assert (gold.method, gold.decided_by, gold.note) == ("adjudicated", lead, "satire")

    for method in ("majority", "dawid_skene"):
        result = aggregate_gold(project=project, kind="verifiability", method=method)
        assert result.n_adjudicated == 1
        kept = GoldLabel.objects.get(task=t0)
        assert kept.method == "adjudicated"
        assert kept.value == {"label": "not_a_claim"}
        assert kept.decided_by == lead
    assert GoldLabel.objects.get(task=t1).method == "dawid_skene"

    assert clear_adjudication(task=t0)
    aggregate_gold(project=project, kind="verifiability")
    assert GoldLabel.objects.get(task=t0).value == {"label": "verifiable"}


def test_adjudication_validates_the_value_against_the_schema(project, people):
    lead, _ = people
    t0 = label_tasks(project)[0]
    with pytest.raises(InvalidInput) as exc:
        adjudicate(task=t0, value={"label": "maybe"}, user=lead)
    assert exc.value.field == "value.label"
    with pytest.raises(InvalidInput) as exc:
        adjudicate(task=t0, value={"label": "verifiable"}, user=lead, note=5)
    assert exc.value.field == "note"

    attribution = label_tasks(project, "attribution")[0]
    sentence = Sentence.objects.get(pk=attribution.sentence_id)
    outside = sentence.end + 2
    bad = {
        "attributions": [
            {
                "source": {"start": 0, "end": 3},
                "cue": {"start": outside, "end": outside + 3},
                "content": {"start": 0, "end": 5},
            }
        ]
    }
    with pytest.raises(InvalidInput) as exc:
        adjudicate(task=attribution, value=bad, user=lead)
    assert exc.value.field == "value.attributions[0].cue"
    assert not GoldLabel.objects.exists()


def test_stance_adjudication_uses_the_stance_labels(project, people):
    lead, _ = people
    stance = label_tasks(project, "stance")[0]
    gold = adjudicate(task=stance, value={"label": "against"}, user=lead)
    assert gold.value == {"label": "against"}
    with pytest.raises(InvalidInput):
        adjudicate(task=stance, value={"label": "verifiable"}, user=lead)


def span(start: int, end: int) -> dict:
    return {"start": start, "end": end}


def triple(source, cue, content) -> dict:
    return {"source": span(*source), "cue": span(*cue), "content": span(*content)}


def test_attribution_rule_majority_of_has_then_majority_triples():
    quote = triple((56, 68), (69, 73), (35, 54))
    other = triple((0, 9), (69, 73), (35, 54))
    assert decide_attribution([]) is None
    none = decide_attribution([{"attributions": []}] * 2 + [{"attributions": [quote]}])
    assert none.value == {"attributions": []}
    assert none.confidence == pytest.approx(2 / 3)
    # 1 says none, 1 says something: a tie on "has attribution" is undecided.
    assert decide_attribution([{"attributions": []}, {"attributions": [quote]}]) is None
    # Two of three share the quote triple; the third adds another one: the majority triple.
    chosen = decide_attribution(
        [
            {"attributions": [quote]},
            {"attributions": [quote, other]},
            {"attributions": [other]},
        ]
    )
    assert chosen.value == {"attributions": [other, quote]}
    assert chosen.confidence == pytest.approx(1 / 3)
    # Everyone sees an attribution but nobody agrees on it: left for adjudication.
    assert (
        decide_attribution(
            [{"attributions": [quote]}, {"attributions": [other]}, {"attributions": []}]
        )
        is None
    )


def test_attribution_aggregation_stores_gold_and_rejects_dawid_skene(project, people):
    _, (a, b, c) = people
    task = label_tasks(project, "attribution")[1]
    sentence = Sentence.objects.get(pk=task.sentence_id)
    cue = (sentence.start + 26, sentence.start + 30)
    quote = triple(
        (sentence.start + 31, sentence.start + 43), cue, (sentence.start, sentence.start + 24)
    )
    for user in (a, b):
        annotate(task, user, {"attributions": [quote]})
    annotate(task, c, {"attributions": []})
    result = aggregate_gold(project=project, kind="attribution")
    assert result.n_created == 1
    gold = GoldLabel.objects.get(task=task)
    assert gold.value == {"attributions": [quote]}
    assert gold.confidence == pytest.approx(2 / 3)
    with pytest.raises(InvalidInput) as exc:
        aggregate_gold(project=project, kind="attribution", method="dawid_skene")
    assert exc.value.field == "method"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"kind": "sentiment"}, "kind"), ({"kind": "stance", "method": "mode"}, "method")],
)
def test_aggregation_rejects_unknown_kind_and_method(project, kwargs, field):
    with pytest.raises(InvalidInput) as exc:
        aggregate_gold(project=project, **kwargs)
    assert exc.value.field == field


def test_dawid_skene_equals_majority_on_unanimous_data(project, people):
    _, annotators = people
    tasks = label_tasks(project)
    for i, task in enumerate(tasks):
        for user in annotators:
            annotate(task, user, {"label": LABELS[i % 3]})
    aggregate_gold(project=project, kind="verifiability", method="majority")
    majority = dict(GoldLabel.objects.values_list("task_id", "value"))
    result = aggregate_gold(project=project, kind="verifiability", method="dawid_skene")
    ds = dict(GoldLabel.objects.values_list("task_id", "value"))
    assert ds == majority
    assert result.n_updated == len(tasks)
    assert all(g.confidence > 0.9 for g in GoldLabel.objects.all())
    assert set(GoldLabel.objects.values_list("method", flat=True)) == {"dawid_skene"}


def _known_case(make_user, n_docs: int = 10):
    """Annotators right 100%, 90% and 80% of the time, and one always saying ``not_a_claim``.

    Every item has a unique plurality, yet Dawid-Skene must learn that the spammer is
    uninformative and rank the others by their error rates.
    """
    lead = make_user("ds-lead")
    good1, good2, good3, spam = (make_user(n) for n in ("good1", "good2", "good3", "spam"))
    project = make_project(lead=lead, annotators=[good1, good2, good3, spam], overlap=4, name="DS")
    texts = [f"Story {d} sentence one.\nSentence two of {d}." for d in range(n_docs)]
    add_documents(project, texts)
    tasks = label_tasks(project)
    rng = np.random.default_rng(7)
    truth = {}
    for i, task in enumerate(tasks):
        true = LABELS[int(rng.integers(0, 2))]  # verifiable or unverifiable
        wrong = LABELS[1 - LABELS.index(true)]
        truth[task.pk] = true
        annotate(task, good1, {"label": true})
        annotate(task, good2, {"label": wrong if i % 10 == 0 else true})
        annotate(task, good3, {"label": wrong if i % 5 == 3 else true})
        annotate(task, spam, {"label": "not_a_claim"})
    return project, truth, tasks, (good1, good2, good3, spam)


def test_dawid_skene_on_a_known_small_case_matches_crowd_kit(make_user):
    pd = pytest.importorskip("pandas")
    crowdkit = pytest.importorskip("crowdkit.aggregation")
    project, truth, tasks, _ = _known_case(make_user)

    result = aggregate_gold(project=project, kind="verifiability", method="dawid_skene")

    gold = {
        task_id: value["label"]
        for task_id, value in GoldLabel.objects.values_list("task_id", "value")
    }
    frame = pd.DataFrame(
        [
            {"task": a.task_id, "worker": a.annotator_id, "label": a.value["label"]}
            for a in Annotation.objects.all()
        ]
    )
    reference = crowdkit.DawidSkene(n_iter=100).fit_predict(frame)
    assert gold == reference.to_dict()
    assert result.converged
    accuracy = {a.username: a.accuracy for a in result.annotator_accuracy}
    assert accuracy["good1"] > accuracy["good2"] > accuracy["good3"] > accuracy["spam"]
    assert gold == truth
    # The spammer answers the same whatever the truth: its accuracy is the prior of
    # not_a_claim, which is near zero here.
    assert accuracy["spam"] < 0.1
    assert all(0.5 < g.confidence <= 1.0 for g in GoldLabel.objects.all())


def test_estimated_accuracy_ranks_annotators_without_writing_gold(make_user):
    project, truth, tasks, _ = _known_case(make_user)
    estimate = estimate_annotator_accuracy(project=project, kind="verifiability")
    assert not GoldLabel.objects.exists()
    by_name = {a["username"]: a for a in estimate["annotators"]}
    assert by_name["good1"]["accuracy"] > by_name["good2"]["accuracy"] > by_name["spam"]["accuracy"]
    assert by_name["spam"]["confusion"]["verifiable"]["not_a_claim"] > 0.9
    assert estimate["n_items"] == len(tasks)
    assert estimate["n_annotations"] == 4 * len(tasks)
    assert sum(estimate["class_priors"].values()) == pytest.approx(1.0)


def test_attribution_accuracy_uses_has_attribution(project, people):
    _, (a, b, c) = people
    for task in label_tasks(project, "attribution"):
        annotate(task, a, {"attributions": []})
        annotate(task, b, {"attributions": []})
    estimate = estimate_annotator_accuracy(project=project, kind="attribution")
    assert estimate["labels"] == ["no_attribution", "has_attribution"]
    assert {x["username"] for x in estimate["annotators"]} == {"ann0", "ann1"}


def _queries_for_aggregation(make_user, n_docs: int, prefix: str) -> int:
    users = [make_user(f"{prefix}{i}") for i in range(3)]
    project = make_project(annotators=users, overlap=3, name=prefix)
    add_documents(project, [f"{SAMPLE_TEXT} {prefix} {d}" for d in range(n_docs)])
    for i, task in enumerate(label_tasks(project)):
        for j, user in enumerate(users):
            annotate(task, user, {"label": LABELS[(i + (j == 2)) % 3]})
    with CaptureQueriesContext(connection) as ctx:
        aggregate_gold(project=project, kind="verifiability", method="dawid_skene")
    return len(ctx.captured_queries)


def test_aggregation_query_count_does_not_grow_with_the_project(make_user):
    small = _queries_for_aggregation(make_user, 2, "s")
    large = _queries_for_aggregation(make_user, 20, "l")
    assert small == large
    assert small <= 10
