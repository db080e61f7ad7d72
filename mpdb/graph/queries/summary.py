"""The summary form of a child (docs/ACCESS.md, "linked risk in summary form"), as one Cypher
projection every query that shows a linked child the caller may not read in full reuses.

Bound to a child variable by `child_summary(var)`; the row keys are what
`mpdb.api.types.intel_links.ChildSummary.from_row` reads. The date of birth is sent only for the age
band, computed in Python and never returned to the client.
"""

from typing import LiteralString


def child_summary(var: LiteralString) -> LiteralString:
    """`{pseudonym, dateOfBirth, responsibleAuthority, activeFlags: [{type, raisedBy, raisedAt}]}` of child `var`."""
    return (
        "{pseudonym: " + var + ".pseudonym, dateOfBirth: " + var + ".dateOfBirth,"
        " responsibleAuthority: [(" + var + ")-[:LOOKED_AFTER_BY]->(sla:LocalAuthority) | sla.code][0],"
        " activeFlags: [(" + var + ")-[:HAS_FLAG]->(sf:Flag {status: 'active'})-[:RAISED_BY]->(sa:Agency) |"
        " {type: sf.type, raisedBy: sa.id, raisedAt: sf.raisedAt}]}"
    )
