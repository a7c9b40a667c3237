"""Rule-based attribution suggestions: (source, cue, content) spans for one sentence.

Pure Python (``re`` only), offline, no model. Offsets are document offsets in Unicode
code points, half-open, like the attribution value the API stores. The rules:

* a cue is a reporting verb or phrase of ``labeling.suggesting.lexicon`` outside any
  quotation, in the task's sentence;
* content before the cue (``“…,” the ministry said``; ``Prices rose, officials said``),
  after it (``said that …``, ``said: “…”``, ``told reporters …``), or on the other side
  of ``according to X``; a quotation that opened in an earlier sentence of the same
  paragraph is followed back to its opening mark;
* the source is the noun phrase next to the cue (before it, or after it when inverted:
  ``said Marc Dubois, head of …``), with an apposition; a pronoun (he, she, it, they) is
  replaced by the nearest earlier source in the document that fits it (person or
  organisation), else by the subject of the nearest earlier sentence naming one;
* a headline ``Russian MoD: Moscow ready …`` gives a low-confidence triple with ``:`` as cue.

Spans follow the labelling conventions of ``bench/attribution_gold.py``.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from labeling.suggesting.lexicon import CUE_RE, NEEDS_FRAME, TAKES_OBJECT, lemma_of
from labeling.suggesting.quotes import CLOSERS, OPENERS, Quote, find_quotes, paragraph_bounds

__all__ = ["Suggestion", "suggest_attributions"]


def _words(words: str) -> frozenset[str]:
    return frozenset(words.split())


Span = tuple[int, int]

# Combining marks belong to the word they follow ("e\u0301").
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_W = rf"[\w{_MARKS}]"
_TOKEN_RE = re.compile(rf"{_W}+(?:['’\-]{_W}+)*|\S")

_DETERMINERS = _words("the a an his her its their our this these those")
_NAME_PREPS = _words("of in at for from")
_BOUNDARY_WORDS = _words(
    """that which who whom whose and but or nor while after before as because when where if
    than though although since until unless so whether amid during with without by to into
    on over under about against between through via per not"""
)
_PASSIVE_AUX = _words("was were is are be been being")
_SKIPPABLE = _words(
    """has have had was were is are also later earlier previously then again repeatedly
    reportedly further separately too once first last still now did does do would will
    never not already yesterday today"""
)
_WEEKDAYS = _words("monday tuesday wednesday thursday friday saturday sunday")
_PRONOUNS = _words("he she it they")
_PERSON_NOUNS = _words(
    """president minister chancellor leader head chief spokesman spokeswoman spokesperson
    governor mayor executive economist analyst lawyer attorney coach activist defender
    striker official secretary director ambassador general commander prime king queen pope
    senator lawmaker mp prosecutor judge envoy adviser advisor founder chairman chairwoman
    chair ceo manager captain player doctor scientist professor researcher witness
    resident farmer worker fisherman mother father man woman"""
)
_ORG_NOUNS = _words(
    """service ministry government agency office company council police court army force
    military kremlin bank union party committee commission department guard authority
    organization organisation carrier airline firm group media network board cabinet
    parliament congress senate embassy institute centre center university hospital fund
    administration regulator watchdog statement report newspaper broadcaster
    mod"""
)
_PLURAL_PERSON = _words("officials lawmakers analysts police people residents")
_FORWARD_STOP = _words(
    "who which whose adding saying as when while after but and according in on during"
)
_ADJUNCT_RE = re.compile(
    r"\s+(?:(?:late |early )?on (?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
    r"|in a (?:statement|filing|post|speech|briefing)|yesterday|today|overnight)$"
)
_AFTER_CUE_ADJUNCT_RE = re.compile(
    r"(?:(?:late |early )?on (?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
    r"|on (?:Telegram|Twitter|X|Facebook|Instagram|television|state television|social media)"
    r"|in an? (?:statement|interview|filing|post|speech|briefing|televised address)"
    r"|at an? (?:news|press) conference|yesterday|today|overnight|earlier|later)"
    r"(?![\w’'-])\s*,?\s*"
)
_TRAILING_ADJUNCT_RE = re.compile(
    r"\s+(?:during|at|in) (?:the|a|an) (?:trial|hearing|(?:news |press )?conference|briefing"
    r"|meeting|interview|summit|session|rally|debate)(?: in [A-Z]\w+)?[.!?]?$"
)
_PUNCT_SPACE_RE = re.compile(r"\s*[,:]?\s*")
_THAT_RE = re.compile(r"(?<![\w’'-])that(?![\w’'-])")
_TRAILING = " \t,;:."
_TERMINAL = ".!?…"

# Confidence of each rule (a rough prior, not a calibrated probability).
CONFIDENCE: dict[str, float] = {
    "quote-before-cue": 0.9,
    "cue-before-quote": 0.9,
    "according-to": 0.85,
    "cue-that": 0.8,
    "content-before-cue": 0.7,
    "cue-content": 0.6,
    "headline-colon": 0.4,
}
PRONOUN_FACTOR = 0.9
#: Earlier sentences searched for a pronoun's antecedent.
LOOKBACK = 8
UNRESOLVED_FACTOR = 0.6


@dataclass(frozen=True)
class Suggestion:
    """One suggested triple in document offsets (code points, half-open)."""

    source: Span
    cue: Span
    content: Span
    confidence: float
    rule: str

    def as_value(self) -> dict[str, dict[str, int]]:
        """The triple shaped like an attribution value's element."""
        return {
            role: {"start": span[0], "end": span[1]}
            for role, span in (
                ("source", self.source),
                ("cue", self.cue),
                ("content", self.content),
            )
        }

    def as_dict(self) -> dict[str, object]:
        """The triple plus ``confidence`` and ``rule``."""
        return {**self.as_value(), "confidence": self.confidence, "rule": self.rule}


