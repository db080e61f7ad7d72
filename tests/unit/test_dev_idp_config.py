"""The dev IdP's data files (auth/dev_users.toml, auth/dev_clients.toml) and their validation."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from mpdb.auth import dev_idp
from mpdb.auth.dev_idp import (
    AuthorizationCodes,
    AuthorizationGrant,
    DevClient,
    DevIdpError,
    load_dev_clients,
    load_dev_users,
)
from mpdb.auth.policy import get_policy
from mpdb.auth.principal import AgencyKind, Role
from mpdb.settings import PROJECT_ROOT

AUTH = PROJECT_ROOT / "auth"
REFERENCE = PROJECT_ROOT / "seed" / "reference"


def _clients():  # type: ignore[no-untyped-def]
    return load_dev_clients(AUTH / "dev_clients.toml", get_policy())


def _users(path: Path = AUTH / "dev_users.toml"):  # type: ignore[no-untyped-def]
    return load_dev_users(path, get_policy(), _clients())


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "dev_users.toml"
    path.write_text("version = 1\n" + body, encoding="utf-8")
    return path


def test_the_users_the_console_needs() -> None:
    users = {u.id: (u.agency_id, u.agency_kind, u.role) for u in _users()}
    assert users["kent-investigator"] == ("E23000032", AgencyKind.POLICE_FORCE, Role.INVESTIGATOR)
    assert users["kent-analyst"] == ("E23000032", AgencyKind.POLICE_FORCE, Role.ANALYST)
    assert users["staffordshire-investigator"] == ("E23000015", AgencyKind.POLICE_FORCE, Role.INVESTIGATOR)
    assert users["kent-la-missing-lead"] == ("E10000016", AgencyKind.LOCAL_AUTHORITY, Role.LA_MISSING_LEAD)
    assert users["birmingham-la-missing-lead"] == ("E08000025", AgencyKind.LOCAL_AUTHORITY, Role.LA_MISSING_LEAD)
    assert users["stoke-la-missing-lead"] == ("E06000021", AgencyKind.LOCAL_AUTHORITY, Role.LA_MISSING_LEAD)
    assert users["kent-la-analyst"] == ("E10000016", AgencyKind.LOCAL_AUTHORITY, Role.ANALYST)
    assert users["nca-investigator"] == ("NCA-MPU", AgencyKind.NATIONAL_UNIT, Role.INVESTIGATOR)
    assert users["nca-auditor"] == ("NCA-MPU", AgencyKind.NATIONAL_UNIT, Role.AUDITOR)
    # every role some agency kind may hold has someone to sign in as
    assert {r for (_, _, r) in users.values()} == set(Role) - {Role.OPERATOR}


def test_every_user_is_synthetic_and_its_agency_is_in_the_reference_csvs() -> None:
    known: set[str] = set()
    for name in ("police_forces.csv", "local_authorities.csv"):
        with open(REFERENCE / name, newline="", encoding="utf-8") as f:
            known |= {row["code"] for row in csv.DictReader(f)}
    from mpdb.ingest.reference import NATIONAL_AGENCIES, RHI_PROVIDERS

    known |= {a.id for a in NATIONAL_AGENCIES + RHI_PROVIDERS}
    for user in _users():
        assert user.name.endswith("(synthetic)"), user
        assert user.agency_id in known, user
    assert _users().get("birmingham-la-missing-lead").agency_name == "Birmingham"  # type: ignore[union-attr]
    assert _users().get("kent-la-analyst").agency_name == "Kent County Council"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[users]]\nid = "b"\nname = "B"\nagency_id = "E08000025"\nrole = "investigator"\n',
         "id"),  # too short an id
        ('[[users]]\nid = "bham-investigator"\nname = "B"\nagency_id = "E08000025"\nrole = "investigator"\n',
         "role investigator is not allowed for a local_authority"),
        ('[[users]]\nid = "nowhere-lead"\nname = "N"\nagency_id = "E06999999"\nrole = "la_missing_lead"\n',
         "agency 'E06999999' is neither in dev_clients.toml nor in the reference data"),
        ('[[users]]\nid = "x-analyst"\nname = "X"\nagency_id = "OFSTED"\nrole = "analyst"\n' * 2,
         "duplicate user id(s): x-analyst"),
        ('[[users]]\nid = "x-analyst"\nname = "X"\nagency_id = "OFSTED"\nrole = "analyst"\n'
         '[[users]]\nid = "y-analyst"\nname = "X"\nagency_id = "OFSTED"\nrole = "analyst"\n',
         "duplicate user name(s): X"),
        ('[[users]]\nid = "x-analyst"\nname = "X"\nagency_id = "OFSTED"\nrole = "chief"\n', "role"),
        ('[[users]]\nid = "x-analyst"\nname = "X"\nagency_id = "OFSTED"\nrole = "analyst"\npassword = "p"\n',
         "password"),
        ("users = []\n", "users"),
    ],
)
def test_invalid_users_file_refused(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(DevIdpError, match="dev users file|dev user") as info:
        _users(_write(tmp_path, body))
    assert message in str(info.value)


def test_existing_confidential_clients_unchanged() -> None:
    clients = _clients()
    kent = clients.get("kent-police")
    assert kent is not None and not kent.public
    assert kent.client_secret == "dev-only-kent-police-secret"
    assert kent.grant_types == ("client_credentials",)
    assert kent.agency_kind is AgencyKind.POLICE_FORCE
    assert [c.client_id for c in clients.for_agency("E23000032")] == ["kent-police"]


def test_console_is_a_public_client() -> None:
    console = _clients().get("mpdb-console")
    assert console is not None
    assert console.public and console.client_secret is None
    assert console.grant_types == ("authorization_code",)
    assert console.agency_id is None and console.roles == ()


@pytest.mark.parametrize(
    ("uri", "allowed"),
    [
        ("http://127.0.0.1:8000/auth/callback", True),
        ("http://127.0.0.1:1/auth/callback", True),
        ("http://127.0.0.1/auth/callback", True),
        ("http://localhost:65535/auth/callback", True),
        ("http://LOCALHOST:8711/auth/callback", True),
        ("http://127.0.0.1:8000/auth/callback/", False),
        ("http://127.0.0.1:8000/auth/Callback", False),
        ("http://127.0.0.1:8000/auth/callback?x=1", False),
        ("http://127.0.0.1:8000/auth/callback#x", False),
        ("http://127.0.0.1:65536/auth/callback", False),
        ("http://127.0.0.1:port/auth/callback", False),
        ("http://127.0.0.2:8000/auth/callback", False),
        ("http://localhost.evil.example:8000/auth/callback", False),
        ("http://user:pw@localhost:8000/auth/callback", False),
        ("https://localhost:8000/auth/callback", False),
        ("//127.0.0.1:8000/auth/callback", False),
        ("/auth/callback", False),
        ("", False),
    ],
)
def test_console_redirect_uris_follow_the_loopback_rule(uri: str, allowed: bool) -> None:
    console = _clients().get("mpdb-console")
    assert console is not None
    assert console.allows_redirect(uri) is allowed


def test_exact_redirect_uris_compare_as_strings() -> None:
    client = DevClient(client_id="c", public=True, grant_types=("authorization_code",),
                       redirect_uris=("https://console.dev.example/auth/callback",))
    assert client.allows_redirect("https://console.dev.example/auth/callback")
    assert not client.allows_redirect("https://console.dev.example/auth/callback?x")
    assert not client.allows_redirect("https://CONSOLE.dev.example/auth/callback")
    assert not client.allows_redirect("http://127.0.0.1:8000/auth/callback")  # no loopback paths


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"public": True, "client_secret": "dev-only-secret", "grant_types": ("authorization_code",),
          "loopback_redirect_paths": ("/cb",)}, "a public client has no client_secret"),
        ({"grant_types": ("authorization_code",), "loopback_redirect_paths": ("/cb",)},
         "client_secret is required"),
        ({"public": True, "grant_types": ("client_credentials",), "agency_id": "OFSTED",
          "agency_kind": "inspectorate", "roles": ("analyst",)}, "a public client cannot use client_credentials"),
        ({"client_secret": "dev-only-secret"}, "client_credentials needs agency_id, agency_kind and roles"),
        ({"public": True, "grant_types": ("authorization_code",)}, "authorization_code needs redirect URIs"),
        ({"public": True, "grant_types": ("authorization_code",), "redirect_uris": ("https://x.example/cb#f",)},
         "without a fragment"),
        ({"public": True, "grant_types": ("authorization_code",), "loopback_redirect_paths": ("cb",)},
         "must be an absolute path"),
        ({"public": True, "grant_types": ("implicit",), "loopback_redirect_paths": ("/cb",)}, "grant_types"),
    ],
)
def test_invalid_clients_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as info:
        DevClient.model_validate({"client_id": "c", **fields})
    assert message in str(info.value)


def test_codes_are_one_time_and_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    now = 1_000_000.0
    monkeypatch.setattr(dev_idp, "_now", lambda: now)
    codes = AuthorizationCodes()

    def grant() -> AuthorizationGrant:
        return AuthorizationGrant("mpdb-console", "http://127.0.0.1:1/auth/callback", "c" * 43, "n",
                                  "kent-investigator", ("openid",), int(now), now + 60)

    first, second = codes.issue(grant()), codes.issue(grant())
    assert first != second and len(first) == 43
    assert isinstance(codes.redeem(first), AuthorizationGrant)
    assert codes.redeem(first) == "replayed"
    assert codes.redeem("no-such-code") == "unknown"
    now += 60
    assert codes.redeem(second) == "expired"
    codes.issue(grant())  # purges what has expired
    assert codes.redeem(first) == "unknown"
