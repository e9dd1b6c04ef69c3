"""Name analysis for screening, tuned for Hispanic (and especially Mexican) names.

Pure functions: a name string goes in, an ``AnalyzedName`` comes out, and two analysed names
are aligned token by token. Nothing here touches a database.

What the analysis does, in order:

1. Quoted parts are nicknames (``Nemesio OSEGUERA "El Mencho"``): they are taken out of the
   name and returned separately, to be compared with the other side's aliases.
2. Organisations lose their legal form (``S.A. DE C.V.``, ``S. DE R.L. DE C.V.``, ``LLC``,
   ``LTD`` ...): Mexican forms by the patterns below, the rest by rigour's org-type list.
3. A person's name written ``SURNAMES, Given names`` (the OFAC order) is turned into
   ``Given names SURNAMES``; without a comma the Hispanic convention is assumed: the last two
   words are the paternal and maternal surnames (the last word when there are only two).
4. Every word is folded: accents removed, ``ñ`` to ``n``, casefolded.
5. Particles (de, del, de la, de los, las, y ...) stay in ``display`` but are left out of the
   tokens that are matched, so ``María de los Ángeles`` matches ``Maria Angeles``.
6. Each token gets a Spanish phonetic key (``phonetic_key``; rules documented there), so that
   the common spelling variants of one pronunciation share a key.

Names romanised from other scripts are compared by a coarser transliteration key as well
(``translit_key``: Makhlouf ~ Makhluf, Eyad ~ Iyad), and a person's short adjacent words also
written together (``joined``: Gui Qin ~ Guiqin).

Alignment (``align``) pairs each query token with at most one candidate token, best pairs
first, whatever the order (so ``OSEGUERA, Nemesio`` and ``Nemesio Oseguera`` align fully), and
scores the result allowing one of two surnames to be dropped on either side, and the extra words
of a fuller form (given names, patronymics, an organisation's descriptive words) at a lower cost.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from normality import normalize
from rapidfuzz.distance import JaroWinkler, Levenshtein
from rapidfuzz.process import cdist
from rigour.names import remove_org_types

# Left out of matching, kept for display. Spanish particles, plus the Portuguese, Italian,
# French, Dutch and German ones that appear in Latin American names, and the Spanish article
# of nicknames ("El Mencho", "La Tuta").
PARTICLES = frozenset({
    "de", "del", "la", "las", "los", "y", "e", "el", "da", "das", "do", "dos", "di", "du",
    "van", "von", "der", "den", "le", "lo",
    # Arabic article and filiation, frequent on the same lists ("AL-AULAQI", "BIN LADEN").
    "al", "bin", "ibn", "bint",
    # Urdu and Persian connecting words (Inayat ur Rahman, Jamaat ud Dawa), Hassaniya filiation.
    "ul", "ud", "ur", "ould",
})
# Words that are never identifying on their own (titles and alias markers).
NOISE = frozenset({
    "sr", "sra", "srta", "don", "dona", "lic", "ing", "dr", "dra", "mr", "mrs", "ms",
    "alias", "aka", "fka", "nka", "jr", "sr.",
})
# Org-name words that say what kind of body it is, not which one: kept, but ignored in
# retrieval keys because they occur in thousands of names.
ORG_NOISE = frozenset({
    "sa", "cv", "rl", "sapi", "sab", "sc", "ac", "spr", "ri", "srl", "llc", "inc", "ltd",
    "co", "corp", "company", "limited", "gmbh", "sl", "sas", "ltda", "plc", "jsc", "pjsc",
    "ojsc", "oao", "zao", "ooo", "llp", "lp", "bv", "nv", "ag", "spa", "cia", "compania",
    "sociedad", "pvt", "private", "fze", "fzco", "fzc",
})
# Further words of organisations' names that say what kind of body it is (cheap when one side
# lacks them: "MARINE ... CORPORATION" ~ "MARINE ... COMPANY"), but kept as retrieval keys.
ORG_GENERIC = ORG_NOISE | frozenset({
    "corporation", "incorporated", "group", "international", "industries", "industry",
    "industrial", "trading", "trade", "holding", "holdings", "enterprise", "enterprises",
    "general", "services", "service", "public", "joint", "stock", "manufacturing", "firm",
    "kg", "kft", "as", "ab", "oy", "eood", "ood", "ad", "dmcc", "tov", "pao", "ao", "gup",
})
# Connecting words of organisations' names, left out like a person's particles.
ORG_PARTICLES = frozenset({"and", "of", "the", "for", "in", "und", "et"})
# Russian, Ukrainian and Belarusian patronymics (Viktorovich, Borisovna, Aliaksandrawna): often
# left out of another spelling of the same name.
PATRONYMIC = re.compile(r"(?:[ae]?v[iy]?[ct]c?h|evich|ovich|[ae]v[iy]?ch|[oae]vn[ae]|[oa]wn[ae]"
                        r"|ovych|evych|ivna|ychna|ichna|ogly|oglu|kyzy|qizi)$")
# Compound given names of devotion (María de los Ángeles, José de Jesús, María del Carmen).
DEVOTED = frozenset({"maria", "ma", "jose", "juan", "jesus"})
DEVOTIONAL = frozenset({
    "angeles", "luz", "jesus", "carmen", "guadalupe", "rosario", "lourdes", "socorro",
    "pilar", "dolores", "mercedes", "consuelo", "refugio", "soledad", "concepcion",
    "asuncion", "fatima", "montserrat", "remedios", "lujan", "rocio", "belen", "trinidad",
})
QUOTED = re.compile(r"[\"“”«»]([^\"“”«»]{1,80})[\"“”«»]|(?<![\w])'([^']{1,80})'(?![\w])")
QUOTE_MARKS = re.compile(r"[\"\u201c\u201d\u00ab\u00bb']")
BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]")
WORD = re.compile(r"[a-z0-9]+")
# Mexican legal forms, matched on casefolded, accent-folded text before rigour's list (which
# does not know all of them, e.g. S.A.B. DE C.V.). Longest first.
_SP = r"[\s.]*"
MX_LEGAL_FORMS = [re.compile(p) for p in (
    r"\bsociedad an[oó]nima (?:burs[aá]til |promotora de inversi[oó]n )?de capital variable\b",
    r"\bsociedad de responsabilidad limitada(?: de capital variable)?\b",
    r"\bsociedad civil\b", r"\basociaci[oó]n civil\b", r"\bsociedad an[oó]nima\b",
    rf"\bs{_SP}a{_SP}(?:p{_SP}i{_SP}|b{_SP})?de{_SP}c{_SP}v\b\.?",
    rf"\bs{_SP}de{_SP}r{_SP}l{_SP}(?:de{_SP}c{_SP}v\b\.?|mi\b\.?)?",
    rf"\bs{_SP}p{_SP}r{_SP}de{_SP}r{_SP}[li]\b\.?",
    rf"\bs{_SP}a{_SP}s\b\.?", rf"\ba{_SP}c\b\.?", rf"\bs{_SP}c\b\.?", rf"\bs{_SP}a\b\.?",
)]
MAX_TOKENS = 24  # a name with more words than this is cut (keeps alignment cheap)


@dataclass(frozen=True)
class Token:
    """A matchable word: its folded form and its Spanish phonetic key."""

    text: str
    phonetic: str
    surname: bool = False


@dataclass(frozen=True)
class AnalyzedName:
    """A name taken apart for matching. ``tokens`` are in "given names, surnames" order."""

    original: str
    display: str  # folded, particles kept, given names first
    tokens: tuple[Token, ...]
    nicknames: tuple[str, ...] = ()
    person: bool = True

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple(t.text for t in self.tokens)

    @property
    def surnames(self) -> tuple[str, ...]:
        return tuple(t.text for t in self.tokens if t.surname)

    @property
    def empty(self) -> bool:
        return not self.tokens


def fold(text: str) -> str:
    """Lower-case ASCII: accents off, ñ to n, casefolded; punctuation becomes spaces."""
    return normalize(text, lowercase=True, ascii=True) or ""


# An apostrophe inside a word is not a word break (transliterated hamza or ayn: MANA'A, Sa'id,
# JEMA'AH ~ Manaa, Said, Jemaah).
IN_WORD_APOSTROPHE = re.compile(r"(?<=\w)['\u2019\u02bc\u02bb`\u00b4](?=\w)")


def words(text: str) -> list[str]:
    return WORD.findall(fold(IN_WORD_APOSTROPHE.sub("", text)))


def extract_nicknames(text: str) -> tuple[str, tuple[str, ...]]:
    """Take quoted parts out of a name: ``('Nemesio OSEGUERA ', ('El Mencho',))``."""
    found: list[str] = []

    def keep(match: re.Match[str]) -> str:
        value = (match.group(1) or match.group(2) or "").strip()
        if value:
            found.append(value)
        return " "

    rest = QUOTED.sub(keep, text)
    return rest, tuple(found)


def strip_legal_form(text: str) -> str:
    """An organisation name without its legal form(s) (the original if nothing else is left)."""
    low = " ".join(text.casefold().split())
    out = low
    for pattern in MX_LEGAL_FORMS:
        out = pattern.sub(" ", out)
    out = remove_org_types(out, replacement=" ")
    out = out.strip(" ,.;-")
    return out if words(out) else low


# -- the Spanish phonetic key -------------------------------------------------------------------

_VOWELS = frozenset("aeiou")


def phonetic_key(token: str) -> str:
    """A key shared by the usual spellings of one Spanish pronunciation (Latin American).

    Input is one folded word (lower-case ASCII). Rules, left to right:

    - ``ch`` is its own sound (kept apart from ``c``/``k``/``s``), written ``C``;
    - ``ll`` and consonantal ``y`` sound alike (yeísmo): ``ll`` → ``y``; a ``y`` that is not
      followed by a vowel is the vowel ``i`` (Garay → garai, Ruy → rui);
    - ``c`` before e/i, ``z`` and ``s`` sound alike (seseo): → ``s``; other ``c``, ``k``, ``q``
      (with the silent ``u`` of que/qui) → ``k``;
    - ``g`` before e/i and ``j`` sound alike, and so does ``x`` in Mexican names (Ximena/Jimena,
      Xavier/Javier, México/Méjico): → ``j``; ``gu`` before e/i is a hard ``g`` (the ``u`` is
      silent): Oseguera → osegera;
    - ``h`` is silent (Hernández → ernandes); ``ph`` → ``f``;
    - ``b`` and ``v`` sound alike (betacismo), and ``w`` is mostly read that way: → ``b``;
      ``n`` before b/v/p is ``m``;
    - doubled letters are one (rr, ss, nn, tt ...).

    Vowels are kept (they are stable in Spanish and carry most of the difference between names).
    Digits are kept as they are.
    """
    s = token
    n = len(s)
    out: list[str] = []
    i = 0
    while i < n:
        c = s[i]
        nxt = s[i + 1] if i + 1 < n else ""
        after = s[i + 2] if i + 2 < n else ""
        step = 1
        if c == "c":
            if nxt == "h":
                out.append("C")
                step = 2
            elif nxt in ("e", "i"):
                out.append("s")
            else:
                out.append("k")
        elif c == "q":
            out.append("k")
            if nxt == "u" and after in ("e", "i"):
                step = 2
        elif c == "k":
            out.append("k")
        elif c == "g":
            if nxt == "u" and after in ("e", "i"):
                out.append("g")
                step = 2
            elif nxt in ("e", "i"):
                out.append("j")
            else:
                out.append("g")
        elif c in ("j", "x"):
            out.append("j")
        elif c == "h":
            pass
        elif c == "p" and nxt == "h":
            out.append("f")
            step = 2
        elif c == "l" and nxt == "l":
            out.append("y")
            step = 2
        elif c == "y":
            out.append("y" if nxt in _VOWELS else "i")
        elif c in ("z", "s"):
            out.append("s")
        elif c in ("v", "b", "w"):
            out.append("b")
        elif c == "n" and nxt in ("b", "v", "p"):
            out.append("m")
        else:
            out.append(c)
        i += step
    key: list[str] = []
    for ch in out:
        if not key or key[-1] != ch:
            key.append(ch)
    return "".join(key)


# -- a transliteration key, for names written from Arabic, Persian, Cyrillic or Asian scripts --

_TRANSLIT_PAIRS = (("sch", "s"), ("sh", "s"), ("ch", "s"), ("kh", "k"), ("gh", "g"),
                   ("ph", "f"), ("th", "t"), ("dh", "d"), ("ck", "k"))
_TRANSLIT_LETTERS = str.maketrans({"q": "k", "c": "k", "w": "v", "z": "s", "x": "ks",
                                   "y": "i", "e": "i", "o": "u", "h": None})


@lru_cache(maxsize=262144)
def translit_key(text: str) -> str:
    """A key shared by the usual romanisations of one foreign name (a folded word in):
    the digraphs kh, gh, ph, th, dh lose their h, sh and ch are s, q and c are k, w is v, z is
    s, x is ks; the vowels are the three of Arabic (e → i, o → u, y → i); h is dropped;
    doubled letters are one. So Makhlouf ~ Makhluf, Eyad ~ Iyad, Ihsan ~ Ehsan, Varee ~ Wari,
    Qasim ~ Kassem.
    Coarser than the Spanish key: a shared one scores ``TRANSLIT_EQUAL``, below it."""
    s = text
    for a, b in _TRANSLIT_PAIRS:
        if a in s:
            s = s.replace(a, b)
    s = s.translate(_TRANSLIT_LETTERS)
    return "".join(ch for i, ch in enumerate(s) if i == 0 or s[i - 1] != ch)


@lru_cache(maxsize=262144)
def translit_skeleton(text: str) -> str:
    """``translit_key`` without its vowels but the first letter (Muhammed ~ Mohamad ``mmd``,
    Nasreen ~ Nsrin, Alexander ~ Aliaksandr); empty when under ``SKELETON_MIN`` letters, too
    short to tell names apart."""
    key = translit_key(text)
    out = key[:1] + "".join(ch for ch in key[1:] if ch not in "aiu")
    return out if len(out) >= SKELETON_MIN else ""


def skeleton(phonetic: str) -> str:
    """The consonants of a phonetic key (a coarse retrieval key for one-letter typos in
    vowels: Osegura and Oseguera share ``sgr``)."""
    return "".join(ch for ch in phonetic if ch not in _VOWELS)


# -- analysis -----------------------------------------------------------------------------------


def _tokens(words_: list[str], surname_flags: list[bool]) -> tuple[Token, ...]:
    out: list[Token] = []
    for word, flag in zip(words_, surname_flags, strict=True):
        if word in PARTICLES or word in NOISE:
            continue
        out.append(Token(word, phonetic_key(word), flag))
    return tuple(out[:MAX_TOKENS])


@lru_cache(maxsize=262144)
def analyze(name: str, person: bool = True) -> AnalyzedName:
    """Analyse one name (see the module doc). Never raises; an unusable name has no tokens."""
    text, nicknames = extract_nicknames(IN_WORD_APOSTROPHE.sub("", name))
    text = BRACKETED.sub(" ", text)
    if not person:
        # An organisation's quoted part is its name proper (OAO 'URANIS-RADIOSISTEMY'), not a
        # nickname: it stays in the name (and is a nickname too).
        if nicknames:
            text = BRACKETED.sub(" ", QUOTE_MARKS.sub(" ", IN_WORD_APOSTROPHE.sub("", name)))
        text = strip_legal_form(text)
        ws = words(text)
        kept = [w for w in ws if w not in ORG_PARTICLES]
        if _significant(kept):
            ws = kept
        flags = [False] * len(ws)
        display = " ".join(ws)
        return AnalyzedName(name, display, _tokens(ws, flags), nicknames, person=False)
    if text.count(",") >= 1:
        surnames_part, _, given_part = text.partition(",")
        given = words(given_part)
        surnames = words(surnames_part)
        if not _significant(given) or not _significant(surnames):
            ws = given + surnames
            flags = _hispanic_flags(ws)
        else:
            ws = given + surnames
            flags = [False] * len(given) + [True] * len(surnames)
    else:
        ws = words(text)
        flags = _hispanic_flags(ws)
    display = " ".join(ws)
    return AnalyzedName(name, display, _tokens(ws, flags), nicknames, person=True)


def _significant(ws: list[str]) -> bool:
    return any(w not in PARTICLES and w not in NOISE for w in ws)


def _hispanic_flags(ws: list[str]) -> list[bool]:
    """Which words are surnames when the order is "given names, paternal, maternal": the
    last two significant words (the last one if there are only two; none if only one).
    A particle just before a surname belongs to it (de la Cruz)."""
    significant = [i for i, w in enumerate(ws) if w not in PARTICLES and w not in NOISE]
    # "María de los Ángeles", "José de Jesús": the devotional tail is a given name.
    tails = {i for n, i in enumerate(significant[1:], 1)
             if ws[i] in DEVOTIONAL and ws[significant[n - 1]] in DEVOTED
             and i - significant[n - 1] > 1}
    significant = [i for i in significant if i not in tails]
    if len(significant) <= 1:
        return [False] * len(ws)
    count = 2 if len(significant) >= 3 else 1
    first = significant[-count]
    return [i >= first for i in range(len(ws))]


@lru_cache(maxsize=65536)
def analyze_parts(given: tuple[str, ...], surnames: tuple[str, ...]) -> AnalyzedName:
    """A person's name from its parts (firstName/secondName and fatherName/motherName)."""
    g = [w for part in given for w in words(part)]
    s = [w for part in surnames for w in words(part)]
    ws = g + s
    flags = [False] * len(g) + [True] * len(s)
    original = " ".join([*given, *surnames])
    return AnalyzedName(original, " ".join(ws), _tokens(ws, flags), (), person=True)


