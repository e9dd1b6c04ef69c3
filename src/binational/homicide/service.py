"""The homicide capability on a platform: series and indicators, task-force cases, the
best-practice registry. What the API and the CLI call.

Sovereignty: every read plans the caller's scope with the policy (``Access.plan``) and filters
the capability's tables by it (``Scope.clause``), so another agency's rows are seen only under
a live grant for the action and the purpose, and a row out of scope is exactly like an absent
one (same ``NotFound``). Every read and write is audited, reads of other agencies' rows with
an access receipt for the owner. Writes go only to the writer's own agency's datasets.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import sqlalchemy as sa

from binational.core.access import Caller
from binational.core.audit import AuditEvent, ObjectRef, Receipt
from binational.core.errors import BinationalError, InvalidInput, NotFound
from binational.core.platform import Platform
from binational.core.policy import Plan, Privilege
from binational.core.store import utcnow
from binational.core.vocab import Action, check_choice
from binational.homicide import indicators, registry
from binational.homicide.hotspots import gi_star_points
from binational.homicide.incidents import Incidents, LocalProjection, RowIssue, read_incidents
from binational.homicide.sources import (
    HOMICIDE,
    STATE_NAMES,
    Catalogue,
    read_quadrant_polygons,
    read_series,
)
from binational.homicide.tables import (
    homicide_area,
    homicide_case,
    homicide_incident,
    homicide_programme,
    homicide_programme_note,
    homicide_series,
)

CASE_STATUSES = ("open", "suspended", "closed")
CASE_CRIMES = ("homicide", "feminicide", "massacre", "disappearance", "kidnapping",
               "armed-attack", "extortion")
LAB_KINDS = ("ballistics", "dna", "toxicology", "fingerprints", "digital", "autopsy")
LAB_STATUSES = ("requested", "in-progress", "completed", "rejected")
CHUNK = 5_000
MAX_LIST = 500
_QUADRANT_PLANE = LocalProjection(-99.13, 19.43)  # Mexico City


@dataclass(frozen=True)
class LoadReport:
    dataset: str
    format: str
    rows: int
    areas: int
    issues: list[RowIssue]
    warnings: list[RowIssue]

    def to_json(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "format": self.format, "rows": self.rows,
                "areas": self.areas, "issues": [i.to_json() for i in self.issues[:1000]],
                "issue_count": len(self.issues),
                "warnings": [w.to_json() for w in self.warnings[:1000]]}


def programme_id(dataset: str, name_en: str) -> str:
    """Stable per dataset and English name: publishing again updates the same record."""
    digest = hashlib.sha256(f"{dataset}\x1f{name_en.strip().lower()}".encode()).hexdigest()
    return "bp-" + digest[:16]


class Homicide:
    """The capability's façade on one platform."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    # -- audit and policy helpers -------------------------------------------------------------

    def _plan(self, caller: Caller, action: Action, event: str, **detail: Any) -> Plan:
        try:
            return self.platform.access.plan(caller, action)
        except BinationalError as exc:
            self.platform.access.record_failure(caller, event, exc, **detail)
            raise

    def _record(self, caller: Caller, plan: Plan | None, action: Action, event: str,
                objects: Iterable[tuple[str, str]], outcome: str = "ok", **detail: Any) -> None:
        """Audit a read or write of capability rows given as (dataset, object id), with a
        receipt for each row another agency owns."""
        p = caller.principal
        owners = plan.owners if plan else self.platform.catalog.all()
        refs: list[ObjectRef] = []
        receipts: list[Receipt] = []
        for dataset, obj in objects:
            info = owners.get(dataset)
            refs.append(ObjectRef(obj, dataset, info.agency if info else None,
                                  info.country.value if info else None))
            if info is None or info.agency == p.agency:
                continue
            receipts.append(Receipt(
                owner_agency=info.agency, owner_country=info.country.value, dataset=dataset,
                object_id=obj, reader=p.username, reader_agency=p.agency,
                reader_country=p.country.value, action=action.value,
                grant_id=plan.grant_for(dataset) if plan else None,
                purpose=caller.context.purpose.value, case_ref=caller.context.case_ref))
        self.platform.audit.append(AuditEvent(
            action=event, outcome=outcome, actor=p.username, agency=p.agency,
            country=p.country.value, objects=tuple(refs), purpose=caller.context.purpose.value,
            case_ref=caller.context.case_ref, request_id=caller.request_id,
            client=caller.client, detail=detail), receipts)

    def _writable(self, caller: Caller, dataset: str, event: str) -> None:
        """Only the owning agency's users with the write privilege write a dataset; another
        agency's dataset is reported as absent."""
        try:
            self.platform.policy.require(caller.principal, Privilege.WRITE_DATA)
            info = self.platform.catalog.all().get(dataset)
            if info is None or info.agency != caller.principal.agency:
                raise NotFound(f"no dataset {dataset!r}")
        except BinationalError as exc:
            self.platform.access.record_failure(caller, event, exc, dataset=dataset)
            raise

    # -- series ---------------------------------------------------------------------------

    def catalogue(self) -> Catalogue | None:
        """Municipality codes known from INEGI series already loaded (any dataset: codes are
        public reference data), or the demo's catalogue file."""
        from binational.homicide.demo import catalogue_file

        path = catalogue_file()
        return Catalogue.from_file(path) if path is not None else None

    def load_series(self, caller: Caller, dataset: str, fmt: str, path: Path,
                    polygons: Path | None = None) -> LoadReport:
        """Load a file of counts into ``dataset`` (replacing that source's rows there)."""
        self._writable(caller, dataset, "homicide.load")
        series = read_series(fmt, path, self.catalogue())
        frame = series.frame
        rows = frame.to_dicts()
        sources = sorted(set(frame["source"].to_list())) or [fmt]
        levels = sorted(set(frame["level"].to_list()))
        with self.platform.db.write() as conn:
            conn.execute(sa.delete(homicide_series).where(
                homicide_series.c.dataset == dataset,
                homicide_series.c.source.in_(sources), homicide_series.c.level.in_(levels)))
            for start in range(0, len(rows), CHUNK):
                conn.execute(sa.insert(homicide_series),
                             [{**r, "dataset": dataset} for r in rows[start:start + CHUNK]])
        areas = 0
        if polygons is not None:
            areas = self.load_areas(caller, dataset, "quadrant", polygons)
        self._record(caller, None, Action.READ, "homicide.load", [(dataset, str(path.name))],
                     format=fmt, rows=len(rows), issues=len(series.issues),
                     warnings=len(series.warnings))
        return LoadReport(dataset, fmt, len(rows), areas, series.issues, series.warnings)

    def load_areas(self, caller: Caller, dataset: str, level: str, path: Path) -> int:
        self._writable(caller, dataset, "homicide.load")
        shapes = read_quadrant_polygons(path)
        rows = []
        for code, item in shapes.items():
            props = item["properties"]
            pop = next((v for k, v in props.items() if "pob" in k.lower()
                        or k.lower() == "population"), None)
            rows.append({"dataset": dataset, "level": level, "area_code": code,
                         "name": str(props.get("sector") or code)[:255],
                         "population": float(pop) if isinstance(pop, int | float) else None,
                         "geometry": item["geometry"]})
        with self.platform.db.write() as conn:
            conn.execute(sa.delete(homicide_area).where(homicide_area.c.dataset == dataset,
                                                        homicide_area.c.level == level))
            if rows:
                conn.execute(sa.insert(homicide_area), rows)
        return len(rows)

    def series(self, caller: Caller, *, level: str, crime: str = HOMICIDE,
               source: str | None = None, area_prefix: str | None = None,
               datasets: Sequence[str] | None = None) -> pl.DataFrame:
        """The monthly counts the caller may see, as a frame (audited, one receipt per other
        agency's dataset read)."""
        detail: dict[str, Any] = {"level": level, "crime": crime, "source": source,
                                  "area": area_prefix}
        plan = self._plan(caller, Action.SEARCH, "homicide.series", **detail)
        s = homicide_series.c
        q = sa.select(s.dataset, s.source, s.area_code, s.area_name, s.year, s.month, s.count,
                      s.population).where(plan.scope.restrict(datasets).clause(s.dataset),
                                          s.level == level, s.crime == crime.lower())
        if source:
            q = q.where(s.source == source)
        if area_prefix:
            q = q.where(s.area_code.startswith(area_prefix, autoescape=True))
        with self.platform.db.read() as conn:
            rows = conn.execute(q).all()
        frame = pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
            "dataset": pl.Utf8, "source": pl.Utf8, "area_code": pl.Utf8, "area_name": pl.Utf8,
            "year": pl.Int32, "month": pl.Int32, "count": pl.Int64, "population": pl.Float64})
        seen = sorted(set(frame["dataset"].to_list()))
        self._record(caller, plan, Action.SEARCH, "homicide.series",
                     [(d, f"series:{d}") for d in seen], rows=frame.height, **detail)
        return frame

    def trends(self, caller: Caller, *, level: str = "state", source: str = "inegi",
               crime: str = HOMICIDE, area_prefix: str | None = None,
               year: int | None = None, months: int = 36) -> dict[str, Any]:
        """Annual counts, rates, year-on-year change and recent trend per area (for a map)."""
        frame = self.series(caller, level=level, crime=crime, source=source,
                            area_prefix=area_prefix)
        if frame.is_empty():
            return {"level": level, "source": source, "crime": crime, "areas": [],
                    "years": []}
        annual = indicators.annual(frame)
        trend = indicators.trend(frame, months)
        years = sorted(set(annual["year"].to_list()))
        year = year or years[-1]
        names = frame.group_by("area_code").agg(pl.col("area_name").drop_nulls().last())
        names = names.with_columns(
            pl.col("area_code").str.slice(0, 2).replace_strict(STATE_NAMES, default=None)
            .alias("state_name"))
        if level == "state":
            names = names.with_columns(pl.coalesce("area_name", "state_name")
                                       .alias("area_name"))
        latest = (annual.filter(pl.col("year") == year)
                  .join(trend.select("area_code", "slope", "slope_share"), on="area_code",
                        how="left").join(names, on="area_code", how="left"))
        national = frame.group_by("year").agg(pl.col("count").sum()).sort("year")
        return {"level": level, "source": source, "crime": crime, "year": year,
                "years": years,
                "national": indicators.records(national),
                "areas": indicators.records(latest.sort("area_code")),
                "series": indicators.records(annual.sort("area_code", "year"))
                if level == "state" else []}

    def reconciliation(self, caller: Caller) -> list[dict[str, Any]]:
        inegi = self.series(caller, level="municipality", source="inegi")
        if inegi.is_empty():
            inegi = self.series(caller, level="state", source="inegi")
        sesnsp = self.series(caller, level="state", source="sesnsp-victims")
        return indicators.records(indicators.reconcile(inegi, sesnsp))

    def areas(self, caller: Caller, level: str = "quadrant") -> dict[str, Any]:
        """Area outlines the caller may see, as a GeoJSON feature collection."""
        plan = self._plan(caller, Action.SEARCH, "homicide.areas", level=level)
        a = homicide_area.c
        q = sa.select(a.dataset, a.area_code, a.name, a.population, a.geometry).where(
            plan.scope.clause(a.dataset), a.level == level).order_by(a.area_code)
        with self.platform.db.read() as conn:
            rows = conn.execute(q).all()
        self._record(caller, plan, Action.SEARCH, "homicide.areas",
                     [(d, f"areas:{d}") for d in sorted({r.dataset for r in rows})],
                     level=level, areas=len(rows))
        return {"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": r.area_code, "geometry": r.geometry,
             "properties": {"area_code": r.area_code, "name": r.name,
                            "population": r.population, "dataset": r.dataset}}
            for r in rows]}

    def quadrant_map(self, caller: Caller, *, year: int | None = None,
                     month: int | None = None, window: int = 12, radius_m: float = 1_500.0
                     ) -> dict[str, Any]:
        """Police quadrants as a GeoJSON map: homicides in the ``window`` months up to
        year/month (default: the last month loaded), rate per 100,000 a year, Getis-Ord Gi*
        over the quadrants within ``radius_m`` of each other, and the forecast for the next
        month by the last-3-months baseline."""
        frame = self.series(caller, level="quadrant")
        shapes = self.areas(caller, "quadrant")
        if frame.is_empty():
            return {**shapes, "period": None}
        frame = frame.with_columns((pl.col("year") * 12 + pl.col("month") - 1).alias("t"))
        last = (int(frame.select(pl.col("t").max()).item()) if year is None
                else year * 12 + (month or 12) - 1)
        recent = frame.filter((pl.col("t") > last - window) & (pl.col("t") <= last))
        per = recent.group_by("area_code").agg(pl.col("count").sum(),
                                               pl.col("population").max())
        forecast = (frame.filter((pl.col("t") > last - 3) & (pl.col("t") <= last))
                    .group_by("area_code").agg((pl.col("count").sum() / 3).alias("forecast")))
        per = per.join(forecast, on="area_code", how="left")
        values = {r["area_code"]: r for r in per.to_dicts()}
        features = [f for f in shapes["features"] if f["id"] in values]
        centres = np.array([_centre(f["geometry"]) for f in features]).reshape(-1, 2)
        counts = np.array([float(values[f["id"]]["count"]) for f in features])
        z = gi_star_points(centres, counts, radius_m) if len(features) > 1 else counts * 0
        ranks = {f["id"]: i + 1 for i, f in enumerate(sorted(
            features, key=lambda f: -(values[f["id"]]["forecast"] or 0)))}
        for f, zi in zip(features, z, strict=True):
            v = values[f["id"]]
            # The outline's census population where there is one, else the series'.
            pop = f["properties"].get("population") or v["population"]
            f["properties"].update({
                "homicides": int(v["count"]),
                "rate_per_100k_year": round(v["count"] / pop * 1e5 * 12 / window, 2)
                if pop else None,
                "gi_star_z": round(float(zi), 3), "hot_spot": bool(zi >= 1.96),
                "forecast_next_month": round(float(v["forecast"] or 0), 3),
                "forecast_rank": ranks[f["id"]]})
        y, m = divmod(last, 12)
        return {"type": "FeatureCollection", "features": features,
                "period": {"to": f"{y:04d}-{m + 1:02d}", "months": window},
                "forecast_model": "last-period (mean of the last 3 months)",
                "gi_star_radius_m": radius_m}

    def analyse_file(self, caller: Caller, kind: str, rows: int, rejected: int,
                     **detail: Any) -> None:
        """Audit an analysis of a file the caller uploaded (nothing of it is stored)."""
        self._record(caller, None, Action.READ, f"homicide.hotspots.{kind}", [],
                     rows=rows, rejected=rejected, **detail)

    # -- geocoded incidents -------------------------------------------------------------------

    def load_incidents(self, caller: Caller, dataset: str, path: Path, *, x: str, y: str,
                       date: str, date_format: str | None = None, lonlat: bool = False,
                       crime: str = "homicide", crs: str | None = None) -> LoadReport:
        """Store a file of geocoded incidents in ``dataset`` (replacing its incidents of that
        crime); rows that cannot be used are reported, as by ``hotspots forecast``."""
        self._writable(caller, dataset, "homicide.incidents.load")
        crime = crime.strip().lower()
        if not crime or len(crime) > 64:
            raise InvalidInput("--crime must be a short name (e.g. homicide)")
        label = "lonlat" if lonlat else (crs or "projected").strip()[:32]
        if label == "lonlat" and not lonlat:
            raise InvalidInput("crs 'lonlat' means --lonlat")
        inc = read_incidents(path, x, y, date, date_format=date_format, lonlat=lonlat)
        if inc.projection is not None:
            px, py = inc.projection.inverse(inc.x, inc.y)
        else:
            px, py = inc.x, inc.y
        rows = [{"dataset": dataset, "id": f"{crime}:{int(line)}", "crime": crime,
                 "day": float(day), "x": float(a), "y": float(b), "crs": label}
                for line, day, a, b in zip(inc.lines, inc.t, px, py, strict=True)]
        i = homicide_incident.c
        with self.platform.db.write() as conn:
            conn.execute(sa.delete(homicide_incident).where(i.dataset == dataset,
                                                            i.crime == crime))
            for start in range(0, len(rows), CHUNK):
                conn.execute(sa.insert(homicide_incident), rows[start:start + CHUNK])
        self._record(caller, None, Action.READ, "homicide.incidents.load",
                     [(dataset, path.name)], crime=crime, rows=len(rows),
                     issues=len(inc.issues))
        return LoadReport(dataset, "incidents", len(rows), 0, inc.issues, [])

    def incidents(self, caller: Caller, *, crime: str = "homicide",
                  datasets: Sequence[str] | None = None) -> Incidents:
        """The incidents of a crime the caller may see, in one plane (audited, with receipts
        per other agency's dataset). Datasets in different projections cannot be mixed."""
        detail: dict[str, Any] = {"crime": crime, "datasets": list(datasets or [])}
        plan = self._plan(caller, Action.SEARCH, "homicide.incidents", **detail)
        i = homicide_incident.c
        q = sa.select(i.dataset, i.day, i.x, i.y, i.crs).where(
            plan.scope.restrict(datasets).clause(i.dataset), i.crime == crime.lower()
        ).order_by(i.dataset, i.id)
        with self.platform.db.read() as conn:
            rows = conn.execute(q).all()
        seen = sorted({r.dataset for r in rows})
        crs = sorted({r.crs for r in rows})
        if len(crs) > 1:
            exc = InvalidInput(f"the visible incidents are in several projections "
                               f"({', '.join(crs)}): choose datasets of one")
            self.platform.access.record_failure(caller, "homicide.incidents", exc, **detail)
            raise exc
        self._record(caller, plan, Action.SEARCH, "homicide.incidents",
                     [(d, f"incidents:{d}") for d in seen], rows=len(rows), **detail)
        x = np.array([r.x for r in rows], dtype=float)
        y = np.array([r.y for r in rows], dtype=float)
        t = np.array([r.day for r in rows], dtype=float)
        projection = None
        if crs == ["lonlat"] and rows:
            projection = LocalProjection(float(np.median(x)), float(np.median(y)))
            x, y = projection.forward(x, y)
        return Incidents(x, y, t, np.arange(1, len(rows) + 1, dtype=np.int64), [], projection,
                         "stored", len(rows))

    # -- task-force cases ---------------------------------------------------------------------

    def create_case(self, caller: Caller, dataset: str, data: dict[str, Any]) -> dict[str, Any]:
        self._writable(caller, dataset, "homicide.case.write")
        try:
            row = self._case_row(caller, data)
        except InvalidInput as exc:
            self.platform.access.record_failure(caller, "homicide.case.write", exc,
                                                dataset=dataset)
            raise
        now = utcnow()
        row.update(dataset=dataset, id=f"htf-{secrets.token_hex(8)}",
                   created_by=caller.principal.username, created_at=now, updated_at=now)
        with self.platform.db.write() as conn:
            conn.execute(sa.insert(homicide_case), row)
        self._record(caller, None, Action.READ, "homicide.case.write", [(dataset, row["id"])])
        return self.get_case(caller, row["id"])

    def update_case(self, caller: Caller, case_id: str, changes: dict[str, Any]
                    ) -> dict[str, Any]:
        """Change a case of the caller's own agency (status, summary, links, firearms, lab
        requests: lists are replaced whole). Another agency's case is absent, even when the
        caller may read it: only the owner writes."""
        c = homicide_case.c
        with self.platform.db.read() as conn:
            row = conn.execute(sa.select(homicide_case).where(c.id == case_id)
                               ).mappings().first()
        info = self.platform.catalog.all().get(row["dataset"]) if row else None
        if row is None or info is None or info.agency != caller.principal.agency:
            exc = NotFound(f"no case {case_id!r}")
            self.platform.access.record_failure(caller, "homicide.case.write", exc,
                                                case=case_id)
            raise exc
        self._writable(caller, row["dataset"], "homicide.case.write")
        allowed = {"title", "summary", "status", "crime", "occurred_on", "place", "area_code",
                   "entities", "firearms", "lab_requests"}
        unknown = sorted(set(changes) - allowed)
        try:
            if unknown:
                raise InvalidInput(f"cannot change {', '.join(unknown)}")
            merged = self._case_row(caller, {**dict(row), **changes})
        except InvalidInput as exc:
            self.platform.access.record_failure(caller, "homicide.case.write", exc,
                                                case=case_id)
            raise
        with self.platform.db.write() as conn:
            conn.execute(sa.update(homicide_case).where(c.id == case_id).values(
                **merged, updated_at=utcnow()))
        self._record(caller, None, Action.READ, "homicide.case.write",
                     [(row["dataset"], case_id)], changed=sorted(changes))
        return self.get_case(caller, case_id)

    def _case_row(self, caller: Caller, data: dict[str, Any]) -> dict[str, Any]:
        title = str(data.get("title") or "").strip()
        if not title:
            raise InvalidInput("a case needs a title")
        status = str(data.get("status") or "open")
        crime = str(data.get("crime") or "homicide")
        check_choice(status, CASE_STATUSES, "status")
        check_choice(crime, CASE_CRIMES, "crime")
        occurred = data.get("occurred_on")
        if occurred:
            try:
                date.fromisoformat(str(occurred))
            except ValueError:
                raise InvalidInput(f"occurred_on {occurred!r} is not a date (YYYY-MM-DD)"
                                   ) from None
        entities = [str(e) for e in data.get("entities") or []]
        if entities:
            # Only entities the author may see can be linked (absent and unseen alike).
            plan = self.platform.access.plan(caller, Action.READ)
            found = {e.id for e in self.platform.store.view(plan.scope).get_entities(entities)}
            missing = [e for e in entities if e not in found]
            if missing:
                raise InvalidInput(f"no entity {missing[0]!r} to link")
        firearms = [_firearm(f) for f in data.get("firearms") or []]
        labs = [_lab_request(r) for r in data.get("lab_requests") or []]
        return {"title": title[:255], "summary": data.get("summary"), "status": status,
                "crime": crime, "occurred_on": str(occurred) if occurred else None,
                "place": (str(data["place"])[:255] if data.get("place") else None),
                "area_code": data.get("area_code"), "entities": entities,
                "firearms": firearms, "lab_requests": labs}

    def get_case(self, caller: Caller, case_id: str) -> dict[str, Any]:
        plan = self._plan(caller, Action.READ, "homicide.case.read", case=case_id)
        c = homicide_case.c
        with self.platform.db.read() as conn:
            row = conn.execute(sa.select(homicide_case).where(
                c.id == case_id, plan.scope.clause(c.dataset))).mappings().first()
        if row is None:
            self._record(caller, plan, Action.READ, "homicide.case.read", [],
                         outcome="not_found", case=case_id)
            raise NotFound(f"no case {case_id!r}")
        self._record(caller, plan, Action.READ, "homicide.case.read",
                     [(row["dataset"], case_id)])
        return self._case_json(plan, dict(row))

    def list_cases(self, caller: Caller, status: str | None = None,
                   limit: int = 100) -> list[dict[str, Any]]:
        plan = self._plan(caller, Action.SEARCH, "homicide.case.search", status=status)
        c = homicide_case.c
        q = sa.select(homicide_case).where(plan.scope.clause(c.dataset)).order_by(
            c.created_at.desc()).limit(min(limit, MAX_LIST))
        if status:
            q = q.where(c.status == status)
        with self.platform.db.read() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings()]
        self._record(caller, plan, Action.SEARCH, "homicide.case.search",
                     [(r["dataset"], r["id"]) for r in rows], status=status)
        return [self._case_json(plan, r) for r in rows]

    def _case_json(self, plan: Plan, row: dict[str, Any]) -> dict[str, Any]:
        # Linked entities the reader may not see are left out, as if never linked.
        linked = list(row["entities"] or [])
        visible = {e.id for e in self.platform.store.view(plan.scope).get_entities(linked)}
        info = plan.owners.get(row["dataset"])
        return {"id": row["id"], "dataset": row["dataset"],
                "agency": info.agency if info else None,
                "country": info.country.value if info else None,
                "title": row["title"], "summary": row["summary"], "status": row["status"],
                "crime": row["crime"], "occurred_on": row["occurred_on"],
                "place": row["place"], "area_code": row["area_code"],
                "entities": [e for e in linked if e in visible],
                "firearms": row["firearms"], "lab_requests": row["lab_requests"],
                "created_by": row["created_by"], "created_at": row["created_at"].isoformat(),
                "updated_at": row["updated_at"].isoformat()}

    # -- the best-practice registry ----------------------------------------------------------

    def publish(self, caller: Caller, dataset: str, programme: registry.Programme
                ) -> dict[str, Any]:
        self._writable(caller, dataset, "homicide.programme.write")
        pid = programme_id(dataset, programme.name_en)
        row = {"dataset": dataset, "id": pid, "name_en": programme.name_en,
               "name_es": programme.name_es, "summary_en": programme.summary_en,
               "summary_es": programme.summary_es, "rating": programme.rating,
               "target": programme.target, "jurisdictions": list(programme.jurisdictions),
               "costs_en": programme.costs_en, "costs_es": programme.costs_es,
               "contact": programme.contact, "links": list(programme.links),
               "search_text": programme.search_text(),
               "created_by": caller.principal.username, "created_at": utcnow()}
        with self.platform.db.write() as conn:
            # Publishing the same programme again updates it (same id).
            conn.execute(sa.delete(homicide_programme).where(homicide_programme.c.id == pid))
            conn.execute(sa.insert(homicide_programme), row)
        self._record(caller, None, Action.READ, "homicide.programme.write", [(dataset, pid)])
        return self.get_programme(caller, pid)

    def search_programmes(self, caller: Caller, q: str | None = None, *,
                          rating: str | None = None, target: str | None = None,
                          limit: int = 50) -> list[dict[str, Any]]:
        """Programmes matching every word of ``q`` (either language), best rated first."""
        if rating and rating not in registry.RATINGS:
            raise InvalidInput(f"unknown rating {rating!r}; expected one of: "
                               f"{', '.join(registry.RATINGS)}")
        if target and target not in registry.TARGETS:
            raise InvalidInput(f"unknown target {target!r}; expected one of: "
                               f"{', '.join(registry.TARGETS)}")
        detail: dict[str, Any] = {"q": q, "rating": rating, "target": target}
        plan = self._plan(caller, Action.SEARCH, "homicide.programme.search", **detail)
        p = homicide_programme.c
        query = sa.select(homicide_programme).where(plan.scope.clause(p.dataset))
        for alternatives in registry.query_terms(q or ""):
            query = query.where(sa.or_(*[p.search_text.like(f"% {_escape(a)}%", escape="\\")
                                         for a in sorted(alternatives)]))
        if rating:
            query = query.where(p.rating == rating)
        if target:
            query = query.where(p.target == target)
        order = sa.case({"effective": 0, "promising": 1, "no-effects": 2}, value=p.rating,
                        else_=3)
        query = query.order_by(order, p.name_en).limit(min(limit, MAX_LIST))
        with self.platform.db.read() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        self._record(caller, plan, Action.SEARCH, "homicide.programme.search",
                     [(r["dataset"], r["id"]) for r in rows], results=len(rows), **detail)
        return [_programme_json(plan, r) for r in rows]

    def get_programme(self, caller: Caller, programme_id: str) -> dict[str, Any]:
        plan = self._plan(caller, Action.READ, "homicide.programme.read",
                          programme=programme_id)
        p, n = homicide_programme.c, homicide_programme_note.c
        with self.platform.db.read() as conn:
            row = conn.execute(sa.select(homicide_programme).where(
                p.id == programme_id, plan.scope.clause(p.dataset))).mappings().first()
            notes = [] if row is None else [dict(r) for r in conn.execute(
                sa.select(homicide_programme_note).where(
                    n.programme_id == programme_id, plan.scope.clause(n.dataset))
                .order_by(n.created_at)).mappings()]
        if row is None:
            self._record(caller, plan, Action.READ, "homicide.programme.read", [],
                         outcome="not_found", programme=programme_id)
            raise NotFound(f"no programme {programme_id!r}")
        self._record(caller, plan, Action.READ, "homicide.programme.read",
                     [(row["dataset"], programme_id)] + [(r["dataset"], r["id"]) for r in notes])
        out = _programme_json(plan, dict(row))
        out["notes"] = [_note_json(plan, r) for r in notes]
        return out

    def add_note(self, caller: Caller, dataset: str, programme_id: str, *, kind: str,
                 text: str, lang: str, jurisdiction: str | None = None,
                 outcome: str | None = None) -> dict[str, Any]:
        """A comment, or a result from using the programme, by the caller's agency."""
        self._writable(caller, dataset, "homicide.programme.note")
        if kind not in registry.NOTE_KINDS:
            raise InvalidInput(f"unknown note kind {kind!r}; expected comment or result")
        if lang not in registry.LANGS:
            raise InvalidInput("lang must be en or es")
        if not text.strip():
            raise InvalidInput("a note needs text")
        if kind == "result" and outcome not in registry.OUTCOMES:
            raise InvalidInput(f"a result needs an outcome: one of "
                               f"{', '.join(registry.OUTCOMES)}")
        self.get_programme(caller, programme_id)  # NotFound if the caller cannot see it
        nid = f"note-{secrets.token_hex(8)}"
        with self.platform.db.write() as conn:
            conn.execute(sa.insert(homicide_programme_note), {
                "dataset": dataset, "id": nid, "programme_id": programme_id, "kind": kind,
                "text": text.strip(), "lang": lang, "jurisdiction": jurisdiction,
                "outcome": outcome if kind == "result" else None,
                "author": caller.principal.username, "created_at": utcnow()})
        self._record(caller, None, Action.READ, "homicide.programme.note", [(dataset, nid)],
                     programme=programme_id, kind=kind)
        return {"id": nid, "programme_id": programme_id, "kind": kind}


