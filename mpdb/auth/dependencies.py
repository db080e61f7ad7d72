"""FastAPI wiring for bearer-token authentication.

* `create_verifier(settings)` builds the one `TokenVerifier` an app uses: the configured external
  issuer and JWKS URL, or, when the dev IdP is enabled and no issuer is configured, the embedded
  dev IdP (its JWKS read in-process, so it works under uvicorn on any port without HTTP).
* `install_verifier(app, settings)` stores it on `app.state.verifier`;
  `close_verifier(app)` releases its HTTP client (call from the app's lifespan).
* `authenticate(request) -> Principal` is the dependency: reads `Authorization: Bearer`,
  verifies, and raises HTTP 401 with an RFC 6750 `WWW-Authenticate` header on any failure.
  If no verifier was installed it builds one from `app.state.settings` (or `get_settings()`)
  on first use and keeps it on `app.state`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, HTTPException, Request, status

from mpdb.auth.policy import get_policy
from mpdb.auth.principal import Principal
from mpdb.auth.registry import AgencyRegistry, CachedAgencyRegistry
from mpdb.auth.tokens import JwksCache, TokenError, TokenVerifier
from mpdb.domain.errors import ServiceUnavailable
from mpdb.graph.db import Graph
from mpdb.graph.repositories.records import ReferenceRepository
from mpdb.settings import Settings, get_settings

log = logging.getLogger(__name__)

REALM = "mpdb"
STATE_ATTR = "verifier"


class AuthConfigurationError(RuntimeError):
    """The resource server cannot be configured (no issuer / JWKS)."""


def graph_agency_registry(settings: Settings, graph: Graph | None = None) -> CachedAgencyRegistry:
    """The agency registry read from the graph: `graph` when given (the app's), else a driver of its own."""
    timing = {"refresh_seconds": settings.agency_registry_refresh_seconds,
              "miss_refresh_seconds": settings.agency_registry_miss_refresh_seconds}
    if graph is not None:
        return CachedAgencyRegistry(lambda: ReferenceRepository(graph).agency_kinds(), **timing)
    from mpdb.graph.driver import create_driver

    driver = create_driver(settings)
    own = Graph(driver, settings.neo4j_database, settings.neo4j_query_timeout_s)
    return CachedAgencyRegistry(lambda: ReferenceRepository(own).agency_kinds(), close=driver.close, **timing)


def create_verifier(settings: Settings, registry: AgencyRegistry | None = None, **overrides: Any) -> TokenVerifier:
    """Build the TokenVerifier for `settings`. `registry`: the agency registry tokens are checked
    against (default: the graph's, through a driver of its own). `overrides` go to `TokenVerifier`."""
    policy = get_policy(settings.policy_file)
    if settings.oauth_issuer:
        if not settings.oauth_jwks_url:
            raise AuthConfigurationError("MPDB_OAUTH_JWKS_URL is required with MPDB_OAUTH_ISSUER")
        issuer = settings.oauth_issuer
        jwks = JwksCache(
            url=settings.oauth_jwks_url,
            cache_seconds=settings.jwks_cache_seconds,
            min_refresh_seconds=settings.jwks_min_refresh_seconds,
        )
    elif settings.dev_idp_enabled and settings.env != "prod":
        from mpdb.auth import dev_idp  # only imported when the dev IdP is in use

        issuer = dev_idp.dev_idp_issuer(settings)
        if settings.oauth_jwks_url:
            jwks = JwksCache(
                url=settings.oauth_jwks_url,
                cache_seconds=settings.jwks_cache_seconds,
                min_refresh_seconds=settings.jwks_min_refresh_seconds,
            )
        else:

            async def _in_process_jwks() -> dict[str, Any]:
                return dev_idp.public_jwks(settings)

            jwks = JwksCache(
                loader=_in_process_jwks,
                cache_seconds=settings.jwks_cache_seconds,
                min_refresh_seconds=settings.jwks_min_refresh_seconds,
            )
    else:
        raise AuthConfigurationError(
            "no token issuer: set MPDB_OAUTH_ISSUER and MPDB_OAUTH_JWKS_URL "
            "(or enable the dev IdP outside prod)"
        )
    params: dict[str, Any] = {
        "issuer": issuer,
        "audience": settings.oauth_audience,
        "jwks": jwks,
        "policy": policy,
        "registry": registry if registry is not None else graph_agency_registry(settings),
        "agency_claim": settings.oauth_agency_claim,
        "agency_kind_claim": settings.oauth_agency_kind_claim,
        "role_claim": settings.oauth_role_claim,
        "scope_claim": settings.oauth_scope_claim,
        "leeway_seconds": settings.oauth_leeway_seconds,
    }
    params.update(overrides)
    return TokenVerifier(**params)


def install_verifier(app: FastAPI, settings: Settings | None = None) -> TokenVerifier:
    verifier = create_verifier(settings or get_settings())
    setattr(app.state, STATE_ATTR, verifier)
    return verifier


async def close_verifier(app: FastAPI) -> None:
    verifier = getattr(app.state, STATE_ATTR, None)
    if verifier is not None:
        await verifier.aclose()


def get_verifier(request: Request) -> TokenVerifier:
    state = request.app.state
    verifier = getattr(state, STATE_ATTR, None)
    if verifier is None:
        # No await between the check and the set: one verifier per app even under concurrency.
        settings = getattr(state, "settings", None) or get_settings()
        graph = getattr(state, "graph", None)
        verifier = create_verifier(settings, graph_agency_registry(settings, graph) if graph is not None else None)
        setattr(state, STATE_ATTR, verifier)
    return verifier


_UNSAFE = re.compile(r'[^\x20-\x7e]|["\\]')


def _challenge(error: str | None = None, description: str | None = None) -> str:
    value = f'Bearer realm="{REALM}"'
    if error:
        value += f', error="{error}"'
        if description:
            # RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E
            value += f', error_description="{_UNSAFE.sub("", description)[:200]}"'
    return value


def _unauthorized(error: str | None = None, description: str | None = None) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=description or "authentication required",
        headers={"WWW-Authenticate": _challenge(error, description)},
    )


def bearer_token(request: Request) -> str | None:
    """The bearer token of the request, None when there is none (no header, other scheme)."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    return token or None


async def authenticate(request: Request) -> Principal:
    """FastAPI dependency: the Principal of a valid bearer token, else HTTP 401."""
    token = bearer_token(request)
    if token is None:
        raise _unauthorized()
    if " " in token:
        raise _unauthorized("invalid_token", "malformed bearer token")
    verifier = get_verifier(request)
    try:
        principal = await verifier.verify(token)
    except TokenError as exc:
        log.info("bearer token rejected: %s (%s)", exc.reason, exc.description)
        raise _unauthorized("invalid_token", exc.description) from None
    except ServiceUnavailable:
        raise  # the agency registry could not be read: 503 (mpdb/api/availability.py), not 401
    except Exception:  # noqa: BLE001 - fail closed on anything unexpected
        log.exception("bearer token verification failed unexpectedly")
        raise _unauthorized("invalid_token", "token could not be verified") from None
    request.state.principal = principal
    return principal