# Joinable words are this short, and one of them shorter still (Chinese, Korean, Thai
# syllables: Moon Chi, Gui Qin; not José Luis).
MAX_JOINED = 4


@lru_cache(maxsize=65536)
def joined(name: AnalyzedName) -> AnalyzedName | None:
    """A person's name with its adjacent short words written together (Moon Chi → Moonchi,
    Gui Qin → Guiqin): a second form of the name to compare, as the same name is written both
    ways. None when there is nothing to join (see ``MAX_JOINED``).
    Words are joined left to right within the given names or within the surnames."""
    toks = name.tokens
    if not name.person:  # ("BANK VVB" would be like "BANK" in full: Jaro-Winkler's prefix)
        return None
    out: list[Token] = []
    changed = False
    i = 0
    while i < len(toks):
        tok = toks[i]
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if (nxt is not None and nxt.surname == tok.surname
                and not tok.text.isdigit() and not nxt.text.isdigit()
                and len(tok.text) >= 2 and len(nxt.text) >= 2
                and max(len(tok.text), len(nxt.text)) <= MAX_JOINED
                and min(len(tok.text), len(nxt.text)) <= MAX_JOINED - 1):
            text = tok.text + nxt.text
            out.append(Token(text, phonetic_key(text), tok.surname))
            changed = True
            i += 2
            continue
        out.append(tok)
        i += 1
    if not changed:
        return None
    return AnalyzedName(name.original, name.display, tuple(out), name.nicknames, name.person)