@dataclass(frozen=True)
class _Raw:
    source: Span
    cue: Span
    content: Span
    rule: str
    pronoun: str = ""  # the source's pronoun, lower case, when it needs resolving


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    text: str

    @property
    def lower(self) -> str:
        return self.text.lower()

    @property
    def is_word(self) -> bool:
        return self.text[0].isalnum() or self.text[0] == "_"

    @property
    def capitalised(self) -> bool:
        return self.text[0].isupper() or (self.is_word and not self.text[0].isalpha())


class _Sentence:
    """One sentence's tokens and the quotations of its paragraph."""

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text, self.start, self.end = text, start, end
        self.tokens = [
            _Token(m.start(), m.end(), m.group()) for m in _TOKEN_RE.finditer(text, start, end)
        ]
        self.starts = [t.start for t in self.tokens]
        self.para = paragraph_bounds(text, start, end)
        self.quotes = [q for q in _paragraph_quotes(text, *self.para) if q.end > start]

    def index_at(self, pos: int) -> int:
        """Index of the first token starting at or after ``pos``."""
        return bisect_left(self.starts, pos)

    def quote_at(self, pos: int) -> Quote | None:
        """The quotation whose marks enclose ``pos`` (marks excluded)."""
        for q in self.quotes:
            if q.start < pos < q.end - (1 if q.closed else 0) or (
                not q.closed and q.start < pos <= q.end
            ):
                return q
        return None

    def quote_ending_at(self, end: int) -> Quote | None:
        return next((q for q in self.quotes if q.closed and q.end == end), None)

    def quote_starting_at(self, start: int) -> Quote | None:
        return next((q for q in self.quotes if q.start == start), None)


@lru_cache(maxsize=64)
def _paragraph_quotes(text: str, lo: int, hi: int) -> tuple[Quote, ...]:
    return tuple(find_quotes(text, lo, hi))


def _trim(s: _Sentence, start: int, end: int) -> Span | None:
    """Content span without outer spaces, trailing ``, ; : .``, and enclosing quote marks."""
    text = s.text
    for _ in range(2):
        while start < end and text[start].isspace():
            start += 1
        while start < end and text[end - 1] in _TRAILING:
            end -= 1
        quote = s.quote_starting_at(start)
        if quote is None or not quote.closed or quote.end != end:
            break
        start, end = quote.start + 1, quote.end - 1
    return (start, end) if start < end else None


