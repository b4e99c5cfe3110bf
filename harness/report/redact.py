"""Keeping secrets out of the report: passwords in URLs and DSNs, and values of secret keys."""

from __future__ import annotations

import re
from typing import Any

MASK = "***"
# A key is secret when its name says so; matched case-insensitively anywhere in the name, so
# "db_dsn", "jwt_secret", "PGPASSWORD" and "access_token" are all caught.
SECRET_KEY = re.compile(r"password|passwd|secret|token|dsn", re.IGNORECASE)

# scheme://user:PASSWORD@host -- the password runs to the last "@" of the word, since passwords
# in hand-written DSNs are often not percent-encoded and may hold "@", "/" or ":". That may
# mask more than the password (a query string's "@"), never less.
URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)\S*@")
# libpq keyword DSNs and environment-style assignments: "password=x", "PGPASSWORD='x y'".
# Only "=": a ":" would also hit prose such as "test_token_refresh_latency: failed".
ASSIGNED_SECRET = re.compile(
    r"(?P<head>\b\w*(?:password|passwd|secret|token)\w*\s*=\s*)"
    r"(?P<secret>'[^']*'|\"[^\"]*\"|[^\s,;&'\"]+)",
    re.IGNORECASE,
)
# SQL that pg_stat_statements may keep verbatim: ALTER ROLE cv PASSWORD 'x'.
SQL_PASSWORD = re.compile(r"(?P<head>\bPASSWORD\s+)(?P<secret>'(?:[^']|'')*')", re.IGNORECASE)


def redact_text(text: str) -> str:
    """The text with every recognisable password replaced by ***."""
    text = URL_PASSWORD.sub(lambda m: m["head"] + MASK + "@", text)
    text = ASSIGNED_SECRET.sub(lambda m: m["head"] + MASK, text)
    return SQL_PASSWORD.sub(lambda m: m["head"] + f"'{MASK}'", text)


def is_secret_key(key: object) -> bool:
    return isinstance(key, str) and SECRET_KEY.search(key) is not None


def redact(value: Any) -> Any:
    """A copy of JSON-like data with secret keys' values masked and every string redacted."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            redact_text(str(k)): (MASK if is_secret_key(k) and v is not None else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value
