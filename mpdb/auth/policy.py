"""Access policy as data: `auth/policy.toml`, loaded and validated here.

The policy answers two questions and nothing else:

* `allowed(agency_kind, role)`: may an agency of this kind hold this role at all?
* `scopes_for(agency_kind, role)`: the scopes the role gets at that kind of agency (the ceiling).

A token's effective scopes are `requested ∩ scopes_for(kind, role)` (`Policy.effective_scopes`),
so a token can never exceed the policy. Anything unknown (a kind, role or scope string that is not
in the enums, or a pair the policy does not allow) yields "not allowed" / an empty set, never an
exception, so callers can pass claim values straight in.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mpdb.auth.principal import AgencyKind, Role, Scope
from mpdb.domain.places import PRIVATE_PLACE_KINDS

DEFAULT_POLICY_FILE = Path(__file__).resolve().parents[2] / "auth" / "policy.toml"

# Never granted by the policy: they exist only for the CLI operator (`Principal.system`).
_RESERVED_KINDS = frozenset({AgencyKind.SYSTEM})
_RESERVED_ROLES = frozenset({Role.OPERATOR})


class PolicyError(ValueError):
    """The policy file is missing, not TOML, or not a valid policy."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgencyKindSpec(_Strict):
    description: str = ""


class KindOverride(_Strict):
    add: tuple[Scope, ...] = ()
    remove: tuple[Scope, ...] = ()


class RoleSpec(_Strict):
    description: str = ""
    agency_kinds: Annotated[tuple[AgencyKind, ...], Field(min_length=1)]
    scopes: tuple[Scope, ...] = ()
    by_agency_kind: dict[AgencyKind, KindOverride] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> RoleSpec:
        if len(set(self.agency_kinds)) != len(self.agency_kinds):
            raise ValueError("agency_kinds has duplicates")
        if len(set(self.scopes)) != len(self.scopes):
            raise ValueError("scopes has duplicates")
        for kind in self.by_agency_kind:
            if kind not in self.agency_kinds:
                raise ValueError(f"by_agency_kind.{kind}: {kind} may not hold this role")
        return self


# What a caller on the locate basis may record on another force's open episode (the names
# mpdb.services.writes uses for what a mutation records).
EpisodeWrite = Literal["sighting", "companions", "found", "returned", "riskAssessment", "whereaboutsKnown"]
PlaceKind = Literal["residence", "childrens_home", "foster_home", "semi_independent", "secure_unit",
                    "public_place", "transport_hub", "retail", "park", "address", "other"]


class SharingSpec(_Strict):
    """The sharing choices docs/ACCESS.md explains, as data (defaults: the documented choices)."""

    locate_basis_agency_kinds: tuple[AgencyKind, ...] = (AgencyKind.POLICE_FORCE,)
    locate_basis_writes: tuple[EpisodeWrite, ...] = ("sighting", "companions", "found", "returned")
    private_place_kinds: tuple[PlaceKind, ...] = tuple(sorted(PRIVATE_PLACE_KINDS))  # type: ignore[assignment]


