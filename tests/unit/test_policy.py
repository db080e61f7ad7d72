"""auth/policy.toml: loading, validation, and the grants the issue asks for."""

from __future__ import annotations

from pathlib import Path

import pytest

from mpdb.auth import policy as policy_mod
from mpdb.auth.policy import Policy, PolicyError, allowed, get_policy, load_policy, scopes_for
from mpdb.auth.principal import AgencyKind as K
from mpdb.auth.principal import Role as R
from mpdb.auth.principal import Scope as S

POLICE, LA, RHI, NATIONAL, INSPECTORATE = (
    K.POLICE_FORCE,
    K.LOCAL_AUTHORITY,
    K.RHI_PROVIDER,
    K.NATIONAL_UNIT,
    K.INSPECTORATE,
)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


EXPECTED = {
    (POLICE, R.INVESTIGATOR): {
        S.CHILD_READ, S.CHILD_READ_SENSITIVE, S.EPISODE_WRITE, S.FLAG_WRITE, S.INTEL_READ,
        S.NOTIFICATION_WRITE, S.IDENTITY_REVIEW, S.ALERTS_READ,
    },
    (NATIONAL, R.INVESTIGATOR): {
        S.CHILD_READ, S.CHILD_READ_SENSITIVE, S.EPISODE_WRITE, S.FLAG_WRITE, S.INTEL_READ,
        S.NOTIFICATION_WRITE, S.IDENTITY_REVIEW, S.ALERTS_READ,
    },
    (POLICE, R.CALL_HANDLER): {S.CHILD_READ, S.EPISODE_WRITE, S.ALERTS_READ},
    (POLICE, R.MISSING_COORDINATOR): {
        S.CHILD_READ, S.CHILD_READ_SENSITIVE, S.EPISODE_WRITE, S.FLAG_WRITE, S.INTEL_READ,
        S.NOTIFICATION_WRITE, S.IDENTITY_REVIEW, S.ALERTS_READ, S.ALERTS_WEBHOOKS,
    },
    (LA, R.LA_MISSING_LEAD): {
        S.CHILD_READ, S.CHILD_READ_SENSITIVE, S.EPISODE_WRITE, S.PLACEMENT_WRITE, S.FLAG_WRITE, S.INTEL_READ,
        S.NOTIFICATION_WRITE, S.RHI_READ_CONFIDENTIAL, S.IMPORT_WRITE, S.IDENTITY_REVIEW, S.ALERTS_READ,
        S.ALERTS_WEBHOOKS,
    },
    (LA, R.SOCIAL_WORKER): {
        S.CHILD_READ, S.CHILD_READ_SENSITIVE, S.PLACEMENT_WRITE, S.NOTIFICATION_WRITE, S.ALERTS_READ,
    },
    (RHI, R.RHI_PRACTITIONER): {S.CHILD_READ, S.RHI_WRITE, S.RHI_READ_CONFIDENTIAL, S.ALERTS_READ},
    (POLICE, R.ANALYST): {S.ANALYTICS_READ},
    (INSPECTORATE, R.ANALYST): {S.ANALYTICS_READ},
    (INSPECTORATE, R.AUDITOR): {S.AUDIT_READ, S.ANALYTICS_READ},
    (RHI, R.AUDITOR): {S.AUDIT_READ, S.ANALYTICS_READ},
}


@pytest.mark.parametrize(("pair", "scopes"), list(EXPECTED.items()), ids=lambda v: str(v))
def test_scopes_for_role(policy: Policy, pair: tuple[K, R], scopes: set[S]) -> None:
    assert policy.allowed(*pair)
    assert policy.scopes_for(*pair) == frozenset(scopes)