def _skip_back(s: _Sentence, i: int, lo: int) -> tuple[int, bool]:
    """Step back over auxiliaries, adverbs and a weekday adjunct before token ``i``.

    Returns the index just past the noun phrase's last token and whether a passive
    auxiliary (``was``, ``were`` …) was passed.
    """
    passive = False
    while i > lo:
        word = s.tokens[i - 1]
        lower = word.lower
        if lower in _SKIPPABLE or (lower.endswith("ly") and len(lower) > 4 and word.is_word):
            passive = passive or lower in _PASSIVE_AUX
            i -= 1
        elif lower in _WEEKDAYS and i - 2 >= lo and s.tokens[i - 2].lower == "on":
            i -= 2
        else:
            break
    return i, passive


def _np_back(s: _Sentence, i: int, lo: int) -> int:
    """Index of the first token of the noun phrase that ends just before token ``i``."""
    j = i
    while j > lo and i - j < 12:
        token = s.tokens[j - 1]
        lower = token.lower
        if token.text in "’'" and j - 2 >= lo and s.tokens[j - 2].end == token.start:
            j -= 1  # possessive "Pilots’"
            continue
        if token.text == "." and j < i and j - 2 >= lo and _abbreviation(s.tokens[j - 2], token):
            j -= 1  # "Col. Jean-Pierre Kabila", "a senior U.S. official"
            continue
        if not token.is_word or lower in _BOUNDARY_WORDS or lower in _SKIPPABLE:
            if lower in _NAME_PREPS and j < i and j - 2 >= lo and s.tokens[j - 2].is_word:
                before = s.tokens[j - 2].lower
                if before not in _BOUNDARY_WORDS and before not in _SKIPPABLE:
                    j -= 1  # "head of the …", "police in Kharkiv"
                    continue
            break
        j -= 1
        if lower in _DETERMINERS:
            prep = s.tokens[j - 1] if j - 1 >= lo else None
            if prep is None or prep.lower not in _NAME_PREPS:
                break
    return j


def _abbreviation(word: _Token, dot: _Token) -> bool:
    """``Col.``, ``U.``: a short capitalised word with its full stop attached."""
    return word.is_word and word.capitalised and len(word.text) <= 4 and word.end == dot.start


def _np_forward(s: _Sentence, i: int, hi: int, *, appositive: bool) -> int:
    """Index just past the noun phrase starting at token ``i`` (to ``hi`` at most)."""
    j = i
    commas = 0
    while j < hi:
        token = s.tokens[j]
        if token.text == ",":
            nxt = s.tokens[j + 1] if j + 1 < hi else None
            if not appositive or commas or nxt is None or nxt.lower in _FORWARD_STOP:
                break
            commas += 1
            j += 1
            continue
        if not token.is_word and token.text not in "’'()-":
            break
        if token.lower in _FORWARD_STOP and token.lower not in _NAME_PREPS:
            break
        following = s.tokens[j + 1].lower if j + 1 < hi else ""
        if token.lower in ("on", "in") and (following in _WEEKDAYS or following in ("a", "an")):
            break
        j += 1
    while j > i and not s.tokens[j - 1].is_word and s.tokens[j - 1].text not in ")":
        j -= 1
    return j


def _subject(s: _Sentence) -> Span | None:
    """The sentence-initial noun phrase when it names someone (title words and names)."""
    tokens = s.tokens
    j = 0
    while j < len(tokens):
        token = tokens[j]
        if token.text in "’'" and j and tokens[j - 1].end == token.start:
            j += 1
            continue
        ok = token.is_word and (
            token.capitalised
            or token.lower in _PERSON_NOUNS
            or token.lower in _ORG_NOUNS
            or (j == 0 and token.lower in _DETERMINERS)
        )
        if not ok:
            break
        j += 1
    if j == 0 or not any(t.capitalised for t in tokens[:j] if t.lower not in _DETERMINERS):
        return None
    if tokens[0].lower in _DETERMINERS and j == 1:
        return None
    return tokens[0].start, tokens[j - 1].end