def _centre(geometry: dict[str, Any]) -> tuple[float, float]:
    """Mean of the outer ring's vertices, in metres on a local plane (good enough to decide
    which quadrants are neighbours)."""
    coords = geometry["coordinates"]
    ring = coords[0][0] if geometry["type"] == "MultiPolygon" else coords[0]
    lon = float(np.mean([p[0] for p in ring]))
    lat = float(np.mean([p[1] for p in ring]))
    x, y = _QUADRANT_PLANE.forward(np.array([lon]), np.array([lat]))
    return float(x[0]), float(y[0])


def _escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _programme_json(plan: Plan, r: dict[str, Any]) -> dict[str, Any]:
    info = plan.owners.get(r["dataset"])
    rating, target = registry.RATINGS[r["rating"]], registry.TARGETS[r["target"]]
    return {"id": r["id"], "dataset": r["dataset"], "agency": info.agency if info else None,
            "country": info.country.value if info else None,
            "name": {"en": r["name_en"], "es": r["name_es"]},
            "summary": {"en": r["summary_en"], "es": r["summary_es"]},
            "rating": r["rating"], "rating_label": {"en": rating[0], "es": rating[1]},
            "target": r["target"], "target_label": {"en": target[0], "es": target[1]},
            "jurisdictions": r["jurisdictions"],
            "costs": {"en": r["costs_en"], "es": r["costs_es"]},
            "contact": r["contact"], "links": r["links"]}


