"""Client errors with stable codes. The API turns them into GraphQL errors whose
`extensions` carry `code` (and `field` when one input is at fault); anything else is an internal
error and is masked."""

from __future__ import annotations


class MpdbError(Exception):
    code = "BAD_REQUEST"

    def __init__(self, message: str, *, field: str | None = None, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    @property
    def extensions(self) -> dict[str, object]:  # read by graphql-core for the error's extensions
        ext: dict[str, object] = {"code": self.code}
        if self.field:
            ext["field"] = self.field
        ext.update(self.details)
        return ext


class InvalidInput(MpdbError):
    code = "BAD_USER_INPUT"


class Forbidden(MpdbError):
    code = "FORBIDDEN"


class PurposeRequired(MpdbError):
    code = "PURPOSE_REQUIRED"


class NotFound(MpdbError):
    """Raised only for writes that name a record the caller cannot see: the same message whether
    it does not exist or is invisible, so no existence oracle."""

    code = "NOT_FOUND"


class Conflict(MpdbError):
    code = "CONFLICT"


class RuleViolation(MpdbError):
    code = "RULE_VIOLATION"


class RateLimited(MpdbError):
    code = "RATE_LIMITED"


class ServiceUnavailable(MpdbError):
    """The database could not be reached within the retry budget: nothing was read or written
    (or, for a write cut off at commit, see the message), and the same request may be retried."""

    code = "SERVICE_UNAVAILABLE"

    def __init__(self, message: str, *, retry_after_s: int = 5) -> None:
        super().__init__(message, retryAfter=max(1, retry_after_s))
        self.retry_after_s = max(1, retry_after_s)
