"""Row validation of the CSV import formats, and every SSDA903 DfE rule firing on a crafted row."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mpdb.ingest import ssda903
from mpdb.ingest.csv_formats import FORMATS, ImportKind, check_header, parse_row
from mpdb.ingest.importer import child_id_for, content_hash, derive_id, iter_csv


def errs(kind: ImportKind, **raw: str) -> list[tuple[str | None, str]]:
    row, errors = parse_row(kind, "f.csv", 2, raw)
    assert (row is None) == bool(errors)
    return [(e.column, e.rule) for e in errors]


EPISODE = dict(episode_ref="E1", child_ref="C1", reported_at="2024-05-01T22:00:00Z", reporting_force="E23000032")


def test_a_valid_episode_row_parses_with_uk_local_time_for_naive_times() -> None:
    row, errors = parse_row(ImportKind.EPISODES, "f.csv", 2,
                            {**EPISODE, "last_seen_at": "2024-05-01T21:00", "whereabouts_known": "yes",
                             "risk_grade": "medium", "grade_scheme": "2017"})
    assert errors == []
    assert row.last_seen_at == datetime(2024, 5, 1, 20, 0, tzinfo=UTC)  # BST is UTC+1
    assert (row.whereabouts_known, row.closed) == (True, False)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"reported_at": ""}, [("reported_at", "required")]),
        ({"reported_at": "01/05/2024"}, [("reported_at", "format")]),
        ({"found_at": "2024-05-01T21:00:00Z"}, [("found_at", "episode_time_order")]),
        ({"returned_at": "2024-04-30T00:00:00Z"}, [("returned_at", "episode_time_order")]),
        ({"last_seen_at": "2024-05-02T00:00:00Z"}, [("last_seen_at", "episode_time_order")]),
        ({"risk_grade": "absent", "grade_scheme": "2017"}, [("risk_grade", "grade_scheme")]),
        ({"risk_grade": "high"}, [("grade_scheme", "required")]),
        ({"grade_scheme": "2019", "risk_grade": "high"}, [("grade_scheme", "code")]),
        ({"reporter_type": "neighbour"}, [("reporter_type", "code")]),
        ({"whereabouts_known": "maybe"}, [("whereabouts_known", "format")]),
        ({"mpdb_child_id": "CH-1"}, [("child_ref", "child_reference")]),
        ({"found_by_force": "E23000032"}, [("found_at", "required")]),
    ],
)
def test_episode_row_rules(change: dict[str, str], expected: list[tuple[str, str]]) -> None:
    assert errs(ImportKind.EPISODES, **{**EPISODE, **change}) == expected


def test_other_kinds_validate_their_own_rules() -> None:
    assert errs(ImportKind.CHILDREN, child_ref="C", date_of_birth="2010-01-01", sex="m", looked_after="true") == [
        ("responsible_la", "required")]
    assert errs(ImportKind.PLACEMENTS, child_ref="C", placement_ref="P", start_date="2024-02-01",
                end_date="2024-01-01", placement_type="Q9", host_la="E06000021") == [("placement_type", "format")]
    assert errs(ImportKind.PLACEMENTS, child_ref="C", placement_ref="P", start_date="2024-02-01",
                end_date="2024-01-01", placement_type="K2", host_la="E06000021", latitude="40.0",
                longitude="-2.0") == [("end_date", "date_order"), ("latitude", "range")]
    assert errs(ImportKind.FLAGS, child_ref="C", flag_ref="F", type="cse", status="expired",
                raised_at="2024-01-01T00:00:00Z") == [("expired_at", "required")]
    assert errs(ImportKind.RETURN_INTERVIEWS, interview_ref="R", episode_ref="E", status="completed") == [
        ("completed_at", "required")]
    assert errs(ImportKind.RETURN_INTERVIEWS, interview_ref="R", episode_ref="E", status="declined",
                offered_at="2024-01-02T00:00:00Z", completed_at="2024-01-01T00:00:00Z") == [
        ("completed_at", "rhi_status"), ("completed_at", "date_order")]


def test_header_checks_name_unknown_duplicate_and_missing_columns() -> None:
    errors = check_header(ImportKind.FLAGS, ["\ufeffFlag_Ref", "child_ref", "type", "type", "colour"], "f.csv")
    assert [(e.column, e.reason) for e in errors] == [
        ("type", "column 'type' appears twice"),
        ("colour", "unknown column 'colour' for a flags file; columns are: " + ", ".join(FORMATS[ImportKind.FLAGS].columns)),
        ("status", "required column 'status' is missing"),
        ("raised_at", "required column 'raised_at' is missing"),
    ]


def test_extra_cells_and_line_numbers() -> None:
    header, rows = iter_csv(["a_ref,b\n", "1,2\n", "\n", '"multi\n', 'line",3,4\n'])
    assert header == ["a_ref", "b"]
    got = list(rows)
    assert [line for line, _ in got] == [2, 5]
    assert got[1][1][None] == "4"  # type: ignore[index]


def test_ids_are_deterministic_and_agency_scoped() -> None:
    assert derive_id("EP", "E10000016", "csv-import", "E1") == derive_id("EP", "E10000016", "csv-import", "E1")
    assert derive_id("EP", "E10000016", "csv-import", "E1") != derive_id("EP", "E06000021", "csv-import", "E1")
    assert derive_id("EP", "E10000016", "csv-import", "E1") != derive_id("EP", "E10000016", "ssda903", "E1")
    assert child_id_for("E10000016", "903001") == child_id_for("E10000016", "903001")
    assert content_hash({"a": 1, "b": date(2024, 1, 1)}) == content_hash({"b": date(2024, 1, 1), "a": 1})


# --- SSDA903 ---------------------------------------------------------------------------------

FILES = {"header": "h.csv", "episodes": "e.csv", "missing": "m.csv"}


def missing_rules(year: int = 2024, **raw: str) -> list[tuple[str, str]]:
    base = {"CHILD": "1", "DOB": "01/01/2008", "MISSING": "M", "MIS_START": "01/06/2023", "MIS_END": ""}
    _, errors = ssda903.parse_missing_row({**base, **raw}, "m.csv", 2, year)
    return [(e.rule, e.column or "") for e in errors]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({}, []),
        ({"MIS_START": ""}, [("564", "MIS_START")]),
        ({"MISSING": ""}, [("565", "MISSING")]),
        ({"MISSING": "", "MIS_START": "", "MIS_END": "02/06/2023"}, [("566", "MISSING")]),
        ({"MIS_END": "31/05/2023"}, [("567", "MIS_END")]),
        ({"MIS_START": "01/04/2024"}, [("570", "MIS_START")]),
        ({"MIS_START": "01/03/2023", "MIS_END": "31/03/2023"}, [("571", "MIS_END")]),
        ({"MIS_END": "01/04/2024"}, [("571", "MIS_END")]),
        ({"DOB": "02/06/2023"}, [("586", "MIS_START")]),
        ({"MIS_START": "31/02/2024"}, [("1004", "MIS_START")]),
        ({"MIS_END": "2023-06-02"}, [("1005", "MIS_END")]),
        ({"MISSING": "R"}, [("1006", "MISSING")]),
    ],
)
def test_single_row_dfe_rules(raw: dict[str, str], expected: list[tuple[str, str]]) -> None:
    assert missing_rules(**raw) == expected


def parse(header: list[dict[str, str]], episodes: list[dict[str, str]], missing: list[dict[str, str]]) -> ssda903.ParsedReturn:
    def numbered(rows: list[dict[str, str]]) -> list[tuple[int, dict[str, str]]]:
        return [(i + 2, r) for i, r in enumerate(rows)]
    return ssda903.parse_return(2024, numbered(header), numbered(episodes), numbered(missing), FILES)


def head(child: str = "1", dob: str = "01/01/2008") -> dict[str, str]:
    return {"CHILD": child, "SEX": "2", "DOB": dob, "ETHNIC": "WBRI", "UPN": "", "MOTHER": "", "MC_DOB": ""}


def ep(decom: str, dec: str = "", rec: str = "", child: str = "1", place: str = "K2") -> dict[str, str]:
    return {"CHILD": child, "DECOM": decom, "RNE": "S", "LS": "C2", "CIN": "N1", "PLACE": place,
            "PLACE_PROVIDER": "PR4", "DEC": dec, "REC": rec, "REASON_PLACE_CHANGE": "",
            "HOME_POST": "ST1 3", "PL_POST": "", "URN": "XXXXXXX"}


def mis(start: str, end: str = "", child: str = "1", dob: str = "01/01/2008") -> dict[str, str]:
    return {"CHILD": child, "DOB": dob, "MISSING": "M", "MIS_START": start, "MIS_END": end}


def rules(parsed: ssda903.ParsedReturn) -> list[tuple[str, int, str]]:
    return [(e.file, e.line, e.rule) for e in parsed.errors]


def test_574_a_period_starting_while_the_previous_is_open_or_overlapping() -> None:
    p = parse([head()], [ep("01/04/2023")], [mis("01/06/2023"), mis("05/06/2023", "06/06/2023")])
    assert rules(p) == [("m.csv", 3, "574")]
    p = parse([head()], [ep("01/04/2023")], [mis("01/06/2023", "10/06/2023"), mis("05/06/2023", "06/06/2023")])
    assert rules(p) == [("m.csv", 3, "574")]
    p = parse([head()], [ep("01/04/2023")], [mis("01/06/2023", "10/06/2023"), mis("10/06/2023", "11/06/2023")])
    assert rules(p) == []


def test_575_open_period_from_a_placement_that_ended() -> None:
    p = parse([head()], [ep("01/04/2023", "01/08/2023", "X1"), ep("01/08/2023")], [mis("01/06/2023")])
    assert rules(p) == [("m.csv", 2, "575")]


def test_577_and_578_after_ceasing_to_be_looked_after() -> None:
    p = parse([head()], [ep("01/04/2023", "01/08/2023", "E11")], [mis("01/06/2023")])
    assert rules(p) == [("m.csv", 2, "577")]
    p = parse([head()], [ep("01/04/2023", "01/08/2023", "E11")], [mis("02/08/2023", "03/08/2023")])
    assert rules(p) == [("m.csv", 2, "578")]


def test_580_missing_on_ceasing_care_at_18_needs_reason_e8() -> None:
    p = parse([head(dob="15/01/2006")], [ep("01/04/2023", "15/01/2024", "E4A")], [mis("10/01/2024", "15/01/2024", dob="15/01/2006")])
    assert [(e.file, e.line, e.column, e.rule) for e in p.errors] == [("e.csv", 2, "REC", "580")]
    assert p.episodes == [] and len(p.missing) == 1
    p = parse([head(dob="15/01/2006")], [ep("01/04/2023", "15/01/2024", "E8")], [mis("10/01/2024", "15/01/2024", dob="15/01/2006")])
    assert rules(p) == []


def test_rows_of_a_rejected_child_are_rejected_with_it() -> None:
    bad = head()
    bad["SEX"] = "9"
    p = parse([bad], [ep("01/04/2023")], [mis("01/06/2023")])
    assert rules(p) == [("e.csv", 2, "child_not_in_header"), ("h.csv", 2, "code"), ("m.csv", 2, "child_not_in_header")]


def test_episode_rows_and_postcodes() -> None:
    bad = ep("01/04/2023", "01/03/2023", "")
    bad["PL_POST"] = "NOT A POSTCODE"
    p = parse([head()], [bad], [])
    assert [(e.column, e.rule) for e in p.errors] == [("DEC", "date_order"), ("PL_POST", "format"), ("REC", "required")]
    good = ep("01/04/2023")
    good["PL_POST"] = " st1  3 "
    p = parse([head()], [good], [])
    assert p.episodes[0].pl_post == "ST1 3"
    assert ssda903.collection_window(2024) == (date(2023, 4, 1), date(2024, 3, 31))


# --- the shared value rules (mpdb/domain/values.py) in import rows -------------------------------

CHILD = dict(child_ref="C1", given_name="Valida", family_name="Synthetic", date_of_birth="2010-03-04", sex="F")


@pytest.mark.parametrize(("kind", "raw", "expected"), [
    (ImportKind.CHILDREN, {**CHILD, "given_name": "Nul\x00la"}, [("given_name", "control_character")]),
    (ImportKind.CHILDREN, {**CHILD, "family_name": "Tab\tbed"}, [("family_name", "control_character")]),
    (ImportKind.CHILDREN, {**CHILD, "family_name": "C1\x85control"}, [("family_name", "control_character")]),
    (ImportKind.CHILDREN, {**CHILD, "child_ref": "R" * 41}, [("child_ref", "too_long")]),
    (ImportKind.CHILDREN, {**CHILD, "date_of_birth": "1899-12-31"}, [("date_of_birth", "date_before_1900")]),
    (ImportKind.CHILDREN, {**CHILD, "date_of_birth": "0001-01-01"}, [("date_of_birth", "date_before_1900")]),
    (ImportKind.EPISODES, {**EPISODE, "reported_at": "0001-01-01T00:00:00Z"}, [("reported_at", "date_before_1900")]),
    (ImportKind.EPISODES, {**EPISODE, "reported_at": "0001-01-01T00:00:00+01:00"}, [("reported_at", "format")]),
    (ImportKind.EPISODES, {**EPISODE, "returned_at": "2999-01-01T00:00:00Z"}, [("returned_at", "date_in_future")]),
    (ImportKind.FLAGS, dict(flag_ref="F1", child_ref="C1", type="cse", status="active",
                            raised_at="2024-01-01T00:00:00Z", review_due="2099-01-01T00:00:00Z"),
     [("review_due", "date_too_far_ahead")]),
    (ImportKind.RETURN_INTERVIEWS, dict(interview_ref="R1", episode_ref="E1", status="offered",
                                        offered_at="2024-01-01T00:00:00Z", summary_places="Park;Sta\x00tion"),
     [("summary_places", "control_character")]),
])
def test_bad_values_are_row_errors_with_the_shared_rule(kind: ImportKind, raw: dict[str, str],
                                                        expected: list[tuple[str, str]]) -> None:
    assert errs(kind, **raw) == expected


def test_free_text_may_hold_line_breaks_and_tabs_but_no_other_control_character() -> None:
    flag = dict(flag_ref="F1", child_ref="C1", type="cse", status="active", raised_at="2024-01-01T00:00:00Z")
    assert errs(ImportKind.FLAGS, **flag, note="seen twice\r\nwith\tfriends") == []
    assert errs(ImportKind.FLAGS, **flag, note="bell\x07") == [("note", "control_character")]


def test_ssda903_rows_get_the_shared_rules() -> None:
    bad = head(child="9\x00")
    assert [(e.column, e.rule) for e in ssda903.parse_header_row(bad, "h.csv", 2)[1]] == [("CHILD", "control_character")]
    assert [(e.column, e.rule) for e in ssda903.parse_header_row(head(dob="31/12/1899"), "h.csv", 2)[1]] == [
        ("DOB", "date_before_1900")]
    assert [(e.column, e.rule) for e in ssda903.parse_header_row(head(dob="01/01/2999"), "h.csv", 2)[1]] == [
        ("DOB", "date_in_future")]
    assert [(e.column, e.rule) for e in ssda903.parse_episode_row(ep("01/01/1899"), "e.csv", 2)[1]] == [
        ("DECOM", "date_before_1900")]
    assert missing_rules(MIS_START="01/06/2023\x1b") == [("control_character", "MIS_START")]


def test_the_file_check_reads_every_line_ending_and_a_bom() -> None:
    from mpdb.ingest.files import CsvFile, ImportLimits

    for text in ("\ufeffa_ref,b\r1,2\r3,4\r", "a_ref,b\r\n1,2\r\n3,4", "a_ref,b\n1,2\n\n3,4\n"):
        f = CsvFile.from_text(text, "x.csv")
        assert f.check(ImportLimits(), lambda header: [], "") == 2
        assert [(line, dict(r)) for line, r in iter_csv(f.lines())[1]][-1][1] == {"a_ref": "3", "b": "4"}
