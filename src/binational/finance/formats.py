"""Ingest formats of transaction data: AMLSim sample folders and transaction CSV/Parquet files.

Accounts become FtM ``BankAccount`` entities through the core ingest (one per account, owned by
the dataset's agency); transactions and the accounts' known outcomes go to the capability's
own tables (``finance_transaction``, ``finance_account``), written by the ``after_ingest``
hook once the core ingest has committed, from the same validated frame (kept from the parse,
or read again if this process did not parse it).

Every bad row is reported with its file and line and left out: negative or non-numeric
amounts, unknown currencies, times that are not times or go backwards in a time-ordered
file, repeated transaction ids, self-loops, and transactions of accounts the file does not
list. Nothing is dropped silently.

Files are read whole with polars (all columns as text, then checked column-wise): line
numbers are the row's position plus the header line, which holds because these formats have
no quoted multi-line fields.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa
import structlog
import yaml
from followthemoney import model
from followthemoney.namespace import Namespace

from binational.core import tables as t
from binational.core.db import Database
from binational.core.errors import InvalidInput
from binational.core.ingest import Format, Item, Parsed, RowError, register_format
from binational.finance.graph import DAY
from binational.finance.tables import finance_account, finance_transaction

log = structlog.get_logger(__name__)

# AMLSim counts time in steps of one day; its sample outputs date step 0 to 2017-01-01.
AMLSIM_EPOCH = int(datetime(2017, 1, 1, tzinfo=UTC).timestamp())
# US dollars per unit, for amounts compared with thresholds set in dollars. Indicative rates;
# a deployment sets its own (``RuleConfig.usd_rates``). A currency missing here is unknown.
USD_RATES: dict[str, float] = {"USD": 1.0, "MXN": 0.055, "EUR": 1.08, "CAD": 0.73,
                               "GBP": 1.27, "CNY": 0.14, "COP": 0.00025, "GTQ": 0.13}
CHANNELS = frozenset({"transfer", "wire", "cash-deposit", "cash-withdrawal", "check", "card"})
ID_MAX = 128
PLAIN_ID = re.compile(r"^[0-9A-Za-z]([0-9A-Za-z.\-]*[0-9A-Za-z])?$")
TXN_COLUMNS = ("txn_id", "source", "target", "amount", "currency", "amount_usd", "ts",
               "channel", "location", "line")


@dataclass
class Loaded:
    """A validated input: accounts and transactions as frames, and the bad rows."""

    accounts: pl.DataFrame  # account, holder, is_fraud, line
    transactions: pl.DataFrame  # TXN_COLUMNS
    errors: list[tuple[str, int, str]] = field(default_factory=list)  # file, line, message


def account_entity_id(account: str) -> str:
    return f"acct-{account}"


def signed_account_id(dataset: str, account: str) -> str:
    plain = account_entity_id(account)
    return f"{plain}.{Namespace(dataset).signature(plain)}"


# -- validation ---------------------------------------------------------------------------


def _read_text_csv(path: Path, required: tuple[str, ...]) -> pl.DataFrame:
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        raise InvalidInput(f"{path}: not a readable CSV file: {str(exc).splitlines()[0]}"
                           ) from None
    frame = frame.rename({c: c.strip() for c in frame.columns})
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InvalidInput(f"{path}: missing column(s) {', '.join(missing)} (found: "
                           f"{', '.join(frame.columns) or 'none'})")
    return frame.with_row_index("line", offset=2).with_columns(pl.col("line").cast(pl.Int64))


def check_transactions(frame: pl.DataFrame, file: str, known_accounts: pl.Series | None,
                       rates: Mapping[str, float] = USD_RATES, ordered: bool = True
                       ) -> tuple[pl.DataFrame, list[tuple[str, int, str]]]:
    """Validate a normalised frame of text columns (txn_id, source, target, amount, currency,
    ts as epoch seconds or null when unreadable, ts_raw, channel, location, line).
    Returns the good rows (TXN_COLUMNS, typed) and the errors, one per bad row."""
    f = frame.with_columns(
        pl.col("amount").str.strip_chars().cast(pl.Float64, strict=False).alias("_amount"),
        pl.col("currency").str.strip_chars().str.to_uppercase().alias("currency"),
        pl.col("source").str.strip_chars(), pl.col("target").str.strip_chars(),
        pl.col("txn_id").str.strip_chars(),
    )
    rate = pl.col("currency").replace_strict(dict(rates), default=None,
                                             return_dtype=pl.Float64)
    # cum_max leaves nulls where a time is unreadable: carry the maximum over them.
    prev_max = pl.col("ts").cum_max().forward_fill().shift(1)
    first_line = pl.col("line").first().over("txn_id")
    problems: list[pl.Expr] = [
        pl.when(pl.col("txn_id").is_null() | (pl.col("txn_id") == ""))
        .then(pl.lit("no transaction id")),
        pl.when(pl.col("txn_id").str.len_chars() > ID_MAX)
        .then(pl.lit(f"transaction id longer than {ID_MAX} characters")),
        pl.when(pl.col("txn_id").is_duplicated() & (pl.col("line") != first_line))
        .then(pl.format("duplicate transaction id {} (first at line {})", pl.col("txn_id"),
                        first_line)),
        pl.when(pl.col("source").is_null() | (pl.col("source") == ""))
        .then(pl.lit("no source account")),
        pl.when(pl.col("target").is_null() | (pl.col("target") == ""))
        .then(pl.lit("no target account")),
        pl.when(pl.col("source") == pl.col("target"))
        .then(pl.format("self-loop: account {} pays itself", pl.col("source"))),
        pl.when(pl.col("_amount").is_null() | pl.col("_amount").is_nan()
                | pl.col("_amount").is_infinite())
        .then(pl.format("amount {} is not a number", pl.col("amount").fill_null("(empty)"))),
        pl.when(pl.col("_amount") < 0)
        .then(pl.format("negative amount {}", pl.col("amount"))),
        pl.when(rate.is_null())
        .then(pl.format("unknown currency {}", pl.col("currency").fill_null("(empty)"))),
        pl.when(pl.col("ts").is_null())
        .then(pl.format("time {} is not a valid time", pl.col("ts_raw").fill_null("(empty)"))),
        pl.when(pl.col("channel").is_not_null()
                & ~pl.col("channel").is_in(sorted(CHANNELS)))
        .then(pl.format("unknown channel {} (expected one of: " + ", ".join(sorted(CHANNELS))
                        + ")", pl.col("channel"))),
    ]
    if ordered:
        problems.append(pl.when(pl.col("ts") < prev_max).then(pl.format(
            "time {} is earlier than a previous row's: the file is out of time order",
            pl.col("ts_raw"))))
    if known_accounts is not None:
        listed = known_accounts.implode()
        problems.append(pl.when(pl.col("source").is_not_null()
                                & ~pl.col("source").is_in(listed))
                        .then(pl.format("unknown source account {}", pl.col("source"))))
        problems.append(pl.when(pl.col("target").is_not_null()
                                & ~pl.col("target").is_in(listed))
                        .then(pl.format("unknown target account {}", pl.col("target"))))
    f = f.with_columns(pl.concat_list(problems).list.drop_nulls().list.join("; ")
                       .alias("_problem"))
    bad = f.filter(pl.col("_problem") != "")
    errors = [(file, int(line), str(msg)) for line, msg in
              zip(bad["line"].to_list(), bad["_problem"].to_list(), strict=True)]
    good = f.filter(pl.col("_problem") == "").select(
        "txn_id", "source", "target", pl.col("_amount").alias("amount"), "currency",
        (pl.col("_amount") * rate).alias("amount_usd"), pl.col("ts").cast(pl.Int64),
        "channel", "location", "line")
    return good, errors


def read_amlsim(folder: Path, rates: Mapping[str, float] = USD_RATES) -> Loaded:
    """An AMLSim sample folder: ``nodes.csv`` (nodeid, isFraud, ...) and ``transactions.csv``
    (sourceNodeId, targetNodeId, value, time in day steps). Amounts are US dollars."""
    if not folder.is_dir():
        raise InvalidInput(f"{folder}: an AMLSim sample is a folder with nodes.csv and "
                           "transactions.csv (or AMLSim's accounts.csv, tx.csv, cash_tx.csv)")
    if not (folder / "nodes.csv").exists() and (folder / "accounts.csv").exists():
        return read_amlsim_outputs(folder, rates)
    nodes = _read_text_csv(folder / "nodes.csv", ("nodeid", "isFraud"))
    txns = _read_text_csv(folder / "transactions.csv",
                          ("sourceNodeId", "targetNodeId", "value", "time"))
    errors: list[tuple[str, int, str]] = []
    nodes = nodes.with_columns(pl.col("nodeid").str.strip_chars(),
                               pl.col("isFraud").str.strip_chars().str.to_lowercase())
    first = pl.col("line").first().over("nodeid")
    label = pl.col("isFraud").replace_strict({"1": True, "0": False, "true": True,
                                              "false": False}, default=None,
                                             return_dtype=pl.Boolean)
    nodes = nodes.with_columns(label.alias("_label"), pl.concat_list([
        pl.when(pl.col("nodeid").is_null() | (pl.col("nodeid") == ""))
        .then(pl.lit("no nodeid")),
        pl.when(~pl.col("nodeid").str.contains(r"^[0-9A-Za-z]([0-9A-Za-z.\-]*[0-9A-Za-z])?$")
                | (pl.col("nodeid").str.len_chars() > ID_MAX))
        .then(pl.format("nodeid {} is not a valid account id", pl.col("nodeid"))),
        pl.when(pl.col("nodeid").is_duplicated() & (pl.col("line") != first))
        .then(pl.format("duplicate account {} (first at line {})", pl.col("nodeid"), first)),
        pl.when(label.is_null())
        .then(pl.format("isFraud {} is not 0 or 1", pl.col("isFraud").fill_null("(empty)"))),
    ]).list.drop_nulls().list.join("; ").alias("_problem"))
    bad = nodes.filter(pl.col("_problem") != "")
    errors += [("nodes.csv", int(a), str(b)) for a, b in
               zip(bad["line"].to_list(), bad["_problem"].to_list(), strict=True)]
    accounts = nodes.filter(pl.col("_problem") == "").select(
        pl.col("nodeid").alias("account"), pl.lit(None, pl.Utf8).alias("holder"),
        pl.col("_label").alias("is_fraud"), "line")
    step = pl.col("time").str.strip_chars().cast(pl.Int64, strict=False)
    norm = txns.select(
        # AMLSim rows carry no id: the line is the transaction's identity in the file.
        pl.col("line").cast(pl.Utf8).alias("txn_id"),
        pl.col("sourceNodeId").alias("source"), pl.col("targetNodeId").alias("target"),
        pl.col("value").alias("amount"), pl.lit("USD").alias("currency"),
        pl.when(step >= 0).then(step * DAY + AMLSIM_EPOCH).alias("ts"),
        pl.col("time").alias("ts_raw"), pl.lit(None, pl.Utf8).alias("channel"),
        pl.lit(None, pl.Utf8).alias("location"), "line")
    good, terrors = check_transactions(norm, "transactions.csv", accounts["account"], rates)
    return Loaded(accounts, good, errors + terrors)


SOURCE_TYPES = {"WIRE": "wire", "CHECK": "check", "CREDIT": "transfer", "DEPOSIT": "transfer",
                "TRANSFER": "transfer", "CASH-IN": "cash-deposit", "CASH-OUT": "cash-withdrawal"}


def read_amlsim_outputs(folder: Path, rates: Mapping[str, float] = USD_RATES) -> Loaded:
    """AMLSim's output layout: ``accounts.csv`` (ACCOUNT_ID, PRIMARY_CUSTOMER_ID, isFraud),
    ``tx.csv`` (account to counterparty) and ``cash_tx.csv`` (CASH-IN/CASH-OUT at a branch).
    Cash goes from or to a per-branch cash account (``cash-branch-<id>``), and the branch is
    the place the funnel rule compares."""
    acc = _read_text_csv(folder / "accounts.csv", ("ACCOUNT_ID", "isFraud"))
    acc = acc.with_columns(pl.col("ACCOUNT_ID").str.strip_chars().alias("account"),
                           pl.col("isFraud").str.strip_chars().str.to_lowercase())
    label = pl.col("isFraud").replace_strict({"1": True, "0": False, "true": True,
                                              "false": False}, default=None,
                                             return_dtype=pl.Boolean)
    first = pl.col("line").first().over("account")
    acc = acc.with_columns(label.alias("is_fraud"), pl.concat_list([
        pl.when(~pl.col("account").str.contains(PLAIN_ID.pattern))
        .then(pl.format("ACCOUNT_ID {} is not a valid account id", pl.col("account"))),
        pl.when(pl.col("account").is_duplicated() & (pl.col("line") != first))
        .then(pl.format("duplicate account {} (first at line {})", pl.col("account"), first)),
        pl.when(label.is_null()).then(pl.format("isFraud {} is not true or false",
                                                pl.col("isFraud").fill_null("(empty)"))),
    ]).list.drop_nulls().list.join("; ").alias("_problem"))
    errors = [("accounts.csv", int(a), str(b)) for a, b in acc.filter(
        pl.col("_problem") != "").select("line", "_problem").iter_rows()]
    holder = (pl.col("PRIMARY_CUSTOMER_ID") if "PRIMARY_CUSTOMER_ID" in acc.columns
              else pl.lit(None, pl.Utf8))
    accounts = acc.filter(pl.col("_problem") == "").select(
        "account", holder.alias("holder"), "is_fraud", "line")
    step = pl.col("_step").str.strip_chars().cast(pl.Int64, strict=False)

    def norm(frame: pl.DataFrame, source: pl.Expr, target: pl.Expr, location: pl.Expr
             ) -> pl.DataFrame:
        kind = pl.col("TXN_SOURCE_TYPE_CODE").str.strip_chars().str.to_uppercase()
        return frame.select(
            pl.col("TXN_ID").alias("txn_id"), source.alias("source"), target.alias("target"),
            pl.col("TXN_AMOUNT_ORIG").alias("amount"), pl.lit("USD").alias("currency"),
            pl.when(step >= 0).then(step * DAY + AMLSIM_EPOCH).alias("ts"),
            pl.col("_step").alias("ts_raw"),
            kind.replace_strict(SOURCE_TYPES, default=kind.str.to_lowercase(),
                                return_dtype=pl.Utf8).alias("channel"),
            location.alias("location"), "line")

    cols = ("TXN_ID", "ACCOUNT_ID", "TXN_SOURCE_TYPE_CODE", "TXN_AMOUNT_ORIG")
    tx = _read_text_csv(folder / "tx.csv", (*cols, "COUNTER_PARTY_ACCOUNT_NUM", "start"))
    tx = norm(tx.rename({"start": "_step"}), pl.col("ACCOUNT_ID").str.strip_chars(),
              pl.col("COUNTER_PARTY_ACCOUNT_NUM").str.strip_chars(), pl.lit(None, pl.Utf8))
    frames = [("tx.csv", tx)]
    if (folder / "cash_tx.csv").exists():
        cash = _read_text_csv(folder / "cash_tx.csv", (*cols, "BRANCH_ID", "RUN_DATE"))
        inbound = pl.col("TXN_SOURCE_TYPE_CODE").str.strip_chars().str.to_uppercase() \
            == "CASH-IN"
        branch = pl.format("cash-branch-{}", pl.col("BRANCH_ID").str.strip_chars())
        own = pl.col("ACCOUNT_ID").str.strip_chars()
        cash = norm(cash.rename({"RUN_DATE": "_step"}),
                    pl.when(inbound).then(branch).otherwise(own),
                    pl.when(inbound).then(own).otherwise(branch),
                    pl.col("BRANCH_ID").str.strip_chars())
        frames.append(("cash_tx.csv", cash))
    branches = pl.concat([f.filter(pl.col("channel").str.starts_with("cash"))
                          .select(pl.col("source"), pl.col("target")) for _, f in frames]
                         ).unpivot()["value"].unique()
    branches = branches.filter(branches.str.starts_with("cash-branch-"))
    known = pl.concat([accounts["account"], branches])
    goods = []
    seen: set[str] = set()
    for file, frame in frames:
        good, errs = check_transactions(frame, file, known, rates, ordered=False)
        errors += errs
        again = good.filter(pl.col("txn_id").is_in(sorted(seen)))
        errors += [(file, int(line), f"duplicate transaction id {tid} (also in an earlier "
                    "file)") for tid, line in again.select("txn_id", "line").iter_rows()]
        good = good.filter(~pl.col("txn_id").is_in(sorted(seen)))
        seen.update(good["txn_id"].to_list())
        goods.append(good)
    transactions = pl.concat(goods).sort("ts", maintain_order=True)
    extra = pl.DataFrame({"account": branches.sort(), "holder": None, "is_fraud": None,
                          "line": 0}, schema=accounts.schema)
    return Loaded(pl.concat([accounts, extra]), transactions, errors)


# -- transaction CSV / Parquet with a column mapping --------------------------------------

FIELDS = ("txn_id", "source", "target", "amount", "currency", "timestamp", "channel",
          "location", "source_holder", "target_holder")
REQUIRED = ("txn_id", "source", "target", "amount", "timestamp")


def _mapping(options: Mapping[str, Any]) -> dict[str, str]:
    """``--mapping`` YAML: ``columns: {txn_id: Reference, source: From, ...}`` (our field:
    the file's column); fields not named are looked up under their own name."""
    columns: dict[str, str] = {f: f for f in FIELDS}
    raw = options.get("mapping")
    if raw:
        path = Path(str(raw))
        if not path.is_file():
            raise InvalidInput(f"{path}: no such mapping file")
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise InvalidInput(f"{path}: not valid YAML: {exc}") from None
        given = doc.get("columns") if isinstance(doc, dict) else None
        if not isinstance(given, dict):
            raise InvalidInput(f"{path}: the mapping needs a 'columns' section")
        unknown = sorted(set(given) - set(FIELDS))
        if unknown:
            raise InvalidInput(f"{path}: unknown field(s) {', '.join(unknown)}; fields are "
                               f"{', '.join(FIELDS)}")
        columns.update({str(k): str(v) for k, v in given.items()})
    return columns


def read_transactions(path: Path, options: Mapping[str, Any],
                      rates: Mapping[str, float] = USD_RATES) -> Loaded:
    """A CSV or Parquet file of transactions, one per row (``FIELDS`` through a mapping);
    ``timestamp`` is ISO 8601 (a date alone is midnight UTC); currency defaults to USD."""
    columns = _mapping(options)
    if path.suffix.lower() == ".parquet":
        try:
            raw = pl.read_parquet(path).with_row_index("line", offset=1)
        except Exception as exc:  # polars raises several kinds for a broken file
            raise InvalidInput(f"{path}: not a readable Parquet file: {exc}") from None
        raw = raw.with_columns(pl.col("line").cast(pl.Int64),
                               *[pl.col(c).cast(pl.Utf8) for c in raw.columns if c != "line"])
    else:
        raw = _read_text_csv(path, ())
    missing = [f"{f} (column {columns[f]!r})" for f in REQUIRED if columns[f] not in raw.columns]
    if missing:
        raise InvalidInput(f"{path}: missing {', '.join(missing)}; found columns: "
                           f"{', '.join(c for c in raw.columns if c != 'line')}")

    def col(name: str) -> pl.Expr:
        source = columns[name]
        return pl.col(source) if source in raw.columns else pl.lit(None, pl.Utf8)

    stamp = col("timestamp").str.strip_chars()
    parsed = pl.coalesce(
        stamp.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%z", strict=False, time_zone="UTC"),
        stamp.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False).dt.replace_time_zone("UTC"),
        stamp.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False).dt.replace_time_zone("UTC"),
        stamp.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC"))
    norm = raw.select(
        col("txn_id").alias("txn_id"), col("source").alias("source"),
        col("target").alias("target"), col("amount").alias("amount"),
        col("currency").fill_null("USD").alias("currency"),
        (parsed.dt.epoch("s")).alias("ts"), col("timestamp").alias("ts_raw"),
        col("channel").str.strip_chars().str.to_lowercase().alias("channel"),
        col("location").str.strip_chars().alias("location"), "line",
        col("source_holder").alias("source_holder"), col("target_holder").alias("target_holder"))
    good, errors = check_transactions(norm, path.name, None, rates, ordered=False)
    holders = pl.concat([
        norm.select(pl.col("source").str.strip_chars().alias("account"),
                    pl.col("source_holder").alias("holder"), "line"),
        norm.select(pl.col("target").str.strip_chars().alias("account"),
                    pl.col("target_holder").alias("holder"), "line"),
    ]).filter(pl.col("account").is_in(pl.concat([good["source"], good["target"]]).implode()))
    accounts = (holders.sort("line").group_by("account", maintain_order=True)
                .agg(pl.col("holder").drop_nulls().first(), pl.col("line").first())
                .select("account", "holder", pl.lit(None, pl.Boolean).alias("is_fraud"),
                        "line"))
    bad_ids = accounts.filter(~pl.col("account").str.contains(
        r"^[0-9A-Za-z]([0-9A-Za-z.\-]*[0-9A-Za-z])?$"))
    if bad_ids.height:
        drop = bad_ids["account"]
        for line, acct in zip(good.filter(pl.col("source").is_in(drop.implode())
                                          | pl.col("target").is_in(drop.implode()))["line"],
                              good.filter(pl.col("source").is_in(drop.implode())
                                          | pl.col("target").is_in(drop.implode()))["source"],
                              strict=True):
            errors.append((path.name, int(line), f"account id {acct!r} (or its counterparty) "
                           "is not a valid id: letters, digits, '.' and '-' only"))
        good = good.filter(~pl.col("source").is_in(drop.implode())
                           & ~pl.col("target").is_in(drop.implode()))
        accounts = accounts.filter(~pl.col("account").is_in(drop.implode()))
    errors.sort(key=lambda e: e[1])
    return Loaded(accounts, good, errors)