def _clause_start(s: _Sentence, pos: int) -> int:
    """Where content before ``pos`` starts: the sentence (or the quotation open at its
    start), or after a full stop the segmenter missed."""
    for j in range(s.index_at(pos) - 1, 0, -1):
        if _missed_boundary(s, j):
            return s.tokens[j].end
    quote = s.quote_at(s.start)
    if quote is not None and quote.start < s.start and quote.end <= pos + 1:
        return quote.start
    return s.start


def _content_before(s: _Sentence, sep: int) -> tuple[Span | None, str]:
    """Content ending at the separator before the source (``,`` or a closing quote)."""
    text = s.text
    end = sep
    while end > s.start and text[end - 1].isspace():
        end -= 1
    if end > s.start and text[end - 1] == ",":
        end -= 1
    clause = _clause_start(s, end)
    if end > s.start and text[end - 1] in CLOSERS:
        quote = s.quote_ending_at(end)
        if quote is not None and (quote.start <= clause or not text[clause : quote.start].strip()):
            return _trim(s, quote.start, quote.end), "quote-before-cue"
    return _trim(s, clause, end), "content-before-cue"


def _content_end(s: _Sentence, start: int, cue_index: int) -> int:
    """End of content that runs from ``start`` to the end of its clause."""
    end = s.end
    for j in range(cue_index + 1, len(s.tokens)):
        token = s.tokens[j]
        if token.start < start:
            continue
        nxt = s.tokens[j + 1] if j + 1 < len(s.tokens) else None
        if token.text == "," and nxt is not None and nxt.lower == "according":
            end = token.start
            break
        if token.lower in ("and", "but") and nxt is not None and _is_cue_token(s, j + 1):
            end = token.start
            break
        if _missed_boundary(s, j):
            end = token.end
            break
    quote = s.quote_at(end - 1) if end > start else None
    if quote is not None and quote.start >= start and quote.end > end:
        end = quote.end  # a quotation that runs on into the next sentence
    return end


def _missed_boundary(s: _Sentence, j: int) -> bool:
    """A full stop the segmenter kept inside: ``workers. « Nous …`` (outside quotations)."""
    tokens = s.tokens
    if tokens[j].text not in ".!?" or j == 0 or j + 1 >= len(tokens):
        return False
    before, after = tokens[j - 1], tokens[j + 1]
    return (
        before.is_word
        and before.text.islower()
        and len(before.text) > 1
        and after.start > tokens[j].end
        and (after.text in OPENERS or after.text[0].isupper())
        and s.quote_at(tokens[j].start) is None
    )


def _is_cue_token(s: _Sentence, j: int) -> bool:
    token = s.tokens[j]
    if token.lower == "also" and j + 1 < len(s.tokens):
        token = s.tokens[j + 1]
    match = CUE_RE.match(s.text, token.start, s.end)
    return match is not None


def _content_after(
    s: _Sentence, cue_end: int, cue_index: int, lemma: str, needs_that: bool
) -> tuple[Span | None, str]:
    """Content after the cue: a quotation, a ``that`` clause, or the rest of the clause."""
    text = s.text
    pos = cue_end
    while pos < s.end and text[pos].isspace():
        pos += 1
    while (adjunct := _AFTER_CUE_ADJUNCT_RE.match(text, pos, s.end)) is not None:
        pos = adjunct.end()
    m = _PUNCT_SPACE_RE.match(text, pos, s.end)
    after_punct = m.end() if m else pos
    if after_punct < s.end and text[after_punct] in OPENERS:
        quote = s.quote_starting_at(after_punct)
        if quote is not None and (text[pos:after_punct].strip() or quote.end >= s.end - 1):
            return _trim(s, quote.start, quote.end), "cue-before-quote"
    words = s.tokens[cue_index + 1 : cue_index + 14]
    for k, token in enumerate(words):
        if token.lower == "that" and _THAT_RE.fullmatch(token.text):
            if all(w.is_word and w.lower not in _SKIPPABLE for w in words[:k]):
                start = token.end
                return _trim(s, start, _content_end(s, start, cue_index)), "cue-that"
            break
        if not token.is_word:
            break
    if needs_that or lemma in NEEDS_FRAME:
        return None, ""
    j = s.index_at(pos)
    if lemma in TAKES_OBJECT and j < len(s.tokens):
        obj = s.tokens[j]
        if obj.capitalised:
            while j < len(s.tokens) and s.tokens[j].capitalised and s.tokens[j].is_word:
                j += 1
        elif obj.is_word:
            j += 1
        if j < len(s.tokens):
            pos = s.tokens[j].start
            adjunct = _AFTER_CUE_ADJUNCT_RE.match(text, pos)
            pos = adjunct.end() if adjunct else pos
    end = _content_end(s, pos, cue_index)
    adjunct = _TRAILING_ADJUNCT_RE.search(text, pos, end)
    return _trim(s, pos, adjunct.start() if adjunct else end), "cue-content"


