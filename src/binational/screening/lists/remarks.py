"""OFAC's free-text ``Remarks`` column, read into facts: pure functions, no I/O.

A remark is a run of ``;``-separated parts (``DOB 17 Jul 1966; alt. DOB 17 Jul 1964; POB ...;
nationality Mexico; a.k.a. 'Mencho'.``). Each part either becomes a ``Fact`` (an FtM property
and its value) or is kept verbatim in ``notes``: nothing is dropped, so a part this module does
not understand still reaches the entity's ``notes``.

Rules worth knowing:

- ``a.k.a. 'X'`` (quoted: OFAC's "weak" aliases) -> ``weakAlias``; unquoted -> ``alias``;
  ``f.k.a.`` -> ``previousName``; ``n.k.a.`` -> ``alias``.
- DOB becomes FtM prefix dates: ``17 Jul 1966`` -> ``1966-07-17``, ``Jul 1966`` -> ``1966-07``,
  ``1966`` and ``circa 1966`` -> ``1966`` (FtM has no "circa"; the year is the best prefix);
  ``1962 to 1965`` -> every year of the range when it spans at most ``MAX_YEARS`` years (so a
  screening match on any of them works), otherwise its two ends; day ranges -> both ends.
- ``C.U.R.P.`` and ``R.F.C.`` are checked with python-stdnum; a valid or invalid number alike
  goes to ``idNumber`` / ``taxNumber`` as written (compacted when valid), an invalid one with a
  ``problem`` for the report. Nothing is derived from a CURP (birth date, sex, state): what the
  list states is what we store.
- The final period OFAC puts after the last part is dropped, unless it ends an abbreviation
  (``..., S.A.``, ``LTD.``) where OFAC merges the two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from stdnum.mx import curp as mx_curp
from stdnum.mx import rfc as mx_rfc

MAX_YEARS = 10
MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}

_ALT = re.compile(r"^alt\.\s+", re.I)
# A last part ending in an abbreviation keeps its period: "Linked To: ACME, S.A."
_ABBREV_END = re.compile(r"(?:\b[A-Z]\.|\b(?:LTD|LTDA|INC|CO|CORP|JR|SR|ST|NO|CIA|LLC|PLC|JSC)\.)$",
                         re.I)
_QUALIFIER = r"(?:\s+\((?P<country>[^)]*)\))?(?P<rest>\s+(?:issued|expires)\b.*)?"
_DATE_DAY = re.compile(r"^(\d{1,2})\s+([A-Za-z]{3})[a-z]*\.?\s+(\d{4})$")
_DATE_MONTH = re.compile(r"^([A-Za-z]{3})[a-z]*\.?\s+(\d{4})$")
_DATE_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Fact:
    """One remark part read as an FtM property value. ``text`` is the part as written."""

    prop: str
    value: str
    text: str
    country: str | None = None
    alt: bool = False


LINKED_TO = "linkedTo"
"""Pseudo-property of ``Linked To:`` parts: the format resolves the name to a listed entry."""


@dataclass
class Remarks:
    facts: list[Fact] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def values(self, prop: str) -> list[str]:
        return [f.value for f in self.facts if f.prop == prop]


def split_remarks(text: str) -> list[str]:
    """The parts of a remark, trimmed, with OFAC's closing period removed."""
    parts = [p.strip() for p in text.split(";")]
    parts = [p for p in parts if p and p != "-0-"]
    if parts and parts[-1].endswith(".") and not _ABBREV_END.search(parts[-1]):
        parts[-1] = parts[-1][:-1].rstrip()
        if not parts[-1]:
            parts.pop()
    return parts


def parse_date(text: str) -> str | None:
    """``17 Jul 1966`` / ``Jul 1966`` / ``1966`` as an FtM prefix date, else None."""
    text = text.strip().rstrip(".").strip()
    if m := _DATE_DAY.match(text):
        month = MONTHS.get(m.group(2).lower())
        day = int(m.group(1))
        if month is None or not 1 <= day <= 31:
            return None
        return f"{m.group(3)}-{month:02d}-{day:02d}"
    if m := _DATE_MONTH.match(text):
        month = MONTHS.get(m.group(1).lower())
        return f"{m.group(2)}-{month:02d}" if month else None
    if m := _DATE_YEAR.match(text):
        return m.group(1)
    return None


def parse_dob(text: str) -> list[str]:
    """A DOB remark's value as FtM prefix dates (see the module's rules); [] if unreadable."""
    text = re.sub(r"^(?:circa|approximately|approx\.)\s+", "", text.strip(), flags=re.I)
    single = parse_date(text)
    if single is not None:
        return [single]
    ends = re.split(r"\s+to\s+|\s*-\s*(?=\d{4}$)", text, maxsplit=1)
    if len(ends) != 2:
        return []
    low, high = parse_date(ends[0]), parse_date(ends[1])
    if low is None or high is None:
        return []
    if len(low) == len(high) == 4 and 0 <= int(high) - int(low) <= MAX_YEARS:
        return [str(year) for year in range(int(low), int(high) + 1)]
    return [low, high]


def _unquote(value: str) -> tuple[str, bool]:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1].strip(), True
    return value, False


def _number(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"^(?:{pattern})(?:\s*(?:#|No\.))?\s*(?P<value>.+?){_QUALIFIER}$", re.I)


