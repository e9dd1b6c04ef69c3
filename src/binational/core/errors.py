"""Errors the platform raises on purpose. Each names the problem in words a user can act on.

The API maps them onto HTTP status codes in one place (``api/app.py``); the CLI prints them.
"""

from __future__ import annotations


class BinationalError(Exception):
    """Base class; ``status`` is the HTTP status the API answers with."""

    status = 500
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(BinationalError):
    """The request or the file is malformed; the message says where."""

    status = 400
    code = "invalid_input"


class PurposeRequired(InvalidInput):
    code = "purpose_required"


class NotAuthenticated(BinationalError):
    status = 401
    code = "not_authenticated"


class AccountLocked(NotAuthenticated):
    code = "account_locked"


class Forbidden(BinationalError):
    """The user is known but the action is not theirs to take (role, not data visibility)."""

    status = 403
    code = "forbidden"


class NotFound(BinationalError):
    """Absent, or present but invisible to this reader: the two are never told apart."""

    status = 404
    code = "not_found"


class Conflict(BinationalError):
    status = 409
    code = "conflict"


class TooLarge(BinationalError):
    status = 413
    code = "too_large"


class IntegrityFailure(BinationalError):
    """The audit log or a signed checkpoint does not verify."""

    status = 500
    code = "integrity_failure"
