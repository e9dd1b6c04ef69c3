"""The illicit-finance service: train, alert, work cases, and share them across the border.

Every read goes through the policy decision point: a dataset's transactions and accounts are
read only when ``access.plan(caller, Action.READ)`` puts the dataset in the caller's scope for
the caller's purpose; a dataset outside it is answered exactly like one that does not exist.
Each operation leaves an audit record; reading a case another agency shared writes access
receipts for the owning agency.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import sqlalchemy as sa
from followthemoney import StatementEntity

from binational.core.access import Caller
from binational.core.audit import AuditEvent, ObjectRef
from binational.core.errors import BinationalError, Forbidden, InvalidInput, NotFound
from binational.core.identity import Principal
from binational.core.platform import Platform
from binational.core.policy import Grant, Plan, Privilege
from binational.core.store import utcnow
from binational.core.tables import access_receipt, audit_record
from binational.core.vocab import Action, Purpose, Role, check_choice
from binational.finance.graph import Graph, from_frame
from binational.finance.model import TrainedModel, combine, score_graph, train
from binational.finance.rules import RuleConfig, add_designated, config_for
from binational.finance.tables import (
    finance_account,
    finance_alert,
    finance_case,
    finance_case_event,
    finance_case_share,
    finance_model,
    finance_transaction,
)

CASE_STATUSES = ("open", "escalated", "closed")
MAX_SCREENED = 500  # distinct holder names screened per alert run
TOP_FEATURES = 5  # model features kept with an alert as its explanation
MAX_EXPLAINED = 1_000  # alerts per run whose model score is explained (the best first)
CLOSE_REASONS = ("reported", "no-suspicion", "duplicate", "insufficient-information",
                 "referred")


@dataclass(frozen=True)
class AccountAlert:
    dataset: str
    account: str
    entity_id: str
    score: float
    rule_score: float
    model_score: float | None
    flagged: bool
    reasons: list[dict[str, Any]]
    """Each rule that fired: rule, text, text_es (the model's also its top ``features``)."""

    def summary(self) -> dict[str, Any]:
        """The shape ``finance alerts --json`` prints."""
        return {"account": self.account, "score": round(self.score, 4),
                "flagged": self.flagged, "reasons": [r["text"] for r in self.reasons]}

    def as_dict(self) -> dict[str, Any]:
        return {"id": alert_id(self.account, self.dataset), "account": self.account,
                "entity_id": self.entity_id, "score": round(self.score, 4),
                "rule_score": round(self.rule_score, 4),
                "model_score": None if self.model_score is None else round(self.model_score, 4),
                "flagged": self.flagged, "reasons": self.reasons}


@dataclass
class DatasetGraph:
    dataset: str
    graph: Graph
    entity_ids: list[str]
    labels: np.ndarray[Any, np.dtype[np.int8]]  # 1 suspicious, 0 ordinary, -1 unknown
    holders: list[str | None]  # the holder's name of each account, when known


def _top_features(trained: TrainedModel, names: list[str], x: np.ndarray[Any, Any],
                  rows: np.ndarray[Any, Any], top: int = TOP_FEATURES
                  ) -> dict[int, list[dict[str, Any]]]:
    """Row -> the features that moved the model's score of that account most (LightGBM's
    per-feature contributions, in log-odds), kept with the alert so the explanation is the
    one of the score it explains."""
    if not len(rows):
        return {}
    contrib = np.asarray(trained.booster.predict(x[rows], pred_contrib=True))[:, :-1]
    out: dict[int, list[dict[str, Any]]] = {}
    for k, i in enumerate(rows.tolist()):
        order = np.argsort(-np.abs(contrib[k]), kind="stable")[:top]
        out[i] = [{"feature": names[j], "value": round(float(x[i, j]), 6),
                   "contribution": round(float(contrib[k, j]), 6)} for j in order.tolist()]
    return out


def alert_id(account: str, dataset: str = "") -> str:
    return "al_" + hashlib.sha1(f"{dataset}\x00{account}".encode()).hexdigest()[:16]  # noqa: S324


class Finance:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    # -- reading a dataset ------------------------------------------------------------------

    def _plan(self, caller: Caller, event: str, action: Action = Action.READ, **detail: Any
              ) -> Plan:
        try:
            return self.platform.access.plan(caller, action)
        except BinationalError as exc:
            self.platform.access.record_failure(caller, event, exc, **detail)
            raise

    def _readable(self, caller: Caller, plan: Plan, dataset: str, event: str) -> None:
        if not plan.scope.contains(dataset):
            exc = NotFound(f"no dataset {dataset!r}")
            self.platform.access.record_failure(caller, event, exc, dataset=dataset)
            raise exc

    def load(self, dataset: str) -> DatasetGraph:
        """The dataset's graph (call after the policy check)."""
        db = self.platform.db
        a, tx = finance_account, finance_transaction
        with db.read() as conn:
            acc = conn.execute(sa.select(a.c.account, a.c.entity_id, a.c.holder, a.c.is_fraud)
                               .where(a.c.dataset == dataset).order_by(a.c.line)).all()
            rows = conn.execute(sa.select(tx.c.source, tx.c.target, tx.c.amount_usd, tx.c.ts,
                                          tx.c.channel, tx.c.location)
                                .where(tx.c.dataset == dataset)).all()
        if not acc:
            raise InvalidInput(f"dataset {dataset} holds no accounts or transactions yet: "
                               "ingest them first (binational ingest amlsim DIR --dataset "
                               f"{dataset})")
        frame = pl.DataFrame(rows, schema={"source": pl.Utf8, "target": pl.Utf8,
                                           "amount_usd": pl.Float64, "ts": pl.Int64,
                                           "channel": pl.Utf8, "location": pl.Utf8},
                             orient="row")
        names = [r[0] for r in acc]
        holders = {r[0]: r[2] for r in acc if r[2]}
        g = from_frame(frame, names, holders)
        label = {r[0]: (-1 if r[3] is None else int(bool(r[3]))) for r in acc}
        labels = np.array([label.get(str(x), -1) for x in g.accounts], dtype=np.int8)
        ids = {r[0]: r[1] for r in acc}
        return DatasetGraph(dataset, g, [ids.get(str(x), "") for x in g.accounts], labels,
                            [holders.get(str(x)) for x in g.accounts])

    # -- training -----------------------------------------------------------------------------

    def train(self, caller: Caller, datasets: Sequence[str],
              jurisdiction: str | None = None) -> dict[str, Any]:
        """Fit a model on the known outcomes of ``datasets``; stored for the caller's agency."""
        if not datasets:
            raise InvalidInput("name at least one dataset to train on")
        plan = self._plan(caller, "finance.train", datasets=list(datasets))
        for ds in datasets:
            self._readable(caller, plan, ds, "finance.train")
        cfg = self._config(caller, jurisdiction)
        xs, ys, rs, ids = [], [], [], []
        names: list[str] = []
        for ds in datasets:
            dg = self.load(ds)
            scored = score_graph(dg.graph, cfg)
            known = dg.labels >= 0
            names = scored.names
            xs.append(scored.features[known])
            ys.append(dg.labels[known] == 1)
            rs.append(scored.rules.score[known])
            ids += [f"{ds}:{a}" for a in dg.graph.accounts[known].tolist()]
        if not ids:
            raise InvalidInput("these datasets hold no known outcomes to learn from")
        trained = train(np.vstack(xs), np.concatenate(ys), np.concatenate(rs), names, ids)
        model_id = f"fm_{secrets.token_hex(8)}"
        metrics = {**trained.metrics, "jurisdiction": cfg.jurisdiction}
        with self.platform.db.write() as conn:
            conn.execute(sa.insert(finance_model).values(
                id=model_id, agency=caller.principal.agency, datasets=list(datasets),
                features=names, threshold=trained.threshold,
                booster=trained.booster.model_to_string(),
                metrics={**metrics, "combined_threshold": trained.combined_threshold},
                created_by=caller.principal.username, created_at=utcnow()))
        self.platform.access.record_results(caller, plan, Action.READ, "finance.train", [],
                                            model=model_id, datasets=list(datasets), **metrics)
        return {"model": model_id, "agency": caller.principal.agency,
                "datasets": list(datasets), "threshold": round(trained.threshold, 4),
                "combined_threshold": round(trained.combined_threshold, 4), **metrics}

    def latest_model(self, agency: str, model_id: str | None = None) -> TrainedModel | None:
        import lightgbm as lgb

        m = finance_model
        q = sa.select(m).where(m.c.agency == agency)
        q = q.where(m.c.id == model_id) if model_id else q.order_by(m.c.created_at.desc())
        with self.platform.db.read() as conn:
            row = conn.execute(q.limit(1)).mappings().first()
        if row is None:
            if model_id:
                raise NotFound(f"no model {model_id!r} of agency {agency}")
            return None
        booster = lgb.Booster(model_str=row["booster"])
        metrics = dict(row["metrics"])
        return TrainedModel(booster, list(row["features"]), float(row["threshold"]),
                            float(metrics.get("combined_threshold", row["threshold"])),
                            {**metrics, "id": row["id"]})

    def _config(self, caller: Caller, jurisdiction: str | None) -> RuleConfig:
        return config_for(jurisdiction or caller.principal.country.value)

    # -- alerts -------------------------------------------------------------------------------

    def alerts(self, caller: Caller, dataset: str, *, jurisdiction: str | None = None,
               model_id: str | None = None, use_model: bool = True) -> list[AccountAlert]:
        """Score every account of ``dataset`` (best first) and keep the flagged ones as the
        dataset's current alerts."""
        plan = self._plan(caller, "finance.alerts", dataset=dataset)
        self._readable(caller, plan, dataset, "finance.alerts")
        cfg = self._config(caller, jurisdiction)
        dg = self.load(dataset)
        scored = score_graph(dg.graph, cfg)
        add_designated(scored.rules, cfg, self._designated(caller, dg))
        trained = self.latest_model(caller.principal.agency, model_id) if use_model else None
        rule_score = scored.rules.score
        if trained is not None:
            if trained.names != scored.names:
                raise InvalidInput(f"model {trained.metrics.get('id')} was trained on other "
                                   "features; train it again")
            p = trained.predict(scored.features)
            score = combine(p, rule_score)
            flagged = score >= trained.combined_threshold
        else:
            p = None
            score = rule_score
            flagged = score >= cfg.flag_at
        out: list[AccountAlert] = []
        why: dict[int, list[dict[str, Any]]] = {}
        if trained is not None and p is not None:
            # Contributions cost about 1.4 ms of CPU per account: the best-scored ones only.
            rows = np.flatnonzero(flagged & (p >= trained.threshold))
            rows = rows[np.argsort(-score[rows], kind="stable")[:MAX_EXPLAINED]]
            why = _top_features(trained, scored.names, scored.features, rows)
        for i, account in enumerate(dg.graph.accounts.tolist()):
            reasons: list[dict[str, Any]] = [r.as_dict() for r in scored.rules.reasons[i]]
            if trained is not None and p is not None and p[i] >= trained.threshold:
                reasons.append({"rule": "model",
                                "text": f"learned model score {p[i]:.2f} (model "
                                        f"{trained.metrics.get('id')})",
                                "text_es": f"puntaje del modelo aprendido {p[i]:.2f}",
                                "features": why.get(i, [])})
            out.append(AccountAlert(dataset, account, dg.entity_ids[i], float(score[i]),
                                    float(rule_score[i]), None if p is None else float(p[i]),
                                    bool(flagged[i]), reasons))
        out.sort(key=lambda a: (-a.score, a.account))
        self._keep(dataset, [a for a in out if a.flagged],
                   None if trained is None else str(trained.metrics.get("id")))
        flagged_entities = self._foreign_entities(caller, plan, dataset,
                                                  [a.entity_id for a in out if a.flagged])
        self.platform.access.record_results(
            caller, plan, Action.READ, "finance.alerts", flagged_entities, dataset=dataset,
            accounts=len(out), flagged=sum(a.flagged for a in out),
            model=None if trained is None else trained.metrics.get("id"))
        return out

    def _designated(self, caller: Caller, dg: DatasetGraph) -> dict[int, str]:
        """Accounts whose holder, or a counterparty's holder, matches a designation list the
        caller may search (through screening's Screener, when that capability is installed):
        account index -> who. Screened once per distinct holder name, at most MAX_SCREENED."""
        names = sorted({h for h in dg.holders if h})
        if not names:
            return {}
        try:
            from binational.screening import Query, Screener
        except ImportError:  # screening is another capability; finance works without it
            return {}
        names = names[:MAX_SCREENED]
        queries = [Query(name=n) for n in names]
        hits = {name: found[0].caption for name, found in zip(
            names, Screener(self.platform).screen_many(caller, queries, limit=1), strict=True)
            if found and found[0].match}
        if not hits:
            return {}
        g = dg.graph
        listed = np.array([bool(h and h in hits) for h in dg.holders], dtype=bool)
        out: dict[int, str] = {}
        for i in np.flatnonzero(listed).tolist():
            holder = dg.holders[i] or ""
            out[i] = f"its holder {holder} (listed as {hits[holder]})"
        for a, b in ((g.src, g.dst), (g.dst, g.src)):
            for i, j in zip(a[listed[b]].tolist(), b[listed[b]].tolist(), strict=True):
                holder = dg.holders[j] or ""
                out.setdefault(i, f"account {g.accounts[j]} of {holder} (listed as "
                                  f"{hits[holder]})")
        return out

    def _foreign_entities(self, caller: Caller, plan: Plan, dataset: str,
                          ids: list[str]) -> list[StatementEntity]:
        """Entities to audit with receipts when the dataset belongs to another agency."""
        owner = plan.owners.get(dataset)
        if owner is None or owner.agency == caller.principal.agency or not ids:
            return []
        return self.platform.store.view(plan.scope.restrict([dataset])).get_entities(ids)

    def _keep(self, dataset: str, flagged: list[AccountAlert], model_id: str | None) -> None:
        now = utcnow()
        with self.platform.db.write() as conn:
            conn.execute(sa.delete(finance_alert).where(finance_alert.c.dataset == dataset))
            if flagged:
                conn.execute(sa.insert(finance_alert), [
                    {"dataset": dataset, "id": alert_id(a.account, dataset),
                     "account": a.account, "score": a.score, "rule_score": a.rule_score,
                     "model_score": a.model_score, "reasons": a.reasons,
                     "model_id": model_id, "created_at": now} for a in flagged])

    def stored_alerts(self, caller: Caller, dataset: str | None = None,
                      limit: int = 100) -> list[dict[str, Any]]:
        """The current alerts of the datasets the caller may read."""
        plan = self._plan(caller, "finance.alerts.list")
        al = finance_alert
        q = sa.select(al).where(plan.scope.clause(al.c.dataset))
        if dataset:
            q = q.where(al.c.dataset == dataset)
        q = q.order_by(al.c.score.desc(), al.c.account).limit(limit)
        with self.platform.db.read() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings()]
        self.platform.access.record_results(caller, plan, Action.READ, "finance.alerts.list",
                                            [], dataset=dataset, results=len(rows))
        return [{**r, "created_at": r["created_at"].isoformat()} for r in rows]

    def stored_alert(self, caller: Caller, alert: str) -> dict[str, Any]:
        """One current alert of a dataset the caller may read (else: as if none existed)."""
        plan = self._plan(caller, "finance.alert.read", alert=alert)
        al = finance_alert
        with self.platform.db.read() as conn:
            found = conn.execute(sa.select(al).where(al.c.id == alert,
                                                     plan.scope.clause(al.c.dataset))
                                 ).mappings().first()
        if found is None:
            exc = NotFound(f"no alert {alert!r}")
            self.platform.access.record_failure(caller, "finance.alert.read", exc, alert=alert)
            raise exc
        row = dict(found)
        ids = [r[0] for r in self._account_ids(row["dataset"], [row["account"]])]
        self.platform.access.record_results(
            caller, plan, Action.READ, "finance.alert.read",
            self._foreign_entities(caller, plan, row["dataset"], ids), alert=alert,
            dataset=row["dataset"], account=row["account"])
        return {**row, "created_at": row["created_at"].isoformat()}

    def _account_ids(self, dataset: str, accounts: list[str]) -> list[Any]:
        a = finance_account
        with self.platform.db.read() as conn:
            return list(conn.execute(sa.select(a.c.entity_id).where(
                a.c.dataset == dataset, a.c.account.in_(accounts))))

    def account_transactions(self, caller: Caller, dataset: str, account: str,
                             limit: int = 1_000) -> list[dict[str, Any]]:
        """The transactions of one account (either side), oldest first."""
        plan = self._plan(caller, "finance.transactions", dataset=dataset, account=account)
        self._readable(caller, plan, dataset, "finance.transactions")
        tx = finance_transaction
        with self.platform.db.read() as conn:
            rows = [dict(r) for r in conn.execute(
                sa.select(tx.c.txn_id, tx.c.source, tx.c.target, tx.c.amount, tx.c.currency,
                          tx.c.amount_usd, tx.c.ts, tx.c.channel, tx.c.location)
                .where(tx.c.dataset == dataset,
                       sa.or_(tx.c.source == account, tx.c.target == account))
                .order_by(tx.c.ts, tx.c.txn_id).limit(limit)).mappings()]
        ids = [r[0] for r in self._account_ids(dataset, [account])]
        self.platform.access.record_results(
            caller, plan, Action.READ, "finance.transactions",
            self._foreign_entities(caller, plan, dataset, ids), dataset=dataset,
            account=account, transactions=len(rows))
        return rows

    # -- cases --------------------------------------------------------------------------------

    def open_case(self, caller: Caller, dataset: str, *, alert: str | None = None,
                  account: str | None = None, title: str | None = None,
                  narrative: str = "") -> dict[str, Any]:
        plan = self._plan(caller, "finance.case.open", dataset=dataset)
        self._readable(caller, plan, dataset, "finance.case.open")
        owner = plan.owners[dataset]
        if owner.agency != caller.principal.agency:
            raise NotFound(f"no dataset {dataset!r}")  # cases are opened on one's own data
        al = finance_alert
        with self.platform.db.read() as conn:
            q = sa.select(al).where(al.c.dataset == dataset)
            q = q.where(al.c.id == alert) if alert else q.where(al.c.account == (account or ""))
            row = conn.execute(q).mappings().first()
        if row is None and alert:
            raise NotFound(f"no alert {alert!r} in dataset {dataset}")
        if row is None and account is None:
            raise InvalidInput("open a case from an alert (--alert) or an account (--account)")
        acct = str(row["account"]) if row else str(account)
        if row is None and not self._has_account(dataset, acct):
            raise NotFound(f"no account {acct!r} in dataset {dataset}")
        case_id = f"fc_{secrets.token_hex(8)}"
        now = utcnow()
        values = {"dataset": dataset, "id": case_id, "agency": caller.principal.agency,
                  "title": (title or f"Account {acct}").strip()[:255],
                  "alert_id": row["id"] if row else None, "accounts": [acct],
                  "reasons": list(row["reasons"]) if row else [], "status": "open",
                  "assignee": None, "narrative": narrative, "close_reason": None,
                  "created_by": caller.principal.username, "created_at": now,
                  "updated_at": now}
        with self.platform.db.write() as conn:
            conn.execute(sa.insert(finance_case).values(**values))
            self._event(conn, dataset, case_id, caller, "open",
                        {"alert": values["alert_id"], "account": acct})
        self._audit(caller, "finance.case.open", case_id, dataset, account=acct)
        return self.case(caller, case_id)

    def _has_account(self, dataset: str, account: str) -> bool:
        a = finance_account
        with self.platform.db.read() as conn:
            return conn.execute(sa.select(a.c.account).where(
                a.c.dataset == dataset, a.c.account == account)).first() is not None

    def _event(self, conn: sa.Connection, dataset: str, case_id: str, caller: Caller,
               kind: str, detail: dict[str, Any]) -> None:
        conn.execute(sa.insert(finance_case_event).values(
            dataset=dataset, case_id=case_id, ts=utcnow(),
            actor=f"{caller.principal.agency}:{caller.principal.username}", kind=kind,
            detail=detail))

    def _audit(self, caller: Caller, action: str, case_id: str, dataset: str,
               **detail: Any) -> None:
        p = caller.principal
        info = self.platform.catalog.get(dataset)
        self.platform.audit.append(AuditEvent(
            action=action, outcome="ok", actor=p.username, agency=p.agency,
            country=p.country.value,
            objects=(ObjectRef(case_id, dataset, info.agency, info.country.value),),
            purpose=caller.context.purpose.value, case_ref=caller.context.case_ref,
            request_id=caller.request_id, client=caller.client, detail=detail))

    def _own_case(self, caller: Caller, case_id: str, event: str) -> dict[str, Any]:
        with self.platform.db.read() as conn:
            row = conn.execute(sa.select(finance_case).where(finance_case.c.id == case_id)
                               ).mappings().first()
        if row is None or row["agency"] != caller.principal.agency:
            exc = NotFound(f"no case {case_id!r}")
            self.platform.access.record_failure(caller, event, exc, case=case_id)
            raise exc
        return dict(row)

    def _update(self, caller: Caller, case_id: str, kind: str, detail: dict[str, Any],
                **values: Any) -> dict[str, Any]:
        row = self._own_case(caller, case_id, f"finance.case.{kind}")
        if row["status"] == "closed" and kind != "annotate":
            raise InvalidInput(f"case {case_id} is closed")
        with self.platform.db.write() as conn:
            if values:
                conn.execute(sa.update(finance_case).where(finance_case.c.id == case_id)
                             .values(updated_at=utcnow(), **values))
            self._event(conn, row["dataset"], case_id, caller, kind, detail)
        self._audit(caller, f"finance.case.{kind}", case_id, row["dataset"], **detail)
        return self.case(caller, case_id)

    def assign(self, caller: Caller, case_id: str, username: str) -> dict[str, Any]:
        try:
            user = self.platform.identity.principal(username)
        except BinationalError:
            raise NotFound(f"no user {username!r}") from None
        if user.agency != caller.principal.agency:
            raise InvalidInput(f"{username} is not in {caller.principal.agency}: a case is "
                               "worked inside its agency (share it to hand it over)")
        return self._update(caller, case_id, "assign", {"assignee": username},
                            assignee=username)

    def annotate(self, caller: Caller, case_id: str, note: str) -> dict[str, Any]:
        if not note.strip():
            raise InvalidInput("a note needs some text")
        row = self._own_case(caller, case_id, "finance.case.annotate")
        narrative = (row["narrative"] + "\n\n" if row["narrative"] else "") + note.strip()
        return self._update(caller, case_id, "annotate", {"note": note.strip()},
                            narrative=narrative)

    def escalate(self, caller: Caller, case_id: str, note: str = "") -> dict[str, Any]:
        return self._update(caller, case_id, "escalate", {"note": note}, status="escalated")

    def close(self, caller: Caller, case_id: str, reason: str, note: str = "") -> dict[str, Any]:
        check_choice(reason, CLOSE_REASONS, "close reason")
        return self._update(caller, case_id, "close", {"reason": reason, "note": note},
                            status="closed", close_reason=reason)

    def case(self, caller: Caller, case_id: str) -> dict[str, Any]:
        """A case of the caller's agency, with its history and shares."""
        row = self._own_case(caller, case_id, "finance.case.read")
        return self._case_dict(row)

    def _case_dict(self, row: dict[str, Any], with_shares: bool = True) -> dict[str, Any]:
        ev, sh = finance_case_event, finance_case_share
        with self.platform.db.read() as conn:
            events = [dict(r) for r in conn.execute(
                sa.select(ev.c.ts, ev.c.actor, ev.c.kind, ev.c.detail)
                .where(ev.c.case_id == row["id"]).order_by(ev.c.id)).mappings()]
            shares = [dict(r) for r in conn.execute(
                sa.select(sh.c.id, sh.c.recipient_agency, sh.c.grant_id, sh.c.shared_by,
                          sh.c.shared_at).where(sh.c.case_id == row["id"])).mappings()]
        out = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
        out["status_es"] = {"open": "abierto", "escalated": "escalado",
                            "closed": "cerrado"}[row["status"]]
        out["events"] = [{**e, "ts": e["ts"].isoformat()} for e in events]
        if with_shares:
            out["shares"] = [{**s, "shared_at": s["shared_at"].isoformat()} for s in shares]
        return out

    def cases(self, caller: Caller, status: str | None = None) -> list[dict[str, Any]]:
        c = finance_case
        q = sa.select(c).where(c.c.agency == caller.principal.agency)
        if status:
            check_choice(status, CASE_STATUSES, "status")
            q = q.where(c.c.status == status)
        with self.platform.db.read() as conn:
            rows = [dict(r) for r in conn.execute(q.order_by(c.c.created_at.desc()))
                    .mappings()]
        return [self._case_dict(r, with_shares=False) for r in rows]

    # -- exchange with the other country's FIU -------------------------------------------------

    def share_grants(self, caller: Caller, case_id: str) -> list[tuple[str, Grant]]:
        """(recipient agency, grant) pairs a case may be shared under: live grants of the
        case's owner that open its whole dataset (transactions are not entities of a schema)
        for reading with the purpose illicit-finance."""
        row = self._own_case(caller, case_id, "finance.case.share_grants")
        now = utcnow()
        agencies = [a for a in self.platform.identity.agencies() if a.code != row["agency"]]
        out: list[tuple[str, Grant]] = []
        for g in self.platform.policy.grants(caller.principal):
            if (g.owner_agency != row["agency"] or g.status(now) != "live"
                    or row["dataset"] not in g.datasets or Action.READ not in g.actions
                    or Purpose.ILLICIT_FINANCE not in g.purposes
                    or g.schemata is not None):  # a package holds more than entities
                continue
            out += [(a.code, g) for a in agencies if a.code == g.recipient_agency
                    or (g.recipient_agency is None and a.country == g.recipient_country)]
        return sorted(out, key=lambda x: (x[0], -x[1].expires_at.timestamp()))

    def share(self, caller: Caller, case_id: str, recipient: str,
              grant_id: str | None = None) -> dict[str, Any]:
        """Hand a case to another agency under a live grant of the case's dataset to it, for
        reading with the purpose illicit-finance (``grant_id``: that grant, which must be
        one of ``share_grants``). Without such a grant: refused."""
        row = self._own_case(caller, case_id, "finance.case.share")
        recipient = recipient.strip().upper()
        try:
            agency = self.platform.identity.get_agency(recipient)
        except NotFound:
            raise NotFound(f"no agency {recipient!r}") from None
        if agency.code == caller.principal.agency:
            raise InvalidInput("a case is shared with another agency, not one's own")
        them = Principal(username="-", agency=agency.code, country=agency.country,
                         role=Role.ANALYST, via="share-check")
        plan = self.platform.policy.plan(them, Action.READ, Purpose.ILLICIT_FINANCE)
        grant = plan.grant_for(row["dataset"]) if plan.scope.contains(row["dataset"]) else None
        if grant is not None and grant_id is not None:
            usable = {g.id for code, g in self.share_grants(caller, case_id)
                      if code == agency.code}
            grant = grant_id if grant_id in usable else None
        if grant is None:
            exc = Forbidden(
                f"{caller.principal.agency} has no live grant of dataset {row['dataset']} to "
                f"{agency.code} for reading with the purpose illicit-finance; create one "
                "first (binational grant create ...)")
            self.platform.access.record_failure(caller, "finance.case.share", exc,
                                                case=case_id, recipient=agency.code)
            raise exc
        share_id = f"fs_{secrets.token_hex(8)}"
        with self.platform.db.write() as conn:
            conn.execute(sa.insert(finance_case_share).values(
                id=share_id, dataset=row["dataset"], case_id=case_id,
                recipient_agency=agency.code, grant_id=grant,
                shared_by=f"{caller.principal.agency}:{caller.principal.username}",
                shared_at=utcnow()))
            self._event(conn, row["dataset"], case_id, caller, "share",
                        {"recipient": agency.code, "grant": grant})
        self._audit(caller, "finance.case.share", case_id, row["dataset"],
                    recipient=agency.code, grant=grant, share=share_id)
        return {"share": share_id, "case": case_id, "recipient": agency.code, "grant": grant}

    def case_receipts(self, caller: Caller, case_id: str, limit: int = 200
                      ) -> list[dict[str, Any]]:
        """The access receipts of the reads of this case's package by other agencies: shown
        to the owning agency's users who may read receipts (as on the grants page)."""
        try:
            self.platform.policy.require(caller.principal, Privilege.READ_RECEIPTS)
        except Forbidden as exc:
            self.platform.access.record_failure(caller, "finance.case.receipts", exc,
                                                case=case_id)
            raise
        row = self._own_case(caller, case_id, "finance.case.receipts")
        r, a = access_receipt, audit_record
        with self.platform.db.read() as conn:
            found = conn.execute(
                sa.select(r, a.c.detail).join(a, a.c.seq == r.c.audit_seq)
                .where(r.c.owner_agency == row["agency"], r.c.dataset == row["dataset"],
                       a.c.action == "finance.case.package")
                .order_by(r.c.id.desc())).mappings().all()
        out = [{k: v for k, v in x.items() if k != "detail"} for x in found
               if (x["detail"] or {}).get("case") == case_id][:limit]
        self._audit(caller, "finance.case.receipts", case_id, row["dataset"], count=len(out))
        return out

    def _visible_shares(self, caller: Caller, plan: Plan) -> dict[str, str]:
        """Case id -> grant, for cases shared with the caller's agency whose dataset the
        caller may still read for the purpose illicit-finance, the purpose of every share (a
        revoked grant closes the case to it; a query for another purpose sees nothing)."""
        if caller.context.purpose != Purpose.ILLICIT_FINANCE:
            return {}
        sh = finance_case_share
        with self.platform.db.read() as conn:
            rows = conn.execute(sa.select(sh.c.case_id, sh.c.dataset, sh.c.grant_id).where(
                sh.c.recipient_agency == caller.principal.agency)).all()
        # The grant the case was shared under must still be live (another grant of the same
        # dataset does not keep a case open whose own grant was revoked).
        live = {g.id for g in self.platform.policy.live_grants(caller.principal)}
        return {r[0]: r[2] for r in rows if plan.scope.contains(r[1]) and r[2] in live}

    def shared_with_me(self, caller: Caller) -> list[dict[str, Any]]:
        plan = self._plan(caller, "finance.case.shared")
        visible = self._visible_shares(caller, plan)
        if not visible:
            return []
        with self.platform.db.read() as conn:
            rows = [dict(r) for r in conn.execute(sa.select(
                finance_case.c.id, finance_case.c.title, finance_case.c.dataset,
                finance_case.c.agency, finance_case.c.status, finance_case.c.created_at)
                .where(finance_case.c.id.in_(sorted(visible)))).mappings()]
        return [{**r, "created_at": r["created_at"].isoformat(), "grant": visible[r["id"]]}
                for r in rows]

    def package(self, caller: Caller, case_id: str, max_transactions: int = 5_000
                ) -> dict[str, Any]:
        """A case as a package: the case and narrative, the accounts' entities and their
        transactions. For the owner, or for an agency it was shared with (while the grant
        holds); the read is audited, with receipts to the owner for shared records."""
        plan = self._plan(caller, "finance.case.package", case=case_id)
        with self.platform.db.read() as conn:
            found = conn.execute(sa.select(finance_case).where(finance_case.c.id == case_id)
                                 ).mappings().first()
        row = None if found is None else dict(found)
        own = row is not None and row["agency"] == caller.principal.agency
        shared = row is not None and not own and case_id in self._visible_shares(caller, plan)
        if row is None or not (own or shared) or not plan.scope.contains(row["dataset"]):
            exc = NotFound(f"no case {case_id!r}")
            self.platform.access.record_failure(caller, "finance.case.package", exc,
                                                case=case_id)
            raise exc
        dataset = row["dataset"]
        accounts = list(row["accounts"])
        a, tx = finance_account, finance_transaction
        with self.platform.db.read() as conn:
            ids = [r[0] for r in conn.execute(sa.select(a.c.entity_id).where(
                a.c.dataset == dataset, a.c.account.in_(accounts)))]
            txns = [dict(r) for r in conn.execute(
                sa.select(tx.c.txn_id, tx.c.source, tx.c.target, tx.c.amount, tx.c.currency,
                          tx.c.amount_usd, tx.c.ts, tx.c.channel, tx.c.location)
                .where(tx.c.dataset == dataset, plan.scope.clause(tx.c.dataset),
                       sa.or_(tx.c.source.in_(accounts), tx.c.target.in_(accounts)))
                .order_by(tx.c.ts, tx.c.txn_id).limit(max_transactions)).mappings()]
        entities = self.platform.store.view(plan.scope.restrict([dataset])).get_entities(ids)
        case = self._case_dict(row, with_shares=own)
        self.platform.access.record_results(
            caller, plan, Action.READ, "finance.case.package", entities, case=case_id,
            owner=row["agency"], transactions=len(txns))
        return {"case": case, "narrative": row["narrative"], "owner": row["agency"],
                "entities": [e.to_dict() for e in entities], "transactions": txns}