# (pattern, property) for identifiers written "<label> <number> (<country>) [issued|expires ...]".
_NUMBERS: list[tuple[re.Pattern[str], str]] = [
    (_number(r"C\.U\.R\.P\.?"), "curp"),
    (_number(r"R\.F\.C\.?"), "rfc"),
    (_number(r"Passport(?:\s+No\.?)?"), "passportNumber"),
    (_number(r"(?:National ID No\.|Cedula No\.|I\.F\.E\.|Identification Number|D\.N\.I\.|"
             r"NIT\s*#|RUC\s*#|Electoral Registry No\.|Credencial electoral)"), "idNumber"),
    (_number(r"(?:Tax ID No\.|V\.A\.T\. Number)"), "taxNumber"),
    (_number(r"(?:Registration Number|Registration ID|Folio Mercantil No\.|Company Number|"
             r"Business Registration Document\s*#|Commercial Registry Number)"),
     "registrationNumber"),
]
_SIMPLE: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^POB\s+(?P<value>.+)$"), "birthPlace"),
    (re.compile(r"^nationality\s+(?P<value>.+)$", re.I), "nationality"),
    (re.compile(r"^citizen\s+(?P<value>.+)$", re.I), "citizenship"),
    (re.compile(r"^Gender\s+(?P<value>.+)$", re.I), "gender"),
    (re.compile(r"^Linked To:\s*(?P<value>.+)$", re.I), LINKED_TO),
    (re.compile(r"^Website:?\s+(?P<value>\S+)$", re.I), "website"),
    (re.compile(r"^Email(?: Address)?:?\s*(?P<value>\S+@\S+)$", re.I), "email"),
    (re.compile(r"^Phone(?: Number)?:?\s*(?P<value>[\d +()\-]{5,})$", re.I), "phone"),
    (re.compile(r"^SWIFT/BIC\s+(?P<value>\S+)$", re.I), "swiftBic"),
    (re.compile(r"^Vessel Registration Identification IMO\s+(?P<value>\d{7})$", re.I),
     "imoNumber"),
    (re.compile(r"^MMSI\s+(?P<value>\d{9})$", re.I), "mmsi"),
    (re.compile(r"^Aircraft Model\s+(?P<value>.+)$", re.I), "model"),
    (re.compile(r"^Aircraft Manufacturer's Serial Number \(MSN\)\s+(?P<value>.+)$", re.I),
     "serialNumber"),
    (re.compile(r"^Aircraft Tail Number\s+(?P<value>.+)$", re.I), "registrationNumber"),
]
_DATES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^DOB\s+(?P<value>.+)$"), "birthDate"),
    (re.compile(r"^Organization Established Date\s+(?P<value>.+)$", re.I), "incorporationDate"),
    (re.compile(r"^Aircraft Manufacture Date\s+(?P<value>.+)$", re.I), "buildDate"),
]
_ALIAS = re.compile(r"^(?P<kind>a\.k\.a\.|f\.k\.a\.|n\.k\.a\.),?\s*(?P<value>.+)$", re.I)


def parse_part(part: str, out: Remarks) -> None:
    """Read one part into ``out`` (a fact, or a note when not understood)."""
    alt = bool(_ALT.match(part))
    body = _ALT.sub("", part, count=1)
    if m := _ALIAS.match(body):
        name, quoted = _unquote(m.group("value"))
        kind = m.group("kind").lower()
        if not name:
            out.notes.append(part)
            return
        prop = {"f.k.a.": "previousName", "n.k.a.": "alias"}.get(
            kind, "weakAlias" if quoted else "alias"
        )
        out.facts.append(Fact(prop, name, part, alt=alt))
        return
    for pattern, prop in _DATES:
        if m := pattern.match(body):
            dates = parse_dob(m.group("value"))
            if not dates:
                out.notes.append(part)
                out.problems.append(f"could not read the date of {part!r}; kept as a note")
            out.facts.extend(Fact(prop, d, part, alt=alt) for d in dates)
            return
    for pattern, prop in _NUMBERS:
        if m := pattern.match(body):
            _number_fact(prop, m.group("value").strip(), m.group("country"), part, alt, out)
            return
    for pattern, prop in _SIMPLE:
        if m := pattern.match(body):
            value = m.group("value").strip()
            if prop == "gender":
                value = value.lower()
            out.facts.append(Fact(prop, value, part, alt=alt))
            return
    out.notes.append(part)


def _number_fact(kind: str, value: str, country: str | None, part: str, alt: bool,
                 out: Remarks) -> None:
    if kind == "curp":
        if mx_curp.is_valid(value):
            value = mx_curp.compact(value)
        else:
            out.problems.append(f"C.U.R.P. {value} is not a valid CURP; kept as written")
        out.facts.append(Fact("idNumber", value, part, country, alt))
    elif kind == "rfc":
        if mx_rfc.is_valid(value):
            value = mx_rfc.compact(value)
        else:
            out.problems.append(f"R.F.C. {value} is not a valid RFC; kept as written")
        out.facts.append(Fact("taxNumber", value, part, country, alt))
    else:
        out.facts.append(Fact(kind, value, part, country, alt))


def parse_remarks(text: str | None) -> Remarks:
    """Every part of a remark as facts and notes; never raises on any text."""
    out = Remarks()
    if not text:
        return out
    for part in split_remarks(text):
        parse_part(part, out)
    return out
