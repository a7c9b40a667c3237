"""Cue lexicon for attribution suggestions: reporting verbs with their inflections, phrases.

Words are matched case-insensitively as whole words. Base forms are left out on purpose
("say", "report", "claim" are mostly nouns or infinitives in news text), and so are the
``-s`` forms of verbs that are also nouns ("reports", "claims", "states"), unless
``that`` follows.
"""

from __future__ import annotations

import re


def _words(words: str) -> frozenset[str]:
    return frozenset(words.split())


# lemma -> irregular forms (past, participle, -s, -ing) where the regular rule fails.
_IRREGULAR: dict[str, tuple[str, ...]] = {
    "say": ("said", "says", "saying"),
    "tell": ("told", "tells", "telling"),
    "write": ("wrote", "written", "writes", "writing"),
    "admit": ("admitted", "admits", "admitting"),
    "point out": ("pointed out", "points out", "pointing out"),
}

# Reporting verbs whose inflected forms are cues on their own.
_VERBS = _words(
    """
    say tell add note stress claim deny warn announce report state emphasise emphasize
    insist accuse urge explain argue suggest confirm write declare assert acknowledge admit
    allege remark reply respond vow caution contend observe reveal disclose mention
    describe complain reiterate concede testify tweet post predict pledge underline
    underscore point_out estimate threaten recall reject rule
    """
)

# Verbs that are cues only with a frame: ``that``, a quotation, or content before them
# ("The index added 3%" is no attribution; "He added that" is).
NEEDS_FRAME: frozenset[str] = _words(
    "add post estimate recall reveal predict threaten pledge mention "
    "indicate maintain conclude promise signal rule"
)
# Verbs also common as nouns: their ``-s`` form counts only before ``that``.
NOUN_LIKE: frozenset[str] = _words(
    "claim report state note remark reply comment tweet post estimate pledge vow"
)
# Verbs whose indirect object comes between the cue and the content ("told reporters").
TAKES_OBJECT: frozenset[str] = _words("tell warn assure inform remind")
_EXTRA_FRAMED = ("indicate", "maintain", "conclude", "promise", "signal")

PHRASES: dict[str, str] = {"according to": "according to", "quoted as saying": "say"}


def _regular(lemma: str) -> tuple[str, str, str]:
    """Past, ``-s`` and ``-ing`` forms by the regular English rules."""
    if lemma.endswith("e"):
        return lemma + "d", lemma + "s", lemma[:-1] + "ing"
    if lemma.endswith("y") and lemma[-2] not in "aeiou":
        return lemma[:-1] + "ied", lemma[:-1] + "ies", lemma + "ing"
    if lemma.endswith(("s", "sh", "ch", "x")):
        return lemma + "ed", lemma + "es", lemma + "ing"
    return lemma + "ed", lemma + "s", lemma + "ing"


def _forms() -> dict[str, tuple[str, bool]]:
    """Every cue form -> (lemma, whether only a following ``that`` makes it a cue)."""
    forms: dict[str, tuple[str, bool]] = {}
    for raw in (*_VERBS, *_EXTRA_FRAMED):
        lemma = raw.replace("_", " ")
        if lemma in _IRREGULAR:
            inflected = _IRREGULAR[lemma]
            s_form = next(f for f in inflected if f.split()[0].endswith("s") and "ing" not in f)
        else:
            past, s_form, ing = _regular(lemma)
            inflected = (past, s_form, ing)
        for form in inflected:
            forms[form] = (lemma, form == s_form and lemma in NOUN_LIKE)
    for phrase, lemma in PHRASES.items():
        forms[phrase] = (lemma, False)
    return forms


#: cue form (lower case) -> (lemma, needs ``that`` right after it)
CUE_FORMS: dict[str, tuple[str, bool]] = _forms()

#: Whole-word, case-insensitive matcher of every cue form, longest first.
CUE_RE = re.compile(
    r"(?<![\w’'-])(?:"
    + "|".join(re.escape(f).replace(r"\ ", r"\s+") for f in sorted(CUE_FORMS, key=len)[::-1])
    + r")(?![\w’'-])",
    re.IGNORECASE,
)


def lemma_of(form: str) -> tuple[str, bool]:
    """``(lemma, needs_that)`` of a matched cue form (any case, any inner whitespace)."""
    return CUE_FORMS[" ".join(form.lower().split())]
