"""Sentence segmentation: quality and speed of the chosen splitter against candidates.

Usage (from the repository root)::

    .venv/bin/python bench/segmentation_bench.py [--runs 7] [--docs 100] [--quick]

It prints, for every segmenter that can be imported:

* quality on the tricky-case table of ``tests/test_segmentation.py`` (cases split exactly
  right, and boundary precision/recall/F1) and on the demo document (hand-checked
  sentence starts), after wrapping each library so that spans are exact offsets with a
  hard break at every line break (the contract of ``labeling.text.segmentation``);
* speed as sentences/s and KB/s (median of ``--runs`` runs, each segmenting ``--docs``
  documents one call per document, as the importer does) on the demo document and on
  synthetic ~4 KB news documents, with the ratio to the chosen splitter.

The candidate libraries are not project dependencies. To compare them, install them
somewhere else and put that on ``PYTHONPATH``, e.g.::

    python3 -m venv /tmp/segeval
    /tmp/segeval/bin/pip install pysbd==0.3.4 syntok==1.4.4 blingfire==0.1.8 sentencex==1.0.32
    PYTHONPATH=/tmp/segeval/lib/python3.11/site-packages \\
        .venv/bin/python bench/segmentation_bench.py
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from labeling.text.segmentation import split_sentences  # noqa: E402

FIXTURE = ROOT / "fixtures" / "000_54c65cebe7473141.txt"

# Hand-checked sentence start offsets of the demo document (22 sentences; see the list
# printed by ``--show-fixture`` and tests/test_segmentation.py).
FIXTURE_STARTS = (
    0, 219, 472, 734, 839, 1146, 1414, 1644, 1740, 1931, 2212,
    2398, 2680, 2879, 3062, 3304, 3415, 3515, 3652, 3764, 3867, 4144,
)  # fmt: skip

# Held-out cases: written after the rules of labeling/text/segmentation.py were frozen and
# never used to tune them (the tricky-case table in the tests was written alongside the
# rules, so scores on it are in-sample). The chosen splitter's one miss here ("4 p.m.
# Officials") is kept as a strict xfail in the tests.
HELDOUT: list[tuple[str, list[str]]] = [
    (
        "Prime Minister Boris Johnson visited Kyiv on Saturday. He met President Volodymyr Zelensky.",
        [
            "Prime Minister Boris Johnson visited Kyiv on Saturday.",
            "He met President Volodymyr Zelensky.",
        ],
    ),
    (
        "The Pentagon said the U.S. would send 155mm howitzers. Deliveries start next week.",
        ["The Pentagon said the U.S. would send 155mm howitzers.", "Deliveries start next week."],
    ),
    (
        "Gazprom cut supplies to Poland and Bulgaria. Prices jumped 20% in Europe.",
        ["Gazprom cut supplies to Poland and Bulgaria.", "Prices jumped 20% in Europe."],
    ),
    (
        "“This is blackmail,” said Ursula von der Leyen. “Europe will not be intimidated.”",
        ["“This is blackmail,” said Ursula von der Leyen.", "“Europe will not be intimidated.”"],
    ),
    (
        "Sen. Lindsey Graham (R-S.C.) called for more aid. Rep. Ilhan Omar disagreed.",
        ["Sen. Lindsey Graham (R-S.C.) called for more aid.", "Rep. Ilhan Omar disagreed."],
    ),
    (
        "The rouble traded at 72.5 per dollar on Wednesday, down 0.8%. Analysts expect more volatility.",
        [
            "The rouble traded at 72.5 per dollar on Wednesday, down 0.8%.",
            "Analysts expect more volatility.",
        ],
    ),
    (
        "Is the war nearing a turning point? Military analysts are divided.",
        ["Is the war nearing a turning point?", "Military analysts are divided."],
    ),
    (
        "The statement was signed by Dr. Tedros Adhanom Ghebreyesus, head of the W.H.O. It urged restraint.",
        [
            "The statement was signed by Dr. Tedros Adhanom Ghebreyesus, head of the W.H.O.",
            "It urged restraint.",
        ],
    ),
    (
        "Mariupol's mayor, Vadym Boichenko, said about 100,000 people remained. Many lack water.",
        [
            "Mariupol's mayor, Vadym Boichenko, said about 100,000 people remained.",
            "Many lack water.",
        ],
    ),
    (
        "Kremlin spokesman Dmitry Peskov told reporters: “There is no progress.” Talks have stalled.",
        [
            "Kremlin spokesman Dmitry Peskov told reporters: “There is no progress.”",
            "Talks have stalled.",
        ],
    ),
    (
        "The company, based in Palo Alto, Calif., reported revenue of $18.76 billion. Its shares fell 12%.",
        [
            "The company, based in Palo Alto, Calif., reported revenue of $18.76 billion.",
            "Its shares fell 12%.",
        ],
    ),
    (
        "At 5 a.m. local time, sirens sounded across the city. Residents fled to shelters.",
        ["At 5 a.m. local time, sirens sounded across the city.", "Residents fled to shelters."],
    ),
    (
        "The meeting ended at 4 p.m. Officials gave no statement afterwards.",
        ["The meeting ended at 4 p.m.", "Officials gave no statement afterwards."],
    ),
    (
        "“Are we safe?” asked one woman. “Nobody can tell us.”",
        ["“Are we safe?” asked one woman.", "“Nobody can tell us.”"],
    ),
    (
        "Ukraine's foreign minister, Dmytro Kuleba, wrote on Twitter: 'We need weapons, weapons, weapons.' NATO ministers met the next day.",
        [
            "Ukraine's foreign minister, Dmytro Kuleba, wrote on Twitter: 'We need weapons, weapons, weapons.'",
            "NATO ministers met the next day.",
        ],
    ),
    (
        "The report (pp. 12-14) details the attacks. It was published by Amnesty International.",
        [
            "The report (pp. 12-14) details the attacks.",
            "It was published by Amnesty International.",
        ],
    ),
    (
        "Prof. Anna Petrova of Moscow State University disagreed. She called the figures inflated.",
        [
            "Prof. Anna Petrova of Moscow State University disagreed.",
            "She called the figures inflated.",
        ],
    ),
    (
        "Exports to the E.U. fell sharply in March. Imports from China rose.",
        ["Exports to the E.U. fell sharply in March.", "Imports from China rose."],
    ),
    (
        "The vessel, the Moskva, sank on April 14. Russia blamed a fire.",
        ["The vessel, the Moskva, sank on April 14.", "Russia blamed a fire."],
    ),
    (
        "Zelensky addressed the U.K. Parliament by video. MPs gave him a standing ovation.",
        ["Zelensky addressed the U.K. Parliament by video.", "MPs gave him a standing ovation."],
    ),
    (
        "He cited Article 51 of the U.N. Charter. Western governments rejected the argument.",
        ["He cited Article 51 of the U.N. Charter.", "Western governments rejected the argument."],
    ),
    (
        "Casualty figures could not be independently verified. Both sides accuse each other of shelling civilians.",
        [
            "Casualty figures could not be independently verified.",
            "Both sides accuse each other of shelling civilians.",
        ],
    ),
    (
        "The fund's assets total approx. 640 billion dollars. About half is frozen.",
        ["The fund's assets total approx. 640 billion dollars.", "About half is frozen."],
    ),
    (
        "Wheat futures in Chicago rose 5.7 cents to $10.93 a bushel. Corn was little changed.",
        ["Wheat futures in Chicago rose 5.7 cents to $10.93 a bushel.", "Corn was little changed."],
    ),
    (
        "“We did not start this war!” Lavrov insisted. Critics pointed to the invasion on Feb. 24.",
        [
            "“We did not start this war!” Lavrov insisted.",
            "Critics pointed to the invasion on Feb. 24.",
        ],
    ),
    (
        "The Ministry said 2,500 troops were involved. 300 of them were wounded.",
        ["The Ministry said 2,500 troops were involved.", "300 of them were wounded."],
    ),
    (
        "See the full list at https://example.org/list?id=42&lang=en. It is updated daily.",
        ["See the full list at https://example.org/list?id=42&lang=en.", "It is updated daily."],
    ),
    (
        "Mr. and Mrs. Kovalenko left Kharkiv in March. Their son stayed behind.",
        ["Mr. and Mrs. Kovalenko left Kharkiv in March.", "Their son stayed behind."],
    ),
    (
        "The grain deal was brokered by Turkey and the United Nations. Ships began moving in August.",
        [
            "The grain deal was brokered by Turkey and the United Nations.",
            "Ships began moving in August.",
        ],
    ),
    (
        'Reuters could not reach the ministry for comment. A spokesperson later said: "No comment."',
        [
            "Reuters could not reach the ministry for comment.",
            'A spokesperson later said: "No comment."',
        ],
    ),
]

Span = tuple[int, int]
Segmenter = Callable[[str], list[Span]]


# --- wrapping libraries so they keep the offset contract --------------------------------


class AlignmentError(Exception):
    """The library changed the text so its sentences cannot be mapped back to offsets."""


def align(text: str, sentences: list[str]) -> list[Span]:
    """Map sentence strings back to ``text`` by walking their non-space characters.

    Libraries normalise whitespace (and sometimes more); the non-space characters must
    appear in ``text`` in the same order, or AlignmentError is raised.
    """
    spans: list[Span] = []
    pos = 0
    n = len(text)
    for sentence in sentences:
        start = end = -1
        for ch in sentence:
            if ch.isspace():
                continue
            while pos < n and text[pos].isspace():
                pos += 1
            if pos >= n or text[pos] != ch:
                raise AlignmentError(f"{ch!r} not at {pos}: {text[pos : pos + 20]!r}")
            if start < 0:
                start = pos
            pos += 1
            end = pos
        if start >= 0:
            spans.append((start, end))
    return spans


def enforce_contract(text: str, spans: list[Span]) -> list[Span]:
    """Split spans at line breaks, strip whitespace, and fail on lost characters."""
    out: list[Span] = []
    for start, end in spans:
        for line in text[start:end].splitlines(keepends=True):
            stripped = line.strip()
            if stripped:
                s = start + line.index(stripped[0])
                out.append((s, s + len(stripped)))
            start += len(line)
    covered = sum(b - a - sum(c.isspace() for c in text[a:b]) for a, b in out)
    if covered != sum(1 for c in text if not c.isspace()):
        raise AlignmentError("characters lost or duplicated")
    return out


def wrap_strings(fn: Callable[[str], list[str]]) -> Segmenter:
    return lambda text: enforce_contract(text, align(text, fn(text)))


def load_segmenters() -> dict[str, Segmenter | str]:
    """Name → segmenter, or name → why it is unavailable."""
    segs: dict[str, Segmenter | str] = {"rules (chosen)": split_sentences}
    try:
        import pysbd

        seg = pysbd.Segmenter(language="en", clean=False)
        segs["pysbd"] = wrap_strings(seg.segment)
    except ImportError as exc:
        segs["pysbd"] = f"not installed ({exc})"
    try:
        from syntok import segmenter as syntok_segmenter

        def syntok_spans(text: str) -> list[Span]:
            spans = []
            for paragraph in syntok_segmenter.analyze(text):
                for sentence in paragraph:
                    first, last = sentence[0], sentence[-1]
                    spans.append((first.offset, last.offset + len(last.value)))
            return enforce_contract(text, spans)

        segs["syntok"] = syntok_spans
    except ImportError as exc:
        segs["syntok"] = f"not installed ({exc})"
    try:
        import blingfire

        segs["blingfire"] = wrap_strings(lambda t: blingfire.text_to_sentences(t).split("\n"))
    except ImportError as exc:
        segs["blingfire"] = f"not installed ({exc})"
    try:
        import sentencex

        segs["sentencex"] = wrap_strings(lambda t: list(sentencex.segment("en", t)))
    except ImportError as exc:
        segs["sentencex"] = f"not installed ({exc})"
    return segs


# --- quality -----------------------------------------------------------------------------


def boundaries(spans: list[Span]) -> set[int]:
    """Sentence starts after the first: a break decision, independent of stripping."""
    return {a for a, _ in spans[1:]}


def quality(seg: Segmenter, cases: list[tuple[str, str, list[str]]]) -> dict[str, object]:
    exact = tp = fp = fn = errors = 0
    failed: list[str] = []
    for case_id, text, expected in cases:
        want = []
        pos = 0
        for sentence in expected:
            pos = text.index(sentence, pos)
            want.append((pos, pos + len(sentence)))
            pos += len(sentence)
        try:
            got = seg(text)
        except AlignmentError:
            errors += 1
            failed.append(case_id + "(offsets lost)")
            continue
        if got == want:
            exact += 1
        else:
            failed.append(case_id)
        g, w = boundaries(got), boundaries(want)
        tp += len(g & w)
        fp += len(g - w)
        fn += len(w - g)
    held_ok = 0
    for text, expected in HELDOUT:
        with contextlib.suppress(AlignmentError):
            held_ok += [text[a:b] for a, b in seg(text)] == expected
    heldout = f"{held_ok}/{len(HELDOUT)}"
    text = FIXTURE.read_text(encoding="utf-8")
    try:
        got_fixture = seg(text)
        g = boundaries(got_fixture)
        w = set(FIXTURE_STARTS[1:])
        fixture = (
            f"{len(got_fixture)} sentences, {len(g & w)}/{len(w)} breaks right, {len(g - w)} false"
        )
    except AlignmentError as exc:
        fixture = f"offsets lost: {exc}"
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "exact": f"{exact}/{len(cases)}",
        "p": precision,
        "r": recall,
        "f1": f1,
        "errors": errors,
        "failed": failed,
        "fixture": fixture,
        "heldout": heldout,
    }


# --- speed -------------------------------------------------------------------------------

_NAMES = ["Vladimir Putin", "Charles Michel", "Sergei Shoigu", "Mikhail Mizintsev", "J. R. Smith"]
_TITLES = ["Mr.", "Dr.", "Gen.", "Lt. Col.", "Sen.", "President", "Defence Minister"]
_PLACES = ["Mariupol", "the U.S.", "St. Petersburg", "Washington, D.C.", "the U.N. headquarters"]
_TEMPLATES = [
    "{title} {name} said on Jan. {d} that {n:,} soldiers had surrendered in {place}.",
    "“We are ready to talk,” {title} {name} told reporters. “But not at any price.”",
    "The deal, worth ${m}.{d}bn, was signed in {place} at {d}.30 a.m. on Friday.",
    "“Why now?” {name} asked. Officials in {place} declined to comment.",
    "More than {n:,} civilians, including {d} foreigners, have been evacuated (e.g. by bus).",
    "Inflation rose to {d}.{m} per cent, according to figures published at www.example.com.",
    "He said the results were... disappointing, and that No. {d} would follow.",
    "{name} met {title} {name} in {place}. They spoke for {d} hours.",
]


def synthetic_news(n_docs: int, target_chars: int = 4000, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    docs = []
    for _ in range(n_docs):
        lines: list[str] = ["Headline: Talks Resume as Ceasefire Holds in " + rng.choice(_PLACES)]
        size = len(lines[0])
        while size < target_chars:
            para = " ".join(
                rng.choice(_TEMPLATES).format(
                    title=rng.choice(_TITLES),
                    name=rng.choice(_NAMES),
                    place=rng.choice(_PLACES),
                    n=rng.randrange(100, 200_000),
                    d=rng.randrange(1, 29),
                    m=rng.randrange(1, 10),
                )
                for _ in range(rng.randrange(1, 5))
            )
            lines.append(para)
            size += len(para) + 1
        docs.append("\n".join(lines))
    return docs


def speed(seg: Segmenter, docs: list[str], runs: int) -> tuple[float, float, float]:
    """(sentences/s, KB/s, seconds per run) — medians over ``runs`` runs."""
    kb = sum(len(d.encode("utf-8")) for d in docs) / 1024
    n_sentences = sum(len(seg(d)) for d in docs)  # warm-up and count
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for d in docs:
            seg(d)
        times.append(time.perf_counter() - t0)
    t = statistics.median(times)
    return n_sentences / t, kb / t, t


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--docs", type=int, default=100, help="documents per corpus")
    parser.add_argument("--quick", action="store_true", help="3 runs of 20 documents")
    parser.add_argument("--show-fixture", action="store_true", help="print its sentences")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.docs = 3, 20

    fixture = FIXTURE.read_text(encoding="utf-8")
    if args.show_fixture:
        for i, (a, b) in enumerate(split_sentences(fixture)):
            print(f"{i:2d} [{a}:{b}] {fixture[a:b]}")
        return

    import platform

    print(f"Python {platform.python_version()} on {platform.machine()}, {args.runs} runs")
    segmenters = load_segmenters()
    available = {k: v for k, v in segmenters.items() if callable(v)}
    for name, why in segmenters.items():
        if not callable(why):
            print(f"{name}: {why}")

    from tests.test_segmentation import CASES

    print("\n## Quality: tricky-case table (in-sample), held-out cases, demo document")
    print(
        f"{'segmenter':<16} {'cases exact':>11} {'P':>6} {'R':>6} {'F1':>6} "
        f"{'held-out':>9}  demo document"
    )
    for name, seg in available.items():
        q = quality(seg, CASES)
        print(
            f"{name:<16} {q['exact']:>11} {q['p']:6.3f} {q['r']:6.3f} {q['f1']:6.3f} "
            f"{q['heldout']:>9}  {q['fixture']}"
        )
        if q["failed"]:
            print(f"{'':<16} failed: {', '.join(q['failed'])}")

    corpora = {
        f"demo document x{args.docs}": [fixture] * args.docs,
        f"synthetic news, {args.docs} docs": synthetic_news(args.docs),
    }
    for corpus_name, docs in corpora.items():
        kb = sum(len(d.encode("utf-8")) for d in docs) / 1024
        print(f"\n## Speed: {corpus_name} ({kb:.0f} KB, one call per document)")
        print(f"{'segmenter':<16} {'sentences/s':>12} {'KB/s':>10} {'ms/KB':>8} {'x slower':>9}")
        base = None
        for name, seg in available.items():
            sps, kbps, _ = speed(seg, docs, args.runs)
            if base is None:
                base = kbps
            print(f"{name:<16} {sps:12,.0f} {kbps:10,.0f} {1000 / kbps:8.3f} {base / kbps:9.1f}")


if __name__ == "__main__":
    main()
