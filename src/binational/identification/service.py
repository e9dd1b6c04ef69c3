"""The identification service: records, ranked candidates, DNA kinship, Prüm-style queries.

Sovereignty, in the same terms as the rest of the platform:

* Records are written only by their owning agency (``write-data`` privilege, own dataset).
* Every read plans the caller's scope with the policy (``Access.plan``) for a purpose and a
  case reference, filters rows by ``Scope.clause``, and leaves an audit record with an access
  receipt for each record of another agency that was returned. A record outside the scope is
  answered exactly like an absent one.
* DNA profiles are sealed at rest with the platform key and live in separate ``*_dna``
  datasets, so a grant on an agency's records does not open its genetic data.
* Cross-border (Prüm-style) queries compare the caller's remains (description or DNA)
  against another agency's data *without* a grant, and answer hit / no-hit with opaque
  references only. The owner sees each query (a receipt per searched dataset). Details need
  a request that the owning agency approves, which creates a grant (purpose missing-persons)
  to the requesting agency; only then does ``hit_detail`` return the record. Every step is
  audited. Family reference samples take part only if their donor consented to the
  missing-persons purpose and to international sharing, and did not withdraw.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from binational.core.access import Caller
from binational.core.audit import AuditEvent, ObjectRef, Receipt
from binational.core.errors import BinationalError, Forbidden, InvalidInput, NotFound
from binational.core.identity import operator
from binational.core.platform import Platform
from binational.core.policy import GrantRequest, Plan, Privilege
from binational.core.vocab import TLP, Action, Purpose
from binational.identification import tables as it
from binational.identification.codes import check_codes
from binational.identification.dna.kinship import (
    RELATIVE_TO_RELATIONSHIP,
    FrequencyDatabase,
    pairwise_lr,
)
from binational.identification.matching import Candidate, Description, explain, rank

SEXES = ("M", "F", "U")
DNA_HIT_LR = 10_000.0  # a kinship LR from this on is a DNA hit (the usual reporting floor)
ATTRIBUTE_HIT_SCORE = 6.0  # matching points from which a description is a hit
RELEASE_DAYS = 90
SUBJECT_KINDS = ("remains", "family", "missing")
STATUS_LABELS = {
    "hit": ("Hit: details not released", "Coincidencia: detalles no liberados"),
    "requested": ("Release requested", "Liberación solicitada"),
    "released": ("Released", "Liberado"),
    "refused": ("Refused", "Rechazado"),
}


def _now() -> datetime:
    return datetime.now(UTC)


def _date(value: Any, what: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"{what} must be a date YYYY-MM-DD, got {value!r}") from None


def _num(value: Any, what: str, lo: float, hi: float) -> float | None:
    if value in (None, ""):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{what} must be a number, got {value!r}") from None
    if not lo <= x <= hi:
        raise InvalidInput(f"{what} must be between {lo:g} and {hi:g}, got {x:g}")
    return x


def _sex(value: Any) -> str:
    s = str(value or "U").strip().upper()[:1]
    if s not in SEXES:
        raise InvalidInput(f"sex must be M, F or U, got {value!r}")
    return s


def _id(value: Any, what: str) -> str:
    s = str(value or "").strip()
    if not s or len(s) > 64:
        raise InvalidInput(f"{what} must be 1-64 characters")
    return s


@dataclass
class Hit:
    ref: str
    kind: str
    status: str
    created_at: datetime
    record_kind: str | None = None
    record_id: str | None = None
    dataset: str | None = None
    score: float | None = None
    owner_agency: str | None = None
    requester_agency: str | None = None
    case_ref: str | None = None
    grant_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if v is not None}
        out["created_at"] = self.created_at.isoformat()
        en, es = STATUS_LABELS.get(self.status, (self.status, self.status))
        out["status_label"] = {"en": en, "es": es}
        return out


@dataclass
class QueryAnswer:
    """A Prüm-style answer: hit or no hit, and opaque references to ask about."""

    query_id: str
    hit: bool
    references: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"query_id": self.query_id, "hit": self.hit, "references": self.references}


class Identification:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    # -- plumbing -------------------------------------------------------------------------------

    def _event(
        self,
        caller: Caller,
        action: str,
        outcome: str,
        objects: Sequence[ObjectRef] = (),
        **detail: Any,
    ) -> AuditEvent:
        p = caller.principal
        return AuditEvent(
            action=action,
            outcome=outcome,
            actor=p.username,
            agency=p.agency,
            country=p.country.value,
            objects=tuple(objects),
            purpose=caller.context.purpose.value,
            case_ref=caller.context.case_ref,
            request_id=caller.request_id,
            client=caller.client,
            detail=detail,
        )

    def _receipts(
        self, caller: Caller, plan: Plan | None, action: str, refs: Iterable[tuple[str, str]]
    ) -> list[Receipt]:
        """Receipts for the (object id, dataset) pairs another agency owns."""
        owners = self.platform.catalog.all()
        p = caller.principal
        out = []
        for obj, ds in refs:
            info = owners.get(ds)
            if info is None or info.agency == p.agency:
                continue
            out.append(
                Receipt(
                    owner_agency=info.agency,
                    owner_country=info.country.value,
                    dataset=ds,
                    object_id=obj,
                    reader=p.username,
                    reader_agency=p.agency,
                    reader_country=p.country.value,
                    action=action,
                    grant_id=plan.grant_for(ds) if plan else None,
                    purpose=caller.context.purpose.value,
                    case_ref=caller.context.case_ref,
                )
            )
        return out

    def _refs(self, refs: Iterable[tuple[str, str]]) -> list[ObjectRef]:
        owners = self.platform.catalog.all()
        out = []
        for obj, ds in refs:
            info = owners.get(ds)
            out.append(
                ObjectRef(
                    obj, ds, info.agency if info else None, info.country.value if info else None
                )
            )
        return out

    def _fail(self, caller: Caller, action: str, exc: BinationalError, **detail: Any) -> None:
        outcome = {"not_found": "not_found", "forbidden": "denied"}.get(exc.code, "invalid")
        self.platform.audit.append(
            self._event(caller, action, outcome, error=exc.message, **detail)
        )

    def _writable(self, caller: Caller, dataset: str) -> None:
        self.platform.policy.require(caller.principal, Privilege.WRITE_DATA)
        info = self.platform.catalog.get(dataset)
        if info.agency != caller.principal.agency:
            raise NotFound(f"no dataset {dataset!r}")

    def _plan(self, caller: Caller, action: Action) -> Plan:
        return self.platform.access.plan(caller, action)

    # -- writing records ------------------------------------------------------------------------

    def add_missing(self, caller: Caller, dataset: str, data: Mapping[str, Any]) -> str:
        def row() -> dict[str, Any]:
            return {
                "id": _id(data.get("id"), "id"),
                "dataset": dataset,
                "folio": (str(data["folio"])[:64] if data.get("folio") else None),
                "sex": _sex(data.get("sex")),
                "birth_year": (
                    int(y)
                    if (y := _num(data.get("birth_year"), "birth_year", 1900, 2100)) is not None
                    else None
                ),
                "age": (
                    int(a) if (a := _num(data.get("age"), "age", 0, 120)) is not None else None
                ),
                "disappeared_on": _date(data.get("disappeared_on"), "disappeared_on"),
                "state": (str(data["state"]).upper()[:8] if data.get("state") else None),
                "municipality": data.get("municipality"),
                "stature_cm": _num(data.get("stature_cm"), "stature_cm", 40, 250),
                "codes": check_codes(data.get("codes") or []),
                "description": data.get("description"),
                "created_at": _now(),
            }

        return self._insert(caller, dataset, it.missing_person, row, "identification.missing.add")

    def add_remains(self, caller: Caller, dataset: str, data: Mapping[str, Any]) -> str:
        def row() -> dict[str, Any]:
            r: dict[str, Any] = {
                "id": _id(data.get("id"), "id"),
                "dataset": dataset,
                "sex": _sex(data.get("sex")),
                "age_min": _int_or_none(_num(data.get("age_min"), "age_min", 0, 120)),
                "age_max": _int_or_none(_num(data.get("age_max"), "age_max", 0, 120)),
                "stature_min_cm": _num(data.get("stature_min_cm"), "stature_min_cm", 40, 250),
                "stature_max_cm": _num(data.get("stature_max_cm"), "stature_max_cm", 40, 250),
                "found_on": _date(data.get("found_on"), "found_on"),
                "state": (str(data["state"]).upper()[:8] if data.get("state") else None),
                "municipality": data.get("municipality"),
                "place": data.get("place"),
                "grave_ref": data.get("grave_ref"),
                "codes": check_codes(data.get("codes") or []),
                "description": data.get("description"),
                "created_at": _now(),
            }
            for lo, hi in (("age_min", "age_max"), ("stature_min_cm", "stature_max_cm")):
                if r[lo] is not None and r[hi] is not None and r[lo] > r[hi]:
                    raise InvalidInput(f"{lo} is above {hi}")
            return r

        return self._insert(caller, dataset, it.remains, row, "identification.remains.add")

    def add_family_sample(self, caller: Caller, dataset: str, data: Mapping[str, Any]) -> str:
        def row() -> dict[str, Any]:
            rel = str(data.get("relationship") or "").strip().lower()
            if rel not in RELATIVE_TO_RELATIONSHIP:
                raise InvalidInput(
                    f"relationship {rel!r}; one of: {', '.join(RELATIVE_TO_RELATIONSHIP)}"
                )
            purposes = [str(p) for p in data.get("consent_purposes") or []]
            valid = {x.value for x in Purpose}
            for p in purposes:
                if p not in valid:
                    raise InvalidInput(
                        f"unknown consent purpose {p!r}; one of: {', '.join(sorted(valid))}"
                    )
            consent_on = _date(data.get("consent_on"), "consent_on")
            if consent_on is None:
                raise InvalidInput("a family reference sample needs the date of consent")
            return {
                "id": _id(data.get("id"), "id"),
                "dataset": dataset,
                "missing_id": _id(data.get("missing_id"), "missing_id"),
                "relationship": rel,
                "consent_on": consent_on,
                "consent_purposes": purposes,
                "consent_international": _yes(data.get("consent_international", False)),
                "consent_withdrawn_on": _date(
                    data.get("consent_withdrawn_on"), "consent_withdrawn_on"
                ),
                "created_at": _now(),
            }

        return self._insert(caller, dataset, it.family_sample, row, "identification.family.add")

    def add_profile(
        self,
        caller: Caller,
        dataset: str,
        subject_kind: str,
        subject_id: str,
        genotypes: Mapping[str, Sequence[str]],
        kit: str = "unspecified",
    ) -> str:
        """Store an STR profile sealed with the platform key (genotypes never in clear)."""

        def row() -> dict[str, Any]:
            if subject_kind not in SUBJECT_KINDS:
                raise InvalidInput(f"subject kind must be one of {', '.join(SUBJECT_KINDS)}")
            clean: dict[str, list[str]] = {}
            for locus, g in genotypes.items():
                if not isinstance(g, Sequence) or isinstance(g, str) or len(g) != 2:
                    raise InvalidInput(f"genotype at {locus} must be two alleles")
                clean[str(locus)] = [str(a).strip() for a in g]
            if not clean:
                raise InvalidInput("a DNA profile needs at least one locus")
            sealed = self.platform.identity.box.seal(json.dumps(clean, sort_keys=True))
            return {
                "id": f"{subject_kind}:{_id(subject_id, 'subject_id')}",
                "dataset": dataset,
                "subject_kind": subject_kind,
                "subject_id": subject_id,
                "kit": kit[:64],
                "n_loci": len(clean),
                "sealed": sealed,
                "created_at": _now(),
            }

        return self._insert(caller, dataset, it.dna_profile, row, "identification.dna.add")

    def _insert(self, caller: Caller, dataset: str, table: sa.Table, make: Any, action: str) -> str:
        try:
            self._writable(caller, dataset)
            values = make()
            with self.platform.db.write() as conn:
                # Keyed by (dataset, id): writing again replaces the owner's own record.
                same = sa.and_(table.c.id == values["id"], table.c.dataset == dataset)
                if conn.execute(sa.select(table.c.id).where(same)).first() is not None:
                    conn.execute(sa.update(table).where(same).values(**values))
                else:
                    conn.execute(sa.insert(table).values(**values))
        except BinationalError as exc:
            self._fail(caller, action, exc, dataset=dataset)
            raise
        self.platform.audit.append(
            self._event(caller, action, "ok", self._refs([(values["id"], dataset)]))
        )
        return str(values["id"])

    # -- reading records ------------------------------------------------------------------------

    def _rows(self, plan: Plan, table: sa.Table, *where: Any) -> list[dict[str, Any]]:
        q = sa.select(table).where(plan.scope.clause(table.c.dataset), *where)
        with self.platform.db.read() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def list_records(self, caller: Caller, kind: str, limit: int = 200) -> list[dict[str, Any]]:
        """The first ``limit`` records of a kind the caller may see."""
        return self.page_records(caller, kind, limit)[0]

    def page_records(
        self, caller: Caller, kind: str, limit: int = 200
    ) -> tuple[list[dict[str, Any]], int]:
        """(the first ``limit`` records the caller may see, how many there are)."""
        table = {
            "missing": it.missing_person,
            "remains": it.remains,
            "family": it.family_sample,
        }.get(kind)
        action = f"identification.{kind}.list"
        try:
            if table is None:
                raise InvalidInput("kind must be missing, remains or family")
            plan = self._plan(caller, Action.SEARCH)
            every = self._rows(plan, table)
            rows = every[:limit]
        except BinationalError as exc:
            self._fail(caller, action, exc)
            raise
        pairs = [(r["id"], r["dataset"]) for r in rows]
        self.platform.audit.append(
            self._event(caller, action, "ok", self._refs(pairs), count=len(rows), total=len(every)),
            self._receipts(caller, plan, Action.SEARCH.value, pairs),
        )
        return [_jsonable(r) for r in rows], len(every)

    def candidates(
        self, caller: Caller, remains_id: str, top: int = 10
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Missing-person reports in the caller's scope ranked for one set of remains."""
        action = "identification.candidates"
        try:
            plan = self._plan(caller, Action.SEARCH)
            found = self._rows(plan, it.remains, it.remains.c.id == remains_id)
            if not found:
                raise NotFound(f"no remains {remains_id!r}")
            rem = found[0]
            missing = self._rows(plan, it.missing_person)
            ranked = rank([_remains_desc(rem)], [_missing_desc(m) for m in missing], top=top)
        except BinationalError as exc:
            self._fail(caller, action, exc, remains=remains_id)
            raise
        by_id = {m["id"]: m for m in missing}
        cands: list[Candidate] = ranked[rem["id"]]
        pairs = [(rem["id"], rem["dataset"])] + [(c.id, by_id[c.id]["dataset"]) for c in cands]
        self.platform.audit.append(
            self._event(caller, action, "ok", self._refs(pairs), candidates=len(cands)),
            self._receipts(caller, plan, Action.SEARCH.value, pairs),
        )
        out = []
        for c in cands:
            m = by_id[c.id]
            out.append({**c.as_dict(), "dataset": m["dataset"], "record": _jsonable(m)})
        return _jsonable(rem), out

    # -- DNA --------------------------------------------------------------------------------------

    def _profiles(
        self, plan: Plan | None, *where: Any, datasets: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        t = it.dna_profile
        q = sa.select(t).where(*where)
        if plan is not None:
            q = q.where(plan.scope.clause(t.c.dataset))
        if datasets is not None:
            q = q.where(t.c.dataset.in_(list(datasets)))
        with self.platform.db.read() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings()]
        box = self.platform.identity.box
        for r in rows:
            r["genotypes"] = {k: tuple(v) for k, v in json.loads(box.open(r.pop("sealed"))).items()}
        return rows

    def _eligible_family(
        self, samples: list[dict[str, Any]], international: bool
    ) -> dict[str, dict[str, Any]]:
        out = {}
        for s in samples:
            if s["consent_withdrawn_on"] is not None:
                continue
            if Purpose.MISSING_PERSONS.value not in s["consent_purposes"]:
                continue
            if international and not s["consent_international"]:
                continue
            out[s["id"]] = s
        return out

    def dna_candidates(
        self,
        caller: Caller,
        remains_id: str,
        db: FrequencyDatabase,
        theta: float = 0.0,
        top: int = 10,
    ) -> list[dict[str, Any]]:
        """Kinship LRs of a remains profile against the family references in scope."""
        action = "identification.dna.candidates"
        try:
            plan = self._plan(caller, Action.READ)
            mine = self._profiles(
                plan,
                it.dna_profile.c.subject_kind == "remains",
                it.dna_profile.c.subject_id == remains_id,
            )
            if not mine:
                raise NotFound(f"no DNA profile for remains {remains_id!r}")
            samples = self._eligible_family(self._rows(plan, it.family_sample), False)
            refs = [
                p
                for p in self._profiles(plan, it.dna_profile.c.subject_kind == "family")
                if p["subject_id"] in samples
            ]
            lrs = self._lrs(mine[0]["genotypes"], refs, samples, db, theta)
        except BinationalError as exc:
            self._fail(caller, action, exc, remains=remains_id)
            raise
        ranked = sorted(lrs, key=lambda x: -x["lr"])[:top]
        pairs = [(mine[0]["id"], mine[0]["dataset"])] + [
            (r["profile"], r["dataset"]) for r in ranked
        ]
        self.platform.audit.append(
            self._event(caller, action, "ok", self._refs(pairs), compared=len(refs)),
            self._receipts(caller, plan, Action.READ.value, pairs),
        )
        return ranked

    def _lrs(
        self,
        genotypes: Mapping[str, tuple[str, str]],
        refs: list[dict[str, Any]],
        samples: Mapping[str, dict[str, Any]],
        db: FrequencyDatabase,
        theta: float,
    ) -> list[dict[str, Any]]:
        if not refs:
            return []
        loci = sorted(set(genotypes) & set(db.loci))
        rels = [RELATIVE_TO_RELATIONSHIP[samples[r["subject_id"]]["relationship"]] for r in refs]
        lr = pairwise_lr([genotypes], [r["genotypes"] for r in refs], rels, db, theta, loci)[0]
        out = []
        for r, rel, x in zip(refs, rels, lr, strict=True):
            s = samples[r["subject_id"]]
            out.append(
                {
                    "profile": r["id"],
                    "dataset": r["dataset"],
                    "sample": s["id"],
                    "missing_id": s["missing_id"],
                    "relationship": s["relationship"],
                    "model": rel,
                    "lr": float(x),
                    "loci_compared": len(set(loci) & set(r["genotypes"])),
                }
            )
        return out

    # -- Prüm-style cross-border queries --------------------------------------------------------

    def _target_datasets(self, target_agency: str) -> list[str]:
        owners = self.platform.catalog.all()
        self.platform.identity.get_agency(target_agency)  # NotFound for an unknown agency
        return sorted(n for n, info in owners.items() if info.agency == target_agency)

    def query_dna(
        self,
        caller: Caller,
        remains_id: str,
        target_agency: str,
        db: FrequencyDatabase,
        theta: float = 0.0,
    ) -> QueryAnswer:
        """Compare one of the caller's remains profiles with another agency's consenting
        family references: hit / no-hit, with opaque references."""
        return self._query(caller, "dna", remains_id, target_agency, db, theta)

    def query_attributes(self, caller: Caller, remains_id: str, target_agency: str) -> QueryAnswer:
        """Compare one of the caller's remains descriptions with another agency's
        missing-person reports: hit / no-hit, with opaque references."""
        return self._query(caller, "attributes", remains_id, target_agency, None, 0.0)

    def _query(
        self,
        caller: Caller,
        kind: str,
        remains_id: str,
        target_agency: str,
        db: FrequencyDatabase | None,
        theta: float,
    ) -> QueryAnswer:
        action = f"identification.prum.{kind}"
        p = caller.principal
        query_id = f"q_{secrets.token_hex(8)}"
        target = target_agency.strip().upper()
        try:
            if caller.context.purpose != Purpose.MISSING_PERSONS:
                raise Forbidden(
                    "cross-border identification queries are for the missing-persons purpose only"
                )
            if target == p.agency:
                raise InvalidInput("search your own records with candidates, not a query")
            own = self._own_plan(caller)
            datasets = self._target_datasets(target)
            if kind == "dna":
                assert db is not None
                mine = self._profiles(
                    own,
                    it.dna_profile.c.subject_kind == "remains",
                    it.dna_profile.c.subject_id == remains_id,
                )
                if not mine:
                    raise NotFound(f"no DNA profile for remains {remains_id!r}")
                samples = self._eligible_family(self._all_rows(it.family_sample, datasets), True)
                refs = [
                    r
                    for r in self._profiles(
                        None, it.dna_profile.c.subject_kind == "family", datasets=datasets
                    )
                    if r["subject_id"] in samples
                ]
                scored = [
                    (r["profile"], r["dataset"], "family", r["lr"])
                    for r in self._lrs(mine[0]["genotypes"], refs, samples, db, theta)
                    if r["lr"] >= DNA_HIT_LR
                ]
            else:
                found = self._rows(own, it.remains, it.remains.c.id == remains_id)
                if not found:
                    raise NotFound(f"no remains {remains_id!r}")
                missing = self._all_rows(it.missing_person, datasets)
                ranked = rank(
                    [_remains_desc(found[0])],
                    [_missing_desc(m) for m in missing],
                    top=10,
                    explain_all=False,
                )[found[0]["id"]]
                by_id = {m["id"]: m for m in missing}
                scored = [
                    (c.id, by_id[c.id]["dataset"], "missing", c.score)
                    for c in ranked
                    if c.score >= ATTRIBUTE_HIT_SCORE
                ]
        except BinationalError as exc:
            self._fail(caller, action, exc, target=target, remains=remains_id)
            raise
        refs_out = []
        now = _now()
        with self.platform.db.write() as conn:
            for rid, ds, rkind, score in scored:
                ref = f"H-{secrets.token_hex(10).upper()}"
                conn.execute(
                    sa.insert(it.hit).values(
                        ref=ref,
                        dataset=ds,
                        kind=kind,
                        record_kind=rkind,
                        record_id=rid,
                        owner_agency=target,
                        requester_agency=p.agency,
                        requester=p.username,
                        query_id=query_id,
                        purpose=caller.context.purpose.value,
                        case_ref=caller.context.case_ref,
                        score=float(score),
                        status="hit",
                        created_at=now,
                    )
                )
                refs_out.append((ref, ds))
        # The requester's record names only the opaque references; the owner gets a receipt
        # for every dataset searched (a hit or not) and for every hit.
        searched = [(query_id, ds) for ds in datasets]
        self.platform.audit.append(
            self._event(
                caller,
                action,
                "ok",
                [ObjectRef(ref) for ref, _ in refs_out],
                target=target,
                query_id=query_id,
                hit=bool(refs_out),
                hits=len(refs_out),
            ),
            self._receipts(caller, None, "prum-query", searched + refs_out),
        )
        return QueryAnswer(query_id, bool(refs_out), [r for r, _ in refs_out])

    def _own_plan(self, caller: Caller) -> Plan:
        """The caller's own datasets only (what they query with is theirs)."""
        plan = self._plan(caller, Action.READ)
        own = {
            d: s
            for d, s in plan.scope.datasets.items()
            if plan.owners.get(d) is not None and plan.owners[d].agency == caller.principal.agency
        }
        return Plan(type(plan.scope)(own), {}, plan.owners)

    def _all_rows(self, table: sa.Table, datasets: Sequence[str]) -> list[dict[str, Any]]:
        # Unscoped on purpose: the comparison runs inside the platform for the owner, and
        # only hit / no-hit leaves it.
        q = sa.select(table).where(table.c.dataset.in_(list(datasets)))
        with self.platform.db.read() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def _hit(self, ref: str) -> dict[str, Any] | None:
        with self.platform.db.read() as conn:
            row = conn.execute(sa.select(it.hit).where(it.hit.c.ref == ref)).mappings().first()
        return dict(row) if row else None

    def hits(self, caller: Caller) -> list[Hit]:
        """Hits the caller's agency asked for (references only) or holds (with records)."""
        p = caller.principal
        h = it.hit
        q = (
            sa.select(h)
            .where(sa.or_(h.c.requester_agency == p.agency, h.c.owner_agency == p.agency))
            .order_by(h.c.created_at)
        )
        with self.platform.db.read() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings()]
        out = []
        for r in rows:
            owner = r["owner_agency"] == p.agency
            out.append(
                Hit(
                    ref=r["ref"],
                    kind=r["kind"],
                    status=r["status"],
                    created_at=r["created_at"],
                    record_kind=r["record_kind"] if owner or r["status"] == "released" else None,
                    record_id=r["record_id"] if owner or r["status"] == "released" else None,
                    dataset=r["dataset"] if owner or r["status"] == "released" else None,
                    score=r["score"] if owner or r["status"] == "released" else None,
                    owner_agency=r["owner_agency"],
                    requester_agency=r["requester_agency"],
                    case_ref=r["case_ref"],
                    grant_id=r["grant_id"],
                )
            )
        self.platform.audit.append(
            self._event(caller, "identification.prum.hits", "ok", count=len(out))
        )
        return out

    def request_release(self, caller: Caller, ref: str, justification: str) -> Hit:
        action = "identification.prum.request"
        try:
            row = self._hit(ref)
            if row is None or row["requester_agency"] != caller.principal.agency:
                raise NotFound(f"no hit {ref!r}")
            if not justification.strip():
                raise InvalidInput("say why the details are needed (case, legal basis)")
            if row["status"] != "hit":
                raise InvalidInput(f"hit {ref} is {row['status']} already")
            with self.platform.db.write() as conn:
                conn.execute(
                    sa.update(it.hit)
                    .where(it.hit.c.ref == ref)
                    .values(status="requested", justification=justification.strip()[:2000])
                )
        except BinationalError as exc:
            self._fail(caller, action, exc, ref=ref)
            raise
        self.platform.audit.append(
            self._event(caller, action, "ok", [ObjectRef(ref)], owner=row["owner_agency"])
        )
        return self._as_hit(ref, caller.principal.agency)

    def decide(self, caller: Caller, ref: str, approve: bool, reason: str = "") -> Hit:
        """The owning agency releases (a grant to the requester) or refuses."""
        action = "identification.prum.decide"
        p = caller.principal
        try:
            self.platform.policy.require(p, Privilege.MANAGE_GRANTS)
            row = self._hit(ref)
            if row is None or row["owner_agency"] != p.agency:
                raise NotFound(f"no hit {ref!r}")
            if row["status"] != "requested":
                raise InvalidInput(f"hit {ref} is {row['status']}, not requested")
            grant_id = None
            if approve:
                grant = self.platform.policy.create_grant(
                    p,
                    GrantRequest(
                        owner_agency=p.agency,
                        datasets=[row["dataset"]],
                        actions=[Action.READ],
                        purposes=[Purpose.MISSING_PERSONS],
                        legal_basis=f"Release of identification hit {ref} on request "
                        f"({row['case_ref']}): {row['justification']}"[:1000],
                        expires_at=_now() + timedelta(days=RELEASE_DAYS),
                        recipient_agency=row["requester_agency"],
                        tlp=TLP.AMBER,
                    ),
                )
                grant_id = grant.id
            with self.platform.db.write() as conn:
                conn.execute(
                    sa.update(it.hit)
                    .where(it.hit.c.ref == ref)
                    .values(
                        status="released" if approve else "refused",
                        decided_by=f"{p.agency}:{p.username}",
                        decided_at=_now(),
                        grant_id=grant_id,
                    )
                )
        except BinationalError as exc:
            self._fail(caller, action, exc, ref=ref)
            raise
        self.platform.audit.append(
            self._event(
                caller,
                action,
                "ok",
                self._refs([(row["record_id"], row["dataset"])]),
                ref=ref,
                approved=approve,
                grant=grant_id,
                reason=reason,
            )
        )
        return self._as_hit(ref, p.agency)

    def hit_detail(self, caller: Caller, ref: str) -> dict[str, Any]:
        """The record behind a released hit, read through the grant the release created."""
        action = "identification.prum.detail"
        try:
            row = self._hit(ref)
            if row is None or caller.principal.agency not in (
                row["requester_agency"],
                row["owner_agency"],
            ):
                raise NotFound(f"no hit {ref!r}")
            plan = self._plan(caller, Action.READ)
            if not plan.scope.contains(row["dataset"]):
                raise NotFound(f"hit {ref} has not been released to {caller.principal.agency}")
            record = self._record(plan, row)
        except BinationalError as exc:
            self._fail(caller, action, exc, ref=ref)
            raise
        pair = [(row["record_id"], row["dataset"])]
        self.platform.audit.append(
            self._event(caller, action, "ok", self._refs(pair), ref=ref),
            self._receipts(caller, plan, Action.READ.value, pair),
        )
        return {
            "ref": ref,
            "kind": row["kind"],
            "score": row["score"],
            "record_kind": row["record_kind"],
            "record": record,
        }

    def _record(self, plan: Plan, row: Mapping[str, Any]) -> dict[str, Any]:
        if row["kind"] == "dna":
            prof = self._profiles(plan, it.dna_profile.c.id == row["record_id"])
            if not prof:
                raise NotFound("the released profile is no longer there")
            p = prof[0]
            return {
                "id": p["id"],
                "subject_kind": p["subject_kind"],
                "subject_id": p["subject_id"],
                "kit": p["kit"],
                "n_loci": p["n_loci"],
                "genotypes": {k: list(v) for k, v in p["genotypes"].items()},
            }
        rows = self._rows(plan, it.missing_person, it.missing_person.c.id == row["record_id"])
        if not rows:
            raise NotFound("the released report is no longer there")
        return _jsonable(rows[0])

    def _as_hit(self, ref: str, agency: str) -> Hit:
        r = self._hit(ref)
        assert r is not None
        owner = r["owner_agency"] == agency
        return Hit(
            ref=r["ref"],
            kind=r["kind"],
            status=r["status"],
            created_at=r["created_at"],
            record_kind=r["record_kind"] if owner else None,
            record_id=r["record_id"] if owner else None,
            owner_agency=r["owner_agency"],
            requester_agency=r["requester_agency"],
            case_ref=r["case_ref"],
            grant_id=r["grant_id"],
        )