class PolicyDocument(_Strict):
    version: int = Field(ge=1, le=1)
    agency_kinds: dict[AgencyKind, AgencyKindSpec]
    roles: dict[Role, RoleSpec]
    sharing: SharingSpec = SharingSpec()
    # Requests per minute per agency of a kind (the API's rate limit); kinds not listed get
    # MPDB_RATE_LIMIT_PER_MINUTE.
    rate_limits: dict[AgencyKind, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> PolicyDocument:
        reserved_kinds = _RESERVED_KINDS & set(self.agency_kinds)
        if reserved_kinds:
            raise ValueError(f"agency kinds {sorted(reserved_kinds)} are reserved for the CLI")
        reserved_roles = _RESERVED_ROLES & set(self.roles)
        if reserved_roles:
            raise ValueError(f"roles {sorted(reserved_roles)} are reserved for the CLI")
        if _RESERVED_KINDS & set(self.rate_limits):
            raise ValueError("rate_limits: the CLI's kind is never rate limited")
        missing = set(AgencyKind) - _RESERVED_KINDS - set(self.agency_kinds)
        if missing:
            raise ValueError(f"agency kinds not declared: {sorted(missing)}")
        for name, role in self.roles.items():
            undeclared = set(role.agency_kinds) - set(self.agency_kinds)
            if undeclared:
                raise ValueError(f"roles.{name}: undeclared agency kinds {sorted(undeclared)}")
        return self


class Policy:
    """The validated policy: an immutable (agency kind, role) -> scopes table."""

    def __init__(self, document: PolicyDocument) -> None:
        self.document = document
        table: dict[tuple[AgencyKind, Role], frozenset[Scope]] = {}
        for role, spec in document.roles.items():
            for kind in spec.agency_kinds:
                scopes = set(spec.scopes)
                override = spec.by_agency_kind.get(kind)
                if override is not None:
                    scopes |= set(override.add)
                    scopes -= set(override.remove)
                table[(kind, role)] = frozenset(scopes)
        self._table = table

    @staticmethod
    def _coerce(agency_kind: AgencyKind | str, role: Role | str) -> tuple[AgencyKind, Role] | None:
        try:
            return AgencyKind(agency_kind), Role(role)
        except ValueError:
            return None

    def allowed(self, agency_kind: AgencyKind | str, role: Role | str) -> bool:
        key = self._coerce(agency_kind, role)
        return key is not None and key in self._table

    def scopes_for(self, agency_kind: AgencyKind | str, role: Role | str) -> frozenset[Scope]:
        key = self._coerce(agency_kind, role)
        if key is None:
            return frozenset()
        return self._table.get(key, frozenset())

    def effective_scopes(
        self, agency_kind: AgencyKind | str, role: Role | str, requested: Iterable[str]
    ) -> frozenset[Scope]:
        """`requested ∩ scopes_for(kind, role)`; unknown scope strings are dropped."""
        wanted = {str(s) for s in requested}
        return frozenset(s for s in self.scopes_for(agency_kind, role) if s.value in wanted)

    def roles_for(self, agency_kind: AgencyKind | str) -> frozenset[Role]:
        try:
            kind = AgencyKind(agency_kind)
        except ValueError:
            return frozenset()
        return frozenset(r for (k, r) in self._table if k is kind)

    def pairs(self) -> dict[tuple[AgencyKind, Role], frozenset[Scope]]:
        return dict(self._table)

    @property
    def sharing(self) -> SharingSpec:
        return self.document.sharing

    @property
    def rate_limits(self) -> dict[AgencyKind, int]:
        return dict(self.document.rate_limits)


def load_policy(path: Path | str | None = None) -> Policy:
    """Read and validate a policy file (default: `auth/policy.toml`). Raises `PolicyError`."""
    file = Path(path) if path is not None else DEFAULT_POLICY_FILE
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PolicyError(f"policy file not found: {file}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"policy file {file} is not valid TOML: {exc}") from exc
    try:
        return Policy(PolicyDocument.model_validate(raw))
    except ValidationError as exc:
        raise PolicyError(f"policy file {file} is invalid:\n{exc}") from exc


@lru_cache(maxsize=8)
def _cached(path: str) -> Policy:
    return load_policy(path)


def get_policy(path: Path | str | None = None) -> Policy:
    """The policy for `path` (default file when None), loaded once per process."""
    return _cached(str(Path(path) if path is not None else DEFAULT_POLICY_FILE))


def scopes_for(agency_kind: AgencyKind | str, role: Role | str) -> frozenset[Scope]:
    """Scopes the default policy grants `role` at an agency of `agency_kind` (empty if none)."""
    return get_policy().scopes_for(agency_kind, role)


def allowed(agency_kind: AgencyKind | str, role: Role | str) -> bool:
    """Whether the default policy lets an agency of `agency_kind` hold `role`."""
    return get_policy().allowed(agency_kind, role)
