"""Capabilities plug in through entry points; a broken one is skipped, never fatal."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from binational.core import plugins


def test_broken_plugin_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    good = EntryPoint("good", "binational.core.vocab:Purpose", "binational.api")
    broken = EntryPoint("broken", "binational.no_such_module:router", "binational.api")
    monkeypatch.setattr(plugins, "_entries", lambda group: (broken, good))
    loaded = dict(plugins.load("binational.api"))
    assert list(loaded) == ["good"]


def test_unknown_group() -> None:
    with pytest.raises(ValueError, match="unknown plug-in group"):
        list(plugins.load("binational.nothing"))