def with_joined(names: Sequence[AnalyzedName]) -> list[AnalyzedName]:
    """The names, each followed by its joined form when it has one (``joined``)."""
    out: list[AnalyzedName] = []
    for name in names:
        out.append(name)
        other = joined(name)
        if other is not None:
            out.append(other)
    return out


# -- comparison ---------------------------------------------------------------------------------

TOKEN_MIN = 0.84  # below this a token pair is no match at all
PHONETIC_EQUAL = 0.95
FUZZY_MAX = 0.94  # a fuzzy match is never as good as a phonetic-key match
PHONETIC_JW_PENALTY = 0.02
TRANSLIT_EQUAL = 0.9  # the same transliteration key (``translit_key``)
SKELETON_EQUAL = 0.86  # the same consonants of it (``translit_skeleton``)
SKELETON_MIN = 4
INITIAL = 0.6
DROPPED_SURNAME = 0.25  # the cost of one surname missing when the other one matched
DROPPED_PATERNAL = 0.5  # ... when it is the first of two surnames (the paternal one)
SINGLE_FUZZY = 0.9  # a factor on a fuzzy match of two one-word names
GIVEN_ORDER = 0.005  # taken off for each pair of given names in the other order
DROPPED_GIVEN = 0.3  # a second given name missing when another one matched (José María)
EXTRA_GIVEN = 0.2  # each further one (a fuller form: "KONG, Kelvin Hok Lai" ~ "KONG, Kelvin")
DROPPED_INITIAL = 0.15  # a middle initial missing when a given name matched
EXTRA_GIVEN_FULLER = 0.2  # the first one when the other name matched in full (a shorter form)
FULLER_MIN = 0.9  # ... each of its words at least this well
DROPPED_PATRONYMIC = 0.15  # a patronymic missing when a name matched (Sergey Valeryevich)
ORG_EXTRA = 0.4  # an unmatched word of an organisation of which two other words matched
ORG_WORD = 0.1  # an unmatched generic word of an organisation's name (company, limited)
UNMATCHED = 1.0


