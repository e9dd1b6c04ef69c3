"""Secrets at rest: the platform key that encrypts TOTP seeds (Fernet, from ``cryptography``)."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from binational.core.errors import IntegrityFailure
from binational.core.settings import Settings


def load_or_create_key_file(path: Path) -> bytes:
    """Read a Fernet key file, creating it (mode 0600) on first use."""
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


class SecretBox:
    def __init__(self, settings: Settings) -> None:
        if settings.secret_key is not None:
            # Derive a Fernet key from an operator-supplied secret of any form.
            raw = hashlib.sha256(settings.secret_key.get_secret_value().encode()).digest()
            key = base64.urlsafe_b64encode(raw)
        else:
            key = load_or_create_key_file(settings.data_dir / "secret.key")
        self._fernet = Fernet(key)

    def seal(self, plain: str) -> bytes:
        return self._fernet.encrypt(plain.encode())

    def open(self, sealed: bytes) -> str:
        try:
            return self._fernet.decrypt(sealed).decode()
        except InvalidToken:
            raise IntegrityFailure(
                "a stored secret cannot be decrypted: BINATIONAL_SECRET_KEY or the key file "
                "does not match the one this database was set up with"
            ) from None


def token_secret() -> str:
    return secrets.token_urlsafe(32)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