def _yes(value: Any) -> bool:
    """A consent flag from JSON (true/false) or a CSV cell ("true", "yes", "sí", "1")."""
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in ("true", "yes", "y", "si", "sí", "1"):
        return True
    if text in ("", "false", "no", "n", "0"):
        return False
    raise InvalidInput(f"consent_international must be yes or no, got {value!r}")


def _int_or_none(x: float | None) -> int | None:
    return int(x) if x is not None else None


def _jsonable(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in row.items():
        if isinstance(v, datetime | date):
            out[k] = v.isoformat()
        elif isinstance(v, bytes):
            continue
        else:
            out[k] = v
    return out


def _remains_desc(r: Mapping[str, Any]) -> Description:
    return Description(
        r["id"],
        r["sex"],
        r["age_min"],
        r["age_max"],
        r["stature_min_cm"],
        r["stature_max_cm"],
        r["found_on"],
        r["state"],
        list(r["codes"]),
    )


def _missing_desc(m: Mapping[str, Any]) -> Description:
    age = m["age"]
    if age is None and m["birth_year"] is not None and m["disappeared_on"] is not None:
        age = m["disappeared_on"].year - m["birth_year"]
    return Description(
        m["id"],
        m["sex"],
        age,
        age,
        m["stature_cm"],
        m["stature_cm"],
        m["disappeared_on"],
        m["state"],
        list(m["codes"]),
    )


def operator_caller(
    platform: Platform, agency: str, case_ref: str, purpose: Purpose = Purpose.MISSING_PERSONS
) -> Caller:
    """The local operator acting for an agency (CLI and demo)."""
    from binational.core.policy import QueryContext

    ag = platform.identity.get_agency(agency)
    return Caller(operator(ag.code, ag.country), QueryContext(purpose, case_ref), client="cli")


__all__ = ["Hit", "Identification", "QueryAnswer", "explain", "operator_caller"]
