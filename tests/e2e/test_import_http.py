"""POST /import/{kind} over real HTTP: authentication, the import:write scope, the reject report,
idempotent re-upload and the SSDA903 three-part upload."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.integration

STOKE = "E06000021"

CHILDREN = (
    "child_ref,given_name,family_name,date_of_birth,sex,looked_after,responsible_la\n"
    "T3H-1,Httpa,One-Synthetic,2009-01-02,F,true,E06000021\n"
    "T3H-2,Httpb,Two-Synthetic,2009-13-02,F,true,E06000021\n"
    "T3H-3,Httpc,Three-Synthetic,2010-01-02,M,,\n"
)


def post(live_server, kind: str, token: str | None, files: dict, data: dict | None = None) -> httpx.Response:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{live_server.base_url}/import/{kind}", files=files, data=data or {}, headers=headers,
                      timeout=120)


def test_import_needs_a_token_and_the_import_scope(live_server, reference_graph) -> None:  # type: ignore[no-untyped-def]
    files = {"file": ("children.csv", CHILDREN, "text/csv")}
    assert post(live_server, "children", None, files).status_code == 401
    social_worker = live_server.token(STOKE, "social_worker")
    r = post(live_server, "children", social_worker, files)
    assert (r.status_code, r.json()["detail"]) == (403, "Forbidden: needs scope import:write")


def test_csv_upload_loads_valid_rows_and_reports_the_rest(live_server, reference_graph) -> None:  # type: ignore[no-untyped-def]
    lead = live_server.token(STOKE, "la_missing_lead", subject="t3-lead")
    r = post(live_server, "children", lead, {"file": ("children.csv", CHILDREN, "text/csv")})
    assert r.status_code == 200
    body = r.json()
    assert (body["rows"], body["loaded"], body["rejected"], body["unchanged"]) == (3, 2, 1, 0)
    assert (body["agencyId"], body["sourceSystem"]) == (STOKE, "csv-import")
    assert body["errors"] == [{"file": "children.csv", "line": 3, "column": "date_of_birth", "rule": "format",
                               "reason": "'2009-13-02' is not a date: use YYYY-MM-DD"}]
    again = post(live_server, "children", lead, {"file": ("children.csv", CHILDREN, "text/csv")}).json()
    assert (again["loaded"], again["rejected"], again["unchanged"]) == (0, 1, 2)


def test_a_refused_file_is_a_422_with_the_header_errors(live_server, reference_graph) -> None:  # type: ignore[no-untyped-def]
    lead = live_server.token(STOKE, "la_missing_lead")
    r = post(live_server, "flags", lead, {"file": ("flags.csv", "flag_ref,kind\nF1,cse\n", "text/csv")})
    assert r.status_code == 422
    assert [(e["column"], e["rule"]) for e in r.json()["errors"]] == [
        ("kind", "header"), ("type", "header"), ("status", "header"), ("raised_at", "header"),
        ("child_ref", "header")]
    r = post(live_server, "flags", lead, {"file": ("flags.csv", b"flag_ref,child_ref,type,status,raised_at\n\xff\xfe\n",
                                                   "text/csv")})
    assert (r.status_code, r.json()["message"]) == (
        422, "flags.csv line 2, column flag_ref: byte 0xff is not UTF-8 text: save the file as UTF-8")
    assert post(live_server, "people", lead, {"file": ("x.csv", "a\n", "text/csv")}).status_code == 404


def test_ssda903_upload(live_server, reference_graph) -> None:  # type: ignore[no-untyped-def]
    lead = live_server.token(STOKE, "la_missing_lead")
    files = {
        "header": ("header.csv", "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\nT3S1,2,01/02/2008,WBRI,,,\n", "text/csv"),
        "episodes": ("episodes.csv",
                     "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n"
                     "T3S1,01/05/2023,S,C2,N1,K2,PR4,,,,ST4 1,ST1 3,SC999003\n", "text/csv"),
        "missing": ("missing.csv", "CHILD,DOB,MISSING,MIS_START,MIS_END\nT3S1,01/02/2008,A,02/02/2024,03/02/2024\n"
                    "T3S1,01/02/2008,M,03/03/2024,01/03/2024\n", "text/csv"),
    }
    r = post(live_server, "ssda903", lead, files, {"year": "2024"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["loaded"], body["rejected"]) == (3, 1)
    assert body["perTable"] == {"header": {"loaded": 1, "unchanged": 0, "rejected": 0},
                                "episodes": {"loaded": 1, "unchanged": 0, "rejected": 0},
                                "missing": {"loaded": 1, "unchanged": 0, "rejected": 1}}
    assert [(e["file"], e["line"], e["rule"]) for e in body["errors"]] == [("missing.csv", 3, "567")]
    r = post(live_server, "ssda903", lead, {k: v for k, v in files.items() if k != "missing"}, {"year": "2024"})
    assert r.status_code == 422


BAD_VALUE_CHILDREN = (
    "child_ref,given_name,family_name,date_of_birth,sex,looked_after,responsible_la\n"
    "T11V-1,Valida,One-Synthetic,2010-03-04,F,true,E06000021\n"
    "T11V-2,Nul\x00la,Two-Synthetic,2010-03-04,F,true,E06000021\n"
    "T11V-3,Bella,Bell\x07-Synthetic,2010-03-04,M,true,E06000021\n"
    "T11V-4,Olda,Four-Synthetic,1899-12-31,F,true,E06000021\n"
    "T11V-5,Longa," + "L" * 201 + ",2010-03-04,F,true,E06000021\n"
)
BAD_VALUE_EPISODES = (
    "episode_ref,child_ref,reported_at,returned_at,reporting_force\n"
    "T11VE-1,T11V-1,2024-02-03T21:00:00Z,2024-02-04T09:00:00Z,E23000015\n"
    "T11VE-2,T11V-1,0001-01-01T00:00:00Z,,E23000015\n"
    "T11VE-3,T11V-1,2010-03-03T23:00:00Z,2010-03-05T10:00:00Z,E23000015\n"
    "T11VE-4,T11V-1,2099-01-01T00:00:00Z,,E23000015\n"
)


def test_bad_values_are_rejected_row_by_row_and_the_rest_load(live_server, reference_graph) -> None:  # type: ignore[no-untyped-def]
    """The shared value rules (mpdb/domain/values.py) in CSV rows: control characters, length caps,
    dates before 1900, in the future, or before the child's birth (UK calendar day: 23:00 UTC on
    3 March is still 3 March, the day before the birthday)."""
    lead = live_server.token(STOKE, "la_missing_lead")
    r = post(live_server, "children", lead, {"file": ("children.csv", BAD_VALUE_CHILDREN, "text/csv")})
    assert r.status_code == 200
    assert (r.json()["loaded"], r.json()["rejected"]) == (1, 4)
    assert [(e["line"], e["column"], e["rule"], e["reason"]) for e in r.json()["errors"]] == [
        (3, "given_name", "control_character", "contains a control character (U+0000) at position 4"),
        (4, "family_name", "control_character", "contains a control character (U+0007) at position 5"),
        (5, "date_of_birth", "date_before_1900", "before 1900-01-01"),
        (6, "family_name", "too_long", "too long (201 characters; at most 200 for name)"),
    ]
    r = post(live_server, "episodes", lead, {"file": ("episodes.csv", BAD_VALUE_EPISODES, "text/csv")})
    assert r.status_code == 200
    assert (r.json()["loaded"], r.json()["rejected"]) == (1, 3)
    assert [(e["line"], e["column"], e["rule"]) for e in r.json()["errors"]] == [
        (3, "reported_at", "date_before_1900"),
        (4, "reported_at", "before_date_of_birth"),
        (5, "reported_at", "date_in_future"),
    ]
