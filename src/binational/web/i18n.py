"""English and Spanish: the language of a request, and the message catalogue.

Messages are kept as two checked dictionaries (``EN``, ``ES``) rather than gettext catalogues:
the application has two languages and a few hundred strings, and a test asserts that both
dictionaries have the same keys and the same ``{placeholders}``. FtM's own Spanish catalogue
(shipped with followthemoney) translates schema and property labels.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Mapping
from functools import cache
from typing import Any

import followthemoney

from binational.web.messages import EN, ES

LANGUAGES = ("en", "es")
DEFAULT = "en"
LANG_COOKIE = "binational_lang"
CATALOGUES: dict[str, Mapping[str, str]] = {"en": EN, "es": ES}


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The cookie if it names a language we have, else the best of Accept-Language."""
    if cookie in LANGUAGES:
        return str(cookie)
    best, best_q = DEFAULT, -1.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        if lang not in LANGUAGES:
            continue
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        if q > best_q:
            best, best_q = lang, q
    return best


class Translator:
    """``t(key, **values)`` in one language; plug-ins may add keys (``extra``)."""

    def __init__(self, lang: str, extra: Mapping[str, tuple[str, str]] | None = None) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT
        self.extra = extra or {}

    def __call__(self, key: str, /, **values: Any) -> str:
        text = CATALOGUES[self.lang].get(key)
        if text is None and key in self.extra:
            text = self.extra[key][LANGUAGES.index(self.lang)]
        if text is None:
            # A missing key is a bug the catalogue test catches; show the key, not a crash.
            return key
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in CATALOGUES[self.lang] or key in self.extra

    def label(self, text: str) -> str:
        """A followthemoney label (schema, property) in this language."""
        if self.lang == "en" or not text:
            return text
        return _ftm(self.lang).gettext(text)


@cache
def _ftm(lang: str) -> gettext.NullTranslations:
    folder = os.path.join(os.path.dirname(followthemoney.__file__), "translations")
    return gettext.translation("followthemoney", folder, languages=[lang], fallback=True)
