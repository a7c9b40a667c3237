"""Rule-based English sentence segmentation with exact character offsets.

``split_sentences(text)`` returns half-open ``(start, end)`` spans into ``text`` such that
``text[start:end]`` is one sentence. The contract, which callers (the importer, the
attribution tasks that use document offsets) rely on:

* spans are in order and do not overlap;
* no span starts or ends with whitespace (``str.isspace``) and no span is empty;
* every non-whitespace character of ``text`` lies in exactly one span;
* a line break always ends a sentence: no span contains ``\\n``, ``\\r`` or any other
  character that ``str.splitlines`` breaks on. A headline line without a full stop is
  therefore a sentence of its own.

Within a line, a sentence ends after a run of terminators (``. ! ? ‽ …``) plus any
closing quotes/brackets, when whitespace follows and the next word looks like the start
of a sentence (an upper-case letter, a digit, a currency sign or an opening quote). Most
false breaks are avoided by these rules:

* the next word starts with a lower-case letter: never a break (``“Why?” he asked.``,
  ``approx. five``, ``wait... what``);
* terminators not followed by whitespace are never a break (``3.5``, ``$2.4bn``,
  ``U.S.-led``, ``www.example.com``, ``a@b.org``);
* titles that precede a name never end a sentence (``Mr.``, ``Dr.``, ``Gen.``,
  ``Lt. Col.``, ``e.g.``, ``i.e.``, ...);
* numeric abbreviations before a number never end a sentence (``No. 10``, ``Jan. 5``,
  ``pp. 3-4``, ``approx. 200``);
* ambiguous abbreviations — dotted acronyms (``U.S.``, ``U.N.``, ``a.m.``), single-letter
  initials (``J. R. R. Tolkien``), ``Inc.``, ``Jr.``, ``St.``, ``etc.``, months, AP state
  abbreviations — end a sentence only when the next word is a common sentence opener
  (``The``, ``He``, ``But``, ...) or an opening quote/bracket: ``in the U.S. The`` breaks,
  ``the U.S. Senate`` does not;
* ``?”`` or ``!”`` followed by a capitalised name and a speech verb is reported speech,
  not a break (``“Why?” Putin asked.``);
* a bracketed omission ``[...]`` is not a break; any other ellipsis before an upper-case
  word is.

The splitter is pure Python (``re`` only), needs no model or data download, and runs at
several MB/s; see ``docs/segmentation.md`` for the comparison with pysbd, syntok,
blingfire and sentencex that led to this choice.
"""

from __future__ import annotations

import re

__all__ = ["MAX_DOCUMENT_CHARS", "split_sentences"]

#: Documented limit for one document's text, in characters (after newline normalisation).
MAX_DOCUMENT_CHARS = 1_000_000

Span = tuple[int, int]

# Characters ``str.splitlines`` breaks on; each one ends a sentence unconditionally.
_LINE_RE = re.compile(r"[^\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")
_NONSPACE_RE = re.compile(r"\S")

_TERMINATORS = ".!?‽…"
_CLOSERS = "\"'”’»›)]}"
_OPENERS = "\"'“‘„«‹([{¿¡"
_CURRENCY = "$£€¥₽₹₴"


def _words(words: str) -> frozenset[str]:
    return frozenset(words.split())


# A whole run of terminators, then closing quotes/brackets, then whitespace (not
# consumed). The lookbehind and possessive quantifiers keep this linear on inputs such as
# a million dots: a match can only start where a run starts, and never backtracks.
_CANDIDATE_RE = re.compile(
    "(?<![" + re.escape(_TERMINATORS) + "])"
    "([" + re.escape(_TERMINATORS) + "]++)[" + re.escape(_CLOSERS) + r"]*+(?=\s)"
)

# Titles and Latin abbreviations that precede something: never a sentence end.
_NEVER_END = _words(
    """
    mr mrs ms mx messrs mmes dr prof gen lt col maj capt cmdr cdr sgt cpl pvt adm brig
    gov sen rep reps rev hon pres supt insp det fr atty amb mt ft
    e.g i.e cf viz vs
    """
)

# Abbreviations that precede a number (``No. 10``, ``Jan. 5``): no break before a digit.
_BEFORE_NUMBER = _words(
    """
    no nos art arts fig figs vol vols ch chap sec secs para paras p pp op approx est ca
    nr tel ext
    jan feb mar apr jun jul aug sep sept oct nov dec
    """
)
# Of those, the ones that are ordinary words when not followed by a number.
_PLAIN_WORDS = frozenset({"no"})

# Abbreviations that often end a sentence too: break only before a sentence opener.
_AMBIGUOUS = _words(
    """
    inc ltd corp co llc plc jr sr etc st ave blvd rd bros dept univ assn govt ph.d
    """
)
# AP-style state abbreviations: only when capitalised ("Ill." but not "ill.").
_CAPITALISED_AMBIGUOUS = _words(
    """
    Ala Ariz Ark Calif Colo Conn Del Fla Ga Ill Ind Kan Ky La Md Mass Mich Minn Miss
    Mo Mont Neb Nev Okla Ore Pa Tenn Vt Va Wash Wis Wyo
    """
)
_DOTTED_RE = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")

