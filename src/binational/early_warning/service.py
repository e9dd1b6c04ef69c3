"""Early warning on the platform: stored series, scans that raise alerts, the alert map,
subscriptions (in-app and e-mail), and the register of new psychoactive substances.

Every read goes through the policy plan of the reader (``Access.plan`` with the query's
purpose): rows of datasets outside the plan are filtered in SQL, so another agency's series
is exactly as absent as one that does not exist. Readers outside the owning agency see
aggregate counts only: cells below ``min_cell`` (default 10, configurable) are suppressed.
Every query is audited, with access receipts for the owners of what was read.
"""

from __future__ import annotations

import hashlib
import os
import smtplib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import EmailMessage
from typing import Any

import numpy as np
import sqlalchemy as sa

from binational.core.access import Caller
from binational.core.audit import AuditEvent, ObjectRef, Receipt
from binational.core.errors import BinationalError, InvalidInput, NotFound
from binational.core.identity import Principal
from binational.core.policy import Plan, Privilege
from binational.core.tables import agency as agency_table
from binational.core.tables import user as user_table
from binational.core.vocab import Action, Country, Purpose, Role, check_choice
from binational.early_warning import places
from binational.early_warning.algorithms import FREQUENCIES, Detection, detect
from binational.early_warning.series import Series, SeriesKey
from binational.early_warning.tables import (
    ew_alert,
    ew_count,
    ew_notification,
    ew_series,
    ew_subscription,
    ew_substance,
)

LEVELS = ("red", "yellow", "blue", "grey")
LEVEL_LABELS = {"red": ("Alert", "Alerta"), "yellow": ("Warning", "Advertencia"),
                "blue": ("No alert", "Sin alerta"), "grey": ("Not assessed", "No evaluado")}
SOURCES = {"seizure": ("Seizure", "Decomiso"), "lab": ("Laboratory analysis",
                                                       "Análisis de laboratorio"),
           "toxicology": ("Toxicology", "Toxicología")}
CONFIDENCE = {"suspected": ("Suspected", "Sospechosa"), "probable": ("Probable", "Probable"),
              "confirmed": ("Confirmed", "Confirmada")}
DEFAULT_MIN_CELL = 10
# Sparse-data guard: a series whose baseline is mostly zeros is not assessed (grey) rather
# than alarming on the first single case.
SPARSE_ZERO_SHARE = 0.8
SPARSE_MIN_MEAN = 0.5


def _now() -> datetime:
    return datetime.now(UTC)


def series_id(dataset: str, key: SeriesKey, frequency: str) -> str:
    raw = f"{dataset}|{key.place}|{key.indicator}|{key.substance}|{frequency}"
    return hashlib.sha1(raw.encode()).hexdigest()  # noqa: S324 - an id, not a secret


def _level_pick(levels: Iterable[str]) -> str:
    got = set(levels)
    return next((lv for lv in LEVELS if lv in got), "grey")