# The phonetic key is a function of the text, so caching on the four strings is exact.
# Given names so common on the lists that two spellings of one say little (transliteration
# keys of Muhammad, Mohamed, Ahmad, Ali, Abu, Abd, Abdul, Hassan, Husayn, Haji, Mahmud): two
# different spellings match at ``COMMON_EQUAL`` at most.
COMMON_KEYS = frozenset({"muamad", "muamid", "mamad", "mamd", "muamd", "amad", "amid", "ali",
                         "abu", "abd", "abdul", "abdal", "abdil", "asan", "usain", "usin",
                         "aji", "mamud", "muamud"})
COMMON_EQUAL = 0.9


def common(text: str) -> bool:
    return translit_key(text) in COMMON_KEYS


@lru_cache(maxsize=262144)
def similarity(a_text: str, a_phon: str, b_text: str, b_phon: str) -> float:
    sim = _similarity(a_text, a_phon, b_text, b_phon)
    if sim > COMMON_EQUAL and a_text != b_text and common(a_text) and common(b_text):
        return COMMON_EQUAL
    return sim


def _similarity(a_text: str, a_phon: str, b_text: str, b_phon: str) -> float:
    """1.0 for the same folded word, 0.95 for the same Spanish phonetic key, else the best of
    Jaro-Winkler on the words and on the keys (and a Levenshtein allowance of one edit on keys
    of five letters or more), cut to 0 below ``TOKEN_MIN``. An initial matches its name at 0.6.
    """
    if a_text == b_text:
        return 1.0
    if a_phon == b_phon:
        return PHONETIC_EQUAL
    if len(a_text) == 1 or len(b_text) == 1:
        return INITIAL if a_text[0] == b_text[0] else 0.0
    if a_text.isdigit() or b_text.isdigit():
        return 0.0
    a_tr, b_tr = translit_key(a_text), translit_key(b_text)
    sim = max(_jw(a_text, b_text), _jw(a_phon, b_phon) - PHONETIC_JW_PENALTY)
    if min(len(a_phon), len(b_phon)) >= 5 and Levenshtein.distance(a_phon, b_phon) <= 1:
        sim = max(sim, 0.9)
    if a_tr == b_tr:
        sim = max(sim, TRANSLIT_EQUAL)
    elif translit_skeleton(a_text) and translit_skeleton(a_text) == translit_skeleton(b_text):
        sim = max(sim, SKELETON_EQUAL)
    sim = min(sim, FUZZY_MAX)  # never as good as a phonetic-key match
    return sim if sim >= TOKEN_MIN else 0.0