# -- formats ------------------------------------------------------------------------------

_CACHE: dict[str, tuple[tuple[tuple[str, int, int], ...], Loaded]] = {}
_LOCK = threading.Lock()


def _signature(path: Path) -> tuple[tuple[str, int, int], ...]:
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)


def _remember(path: Path, loaded: Loaded) -> None:
    with _LOCK:
        _CACHE.clear()  # one input at a time: the hook right after the ingest reads it
        _CACHE[str(path.resolve())] = (_signature(path), loaded)


def _recall(path: Path) -> Loaded | None:
    with _LOCK:
        hit = _CACHE.get(str(path.resolve()))
    if hit is None or not path.exists() or hit[0] != _signature(path):
        return None
    return hit[1]


class _FinanceFormat(Format):
    def load(self, path: Path, options: Mapping[str, Any]) -> Loaded:
        raise NotImplementedError

    def records(self, path: Path, options: Mapping[str, Any]) -> Iterator[Item]:
        loaded = self.load(path, options)  # whole-file problems raise before the first item
        _remember(path, loaded)
        self.bytes_read = sum(p.stat().st_size for p in
                              ([*path.iterdir()] if path.is_dir() else [path]) if p.is_file())
        for file, line, message in loaded.errors:
            yield RowError(line, f"{file}: {message}")
        holder_ids: set[str] = set()
        for account, holder, line in zip(loaded.accounts["account"].to_list(),
                                         loaded.accounts["holder"].to_list(),
                                         loaded.accounts["line"].to_list(), strict=True):
            entity = model.make_entity("BankAccount")
            entity.id = account_entity_id(account)
            entity.add("accountNumber", account)
            if holder:
                entity.add("notes", f"holder {holder}")
            yield Parsed(int(line), entity)
            if holder and holder not in holder_ids and PLAIN_ID.match(holder):
                holder_ids.add(holder)
                who = model.make_entity("LegalEntity")
                who.id = f"holder-{holder}"
                who.add("name", holder)
                yield Parsed(int(line), who)


