"""The ONLY code that turns a principal into what it may see.

Repositories take an `AccessScope` and pass `scope.cypher_params()` to every query that touches
personal data; the Cypher decides visibility from the derived access lists on `Child` and
`Episode` (see graph_schema/MODEL.md). `AccessScope` can only be built by `access_scope_for`, so a
repository call without a scope does not type-check, and a scope cannot be forged from input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mpdb.auth.policy import Policy, get_policy
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
    police: bool  # the locate basis applies to this caller's agency kind (policy [sharing])
    locate_writes: frozenset[str]  # what it may record on another force's open episode
    private_place_kinds: tuple[str, ...]  # places shown exactly only to a caller entitled to them
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


def check_episode_write(scope: AccessScope, basis: str, writes: set[str], field: str = "input.episodeId") -> None:
    """Refuse a write to an episode held only on the locate basis that is not a locate fact.

    `basis` is what the data layer found: 'record' (the caller may read the episode in full) or
    'locate' (only the locate basis applies); `writes` names what the mutation would record. What a
    locate-basis caller may record is policy data (`[sharing] locate_basis_writes`): the facts of
    finding the child; grading the risk stays with the investigating force (docs/ACCESS.md)."""
    if basis == "record":
        return
    refused = sorted(writes - scope.locate_writes)
    if refused:
        raise Forbidden(f"Forbidden: on another force's open episode you may record sightings, companions, the "
                        f"finding and the return, not {', '.join(refused)}", field=field)


def check_pair_decision(scope: AccessScope, low_visible: bool, high_visible: bool,
                        field: str = "input.candidateId") -> None:
    """Refuse a decision on a possible-duplicate pair the caller may not make (docs/ACCESS.md,
    identities): the national unit, or an agency that may read both records, decides. (A pair the
    caller cannot see at all is answered by the service as one that does not exist.)"""
    if scope.national or (low_visible and high_visible):
        return
    raise Forbidden("you may read only one of the two records: the national unit or an agency that may "
                    "read both decides this pair", field=field)


def access_scope_for(principal: Principal, policy: Policy | None = None) -> AccessScope:
    """The caller's scope; `policy` (default: auth/policy.toml) supplies the sharing choices."""
    sharing = (policy or get_policy()).sharing
    return AccessScope(
        police=principal.agency_kind in sharing.locate_basis_agency_kinds,
        locate_writes=frozenset(sharing.locate_basis_writes),
        private_place_kinds=tuple(sorted(sharing.private_place_kinds)),
        principal=principal,
        national=principal.agency_kind in _NATIONAL_KINDS,
        aggregates_only=principal.agency_kind is AgencyKind.INSPECTORATE
        or (principal.has(Scope.ANALYTICS_READ) and not principal.has(Scope.CHILD_READ)),
        _token=_FACTORY_TOKEN,
    )