# Jaro-Winkler from rapidfuzz (the same figures as rigour's above its 0.6 cut-off, which is
# below ours), because its ``cdist`` computes a whole query x candidates matrix in C++.
_jw = JaroWinkler.normalized_similarity


# Transliteration keys and skeletons as integers, so that a query's words are compared with
# its candidates' by NumPy. Words of lists are interned; a query's words are only looked up
# (a key no listed word has cannot be equal to one), so the table grows with the lists only.
_KEY_IDS: dict[str, int] = {}
_ABSENT = -2  # a query's key no listed word has
_NO_SKELETON = -1


def _key_id(key: str, intern: bool) -> int:
    if intern:
        return _KEY_IDS.setdefault(key, len(_KEY_IDS))
    return _KEY_IDS.get(key, _ABSENT)


@dataclass(frozen=True)
class Words:
    """Words as ``similarity_matrix`` reads them: texts, phonetic keys and what its rules
    test, worked out once (a candidate keeps its own; a query joins its candidates')."""

    text: list[str]
    phonetic: list[str]
    long: npt.NDArray[np.bool_]  # phonetic key of five letters or more
    digit: npt.NDArray[np.bool_]
    single: npt.NDArray[np.bool_]  # one letter (an initial)
    common: npt.NDArray[np.bool_]  # a very common given name (``common``)
    translit: npt.NDArray[np.int64]  # ``translit_key``, as an integer
    skeleton: npt.NDArray[np.int64]  # ``translit_skeleton``, as an integer (-1: none)

    @classmethod
    def of(cls, words: Sequence[tuple[str, str]], intern: bool = True) -> Words:
        text = [w for w, _ in words]
        phonetic = [p for _, p in words]
        return cls(text, phonetic, np.array([len(p) >= 5 for p in phonetic], dtype=bool),
                   np.array([w.isdigit() for w in text], dtype=bool),
                   np.array([len(w) == 1 for w in text], dtype=bool),
                   np.array([common(w) for w in text], dtype=bool),
                   np.array([_key_id(translit_key(w), intern) for w in text], dtype=np.int64),
                   np.array([_key_id(k, intern) if (k := translit_skeleton(w)) else _NO_SKELETON
                             for w in text], dtype=np.int64))

    @classmethod
    def join(cls, parts: Sequence[Words]) -> Words:
        return cls([w for p in parts for w in p.text], [w for p in parts for w in p.phonetic],
                   *(np.concatenate([getattr(p, f) for p in parts])
                     for f in ("long", "digit", "single", "common", "translit", "skeleton")))

    def take(self, index: npt.NDArray[np.int64], texts: npt.NDArray[np.object_],
             phonetics: npt.NDArray[np.object_]) -> Words:
        """The words at ``index`` (``texts`` and ``phonetics``: these words' as arrays)."""
        return Words(texts[index].tolist(), phonetics[index].tolist(), self.long[index],
                     self.digit[index], self.single[index], self.common[index],
                     self.translit[index], self.skeleton[index])

    def __len__(self) -> int:
        return len(self.text)