def _note_json(plan: Plan, r: dict[str, Any]) -> dict[str, Any]:
    info = plan.owners.get(r["dataset"])
    return {"id": r["id"], "kind": r["kind"], "text": r["text"], "lang": r["lang"],
            "jurisdiction": r["jurisdiction"], "outcome": r["outcome"],
            "author": r["author"], "agency": info.agency if info else None,
            "created_at": r["created_at"].isoformat()}


def _firearm(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput("a firearm is an object with make, model, calibre, serial, trace")
    allowed = ("make", "model", "calibre", "serial", "country_of_origin", "trace")
    extra = sorted(set(data) - set(allowed))
    if extra:
        raise InvalidInput(f"unknown firearm fields: {', '.join(extra)}")
    if not any(data.get(k) for k in ("make", "model", "calibre", "serial")):
        raise InvalidInput("a firearm needs at least a make, model, calibre or serial")
    return {k: str(data[k]) for k in allowed if data.get(k)}


def _lab_request(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput("a lab request is an object with lab, kind, status, requested_on")
    kind, status = data.get("kind"), data.get("status", "requested")
    check_choice(kind, LAB_KINDS, "lab request kind")
    check_choice(status, LAB_STATUSES, "lab request status")
    if not data.get("lab"):
        raise InvalidInput("a lab request names the laboratory")
    out = {"lab": str(data["lab"]), "kind": kind, "status": status}
    for k in ("requested_on", "reference"):
        if data.get(k):
            out[k] = str(data[k])
    return out
