"""Format ``un-xml``: the UN Security Council Consolidated List (XML).

``CONSOLIDATED_LIST/INDIVIDUALS/INDIVIDUAL`` -> Person, ``ENTITIES/ENTITY`` -> Company when the
name ends in a legal form, else Organization (as for OFAC). Ids are ``un-{DATAID}`` (stable
across versions; ``un-{REFERENCE_NUMBER}`` when DATAID is missing). Names: ``name`` is FIRST to
FOURTH_NAME joined; ``firstName`` and ``secondName`` are the first two (the list does not say
which part is a surname, so no ``lastName``). Aliases of quality Good / a.k.a. -> ``alias``,
Low -> ``weakAlias``, f.k.a. -> ``previousName``. Dates of birth: DATE, YEAR, or every year of
FROM_YEAR..TO_YEAR (FtM prefix dates). Documents: Passport -> ``passportNumber``, any other
type -> ``idNumber``. Each record yields a ``Sanction`` (``un-{DATAID}-sanction``: authority
"United Nations Security Council", program = UN_LIST_TYPE, ``unscId`` = REFERENCE_NUMBER,
``listingDate`` = LISTED_ON) and its addresses (``un-{DATAID}-addr-{n}``).

Parsed with the standard library's ``iterparse``, element by element. Safety: a document type
declaration can define entities (the "billion laughs" expansion), and this list never has one,
so a ``<!DOCTYPE`` before the root element is refused outright. A file cut short or otherwise
malformed raises ``InvalidInput`` naming the file, line and column; raised mid-stream, it
aborts the ingest's transaction, so nothing of the file is written.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from followthemoney import EntityProxy, model

from binational.core.errors import InvalidInput
from binational.core.ingest import SNIFF_BYTES, Format, Item, Parsed, RowError, register_format
from binational.screening.lists.ofac import LEGAL_FORM, add_value
from binational.screening.lists.remarks import parse_date

AUTHORITY = "United Nations Security Council"
SOURCE_URL = "https://main.un.org/securitycouncil/en/content/un-sc-consolidated-list"
MAX_YEARS = 10
_ROOT_START = re.compile(rb"<[A-Za-z_]")
_ID = re.compile(r"[^0-9A-Za-z.\-]+")


def check_prolog(path: Path, head: bytes) -> None:
    """Refuse what iterparse should never see: DTDs (entity expansion), non-XML, UTF-16."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidInput(f"{path}: UTF-16 XML is not supported; the UN list is UTF-8")
    # Skip comments and processing instructions: "<!DOCTYPE" inside one is harmless.
    stripped = re.sub(rb"<!--.*?-->|<\?.*?\?>", b"", head, flags=re.S)
    root = _ROOT_START.search(stripped)
    prolog = stripped[: root.start()] if root else stripped
    if b"<!DOCTYPE" in prolog.upper() or b"<!ENTITY" in prolog.upper():
        raise InvalidInput(
            f"{path}: the XML declares a document type (<!DOCTYPE/<!ENTITY); refused, since "
            "entity declarations can expand without bound and the UN list has none"
        )
    if root is None:
        raise InvalidInput(f"{path}: no XML root element in the first {SNIFF_BYTES:,} bytes")


def _text(el: ET.Element | None) -> str | None:
    if el is None or el.text is None:
        return None
    text = " ".join(el.text.split())
    return text or None


def _all(el: ET.Element, path: str) -> list[str]:
    return [t for t in (_text(e) for e in el.findall(path)) if t]


