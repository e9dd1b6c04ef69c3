"""Settings from the environment, in one place (as yente does)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return Path(user_data_dir("binational", appauthor=False))


class Settings(BaseSettings):
    """Runtime configuration. Every field can be set as ``BINATIONAL_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="BINATIONAL_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    """SQLAlchemy URL; default an embedded SQLite file in ``data_dir``."""

    signing_key_file: Path | None = None
    """Ed25519 private key (PEM) signing audit checkpoints; default in ``data_dir``."""

    secret_key: SecretStr | None = None
    """Key for encrypting TOTP secrets at rest; default a key file in ``data_dir``."""

    argon2_time_cost: int = 3
    argon2_memory_kib: int = 64 * 1024
    argon2_parallelism: int = 4
    """argon2id cost (argon2-cffi defaults, RFC 9106's second recommendation); tests lower it."""

    session_idle_minutes: int = 30
    lockout_failures: int = 5
    lockout_minutes: int = 10
    checkpoint_minutes: float = 10.0
    """How often the server signs an audit checkpoint when the log has grown (0: never)."""
    max_upload_bytes: int = 256 * 1024 * 1024
    max_page_size: int = 500
    log_json: bool = False
    log_level: str = "INFO"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'binational.sqlite'}"

    def resolved_signing_key_file(self) -> Path:
        return self.signing_key_file or self.data_dir / "audit-signing.pem"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
