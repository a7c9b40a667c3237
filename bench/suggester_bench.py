"""Attribution suggester: precision, recall and F1 per role and per triple, and its speed.

Usage (from the repository root)::

    .venv/bin/python bench/suggester_bench.py [--runs 7] [--show-errors]

For the demo document (``fixtures/demo_attribution_gold.jsonl``) and the hand-labelled
set (``fixtures/attribution_gold.jsonl``, see ``bench/attribution_gold.py``) it prints,
per role (source, cue, content) and per whole triple, precision, recall and F1 with
exact matching (same offsets) and overlap matching (sharing a character, one-to-one),
micro-averaged over sentences. Spans repeated in one sentence's triples count once per
role, as in the agreement metrics. Then the median time to suggest for one sentence,
cold (caches cleared before each run) and warm (second call), with the ratio to
``split_sentences`` over the same sentence as a reference measured in the same run; and
the same on a ~1,000,000-character document (the demo document repeated, the limit of
one document) for its last sentences, where every earlier sentence is passed in: the
time per sentence should not grow with the document.

``--api`` adds what a task payload pays on SQLite (a throw-away database): the
suggestions of a demo sentence on a cache miss (the context query plus the rules, their
in-process caches cleared too) and on a hit, against the sentence-window query every payload runs anyway.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.attribution_gold import DEMO_GOLD_FILE, DEMO_TEXT_FILE, GOLD_FILE, load  # noqa: E402
from labeling.agreement.attribution import matched_spans, overlaps, role_spans  # noqa: E402
from labeling.suggesting import attribution as suggester  # noqa: E402
from labeling.text.segmentation import MAX_DOCUMENT_CHARS, split_sentences  # noqa: E402
from labeling.text.tokenization import ROLES  # noqa: E402

MODES = ("exact", "overlap")


def _triple_key(t: dict[str, Any]) -> tuple[tuple[int, int], ...]:
    return tuple((t[r]["start"], t[r]["end"]) for r in ROLES)


def _matching(pred: list[tuple], gold: list[tuple], match) -> int:
    """Size of a maximum one-to-one matching between predicted and gold triples."""
    owner = [-1] * len(gold)

    def augment(u: int, seen: list[bool]) -> bool:
        for v, g in enumerate(gold):
            if not seen[v] and match(pred[u], g):
                seen[v] = True
                if owner[v] == -1 or augment(owner[v], seen):
                    owner[v] = u
                    return True
        return False

    return sum(augment(u, [False] * len(gold)) for u in range(len(pred)))


def _triple_match(mode: str):
    if mode == "exact":
        return lambda a, b: a == b
    return lambda a, b: all(overlaps(x, y) for x, y in zip(a, b, strict=True))


def evaluate(records: list[dict[str, Any]]) -> tuple[dict, list[str]]:
    """Counts per role and mode: matched, predicted, gold; and a list of error lines."""
    counts = {
        key: {m: {"tp_p": 0, "tp_g": 0, "pred": 0, "gold": 0} for m in MODES}
        for key in (*ROLES, "triple")
    }
    errors: list[str] = []
    for record in records:
        text = record["text"]
        spans = [(s["start"], s["end"]) for s in record["sentences"]]
        for sentence in record["sentences"]:
            span = (sentence["start"], sentence["end"])
            pred = [s.as_value() for s in suggester.suggest_attributions(text, span, spans)]
            gold = sentence["attributions"]
            for role in ROLES:
                ps, gs = role_spans(pred, role), role_spans(gold, role)
                for mode in MODES:
                    tp = matched_spans(ps, gs, mode) if ps and gs else 0
                    cell = counts[role][mode]
                    cell["tp_p"] += tp
                    cell["tp_g"] += tp
                    cell["pred"] += len(ps)
                    cell["gold"] += len(gs)
            pt, gt = [_triple_key(t) for t in pred], [_triple_key(t) for t in gold]
            for mode in MODES:
                tp = _matching(pt, gt, _triple_match(mode))
                cell = counts["triple"][mode]
                cell["tp_p"] += tp
                cell["tp_g"] += tp
                cell["pred"] += len(pt)
                cell["gold"] += len(gt)
            if sorted(pt) != sorted(gt):
                errors.append(_describe(record["id"], text, span, pt, gt))
    return counts, errors


def _describe(doc: str, text: str, span, pred, gold) -> str:
    def show(triples):
        return [
            " | ".join(f"{r}={text[a:b][:60]!r}@{a}" for r, (a, b) in zip(ROLES, t, strict=True))
            for t in triples
        ] or ["(none)"]

    head = f"{doc} @{span[0]}: {text[span[0] : span[1]][:90]!r}"
    return "\n".join(
        [head, *("   gold " + g for g in show(gold)), *("   pred " + p for p in show(pred))]
    )


def _prf(cell: dict[str, int]) -> tuple[float, float, float]:
    p = cell["tp_p"] / cell["pred"] if cell["pred"] else 0.0
    r = cell["tp_g"] / cell["gold"] if cell["gold"] else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def print_table(name: str, records: list[dict[str, Any]], counts: dict) -> None:
    n_sent = sum(len(r["sentences"]) for r in records)
    n_gold = counts["triple"]["exact"]["gold"]
    n_pred = counts["triple"]["exact"]["pred"]
    print(f"\n{name}: {n_sent} sentences, {n_gold} gold triples, {n_pred} suggested")
    print(f"  {'role':8s} {'match':8s} {'P':>6s} {'R':>6s} {'F1':>6s}")
    for key in (*ROLES, "triple"):
        for mode in MODES:
            p, r, f = _prf(counts[key][mode])
            print(f"  {key:8s} {mode:8s} {p:6.3f} {r:6.3f} {f:6.3f}")


def timing(records: list[dict[str, Any]], runs: int) -> None:
    cold, warm, reference = [], [], []
    for _ in range(runs):
        for record in records:
            text = record["text"]
            spans = [(s["start"], s["end"]) for s in record["sentences"]]
            for span in spans:
                suggester._analyse.cache_clear()
                suggester._paragraph_quotes.cache_clear()
                t0 = time.perf_counter_ns()
                suggester.suggest_attributions(text, span, spans)
                t1 = time.perf_counter_ns()
                suggester.suggest_attributions(text, span, spans)
                t2 = time.perf_counter_ns()
                split_sentences(text[span[0] : span[1]])
                t3 = time.perf_counter_ns()
                cold.append(t1 - t0)
                warm.append(t2 - t1)
                reference.append(t3 - t2)
    ref = statistics.median(reference)
    print(f"\nspeed: {len(cold)} sentence calls ({runs} runs), load average {os.getloadavg()}")
    for label, values in (("cold (caches cleared)", cold), ("warm (cached)", warm)):
        med = statistics.median(values)
        p95 = sorted(values)[int(0.95 * (len(values) - 1))]
        print(
            f"  {label:22s} median {med / 1e3:8.1f} µs  p95 {p95 / 1e3:8.1f} µs  "
            f"{med / ref:6.1f}x split_sentences of the sentence ({ref / 1e3:.1f} µs)"
        )


def timing_large(runs: int) -> None:
    """Per-sentence time at the end of a document of ``MAX_DOCUMENT_CHARS`` characters."""
    demo = DEMO_TEXT_FILE.read_text(encoding="utf-8")
    text = "\n".join([demo] * (MAX_DOCUMENT_CHARS // (len(demo) + 1)))
    spans = split_sentences(text)
    last = spans[-50:]
    times, reference = [], []
    for _ in range(runs):
        for span in last:
            suggester._analyse.cache_clear()
            suggester._paragraph_quotes.cache_clear()
            t0 = time.perf_counter_ns()
            suggester.suggest_attributions(text, span, spans)
            t1 = time.perf_counter_ns()
            split_sentences(text[span[0] : span[1]])
            t2 = time.perf_counter_ns()
            times.append(t1 - t0)
            reference.append(t2 - t1)
    med, ref = statistics.median(times), statistics.median(reference)
    print(
        f"  {len(text):,}-char document ({len(spans):,} sentences), last 50, cold: "
        f"median {med / 1e3:8.1f} µs  {med / ref:6.1f}x split_sentences of the sentence"
    )


def timing_api(runs: int) -> None:
    """``task_suggestions`` on a miss and a hit vs ``sentence_window``, SQLite."""
    from bench import _django

    _django.setup(_django.database_url("sqlite", "labeling_bench_suggest"))
    from django.core.cache import cache

    from labeling.importing.documents import import_documents
    from labeling.importing.readers import DocumentRecord
    from labeling.models import Project, Sentence
    from labeling.projects import create_project
    from labeling.task_context.sentence_window import sentence_window
    from labeling.task_context.suggestions import task_suggestions

    project = Project.objects.filter(name="suggest-bench").first() or create_project(
        name="suggest-bench", annotators_per_item=1, schemas=[{"kind": "attribution"}]
    )
    text = DEMO_TEXT_FILE.read_text(encoding="utf-8")
    import_documents(project=project, records=[DocumentRecord(title="demo", text=text)])
    rows = list(
        Sentence.objects.filter(document__project=project)
        .order_by("position")
        .values("id", "document_id", "position", "start", "end")
    )
    miss, hit, window = [], [], []
    for _ in range(runs):
        for row in rows:
            cache.clear()
            suggester._analyse.cache_clear()
            suggester._paragraph_quotes.cache_clear()
            t0 = time.perf_counter_ns()
            task_suggestions("attribution", row["document_id"], row)
            t1 = time.perf_counter_ns()
            task_suggestions("attribution", row["document_id"], row)
            t2 = time.perf_counter_ns()
            sentence_window(row["document_id"], row["position"])
            t3 = time.perf_counter_ns()
            miss.append(t1 - t0)
            hit.append(t2 - t1)
            window.append(t3 - t2)
    ref = statistics.median(window)
    print(f"\ntask payload on SQLite ({len(miss)} calls), load average {os.getloadavg()}")
    print(f"  sentence window query (reference)  median {ref / 1e3:8.1f} µs")
    for label, values in (("suggestions, cache miss", miss), ("suggestions, cache hit", hit)):
        med = statistics.median(values)
        print(f"  {label:33s}  median {med / 1e3:8.1f} µs  {med / ref:5.2f}x the window query")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--show-errors", action="store_true")
    parser.add_argument("--api", action="store_true", help="also time the task payload part")
    args = parser.parse_args()
    gold = load(GOLD_FILE)
    sets = [
        ("demo document", load(DEMO_GOLD_FILE)),
        ("hand-labelled set, dev (rules tuned on it)", [r for r in gold if r["split"] == "dev"]),
        (
            "hand-labelled set, held out (written after the rules)",
            [r for r in gold if r["split"] == "heldout"],
        ),
        ("hand-labelled set, all", gold),
    ]
    for name, records in sets:
        counts, errors = evaluate(records)
        print_table(name, records, counts)
        if args.show_errors:
            print(f"\n  {len(errors)} sentences differ:")
            for line in errors:
                print("  " + line.replace("\n", "\n  "))
    timing([*sets[0][1], *gold], args.runs)
    timing_large(max(1, args.runs // 3))
    if args.api:
        timing_api(args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