def similarity_matrix(tokens: Sequence[Token], words: Words | Sequence[tuple[str, str]]
                      ) -> npt.NDArray[np.float64]:
    """``similarity`` of each token with each word, at once (the same rules, on whole
    matrices, overriding one another in the reverse of ``similarity``'s order)."""
    if not isinstance(words, Words):
        words = Words.of(words)
    if not tokens or not len(words):
        return np.zeros((len(tokens), len(words)))
    q = Words.of([(t.text, t.phonetic) for t in tokens], intern=False)
    jw_text = cdist(q.text, words.text, scorer=_jw, dtype=np.float64)
    sim: npt.NDArray[np.float64] = np.maximum(
        jw_text,
        cdist(q.phonetic, words.phonetic, scorer=_jw, dtype=np.float64) - PHONETIC_JW_PENALTY)
    edits = cdist(q.phonetic, words.phonetic, scorer=Levenshtein.distance, score_cutoff=2,
                  dtype=np.int32)
    one_edit = (edits <= 1) & q.long[:, None] & words.long[None, :]
    np.maximum(sim, 0.9, out=sim, where=one_edit)
    np.maximum(sim, TRANSLIT_EQUAL, out=sim, where=q.translit[:, None] == words.translit[None, :])
    same_skeleton = (q.skeleton[:, None] == words.skeleton[None, :]) \
        & (q.skeleton >= 0)[:, None]
    np.maximum(sim, SKELETON_EQUAL, out=sim, where=same_skeleton)
    np.minimum(sim, FUZZY_MAX, out=sim)
    sim[sim < TOKEN_MIN] = 0.0
    if q.digit.any() or words.digit.any():
        sim[q.digit[:, None] | words.digit[None, :]] = 0.0
    if q.single.any() or words.single.any():
        for i, j in np.argwhere(q.single[:, None] | words.single[None, :]).tolist():
            sim[i, j] = INITIAL if q.text[i][0] == words.text[j][0] else 0.0
    sim[edits == 0] = PHONETIC_EQUAL  # the same phonetic key
    sim[jw_text == 1.0] = 1.0  # the same word (Jaro-Winkler is 1 for equal words only)
    if q.common.any() and words.common.any():
        both = q.common[:, None] & words.common[None, :] & (sim < 1.0)
        sim[both] = np.minimum(sim[both], COMMON_EQUAL)
    return sim