@dataclass(frozen=True)
class SmtpConfig:
    """Where e-mail goes (``BINATIONAL_SMTP_HOST`` unset: no e-mail, in-app only)."""

    host: str
    port: int = 25
    sender: str = "early-warning@binational.invalid"
    user: str | None = None
    password: str | None = None
    starttls: bool = False

    @classmethod
    def from_env(cls) -> SmtpConfig | None:
        host = os.environ.get("BINATIONAL_SMTP_HOST")
        if not host:
            return None
        return cls(host=host, port=int(os.environ.get("BINATIONAL_SMTP_PORT", "25")),
                   sender=os.environ.get("BINATIONAL_SMTP_FROM",
                                         "early-warning@binational.invalid"),
                   user=os.environ.get("BINATIONAL_SMTP_USER") or None,
                   password=os.environ.get("BINATIONAL_SMTP_PASSWORD") or None,
                   starttls=os.environ.get("BINATIONAL_SMTP_STARTTLS", "") in ("1", "true"))

    def send(self, to: str, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, to, subject
        msg.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user and self.password:
                smtp.login(self.user, self.password)
            smtp.send_message(msg)


class EarlyWarning:
    def __init__(self, platform: Any, min_cell: int | None = None,
                 smtp: SmtpConfig | None = None) -> None:
        self.platform = platform
        self.db = platform.db
        self.min_cell = min_cell if min_cell is not None else int(
            os.environ.get("BINATIONAL_EW_MIN_CELL", DEFAULT_MIN_CELL))
        self.smtp = smtp if smtp is not None else SmtpConfig.from_env()

    # -- policy and audit --------------------------------------------------------------------

    def _plan(self, caller: Caller, event: str) -> Plan:
        try:
            plan: Plan = self.platform.access.plan(caller, Action.READ)
        except BinationalError as exc:
            self.platform.access.record_failure(caller, event, exc)
            raise
        return plan

    def _audit(self, caller: Caller, plan: Plan, event: str,
               objects: Sequence[tuple[str, str]], **detail: Any) -> None:
        p = caller.principal
        refs, receipts = [], []
        for oid, ds in objects:
            refs.append(plan.object_ref(oid, ds))
            info = plan.owners.get(ds)
            if info is not None and info.agency != p.agency:
                receipts.append(Receipt(
                    owner_agency=info.agency, owner_country=info.country.value, dataset=ds,
                    object_id=oid, reader=p.username, reader_agency=p.agency,
                    reader_country=p.country.value, action=Action.READ.value,
                    grant_id=plan.grant_for(ds), purpose=caller.context.purpose.value,
                    case_ref=caller.context.case_ref))
        self.platform.audit.append(AuditEvent(
            action=event, outcome="ok", actor=p.username, agency=p.agency,
            country=p.country.value, objects=tuple(refs), purpose=caller.context.purpose.value,
            case_ref=caller.context.case_ref, request_id=caller.request_id,
            client=caller.client, detail=detail), receipts)

    def _own_dataset(self, caller: Caller, dataset: str, event: str) -> None:
        try:
            self.platform.policy.require(caller.principal, Privilege.WRITE_DATA)
            info = self.platform.catalog.get(dataset)
            if info.agency != caller.principal.agency:
                raise NotFound(f"no dataset {dataset!r}")
        except BinationalError as exc:
            self.platform.access.record_failure(caller, event, exc, dataset=dataset)
            raise

    # -- loading -------------------------------------------------------------------------------

    def load(self, caller: Caller, dataset: str, series: Sequence[Series], frequency: str,
             source: str) -> int:
        """Store (replace) count series in one of the caller's agency's datasets."""
        self._own_dataset(caller, dataset, "early_warning.load")
        if frequency not in FREQUENCIES:
            raise InvalidInput(f"unknown frequency {frequency!r}")
        with self.db.write() as conn:
            for s in series:
                sid = series_id(dataset, s.key, frequency)
                conn.execute(sa.delete(ew_count).where(ew_count.c.series_id == sid))
                conn.execute(sa.delete(ew_series).where(ew_series.c.id == sid))
                conn.execute(sa.insert(ew_series).values(
                    id=sid, dataset=dataset, place=s.key.place, place_name=s.place_name or None,
                    indicator=s.key.indicator, substance=s.key.substance, frequency=frequency,
                    source=source))
                rows = [{"series_id": sid, "dataset": dataset, "period": p,
                         "count": float(s.counts[i]),
                         "completeness": (None if s.completeness is None
                                          or not np.isfinite(s.completeness[i])
                                          else float(s.completeness[i])),
                         "predicted": (None if s.predicted is None
                                       or not np.isfinite(s.predicted[i])
                                       else float(s.predicted[i]))}
                        for i, p in enumerate(s.periods)]
                if rows:
                    conn.execute(sa.insert(ew_count), rows)
        self.platform.audit.append(AuditEvent(
            action="early_warning.load", outcome="ok", actor=caller.principal.username,
            agency=caller.principal.agency, country=caller.principal.country.value,
            objects=(ObjectRef(dataset, dataset),), client=caller.client,
            detail={"series": len(series), "source": source}))
        return len(series)

    def _series_rows(self, conn: sa.Connection, plan: Plan,
                     where: sa.ColumnElement[bool] | None = None) -> list[dict[str, Any]]:
        q = sa.select(ew_series).where(plan.scope.clause(ew_series.c.dataset))
        if where is not None:
            q = q.where(where)
        return [dict(r) for r in conn.execute(q.order_by(ew_series.c.place,
                                                          ew_series.c.indicator,
                                                          ew_series.c.substance)).mappings()]

    def _stored_series(self, conn: sa.Connection, row: dict[str, Any]) -> Series:
        counts = list(conn.execute(sa.select(ew_count).where(
            ew_count.c.series_id == row["id"]).order_by(ew_count.c.period)).mappings())
        comp = [c["completeness"] for c in counts]
        pred = [c["predicted"] for c in counts]
        return Series(
            key=SeriesKey(row["place"], row["indicator"], row["substance"]),
            periods=[c["period"] for c in counts],
            counts=np.array([c["count"] for c in counts], dtype=float),
            place_name=row["place_name"] or "",
            completeness=(np.array([np.nan if v is None else v for v in comp])
                          if any(v is not None for v in comp) else None),
            predicted=(np.array([np.nan if v is None else v for v in pred])
                       if any(v is not None for v in pred) else None))

    # -- detection -----------------------------------------------------------------------------

    @staticmethod
    def choose(algorithm: str, series: Series, frequency: str) -> str:
        """``auto``: the improved Farrington where five years of history allow it, else
        EARS C2 (which needs only ten periods)."""
        if algorithm != "auto":
            return algorithm
        freq = FREQUENCIES[frequency]
        return "farrington-flexible" if len(series.periods) > freq * 5 + 3 else "ears-c2"

    @staticmethod
    def sparse(series: Series) -> bool:
        x = series.counts[-104:]
        return bool(len(x) and (np.mean(x == 0) >= SPARSE_ZERO_SHARE
                                or np.mean(x) < SPARSE_MIN_MEAN))

    def run(self, series: Series, algorithm: str, frequency: str) -> Detection:
        counts = series.adjusted()
        return detect(self.choose(algorithm, series, frequency), counts, frequency,
                      series.periods)

    def scan(self, caller: Caller, dataset: str, algorithm: str = "auto") -> dict[str, Any]:
        """Run detection on every series of one of the caller's datasets; alarms become
        alerts (start, peak, end); new alerts notify the subscribers who may see them."""
        self._own_dataset(caller, dataset, "early_warning.scan")
        with self.db.read() as conn:
            rows = [dict(r) for r in conn.execute(sa.select(ew_series).where(
                ew_series.c.dataset == dataset)).mappings()]
            stored = [(r, self._stored_series(conn, r)) for r in rows]
        new_alerts: list[dict[str, Any]] = []
        problems: list[str] = []
        assessed = sparse = 0
        for row, s in stored:
            if self.sparse(s):
                sparse += 1
                continue
            try:
                det = self.run(s, algorithm, row["frequency"])
            except ValueError as exc:
                problems.append(f"{s.key.label()}: {exc}")
                continue
            assessed += 1
            for ep in episodes(s, det):
                ep.update(series_id=row["id"], dataset=dataset, algorithm=det.algorithm)
                ep["id"] = hashlib.sha1(  # noqa: S324 - an id
                    f"{row['id']}|{det.algorithm}|{ep['start']}|{ep['level']}"
                    .encode()).hexdigest()
                new_alerts.append(ep)
        created = []
        with self.db.write() as conn:
            existing = {r[0] for r in conn.execute(sa.select(ew_alert.c.id).where(
                ew_alert.c.dataset == dataset))}
            for ep in new_alerts:
                if ep["id"] in existing:
                    conn.execute(sa.update(ew_alert).where(ew_alert.c.id == ep["id"]).values(
                        peak=ep["peak"], end=ep["end"], peak_count=ep["peak_count"],
                        peak_expected=ep["peak_expected"],
                        peak_upperbound=ep["peak_upperbound"]))
                else:
                    conn.execute(sa.insert(ew_alert).values(created_at=_now(), **ep))
                    created.append(ep)
        place_of = {r["id"]: r for r, _ in stored}
        sent = self._notify(created, place_of)
        self.platform.audit.append(AuditEvent(
            action="early_warning.scan", outcome="ok", actor=caller.principal.username,
            agency=caller.principal.agency, country=caller.principal.country.value,
            objects=(ObjectRef(dataset, dataset),), client=caller.client,
            detail={"algorithm": algorithm, "series": len(stored), "assessed": assessed,
                    "sparse": sparse, "alerts_new": len(created), "notified": sent}))
        return {"series": len(stored), "assessed": assessed, "sparse": sparse,
                "problems": problems, "alerts": len(new_alerts), "new_alerts": len(created),
                "notifications": sent}

    # -- subscriptions and notifications ---------------------------------------------------

    def _principal_of(self, conn: sa.Connection, user_id: int) -> Principal | None:
        row = conn.execute(sa.select(user_table.c.username, user_table.c.agency,
                                     user_table.c.role, user_table.c.active,
                                     agency_table.c.country)
                           .join(agency_table, agency_table.c.code == user_table.c.agency)
                           .where(user_table.c.id == user_id)).first()
        if row is None or not row.active:
            return None
        return Principal(username=row.username, agency=row.agency,
                         country=Country(row.country), role=Role(row.role), user_id=user_id)

    def _notify(self, alerts: list[dict[str, Any]], series: dict[str, dict[str, Any]]) -> int:
        if not alerts:
            return 0
        sent = 0
        with self.db.read() as conn:
            subs = [dict(r) for r in conn.execute(sa.select(ew_subscription)).mappings()]
            who = {s["user_id"]: self._principal_of(conn, s["user_id"]) for s in subs}
        emails: list[tuple[str, str, str]] = []
        rows = []
        for sub in subs:
            principal = who.get(sub["user_id"])
            if principal is None:
                continue
            # A subscriber is told only of alerts on data their agency may see for public
            # health: the same decision point as any read.
            plan = self.platform.policy.plan(principal, Action.READ, Purpose.PUBLIC_HEALTH)
            for a in alerts:
                s = series[a["series_id"]]
                if not plan.scope.contains(a["dataset"]):
                    continue
                if sub["indicator"] and sub["indicator"] != s["indicator"]:
                    continue
                if not places.covers(sub["place"], s["place"], bool(sub["include_neighbours"])):
                    continue
                rows.append({"user_id": sub["user_id"], "alert_id": a["id"],
                             "created_at": _now()})
                if sub["email"]:
                    emails.append((sub["email"], *alert_message(a, s)))
        if rows:
            with self.db.write() as conn:
                conn.execute(sa.insert(ew_notification), rows)
            sent = len(rows)
        if self.smtp is not None:
            for to, subject, body in emails:
                self.smtp.send(to, subject, body)
        return sent

    def subscribe(self, principal: Principal, place: str, indicator: str | None = None,
                  include_neighbours: bool = False, email: str | None = None) -> dict[str, Any]:
        if principal.user_id is None:
            raise InvalidInput("only signed-in users can subscribe")
        place = place.strip().upper()
        if not place or not all(p.isalnum() for p in place.split("-")):
            raise InvalidInput(f"place {place!r} is not a code like US, US-AZ or MX-SON")
        if email is not None and "@" not in email:
            raise InvalidInput(f"{email!r} is not an e-mail address")
        with self.db.write() as conn:
            res = conn.execute(sa.insert(ew_subscription).values(
                user_id=principal.user_id, place=place, indicator=indicator or None,
                include_neighbours=int(include_neighbours), email=email, created_at=_now()))
            sub_id = res.inserted_primary_key[0] if res.inserted_primary_key else None
        return {"id": sub_id, "place": place, "indicator": indicator,
                "include_neighbours": include_neighbours, "email": email}

    def subscriptions(self, principal: Principal) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return [{"id": r["id"], "place": r["place"], "indicator": r["indicator"],
                     "include_neighbours": bool(r["include_neighbours"]), "email": r["email"]}
                    for r in conn.execute(sa.select(ew_subscription).where(
                        ew_subscription.c.user_id == principal.user_id)).mappings()]

    def unsubscribe(self, principal: Principal, sub_id: int) -> None:
        with self.db.write() as conn:
            n = conn.execute(sa.delete(ew_subscription).where(
                ew_subscription.c.id == sub_id,
                ew_subscription.c.user_id == principal.user_id)).rowcount
        if not n:
            raise NotFound(f"no subscription {sub_id}")

    def notifications(self, caller: Caller, unread_only: bool = False) -> list[dict[str, Any]]:
        """The caller's in-app alerts (re-checked against the policy at read time: a grant
        revoked since is as if the alert never was)."""
        plan = self._plan(caller, "early_warning.notifications")
        n, a, s = ew_notification, ew_alert, ew_series
        q = (sa.select(n.c.id.label("notification_id"), n.c.created_at.label("notified_at"),
                       n.c.read_at, a, s.c.place, s.c.place_name, s.c.indicator,
                       s.c.substance)
             .join(a, a.c.id == n.c.alert_id).join(s, s.c.id == a.c.series_id)
             .where(n.c.user_id == caller.principal.user_id,
                    plan.scope.clause(a.c.dataset)).order_by(n.c.id.desc()))
        if unread_only:
            q = q.where(n.c.read_at.is_(None))
        with self.db.read() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings()]
        self._audit(caller, plan, "early_warning.notifications",
                    [(r["id"], r["dataset"]) for r in rows], count=len(rows))
        return [{"id": r["notification_id"], "created_at": r["notified_at"],
                 "read": r["read_at"] is not None, "alert": _alert_dict(r)} for r in rows]

    def mark_read(self, principal: Principal, notification_id: int) -> None:
        with self.db.write() as conn:
            n = conn.execute(sa.update(ew_notification).where(
                ew_notification.c.id == notification_id,
                ew_notification.c.user_id == principal.user_id).values(read_at=_now())).rowcount
        if not n:
            raise NotFound(f"no notification {notification_id}")

    # -- reads ---------------------------------------------------------------------------------

    def alerts(self, caller: Caller, place: str | None = None, neighbours: bool = False,
               open_only: bool = False, limit: int = 200) -> list[dict[str, Any]]:
        plan = self._plan(caller, "early_warning.alerts")
        a, s = ew_alert, ew_series
        q = (sa.select(a, s.c.place, s.c.place_name, s.c.indicator, s.c.substance)
             .join(s, s.c.id == a.c.series_id).where(plan.scope.clause(a.c.dataset))
             .order_by(a.c.peak.desc(), s.c.place))
        if open_only:
            q = q.where(a.c.end.is_(None))
        with self.db.read() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings()]
        if place:
            area = place.upper()
            rows = [r for r in rows if places.covers(area, r["place"], neighbours)]
        rows = rows[:limit]
        self._audit(caller, plan, "early_warning.alerts", [(r["id"], r["dataset"]) for r in rows],
                    place=place, neighbours=neighbours, count=len(rows))
        return [_alert_dict(r) for r in rows]

    def alert_map(self, caller: Caller, indicator: str | None = None) -> list[dict[str, Any]]:
        """Level per place (its open alerts), with states rolled up into countries."""
        plan = self._plan(caller, "early_warning.map")
        with self.db.read() as conn:
            srows = self._series_rows(conn, plan, None if indicator is None
                                      else ew_series.c.indicator == indicator)
            arows = [dict(r) for r in conn.execute(
                sa.select(ew_alert.c.series_id, ew_alert.c.level, ew_alert.c.end)
                .where(plan.scope.clause(ew_alert.c.dataset))).mappings()]
        open_level: dict[str, list[str]] = defaultdict(list)
        for r in arows:
            if r["end"] is None:
                open_level[r["series_id"]].append(r["level"])
        by_place: dict[str, dict[str, Any]] = {}
        for r in srows:
            lv = _level_pick(open_level.get(r["id"], ["blue"]))
            entry = by_place.setdefault(r["place"], {"place": r["place"],
                                                     "name": r["place_name"] or r["place"],
                                                     "levels": [], "series": 0})
            entry["levels"].append(lv)
            entry["series"] += 1
        for p in list(by_place):
            for anc in places.ancestors(p):
                if anc not in by_place:
                    en = places.COUNTRY_NAMES.get(anc, (anc, anc))[0]
                    by_place[anc] = {"place": anc, "name": en, "levels": [], "series": 0,
                                     "rollup": True}
                by_place[anc]["levels"].extend(by_place[p]["levels"])
        out = []
        for p, e in sorted(by_place.items()):
            lv = _level_pick(e["levels"])
            out.append({"place": p, "name": e["name"], "level": lv,
                        "label_en": LEVEL_LABELS[lv][0], "label_es": LEVEL_LABELS[lv][1],
                        "series": e["series"], "rollup": bool(e.get("rollup")),
                        "neighbours": sorted(places.neighbours(p))})
        self._audit(caller, plan, "early_warning.map",
                    [(r["id"], r["dataset"]) for r in srows], indicator=indicator)
        return out

    def series_list(self, caller: Caller, place: str | None = None) -> list[dict[str, Any]]:
        plan = self._plan(caller, "early_warning.series")
        with self.db.read() as conn:
            rows = self._series_rows(conn, plan)
        if place:
            rows = [r for r in rows if places.covers(place.upper(), r["place"])]
        self._audit(caller, plan, "early_warning.series", [(r["id"], r["dataset"]) for r in rows],
                    place=place)
        return [{"id": r["id"], "dataset": r["dataset"], "place": r["place"],
                 "place_name": r["place_name"], "indicator": r["indicator"],
                 "substance": r["substance"], "frequency": r["frequency"]} for r in rows]

    def series_detail(self, caller: Caller, sid: str, algorithm: str = "auto",
                      adjust: bool = True) -> dict[str, Any]:
        """One series with its detection per period; small cells suppressed for readers
        outside the owning agency (aggregate-only view)."""
        plan = self._plan(caller, "early_warning.series")
        with self.db.read() as conn:
            rows = self._series_rows(conn, plan, ew_series.c.id == sid)
            if not rows:
                self.platform.audit.append(AuditEvent(
                    action="early_warning.series", outcome="not_found",
                    actor=caller.principal.username, agency=caller.principal.agency,
                    country=caller.principal.country.value, objects=(ObjectRef(sid),),
                    purpose=caller.context.purpose.value, case_ref=caller.context.case_ref))
                raise NotFound(f"no series {sid!r}")
            row = rows[0]
            s = self._stored_series(conn, row)
        owner = plan.owners.get(row["dataset"])
        aggregate_only = owner is None or owner.agency != caller.principal.agency
        counts = s.adjusted() if adjust else s.counts
        periods: list[dict[str, Any]] = [
            {"period": p.isoformat(), "count": float(counts[i]), "expected": None,
             "upperbound": None, "alarm": None, "level": "grey"}
            for i, p in enumerate(s.periods)]
        used = None
        note = None
        if self.sparse(s):
            note = "sparse series: not assessed"
        else:
            try:
                det = detect(self.choose(algorithm, s, row["frequency"]), counts,
                             row["frequency"], s.periods)
                used = det.algorithm
                for j, (i, lv) in enumerate(zip(det.index, det.levels(counts), strict=True)):
                    periods[i].update(expected=_round(det.expected[j]),
                                      upperbound=_round(det.upperbound[j]),
                                      alarm=bool(det.alarm[j]) if det.defined[j] else None,
                                      level=lv)
            except ValueError as exc:
                note = str(exc)
        suppressed = 0
        if aggregate_only:
            for rec in periods:
                if 0 < rec["count"] < self.min_cell:
                    rec["count"] = None
                    rec["suppressed"] = True
                    suppressed += 1
        self._audit(caller, plan, "early_warning.series", [(sid, row["dataset"])],
                    algorithm=used, suppressed=suppressed)
        return {"id": sid, "dataset": row["dataset"], "place": row["place"],
                "place_name": row["place_name"], "indicator": row["indicator"],
                "substance": row["substance"], "frequency": row["frequency"],
                "algorithm": used, "note": note, "aggregate_only": aggregate_only,
                "min_cell": self.min_cell, "suppressed": suppressed, "periods": periods}

    # -- substance register ------------------------------------------------------------------

    def register_substance(self, caller: Caller, dataset: str, *, name: str,
                           substance_class: str, first_detected: date, place: str,
                           source: str, confidence: str, risk_en: str,
                           risk_es: str) -> dict[str, Any]:
        self._own_dataset(caller, dataset, "early_warning.substance.register")
        check_choice(source, SOURCES, "source")
        check_choice(confidence, CONFIDENCE, "confidence")
        if not name.strip() or not risk_en.strip() or not risk_es.strip():
            raise InvalidInput("a substance needs a name and a risk communication in both "
                               "English and Spanish")
        sid = hashlib.sha1(f"{dataset}|{name.strip().lower()}|{place}".encode()).hexdigest()  # noqa: S324
        row = {"id": sid, "dataset": dataset, "name": name.strip(),
               "substance_class": substance_class, "first_detected": first_detected,
               "place": place.upper(), "source": source, "confidence": confidence,
               "risk_en": risk_en.strip(), "risk_es": risk_es.strip(),
               "created_by": caller.principal.username, "created_at": _now()}
        with self.db.write() as conn:
            if conn.execute(sa.select(ew_substance.c.id).where(ew_substance.c.id == sid)).first():
                conn.execute(sa.update(ew_substance).where(ew_substance.c.id == sid)
                             .values(**{k: v for k, v in row.items() if k != "created_at"}))
            else:
                conn.execute(sa.insert(ew_substance).values(**row))
        self.platform.audit.append(AuditEvent(
            action="early_warning.substance.register", outcome="ok",
            actor=caller.principal.username, agency=caller.principal.agency,
            country=caller.principal.country.value, objects=(ObjectRef(sid, dataset),),
            client=caller.client, detail={"name": name}))
        return _substance_dict({**row, "retracted_at": None, "retraction_reason": None})

    def retract_substance(self, caller: Caller, sid: str, reason: str) -> None:
        with self.db.read() as conn:
            row = conn.execute(sa.select(ew_substance.c.dataset).where(
                ew_substance.c.id == sid)).first()
        if row is None:
            raise NotFound(f"no substance entry {sid!r}")
        self._own_dataset(caller, row.dataset, "early_warning.substance.retract")
        if not reason.strip():
            raise InvalidInput("a retraction needs a reason")
        with self.db.write() as conn:
            conn.execute(sa.update(ew_substance).where(ew_substance.c.id == sid).values(
                retracted_at=_now(), retraction_reason=reason.strip()))
        self.platform.audit.append(AuditEvent(
            action="early_warning.substance.retract", outcome="ok",
            actor=caller.principal.username, agency=caller.principal.agency,
            country=caller.principal.country.value, objects=(ObjectRef(sid, row.dataset),),
            client=caller.client, detail={"reason": reason}))

    def substances(self, caller: Caller, include_retracted: bool = True) -> list[dict[str, Any]]:
        plan = self._plan(caller, "early_warning.substances")
        q = sa.select(ew_substance).where(plan.scope.clause(ew_substance.c.dataset)).order_by(
            ew_substance.c.first_detected.desc())
        if not include_retracted:
            q = q.where(ew_substance.c.retracted_at.is_(None))
        with self.db.read() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings()]
        self._audit(caller, plan, "early_warning.substances",
                    [(r["id"], r["dataset"]) for r in rows], count=len(rows))
        return [_substance_dict(r) for r in rows]


