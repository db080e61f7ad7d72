"""A hand-built graph for searchChildren / searchPersons (ids `SR-`), names obviously synthetic.

Children (who may read them: the responsible LA and the forces of their episodes):
- C1 Katherine Wexley, 2010-03-05, Kent CC's, episode reported to Kent Police.
- C2 Kate Wexley, 2010-05-03 (C1's date with day and month swapped), East Sussex's, episode
  reported to Sussex Police, active CSE flag raised by Sussex Police.
- C3 Catherine Wexly (family name one letter short), 2011-01-01, not looked after, home in East
  Sussex, episode reported to Sussex Police.
- C4 Zoë Wexley, 2009-07-30, Kent CC's, Kent Police.
- C5 Will Ashdown, 2012-11-20, Kent CC's with SSDA903 CHILD id KCC-1001, Kent Police. ("will"
  is an English stop word: the reason the name index keeps `standard-no-stop-words`.)

Persons: PA William Hartley (adult of concern, 1980-02-01) linked to C1 (ASSOCIATES_WITH,
recorded by Kent Police) and met on C2's episode (WITH_PERSON, reported to Sussex Police);
PB Billy Hartly (peer, no date of birth, no links).
"""

from __future__ import annotations

from mpdb.graph.queries.access import REFRESH_ACCESS

KP, SP, MET = "E23000032", "E23000033", "E23000001"
KCC, ESCC = "E10000016", "E10000011"

CHILDREN = [  # id, given, family, dob, looked after by, episode reported to
    ("SR-C1", "Katherine", "Wexley", "2010-03-05", KCC, KP),
    ("SR-C2", "Kate", "Wexley", "2010-05-03", ESCC, SP),
    ("SR-C3", "Catherine", "Wexly", "2011-01-01", None, SP),
    ("SR-C4", "Zoë", "Wexley", "2009-07-30", KCC, KP),
    ("SR-C5", "Will", "Ashdown", "2012-11-20", KCC, KP),
]

SCENARIO = """
UNWIND $children AS ch
MATCH (f:Force {code: ch.force})
CREATE (c:Child {id: ch.id, pseudonym: 'P-' + ch.id, givenName: ch.given, familyName: ch.family,
                 dateOfBirth: date(ch.dob), sex: 'F', lookedAfter: ch.la IS NOT NULL, sourceSystem: 'test'})
CREATE (c)-[:HAD]->(:Episode {id: ch.id + '-E1', status: 'closed', reportedAt: datetime('2026-06-01T20:00Z'),
                              sourceSystem: 'test'})-[:REPORTED_TO]->(f)
WITH c, ch
CALL (c, ch) { MATCH (la:LocalAuthority {code: ch.la}) CREATE (c)-[:LOOKED_AFTER_BY]->(la) }
WITH count(*) AS _
MATCH (c5:Child {id: 'SR-C5'}), (c3:Child {id: 'SR-C3'}), (c1:Child {id: 'SR-C1'}), (c2:Child {id: 'SR-C2'})
MATCH (esla:LocalAuthority {code: $escc}), (sp:Force {code: $sp}), (spa:Agency {id: $sp})
SET c5.lacChildRef = 'KCC-1001', c5.lacRefLa = $kcc
CREATE (home:Location {id: 'SR-L-HOME', name: 'SR home', kind: 'residence', laCode: $escc, forceCode: $sp,
                       sourceSystem: 'test'})-[:IN_LA]->(esla)
CREATE (home)-[:IN_FORCE]->(sp)
CREATE (c3)-[:HOME_AT]->(home)
CREATE (c2)-[:HAS_FLAG]->(:Flag {id: 'SR-F1', type: 'cse', status: 'active',
                                 raisedAt: datetime('2026-05-01T09:00Z')})-[:RAISED_BY]->(spa)
CREATE (pa:Person {id: 'SR-PA', name: 'William Hartley', role: 'adult_of_concern', dateOfBirth: date('1980-02-01'),
                   notes: 'synthetic', sourceSystem: 'test'})
CREATE (:Person {id: 'SR-PB', name: 'Billy Hartly', role: 'peer', sourceSystem: 'test'})
CREATE (c1)-[:ASSOCIATES_WITH {kind: 'adult_of_concern', recordedBy: $kp, recordedAt: datetime('2026-06-02T10:00Z')}]->(pa)
WITH pa
MATCH (e2:Episode {id: 'SR-C2-E1'})
CREATE (e2)-[:WITH_PERSON {source: 'reported'}]->(pa)
"""


async def build_search_scenario(graph) -> None:  # type: ignore[no-untyped-def]
    """Expects a graph holding the reference data and nothing with ids starting `SR-`."""
    await graph.write(SCENARIO, {
        "children": [{"id": i, "given": g, "family": f, "dob": d, "la": la, "force": force}
                     for i, g, f, d, la, force in CHILDREN],
        "kp": KP, "sp": SP, "kcc": KCC, "escc": ESCC,
    })
    await graph.write(REFRESH_ACCESS, {"childIds": [c[0] for c in CHILDREN]})
