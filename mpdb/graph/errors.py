"""Which driver failures mean "the database is unavailable", in one place.

The API answers them with HTTP 503 and SERVICE_UNAVAILABLE, the CLI with one line and its own exit
code; every other Neo4j error stays what it is (a bug, or a bad query: masked as INTERNAL).

A transaction the server terminated for running past its timeout counts too: under overload (or a
lock held too long by another writer) nothing the caller did was wrong, the transaction was rolled
back, and the same request may be retried.
"""

from __future__ import annotations

import math

from neo4j.exceptions import (
    ConnectionAcquisitionTimeoutError,
    IncompleteCommit,
    ServiceUnavailable as DriverServiceUnavailable,
    SessionExpired,
)
from neo4j.exceptions import DatabaseUnavailable as ServerDatabaseUnavailable
from neo4j.exceptions import Neo4jError

from mpdb.domain.errors import ServiceUnavailable

# SessionExpired: the server went away under an open session; ConnectionAcquisitionTimeoutError:
# no pooled connection freed up in time (every connection stuck on a dead server, or overload);
# the server's own DatabaseUnavailable: it is starting or stopping the database.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    DriverServiceUnavailable, SessionExpired, ConnectionAcquisitionTimeoutError, ServerDatabaseUnavailable,
    ConnectionError, TimeoutError,
)


# The server's codes for a transaction it terminated at its timeout (the client's, or its own default).
TIMED_OUT_CODES: frozenset[str] = frozenset({
    "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration",
    "Neo.ClientError.Transaction.TransactionTimedOut",
})


def is_timed_out(exc: BaseException) -> bool:
    return isinstance(exc, Neo4jError) and exc.code in TIMED_OUT_CODES


def is_unavailable(exc: BaseException) -> bool:
    """True when `exc`, or an exception it was raised `from`, says the database cannot be reached."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, (ServiceUnavailable, *UNAVAILABLE)) or is_timed_out(current):
            return True
        seen.add(id(current))
        current = current.__cause__
    return False


def unavailable(exc: BaseException, budget_s: float) -> ServiceUnavailable:
    """The domain error for a driver failure `is_unavailable` accepted (raise it `from exc`)."""
    if isinstance(exc, ServiceUnavailable):
        return exc
    retry_after = max(1, math.ceil(budget_s))
    if is_timed_out(exc):
        return ServiceUnavailable("the database did not finish in time (it is busy): nothing was saved; try "
                                  "again in a few seconds", retry_after_s=retry_after)
    if isinstance(exc, IncompleteCommit):
        return ServiceUnavailable("the database became unavailable while committing: the change may or may "
                                  "not have been saved; check before repeating it", retry_after_s=retry_after)
    return ServiceUnavailable("the database is unavailable; try again in a few seconds", retry_after_s=retry_after)