@dataclass(frozen=True)
class Alignment:
    """How two names line up: the token pairs, what was left over, and the similarity."""

    similarity: float
    pairs: tuple[tuple[str, str, float], ...]
    query_left: tuple[str, ...]
    candidate_left: tuple[str, ...]
    dropped_surnames: tuple[str, ...]

    def describe(self) -> str:
        parts = [f"{q}~{c}" if q != c else q for q, c, _ in self.pairs]
        text = " ".join(parts) or "nothing"
        if self.dropped_surnames:
            text += f" (surname dropped: {', '.join(self.dropped_surnames)})"
        if self.query_left:
            text += f" (query only: {', '.join(self.query_left)})"
        if self.candidate_left:
            text += f" (candidate only: {', '.join(self.candidate_left)})"
        return text


class TokenTable:
    """The similarities of one query's words to candidates' words, each pair computed once
    (a screening compares the same few query words with the words of fifty candidates)."""

    __slots__ = ("rows",)

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, float]] = {}

    def sim(self, a: Token, b: Token) -> float:
        row = self.rows.get(a.text)
        if row is None:
            row = self.rows[a.text] = {}
        value = row.get(b.text)
        if value is None:
            value = row[b.text] = similarity(a.text, a.phonetic, b.text, b.phonetic)
        return value


def min_costs(tokens: tuple[Token, ...], person: bool) -> list[float]:
    """The least each word can cost ``align`` when left unmatched (see there)."""
    if person:
        return [DROPPED_SURNAME if t.surname
                else DROPPED_PATRONYMIC if patronymic(t.text)
                else DROPPED_INITIAL if len(t.text) == 1 else min(EXTRA_GIVEN, EXTRA_GIVEN_FULLER)
                for t in tokens]
    return [ORG_WORD if t.text in ORG_GENERIC else ORG_EXTRA for t in tokens]


def patronymic(text: str) -> bool:
    """Whether a word is shaped like a Russian/Ukrainian/Belarusian/Turkic patronymic."""
    return len(text) >= 6 and PATRONYMIC.search(text) is not None


def align_bound(query: AnalyzedName, candidate: AnalyzedName, table: TokenTable) -> float:
    """An upper bound of ``align(query, candidate).similarity`` that needs no pairing: with
    k pairs, the sum of similarities is at most the k best of each word's best similarity
    (on either side), and the cost of the words left over at least the least each can cost.
    Maximised over k. (The readable reference: screenings use ``bounds.pair_bounds``, the
    same arithmetic for all candidates at once, which the tests check against this.)"""
    qt, ct = query.tokens, candidate.tokens
    if not qt or not ct:
        return 0.0
    matrix = [[table.sim(a, b) for b in ct] for a in qt]
    best_q = [max(row) for row in matrix]
    best_c = [max(col) for col in zip(*matrix, strict=True)]
    person = query.person and candidate.person
    sides = []
    for tokens, tops in ((qt, best_q), (ct, best_c)):
        costs = min_costs(tokens, person)
        forced = sum(c for c, v in zip(costs, tops, strict=True) if v == 0)
        free = sorted(c for c, v in zip(costs, tops, strict=True) if v > 0)
        sims = sorted((v for v in tops if v > 0), reverse=True)
        sides.append((forced, free, sims))
    (fq, cq, sq), (fc, cc, sc) = sides
    best = 0.0
    for k in range(1, min(len(sq), len(sc)) + 1):
        total = min(sum(sq[:k]), sum(sc[:k]))
        # the cheapest len(free) - k of the matchable words are left over on each side
        cost = fq + fc + sum(cq[:len(cq) - k]) + sum(cc[:len(cc) - k])
        best = max(best, total / (k + cost))
    return min(best, 1.0)


