"""Every setting mpdb reads, from the environment (prefix MPDB_, plus the standard NEO4J_* names).

One Settings class, built once per process by `get_settings()`. Outside `env=dev` it refuses the
development defaults (dev identity provider, GraphiQL, introspection) so a production deploy
cannot start with them by accident.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MPDB_", env_file=".env", env_ignore_empty=True, extra="ignore"
    )

    env: Literal["dev", "test", "prod"] = "dev"

    # --- Neo4j -----------------------------------------------------------------------------
    # When NEO4J_URI is set mpdb uses that server and manages nothing (Docker, Aura, a cluster).
    # When it is not set, mpdb uses the local server it provisions under `state_dir`.
    neo4j_uri: str | None = Field(default=None, validation_alias=AliasChoices("NEO4J_URI", "MPDB_NEO4J_URI"))
    neo4j_user: str = Field(default="neo4j", validation_alias=AliasChoices("NEO4J_USERNAME", "NEO4J_USER", "MPDB_NEO4J_USER"))
    neo4j_password: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("NEO4J_PASSWORD", "MPDB_NEO4J_PASSWORD")
    )
    neo4j_database: str = Field(default="neo4j", validation_alias=AliasChoices("NEO4J_DATABASE", "MPDB_NEO4J_DATABASE"))
    neo4j_query_timeout_s: float = 30.0
    # How long a request (and a CLI command) keeps trying to reach Neo4j before it gives up with
    # HTTP 503 / SERVICE_UNAVAILABLE (or a one-line CLI error): connecting, waiting for a pooled
    # connection and retrying transient failures all fit in it. The query itself is bounded by
    # neo4j_query_timeout_s, not by this.
    neo4j_retry_budget_s: float = Field(default=5.0, gt=0, le=300)

    # --- the project-managed local Neo4j ------------------------------------------------------
    state_dir: Path = PROJECT_ROOT / ".mpdb"
    local_bolt_port: int = 7687
    local_heap: str = "2g"
    local_pagecache: str = "1g"

    # --- HTTP API --------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8000
    graphiql: bool | None = None  # default: on in dev only
    introspection: bool | None = None  # default: on in dev/test only
    # The deepest path of the real schema is 7 (searchChildren > nodes > child > episodes > nodes >
    # places > location): 6 keeps the limit binding (tests/e2e/test_bad_input.py) while every
    # console page needs at most 5.
    max_query_depth: int = 6
    max_aliases: int = 15
    max_tokens: int = 2000
    max_page_size: int = 100
    # Largest /graphql request body, counted as it is read (chunked bodies too): 413 beyond it.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # Key that signs page cursors (mpdb/api/pagination.py). Default: a random key made once in
    # <state_dir>/cursor.key, so every worker and restart on this host agrees; set it (the same
    # on every host) when several hosts serve one API.
    cursor_key: SecretStr | None = None
    # Worker processes `mpdb serve` runs. Default: 1 in dev and test; in prod, one per CPU this
    # process may use (each worker is one Python process, so one core at most).
    workers: int | None = Field(default=None, ge=1, le=64)
    # Where the workers on one host share console sessions, sign-ins in progress, dev-IdP codes and
    # rate-limit buckets (SQLite files). Default: <state_dir>/shared/<port> when workers > 1, else
    # process memory. Several hosts: see docs/DEPLOY.md (Redis for the rate limit, sticky console).
    shared_state_dir: Path | None = None
    rate_limit_per_minute: int = 600  # per agency, unless auth/policy.toml sets one for its kind
    rate_limit_redis_url: SecretStr | None = None  # redis://...: one budget across several hosts

    # --- OAuth2 resource server ------------------------------------------------------------
    oauth_issuer: str | None = None
    oauth_audience: str = "mpdb"
    oauth_jwks_url: str | None = None
    oauth_agency_claim: str = "agency"
    oauth_role_claim: str = "role"
    oauth_scope_claim: str = "scope"
    oauth_agency_kind_claim: str = "agency_kind"
    oauth_leeway_seconds: int = 30  # clock skew allowed on exp / nbf / iat
    # The issuer's JWKS is cached this long; a token with an unknown kid, or whose signature fails
    # under the key held for its kid (rotation under the same kid), triggers an early refetch, at
    # most one per jwks_min_refresh_seconds. README "Settings" documents both.
    jwks_cache_seconds: int = Field(default=600, ge=0)
    jwks_min_refresh_seconds: float = Field(default=30.0, ge=0)
    # The agency registry tokens are checked against (mpdb/auth/registry.py): re-read this often,
    # and at most this often when a token names an agency it does not know.
    agency_registry_refresh_seconds: float = 60.0
    agency_registry_miss_refresh_seconds: float = 5.0
    policy_file: Path = PROJECT_ROOT / "auth" / "policy.toml"
    dev_clients_file: Path = PROJECT_ROOT / "auth" / "dev_clients.toml"
    dev_idp: bool | None = None  # embedded dev token endpoint; default on in dev only
    dev_idp_issuer: str | None = None  # default: http://{host}:{port}/dev-idp

    # --- web console (mpdb/console, served at /) ------------------------------------------
    console: bool = True
    # The OpenID provider users sign in with (authorization code + PKCE). Default: MPDB_OAUTH_ISSUER,
    # else the embedded dev IdP. Its access tokens must be for `oauth_audience`, as the API's are.
    console_oidc_issuer: str | None = None
    console_client_id: str = "mpdb-console"
    console_client_secret: SecretStr | None = None  # a confidential client; PKCE is used either way
    console_base_url: str | None = None  # the console's public URL (redirect URI); default: the request's
    console_session_idle_minutes: int = 30
    console_cookie_secure: bool = True

    # --- operations (docs/OPERATIONS.md) ----------------------------------------------------
    # Log lines: json (default outside dev) or console (key=value, default in dev). Read from the
    # environment by mpdb/logging.py before settings exist; declared here to be documented and checked.
    log_format: Literal["json", "console"] | None = None
    # GET /metrics (Prometheus). Default: on in dev/test; in prod only with metrics_token, since
    # the API port is public and operational counts are for the operator. true/false: as said.
    metrics: bool | None = None
    metrics_token: SecretStr | None = None  # when set, /metrics needs `Authorization: Bearer <token>`
    # Traces: "otlp" exports over OTLP/HTTP, "off" never; default: on when the standard
    # OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set. otlp_endpoint: the full URL (…/v1/traces).
    tracing: Literal["off", "otlp"] | None = None
    otlp_endpoint: str | None = None

    # --- bulk import (docs/IMPORT.md) --------------------------------------------------------
    # A file over this size is refused whole (HTTP 413, CLI exit 2), as is a file with a cell
    # longer than the field limit (usually a quote left open). Checked before anything is written.
    import_max_file_bytes: int = Field(default=64 * 1024 * 1024, ge=1)
    import_max_field_chars: int = Field(default=65_536, ge=1)

    # --- push alerts: delivery (docs/ALERTS.md) ----------------------------------------------
    # Every API process tails the outbox this often (seconds) for its subscribers.
    alerts_poll_seconds: float = Field(default=0.25, gt=0, le=10)
    # Whether this process competes for the dispatcher lease (webhooks, overdue alerts): one
    # holder per cluster; false for processes that should only serve subscriptions.
    alerts_dispatcher: bool = True
    alerts_lease_seconds: float = Field(default=15.0, ge=1)  # a dead holder is replaced after this
    alerts_overdue_every_seconds: float = Field(default=60.0, gt=0)  # raise_overdue_alerts cadence
    # Browser origins (besides the API's own) allowed to open the alerts WebSocket.
    ws_allowed_origins: list[str] = Field(default_factory=list)
    # Webhook URLs each agency may register (data: auth/webhooks.toml); https only outside dev.
    webhook_allowlist_file: Path = PROJECT_ROOT / "auth" / "webhooks.toml"
    webhook_max_attempts: int = Field(default=8, ge=1, le=50)  # then the delivery is dead-lettered
    webhook_backoff_base_seconds: float = Field(default=10.0, gt=0)  # 10 s, 20 s, 40 s, ...
    webhook_backoff_cap_seconds: float = Field(default=3600.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_ca_file: Path | None = None  # extra CA bundle for receivers (tests: trustme's CA)

    # --- analytics -------------------------------------------------------------------------
    small_number_threshold: int = 5  # counts below this are suppressed for analysts
    # Hot spots: how many folded step-1 results (per kind, area and window) each process keeps,
    # each checked against the buckets' versions in Neo4j before use (mpdb/intel/hotspot_cache.py); 0: none.
    hotspot_cache_entries: int = Field(default=32, ge=0)

    @field_validator("neo4j_uri")
    @classmethod
    def _neo4j_uri_shape(cls, uri: str | None) -> str | None:
        # The driver reads `bolt:/127.0.0.1:7705` as "no host" and silently dials localhost:7687:
        # refuse a URI it would misread, saying what is wrong with it.
        if uri is None:
            return None
        return check_neo4j_uri(uri)

    @property
    def managed_neo4j(self) -> bool:
        return self.neo4j_uri is None

    @property
    def worker_count(self) -> int:
        if self.workers is not None:
            return self.workers
        if self.env != "prod":
            return 1
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)

    @property
    def shared_dir(self) -> Path | None:
        if self.shared_state_dir is not None:
            return self.shared_state_dir
        if self.worker_count > 1:
            return Path(self.state_dir) / "shared" / str(self.port)
        return None

    @property
    def metrics_enabled(self) -> bool:
        if self.metrics is not None:
            return self.metrics
        return self.env != "prod" or self.metrics_token is not None

    @property
    def graphiql_enabled(self) -> bool:
        return self.env == "dev" if self.graphiql is None else self.graphiql

    @property
    def introspection_enabled(self) -> bool:
        return self.env in ("dev", "test") if self.introspection is None else self.introspection

    @property
    def dev_idp_enabled(self) -> bool:
        return self.env in ("dev", "test") if self.dev_idp is None else self.dev_idp

    @model_validator(mode="after")
    def _refuse_dev_defaults_in_prod(self) -> Settings:
        if self.env == "prod":
            problems = []
            if self.dev_idp:
                problems.append("MPDB_DEV_IDP must not be on in prod")
            if self.graphiql:
                problems.append("MPDB_GRAPHIQL must not be on in prod")
            if not self.oauth_issuer or not self.oauth_jwks_url:
                problems.append("MPDB_OAUTH_ISSUER and MPDB_OAUTH_JWKS_URL are required in prod")
            if self.neo4j_uri is None:
                problems.append("NEO4J_URI is required in prod (the managed local Neo4j is for dev)")
            if self.neo4j_password is None:
                problems.append("NEO4J_PASSWORD is required in prod")
            if problems:
                raise ValueError("; ".join(problems))
        return self


NEO4J_URI_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")


def check_neo4j_uri(uri: str) -> str:
    """`uri` unchanged when it is scheme://host[:port] with a scheme the driver knows, else a
    ValueError naming what is wrong."""
    example = "e.g. bolt://127.0.0.1:7687 or neo4j+s://xxxx.databases.neo4j.io"
    scheme, sep, rest = uri.partition("://")
    if not sep:
        head = uri.split(":", 1)[0]
        if head.lower() in NEO4J_URI_SCHEMES:
            raise ValueError(f"{uri!r} has no '//' after '{head}:' ({example})")
        raise ValueError(f"{uri!r} is not a URI of the form scheme://host:port ({example})")
    if scheme.lower() not in NEO4J_URI_SCHEMES:
        raise ValueError(f"{uri!r}: unknown scheme {scheme!r} (use one of {', '.join(NEO4J_URI_SCHEMES)})")
    parts = urlsplit(uri)
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{uri!r}: the port is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise ValueError(f"{uri!r} names no host ({example})")
    if port == 0:
        raise ValueError(f"{uri!r}: the port is not a number from 1 to 65535")
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError(f"{uri!r}: unexpected path {parts.path!r} after the host and port "
                         "(the database is chosen with NEO4J_DATABASE)")
    return uri


@lru_cache
def get_settings() -> Settings:
    return Settings()
