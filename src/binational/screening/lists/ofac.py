"""Formats ``ofac-csv`` (the SDN list) and ``ofac-cons`` (the non-SDN consolidated lists).

OFAC's legacy CSV files have no header and ``-0-`` for empty cells:

- primary (``sdn.csv`` / ``cons_prim.csv``): ``ent_num, SDN_Name, SDN_Type, Program, Title,
  Call_Sign, Vess_type, Tonnage, GRT, Vess_flag, Vess_owner, Remarks``;
- aliases (``alt.csv`` / ``cons_alt.csv``): ``ent_num, alt_num, alt_type, alt_name, alt_remarks``;
- addresses (``add.csv`` / ``cons_add.csv``): ``ent_num, add_num, address, city_state_zip,
  country, add_remarks``;
- remark overflow (``sdn_comments.csv`` / ``cons_comments.csv``): ``ent_num, text`` continuing
  a remark that OFAC cut off (appended as is: the cut is mid-word).

The path is the primary file or a folder holding it. The side files are read from the same
folder only when the primary file has its official name (a renamed ``ofac_sdn_2024.csv`` is read
alone), so that a copy is never joined with another version's aliases.

Mapping: ``individual`` -> Person, ``vessel`` -> Vessel, ``aircraft`` -> Airplane, anything
else -> Company when the name ends in a legal form (S.A. DE C.V., S. DE R.L., LLC, LTD, INC...),
else Organization. Ids are ``ofac-{ent_num}``: OFAC keeps ``ent_num`` across versions, so a
``replace`` ingest of the next version diffs entry by entry. Each entry yields a ``Sanction``
(``ofac-{ent_num}-sanction``: authority, programs, source URL), its ``Address`` entities
(``ofac-addr-{add_num}``) and, for ``Linked To: NAME`` remarks naming another entry of the
same file, an ``UnknownLink`` (``ofac-link-{a}-{b}``, role "Linked To"); a name not found in
the file stays in the entry's ``notes``.

Individuals' names are written "SURNAMES, Given Names": ``name`` keeps that, ``lastName`` and
``firstName`` split it at the first comma. When the remarks tie the person to a
Spanish-speaking country (nationality, POB, an ID's country...) and the surnames are exactly
two once particles are attached to the word they precede (DE, DEL, DE LA, DE LOS, LA...) and
the conjunction Y is dropped, they also become ``fatherName`` and ``motherName``
("DE LA TORRE GARCIA" -> "DE LA TORRE", "GARCIA").

Options: ``encoding`` (default utf-8; a line that does not decode is a row error).
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from followthemoney import EntityProxy, model

from binational.core.errors import InvalidInput
from binational.core.ingest import (
    SNIFF_BYTES,
    Format,
    Item,
    Parsed,
    RowError,
    RowWarning,
    check_text_sample,
    register_format,
)
from binational.screening.lists.remarks import LINKED_TO, parse_remarks

AUTHORITY = "Office of Foreign Assets Control"
SOURCE_URL = "https://sanctionssearch.ofac.treas.gov/Details.aspx?id={}"
EMPTY = "-0-"
PRIMARY_COLUMNS, ALT_COLUMNS, ADD_COLUMNS = 12, 5, 6

LEGAL_FORM = re.compile(
    r"(?:,|\s)\s*(?:"
    r"S\.?\s?A\.?(?:\s*DE\s+C\.?\s?V\.?)?|S\.?\s?(?:DE\s+)?R\.?\s?L\.?(?:\s*DE\s+C\.?\s?V\.?)?"
    r"|S\.?\s?A\.?\s?P\.?\s?I\.?(?:\s*DE\s+C\.?\s?V\.?)?|S\.?\s?A\.?\s?S\.?|S\.?\s?C\.?|S\.?\s?L\.?"
    r"|L\.?\s?L\.?\s?C\.?|L\.?\s?L\.?\s?P\.?|LTDA?\.?|LIMITED|INC\.?|INCORPORATED|CORP\.?"
    r"|CORPORATION|CO\.?|COMPANY|GMBH|AG|P\.?\s?L\.?\s?C\.?|P?JSC|OJSC|CJSC|OOO|OAO|ZAO"
    r"|B\.?\s?V\.?|N\.?\s?V\.?|S\.?\s?P\.?\s?A\.?|S\.?\s?A\.?\s?R\.?\s?L\.?|FZE|FZCO|FZ-?LLC"
    r"|(?:PTE|PVT|PRIVATE)\.?\s+LTD\.?|SDN\.?\s+BHD\.?|A\.?\s?S\.?|A\.?\s?\u015e\.?"
    # Mexican and other endings seen on the SDN list: "... DE C.V.", "S.P.R. DE R.L.", Turkish
    # "SIRKETI", Russian "KOMPANIYA", "GMBH & CO. KG", Lebanese "S.A.L. OFFSHORE"...
    r"|DE\s+C\.?\s?V\.?|DE\s+R\.?\s?L\.?|DE\s+CAPITAL\s+VARIABLE|S\.?\s?C\.?\s?S\.?|C\.?\s?S\."
    r"|SIRKETI|KG|KOMPANIYA|DMCC|E?OOD|DOO|AO|S\.?\s?A\.?\s?L\.?(?:\s+OFF-?SHORE)?"
    r")\s*$",
    re.I,
)
SCHEMATA = {"individual": "Person", "vessel": "Vessel", "aircraft": "Airplane"}
PARTICLES = {"DE", "DEL", "LA", "LAS", "LOS", "DA", "DAS", "DO", "DOS", "VAN", "VON"}
HISPANIC = re.compile(
    r"\b(?:Mexico|Colombia|Venezuela|Ecuador|Peru|Bolivia|Chile|Argentina|Uruguay|Paraguay|"
    r"Guatemala|Honduras|El Salvador|Nicaragua|Costa Rica|Panama|Cuba|Dominican Republic|"
    r"Spain|Puerto Rico)\b",
    re.I,
)


@dataclass(frozen=True)
class Layout:
    """The file names of one OFAC list."""

    primary: str
    alt: str
    add: str
    comments: str


SDN = Layout("sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv")
CONS = Layout("cons_prim.csv", "cons_alt.csv", "cons_add.csv", "cons_comments.csv")


def cell(value: str) -> str | None:
    value = value.strip()
    return None if not value or value == EMPTY else value


def schema_for(sdn_type: str | None, name: str) -> str:
    kind = (sdn_type or "").strip().lower()
    if kind in SCHEMATA:
        return SCHEMATA[kind]
    return "Company" if LEGAL_FORM.search(name) else "Organization"


def add_value(proxy: EntityProxy, name: str, value: str) -> bool:
    """Add a value through FtM's cleaning; False when the schema lacks the property or the
    value does not clean (the caller keeps the original words in ``notes`` instead)."""
    prop = proxy.schema.get(name)
    if prop is None:
        return False
    try:
        cleaned = prop.type.clean(value, proxy=proxy, format=prop.format)
    except Exception:  # a cleaner choking on odd text means a value we cannot use
        return False
    if cleaned is None:
        return False
    proxy.unsafe_add(prop, cleaned, cleaned=True)
    return True


def surnames(last: str) -> list[str]:
    """Surname units: particles join the word after them, the conjunction Y is dropped."""
    units: list[str] = []
    prefix: list[str] = []
    for word in last.split():
        upper = word.upper()
        if upper == "Y":
            continue
        if upper in PARTICLES:
            prefix.append(word)
            continue
        units.append(" ".join([*prefix, word]))
        prefix = []
    if prefix:  # trailing particles: not a surname pattern we can split
        return [last]
    return units


def programs(raw: str | None) -> list[str]:
    """``SDNTK] [ILLICIT-DRUGS-EO14059`` (OFAC's bracketed list, outer brackets cut) -> codes."""
    if not raw:
        return []
    return [p.strip() for p in re.split(r"\]\s*\[", raw.strip().strip("[]")) if p.strip()]


class _Lines:
    """Rows of one headerless OFAC CSV file: (line number, cells) or (line number, problem)."""

    def __init__(self, path: Path, encoding: str, columns: int, fmt: Format | None) -> None:
        self.path = path
        self.encoding = encoding
        self.columns = columns
        self.fmt = fmt

    def check(self) -> None:
        with self.path.open("rb") as fh:
            check_text_sample(self.path, fh.read(SNIFF_BYTES), self.encoding)

    def __iter__(self) -> Iterator[tuple[int, list[str] | str]]:
        first = True
        with self.path.open("rb") as fh:
            for number, raw in enumerate(fh, 1):
                if self.fmt is not None:
                    self.fmt.bytes_read += len(raw)
                if number == 1:
                    raw = raw.removeprefix(b"\xef\xbb\xbf")
                raw = raw.rstrip(b"\r\n").strip(b"\x1a")  # OFAC ends files with DOS EOF (^Z)
                if not raw.strip():
                    continue
                try:
                    text = raw.decode(self.encoding)
                except UnicodeDecodeError as exc:
                    yield number, (
                        f"not valid {self.encoding} ({exc.reason} at byte {exc.start + 1}); "
                        "set the encoding option if the file is, e.g., latin-1"
                    )
                    continue
                try:
                    row = next(csv.reader([text]))
                except csv.Error as exc:
                    yield number, f"not a CSV row: {exc}"
                    continue
                if len(row) != self.columns:
                    problem = f"expected {self.columns} columns, found {len(row)}"
                    if first:  # the wrong file, not a bad row: say so once
                        raise InvalidInput(
                            f"{self.path}:{number}: {problem}; not an OFAC "
                            f"{self.columns}-column file (a file of another layout?)"
                        )
                    yield number, problem
                    continue
                first = False
                yield number, row


@dataclass
class _Entry:
    line: int
    ent_num: str
    row: list[str]


class OFACFormat(Format):
    """Shared by both OFAC lists; subclasses name their files."""

    layout: ClassVar[Layout] = SDN
    directories = True

    def records(self, path: Path, options: Mapping[str, Any]) -> Iterator[Item]:
        encoding = str(options.get("encoding") or "utf-8")
        primary, folder = self.locate(path)
        main = _Lines(primary, encoding, PRIMARY_COLUMNS, self)
        main.check()
        side = {
            name: _Lines(folder / name, encoding, columns, None)
            for name, columns in (
                (self.layout.alt, ALT_COLUMNS),
                (self.layout.add, ADD_COLUMNS),
                (self.layout.comments, 2),
            )
            if folder is not None and (folder / name).is_file()
        }
        for lines in side.values():
            lines.check()
        # The whole primary file first: "Linked To" names are resolved against all entries.
        # Its row errors wait in ``early`` so that every whole-file problem (a side file of
        # the wrong layout) is raised before the first item, i.e. before ingest() writes.
        early: list[Item] = []
        entries: list[_Entry] = []
        by_name: dict[str, list[str]] = defaultdict(list)
        for number, row in main:
            if isinstance(row, str):
                early.append(RowError(number, row))
                continue
            ent_num, name = row[0].strip(), cell(row[1])
            if not ent_num.isdigit():
                early.append(RowError(number, f"ent_num {ent_num[:20]!r} is not a number"))
                continue
            if name is None:
                early.append(RowError(number, f"entry {ent_num} has no name"))
                continue
            entries.append(_Entry(number, ent_num, row))
            by_name[name.upper()].append(ent_num)
        known = {e.ent_num for e in entries}
        aliases: dict[str, list[tuple[str, str]]] = defaultdict(list)
        addresses: dict[str, list[list[str]]] = defaultdict(list)
        comments: dict[str, str] = {}
        for name, lines in side.items():
            orphans = 0
            for number, row in lines:
                if isinstance(row, str):
                    early.append(RowError(0, f"{name}:{number}: {row}"))
                    continue
                ent_num = row[0].strip()
                if ent_num not in known:
                    orphans += 1
                elif name == self.layout.alt:
                    alias = cell(row[3])
                    if alias:
                        aliases[ent_num].append(((cell(row[2]) or "aka").lower(), alias))
                elif name == self.layout.add:
                    addresses[ent_num].append(row)
                else:
                    comments[ent_num] = comments.get(ent_num, "") + row[1]
            if orphans:
                early.append(RowWarning(0, f"{name}: {orphans} rows name entries not in "
                                           f"{primary.name}; skipped"))
        yield from early
        for entry in entries:
            yield from self.entry(entry, aliases, addresses, comments, by_name)

    def locate(self, path: Path) -> tuple[Path, Path | None]:
        """The primary file, and the folder of its side files (None: read it alone)."""
        if path.is_dir():
            primary = path / self.layout.primary
            if not primary.is_file():
                raise InvalidInput(
                    f"{path}: the folder holds no {self.layout.primary} (format {self.name})"
                )
            return primary, path
        return path, path.parent if path.name == self.layout.primary else None

    def entry(
        self,
        entry: _Entry,
        aliases: Mapping[str, list[tuple[str, str]]],
        addresses: Mapping[str, list[list[str]]],
        comments: Mapping[str, str],
        by_name: Mapping[str, list[str]],
    ) -> Iterator[Item]:
        row, n, line = entry.row, entry.ent_num, entry.line
        name = cell(row[1]) or ""
        remarks_text = (cell(row[11]) or "") + comments.get(n, "")
        remarks = parse_remarks(remarks_text)
        schema = schema_for(cell(row[2]), name)
        proxy = model.make_entity(schema)
        proxy.id = f"ofac-{n}"
        proxy.add("name", name)
        proxy.add("topics", "sanction", cleaned=True)
        proxy.add("sourceUrl", SOURCE_URL.format(n), cleaned=True)  # ours: skip URL cleaning
        if schema == "Person":
            self.person_names(proxy, name, remarks_text)
        if title := cell(row[4]):
            proxy.add("position" if schema == "Person" else "notes", title)
        if schema == "Vessel":
            proxy.add("callSign", cell(row[5]))
            proxy.add("type", cell(row[6]))
            proxy.add("tonnage", cell(row[7]))
            proxy.add("grossRegisteredTonnage", cell(row[8]))
            proxy.add("flag", cell(row[9]))
            if owner := cell(row[10]):
                proxy.add("notes", f"Owner: {owner}")
        for kind, alias in aliases.get(n, []):
            proxy.add("alias", alias)
            if kind == "fka":
                proxy.add("previousName", alias)
        links: list[str] = []
        for fact in remarks.facts:
            if fact.prop == LINKED_TO:
                targets = by_name.get(fact.value.upper(), [])
                if len(targets) == 1 and targets[0] != n:
                    if targets[0] not in links:
                        links.append(targets[0])
                else:  # not in this file (or ambiguous): keep the words
                    proxy.add("notes", fact.text)
                continue
            if not add_value(proxy, fact.prop, fact.value):
                proxy.add("notes", fact.text)  # e.g. a passport on an Organization
        for note in remarks.notes:
            proxy.add("notes", note)
        for number, address in enumerate(addresses.get(n, [])):
            addr = self.address(n, number, address)
            if addr is not None:
                proxy.add("addressEntity", addr.id)
                proxy.add("country", addr.get("country"))
                yield Parsed(line, addr)
        yield Parsed(line, proxy)
        yield Parsed(line, self.sanction(n, proxy, row))
        for target in links:
            link = model.make_entity("UnknownLink")
            link.id = f"ofac-link-{n}-{target}"
            link.add("subject", proxy.id)
            link.add("object", f"ofac-{target}")
            link.add("role", "Linked To")
            yield Parsed(line, link)
        for problem in remarks.problems:
            yield RowWarning(line, f"entry {n}: {problem}")

    def person_names(self, proxy: EntityProxy, name: str, remarks: str) -> None:
        last, comma, first = name.partition(",")
        if not comma:
            return
        last, first = last.strip(), first.strip()
        proxy.add("lastName", last)
        proxy.add("firstName", first)
        units = surnames(last)
        if len(units) == 2 and HISPANIC.search(remarks):
            proxy.add("fatherName", units[0])
            proxy.add("motherName", units[1])

    def address(self, n: str, number: int, row: list[str]) -> EntityProxy | None:
        street, city, country = cell(row[2]), cell(row[3]), cell(row[4])
        if not (street or city or country):
            return None
        addr = model.make_entity("Address")
        add_num = row[1].strip()
        addr.id = f"ofac-addr-{add_num}" if add_num.isdigit() else f"ofac-addr-{n}-{number}"
        addr.add("full", ", ".join(p for p in (street, city, country) if p))
        addr.add("street", street)
        addr.add("city", city)
        addr.add("country", country)
        addr.add("remarks", cell(row[5]))
        return addr

    def sanction(self, n: str, proxy: EntityProxy, row: list[str]) -> EntityProxy:
        sanction = model.make_entity("Sanction")
        sanction.id = f"ofac-{n}-sanction"
        sanction.add("entity", proxy.id)
        # Our own constants and OFAC's program codes: plain strings, no cleaning needed.
        sanction.add("authority", AUTHORITY, cleaned=True)
        sanction.add("authorityId", n, cleaned=True)
        sanction.add("country", "us", cleaned=True)
        sanction.add("sourceUrl", SOURCE_URL.format(n), cleaned=True)
        for program in programs(cell(row[3])):
            sanction.add("program", program, cleaned=True)
            sanction.add("programId", program, cleaned=True)
        return sanction


@register_format("ofac-csv")
class OFACSDNFormat(OFACFormat):
    """OFAC's Specially Designated Nationals list (``sdn.csv`` and its side files)."""

    layout = SDN


@register_format("ofac-cons")
class OFACConsolidatedFormat(OFACFormat):
    """OFAC's consolidated non-SDN lists (``cons_prim.csv`` and its side files)."""

    layout = CONS