def _pronoun(s: _Sentence, span: Span) -> str:
    word = s.text[span[0] : span[1]].lower()
    return word if word in _PRONOUNS else ""


def _according_to(s: _Sentence, cue_index: int, cue: Span) -> _Raw | None:
    """``according to X, content`` or ``content, according to X``."""
    last = s.index_at(cue[1])
    src_end = _np_forward(s, last, len(s.tokens), appositive=False)
    if src_end == last:
        return None
    source = (s.tokens[last].start, s.tokens[src_end - 1].end)
    before = s.text[s.start : cue[0]].strip()
    if not before or before[-1] in OPENERS:
        comma = next((t for t in s.tokens[src_end:] if t.text == ","), None)
        if comma is None:
            return None
        content = _trim(s, comma.end, _content_end(s, comma.end, src_end))
    else:
        content, _ = _content_before(s, cue[0])
    if content is None:
        return None
    return _Raw(source, cue, content, "according-to", _pronoun(s, source))


def _triple_for_cue(s: _Sentence, match: re.Match[str], earlier: list[_Raw]) -> _Raw | None:
    cue = (match.start(), match.end())
    lemma, needs_that = lemma_of(match.group())
    i = s.index_at(cue[0])
    if lemma == "according to":
        return _according_to(s, i, cue)
    k, passive = _skip_back(s, i, 0)
    if passive and not match.group().lower().endswith("ing"):
        return None
    prev = s.tokens[k - 1] if k > 0 else None
    if prev is not None and prev.lower in _DETERMINERS:
        return None  # "the said agreement"
    # "X, the head of Y, said …" / "X, for his part, said …"
    if prev is not None and prev.text == ",":
        raw = _appositive(s, k - 1, cue, lemma, needs_that)
        if raw is not None:
            return raw
    # "X welcomed the fine, saying …": the subject of the sentence speaks.
    if prev is not None and prev.text == "," and match.group().lower().endswith("ing"):
        source = earlier[-1].source if earlier else _subject(s)
        content, rule = _content_after(s, cue[1], i, lemma, needs_that)
        if source is None or content is None:
            return None
        return _Raw(source, cue, content, rule, earlier[-1].pronoun if earlier else "")
    # "…,” said X" / "Prices will rise, said the minister.": the source follows the cue.
    if prev is not None and (prev.text in CLOSERS or prev.text == ","):
        return _inverted(s, prev, cue)
    start = _np_back(s, k, 0)
    if start == k:
        if prev is not None and prev.lower in ("and", "but") and earlier:
            source = earlier[-1].source
            content, rule = _content_after(s, cue[1], i, lemma, needs_that)
            return _Raw(source, cue, content, rule, earlier[-1].pronoun) if content else None
        if prev is not None and prev.lower in ("and", "but"):
            subject = _subject(s)
            if subject is None:
                return None
            content, rule = _content_after(s, cue[1], i, lemma, needs_that)
            return _Raw(subject, cue, content, rule) if content else None
        return None
    source = (s.tokens[start].start, s.tokens[k - 1].end)
    return _with_content(s, start, source, cue, i, lemma, needs_that)