@register_format("un-xml")
class UNFormat(Format):
    """The UN Security Council Consolidated List."""

    def records(self, path: Path, options: Mapping[str, Any]) -> Iterator[Item]:
        with path.open("rb") as fh:
            check_prolog(path, fh.read(SNIFF_BYTES))
            fh.seek(0)
            # S314: the prolog check above refuses DTDs, the one way to declare entities.
            parser = ET.iterparse(fh, events=("start", "end"))  # noqa: S314
            depth = ordinal = 0
            try:
                for event, el in parser:
                    if event == "start":
                        depth += 1
                        if depth == 1 and el.tag != "CONSOLIDATED_LIST":
                            raise InvalidInput(
                                f"{path}: the root element is <{el.tag}>, not "
                                "<CONSOLIDATED_LIST>: not the UN consolidated list"
                            )
                        continue
                    depth -= 1
                    if el.tag in ("INDIVIDUAL", "ENTITY") and depth == 2:
                        self.bytes_read = fh.tell()
                        ordinal += 1
                        yield from self.record(el, el.tag == "INDIVIDUAL", ordinal)
                        el.clear()  # keep memory flat on the full list
            except ET.ParseError as exc:
                line, column = exc.position
                raise InvalidInput(
                    f"{path}:{line}:{column}: malformed or truncated XML ({exc}); nothing of "
                    "the file was loaded"
                ) from None

    def record(self, el: ET.Element, person: bool, line: int) -> Iterator[Item]:
        """One INDIVIDUAL or ENTITY; ``line`` is its ordinal (iterparse has no line numbers),
        so the report's "line N" means the Nth record."""
        dataid = _text(el.find("DATAID"))
        ref = _text(el.find("REFERENCE_NUMBER"))
        key = dataid or (_ID.sub("-", ref).strip("-.") if ref else None)
        names = [t for t in (_text(el.find(f"{n}_NAME")) for n in
                             ("FIRST", "SECOND", "THIRD", "FOURTH")) if t]
        if not key:
            yield RowError(line, f"a {el.tag} without DATAID or REFERENCE_NUMBER")
            return
        if not names:
            yield RowError(line, f"{el.tag} {key} has no name")
            return
        name = " ".join(names)
        schema = "Person" if person else ("Company" if LEGAL_FORM.search(name) else "Organization")
        proxy = model.make_entity(schema)
        proxy.id = f"un-{key}"
        proxy.add("name", name)
        proxy.add("topics", "sanction", cleaned=True)
        proxy.add("notes", _text(el.find("COMMENTS1")))
        add_value(proxy, "alias", _text(el.find("NAME_ORIGINAL_SCRIPT")) or "")
        prefix = "INDIVIDUAL" if person else "ENTITY"
        if person:
            proxy.add("firstName", names[0])
            if len(names) > 1:
                proxy.add("secondName", names[1])
            proxy.add("gender", (_text(el.find("GENDER")) or "").lower() or None)
            proxy.add("title", _all(el, "TITLE/VALUE"))
            proxy.add("position", _all(el, "DESIGNATION/VALUE"))
            proxy.add("nationality", _all(el, "NATIONALITY/VALUE"))
            for dob in el.findall("INDIVIDUAL_DATE_OF_BIRTH"):
                for date in self.dates(dob):
                    proxy.add("birthDate", date)
            for pob in el.findall("INDIVIDUAL_PLACE_OF_BIRTH"):
                parts = [_text(pob.find(t)) for t in ("CITY", "STATE_PROVINCE", "COUNTRY")]
                place = ", ".join(p for p in parts if p)
                proxy.add("birthPlace", place or None)
            for doc in el.findall("INDIVIDUAL_DOCUMENT"):
                doc_number = _text(doc.find("NUMBER"))
                kind = (_text(doc.find("TYPE_OF_DOCUMENT")) or "").lower()
                if doc_number:
                    prop = "passportNumber" if "passport" in kind else "idNumber"
                    proxy.add(prop, doc_number)
        for alias in el.findall(f"{prefix}_ALIAS"):
            alias_name = _text(alias.find("ALIAS_NAME"))
            quality = (_text(alias.find("QUALITY")) or "").lower()
            if alias_name:
                prop = {"low": "weakAlias", "f.k.a.": "previousName"}.get(quality, "alias")
                proxy.add(prop, alias_name)
        for number, address in enumerate(el.findall(f"{prefix}_ADDRESS")):
            addr = self.address(proxy, number, address)
            if addr is not None:
                proxy.add("addressEntity", addr.id)
                proxy.add("country", addr.get("country"))
                yield Parsed(line, addr)
        yield Parsed(line, proxy)
        yield Parsed(line, self.sanction(el, proxy, ref))

    def dates(self, dob: ET.Element) -> list[str]:
        date, year = _text(dob.find("DATE")), _text(dob.find("YEAR"))
        if date:
            return [date[:10]]
        if year:
            return [year]
        low, high = _text(dob.find("FROM_YEAR")), _text(dob.find("TO_YEAR"))
        if low and high and low.isdigit() and high.isdigit():
            if 0 <= int(high) - int(low) <= MAX_YEARS:
                return [str(y) for y in range(int(low), int(high) + 1)]
            return [low, high]
        found = [d for d in (low, high) if d]
        if not found and (note := _text(dob.find("NOTE"))):
            date = parse_date(note)  # e.g. "Nov. 1973"
            return [date] if date else []
        return found

    def address(self, proxy: EntityProxy, number: int, el: ET.Element) -> EntityProxy | None:
        parts = {t: _text(el.find(t)) for t in
                 ("STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE", "COUNTRY", "NOTE")}
        if not any(v for k, v in parts.items() if k != "NOTE"):
            return None
        addr = model.make_entity("Address")
        addr.id = f"{proxy.id}-addr-{number}"
        full = [parts[t] for t in ("STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE", "COUNTRY")]
        addr.add("full", ", ".join(p for p in full if p))
        addr.add("street", parts["STREET"])
        addr.add("city", parts["CITY"])
        addr.add("region", parts["STATE_PROVINCE"])
        addr.add("postalCode", parts["ZIP_CODE"])
        addr.add("country", parts["COUNTRY"])
        addr.add("remarks", parts["NOTE"])
        return addr

    def sanction(self, el: ET.Element, proxy: EntityProxy, ref: str | None) -> EntityProxy:
        sanction = model.make_entity("Sanction")
        sanction.id = f"{proxy.id}-sanction"
        sanction.add("entity", proxy.id)
        sanction.add("authority", AUTHORITY)
        sanction.add("sourceUrl", SOURCE_URL, cleaned=True)
        sanction.add("program", _text(el.find("UN_LIST_TYPE")))
        sanction.add("programId", _text(el.find("UN_LIST_TYPE")))
        sanction.add("unscId", ref)
        sanction.add("authorityId", ref)
        sanction.add("listingDate", _text(el.find("LISTED_ON")))
        sanction.add("modifiedAt", _all(el, "LAST_DAY_UPDATED/VALUE"))
        return sanction