def _round(v: float) -> float | None:
    return None if not np.isfinite(v) else round(float(v), 3)


def episodes(series: Series, det: Detection) -> list[dict[str, Any]]:
    """Runs of consecutive red (or yellow) periods: start, peak (largest count over its
    expected), end (None while the last period still alarms: the alert is open)."""
    counts = series.adjusted()
    levels = det.levels(counts)
    out: list[dict[str, Any]] = []
    run: list[int] = []
    run_level = ""

    def close(ended: bool) -> None:
        if not run:
            return
        ratios = [(counts[det.index[j]] + 1) / ((det.expected[j] if np.isfinite(
            det.expected[j]) else 0) + 1) for j in run]
        pk = run[int(np.argmax(ratios))]
        out.append({"level": run_level, "start": series.periods[det.index[run[0]]],
                    "peak": series.periods[det.index[pk]],
                    "end": series.periods[det.index[run[-1]]] if ended else None,
                    "peak_count": float(counts[det.index[pk]]),
                    "peak_expected": _round(det.expected[pk]),
                    "peak_upperbound": _round(det.upperbound[pk])})

    for j, lv in enumerate(levels):
        if lv in ("red", "yellow"):
            if run and lv != run_level:
                close(True)
                run = []
            run_level = lv
            run.append(j)
        else:
            close(True)
            run = []
    close(False)
    return out