def _with_content(
    s: _Sentence, np_start: int, source: Span, cue: Span, i: int, lemma: str, needs_that: bool
) -> _Raw | None:
    """Choose content before the source (``…, X said``) or after the cue."""
    before = s.tokens[np_start - 1] if np_start > 0 else None
    content: Span | None = None
    rule = ""
    if before is not None and before.text in CLOSERS:
        content, rule = _content_before(s, before.end)
    elif before is not None and before.text == ",":
        rest = s.text[cue[1] : s.end]
        rest = _AFTER_CUE_ADJUNCT_RE.sub(" ", rest + " ").strip(" " + _TERMINAL + '”"’»')
        frames_after = bool(re.match(r"(?:that\b|[,:]?\s*[“\"«„「])", rest))
        if not frames_after and (len(rest.split()) <= 3 or rest.startswith(",")):
            content, rule = _content_before(s, before.end)
    if content is None:
        content, rule = _content_after(s, cue[1], i, lemma, needs_that)
    if content is None:
        return None
    return _Raw(source, cue, content, rule, _pronoun(s, source))


def _inverted(s: _Sentence, prev: _Token, cue: Span) -> _Raw | None:
    """``“…,” said X`` or ``…, said X.``: content before the cue, source after it."""
    content, rule = _content_before(s, prev.end)
    nxt = s.index_at(cue[1])
    if content is None or nxt >= len(s.tokens):
        return None
    src_end = _np_forward(s, nxt, len(s.tokens), appositive=True)
    after_cue = s.tokens[nxt]
    if src_end == nxt or not (after_cue.capitalised or after_cue.lower in _DETERMINERS):
        return None
    rest = s.text[s.tokens[src_end - 1].end : s.end]
    if prev.text == "," and not re.fullmatch(r"[\s.!?”\"’»]*|,.*", rest):
        return None  # "…, told Reuters the verdict …" is no inversion
    source = (after_cue.start, s.tokens[src_end - 1].end)
    return _Raw(source, cue, content, rule, _pronoun(s, source))


def _appositive(
    s: _Sentence, comma_index: int, cue: Span, lemma: str, needs_that: bool
) -> _Raw | None:
    """``X, the head of Y, said`` (apposition) or ``X, for his part, said`` (aside)."""
    tokens = s.tokens
    first_comma = next(
        (j for j in range(comma_index - 1, max(-1, comma_index - 16), -1) if tokens[j].text == ","),
        None,
    )
    if first_comma is None:
        return None
    inner = tokens[first_comma + 1 : comma_index]
    if not inner:
        return None
    name_start = _np_back(s, first_comma, 0)
    if name_start == first_comma:
        return None
    head = inner[0]
    aside = head.lower in _BOUNDARY_WORDS or head.lower in ("for", "however", "meanwhile")
    if aside:
        source = (tokens[name_start].start, tokens[first_comma - 1].end)
    else:
        if _np_back(s, comma_index, first_comma + 1) != first_comma + 1:
            return None  # the part between the commas is not one noun phrase
        source = (tokens[name_start].start, tokens[comma_index - 1].end)
    i = s.index_at(cue[0])
    return _with_content(s, name_start, source, cue, i, lemma, needs_that)


def _headline(s: _Sentence) -> _Raw | None:
    """``Russian MoD: Moscow Ready to …`` on a line of its own without a full stop."""
    if (s.start, s.end) != (s.para[0], s.para[1]) or s.text[s.end - 1] in _TERMINAL + '”"':
        return None
    colon = next((t for t in s.tokens[:6] if t.text == ":"), None)
    if colon is None:
        return None
    head = [t for t in s.tokens if t.end <= colon.start]
    if not head or not all(t.capitalised for t in head if t.is_word):
        return None
    content = _trim(s, colon.end, s.end)
    if content is None:
        return None
    return _Raw((head[0].start, head[-1].end), (colon.start, colon.end), content, "headline-colon")