def align(query: AnalyzedName, candidate: AnalyzedName,
          table: TokenTable | None = None) -> Alignment:
    """Pair tokens best-first (order-insensitive) and score the name match in [0, 1].

    similarity = sum(pair similarities) / (pairs + cost of unmatched tokens), where an
    unmatched token costs 1, except a person's surname when the other surname on that side
    matched (0.25: one of two surnames is often dropped; 0.5 for the paternal one of two), a
    given name when another given name on that side matched (0.3, then 0.2 each: compound
    given names are often shortened; 0.2 for the first when the other name matched in full),
    a middle initial or a patronymic (0.15), a generic word of an organisation's name (0.1:
    company, limited, group) and another word of it once two distinctive words matched (0.4).
    Two one-word names spelt differently are scaled by 0.9, and each pair of given names in
    the other order takes 0.005 off (a tie-break). ``min_costs`` is the least of these costs
    per word, for the score bound.
    """
    qt, ct = query.tokens, candidate.tokens
    if not qt or not ct:
        return Alignment(0.0, (), tuple(t.text for t in qt), tuple(t.text for t in ct), ())
    scored: list[tuple[float, int, int]] = []
    for i, a in enumerate(qt):
        for j, b in enumerate(ct):
            sim = (table.sim(a, b) if table is not None
                   else similarity(a.text, a.phonetic, b.text, b.phonetic))
            if sim > 0:
                scored.append((sim, i, j))
    scored.sort(key=lambda x: (-x[0], x[1], x[2]))
    used_q: set[int] = set()
    used_c: set[int] = set()
    pairs: list[tuple[int, int, float]] = []
    for sim, i, j in scored:
        if i in used_q or j in used_c:
            continue
        used_q.add(i)
        used_c.add(j)
        pairs.append((i, j, sim))
    if not pairs:
        return Alignment(0.0, (), tuple(t.text for t in qt), tuple(t.text for t in ct), ())
    dropped: list[str] = []
    left_q: list[str] = []
    left_c: list[str] = []
    cost = 0.0
    for tokens, used, left, other in ((qt, used_q, left_q, ct), (ct, used_c, left_c, qt)):
        person = query.person and candidate.person
        # every word of the other side matched well: this side is a fuller form of that name
        fuller = len(pairs) == len(other) and min(p[2] for p in pairs) >= FULLER_MIN
        surname_hit = any(t.surname for k, t in enumerate(tokens) if k in used)
        given_hit = any(not t.surname for k, t in enumerate(tokens) if k in used)
        distinctive = sum(1 for k, t in enumerate(tokens)
                          if k in used and t.text not in ORG_GENERIC)
        unmatched = [t for k, t in enumerate(tokens) if k not in used]
        surname_allowance = 1
        given_cost = EXTRA_GIVEN_FULLER if fuller else DROPPED_GIVEN
        surnames = [k for k, t in enumerate(tokens) if t.surname]
        for tok in unmatched:
            if person and tok.surname and surname_hit and surname_allowance:
                # the paternal (first) surname dropped and the maternal one kept is not how
                # a Hispanic name is shortened ("Daniel Zamora Moreno" is not "MORENO, Daniel")
                paternal = len(surnames) >= 2 and tokens[surnames[0]] is tok
                cost += DROPPED_PATERNAL if paternal else DROPPED_SURNAME
                surname_allowance -= 1
                dropped.append(tok.text)
            elif person and not tok.surname and patronymic(tok.text):
                cost += DROPPED_PATRONYMIC
                left.append(tok.text)
            elif person and not tok.surname and given_hit and len(tok.text) == 1:
                cost += DROPPED_INITIAL
                left.append(tok.text)
            elif person and not tok.surname and given_hit:
                cost += given_cost
                given_cost = EXTRA_GIVEN
                left.append(tok.text)
            elif not person and distinctive >= 2 and tok.text not in ORG_GENERIC:
                cost += ORG_EXTRA
                left.append(tok.text)
            elif not person and tok.text in ORG_GENERIC:
                cost += ORG_WORD
                left.append(tok.text)
            else:
                cost += UNMATCHED
                left.append(tok.text)
    total = sum(p[2] for p in pairs)
    if len(qt) == 1 and len(ct) == 1 and total < PHONETIC_EQUAL:
        total *= SINGLE_FUZZY  # one word each, spelt differently: Cemex is not CIMEX
    overall = total / (len(pairs) + cost)
    # Given names in another order (Ramon Eduardo for Eduardo Ramon) break a tie with the
    # same names in the same order: a listed family often reuses the same given names.
    given = sorted((i, j) for i, j, _ in pairs if not qt[i].surname and not ct[j].surname)
    swaps = sum(1 for a, (_, j) in enumerate(given) for _, k in given[a + 1:] if k < j)
    overall = max(0.0, overall - GIVEN_ORDER * swaps)
    ordered = sorted(pairs, key=lambda p: p[0])
    return Alignment(
        round(overall, 4),
        tuple((qt[i].text, ct[j].text, round(s, 3)) for i, j, s in ordered),
        tuple(left_q), tuple(left_c), tuple(dropped))


def same_tokens(a: AnalyzedName, b: AnalyzedName) -> bool:
    """The two names are the same words (folded, particles ignored), in any order."""
    return bool(a.tokens) and sorted(a.texts) == sorted(b.texts)


def index_keys(name: AnalyzedName) -> set[str]:
    """Retrieval keys of a name: folded tokens, ``p:`` phonetic keys, ``t:`` transliteration
    keys (tokens of four letters or more), ``s:`` consonant skeletons (five or more)."""
    keys: set[str] = set()
    for tok in name.tokens:
        if len(tok.text) < 2 and not tok.text.isdigit():
            continue
        if not name.person and tok.text in ORG_NOISE:
            continue
        keys.add(tok.text[:60])
        keys.add(f"p:{tok.phonetic[:60]}")
        if len(tok.text) >= 4 and not tok.text.isdigit():
            keys.add(f"t:{translit_key(tok.text)[:60]}")
        if len(tok.text) >= 5 and not tok.text.isdigit():
            skel = skeleton(tok.phonetic)
            if len(skel) >= 3:
                keys.add(f"s:{skel[:60]}")
    return keys
