"""`mpdb token`: print a development access token from the embedded dev IdP.

Wire it with `app.command("token")(token)`. Refused outside env dev/test.
"""

from __future__ import annotations

from typing import Annotated

import typer

from mpdb.settings import Settings, get_settings


def _roles_by_kind() -> str:
    """The roles each agency kind may hold, from auth/policy.toml, for `--help`."""
    from mpdb.auth.policy import get_policy
    from mpdb.auth.principal import AgencyKind

    try:
        policy_file = get_settings().policy_file
    except ValueError:  # a malformed setting: the command that runs reports it (mpdb/cli_errors.py)
        policy_file = Settings.model_fields["policy_file"].default
    policy = get_policy(policy_file)
    lines = []
    for kind in AgencyKind:
        roles = sorted(r.value for r in policy.roles_for(kind))
        if roles:
            lines.append(f"{kind.value}: {', '.join(roles)}")
    return "\n\n".join(lines)


def token(
    agency: Annotated[str, typer.Option("--agency", help="Agency id from the reference data: a force or LA by "
                                        "ONS GSS code (E23000032 Kent Police, E10000016 Kent County Council), "
                                        "RHI-SOUTH, NCA-MPU, OFSTED ...; its kind comes from the registry")],
    role: Annotated[str, typer.Option("--role", help="Role, e.g. investigator")],
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="Scope to request (repeatable); default: all the role's"),
    ] = None,
) -> None:
    """Print a development access token (dev/test only) for AGENCY acting as ROLE."""
    settings = get_settings()
    if settings.env not in ("dev", "test"):
        typer.echo(
            f"mpdb token is for development only: refused in env={settings.env}. "
            "Get tokens from your identity provider.",
            err=True,
        )
        raise typer.Exit(code=2)

    from mpdb.auth.dev_idp import DevIdpDisabledError, DevIdpError, mint_dev_token

    scopes: list[str] | None = None
    if scope:
        scopes = [s for item in scope for s in item.replace(",", " ").split()]
    try:
        value = mint_dev_token(settings, agency, role, scopes)
    except DevIdpDisabledError as exc:
        typer.echo(f"mpdb token: {exc}", err=True)
        raise typer.Exit(code=2) from None
    except (DevIdpError, ValueError) as exc:
        typer.echo(f"mpdb token: {exc}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(value)


token.__doc__ = (f"{token.__doc__}\n\nRoles per agency kind (auth/policy.toml):\n\n{_roles_by_kind()}")