def alert_message(alert: dict[str, Any], series: dict[str, Any]) -> tuple[str, str]:
    """Subject and body of the e-mail for a new alert, in English and Spanish."""
    where = series.get("place_name") or series["place"]
    what = series["indicator"] + (f" ({series['substance']})" if series["substance"] else "")
    en, es = LEVEL_LABELS[alert["level"]]
    subject = f"[{en} / {es}] {what}: {where}"
    body = (f"{en}: {what} in {where} since {alert['start']}; peak {alert['peak_count']:g} "
            f"(expected {alert['peak_expected']}) on {alert['peak']}.\n\n"
            f"{es}: {what} en {where} desde {alert['start']}; máximo {alert['peak_count']:g} "
            f"(esperado {alert['peak_expected']}) el {alert['peak']}.\n")
    return subject, body


def _alert_dict(r: dict[str, Any]) -> dict[str, Any]:
    lv = r["level"]
    d = {"id": r["id"], "dataset": r["dataset"], "series_id": r["series_id"],
         "place": r["place"], "place_name": r["place_name"], "indicator": r["indicator"],
         "substance": r["substance"], "algorithm": r["algorithm"], "level": lv,
         "label_en": LEVEL_LABELS[lv][0], "label_es": LEVEL_LABELS[lv][1],
         "start": r["start"], "peak": r["peak"], "end": r["end"], "open": r["end"] is None,
         "peak_count": r["peak_count"], "peak_expected": r["peak_expected"],
         "peak_upperbound": r["peak_upperbound"]}
    return d


def _substance_dict(r: dict[str, Any]) -> dict[str, Any]:
    return {"id": r["id"], "dataset": r["dataset"], "name": r["name"],
            "substance_class": r["substance_class"], "first_detected": r["first_detected"],
            "place": r["place"], "source": r["source"],
            "source_en": SOURCES[r["source"]][0], "source_es": SOURCES[r["source"]][1],
            "confidence": r["confidence"], "confidence_en": CONFIDENCE[r["confidence"]][0],
            "confidence_es": CONFIDENCE[r["confidence"]][1],
            "risk_en": r["risk_en"], "risk_es": r["risk_es"],
            "retracted": r["retracted_at"] is not None, "retracted_at": r["retracted_at"],
            "retraction_reason": r["retraction_reason"]}
