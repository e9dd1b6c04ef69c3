"""Datasets a user may see, and uploads into the user's own agency's datasets."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile

from binational.core.access import Caller
from binational.core.api.deps import CallerDep, PlatformDep, PrincipalDep
from binational.core.audit import AuditEvent, ObjectRef
from binational.core.errors import BinationalError, NotFound, TooLarge
from binational.core.platform import Platform
from binational.core.policy import Privilege
from binational.core.vocab import Action

router = APIRouter(tags=["datasets"])
CHUNK = 1024 * 1024


@router.get("/datasets")
def list_datasets(caller: CallerDep, platform: PlatformDep) -> dict[str, Any]:
    """Datasets the caller may search for the stated purpose, with their owners."""
    plan = platform.access.plan(caller, Action.SEARCH)
    names = sorted(plan.scope.datasets)
    counts = platform.store.dataset_counts(names)
    out = []
    for name in names:
        info = plan.owners[name]
        schemata = plan.scope.datasets[name]
        out.append({"name": name, "title": info.title, "agency": info.agency,
                    "country": info.country.value, "entities": counts.get(name, 0),
                    "grant_id": plan.grant_for(name),
                    "schemata": sorted(schemata) if schemata is not None else None})
    return {"datasets": out}


async def _spool(upload: UploadFile, limit: int, folder: Path) -> Path:
    """Copy an upload to disk in chunks, refusing it as soon as it passes the limit."""
    name = Path(upload.filename or "upload").name or "upload"
    path = folder / name
    size = 0
    with path.open("wb") as fh:
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"upload {name} is larger than the limit of {limit:,} bytes")
            fh.write(chunk)
    return path


@router.post("/datasets/{dataset}/ingest")
async def ingest_upload(
    dataset: str, request: Request, caller: CallerDep, platform: PlatformDep,
    file: Annotated[UploadFile, File(description="the file to load")],
    format: Annotated[str, Form(description="ingest format, e.g. ftm or csv")] = "ftm",
    mapping: Annotated[UploadFile | None, File(description="YAML mapping for csv")] = None,
    encoding: Annotated[str, Form()] = "utf-8",
    strict: Annotated[bool, Form()] = False,
    replace: Annotated[bool, Form(description="the file is the complete new version of the "
                                  "dataset: remove what it no longer lists")] = False,
) -> dict[str, Any]:
    """Load a file into one of the caller's own agency's datasets (all or nothing).

    With ``replace`` the answer's ``added``, ``changed`` and ``removed`` count the entities
    that differ from the previous version (``diff`` lists up to 100 ids of each)."""
    _require_own_dataset(platform, caller, dataset)
    from binational.core.ingest import ingest

    limit = platform.settings.max_upload_bytes
    with tempfile.TemporaryDirectory(prefix="binational-upload-") as tmp:
        folder = Path(tmp)
        options: dict[str, Any] = {"encoding": encoding, "max_bytes": limit}
        try:
            path = await _spool(file, limit, folder)
            if mapping is not None:
                (folder / "mapping").mkdir()
                options["mapping"] = await _spool(mapping, 1024 * 1024, folder / "mapping")
            report = ingest(platform.db, platform.store, format, path, dataset,
                            actor=caller.principal.username, options=options, strict=strict,
                            replace=replace)
        except BinationalError as exc:
            _audit_ingest(platform, caller, dataset, "invalid", error=exc.message)
            raise
    summary = report.to_dict()
    _audit_ingest(platform, caller, dataset, "ok", format=format,
                  **{k: v for k, v in summary.items() if isinstance(v, int)})
    return summary


def _require_own_dataset(platform: Platform, caller: Caller, dataset: str) -> None:
    platform.policy.require(caller.principal, Privilege.WRITE_DATA)
    info = platform.catalog.all().get(dataset)
    if info is None or info.agency != caller.principal.agency:
        raise NotFound(f"no dataset {dataset!r} of agency {caller.principal.agency}")


def _audit_ingest(platform: Platform, caller: Caller, dataset: str, outcome: str,
                  **detail: Any) -> None:
    p = caller.principal
    platform.audit.append(AuditEvent(
        action="dataset.ingest", outcome=outcome, actor=p.username, agency=p.agency,
        country=p.country.value, objects=(ObjectRef(dataset, dataset, p.agency, p.country.value),),
        purpose=caller.context.purpose.value, case_ref=caller.context.case_ref,
        request_id=caller.request_id, client=caller.client, detail=detail))


@router.get("/agencies")
def agencies(principal: PrincipalDep, platform: PlatformDep) -> dict[str, Any]:
    return {"agencies": [{"code": a.code, "name": a.name, "country": a.country.value}
                         for a in platform.identity.agencies()]}