@register_format("amlsim")
class AMLSimFormat(_FinanceFormat):
    """An AMLSim sample folder (nodes.csv, transactions.csv); isFraud kept as known outcome."""

    directories = True

    def load(self, path: Path, options: Mapping[str, Any]) -> Loaded:
        return read_amlsim(path)


@register_format("transactions")
class TransactionsFormat(_FinanceFormat):
    """Transactions as CSV or Parquet, columns named by an optional ``--mapping`` YAML."""

    fragments = True

    def load(self, path: Path, options: Mapping[str, Any]) -> Loaded:
        return read_transactions(path, options)


FINANCE_FORMATS = ("amlsim", "transactions")


# -- the tables, after the core ingest ------------------------------------------------------


def after_ingest(db: Database, dataset: str, fmt: str) -> None:
    """Entry point ``binational.ingested``: write the transactions and accounts of the file
    that was just ingested into ``dataset``. An AMLSim folder is a whole simulation and
    replaces what the dataset held; a transactions file adds to it (a monthly feed), a
    transaction id already stored being kept as it was (logged)."""
    if fmt not in FINANCE_FORMATS:
        return
    run = t.ingest_run
    q = (sa.select(run.c.source).where(run.c.dataset == dataset, run.c.format == fmt,
                                       run.c.status.in_(["ok", "ok-with-errors"]))
         .order_by(run.c.finished_at.desc()).limit(1))
    with db.read() as conn:
        source = conn.execute(q).scalar()
    if source is None:
        return
    path = Path(source)
    loaded = _recall(path)
    if loaded is None:
        if not path.exists():
            raise InvalidInput(f"{path}: the ingested file is gone; ingest it again")
        loaded = read_amlsim(path) if fmt == "amlsim" else read_transactions(path, {})
    store_loaded(db, dataset, loaded, replace=fmt == "amlsim")