@lru_cache(maxsize=256)  # keys hold the text: keep the number small
def _analyse(text: str, start: int, end: int) -> tuple[_Raw, ...]:
    """Triples of one sentence, pronoun sources not yet resolved."""
    s = _Sentence(text, start, end)
    found: list[_Raw] = []
    for match in CUE_RE.finditer(text, start, end):
        if s.quote_at(match.start()) is not None:
            continue  # a reporting verb inside a quotation is part of the content
        raw = _triple_for_cue(s, match, found)
        if raw is not None:
            found.append(raw)
    if not found:
        headline = _headline(s)
        if headline is not None:
            found.append(headline)
    return tuple(found)


def _kind(text: str, span: Span) -> str:
    """``person``, ``org``, ``plural`` or ``unknown`` for a source noun phrase."""
    words = [w.lower() for w in re.findall(rf"{_W}+", text[span[0] : span[1]])]
    head = words
    for k, w in enumerate(words):
        if w in _NAME_PREPS:
            head = words[:k]
            break
    head_text = text[span[0] : span[1]].split(",")[0]
    for w in reversed(head):
        if w in _PERSON_NOUNS:
            return "person"
        if w in _PLURAL_PERSON:
            return "plural"
        if w in _ORG_NOUNS:
            return "org"
    if head and head[-1].endswith("s") and head_text[:1].islower():
        return "plural"
    return "unknown"


_FITS = {
    "he": ("person", "unknown"),
    "she": ("person", "unknown"),
    "it": ("org", "unknown"),
    "they": ("org", "plural", "unknown"),
}


def _resolve(
    text: str, sentences: Sequence[Span], index: int, raw: _Raw, same: Sequence[_Raw]
) -> Span | None:
    """The nearest earlier named source that fits the pronoun of ``raw``."""
    fits = _FITS[raw.pronoun]
    for other in reversed(same):
        if (
            other.source[1] <= raw.source[0]
            and not other.pronoun
            and _kind(text, other.source) in fits
        ):
            return other.source
    for j in range(index - 1, max(-1, index - 1 - LOOKBACK), -1):
        start, end = sentences[j]
        for other in reversed(_analyse(text, start, end)):
            if other.pronoun:
                resolved = _resolve(text, sentences, j, other, ())
                if resolved is not None and _kind(text, resolved) in fits:
                    return resolved
            elif _kind(text, other.source) in fits:
                return other.source
        subject = _subject(_Sentence(text, start, end))
        if subject is None or _kind(text, subject) not in fits:
            continue
        unnamed = _kind(text, subject) == "unknown" and not _looks_like_person(text, subject)
        if raw.pronoun in ("he", "she") and unnamed:
            continue  # "The yen", "Heavy snow": no person to speak
        return subject
    return None


def _looks_like_person(text: str, span: Span) -> bool:
    """At least two capitalised words in a row (a first and a last name)."""
    return re.search(r"[A-Z]\w+\s+[A-Z]\w+", text[span[0] : span[1]]) is not None


def suggest_attributions(
    text: str, sentence: Span, sentences: Sequence[Span] = ()
) -> list[Suggestion]:
    """Suggested triples for the sentence ``text[sentence[0]:sentence[1]]``.

    ``sentences`` are the document's sentence spans, sorted and not overlapping (the
    task's own may be among them); the ``LOOKBACK`` before it serve to resolve pronoun
    sources. Offsets in and out are
    code point indices into ``text``. Results come in cue order.
    """
    start, end = sentence
    if not (0 <= start < end <= len(text)):
        raise ValueError(f"sentence span {sentence!r} is not inside the text")
    before = bisect_left(sentences, (start,))  # spans starting before the sentence
    ordered = [span for span in sentences[max(0, before - LOOKBACK) : before] if span[1] <= start]
    found = _analyse(text, start, end)
    out = []
    for k, raw in enumerate(found):
        confidence = CONFIDENCE[raw.rule]
        rule = raw.rule
        source = raw.source
        if raw.pronoun:
            resolved = _resolve(text, ordered, len(ordered), raw, found[:k])
            if resolved is None:
                confidence *= UNRESOLVED_FACTOR
                rule += "+pronoun-unresolved"
            else:
                source = resolved
                confidence *= PRONOUN_FACTOR
                rule += "+pronoun"
        out.append(Suggestion(source, raw.cue, raw.content, round(confidence, 3), rule))
    return out
