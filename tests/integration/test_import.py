"""Bulk import against the real Neo4j: valid rows load while invalid rows are reported, a re-run
changes nothing, and the SSDA903 three-table return round-trips into the graph model."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import pytest_asyncio

from mpdb.auth.principal import AgencyKind, Principal, Role, Scope
from mpdb.ingest.csv_formats import ImportKind
from mpdb.ingest.importer import (
    Importer,
    ImportFileError,
    child_id_for,
    derive_id,
    write_error_report,
)
from mpdb.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration

KENT_CC = "E10000016"
MEDWAY = "E06000035"
STOKE = "E06000021"
KENT_POLICE = "E23000032"
STAFFS_POLICE = "E23000015"
EXAMPLES = PROJECT_ROOT / "seed" / "examples"


def kent_importer(graph, **kw) -> Importer:  # type: ignore[no-untyped-def]
    principal = Principal(subject="t3-import-test", client_id="test", agency_id=KENT_CC,
                          agency_kind=AgencyKind.LOCAL_AUTHORITY, role=Role.LA_MISSING_LEAD,
                          scopes=frozenset({Scope.IMPORT_WRITE}))
    return Importer(graph, principal, batch_size=kw.pop("batch_size", 3), **kw)


def lines(text: str) -> list[str]:
    return io.StringIO(text).readlines()


def example(name: str) -> list[str]:
    return Path(EXAMPLES / name).read_text(encoding="utf-8").splitlines(keepends=True)


async def counts(graph) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    row = await graph.read_one("MATCH (n) WITH count(n) AS nodes "
                               "OPTIONAL MATCH ()-[r]->() RETURN nodes, count(r) AS rels")
    return row["nodes"], row["rels"]


@pytest_asyncio.fixture(scope="module")
async def ref_graph(reference_graph):  # type: ignore[no-untyped-def]
    """The session's reference graph. Nothing is wiped: every record here is Kent CC's own (ids
    derived from Kent's references), and graph-wide checks compare counts before and after."""
    return reference_graph


CHILDREN = """child_ref,given_name,family_name,date_of_birth,sex,ethnicity,upn,looked_after,responsible_la,unaccompanied
T3-C1,Testa,One-Synthetic,2009-01-02,F,WBRI,,true,E10000016,
T3-C2,Testb,Two-Synthetic,2008-05-06,M,,,true,E10000016,no
T3-C3,Testc,Three-Synthetic,2031-01-01,F,,,,,
T3-C4,Testd,Four-Synthetic,2010-02-30,X,ZZZZ,,,,
T3-C5,Teste,Five-Synthetic,2010-07-08,U,,,true,E99999999,
T3-C6,Testf,Six-Synthetic,2011-09-10,M,NOBT,,false,,
"""

EXPECTED_CHILD_ERRORS = [
    ("children.csv", 4, "date_of_birth", "date_order"),
    ("children.csv", 5, "date_of_birth", "format"),
    ("children.csv", 5, "ethnicity", "format"),
    ("children.csv", 5, "sex", "code"),
    ("children.csv", 6, "responsible_la", "format"),
]


async def test_children_file_with_valid_and_invalid_rows(ref_graph) -> None:  # type: ignore[no-untyped-def]
    summary = await kent_importer(ref_graph).import_csv(ImportKind.CHILDREN, lines(CHILDREN), file="children.csv")
    assert (summary.rows, summary.loaded, summary.rejected, summary.unchanged) == (6, 3, 3, 0)
    assert [(e.file, e.line, e.column, e.rule) for e in summary.errors] == EXPECTED_CHILD_ERRORS
    assert summary.batches == 1
    report = io.StringIO()
    write_error_report(summary.errors, report)
    assert report.getvalue().splitlines()[:2] == [
        "file,line,column,rule,reason,severity",
        "children.csv,4,date_of_birth,date_order,date of birth is in the future,error",
    ]
    child = await ref_graph.read_one(
        "MATCH (c:Child {id: $id})-[:LOOKED_AFTER_BY]->(la) RETURN c {.*} AS c, la.code AS la",
        {"id": child_id_for(KENT_CC, "T3-C1")})
    assert child["la"] == KENT_CC
    c = child["c"]
    assert (c["givenName"], c["sex"], c["ethnicity"], c["lookedAfter"]) == ("Testa", "F", "WBRI", True)
    assert (c["recordedBy"], c["sourceSystem"], c["author"]) == (KENT_CC, "csv-import", "t3-import-test")
    assert c["accessAgencies"] == [KENT_CC]
    assert c["pseudonym"].startswith("PSN-")


async def test_reimport_changes_nothing(ref_graph) -> None:  # type: ignore[no-untyped-def]
    before = await counts(ref_graph)
    summary = await kent_importer(ref_graph).import_csv(ImportKind.CHILDREN, lines(CHILDREN), file="children.csv")
    assert (summary.loaded, summary.rejected, summary.unchanged) == (0, 3, 3)
    assert await counts(ref_graph) == before  # no node, no relationship, no audit event


async def test_a_changed_row_is_updated_not_duplicated(ref_graph) -> None:  # type: ignore[no-untyped-def]
    changed = CHILDREN.replace("T3-C6,Testf,Six-Synthetic,2011-09-10,M,NOBT,,false,,",
                               "T3-C6,Testf,Six-Synthetic,2011-09-10,M,NOBT,,true,E10000016,")
    before_nodes, before_rels = await counts(ref_graph)
    summary = await kent_importer(ref_graph).import_csv(ImportKind.CHILDREN, lines(changed), file="children.csv")
    assert (summary.loaded, summary.unchanged) == (1, 2)
    nodes, rels = await counts(ref_graph)
    assert nodes == before_nodes + 1  # the batch's audit event; the child itself was updated in place
    assert rels == before_rels + 1  # its new LOOKED_AFTER_BY
    audit = await ref_graph.read_one(
        "MATCH (a:AuditEvent) WITH a ORDER BY a.at DESC, a.id DESC LIMIT 1 RETURN a {.*} AS a")
    assert (audit["a"]["action"], audit["a"]["operation"]) == ("collection", "import")
    assert audit["a"]["recordIds"] == [child_id_for(KENT_CC, "T3-C6")]


async def test_full_csv_set_loads_with_graph_rules(ref_graph) -> None:  # type: ignore[no-untyped-def]
    imp = kent_importer(ref_graph)
    s = await imp.import_csv(ImportKind.CHILDREN, example("children.csv"), file="children.csv")
    assert (s.loaded, s.rejected) == (3, 0)
    s = await imp.import_csv(ImportKind.PLACEMENTS, example("placements.csv"), file="placements.csv")
    assert (s.loaded, s.rejected) == (2, 0)
    s = await imp.import_csv(ImportKind.FLAGS, example("flags.csv"), file="flags.csv")
    assert (s.loaded, s.rejected) == (2, 0)
    episodes = "".join(example("episodes.csv")) + (
        # a flagged child (active cse flag FL-0001) may not be graded no apparent risk
        "EP-0003,KCC-0001,,2024-05-01T10:00:00Z,,,,E23000032,,carer,,,no_apparent_risk,2017,\n"
        # KCC-0002 already has the open episode EP-0002
        "EP-0004,KCC-0002,,2024-05-02T10:00:00Z,,,,E23000032,,carer,,,low,2017,\n"
        # unknown child; unknown placement
        "EP-0005,KCC-9999,,2024-05-02T10:00:00Z,,,,E23000032,,carer,,,,,\n"
        "EP-0006,KCC-0003,,2024-05-02T10:00:00Z,,2024-05-03T10:00:00Z,,E23000032,,carer,,,,,PL-9999\n"
    )
    s = await imp.import_csv(ImportKind.EPISODES, lines(episodes), file="episodes.csv")
    assert (s.rows, s.loaded, s.rejected) == (6, 2, 4)
    assert [(e.line, e.column, e.rule) for e in s.errors] == [
        (4, "risk_grade", "FLAGGED_CHILD_NO_RISK_GRADE"),
        (5, "child_ref", "OPEN_EPISODE_EXISTS"),
        (6, "child_ref", "unknown_child"),
        (7, "missing_from_placement_ref", "unknown_placement"),
    ]
    s = await imp.import_csv(ImportKind.RETURN_INTERVIEWS, example("return_interviews.csv"),
                             file="return_interviews.csv")
    assert (s.loaded, s.rejected) == (1, 0)

    ep = await ref_graph.read_one(
        """MATCH (c:Child)-[:HAD]->(e:Episode {id: $id})
           RETURN e {.*} AS e, c.accessAgencies AS access,
                  [(e)-[:REPORTED_TO]->(f) | f.code] AS reportedTo, [(e)-[:FOUND_BY]->(f) | f.code] AS foundBy,
                  [(e)-[:MISSING_FROM]->(p) | p.id] AS placement,
                  [(e)-[:ASSESSED_IN]->(r) | r.grade] AS grades,
                  [(e)-[:FOLLOWED_BY]->(ri)-[:BY]->(a) | [ri.status, a.id, toString(ri.dueAt)]] AS rhi,
                  [(r:EpisodeRecord)-[:RECORD_OF]->(e) | [r.agencyId, r.sourceSystem, r.sourceRef]] AS records""",
        {"id": derive_id("EP", KENT_CC, "csv-import", "EP-0001")})
    assert ep["e"]["status"] == "closed" and ep["e"]["category"] == "missing"
    assert (ep["reportedTo"], ep["foundBy"]) == ([STAFFS_POLICE], [KENT_POLICE])
    assert ep["placement"] == [derive_id("PL", KENT_CC, "csv-import", "PL-0001")]
    assert ep["grades"] == ["high"]
    # Kent's rule: 3 working days. Returned Sunday 3 March 2024 11:00 UTC -> Wednesday 6 March.
    assert ep["rhi"] == [["completed", "RHI-SOUTH", "2024-03-06T11:00:00Z"]]
    assert ep["records"] == [[KENT_CC, "csv-import", "EP-0001"]]
    # Placed in Stoke by Kent: host LA, host force and the reporting force can all read the child.
    assert sorted(ep["access"]) == sorted([KENT_CC, STOKE, STAFFS_POLICE, KENT_POLICE, "RHI-SOUTH"])
    pl = await ref_graph.read_one(
        """MATCH (p:Placement {id: $id}) RETURN p {.*} AS p,
           [(p)-[:HOSTED_BY]->(la) | la.code] AS host, [(p)-[:IN_FORCE_AREA]->(f) | f.code] AS force,
           [(p)-[:AT_LOCATION]->(l)-[:IN_LA]->(la) | [l.postcode, la.code, l.forceCode]] AS loc,
           [(p)-[:AT]->(x) | x.urn] AS urn""",
        {"id": derive_id("PL", KENT_CC, "csv-import", "PL-0001")})
    assert (pl["p"]["outOfArea"], pl["p"]["crossForce"], pl["p"]["placementType"]) == (True, True, "K2")
    assert (pl["host"], pl["force"], pl["loc"], pl["urn"]) == ([STOKE], [STAFFS_POLICE],
                                                                [["ST1 3", STOKE, STAFFS_POLICE]], ["SC999001"])

    before = await counts(ref_graph)
    for kind, name in ((ImportKind.CHILDREN, "children.csv"), (ImportKind.PLACEMENTS, "placements.csv"),
                       (ImportKind.FLAGS, "flags.csv"), (ImportKind.RETURN_INTERVIEWS, "return_interviews.csv")):
        s = await imp.import_csv(kind, example(name), file=name)
        assert (s.loaded, s.rejected) == (0, 0), name
    s = await imp.import_csv(ImportKind.EPISODES, lines(episodes), file="episodes.csv")
    assert (s.loaded, s.unchanged, s.rejected) == (0, 2, 4)
    assert await counts(ref_graph) == before


async def test_a_bad_header_refuses_the_whole_file(ref_graph) -> None:  # type: ignore[no-untyped-def]
    before = await counts(ref_graph)
    with pytest.raises(ImportFileError) as err:
        await kent_importer(ref_graph).import_csv(
            ImportKind.FLAGS, lines("flag_ref,child_ref,type,staus,raised_at\nF,C,cse,active,2024-01-01\n"),
            file="flags.csv")
    assert [(e.line, e.column, e.rule) for e in err.value.errors] == [
        (1, "staus", "header"), (1, "status", "header")]
    assert await counts(ref_graph) == before


SSDA_HEADER = """CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB
T3A,1,14/05/2008,WBRI,UN1,,
T3B,2,02/09/2009,MWBA,UN2,,
T3C,3,01/01/2010,WBRI,UN1,,
T3D,1,31/03/2006,WBRI,UN1,,
"""
SSDA_EPISODES = """CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN
T3A,01/06/2023,S,C2,N1,U4,PR1,01/12/2023,X1,CARPL,ME14 1,ME15 6,XXXXXXX
T3A,01/12/2023,P,C2,N1,K2,PR4,,,,ME14 1,CT1 2,SC999002
T3B,15/08/2023,S,V2,N4,H5,PR5,10/03/2024,E11,,ME1 1,ME4 4,XXXXXXX
T3C,15/08/2023,S,V2,N4,H5,PR5,,,,,,
T3D,01/04/2023,S,C2,N1,K2,PR4,31/03/2024,E4A,,,,
"""
SSDA_MISSING = """CHILD,DOB,MISSING,MIS_START,MIS_END
T3A,14/05/2008,M,10/07/2023,12/07/2023
T3A,14/05/2008,A,01/09/2023,
T3A,14/05/2008,M,06/01/2024,07/01/2024
T3A,14/05/2008,X,08/02/2024,09/02/2024
T3A,14/05/2008,M,31/02/2024,
T3A,14/05/2008,,,10/02/2024
T3A,14/05/2008,M,,
T3A,14/05/2008,M,20/03/2024,15/03/2024
T3A,14/05/2008,M,02/04/2024,
T3A,14/05/2008,M,01/03/2023,05/03/2023
T3A,14/05/2008,M,01/05/2008,
T3B,02/09/2009,M,01/03/2024,
T3B,02/09/2009,M,11/03/2024,
T3D,31/03/2006,M,20/03/2024,31/03/2024
"""


async def test_ssda903_return_round_trip(ref_graph) -> None:  # type: ignore[no-untyped-def]
    files = {"header": "header.csv", "episodes": "episodes.csv", "missing": "missing.csv"}
    s = await kent_importer(ref_graph, batch_size=2).import_ssda903(
        2024, lines(SSDA_HEADER), lines(SSDA_EPISODES), lines(SSDA_MISSING), files=files)
    assert [(e.file, e.line, e.column, e.rule) for e in s.errors] == [
        ("episodes.csv", 5, "CHILD", "child_not_in_header"),
        ("episodes.csv", 6, "REC", "580"),
        ("header.csv", 4, "SEX", "code"),
        ("missing.csv", 3, "MIS_END", "575"),
        ("missing.csv", 4, "MIS_START", "574"),
        ("missing.csv", 5, "MISSING", "1006"),
        ("missing.csv", 6, "MIS_START", "1004"),
        ("missing.csv", 7, "MISSING", "566"),
        ("missing.csv", 8, "MIS_START", "564"),
        ("missing.csv", 9, "MIS_END", "567"),
        ("missing.csv", 10, "MIS_START", "570"),
        ("missing.csv", 11, "MIS_END", "571"),
        ("missing.csv", 12, "MIS_START", "586"),
        ("missing.csv", 13, "MIS_END", "577"),
        ("missing.csv", 14, "MIS_END", "577"),
        ("missing.csv", 14, "MIS_START", "574"),
        ("missing.csv", 14, "MIS_START", "578"),
    ]
    assert (s.rows, s.rejected) == (4 + 5 + 14, 15)
    assert s.per_table == {"header": {"loaded": 3, "unchanged": 0, "rejected": 1},
                           "episodes": {"loaded": 3, "unchanged": 0, "rejected": 2},
                           "missing": {"loaded": 2, "unchanged": 0, "rejected": 12}}
    assert s.loaded == 8

    child = await ref_graph.read_one(
        """MATCH (c:Child {id: $id}) RETURN c {.sex, .dateOfBirth, .lacChildRef, .lacRefLa, .lookedAfter,
             .sourceSystem} AS c,
           [(c)-[:HOME_AT]->(l) | [l.postcode, l.laCode, l.forceCode]] AS home,
           [(c)-[:PLACED_IN]->(p) | [toString(p.startDate), toString(p.endDate), p.placementType,
                                     [(p)-[:AT]->(x) | x.urn]]] AS placements,
           [(c)-[:HAD]->(e)<-[:RECORD_OF]-(r) | [toString(e.reportedAt), e.status, e.whereaboutsKnown,
             r.missingType, r.sourceSystem, [(e)-[:MISSING_FROM]->(p) | p.placementType]]] AS episodes""",
        {"id": child_id_for(KENT_CC, "T3A")})
    assert child["c"]["sex"] == "M" and child["c"]["lacChildRef"] == "T3A" and child["c"]["lookedAfter"]
    assert child["c"]["sourceSystem"] == "ssda903"
    assert child["home"] == [["ME14 1", KENT_CC, KENT_POLICE]]  # Maidstone
    assert sorted(child["placements"]) == [["2023-06-01", "2023-12-01", "U4", []],
                                           ["2023-12-01", None, "K2", ["SC999002"]]]
    # Postcodes are placed where they lie (ONS Postcode Directory), not in the importing LA: T3B lives
    # and is placed in Medway (ME1 1, ME4 4: Rochester and Chatham), a unitary inside Kent Police.
    b = await ref_graph.read_one(
        """MATCH (c:Child {id: $id})-[:PLACED_IN]->(p:Placement)
           RETURN c.accessAgencies AS access, [(c)-[:HOME_AT]->(l) | [l.laCode, l.forceCode, l.geoResolution]] AS home,
                  p {.outOfArea, .crossForce, .hostResolution} AS p,
                  [(p)-[:HOSTED_BY]->(la) | la.code] AS host, [(p)-[:IN_FORCE_AREA]->(f) | f.code] AS force,
                  [(p)-[:AT_LOCATION]->(l)-[:IN_LA]->(la) | [l.postcode, la.code, l.forceCode, l.geoResolution]] AS loc""",
        {"id": child_id_for(KENT_CC, "T3B")})
    assert b["home"] == [[MEDWAY, KENT_POLICE, "sector"]]
    assert (b["host"], b["force"], b["loc"]) == ([MEDWAY], [KENT_POLICE], [["ME4 4", MEDWAY, KENT_POLICE, "sector"]])
    assert b["p"] == {"outOfArea": True, "crossForce": False, "hostResolution": "postcode"}
    assert sorted(b["access"]) == sorted([KENT_CC, MEDWAY, KENT_POLICE])
    assert s.warnings == []  # every postcode in this return resolved cleanly
    assert sorted(child["episodes"]) == [["2023-07-10T00:00:00Z", "closed", False, "M", "ssda903", ["U4"]]]
    d = await ref_graph.read_one(
        """MATCH (c:Child {id: $id})-[:HAD]->(e:Episode)
           RETURN collect([e.status, toString(e.returnedAt), [(e)-[:MISSING_FROM]->(p) | p.id]]) AS eps""",
        {"id": child_id_for(KENT_CC, "T3D")})
    # T3D's period loads, but its placement broke rule 580 and was rejected, so there is no MISSING_FROM
    assert d["eps"] == [["closed", "2024-03-31T00:00:00Z", []]]

    before = await counts(ref_graph)
    again = await kent_importer(ref_graph, batch_size=2).import_ssda903(
        2024, lines(SSDA_HEADER), lines(SSDA_EPISODES), lines(SSDA_MISSING), files=files)
    assert (again.loaded, again.unchanged, again.rejected) == (0, 8, 15)
    assert await counts(ref_graph) == before


async def test_ssda903_is_refused_for_a_police_force(ref_graph) -> None:  # type: ignore[no-untyped-def]
    principal = Principal(subject="t3", client_id="test", agency_id=KENT_POLICE,
                          agency_kind=AgencyKind.POLICE_FORCE, role=Role.MISSING_COORDINATOR,
                          scopes=frozenset({Scope.IMPORT_WRITE}))
    with pytest.raises(ImportFileError) as err:
        await Importer(ref_graph, principal).import_ssda903(
            2024, lines(SSDA_HEADER), lines(SSDA_EPISODES), lines(SSDA_MISSING))
    assert err.value.field == "agency"
