"""Company and organisation records as the linkage pipeline reads them, and their model.

Any CSV of companies (a registry export, a customs importer list, an FtM ``Company``,
``Organization`` or ``LegalEntity``) is mapped onto one set of columns:

- ``name``: the name folded (accents off, lower case, punctuation out) with its legal form
  written one way (rigour's org-type table: "S.A. de C.V." and "SA DE CV" both ``sacv``);
  ``name_core``: the name without its legal form and without stop words (de, la, y, the,
  of ...), the part that names the company; ``name_tokens`` its words, ``name_key`` the same
  words sorted (word order does not matter); ``legal_form``: the generic form
  (``jsc``, ``llc`` ...), compared with little weight;
- ``identifier``: a registration number, compact (letters and digits); an RFC of a Mexican
  moral person is validated with python-stdnum, and only valid RFCs (and identifiers that are
  not RFC-shaped) are blocked on (``id_key``): a mistyped RFC still compares by edit
  distance; ``founded``: the date of incorporation (or the one a valid RFC encodes);
- ``country`` as an ISO code, address parts, ``postcode`` and ``phone`` (last ten digits).

Blocking: identifier, phone, the sorted words, each record's rarest and second-rarest word
(frequencies over all inputs, computed in DuckDB), the first letters of the name, the street.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from followthemoney.types import registry
from normality import ascii_text
from rigour.names import extract_org_types, normalize_name, remove_org_types
from rigour.names import replace_org_types_compare as org_types_compare
from stdnum.mx import rfc as mx_rfc

from binational.core.errors import InvalidInput
from binational.resolution.pipeline import BlockingRule, Model, _levels
from binational.resolution.records import (
    Mapping,
    _per_value,
    clean_identifier,
    clean_phone,
    clean_text,
    header_key,
    map_columns,
    parse_dob,
    read_raw,
    source_columns,
)

COLUMNS = ("unique_id", "name", "name_core", "name_tokens", "name_key", "name_compact",
           "name_numbers", "legal_form", "legal_kind", "identifier", "id_key", "founded",
           "street", "locality", "postcode", "state", "country", "phone")

# Headers that name a company (folded, spaces as underscores).
COMPANY_NAMES = ("company_name", "company", "organization_name", "organisation_name",
                 "organization", "organisation", "org_name", "legal_name", "business_name",
                 "entity_name", "razon_social", "denominacion_social", "denominacion",
                 "nombre_empresa", "empresa", "importer", "exporter", "name", "nombre")
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": COMPANY_NAMES,
    "legal_form": ("legal_form", "company_type", "entity_type", "tipo_sociedad",
                   "forma_juridica", "regimen_capital"),
    "identifier": ("rfc", "ein", "tax_id", "tax_number", "taxid", "registration_number",
                   "company_number", "reg_no", "registration_id", "vat", "vat_number", "nit",
                   "lei", "duns", "id_number", "identifier"),
    "founded": ("incorporation_date", "date_of_incorporation", "founded", "founding_date",
                "fecha_constitucion", "fecha_de_constitucion"),
    "street": ("address_1", "street", "address", "street_address", "calle", "domicilio",
               "direccion"),
    "locality": ("address_2", "city", "town", "locality", "colonia", "municipio", "ciudad"),
    "postcode": ("postcode", "postal_code", "zip", "zipcode", "zip_code", "codigo_postal",
                 "cp"),
    "state": ("state", "estado", "province", "region"),
    "country": ("country", "pais", "country_code", "jurisdiction", "nationality"),
    "phone": ("phone", "telephone", "phone_number", "telefono", "mobile"),
}
# A header with one of these (and no person's name part) is a file of companies.
COMPANY_ONLY = frozenset(n for n in COMPANY_NAMES if n not in ("name", "nombre")) | {
    "legal_form", "company_type", "ein", "incorporation_date", "company_number",
    "registration_number", "tipo_sociedad", "fecha_constitucion"}
PERSON_ONLY = frozenset({"given_name", "first_name", "firstname", "surname", "last_name",
                         "lastname", "apellido_paterno", "apellido_materno", "date_of_birth",
                         "dob", "birth_date", "fecha_nacimiento", "curp"})
STOPWORDS = frozenset({"de", "del", "la", "las", "los", "el", "y", "e", "the", "of", "and",
                       "for", "en", "a", "an", "und", "et", "le", "les", "du", "des",
                       # Words of a legal form rigour leaves when they stand alone or in
                       # the middle ("Morvarid Petrochemical Co", "Zhuhai Company Ltd").
                       "co", "company", "corp", "corporation", "cia", "compania", "ltd",
                       "limited", "inc", "incorporated", "llc", "plc"})
# Mexican legal forms rigour's table does not know (or knows only in part), at the end of a
# folded name: (pattern, the form written one way, its generic kind).
MX_FORMS: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(rf"(?:^|\s)(?:{p})$"), form, generic) for p, form, generic in (
        (r"s ?a ?p ?i(?: de c ?v)?", "sapi", "jsc"),
        (r"s ?a ?b(?: de c ?v)?", "sab", "jsc"),
        (r"s ?de r ?l(?: de c ?v| mi)?|srl de cv", "srl", "llc"),
        (r"s ?p ?r de r ?l|s ?p ?r de r ?i", "spr", "coop"),
        (r"s ?c(?: de r ?l| de r ?s| de c ?v)?", "sc", "sc"),
        (r"a ?c", "ac", "npo"),
        (r"s ?en ?c(?: por a)?", "senc", "lp"),
    ))
ROMAN = frozenset({"ii", "iii", "iv", "vi", "vii", "viii", "ix", "xi", "xii"})
RFC_MORAL = re.compile(r"^[A-Z&Ñ]{3}\d{6}[A-Z0-9]{3}$")


# -- standardisation ----------------------------------------------------------------------------


@lru_cache(maxsize=262144)
def analyse_name(value: str) -> tuple[str | None, str | None, str | None, str | None]:
    """A company name as (compare form, core words, generic legal form, legal form).

    >>> analyse_name("Comercializadora del Norte, S.A. de C.V.")
    ('comercializadora del norte sacv', 'comercializadora norte', 'jsc', 'sacv')
    """
    folded = normalize_name(ascii_text(value)) or ""
    folded = " ".join(folded.split())
    kind: str | None = None
    form: str | None = None
    core = folded
    compare = folded
    for pattern, mx_form, generic in MX_FORMS:
        m = pattern.search(core)
        if m and m.start() > 0:
            core = core[: m.start()].strip()
            compare = f"{core} {mx_form}"
            kind, form = generic, mx_form
            break
    found = extract_org_types(core, generic=True)
    if found:
        kind = kind or found[-1][1]
        specific = extract_org_types(core)
        form = form or (specific[-1][1] if specific else kind)
        compare = org_types_compare(compare)
        stripped = " ".join(remove_org_types(core).split())
        # A name that is nothing but a legal form ("Compañía") keeps its words.
        core = stripped or core
    words = [w for w in core.split() if w not in STOPWORDS]
    return (compare or None), (" ".join(words) or None), kind, form


@lru_cache(maxsize=262144)
def name_numbers(value: str) -> str:
    """The numbers in a name (digits, roman numerals from II), sorted; "" when none.
    Sister companies often differ only there ("Vabo 2005" / "Vabo 2008", "Rim Group
    Investments" / "Rim Group Investments II")."""
    folded = normalize_name(ascii_text(value)) or ""
    return " ".join(sorted(w for w in folded.split() if w.isdigit() or w in ROMAN))


def valid_rfc(value: str) -> bool:
    """Whether a compact identifier is a valid RFC of a moral person: python-stdnum checks
    its layout and the date it encodes (not the check digit, which python-stdnum leaves out
    by default because many RFCs in use carry a wrong one)."""
    if not RFC_MORAL.match(value):
        return False
    try:
        mx_rfc.validate(value)
    except ValueError:  # stdnum's ValidationError is a ValueError
        return False
    return True


def rfc_founded(value: str | None) -> str | None:
    """The date of incorporation a valid moral person's RFC encodes, else ``None``."""
    if not value or not valid_rfc(value):
        return None
    yy, mm, dd = int(value[3:5]), int(value[5:7]), int(value[7:9])
    # RFCs of companies started in 1931 (the law); two digits resolve to the last century
    # only when the date would be in the future.
    year = 2000 + yy if 2000 + yy <= pd.Timestamp.now().year else 1900 + yy
    return f"{year:04d}-{mm:02d}-{dd:02d}"


def id_key(value: str | None) -> str | None:
    """The identifier blocked on: a valid RFC, or any identifier of five characters or more
    that is not shaped like an RFC (those must validate)."""
    if not value or len(value) < 5:
        return None
    if RFC_MORAL.match(value):
        return value if valid_rfc(value) else None
    return value


def clean_country(value: str) -> str | None:
    code = registry.country.clean_text(value)
    return str(code) if code else clean_text(value)


def standardise(raw: pd.DataFrame) -> pd.DataFrame:
    """Raw source columns (standard names, raw strings) to the standard company frame."""
    out = pd.DataFrame({"unique_id": raw["unique_id"].astype(str)})
    col = source_columns(raw)
    analysed = _per_value(col("name"), analyse_name)
    out["name"] = _per_value(analysed, lambda a: a[0])
    out["name_core"] = _per_value(analysed, lambda a: a[1])
    given = _per_value(col("legal_form"), lambda v: analyse_name(f"x {v}"))
    out["legal_kind"] = _per_value(given, lambda a: a[2]).fillna(
        _per_value(analysed, lambda a: a[2]))
    out["legal_form"] = _per_value(given, lambda a: a[3]).fillna(
        _per_value(col("legal_form"), clean_text)).fillna(_per_value(analysed, lambda a: a[3]))
    out["name_tokens"] = out["name_core"]
    out["name_key"] = _per_value(out["name_core"],
                                 lambda v: " ".join(sorted(set(v.split()))) or None)
    out["name_compact"] = _per_value(out["name_core"], lambda v: v.replace(" ", "") or None)
    out["name_numbers"] = _per_value(col("name"), name_numbers)
    out["identifier"] = _per_value(col("identifier"), clean_identifier)
    out["id_key"] = _per_value(out["identifier"], id_key)
    out["founded"] = _per_value(col("founded"), parse_dob)
    founded = _per_value(out["identifier"], rfc_founded)
    out["founded"] = out["founded"].where(out["founded"].notna(), founded)
    out["street"] = _per_value(col("street"), clean_text)
    out["locality"] = _per_value(col("locality"), clean_text)
    out["postcode"] = _per_value(col("postcode"), lambda v: clean_text(v.replace(" ", "")))
    out["state"] = _per_value(col("state"), clean_text)
    out["country"] = _per_value(col("country"), clean_country)
    out["phone"] = _per_value(col("phone"), clean_phone)
    frame = out[list(COLUMNS)]
    return frame.astype(object).where(frame.notna(), None)


def from_rows(rows: Iterable[dict[str, str]]) -> pd.DataFrame:
    """The standard company frame from dicts keyed by standard source fields."""
    frame = pd.DataFrame(list(rows))
    if frame.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    return standardise(frame)


VARIANT = "\x1f"  # joins an entity id and the number of one of its other names


def with_variants(rows: Iterable[dict[str, str]], names: dict[str, list[str]]
                  ) -> list[dict[str, str]]:
    """One record per name of each entity: its row, and a copy per other name (aliases,
    former names) whose words differ, with the id ``<id>\x1f<n>``. A company is then linked
    when any of its names matches; ``entity_pairs`` folds the pairs back onto entities."""
    out = []
    for row in rows:
        out.append(row)
        seen = {analyse_name(row["name"])[1]}
        for n, name in enumerate(names.get(row["unique_id"], [])):
            core = analyse_name(name)[1]
            if core and core not in seen:
                seen.add(core)
                out.append({**row, "unique_id": f"{row['unique_id']}{VARIANT}{n}",
                            "name": name})
    return out


def entity_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    """Pairs of name records folded onto their entities: pairs within one entity dropped,
    the best-scored pair of names kept for each pair of entities."""
    if pairs.empty:
        return pairs
    out = pairs.copy()
    out["left_id"] = out["left_id"].astype(str).str.split(VARIANT).str[0]
    out["right_id"] = out["right_id"].astype(str).str.split(VARIANT).str[0]
    out = out[out["left_id"] != out["right_id"]]
    first = out[["left_id", "right_id"]].min(axis=1)
    second = out[["left_id", "right_id"]].max(axis=1)
    out = out.assign(left_id=first, right_id=second)
    out = out.sort_values("match_probability", ascending=False, kind="stable")
    return out.drop_duplicates(["left_id", "right_id"]).reset_index(drop=True)


def map_company_columns(headers: Sequence[str], id_column: str, source: str = "input"
                        ) -> Mapping:
    return map_columns(headers, id_column, source, SYNONYMS, ("name",),
                       "no company name column (expected one of: company_name, name, "
                       "legal_name, organization, razon_social, denominacion ...)")


def read_csv(path: Path, id_column: str) -> tuple[pd.DataFrame, Mapping]:
    """Read a company CSV into the standard company frame."""
    raw, mapping = read_raw(path, id_column, map_company_columns)
    return standardise(raw), mapping


def is_company_header(headers: Sequence[str]) -> bool:
    """Whether a CSV header describes companies: a company column (company_name,
    razon_social, legal_form, ein ...) and no person's name or birth date."""
    keys = {header_key(h) for h in headers if h}
    return bool(keys & COMPANY_ONLY) and not keys & PERSON_ONLY


# -- the model ----------------------------------------------------------------------------------


def comparisons(features: set[str]) -> list[Any]:
    import splink.comparison_level_library as cll

    def shared_half(column: str) -> Any:
        # At least half the words of the longer name in common (Spark's SQL, translated).
        return cll.CustomLevel(
            f"size(array_intersect({column}_l, {column}_r)) * 2 >= "
            f"greatest(size({column}_l), size({column}_r))", "half the words shared",
            base_dialect_str="spark")

    two = cll.ArrayIntersectLevel("name_tokens", 2)
    rare_close = cll.JaroWinklerLevel("rare1", 0.88)

    out: list[Any] = [
        # u measured on a million random pairs of different OFAC organisations (2021 x
        # 2024 SDN lists): none shared its whole name or its words, so those u are an
        # upper bound. No term-frequency adjustment: on lists of a few thousand names it
        # counts every name's own occurrence as its frequency and undoes the exact level.
        _levels("name_core", [
            (cll.ExactMatchLevel("name_core"), 0.70, 0.000001),
            (cll.ExactMatchLevel("name_key").configure(label_for_charts="same words"),
             0.06, 0.000001),
            # The same letters, spaced otherwise ("Zhu Hai Zhen Rong" / "Zhuhai Zhenrong").
            (cll.ExactMatchLevel("name_compact").configure(label_for_charts="same letters"),
             0.02, 0.000001),
            # Spelling variants: the whole name and its rarest word close (a shared common
            # suffix, "... Trading Company", makes any two names close on their own).
            (cll.And(cll.JaroWinklerLevel("name_compact", 0.95), rare_close).configure(
                label_for_charts="spelling variant"), 0.05, 0.000007),
            # One name's words all in the other ("Banco Nacional" / "Banco Nacional de
            # Cuba"); with two words or more in common it says much more than with one.
            (cll.And(cll.ArraySubsetLevel("name_tokens"), two).configure(
                label_for_charts="words of one in the other (two or more)"), 0.05, 0.000013),
            (cll.And(shared_half("name_tokens"), two).configure(
                label_for_charts="half the words shared (two or more)"), 0.03, 0.00045),
            (cll.And(cll.JaroWinklerLevel("name_compact", 0.88), rare_close).configure(
                label_for_charts="close spelling"), 0.03, 0.0001),
            (cll.ArraySubsetLevel("name_tokens"), 0.02, 0.00004),
            # One word of two shared counts only when it is the rarest word of both.
            (cll.And(shared_half("name_tokens"), cll.ExactMatchLevel("rare1")).configure(
                label_for_charts="half the words shared, the rarest one"), 0.02, 0.00034),
            (cll.ArrayIntersectLevel("name_tokens", 1), 0.01, 0.021),
            (cll.ElseLevel(), 0.01, 0.978),
        ]),
    ]
    # Numbers in the name: rarely different in two records of one company.
    out.append(_levels("name_numbers", [(cll.ExactMatchLevel("name_numbers"), 0.999, 0.95),
                                        (cll.ElseLevel(), 0.001, 0.05)]))
    # Half the pairs of different companies share a generic legal form (u measured on the
    # OFAC lists); records of one company seldom differ in it, so a difference counts, and
    # the same generic kind written otherwise (Ltd / LLC, S.A. / S.A. de C.V.) a little.
    if "legal_form" in features:
        out.append(_levels("legal_form", [
            (cll.ExactMatchLevel("legal_form"), 0.8, 0.25),
            (cll.ExactMatchLevel("legal_kind").configure(label_for_charts="same kind"),
             0.1, 0.25),
            (cll.ElseLevel(), 0.1, 0.5)]))
    # A company has several numbers and phones and lists do not all give the same one: a
    # different one is weak evidence against (m of the else level 0.2). One character
    # apart says little: sister companies get consecutive registration numbers.
    for column in ("identifier", "phone"):
        if column in features:
            out.append(_levels(column, [
                (cll.ExactMatchLevel(column), 0.78, 0.0001),
                (cll.DamerauLevenshteinLevel(column, 1), 0.02, 0.005),
                (cll.ElseLevel(), 0.2, 0.9949)]))
    # Sister companies are often incorporated on the same day.
    if "founded" in features:
        out.append(_levels("founded", [
            (cll.ExactMatchLevel("founded"), 0.75, 0.005),
            (cll.DamerauLevenshteinLevel("founded", 1), 0.08, 0.01),
            (cll.ElseLevel(), 0.17, 0.985)]))
    for column in ("street", "locality"):
        if column in features:
            out.append(_levels(column, [
                (cll.ExactMatchLevel(column), 0.7, 0.002),
                (cll.JaroWinklerLevel(column, 0.9), 0.1, 0.003),
                (cll.ElseLevel(), 0.2, 0.995)]))
    if "postcode" in features:
        out.append(_levels("postcode", [(cll.ExactMatchLevel("postcode"), 0.8, 0.005),
                                        (cll.ElseLevel(), 0.2, 0.995)]))
    for column, u in (("state", 0.1), ("country", 0.1)):
        if column in features:
            # Companies move and list several countries: a different one weighs little.
            out.append(_levels(column, [(cll.ExactMatchLevel(column), 0.9, u),
                                        (cll.ElseLevel(), 0.1, 1 - u)]))
    return out


RULES: tuple[BlockingRule, ...] = (
    BlockingRule("identifier", ("id_key",)),
    BlockingRule("phone", ("phone",)),
    BlockingRule("name_key", ("name_key",)),
    BlockingRule("rare1", ("rare1",)),
    BlockingRule("rare2", ("rare2",)),
    BlockingRule("prefix", ("name_compact",), {"name_compact": 7}),
    BlockingRule("street", ("street", "locality")),
)


def prepare(con: Any) -> None:
    """In DuckDB, on the union of the inputs: the name's words as a list, and each record's
    rarest and second-rarest word (ties by the word) over all inputs; a rare word two names
    share is the best single clue that they are one company."""
    con.execute("create or replace temp table __bn_keyed as select row_number() over () as "
                "__rid, * replace (list_distinct(string_split(name_tokens, ' ')) as "
                "name_tokens) from __bn_keyed")
    con.execute("""
        create or replace temp table __bn_rare as
        with t as (select __rid, unnest(name_tokens) as tok from __bn_keyed),
             f as (select tok, count(*) as c from t group by tok),
             r as (select t.__rid, list(t.tok order by f.c, t.tok) as toks
                   from t join f using (tok) group by t.__rid)
        select __rid, toks[1] as rare1, toks[2] as rare2 from r""")
    con.execute("create or replace temp table __bn_keyed as select k.* exclude (__rid), "
                "r.rare1, r.rare2 from __bn_keyed k left join __bn_rare r using (__rid)")
    con.execute("drop table __bn_rare")


def _em_blocks(features: set[str]) -> list[str]:
    return ["bk_rare1", "bk_identifier" if "id_key" in features else "bk_prefix"]


OPTIONAL = ("legal_form", "legal_kind", "identifier", "id_key", "founded", "street", "locality",
            "postcode", "state", "country", "phone")
COMPANY = Model("company", RULES,
                frozenset({"name", "name_core", "name_tokens", "name_key", "name_compact",
                           "rare1", "rare2"}),
                OPTIONAL, comparisons, _em_blocks, prepare)


def check_frame(frame: pd.DataFrame, source: str = "input") -> None:
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InvalidInput(f"{source}: not a company frame (missing {', '.join(missing)})")
