"""Static guard: the child's confidential return-interview account leaves Neo4j only through a
query that applies RHI_CONFIDENTIAL_VISIBLE, and no read projects every property of an interview."""

from __future__ import annotations

import importlib
import pkgutil
import re

import mpdb.graph.queries as queries_pkg
from mpdb.graph.queries.access import RHI_CONFIDENTIAL_VISIBLE

WRITES = re.compile(r"\b(CREATE|MERGE|SET)\b")


def _constants() -> list[tuple[str, str, str]]:
    found = []
    for info in pkgutil.iter_modules(queries_pkg.__path__):
        module = importlib.import_module(f"mpdb.graph.queries.{info.name}")
        for name, value in vars(module).items():
            if name.isupper() and isinstance(value, str) and re.search(r"\bMATCH\b", value):
                found.append((info.name, name, value))
    return found


def test_the_predicate_needs_the_scope_and_an_entitled_agency() -> None:
    assert RHI_CONFIDENTIAL_VISIBLE.startswith("($canReadConfidential AND (")
    assert "$agencyId IN [(ri)-[:BY]->" in RHI_CONFIDENTIAL_VISIBLE
    assert "(c)-[:LOOKED_AFTER_BY]->(:LocalAuthority {code: $agencyId})" in RHI_CONFIDENTIAL_VISIBLE
    assert "$national" not in RHI_CONFIDENTIAL_VISIBLE  # national reach is not entitlement


def test_reads_of_the_account_apply_the_predicate() -> None:
    readers = []
    for module, name, text in _constants():
        if "confidentialAccount" not in text or (WRITES.search(text) and "RETURN" not in text):
            continue
        readers.append(f"{module}.{name}")
        assert RHI_CONFIDENTIAL_VISIBLE in text, f"{module}.{name} reads confidentialAccount without the predicate"
        assert re.search(r"CASE WHEN \w+ THEN ri\.confidentialAccount END", text), f"{module}.{name}"
    assert readers == ["records.RETURN_INTERVIEWS_OF_EPISODE"]


def test_no_read_projects_all_properties_of_an_interview() -> None:
    for module, name, text in _constants():
        for var in re.findall(r"\((\w+):ReturnInterview\b", text):
            assert not re.search(rf"\b{var}\s*\{{\s*\.\*", text), f"{module}.{name} projects {var} {{.*}}"
            assert f"properties({var})" not in text, f"{module}.{name}"
