"""Function-level authorisation: which scopes a field needs. Record-level visibility is NOT
decided here; it lives in the data layer (mpdb/auth/access.py + the scoped Cypher)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.permission import BasePermission, PermissionExtension

from mpdb.auth.principal import Scope


class HasScopes(BasePermission):
    message = "Forbidden: this operation needs a scope your token does not carry"
    error_extensions = {"code": "FORBIDDEN"}

    def __init__(self, *scopes: Scope) -> None:
        self.scopes = scopes
        self.message = f"Forbidden: needs scope {' and '.join(self.scopes)}"

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return info.context.service.principal.has(*self.scopes)


class HasAnyScope(BasePermission):
    error_extensions = {"code": "FORBIDDEN"}

    def __init__(self, *scopes: Scope) -> None:
        self.scopes = scopes
        self.message = f"Forbidden: needs scope {' or '.join(self.scopes)}"

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return any(info.context.service.principal.has(s) for s in self.scopes)


def requires(*scopes: Scope) -> list[PermissionExtension]:
    return [PermissionExtension(permissions=[HasScopes(*scopes)], use_directives=False)]


def requires_any(*scopes: Scope) -> list[PermissionExtension]:
    return [PermissionExtension(permissions=[HasAnyScope(*scopes)], use_directives=False)]
