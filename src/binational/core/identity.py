"""Countries, agencies, people and machines: who is asking.

People sign in with a password (argon2id) and a TOTP second factor and get a session that ends
after 30 idle minutes; machines use API tokens. Five failed sign-ins lock an account for ten
minutes. Tokens and sessions are stored as SHA-256 hashes only; the secret is shown once.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection

from binational.core import tables as t
from binational.core.audit import AuditEvent, AuditLog
from binational.core.crypto import SecretBox, sha256_hex, token_secret
from binational.core.db import Database
from binational.core.errors import AccountLocked, Conflict, InvalidInput, NotAuthenticated, NotFound
from binational.core.settings import Settings
from binational.core.store import utcnow
from binational.core.vocab import COUNTRY_NAMES, Country, Role

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
AGENCY_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")
MIN_PASSWORD = 12
SESSION_PREFIX = "bns"
TOKEN_PREFIX = "bnt"  # noqa: S105 - a prefix, not a secret


@dataclass(frozen=True)
class Principal:
    """An authenticated user (or the local operator) as the policy sees them."""

    username: str
    agency: str
    country: Country
    role: Role
    user_id: int | None = None
    via: str = "session"

    @property
    def is_operator(self) -> bool:
        return self.via == "operator"


def operator(agency: str, country: Country) -> Principal:
    """The local operator running the CLI on the server, acting for one agency."""
    return Principal(username="operator", agency=agency, country=country,
                     role=Role.AGENCY_ADMIN, via="operator")


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    country: Country


@dataclass(frozen=True)
class NewUser:
    username: str
    agency: str
    role: Role
    totp_uri: str | None
    totp_secret: str | None


def _parse_token(token: str) -> tuple[str, str, str]:
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] not in (SESSION_PREFIX, TOKEN_PREFIX):
        raise NotAuthenticated("malformed credential: expected a session or API token")
    return parts[0], parts[1], parts[2]


class Identity:
    def __init__(self, db: Database, settings: Settings, audit: AuditLog) -> None:
        self.db = db
        self.settings = settings
        self.audit = audit
        self._box: SecretBox | None = None
        self.hasher = PasswordHasher(time_cost=settings.argon2_time_cost,
                                     memory_cost=settings.argon2_memory_kib,
                                     parallelism=settings.argon2_parallelism)
        # A dummy hash so an unknown username costs the same time as a wrong password.
        self._dummy_hash = self.hasher.hash("binational-timing-equaliser")

    @property
    def box(self) -> SecretBox:
        if self._box is None:
            self._box = SecretBox(self.settings)
        return self._box

    # -- countries and agencies -------------------------------------------------------------

    def ensure_countries(self) -> None:
        rows = [{"code": c.value, "name_en": en, "name_es": es}
                for c, (en, es) in COUNTRY_NAMES.items()]
        with self.db.write() as conn:
            self.db.insert_ignore(conn, t.country, rows)

    def add_agency(self, code: str, name: str, country: Country) -> Agency:
        code = code.strip().upper()
        if not AGENCY_RE.match(code):
            raise InvalidInput(f"agency code {code!r} must be 2-32 letters, digits, - or _")
        if not name.strip():
            raise InvalidInput("agency name must not be empty")
        self.ensure_countries()
        with self.db.write() as conn:
            if conn.execute(sa.select(t.agency.c.code).where(t.agency.c.code == code)).first():
                raise Conflict(f"agency {code} exists already")
            conn.execute(sa.insert(t.agency).values(code=code, name=name.strip(),
                                                    country=country.value, created_at=utcnow()))
        return Agency(code, name.strip(), country)

    def get_agency(self, code: str, conn: Connection | None = None) -> Agency:
        q = sa.select(t.agency).where(t.agency.c.code == code.strip().upper())
        if conn is None:
            with self.db.read() as c:
                row = c.execute(q).mappings().first()
        else:
            row = conn.execute(q).mappings().first()
        if row is None:
            raise NotFound(f"no agency {code!r}")
        return Agency(row["code"], row["name"], Country(row["country"]))

    def agencies(self) -> list[Agency]:
        with self.db.read() as conn:
            rows = conn.execute(sa.select(t.agency).order_by(t.agency.c.code)).mappings()
            return [Agency(r["code"], r["name"], Country(r["country"])) for r in rows]

    # -- users ------------------------------------------------------------------------------

    def add_user(self, username: str, agency: str, role: Role, password: str | None,
                 display_name: str | None = None, totp: bool = True,
                 totp_secret: str | None = None) -> NewUser:
        username = username.strip().lower()
        if not USERNAME_RE.match(username):
            raise InvalidInput(
                f"username {username!r} must be 2-64 lower-case letters, digits, '.', '_' or '-'"
            )
        ag = self.get_agency(agency)
        if role == Role.SYNC:
            password, totp = None, False  # machines authenticate with API tokens only
        elif password is None:
            raise InvalidInput(f"a {role.value} is a person and needs a password")
        if password is not None and len(password) < MIN_PASSWORD:
            raise InvalidInput(f"password must have at least {MIN_PASSWORD} characters")
        secret = (totp_secret or pyotp.random_base32()) if totp else None
        with self.db.write() as conn:
            exists = conn.execute(sa.select(t.user.c.id).where(t.user.c.username == username))
            if exists.first():
                raise Conflict(f"user {username} exists already")
            conn.execute(sa.insert(t.user).values(
                username=username, display_name=display_name, agency=ag.code, role=role.value,
                password_hash=self.hasher.hash(password) if password else None,
                totp_secret=self.box.seal(secret) if secret else None,
                failed_logins=0, locked_until=None, active=True, created_at=utcnow(),
            ))
        uri = (pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="Binational")
               if secret else None)
        return NewUser(username, ag.code, role, uri, secret)

    def principal(self, username: str, via: str = "session") -> Principal:
        with self.db.read() as conn:
            row = conn.execute(
                sa.select(t.user, t.agency.c.country)
                .join(t.agency, t.agency.c.code == t.user.c.agency)
                .where(t.user.c.username == username.strip().lower())
            ).mappings().first()
        if row is None or not row["active"]:
            raise NotFound(f"no active user {username!r}")
        return Principal(row["username"], row["agency"], Country(row["country"]),
                         Role(row["role"]), row["id"], via)

    def users(self, agency: str | None = None) -> list[dict[str, object]]:
        q = sa.select(t.user.c.username, t.user.c.agency, t.user.c.role, t.user.c.active,
                      t.user.c.locked_until, t.user.c.created_at).order_by(t.user.c.username)
        if agency:
            q = q.where(t.user.c.agency == agency.upper())
        with self.db.read() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def unlock(self, username: str) -> None:
        with self.db.write() as conn:
            res = conn.execute(sa.update(t.user).where(t.user.c.username == username)
                               .values(failed_logins=0, locked_until=None))
        if not res.rowcount:
            raise NotFound(f"no user {username!r}")

    def deactivate(self, username: str) -> None:
        now = utcnow()
        with self.db.write() as conn:
            row = conn.execute(sa.select(t.user.c.id).where(t.user.c.username == username)).first()
            if row is None:
                raise NotFound(f"no user {username!r}")
            conn.execute(sa.update(t.user).where(t.user.c.id == row[0]).values(active=False))
            conn.execute(sa.update(t.auth_session).where(t.auth_session.c.user_id == row[0],
                                                         t.auth_session.c.ended_at.is_(None))
                         .values(ended_at=now))
            conn.execute(sa.update(t.api_token).where(t.api_token.c.user_id == row[0],
                                                      t.api_token.c.revoked_at.is_(None))
                         .values(revoked_at=now))

    # -- sign-in ------------------------------------------------------------------------------

    def login(self, username: str, password: str, totp_code: str | None,
              client: str | None = None, request_id: str | None = None) -> tuple[Principal, str]:
        """Check password and second factor; returns the principal and a new session token.

        Every attempt is audited. The error never says which factor failed.
        """
        username = username.strip().lower()
        now = utcnow()
        failure = "invalid username, password or one-time code"
        with self.db.write() as conn:
            row = conn.execute(
                sa.select(t.user, t.agency.c.country)
                .join(t.agency, t.agency.c.code == t.user.c.agency)
                .where(t.user.c.username == username)
            ).mappings().first()
            if row is None or not row["active"] or row["password_hash"] is None:
                self._verify(self._dummy_hash, password)
                outcome, reason = "denied", "unknown or inactive user"
            elif row["locked_until"] is not None and row["locked_until"] > now:
                outcome, reason = "denied", "locked"
            else:
                ok = self._verify(row["password_hash"], password)
                if ok and row["totp_secret"] is not None:
                    secret = self.box.open(row["totp_secret"])
                    ok = bool(totp_code) and pyotp.TOTP(secret).verify(
                        str(totp_code).strip(), valid_window=1)
                if ok:
                    outcome, reason = "ok", None
                else:
                    failures = int(row["failed_logins"] or 0) + 1
                    locked = (now + timedelta(minutes=self.settings.lockout_minutes)
                              if failures >= self.settings.lockout_failures else None)
                    conn.execute(sa.update(t.user).where(t.user.c.id == row["id"])
                                 .values(failed_logins=0 if locked else failures,
                                         locked_until=locked))
                    outcome, reason = "denied", "locked now" if locked else "bad credentials"
            token = None
            if outcome == "ok" and row is not None:
                conn.execute(sa.update(t.user).where(t.user.c.id == row["id"])
                             .values(failed_logins=0, locked_until=None))
                sid, secret_part = secrets.token_hex(8), token_secret()
                conn.execute(sa.insert(t.auth_session).values(
                    id=sid, user_id=row["id"], secret_hash=sha256_hex(secret_part),
                    created_at=now, last_used_at=now, ended_at=None, client=client))
                token = f"{SESSION_PREFIX}_{sid}_{secret_part}"
        self.audit.append(AuditEvent(
            action="auth.login", outcome=outcome, actor=username,
            agency=row["agency"] if row else None, country=row["country"] if row else None,
            request_id=request_id, client=client,
            detail={"reason": reason} if reason else {}))
        if token is None or row is None:
            if reason in ("locked", "locked now"):
                raise AccountLocked(
                    f"account locked after {self.settings.lockout_failures} failed sign-ins; "
                    f"try again in {self.settings.lockout_minutes} minutes or ask an agency admin"
                )
            raise NotAuthenticated(failure)
        return (Principal(row["username"], row["agency"], Country(row["country"]),
                          Role(row["role"]), row["id"], "session"), token)

    def _verify(self, hashed: str, password: str) -> bool:
        try:
            return self.hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    def logout(self, token: str) -> None:
        kind, tid, _ = _parse_token(token)
        if kind != SESSION_PREFIX:
            raise InvalidInput("only sessions sign out; revoke API tokens instead")
        with self.db.write() as conn:
            conn.execute(sa.update(t.auth_session).where(t.auth_session.c.id == tid)
                         .values(ended_at=utcnow()))

    def create_api_token(self, username: str, label: str,
                         expires_days: int | None = 365) -> str:
        if not label.strip():
            raise InvalidInput("an API token needs a label saying what it is for")
        p = self.principal(username)
        now = utcnow()
        tid, secret_part = secrets.token_hex(8), token_secret()
        with self.db.write() as conn:
            conn.execute(sa.insert(t.api_token).values(
                id=tid, user_id=p.user_id, secret_hash=sha256_hex(secret_part),
                label=label.strip(), created_at=now,
                expires_at=now + timedelta(days=expires_days) if expires_days else None,
                revoked_at=None))
        return f"{TOKEN_PREFIX}_{tid}_{secret_part}"

    def revoke_api_token(self, token_id: str) -> None:
        with self.db.write() as conn:
            res = conn.execute(sa.update(t.api_token).where(t.api_token.c.id == token_id)
                               .values(revoked_at=utcnow()))
        if not res.rowcount:
            raise NotFound(f"no API token {token_id!r}")

    def authenticate(self, token: str) -> Principal:
        """Resolve a bearer credential; expired, revoked or forged ones are refused."""
        kind, tid, secret_part = _parse_token(token)
        now = utcnow()
        table = t.auth_session if kind == SESSION_PREFIX else t.api_token
        with self.db.read() as conn:
            row = conn.execute(sa.select(table).where(table.c.id == tid)).mappings().first()
        if row is None or not hmac.compare_digest(row["secret_hash"], sha256_hex(secret_part)):
            raise NotAuthenticated("invalid credential")
        if kind == SESSION_PREFIX:
            if row["ended_at"] is not None:
                raise NotAuthenticated("session has ended; sign in again")
            idle = timedelta(minutes=self.settings.session_idle_minutes)
            if now - row["last_used_at"] > idle:
                with self.db.write() as conn:
                    conn.execute(sa.update(t.auth_session).where(t.auth_session.c.id == tid)
                                 .values(ended_at=now))
                raise NotAuthenticated(
                    f"session expired after {self.settings.session_idle_minutes} idle minutes; "
                    "sign in again")
            # Touch at most once a minute: keeps reads from writing on every request.
            if now - row["last_used_at"] > timedelta(minutes=1):
                with self.db.write() as conn:
                    conn.execute(sa.update(t.auth_session).where(t.auth_session.c.id == tid)
                                 .values(last_used_at=now))
        else:
            if row["revoked_at"] is not None:
                raise NotAuthenticated("API token was revoked")
            if row["expires_at"] is not None and row["expires_at"] <= now:
                raise NotAuthenticated("API token has expired")
        with self.db.read() as conn:
            user = conn.execute(
                sa.select(t.user, t.agency.c.country)
                .join(t.agency, t.agency.c.code == t.user.c.agency)
                .where(t.user.c.id == row["user_id"])
            ).mappings().first()
        if user is None or not user["active"]:
            raise NotAuthenticated("account is inactive")
        return Principal(user["username"], user["agency"], Country(user["country"]),
                         Role(user["role"]), user["id"],
                         "session" if kind == SESSION_PREFIX else "token")


def totp_now(secret: str, at: datetime | None = None) -> str:
    """The current one-time code for a seed (used by the demo and the tests)."""
    totp = pyotp.TOTP(secret)
    return str(totp.at(at) if at else totp.now())