@pytest.mark.parametrize(
    "pair",
    [
        (INSPECTORATE, R.INVESTIGATOR),
        (LA, R.INVESTIGATOR),
        (RHI, R.INVESTIGATOR),
        (LA, R.CALL_HANDLER),
        (NATIONAL, R.CALL_HANDLER),
        (POLICE, R.LA_MISSING_LEAD),
        (POLICE, R.SOCIAL_WORKER),
        (RHI, R.SOCIAL_WORKER),
        (POLICE, R.RHI_PRACTITIONER),
        (INSPECTORATE, R.LA_MISSING_LEAD),
        (RHI, R.ANALYST),
        (K.SYSTEM, R.OPERATOR),
        (POLICE, R.OPERATOR),
        (K.SYSTEM, R.INVESTIGATOR),
    ],
    ids=lambda p: f"{p[0].value}-{p[1].value}",
)
def test_pairs_not_allowed(policy: Policy, pair: tuple[K, R]) -> None:
    assert not policy.allowed(*pair)
    assert policy.scopes_for(*pair) == frozenset()


def test_analytics_roles_never_read_children(policy: Policy) -> None:
    for (kind, role), scopes in policy.pairs().items():
        if role in (R.ANALYST, R.AUDITOR):
            assert S.CHILD_READ not in scopes and S.CHILD_READ_SENSITIVE not in scopes, kind


def test_every_non_reserved_role_is_held_by_someone(policy: Policy) -> None:
    held = {role for (_, role) in policy.pairs()}
    assert held == set(R) - {R.OPERATOR}


def test_unknown_strings_are_not_allowed(policy: Policy) -> None:
    assert not policy.allowed("police_force", "chief_constable")
    assert not policy.allowed("space_agency", "investigator")
    assert policy.scopes_for("nope", "nope") == frozenset()
    assert policy.allowed("police_force", "investigator")  # plain strings work


def test_effective_scopes_is_intersection(policy: Policy) -> None:
    requested = ["child:read", "audit:read", "import:write", "made:up", "episode:write"]
    assert policy.effective_scopes(POLICE, R.CALL_HANDLER, requested) == {
        S.CHILD_READ,
        S.EPISODE_WRITE,
    }
    assert policy.effective_scopes(POLICE, R.CALL_HANDLER, []) == frozenset()
    assert policy.effective_scopes(LA, R.INVESTIGATOR, ["child:read"]) == frozenset()


def test_roles_for(policy: Policy) -> None:
    assert policy.roles_for(INSPECTORATE) == {R.ANALYST, R.AUDITOR}
    assert policy.roles_for("nope") == frozenset()


def test_module_level_helpers_use_default_file() -> None:
    assert get_policy() is get_policy()
    assert allowed(POLICE, R.INVESTIGATOR)
    assert not allowed(INSPECTORATE, R.INVESTIGATOR)
    assert scopes_for(POLICE, R.CALL_HANDLER) == {S.CHILD_READ, S.EPISODE_WRITE, S.ALERTS_READ}
    assert policy_mod.DEFAULT_POLICY_FILE.name == "policy.toml"


# --- validation -------------------------------------------------------------------------------

KINDS = """
version = 1
[agency_kinds.police_force]
[agency_kinds.local_authority]
[agency_kinds.rhi_provider]
[agency_kinds.national_unit]
[agency_kinds.inspectorate]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    return path


def test_minimal_valid_policy_with_override(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        KINDS
        + """
