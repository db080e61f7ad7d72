"""The GraphQL schema: root types merged from one module per area, plus the hardening extensions."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from mpdb.api.execution import PlainFieldsExecutionContext
from mpdb.api.extensions.errors import MaskInternalErrors
from mpdb.api.extensions.inputs import InputRules
from mpdb.api.extensions.validation import CachedValidation, ValidationResults
from mpdb.api.mutations.identity import IdentityMutations
from mpdb.api.mutations.lifecycle import LifecycleMutations
from mpdb.api.mutations.webhooks import WebhookMutations
from mpdb.api.queries.alerts import AlertQueries
from mpdb.api.queries.audit import AuditQueries
from mpdb.api.queries.identity import IdentityQueries
from mpdb.api.queries.intel_areas import IntelAreaQueries
from mpdb.api.queries.intel_links import IntelLinkQueries
from mpdb.api.queries.records import RecordQueries
from mpdb.api.queries.search import SearchQueries
from mpdb.api.subscriptions import Subscription
from mpdb.observability.graphql import RecordOperation, SafeOpenTelemetryExtension
from mpdb.observability.tracing import tracing_enabled
from mpdb.settings import Settings

QUERY_TYPES: tuple[type, ...] = (RecordQueries, SearchQueries, AuditQueries, IntelLinkQueries, IntelAreaQueries,
                                 IdentityQueries, AlertQueries)
MUTATION_TYPES: tuple[type, ...] = (LifecycleMutations, IdentityMutations, WebhookMutations)


def build_schema(settings: Settings) -> strawberry.Schema:
    # The depth and alias limiters make a new validation-rule class each time one is built, and
    # the validation cache keys on the rule classes: built per request, every request missed the
    # cache and re-validated the whole document. Their rules are made once here; each request gets
    # a fresh extension holding the same classes.
    limit_rules = [rule for limiter in (QueryDepthLimiter(max_depth=settings.max_query_depth),
                                        MaxAliasesLimiter(max_alias_count=settings.max_aliases))
                   for rule in limiter.validation_rules]
    validation_results = ValidationResults(maxsize=256)
    extensions: list[Callable[[], SchemaExtension]] = [
        RecordOperation,  # first: it sees the errors after masking (mpdb/observability/graphql.py)
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: AddValidationRules(list(limit_rules)),
        lambda: ParserCache(maxsize=256),
        lambda: CachedValidation(validation_results),  # keyed by the parsed document's identity (validation.py)
        MaskInternalErrors,
        # After the validation cache (it fills in the errors InputRules codes) and inside
        # MaskInternalErrors (codes are set before masking decides what is internal).
        InputRules,
    ]
    if not settings.introspection_enabled:
        extensions.append(DisableIntrospection)
    if tracing_enabled(settings.tracing):
        extensions.append(SafeOpenTelemetryExtension)
    query = merge_types("Query", QUERY_TYPES)
    mutation = merge_types("Mutation", MUTATION_TYPES) if MUTATION_TYPES else None
    return strawberry.Schema(
        query=query,
        mutation=mutation,
        subscription=Subscription,
        extensions=extensions,
        execution_context_class=PlainFieldsExecutionContext,  # plain fields without per-field overhead; argument checks
        config=StrawberryConfig(disable_field_suggestions=not settings.introspection_enabled),
    )


def export_sdl() -> str:
    """The SDL checked in at graphql/schema.graphql (the contract does not depend on settings)."""
    return build_schema(Settings(env="dev")).as_str() + "\n"
