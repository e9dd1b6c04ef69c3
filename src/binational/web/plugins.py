"""What a capability hands the web application through the ``binational.web`` entry points."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import APIRouter

if TYPE_CHECKING:
    from binational.core.identity import Principal


@dataclass(frozen=True)
class NavItem:
    """One entry of the main navigation; ``path`` is below ``/app`` (e.g. ``/early-warning``)."""

    key: str
    """A message key (the plug-in's ``messages`` or the web's own) for the link text."""
    path: str
    visible: Callable[[Principal], bool] = field(default=lambda _p: True)
    """Whether this user sees the entry (e.g. by role); the pages still check for themselves."""


@dataclass(frozen=True)
class WebPlugin:
    """A capability's part of the web application."""

    name: str
    """URL segment and template folder name: pages live under ``/app/<name>/``."""
    router: APIRouter | None = None
    """Pages, made with ``binational.web.page_router()`` so errors render as pages."""
    nav: tuple[NavItem, ...] = ()
    templates: Path | None = None
    """A folder of Jinja templates; refer to them as ``"<name>/<file>.html"``."""
    messages: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Extra message keys: key -> (English, Spanish)."""
    home: str | None = None
    """A template fragment shown on the home page (e.g. the user's alerts)."""
    entity: str | None = None
    """A template fragment shown on an entity's profile page (it gets ``entity``, the record
    just read); it should read nothing more than the record unless it audits what it reads."""