def store_loaded(db: Database, dataset: str, loaded: Loaded, replace: bool = True) -> int:
    """Write accounts and transactions; returns how many transactions were new."""
    ns = Namespace(dataset)
    accounts = [
        (dataset, acct, f"{account_entity_id(acct)}.{ns.signature(account_entity_id(acct))}",
         holder, fraud, int(line))
        for acct, holder, fraud, line in loaded.accounts.select(
            "account", "holder", "is_fraud", "line").iter_rows()]
    tx = loaded.transactions
    rows = [(dataset, *r) for r in tx.select(TXN_COLUMNS).iter_rows()]
    new = 0
    with db.write() as conn:
        if replace:
            conn.execute(sa.delete(finance_transaction)
                         .where(finance_transaction.c.dataset == dataset))
            conn.execute(sa.delete(finance_account).where(finance_account.c.dataset == dataset))
        db.bulk_insert_ignore(conn, finance_account, ("dataset", "account", "entity_id",
                                                      "holder", "is_fraud", "line"), accounts)
        for start in range(0, len(rows), 50_000):
            new += db.bulk_insert_ignore(conn, finance_transaction, ("dataset", *TXN_COLUMNS),
                                         rows[start:start + 50_000])
    if new < len(rows):
        log.warning("transaction ids already stored were kept as they were", dataset=dataset,
                    kept=len(rows) - new)
    return new
