"""A DVI case: markers, victims (post-mortem samples), reference families and the missing.

Read from the DVI case JSON (``../shared/data/forensics/dvi/FORMAT.md``) or a Familias
``.fam`` file (``familias.py``). Everything is checked on the way in: unknown markers,
genotypes with other than two alleles, a missing person absent from every family, a victim
named like a reference person.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from binational.core.errors import InvalidInput
from binational.identification.dna.markers import MIN_ALLELE_FREQUENCY, Marker, MutationModel
from binational.identification.dna.pedigree import Genotype, Pedigree, Person, parse_sex

NOT_AMONG_MISSING = "*"


@dataclass
class DviCase:
    name: str
    markers: list[Marker]
    victims: list[Person]
    families: list[Pedigree]
    missing: list[str]
    pairings: dict[str, list[str]] | None = None
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.check()

    def check(self, min_frequency: float = MIN_ALLELE_FREQUENCY) -> None:
        names = [m.name for m in self.markers]
        if len(set(names)) != len(names):
            raise InvalidInput(f"case {self.name}: a marker is listed twice")
        if not self.victims:
            raise InvalidInput(f"case {self.name}: no victims (post-mortem samples)")
        if not self.families:
            raise InvalidInput(f"case {self.name}: no reference families")
        by_name = {m.name: m for m in self.markers}
        vids = [v.id for v in self.victims]
        if len(set(vids)) != len(vids):
            raise InvalidInput(f"case {self.name}: a victim id appears twice")
        # Labels of untyped relatives ("Father") may repeat across families; a missing
        # person must be in exactly one.
        fam_ids: dict[str, int] = {}
        for k, fam in enumerate(self.families):
            for pid in fam.ids:
                if pid in fam_ids and pid in self.missing:
                    raise InvalidInput(
                        f"case {self.name}: missing person {pid!r} is in two reference families"
                    )
                fam_ids.setdefault(pid, k)
        clash = set(vids) & set(fam_ids)
        if clash:
            raise InvalidInput(
                f"case {self.name}: victim ids also used in reference families: {sorted(clash)}"
            )
        for mp in self.missing:
            if mp not in fam_ids:
                raise InvalidInput(
                    f"case {self.name}: missing person {mp!r} is not in any reference family"
                )
            fam = self.families[fam_ids[mp]]
            if fam.by_id[mp].genotypes:
                raise InvalidInput(f"case {self.name}: missing person {mp!r} has genotypes")
        people = list(self.victims) + [p for f in self.families for p in f.persons]
        for p in people:
            for mname, g in p.genotypes.items():
                marker = by_name.get(mname)
                if marker is None:
                    raise InvalidInput(
                        f"case {self.name}: {p.id!r} is typed at unknown marker {mname!r}"
                    )
                if len(g) != 2:
                    raise InvalidInput(
                        f"case {self.name}: {p.id!r} at {mname} has {len(g)} alleles, not 2"
                    )
                for allele in g:
                    if allele not in marker.alleles:
                        marker.ensure_allele(allele, min_frequency)
                        self.warnings.append(
                            f"allele {allele} of {mname} (carried by {p.id}) is not in the "
                            f"database: given frequency {min_frequency}"
                        )
        if self.pairings is not None:
            for v, cands in self.pairings.items():
                if v not in vids:
                    raise InvalidInput(f"case {self.name}: pairings name unknown victim {v!r}")
                for c in cands:
                    if c != NOT_AMONG_MISSING and c not in self.missing:
                        raise InvalidInput(
                            f"case {self.name}: pairing {v} = {c}: {c!r} is not a missing person"
                        )

    def family_of(self, missing: str) -> int:
        for k, fam in enumerate(self.families):
            if missing in fam:
                return k
        raise InvalidInput(f"{missing!r} is not in any reference family")


def _genotypes(raw: Any, where: str) -> dict[str, Genotype]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"{where}: genotypes must be an object of marker -> [a1, a2]")
    out: dict[str, Genotype] = {}
    for marker, alleles in raw.items():
        if alleles is None:
            continue
        if not isinstance(alleles, Sequence) or isinstance(alleles, str) or len(alleles) != 2:
            raise InvalidInput(
                f"{where}: genotype at {marker} must be two alleles, got {alleles!r}"
            )
        a, b = (str(x).strip() for x in alleles)
        if a in ("", "NA", "None") or b in ("", "NA", "None"):
            if a == b or (a in ("", "NA", "None") and b in ("", "NA", "None")):
                continue  # untyped at this marker
            raise InvalidInput(f"{where}: half-typed genotype at {marker}: {alleles!r}")
        out[str(marker)] = (a, b)
    return out


def _person(raw: Any, where: str) -> Person:
    if not isinstance(raw, Mapping) or "id" not in raw:
        raise InvalidInput(f"{where}: a person must be an object with an id")
    pid = str(raw["id"])
    return Person(
        pid,
        None if raw.get("fid") in (None, "", "0", 0) else str(raw["fid"]),
        None if raw.get("mid") in (None, "", "0", 0) else str(raw["mid"]),
        parse_sex(raw.get("sex")),
        _genotypes(raw.get("genotypes"), f"{where} {pid}"),
    )


def _list(x: Any, what: str) -> list[Any]:
    if not isinstance(x, list):
        raise InvalidInput(f"{what} must be a list, got {type(x).__name__}")
    return x


def _first(x: Any) -> Any:
    return x[0] if isinstance(x, list) and x else x


def _marker(raw: Any, k: int) -> Marker:
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"markers[{k}] must be an object")
    for key in ("name", "alleles", "afreq"):
        if key not in raw:
            raise InvalidInput(f"markers[{k}] has no {key!r}")
    mut = raw.get("mutmod_female_params") or raw.get("mutmod")
    model = None
    if mut:
        try:
            model = MutationModel(
                str(_first(mut["model"])),
                float(_first(mut.get("rate", 0.0))),
                float(_first(mut.get("rate2", 0.0)) or 0.0),
                float(_first(mut.get("range", 0.1)) or 0.1),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise InvalidInput(f"markers[{k}] ({raw['name']}): bad mutation model: {e}") from None
    alleles = _list(raw["alleles"], f"markers[{k}].alleles")
    try:
        freqs = np.array([float(f) for f in _list(raw["afreq"], f"markers[{k}].afreq")])
    except (TypeError, ValueError):
        raise InvalidInput(f"markers[{k}] ({raw['name']}): frequencies must be numbers") from None
    return Marker(str(raw["name"]), [str(a) for a in alleles], freqs, model, model)


def load_case_json(path: Path) -> DviCase:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InvalidInput(f"{path.name}: not valid JSON (line {e.lineno}: {e.msg})") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path.name}: not UTF-8 text") from None
    return case_from_dict(data, path.stem)


def case_from_dict(data: Any, default_name: str = "case") -> DviCase:
    if not isinstance(data, Mapping):
        raise InvalidInput("a DVI case must be a JSON object")
    for key in ("markers", "pm", "am", "missing"):
        if key not in data:
            raise InvalidInput(f"DVI case has no {key!r}")
    markers = [_marker(m, k) for k, m in enumerate(_list(data["markers"], "markers"))]
    victims = [_person(p, f"pm[{k}]") for k, p in enumerate(_list(data["pm"], "pm"))]
    for v in victims:
        if not v.is_founder:
            raise InvalidInput(f"victim {v.id!r} has parents; victims are unrelated samples")
    families = []
    am = data["am"]
    if isinstance(am, Mapping):  # a single family given as an object
        am = [am]
    for k, fam in enumerate(_list(am, "am")):
        persons = fam.get("persons") if isinstance(fam, Mapping) else fam
        if not isinstance(persons, list):
            raise InvalidInput(f"am[{k}] must be a list of persons")
        families.append(Pedigree([_person(p, f"am[{k}]") for p in persons], name=f"F{k + 1}"))
    pairings = data.get("pairings")
    if pairings is not None:
        if not isinstance(pairings, Mapping):
            raise InvalidInput("pairings must be an object victim -> [candidates]")
        pairings = {
            str(v): [str(c) for c in _list(cs, f"pairings[{v}]")] for v, cs in pairings.items()
        }
    missing = [str(m) for m in _list(data["missing"], "missing")]
    if len(set(missing)) != len(missing):
        raise InvalidInput("a missing person is listed twice")
    return DviCase(
        str(data.get("name") or default_name), markers, victims, families, missing, pairings
    )


def load_case(path: Path) -> DviCase:
    """A DVI case from a ``.json`` case file or a Familias ``.fam`` file."""
    if not path.exists():
        raise InvalidInput(f"file not found: {path}")
    if path.suffix.lower() == ".fam":
        from binational.identification.dna.familias import load_fam

        return load_fam(path)
    if path.suffix.lower() == ".json":
        return load_case_json(path)
    raise InvalidInput(f"{path.name}: expected a .json DVI case or a Familias .fam file")