[roles.analyst]
agency_kinds = ["police_force", "national_unit"]
scopes = ["analytics:read"]
[roles.analyst.by_agency_kind.national_unit]
add = ["intel:read"]
[roles.analyst.by_agency_kind.police_force]
remove = ["analytics:read"]
""",
    )
    p = load_policy(path)
    assert p.scopes_for(NATIONAL, R.ANALYST) == {S.ANALYTICS_READ, S.INTEL_READ}
    assert p.scopes_for(POLICE, R.ANALYST) == frozenset()
    assert p.allowed(POLICE, R.ANALYST)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (KINDS + '[roles.analyst]\nagency_kinds = ["police_force"]\nscopes = ["child:write"]\n',
         "child:write"),
        (KINDS + '[roles.analyst]\nagency_kinds = ["police_station"]\nscopes = []\n',
         "police_station"),
        (KINDS + '[roles.chief]\nagency_kinds = ["police_force"]\n', "chief"),
        (KINDS + '[roles.analyst]\nagency_kinds = []\n', "agency_kinds"),
        (KINDS + '[roles.analyst]\nagency_kinds = ["police_force"]\nscope = ["x"]\n', "scope"),
        (KINDS + '[roles.analyst]\nagency_kinds = ["police_force"]\n'
         '[roles.analyst.by_agency_kind.inspectorate]\nadd = ["audit:read"]\n',
         "may not hold"),
        (KINDS + '[roles.operator]\nagency_kinds = ["police_force"]\n', "reserved"),
        (KINDS + '[agency_kinds.system]\n[roles]\n', "reserved"),
        ("version = 1\n[agency_kinds.police_force]\n[roles]\n", "not declared"),
        (KINDS.replace("version = 1", "version = 2") + "[roles]\n", "version"),
        (KINDS + '[roles.analyst]\nagency_kinds = ["police_force", "police_force"]\n',
         "duplicates"),
        ("this is = = not toml", "not valid TOML"),
    ],
)
def test_invalid_policies_are_rejected(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        load_policy(_write(tmp_path, text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not found"):
        load_policy(tmp_path / "nope.toml")


# --- [sharing]: the choices docs/ACCESS.md explains, as data ---------------------------------------


def test_default_sharing_choices(policy: Policy) -> None:
    assert policy.sharing.locate_basis_agency_kinds == (K.POLICE_FORCE,)
    assert policy.sharing.locate_basis_writes == ("sighting", "companions", "found", "returned")
    assert set(policy.sharing.private_place_kinds) == {"residence", "foster_home", "address", "semi_independent"}


def test_sharing_choices_reach_the_access_scope(tmp_path: Path) -> None:
    from mpdb.auth.access import access_scope_for, check_episode_write
    from mpdb.auth.principal import Principal
    from mpdb.domain.errors import Forbidden

    path = _write(tmp_path, KINDS + """
[roles.analyst]
agency_kinds = ["police_force", "local_authority"]
scopes = ["analytics:read"]
[sharing]
locate_basis_agency_kinds = ["police_force", "local_authority"]
locate_basis_writes = ["sighting", "found", "returned", "riskAssessment"]
private_place_kinds = ["residence"]
""")
    p = load_policy(path)
    la = Principal(subject="s", client_id="c", agency_id="E10000016", agency_kind=K.LOCAL_AUTHORITY, role=R.ANALYST)
    scope = access_scope_for(la, p)
    assert scope.police is True and scope.cypher_params()["police"] is True
    assert scope.private_place_kinds == ("residence",)
    check_episode_write(scope, "locate", {"riskAssessment", "found"})  # allowed by this policy
    with pytest.raises(Forbidden) as refused:
        check_episode_write(scope, "locate", {"companions", "whereaboutsKnown"})
    assert refused.value.extensions == {"code": "FORBIDDEN", "field": "input.episodeId"}
    assert "not companions, whereaboutsKnown" in refused.value.message
    check_episode_write(scope, "record", {"whereaboutsKnown"})  # a caller reading the episode in full
    default = access_scope_for(la)  # the project's policy: no locate basis for an LA
    assert default.police is False


@pytest.mark.parametrize(("sharing", "message"), [
    ('locate_basis_writes = ["teleport"]', "teleport"),
    ('private_place_kinds = ["castle"]', "castle"),
    ('locate_basis_agency_kinds = ["army"]', "army"),
    ('share_everything = true', "share_everything"),
])
def test_invalid_sharing_choices_are_rejected(tmp_path: Path, sharing: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        load_policy(_write(tmp_path, KINDS + "[roles]\n[sharing]\n" + sharing + "\n"))
