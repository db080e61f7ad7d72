"""The ONLY code that turns a principal into what it may see.

Repositories take an `AccessScope` and pass `scope.cypher_params()` to every query that touches
personal data; the Cypher decides visibility from the derived access lists on `Child` and
`Episode` (see graph_schema/MODEL.md). `AccessScope` can only be built by `access_scope_for`, so a
repository call without a scope does not type-check, and a scope cannot be forged from input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mpdb.auth.principal import AgencyKind, Principal, Scope
from mpdb.domain.errors import Forbidden

_FACTORY_TOKEN = object()

# Agencies whose reach is national: they read every child's record (subject to their scopes).
_NATIONAL_KINDS = frozenset({AgencyKind.NATIONAL_UNIT, AgencyKind.SYSTEM})


@dataclass(frozen=True, slots=True)
class AccessScope:
    principal: Principal
    national: bool
    aggregates_only: bool
    _token: object

    def __post_init__(self) -> None:
        if self._token is not _FACTORY_TOKEN:
            raise TypeError("AccessScope is built only by mpdb.auth.access.access_scope_for")

    @property
    def agency_id(self) -> str:
        return self.principal.agency_id

    @property
    def can_read_confidential_rhi(self) -> bool:
        return self.principal.has(Scope.RHI_READ_CONFIDENTIAL) and self.principal.agency_kind in (
            AgencyKind.RHI_PROVIDER,
            AgencyKind.LOCAL_AUTHORITY,
            AgencyKind.SYSTEM,
        )

    def cypher_params(self) -> dict[str, Any]:
        """Parameters every scoped query receives: `$agencyId` and `$national`."""
        return {"agencyId": self.principal.agency_id, "national": self.national}

    def named_record_params(self) -> dict[str, Any]:
        """`cypher_params()` for reads that return an individual child's record (names, episodes).

        Aggregates-only callers (analysts, inspectorates) never get one, whatever scopes a token
        claims: the refusal sits here, in the data layer, so a resolver that forgot its scope check
        still cannot hand an analyst a named child."""
        if self.aggregates_only:
            raise Forbidden("Forbidden: this token is for aggregates only, not individual children's records")
        return self.cypher_params()

    def return_interview_params(self) -> dict[str, Any]:
        """`named_record_params()` plus `$canReadConfidential`, for reads of return interviews.

        The flag is only half the rule: RHI_CONFIDENTIAL_VISIBLE in the Cypher also demands that
        the caller's agency is entitled to the particular interview, so the child's account is
        dropped inside Neo4j for everyone else."""
        return {**self.named_record_params(), "canReadConfidential": self.can_read_confidential_rhi}


def access_scope_for(principal: Principal) -> AccessScope:
    return AccessScope(
        principal=principal,
        national=principal.agency_kind in _NATIONAL_KINDS,
        aggregates_only=principal.agency_kind is AgencyKind.INSPECTORATE
        or (principal.has(Scope.ANALYTICS_READ) and not principal.has(Scope.CHILD_READ)),
        _token=_FACTORY_TOKEN,
    )
