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

    @property
    def police(self) -> bool:
        """A police force: the locate basis (docs/ACCESS.md) applies to it."""
        return self.principal.agency_kind is AgencyKind.POLICE_FORCE

    def cypher_params(self) -> dict[str, Any]:
        """Parameters every scoped query receives: `$agencyId`, `$national` and `$police`."""
        return {"agencyId": self.principal.agency_id, "national": self.national, "police": self.police}

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


# What a caller may write to an episode it holds only on the locate basis (a force that is not the
# episode's own): the facts of finding the child. Grading the risk, changing what the reporting
# force or the child's LA recorded, stays with them.
LOCATE_BASIS_WRITES = frozenset({"sighting", "companions", "found", "returned"})


def check_episode_write(basis: str, writes: set[str], field: str = "input.episodeId") -> None:
    """Refuse a write to an episode held on the locate basis that is not a locate fact.

    `basis` is what the data layer found: 'record' (the caller may read the episode in full) or
    'locate' (only the locate basis applies); `writes` names what the mutation would record."""
    if basis == "record":
        return
    refused = sorted(writes - LOCATE_BASIS_WRITES)
    if refused:
        raise Forbidden(f"Forbidden: on another force's open episode you may record sightings, companions, the "
                        f"finding and the return, not {', '.join(refused)}", field=field)


def access_scope_for(principal: Principal) -> AccessScope:
    return AccessScope(
        principal=principal,
        national=principal.agency_kind in _NATIONAL_KINDS,
        aggregates_only=principal.agency_kind is AgencyKind.INSPECTORATE
        or (principal.has(Scope.ANALYTICS_READ) and not principal.has(Scope.CHILD_READ)),
        _token=_FACTORY_TOKEN,
    )