# Capitalised words that commonly open a sentence in news prose.
_SENTENCE_OPENERS = _words(
    """
    The A An He She It They We I You His Her Its Their Our My Your This That These Those
    There Here But And Or So Yet Nor In On At For With Without After Before When While
    Whilst If As Although Though Because Since Until Unless During Despite Under Over By
    From To Of About Among Between Through Meanwhile However Also Moreover Furthermore
    Still Then Now Later Earlier Last Next Yesterday Today Tomorrow Some Many Most Several
    Few All Both Each Every No Not None Other Others Such What Which Who Whom Whose Why
    How Where According Instead Mr Mrs Ms
    """
)

_WORD_RE = re.compile(r"[^\W\d_]+")
# "?” Putin asked" / "!” Russian President Vladimir Putin said": reported speech.
_SPEECH_RE = re.compile(
    r"[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*){0,4}\s+"
    r"(?:said|says|asked|asks|added|adds|told|tells|wrote|writes|replied|replies|"
    r"shouted|shouts|insisted|insists|continued|continues|explained|explains|noted|"
    r"notes|declared|declares|exclaimed|exclaims|wondered|wonders|demanded|demands|"
    r"tweeted|argued|argues|stated|states|claimed|claims|warned|warns|recalled|recalls|"
    r"cried|cries|yelled|yells|quipped|joked|jokes|countered|counters|responded|"
    r"responds)\b"
)


def split_sentences(text: str) -> list[Span]:
    """Return the ``(start, end)`` spans of the sentences of ``text``, in order.

    ``text[start:end]`` is a sentence without surrounding whitespace; together the spans
    cover every non-whitespace character exactly once, and none crosses a line break.
    """
    spans: list[Span] = []
    append = spans.append
    for line in _LINE_RE.finditer(text):
        lstart, lend = line.span()
        first = _NONSPACE_RE.search(text, lstart, lend)
        if first is None:
            continue
        start = first.start()
        while text[lend - 1].isspace():
            lend -= 1
        for cand in _CANDIDATE_RE.finditer(text, start, lend):
            end = cand.end()
            nxt = _NONSPACE_RE.search(text, end, lend)
            if nxt is None:  # only whitespace follows on this line
                break
            if _is_break(text, start, cand.start(), cand.end(1), end, nxt.start(), lend):
                append((start, end))
                start = nxt.start()
        append((start, lend))
    return spans


def _is_break(
    text: str, start: int, term_start: int, term_end: int, end: int, nxt: int, lend: int
) -> bool:
    """Decide whether the terminators at ``text[term_start:term_end]`` end a sentence.

    ``start`` is where the current sentence starts, ``end`` is after the closing quotes
    and brackets, ``nxt`` is the first non-space character after them, ``lend`` the end
    of the line.
    """
    # Look at the next word, past opening quotes and brackets.
    i = nxt
    while i < lend and text[i] in _OPENERS:
        i += 1
    if i >= lend:
        return False
    c = text[i]
    if c.islower():
        return False
    is_digit = c.isdigit()
    if not (c.isupper() or is_digit or c.isalpha() or c in _CURRENCY):
        return False  # a dash, another dot of ". . .", a symbol: the sentence goes on
    opened = i > nxt  # the next sentence starts with a quote or bracket

    terms = text[term_start:term_end]
    if terms != ".":
        if "." in terms or "…" in terms:  # an ellipsis (possibly with ?/!)
            # "[...]" / "(...)" marks an omission inside a sentence.
            return not (term_start > 0 and text[term_start - 1] in "[(")
        if end > term_end and text[term_end] in "\"”'’»›":
            # “Why?” Putin asked. — reported speech goes on.
            return _SPEECH_RE.match(text, i, lend) is None
        return True

    # A single full stop: look at the word it ends.
    w = term_start
    while w > start and not text[w - 1].isspace():
        w -= 1
    while w < term_start and text[w] in _OPENERS:
        w += 1
    word = text[w:term_start]
    if not word:
        return True
    lower = word.lower()
    if lower in _NEVER_END:
        return False
    if lower in _BEFORE_NUMBER:
        if is_digit:
            return False
        if lower in _PLAIN_WORDS:
            return True
        return _opens_sentence(text, i, lend, opened)
    if lower in _AMBIGUOUS or word in _CAPITALISED_AMBIGUOUS:
        return _opens_sentence(text, i, lend, opened)
    if len(word) == 1 and word.isalpha():  # an initial: "J. R. R. Tolkien"
        return _opens_sentence(text, i, lend, opened)
    if "." in word and _DOTTED_RE.fullmatch(word):  # U.S., U.N., a.m., D.C.
        return _opens_sentence(text, i, lend, opened)
    # Otherwise a break, except after a list number: "1. The first point".
    return not (word.isdigit() and len(word) <= 3 and w == start)


def _opens_sentence(text: str, i: int, lend: int, opened: bool) -> bool:
    """After an ambiguous abbreviation: does a new sentence start at ``text[i]``?"""
    if opened:
        return True
    m = _WORD_RE.match(text, i, lend)
    return m is not None and m.group() in _SENTENCE_OPENERS
