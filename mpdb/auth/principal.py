"""Who is calling: the principal a verified access token describes.

A Principal is only ever built by the token verifier (or, in tests and the CLI, by
`Principal.system`). Everything downstream (access scope, audit) reads it; nothing mutates it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class AgencyKind(StrEnum):
    POLICE_FORCE = "police_force"
    LOCAL_AUTHORITY = "local_authority"
    RHI_PROVIDER = "rhi_provider"
    NATIONAL_UNIT = "national_unit"
    INSPECTORATE = "inspectorate"
    SYSTEM = "system"  # the CLI importer and seeder acting on the operator's behalf


class Role(StrEnum):
    INVESTIGATOR = "investigator"
    CALL_HANDLER = "call_handler"
    MISSING_COORDINATOR = "missing_coordinator"
    LA_MISSING_LEAD = "la_missing_lead"
    SOCIAL_WORKER = "social_worker"
    RHI_PRACTITIONER = "rhi_practitioner"
    ANALYST = "analyst"
    AUDITOR = "auditor"
    OPERATOR = "operator"


class Scope(StrEnum):
    CHILD_READ = "child:read"
    CHILD_READ_SENSITIVE = "child:read:sensitive"
    EPISODE_WRITE = "episode:write"
    PLACEMENT_WRITE = "placement:write"
    RHI_WRITE = "rhi:write"
    RHI_READ_CONFIDENTIAL = "rhi:read:confidential"
    FLAG_WRITE = "flag:write"
    NOTIFICATION_WRITE = "notification:write"
    INTEL_READ = "intel:read"
    ANALYTICS_READ = "analytics:read"
    AUDIT_READ = "audit:read"
    IMPORT_WRITE = "import:write"
    IDENTITY_REVIEW = "identity:review"
    ALERTS_READ = "alerts:read"          # receive push alerts (subscription, console list)
    ALERTS_WEBHOOKS = "alerts:webhooks"  # register and manage the agency's webhooks


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    client_id: str
    agency_id: str
    agency_kind: AgencyKind
    role: Role
    scopes: frozenset[Scope] = field(default_factory=frozenset)

    def has(self, *scopes: Scope) -> bool:
        return all(s in self.scopes for s in scopes)

    @classmethod
    def system(cls, subject: str = "mpdb-cli", agency_id: str = "MPDB") -> Principal:
        """The operator running CLI imports and seeding: national reach, every write scope."""
        return cls(
            subject=subject,
            client_id="mpdb-cli",
            agency_id=agency_id,
            agency_kind=AgencyKind.SYSTEM,
            role=Role.OPERATOR,
            scopes=frozenset(Scope),
        )
