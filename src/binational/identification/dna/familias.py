"""Familias ``.fam`` files (Egeland, Mostad et al.) with a DVI section, read into a DviCase.

The layout follows Familias 3 as documented by pedFamilias' ``readFam`` and dvir's
``familias2dvir``: a line-oriented header (persons, relations, pedigrees), the allele database
(per locus: female and male mutation rates and model codes, ranges, microvariant rates,
alleles and frequencies), then a bracketed ``[DVI]`` section with the unidentified persons and
the reference families, each with persons and pedigrees given as ``Parent=``/``Child=`` lines.

Conventions kept from those readers: the reference pedigree of a family is its last pedigree
other than the one named "Reference pedigree"; persons in no relation there are dropped (they
are not linked to anyone); persons only named in relations ("Missing person") are added, their
sex inferred from their partners; missing persons are those whose label starts with
"Missing". Labels used in more than one family are made unique as ``family/label``.
Mutation model codes: 0 equal, 1 proportional, 2 and 4 stepwise; 3 (stepwise made stationary)
is refused rather than computed differently from Familias.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from binational.core.errors import InvalidInput
from binational.identification.dna.case import DviCase
from binational.identification.dna.markers import Marker, MutationModel
from binational.identification.dna.pedigree import (
    FEMALE,
    MALE,
    UNKNOWN_SEX,
    Genotype,
    Pedigree,
    Person,
)

MISSING_PREFIX = "Missing"
_MODEL_CODES = {0: "equal", 1: "proportional", 2: "stepwise", 4: "stepwise"}


class _Lines:
    def __init__(self, path: Path) -> None:
        try:
            raw = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raw = path.read_text(encoding="latin-1")
        self.name = path.name
        self.raw = raw.splitlines()
        self.x = [line.replace('"', "").strip() for line in self.raw]

    def get(self, i: int) -> str:
        if i >= len(self.x):
            raise InvalidInput(f"{self.name}: file ends early (expected more at line {i + 1})")
        return self.x[i]

    def integer(self, i: int, what: str) -> int:
        try:
            return int(self.get(i))
        except ValueError:
            raise InvalidInput(
                f"{self.name} line {i + 1}: expected {what}, found {self.get(i)!r}"
            ) from None

    def number(self, i: int, what: str) -> float:
        try:
            return float(self.get(i))
        except ValueError:
            raise InvalidInput(
                f"{self.name} line {i + 1}: expected {what}, found {self.get(i)!r}"
            ) from None


@dataclass
class _Header:
    """The line-oriented part before the database: persons, relations, pedigrees."""

    ids: list[str] = field(default_factory=list)
    sexes: list[int] = field(default_factory=list)
    typed: list[list[tuple[int, int, int]]] = field(default_factory=list)  # (a1, a2, locus)
    extras: tuple[int, int] = (0, 0)  # (females, males) added to every pedigree
    relations: list[tuple[int, int]] = field(default_factory=list)
    pedigrees: list[tuple[str, tuple[int, int], list[tuple[int, int]]]] = field(
        default_factory=list
    )


def _database(
    lines: _Lines, warnings: list[str], header: _Header | None = None
) -> tuple[list[Marker], float]:
    x = lines
    if x.get(0).startswith("Output from Familias") is False and "Familias" not in x.get(0):
        raise InvalidInput(f"{x.name} line 1: not a Familias file")
    head = header if header is not None else _Header()
    line = 3 if x.get(3) != "" else 4
    nid = x.integer(line, "the number of persons")
    line += 1
    for _ in range(nid):
        head.ids.append(x.get(line))
        head.sexes.append(MALE if x.get(line + 4) == "#TRUE#" else FEMALE)
        n = x.integer(line + 5, "the number of genotypes of a person")
        head.typed.append(
            [
                (
                    x.integer(line + 6 + 3 * k, "an allele index"),
                    x.integer(line + 7 + 3 * k, "an allele index"),
                    x.integer(line + 8 + 3 * k, "a locus index"),
                )
                for k in range(n)
            ]
        )
        line += 6 + 3 * n
    if x.get(line) != "Known relations":
        raise InvalidInput(
            f"{x.name} line {line + 1}: expected 'Known relations', found {x.get(line)!r}"
        )
    head.extras = (
        x.integer(line + 1, "a number of females"),
        x.integer(line + 2, "a number of males"),
    )
    n_rel = x.integer(line + 3, "the number of relations")
    head.relations = [
        (
            x.integer(line + 4 + 2 * k, "a parent index"),
            x.integer(line + 5 + 2 * k, "a child index"),
        )
        for k in range(n_rel)
    ]
    line += 4 + 2 * n_rel
    n_ped = x.integer(line, "the number of pedigrees")
    line += 1
    for _ in range(n_ped):
        name = x.get(line + 1)
        extra = (
            x.integer(line + 2, "a number of females"),
            x.integer(line + 3, "a number of males"),
        )
        n_rel = x.integer(line + 4, "the number of relations of a pedigree")
        rels = []
        for k in range(n_rel):
            raw = x.get(line + 5 + 2 * k)
            if "Direct" in raw:
                raise InvalidInput(f"{x.name} line {line + 6 + 2 * k}: twins are not supported")
            rels.append(
                (
                    x.integer(line + 5 + 2 * k, "a parent index"),
                    x.integer(line + 6 + 2 * k, "a child index"),
                )
            )
        head.pedigrees.append((name, extra, rels))
        line += 5 + 2 * n_rel
    if x.get(line).startswith("#TRUE#"):
        raise InvalidInput(f"{x.name} line {line + 1}: precomputed probabilities are not supported")
    theta_match = re.search(r"Theta/Kinship/Fst: ([\d.]+)", x.get(line))
    theta = float(theta_match.group(1)) if theta_match else 0.0
    line += 1
    n_loc = x.integer(line, "the number of loci")
    has_info = x.get(line + 1) == "#TRUE#"
    line += 2 + (1 if has_info else 0)
    markers = []
    for _ in range(n_loc):
        name = x.get(line)
        rate_f = x.number(line + 1, "a female mutation rate")
        rate_m = x.number(line + 2, "a male mutation rate")
        code_f = x.integer(line + 3, "a mutation model code (0-4)")
        code_m = x.integer(line + 4, "a mutation model code (0-4)")
        range_f = x.number(line + 6, "a mutation range")
        range_m = x.number(line + 7, "a mutation range")
        rate2_f = x.number(line + 8, "a microvariant mutation rate")
        rate2_m = x.number(line + 9, "a microvariant mutation rate")
        if x.get(line + 10) == "#TRUE#":
            raise InvalidInput(
                f"{x.name} line {line + 11}: locus {name} has a silent allele (not supported)"
            )
        n_all = (
            x.integer(line + 12, f"the number of alleles of {name}")
            if "\t" not in x.get(line + 12)
            else None
        )
        if n_all is None:
            try:
                n_all = int(x.get(line + 12).split("\t")[0])
            except ValueError:
                raise InvalidInput(
                    f"{x.name} line {line + 13}: expected the number of alleles of {name}"
                ) from None
        alleles = [x.get(line + 13 + 2 * k) for k in range(n_all)]
        freqs = np.array(
            [x.number(line + 14 + 2 * k, f"an allele frequency of {name}") for k in range(n_all)]
        )
        models = []
        for code, rate, rng, rate2 in (
            (code_f, rate_f, range_f, rate2_f),
            (code_m, rate_m, range_m, rate2_m),
        ):
            if code == 3:
                raise InvalidInput(
                    f"{x.name}: locus {name} uses the stationary stepwise model (code 3), "
                    "not supported"
                )
            model = _MODEL_CODES.get(code)
            if model is None:
                raise InvalidInput(f"{x.name}: locus {name} has unknown mutation model code {code}")
            if model == "stepwise" and not _numeric(alleles):
                warnings.append(
                    f"locus {name}: non-numeric allele with the stepwise model; equal model used"
                )
                model = "equal"
            models.append(MutationModel(model, rate, rate2, rng) if rate + rate2 > 0 else None)
        markers.append(Marker(name, alleles, freqs, models[0], models[1]))
        line += 13 + 2 * n_all
    return markers, theta


def _numeric(alleles: list[str]) -> bool:
    try:
        xs = [float(a) for a in alleles]
    except ValueError:
        return False
    return all(v >= 1 and round(v, 1) == v for v in xs)


@dataclass
class _Node:
    name: str
    depth: int
    items: list[tuple[str, str]] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)

    def child(self, name: str) -> _Node | None:
        for c in self.children:
            if c.name == name:
                return c
        return None

    def value(self, key: str) -> str | None:
        for k, v in self.items:
            if k == key:
                return v
        return None


def _dvi_tree(lines: _Lines) -> _Node:
    try:
        start = lines.x.index("[DVI]")
    except ValueError:
        raise InvalidInput(
            f"{lines.name}: no [DVI] section; this Familias file is not a DVI case"
        ) from None
    root = _Node("DVI", 1)
    stack = [root]
    for k in range(start + 1, len(lines.x)):
        line = lines.x[k]
        if not line:
            continue
        if line.startswith("["):
            depth = len(line) - len(line.lstrip("["))
            if depth == 1:
                break  # next top-level section ([Prior], [Advanced])
            node = _Node(line.strip("[] "), depth)
            while stack and stack[-1].depth >= depth:
                stack.pop()
            if not stack:
                raise InvalidInput(f"{lines.name} line {k + 1}: section {line} out of place")
            stack[-1].children.append(node)
            stack.append(node)
        else:
            key, sep, val = line.partition("=")
            if not sep:
                raise InvalidInput(
                    f"{lines.name} line {k + 1}: expected 'Key= value', found {line!r}"
                )
            stack[-1].items.append((key.strip(), val.strip()))
    return root


def _sex(value: str | None) -> int:
    return {"Male": MALE, "Female": FEMALE}.get(value or "", UNKNOWN_SEX)


def _dna(node: _Node | None, who: str) -> dict[str, Genotype]:
    out: dict[str, Genotype] = {}
    if node is None:
        return out
    items = node.items
    k = 0
    while k < len(items):
        key, val = items[k]
        if key == "SystemName":
            if k + 2 >= len(items) or items[k + 1][0] != "Allele1" or items[k + 2][0] != "Allele2":
                raise InvalidInput(f"DNA data of {who}: {val} needs Allele1 and Allele2")
            out[val] = (items[k + 1][1], items[k + 2][1])
            k += 3
        else:
            k += 1
    return out


def _family(node: _Node, fname: str) -> tuple[list[Person], list[tuple[str, str]]]:
    persons_node = node.child("Persons")
    peds_node = node.child("Pedigrees")
    if persons_node is None or peds_node is None:
        raise InvalidInput(f"family {fname}: needs Persons and Pedigrees")
    persons = []
    for pn in persons_node.children:
        pid = pn.value("Name")
        if not pid:
            raise InvalidInput(f"family {fname}: a person has no Name")
        persons.append(
            Person(pid, sex=_sex(pn.value("Gender")), genotypes=_dna(pn.child("DNA data"), pid))
        )
    peds = peds_node.children
    if not peds:
        raise InvalidInput(f"family {fname}: no pedigree")
    chosen = [p for p in peds if p.value("Name") != "Reference pedigree"] or peds
    ped = chosen[-1]
    vals = [(k, v) for k, v in ped.items if k in ("Parent", "Child")]
    rels = []
    for j in range(0, len(vals), 2):
        if j + 1 >= len(vals) or vals[j][0] != "Parent" or vals[j + 1][0] != "Child":
            raise InvalidInput(
                f"family {fname}: pedigree relations must be Parent= then Child= lines"
            )
        rels.append((vals[j][1], vals[j + 1][1]))
    return persons, rels


def _build_family(
    persons: list[Person], rels: list[tuple[str, str]], fname: str, warnings: list[str]
) -> list[Person]:
    by_id = {p.id: p for p in persons}
    for parent, child in rels:
        for pid in (parent, child):
            if pid not in by_id:
                by_id[pid] = Person(pid)
    # Sex of parents not listed as persons: the opposite of their partners'.
    for parent, _child in rels:
        p = by_id[parent]
        if p.sex != UNKNOWN_SEX:
            continue
        partners = {
            q for q, c in rels if c in {c2 for p2, c2 in rels if p2 == parent} and q != parent
        }
        sexes = {by_id[q].sex for q in partners}
        if not sexes:
            # pedFamilias makes a lone parent of unknown sex the mother; so do we, and say so.
            p.sex = FEMALE
            warnings.append(
                f"family {fname}: {parent!r} has no partner and no recorded sex: taken as female"
            )
        elif sexes == {MALE}:
            p.sex = FEMALE
        elif sexes == {FEMALE}:
            p.sex = MALE
        else:
            raise InvalidInput(f"family {fname}: cannot decide the sex of parent {parent!r}")
    for parent, child in rels:
        c = by_id[child]
        role = "father" if by_id[parent].sex == MALE else "mother"
        if getattr(c, role) not in (None, parent):
            raise InvalidInput(f"family {fname}: {child!r} has two {role}s")
        setattr(c, role, parent)
    linked = {pid for r in rels for pid in r}
    return [p for p in by_id.values() if p.id in linked]


@dataclass
class FamHypotheses:
    """A kinship case: the same persons under several pedigree hypotheses (Familias' main use)."""

    name: str
    markers: list[Marker]
    pedigrees: list[Pedigree]
    warnings: list[str]


def load_fam_hypotheses(path: Path) -> FamHypotheses:
    """Read the pedigree hypotheses of a (non-DVI) Familias file with the persons' genotypes."""
    lines = _Lines(path)
    warnings: list[str] = []
    head = _Header()
    markers, _theta = _database(lines, warnings, head)
    base = list(head.ids)
    base_sex = list(head.sexes)
    fe, ma = head.extras
    base += [f"extra_{k + 1}" for k in range(fe + ma)]
    base_sex += [FEMALE] * fe + [MALE] * ma
    genotypes: list[dict[str, Genotype]] = []
    for pid, typed in zip(head.ids, head.typed, strict=True):
        g: dict[str, Genotype] = {}
        for a1, a2, locus in typed:
            if not 0 <= locus < len(markers):
                raise InvalidInput(
                    f"{path.name}: {pid} is typed at locus #{locus + 1}, not in the database"
                )
            m = markers[locus]
            if not (0 <= a1 < len(m.alleles) and 0 <= a2 < len(m.alleles)):
                raise InvalidInput(f"{path.name}: {pid} has an allele index outside {m.name}")
            g[m.name] = (m.alleles[a1], m.alleles[a2])
        genotypes.append(g)
    if not head.pedigrees:
        raise InvalidInput(f"{path.name}: no pedigree hypotheses")
    peds = []
    for name, (pf, pm), rels in head.pedigrees:
        ids = base + [f"{name}_extra_{k + 1}" for k in range(pf + pm)]
        sexes = base_sex + [FEMALE] * pf + [MALE] * pm
        people = [
            Person(pid, sex=sx, genotypes=genotypes[i] if i < len(genotypes) else {})
            for i, (pid, sx) in enumerate(zip(ids, sexes, strict=True))
        ]
        for par, child in head.relations + rels:
            if not (0 <= par < len(people) and 0 <= child < len(people)):
                raise InvalidInput(
                    f"{path.name}: pedigree {name} names person #{max(par, child) + 1}, "
                    "who does not exist"
                )
            role = "father" if people[par].sex == MALE else "mother"
            if getattr(people[child], role) not in (None, people[par].id):
                raise InvalidInput(
                    f"{path.name}: pedigree {name}: {people[child].id} has two {role}s"
                )
            setattr(people[child], role, people[par].id)
        peds.append(Pedigree(people, name=name))
    return FamHypotheses(path.stem, markers, peds, warnings)


def load_fam(path: Path) -> DviCase:
    lines = _Lines(path)
    warnings: list[str] = []
    markers, theta = _database(lines, warnings)
    if theta > 0:
        warnings.append(f"theta {theta} in the file is ignored by the pedigree likelihood")
    if "[DVI]" not in lines.x:
        raise InvalidInput(
            f"{path.name}: no [DVI] section; this Familias file is a kinship case with pedigree "
            "hypotheses: compare them with 'binational dvi pedigrees'"
        )
    tree = _dvi_tree(lines)
    un = tree.child("Unidentified persons")
    victims = []
    for pn in un.children if un else []:
        vid = pn.value("Name")
        if not vid:
            raise InvalidInput(f"{path.name}: an unidentified person has no Name")
        victims.append(
            Person(vid, sex=_sex(pn.value("Gender")), genotypes=_dna(pn.child("DNA data"), vid))
        )
    refs = tree.child("Reference Families")
    if refs is None or not refs.children:
        raise InvalidInput(f"{path.name}: no reference families in the DVI section")
    raw_fams = []
    for fn in refs.children:
        fname = fn.value("Name") or fn.name
        persons, rels = _family(fn, fname)
        raw_fams.append((fname, _build_family(persons, rels, fname, warnings)))
    counts: dict[str, int] = {}
    for _, ps in raw_fams:
        for p in ps:
            counts[p.id] = counts.get(p.id, 0) + 1
    vids = {v.id for v in victims}
    families, missing = [], []
    for fname, ps in raw_fams:

        def label(pid: str | None, fname: str = fname) -> str | None:
            if pid is None:
                return None
            return f"{fname}/{pid}" if counts.get(pid, 0) > 1 or pid in vids else pid

        renamed = [
            Person(label(p.id) or p.id, label(p.father), label(p.mother), p.sex, p.genotypes)
            for p in ps
        ]
        families.append(Pedigree(renamed, name=fname))
        missing += [p.id for p in renamed if p.id.split("/")[-1].startswith(MISSING_PREFIX)]
    if not missing:
        raise InvalidInput(
            f"{path.name}: no missing persons (labels starting with 'Missing') in the families"
        )
    return DviCase(path.stem, markers, victims, families, missing, None, warnings)
