"""The episode-lifecycle writes: one transaction per mutation, with its audit event and
idempotency record inside it.

Every public function takes a validated command (mpdb/domain/commands.py) and the caller's
idempotency key. Inside ONE write transaction it
1. claims the key: a retry with the same key and the same input returns the stored result and
   writes nothing else; the same key with different input is a CONFLICT (IDEMPOTENCY_KEY_REUSED);
2. locks and reads the records it changes, through scoped statements (a record the caller may not
   see is NOT_FOUND, with the same message as one that does not exist);
3. applies the domain rules (mpdb/domain/rules.py) to the facts it read after the lock;
4. writes, refreshes the derived access lists of every child it touched, appends the audit event
   (COLLECTION for creations, ALTERATION for changes; DISCLOSURE for notifications sent to
   another agency), appends the alerts it raises to the outbox (mpdb/alerts/: recipients from the
   graph after the change) and stores the result under the key.
Any error anywhere rolls back all of it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from neo4j import AsyncManagedTransaction

from mpdb.alerts.events import AlertKind
from mpdb.alerts.recipients import Raised, events_for
from mpdb.audit.trail import AuditAction, append_in_tx
from mpdb.auth.access import check_episode_write
from mpdb.auth.principal import AgencyKind, Scope
from mpdb.domain import commands as cmd
from mpdb.domain import rules, values
from mpdb.domain.deadlines import UK_TZ
from mpdb.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, RuleViolation
from mpdb.domain.geo import cell_id
from mpdb.alerts.tailer import nudge
from mpdb.graph.repositories.outbox import append_events
from mpdb.graph.repositories.writes import WriteRepository
from mpdb.services import entry_match as em
from mpdb.services.context import ServiceContext

SOURCE_SYSTEM = "mpdb-api"
# Client clocks drift: a time this far in the future still counts as "now".
CLOCK_SKEW = timedelta(minutes=5)
NOT_FOUND_MESSAGE = "no such {kind}, or not one you may change"
# The grade that raises a risk_raised alert (the top of both schemes, mpdb/domain/grading.py).
HIGH_GRADE = "high"


def _iso(t: datetime | date | None) -> str | None:
    return t.isoformat() if t is not None else None


def _uk_date(t: datetime) -> date:
    """The calendar day in England and Wales: placements start and end on local days."""
    return t.astimezone(UK_TZ).date()


def _nid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4()}"


def _dt(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


@dataclass
class Write:
    """What one mutation's transaction is doing: its repository, clock and audit bookkeeping."""
    ctx: ServiceContext
    repo: WriteRepository
    now: datetime
    action: AuditAction
    record_ids: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    disclosures: list[tuple[list[str], list[str]]] = field(default_factory=list)
    # Existing records shown to the caller by a mutation whose own action is another (registerChild
    # returning the candidates it created a child despite): their own CONSULTATION event.
    consulted: list[str] = field(default_factory=list)
    # Episodes given a place of a hot-spot kind (missing from, last seen, went to, found at): their
    # hot-spot buckets are recomputed before the commit.
    placed: list[str] = field(default_factory=list)
    # What this write did that may alert (mpdb/alerts/): recipients are found, and the outbox
    # events appended, at the end of the transaction, after the access lists are refreshed.
    raised: list[Raised] = field(default_factory=list)
    audit: bool = True

    @property
    def latest(self) -> datetime:
        return self.now + CLOCK_SKEW

    def prov(self, source_system: str = SOURCE_SYSTEM) -> dict[str, Any]:
        p = self.ctx.principal
        return {"recordedBy": p.agency_id, "recordedAt": self.now, "sourceSystem": source_system,
                "author": p.subject}

    def touched(self, *ids: str | None, child: str | None = None) -> None:
        self.record_ids.extend(i for i in ids if i)
        if child:
            self.children.append(child)
            self.record_ids.append(child)

    async def area(self, p: cmd.PlaceInput, fld: str) -> dict[str, Any]:
        """The LA and force of a place (an existing location, or the one a new place would get),
        without creating anything."""
        if p.location_id is not None:
            loc = await self.repo.location(p.location_id)
            if loc is None:
                raise NotFound(NOT_FOUND_MESSAGE.format(kind="location"), field=f"{fld}.locationId")
            return loc
        area = await self.repo.resolve_area(p.la_code, p.force_code, p.latitude, p.longitude)
        if area is None:
            if p.la_code and p.force_code:
                raise InvalidInput(f"local authority {p.la_code} is not in force area {p.force_code} "
                                   "(or one of the codes is unknown)", field=f"{fld}.laCode")
            which = "laCode" if p.la_code else "forceCode"
            raise InvalidInput(f"unknown {which} {p.la_code or p.force_code}", field=f"{fld}.{which}")
        return area

    async def place(self, p: cmd.PlaceInput, fld: str) -> dict[str, Any]:
        """An existing location, or a new one with its LA and force resolved."""
        area = await self.area(p, fld)
        if p.location_id is not None:
            return area
        loc_id = _nid("LOC")
        props = {"name": p.name, "kind": p.kind, "laCode": area["laCode"], "forceCode": area["forceCode"],
                 "postcode": p.postcode, **self.prov()}
        if p.latitude is not None and p.longitude is not None:
            props["cell"] = cell_id(p.latitude, p.longitude)
        await self.repo.create_location(loc_id, props, area["laCode"], area["forceCode"], p.latitude, p.longitude)
        self.record_ids.append(loc_id)
        return {"id": loc_id, "laCode": area["laCode"], "forceCode": area["forceCode"],
                "latitude": p.latitude, "longitude": p.longitude}

    async def companions(self, c: cmd.CompanionsInput, fld: str, exclude_child: str) -> tuple[list[str], list[str]]:
        for i, cid in enumerate(c.child_ids):
            if cid == exclude_child:
                raise InvalidInput("a child cannot be missing with itself", field=f"{fld}.childIds[{i}]")
        visible = await self.repo.visible_children(list(c.child_ids)) if c.child_ids else set()
        for i, cid in enumerate(c.child_ids):
            if cid not in visible:
                raise NotFound(NOT_FOUND_MESSAGE.format(kind="child"), field=f"{fld}.childIds[{i}]")
        seen = await self.repo.persons_seen(list(dict.fromkeys([*c.person_ids, *(p.id for p in c.new_persons)])))
        linkable = await self.repo.persons_linkable(list(c.person_ids))
        for i, pid in enumerate(c.person_ids):
            if pid not in linkable:
                raise NotFound(NOT_FOUND_MESSAGE.format(kind="person"), field=f"{fld}.personIds[{i}]")
        for i, np in enumerate(c.new_persons):
            _check_new_person_id(seen, np.id, f"{fld}.newPersons[{i}].id")
        await self.repo.merge_persons(
            [{"id": p.id, "props": {"name": p.name, "role": p.role, "dateOfBirth": p.date_of_birth, "notes": p.notes}}
             for p in c.new_persons], self.prov())
        persons = list(dict.fromkeys([*c.person_ids, *(p.id for p in c.new_persons)]))
        self.record_ids.extend(persons)
        return list(dict.fromkeys(c.child_ids)), persons

    async def acting_force(self, given: str | None, fld: str) -> str:
        """Police record as themselves; national and system callers name the force."""
        p = self.ctx.principal
        if p.agency_kind is AgencyKind.POLICE_FORCE:
            if given is not None and given != p.agency_id:
                raise Forbidden(f"a police force records as itself: {fld.rsplit('.', 1)[-1]} must be "
                                f"{p.agency_id} or omitted", field=fld)
            return p.agency_id
        if given is None:
            raise InvalidInput(f"{fld.rsplit('.', 1)[-1]} is required for a {p.agency_kind} caller", field=fld)
        agency = await self.repo.agency(given)
        if agency is None or not agency["isForce"]:
            raise InvalidInput(f"unknown police force {given}", field=fld)
        return given


def _adults_named(w: Write, child_id: str, episode_id: str, person_ids: list[str]) -> None:
    """Companions named on an episode: those who are adults of concern alert the holders of the
    other children linked to them (the graph decides which are adults, after the change)."""
    if person_ids:
        w.raised.append(Raised(AlertKind.ADULT_OF_CONCERN_IN_EPISODE, child_id, "Episode", episode_id, w.now,
                               episode_id, person_ids=tuple(person_ids)))


def _check_new_person_id(seen: dict[str, bool], person_id: str, fld: str) -> None:
    """A "new" person whose id is another agency's associate must not attach that person: the
    caller would link (and then read) someone it cannot see. One it can see is simply reused."""
    if person_id in seen and not seen[person_id]:
        raise Conflict("this person id is already taken: new person ids must be fresh (e.g. UUIDs)",
                       field=fld, reason="ID_TAKEN")


def _episode_record_id(agency: str, episode_id: str) -> str:
    # The importer's scheme (agency, source system, source reference), so one agency's record of
    # one episode from one system has one id whichever door it came in by.
    digest = hashlib.sha256(f"{agency}\x1f{SOURCE_SYSTEM}\x1f{episode_id}".encode()).hexdigest()[:24]
    return f"ER-{digest}"


def _request_hash(operation: str, command: cmd.Command) -> str:
    canonical = json.dumps({"operation": operation, "input": command.model_dump(mode="json")},
                           sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _mutate(
    ctx: ServiceContext,
    operation: str,
    idempotency_key: str,
    command: cmd.Command,
    action: AuditAction,
    work: Callable[[Write], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    key = cmd.parse_command(_Key, {"key": idempotency_key}, prefix="idempotencyKey").key
    stored_key = f"{ctx.principal.agency_id}|{key}"
    request_hash = _request_hash(operation, command)
    appended = False

    async def in_tx(tx: AsyncManagedTransaction) -> dict[str, Any]:
        nonlocal appended
        appended = False  # the driver may run this again after a transient failure
        repo = WriteRepository(tx, ctx.scope)
        claim = await repo.claim_key(stored_key, operation, request_hash)
        if not claim["claimed"]:
            if claim["requestHash"] != request_hash:
                raise Conflict(
                    f"idempotency key already used by this agency for a different request "
                    f"({claim['operation']}): use a new key for a new request",
                    field="idempotencyKey", reason="IDEMPOTENCY_KEY_REUSED",
                )
            return json.loads(claim["resultJson"])
        w = Write(ctx, repo, datetime.now(UTC), action)
        result = await work(w)
        # JSON round trip: the first answer is byte-for-byte what a retry gets back.
        result_json = json.dumps(result, default=str, sort_keys=True)
        if w.children:
            await repo.refresh_access(w.children)
        if w.placed:
            await repo.refresh_hotspot_buckets(w.placed)
        # After REFRESH_ACCESS: recipients are the holders of the graph as it will commit. A retry
        # with the same idempotency key returned above, so it raises nothing again.
        events = await events_for(tx, w.raised, ctx.principal.agency_id) if w.raised else []
        if w.audit:
            await append_in_tx(tx, ctx.audit_context, w.action, operation, w.record_ids)
            if w.consulted:
                await append_in_tx(tx, ctx.audit_context, AuditAction.CONSULTATION, operation, w.consulted)
            for ids, recipients in w.disclosures:
                await append_in_tx(tx, ctx.audit_context, AuditAction.DISCLOSURE, operation, ids, recipients)
        await repo.store_result(stored_key, result_json)
        # Last: appending takes the OutboxHead lock, which every alerting write waits for until
        # this one commits; taken earlier it would also be held through the audit and result writes
        # (bench/alerts_cost.py, 4 clients).
        appended = bool(await append_events(tx, events))
        return json.loads(result_json)

    result = await ctx.graph.in_write_tx(in_tx)
    if appended:
        nudge()  # committed: this process's subscribers get the alerts now, not at the next poll
    return result


class _Key(cmd.Command):
    key: cmd.IdempotencyKey


# --- registerChild ---------------------------------------------------------------------------

def _child_key(nc: cmd.NewChildInput, existing_by_ref: str | None) -> str:
    if existing_by_ref is not None:
        return existing_by_ref
    if nc.id is not None:
        return nc.id
    assert nc.lac_ref_la and nc.lac_child_ref
    # A key derived from the LA's own reference: two concurrent first reports of the same
    # looked-after child MERGE onto one node.
    digest = hashlib.sha256(f"{nc.lac_ref_la}|{nc.lac_child_ref}".encode()).hexdigest()[:24]
    return f"C-LAC-{digest}"


async def _create_child(w: Write, nc: cmd.NewChildInput, child_id: str, prefix: str) -> bool:
    """Creates the child under `child_id` (False when it already exists: nothing is written)."""
    home_id = None
    if nc.home is not None:
        home_id = (await w.place(nc.home, f"{prefix}.home"))["id"]
    if nc.looked_after_by is not None and await w.repo.la_facts(nc.looked_after_by) is None:
        raise InvalidInput(f"unknown local authority {nc.looked_after_by}", field=f"{prefix}.lookedAfterBy")
    props = {
        "pseudonym": "P-" + hashlib.sha256(child_id.encode()).hexdigest()[:12].upper(),
        "givenName": nc.given_name, "familyName": nc.family_name, "dateOfBirth": nc.date_of_birth,
        "sex": nc.sex, "ethnicity": nc.ethnicity, "lacRefLa": nc.lac_ref_la, "lacChildRef": nc.lac_child_ref,
        "lookedAfter": nc.looked_after_by is not None, "unaccompanied": nc.unaccompanied, **w.prov(),
    }
    return await w.repo.merge_new_child(child_id, props, nc.looked_after_by, home_id)


def _typed_record(nc: cmd.NewChildInput, child_id: str, agency: str) -> dict[str, Any]:
    """The child being written, in the graph's property names (what the model compares; the home's
    point and the agency's areas are added by `_entry_matches`, blocking needs neither)."""
    return {"id": child_id, "givenName": nc.given_name, "familyName": nc.family_name,
            "dateOfBirth": nc.date_of_birth, "sex": nc.sex if nc.sex in ("F", "M") else None,
            "ethnicity": nc.ethnicity, "upn": None, "lacRefLa": nc.lac_ref_la, "lacChildRef": nc.lac_child_ref,
            "postcode": nc.home.postcode if nc.home is not None else None, "recordedBy": agency}


async def _home_fields(w: Write, nc: cmd.NewChildInput, prefix: str) -> dict[str, Any]:
    """The home the child's HOME_AT will be (`_create_child`), as the batch reads a HOME_AT place:
    postcode and point of an existing location, or of the new place as given (a new Location takes
    its point from the input's latitude and longitude)."""
    if nc.home is None:
        return {}
    if nc.home.location_id is not None:
        loc = await w.area(nc.home, f"{prefix}.home")
        return {"postcode": loc.get("postcode"), "homeLat": loc.get("latitude"), "homeLon": loc.get("longitude")}
    return {"postcode": nc.home.postcode, "homeLat": nc.home.latitude, "homeLon": nc.home.longitude}


@dataclass
class _EntryMatches:
    typed: dict[str, Any]
    rows: list[dict[str, Any]]
    kept: list[tuple[dict[str, Any], em.Match | None]]
    model_version: str


async def _entry_matches(w: Write, nc: cmd.NewChildInput, child_id: str, prefix: str,
                         rows: list[dict[str, Any]] | None = None) -> _EntryMatches:
    """The likely existing records of the child about to be written, scored by the model on the
    same row the batch (`mpdb resolve`) builds for it: home point and recording area included, so a
    pair scores the same at entry and in the batch."""
    agency = w.ctx.principal.agency_id
    typed = _typed_record(nc, child_id, agency)
    if rows is None:
        rows = await w.repo.entry_candidates(em.block_keys(typed), em.PER_BLOCK, em.MAX_CANDIDATES)
    if rows:
        typed.update(await _home_fields(w, nc, prefix), agencyForces=await w.repo.agency_forces(agency))
    scorer = await em.get_entry_scorer()
    scored = await scorer.score(typed, [r["record"] for r in rows])
    return _EntryMatches(typed, rows, em.likely(rows, scored, scorer.review_threshold), scorer.version)


def _show_candidates(w: Write, found: _EntryMatches, proposed: bool, new_id: str) -> list[dict[str, Any]]:
    """The candidates as the caller may see them; showing them is a consultation of each, and a
    disclosure to the caller's agency of those it may not read in full."""
    if not found.kept:
        return []
    hidden = [r["id"] for r, _ in found.kept if not r["visible"]]
    w.consulted.extend(r["id"] for r, _ in found.kept)
    if hidden:
        w.disclosures.append((hidden, [w.ctx.principal.agency_id]))
    return [em.shape_candidate(r, m, found.typed, w.now,
                               em.proposal_id(new_id, r["id"]) if proposed and m is not None else None)
            for r, m in found.kept]


async def _propose(w: Write, found: _EntryMatches, new_id: str) -> bool:
    """POSSIBLY_SAME_AS for every scored candidate kept, in the transaction that writes the child."""
    pairs = em.proposals(new_id, found.kept, found.model_version)
    await w.repo.upsert_proposals(pairs)
    w.record_ids.extend(p.row()["id"] for p in pairs)
    return bool(pairs)


async def _check_register_basis(w: Write, c: cmd.RegisterChild) -> None:
    """Who may register which child (docs in README): an LA its looked-after children and the
    children living in its area; a force any child it deals with (it becomes the recording
    agency, which gives it the record); the national unit and the operator anyone."""
    p = w.ctx.principal
    if p.agency_kind is AgencyKind.LOCAL_AUTHORITY:
        if c.looked_after_by is not None:
            if c.looked_after_by != p.agency_id:
                raise Forbidden(f"a local authority registers the children it looks after: lookedAfterBy must be "
                                f"{p.agency_id} or omitted (for a child living in your area)", field="input.lookedAfterBy")
            return
        if c.home is None:
            raise InvalidInput("give lookedAfterBy (your local authority) for a child you look after, or home "
                               "(in your area) for a child living there", field="input.lookedAfterBy")
        area = await w.area(c.home, "input.home")
        if area["laCode"] != p.agency_id:
            raise Forbidden(f"the home is in {area['laCode']}, not in your area: a local authority registers "
                            "children it looks after or who live in its area", field="input.home")
        return
    if p.agency_kind is AgencyKind.POLICE_FORCE:
        if not p.has(Scope.EPISODE_WRITE):
            raise Forbidden("Forbidden: a police force registers children with episode:write")
        return
    if p.agency_kind not in (AgencyKind.NATIONAL_UNIT, AgencyKind.SYSTEM):
        raise Forbidden(f"a {p.agency_kind} does not register children")


async def register_child(ctx: ServiceContext, c: cmd.RegisterChild, idempotency_key: str) -> dict[str, Any]:
    async def work(w: Write) -> dict[str, Any]:
        await _check_register_basis(w, c)
        await w.repo.lock_agency_registrations()
        if c.id is not None:
            taken = await w.repo.child_id_taken(c.id)
            if taken is not None:
                if not taken["visible"]:
                    raise Conflict("this child id is already taken: new child ids must be fresh (e.g. UUIDs)",
                                   field="input.id", reason="CHILD_KEY_TAKEN")
                w.action = AuditAction.CONSULTATION
                w.touched(c.id)
                return {"childId": c.id, "created": False, "candidates": []}
        child_id = _child_key(c, None)
        rows = await w.repo.entry_candidates(em.block_keys(_typed_record(c, child_id, ctx.principal.agency_id)),
                                             em.PER_BLOCK, em.MAX_CANDIDATES)
        same_ref = next((r for r in rows if r["sameRef"]), None)
        if same_ref is not None and same_ref["visible"] and (c.id is None or c.id == same_ref["id"]):
            # The LA's own reference names one child: registering it again is finding it.
            w.action = AuditAction.CONSULTATION
            w.touched(same_ref["id"])
            return {"childId": same_ref["id"], "created": False, "candidates": []}
        found = await _entry_matches(w, c, child_id, "input", rows)
        if found.kept:
            ctx.require_purpose()  # existing records are about to be shown
        if found.kept and not c.create_despite_candidates:
            # Nothing is collected: the one thing done is showing the candidates.
            candidates = _show_candidates(w, found, False, child_id)
            w.action, w.record_ids, w.consulted = AuditAction.CONSULTATION, w.consulted, []
            return {"childId": None, "created": False, "candidates": candidates}
        if same_ref is not None:
            raise Conflict("another record already holds this LA reference (lacRefLa + lacChildRef), so a second "
                           "child cannot be created with it", field="input.lacChildRef", reason="CHILD_KEY_TAKEN")
        if not await _create_child(w, c, child_id, "input"):
            # Created concurrently under the same key since the check above (a retry racing itself).
            raise Conflict("this child was registered concurrently: retry to get it", field="input.id",
                           reason="CHILD_KEY_TAKEN")
        w.touched(child_id, child=child_id)
        proposed = await _propose(w, found, child_id)
        return {"childId": child_id, "created": True, "candidates": _show_candidates(w, found, proposed, child_id)}

    return await _mutate(ctx, "registerChild", idempotency_key, c, AuditAction.COLLECTION, work)


# --- reportMissing ---------------------------------------------------------------------------

async def _resolve_new_child(w: Write, nc: cmd.NewChildInput, prefix: str) -> tuple[str, bool]:
    existing = None
    if nc.lac_ref_la and nc.lac_child_ref:
        existing = await w.repo.child_by_lac_ref(nc.lac_ref_la, nc.lac_child_ref)
    child_id = _child_key(nc, existing)
    return child_id, await _create_child(w, nc, child_id, prefix)


async def _report_one(w: Write, c: cmd.ReportMissing, book: rules.AreaRuleBook, prefix: str,
                      batch: frozenset[str] = frozenset()) -> dict[str, Any]:
    """One child's report inside the caller's transaction; `prefix` is its input path, `batch`
    the ids of children reported together with it (linked by the caller, not as companions)."""
    created = False
    candidates: list[dict[str, Any]] = []
    if c.new_child is not None:
        child_id, created = await _resolve_new_child(w, c.new_child, f"{prefix}.newChild")
        if not await w.repo.lock_child(child_id, created=created):
            raise Conflict("a child with this id or LAC reference already exists and is not one you may see; "
                           "new child ids must be fresh (e.g. UUIDs)", field=f"{prefix}.newChild",
                           reason="CHILD_KEY_TAKEN")
        if created:
            # A missing report is urgent, so likely existing records never stop it (nor does a
            # missing purpose): the child is created, the pairs proposed for review, and the
            # candidates returned with the report.
            found = await _entry_matches(w, c.new_child, child_id, f"{prefix}.newChild")
            candidates = _show_candidates(w, found, await _propose(w, found, child_id), child_id)
    else:
        assert c.child_id is not None
        child_id = c.child_id
        if not await w.repo.lock_child(child_id):
            raise NotFound(NOT_FOUND_MESSAGE.format(kind="child"), field=f"{prefix}.childId")
    if child_id in batch:
        raise InvalidInput("this child is already in the list", field=f"{prefix}.childId")
    facts = await w.repo.child_facts(child_id, created=created)
    rules.check_no_open_episode(facts["openEpisodeId"],
                                field=f"{prefix}.newChild" if c.new_child else f"{prefix}.childId")
    rules.check_episode_times(c.reported_at, c.last_seen_at, now=w.latest, prefix=prefix)
    values.check_not_before_birth(c.reported_at, facts["dateOfBirth"], f"{prefix}.reportedAt")
    if c.last_seen_at is not None:
        values.check_not_before_birth(c.last_seen_at, facts["dateOfBirth"], f"{prefix}.lastSeenAt")
    flags = [rules.ActiveFlag(f["id"], f["type"]) for f in facts["activeFlags"]]
    ra = c.risk_assessment
    rules.check_grade_allowed(ra.scheme, ra.grade, flags, field=f"{prefix}.riskAssessment")
    force = await w.acting_force(c.reporting_force, f"{prefix}.reportingForce")

    missing_from_la = None
    if c.missing_from_placement_id is not None:
        placement = await w.repo.placement_of_child(child_id, c.missing_from_placement_id)
        if placement is None:
            raise NotFound(NOT_FOUND_MESSAGE.format(kind="placement of this child"),
                           field=f"{prefix}.missingFromPlacementId")
        missing_from_la = placement["hostLa"]
    missing_loc = await w.place(c.missing_from_place, f"{prefix}.missingFromPlace") if c.missing_from_place else None
    if missing_loc and missing_from_la is None:
        missing_from_la = missing_loc["laCode"]
    last_seen = await w.place(c.last_seen_place, f"{prefix}.lastSeenPlace") if c.last_seen_place else None
    with_children, with_persons = await w.companions(c.companions, f"{prefix}.companions", child_id)

    episode_id, ra_id = _nid("EP"), _nid("RA")
    category = rules.category_for(ra.scheme, ra.grade)
    await w.repo.create_episode(
        childId=child_id, reportingForce=force, episodeId=episode_id,
        props={"status": "open", "whereaboutsKnown": c.whereabouts_known, "consent": c.consent,
               "reporterType": c.reporter_type, "category": category, **w.prov()},
        reportedAt=_iso(c.reported_at), lastSeenAt=_iso(c.last_seen_at),
        missingFromPlacementId=c.missing_from_placement_id,
        missingFromLocationId=missing_loc["id"] if missing_loc else None,
        lastSeenLocationId=last_seen["id"] if last_seen else None,
    )
    await w.repo.add_risk_assessment(
        episode_id, ra_id, {"grade": ra.grade, "scheme": ra.scheme, "reason": ra.reason, **w.prov()},
        _iso(w.now) or "")
    await w.repo.add_companions(episode_id, with_children, with_persons, "reported")
    # Both directions: a companion who is missing too was missing with this child.
    reverse = await w.repo.add_reverse_companions(child_id, with_children, "reported")
    p = w.ctx.principal
    record_agency, missing_type = rules.episode_record_agency(p.agency_kind, p.agency_id, force,
                                                              c.whereabouts_known)
    record_id = _episode_record_id(record_agency, episode_id)
    await w.repo.create_episode_record(
        episode_id, record_id,
        {"agencyId": record_agency, "sourceRef": episode_id, "missingType": missing_type, **w.prov()},
        _iso(c.reported_at) or "")

    area = rules.rule_area(facts["responsibleLa"], missing_from_la, facts["homeLa"])
    area_rules = book.for_area(area)
    times = [_dt(t) for t in facts["reportedTimes"]] + [c.reported_at]
    fired = rules.evaluate_triggers(times, c.reported_at, area_rules.triggers, area_rules.area)
    w.raised.append(Raised(AlertKind.CHILD_REPORTED_MISSING, child_id, "Episode", episode_id, c.reported_at,
                           episode_id))
    if ra.grade == HIGH_GRADE:
        w.raised.append(Raised(AlertKind.RISK_RAISED, child_id, "RiskAssessment", ra_id, w.now, episode_id))
    w.raised += [Raised(AlertKind.TRIGGER_FIRED, child_id, "Episode", episode_id, c.reported_at, episode_id,
                        trigger=r.trigger.id, rule_area=None if r.area == "national" else r.area)
                 for r in fired if r.fired]
    if with_persons:
        w.raised.append(Raised(AlertKind.ADULT_OF_CONCERN_IN_EPISODE, child_id, "Episode", episode_id,
                               c.reported_at, episode_id, person_ids=tuple(with_persons)))
    w.touched(episode_id, ra_id, record_id, *reverse, child=child_id)
    w.placed.append(episode_id)
    return {
        "episodeId": episode_id, "childId": child_id, "childCreated": created, "candidates": candidates,
        "riskAssessmentId": ra_id,
        "category": category, "reportedTo": force, "ruleArea": area_rules.area,
        "strategyMeetingDueAt": _iso(rules.strategy_meeting_due_at(c.reported_at, area_rules.strategy_meeting_days)),
        "triggers": [{"id": r.trigger.id, "description": r.trigger.description, "rule": r.trigger.describe(),
                      "count": r.count, "fired": r.fired, "area": r.area} for r in fired],
    }


async def report_missing(ctx: ServiceContext, c: cmd.ReportMissing, idempotency_key: str) -> dict[str, Any]:
    book = rules.load_area_rules()

    async def work(w: Write) -> dict[str, Any]:
        return await _report_one(w, c, book, "input")

    return await _mutate(ctx, "reportMissing", idempotency_key, c, AuditAction.COLLECTION, work)


async def report_missing_together(ctx: ServiceContext, c: cmd.ReportMissingTogether,
                                  idempotency_key: str) -> dict[str, Any]:
    """One report per child and WITH_CHILD {source: 'reported'} from every child's new episode to
    every other child, in one transaction: any refusal (field `input.children[i]...`) writes nothing."""
    book = rules.load_area_rules()

    async def work(w: Write) -> dict[str, Any]:
        reports: list[dict[str, Any]] = []
        for i, child in enumerate(c.children):
            done = frozenset(r["childId"] for r in reports)
            reports.append(await _report_one(w, child, book, f"input.children[{i}]", done))
        links = 0
        for r in reports:
            others = [o["childId"] for o in reports if o["childId"] != r["childId"]]
            await w.repo.add_companions(r["episodeId"], others, [], "reported")
            links += len(others)
        return {"reports": reports, "withChildLinks": links}

    return await _mutate(ctx, "reportMissingTogether", idempotency_key, c, AuditAction.COLLECTION, work)


# --- updateEpisode / recordFound / recordReturn ----------------------------------------------

async def _locked_episode(w: Write, episode_id: str, writes: set[str] | None = None) -> dict[str, Any]:
    """Lock the episode and read its facts. `writes`: what the mutation records (sighting, found, ...),
    checked against the caller's basis for the episode (mpdb.auth.access.check_episode_write); None
    for mutations no locate-basis caller may make at all (they see the episode only in full)."""
    locked = await w.repo.lock_episode(episode_id)
    if locked is None or (writes is None and locked[1] != "record"):
        raise NotFound(NOT_FOUND_MESSAGE.format(kind="episode"), field="input.episodeId")
    check_episode_write(w.ctx.scope, locked[1], writes or set())
    facts = await w.repo.episode_facts(episode_id)
    facts["basis"] = locked[1]
    for k in ("reportedAt", "lastSeenAt", "foundAt", "returnedAt"):
        if facts.get(k) is not None:
            facts[k] = _dt(facts[k])
    return facts


def _require_open(facts: dict[str, Any]) -> None:
    if facts["status"] != "open":
        raise RuleViolation(f"episode {facts['id']} is closed (the child returned at "
                            f"{_iso(facts['returnedAt'])}); it can no longer be changed this way",
                            field="input.episodeId", rule="EPISODE_CLOSED")


async def update_episode(ctx: ServiceContext, c: cmd.UpdateEpisode, idempotency_key: str) -> dict[str, Any]:
    async def work(w: Write) -> dict[str, Any]:
        writes = {name for name, given in (("sighting", c.went_to), ("companions", not c.companions.empty),
                                           ("riskAssessment", c.risk_assessment is not None),
                                           ("whereaboutsKnown", c.whereabouts_known is not None)) if given}
        facts = await _locked_episode(w, c.episode_id, writes)
        _require_open(facts)
        ra_id = None
        if c.risk_assessment is not None:
            ra = c.risk_assessment
            flags = [rules.ActiveFlag(f["id"], f["type"]) for f in facts["activeFlags"]]
            rules.check_grade_allowed(ra.scheme, ra.grade, flags)
            ra_id = _nid("RA")
            await w.repo.add_risk_assessment(
                c.episode_id, ra_id, {"grade": ra.grade, "scheme": ra.scheme, "reason": ra.reason, **w.prov()},
                _iso(w.now) or "")
            if ra.grade == HIGH_GRADE and facts["riskGrade"] != HIGH_GRADE:
                w.raised.append(Raised(AlertKind.RISK_RAISED, facts["childId"], "RiskAssessment", ra_id, w.now,
                                       c.episode_id))
        sightings = []
        lower = facts["lastSeenAt"]
        for i, s in enumerate(c.went_to):
            if s.at > w.latest:
                raise InvalidInput("a sighting cannot be in the future", field=f"input.wentTo[{i}].at")
            values.check_not_before_birth(s.at, facts["childDateOfBirth"], f"input.wentTo[{i}].at")
            if lower is not None and s.at < lower:
                raise RuleViolation(f"sighting at {s.at.isoformat()} is before the child was last seen "
                                    f"({lower.isoformat()})", field=f"input.wentTo[{i}].at",
                                    rule="SIGHTING_BEFORE_LAST_SEEN")
            loc = await w.place(s.place, f"input.wentTo[{i}].place")
            sightings.append({"at": _iso(s.at), "locationId": loc["id"]})
        await w.repo.add_went_to(c.episode_id, sightings)
        if sightings:
            w.placed.append(c.episode_id)
        with_children, with_persons = await w.companions(c.companions, "input.companions", facts["childId"])
        await w.repo.add_companions(c.episode_id, with_children, with_persons, "sighting")
        _adults_named(w, facts["childId"], c.episode_id, with_persons)
        record_id = None
        if c.whereabouts_known is not None:
            await w.repo.set_whereabouts_known(c.episode_id, c.whereabouts_known)
            # The caller's own SSDA903-style record follows: whereabouts known is 'A', unknown 'M'.
            record_id = await w.repo.set_record_missing_type(
                c.episode_id, SOURCE_SYSTEM, rules.ssda903_missing_type(c.whereabouts_known))
        w.touched(c.episode_id, ra_id, record_id, child=facts["childId"])
        return {"episodeId": c.episode_id, "riskAssessmentId": ra_id,
                "riskGrade": c.risk_assessment.grade if c.risk_assessment else facts["riskGrade"],
                "gradeScheme": c.risk_assessment.scheme if c.risk_assessment else facts["gradeScheme"],
                "wentToLocationIds": [s["locationId"] for s in sightings],
                "withChildIds": with_children, "withPersonIds": with_persons}

    return await _mutate(ctx, "updateEpisode", idempotency_key, c, AuditAction.ALTERATION, work)


async def record_found(ctx: ServiceContext, c: cmd.RecordFound, idempotency_key: str) -> dict[str, Any]:
    book = rules.load_area_rules()

    async def work(w: Write) -> dict[str, Any]:
        facts = await _locked_episode(w, c.episode_id, {"found"})
        _require_open(facts)
        if facts["foundAt"] is not None:
            raise Conflict(f"episode {c.episode_id} already has its finding recorded "
                           f"({_iso(facts['foundAt'])})", field="input.episodeId", reason="ALREADY_FOUND")
        rules.check_found_returned(facts["reportedAt"], found_at=c.found_at, now=w.latest)
        force = await w.acting_force(c.found_by_force, "input.foundByForce")
        loc = await w.place(c.found_place, "input.foundPlace")
        await w.repo.record_found(c.episode_id, force, loc["id"], _iso(c.found_at) or "")
        w.placed.append(c.episode_id)
        record_id = await w.repo.end_episode_record(c.episode_id, SOURCE_SYSTEM, _iso(c.found_at) or "")
        with_children, with_persons = await w.companions(c.companions, "input.companions", facts["childId"])
        await w.repo.add_companions(c.episode_id, with_children, with_persons, "found")
        w.raised.append(Raised(AlertKind.CHILD_FOUND, facts["childId"], "Episode", c.episode_id, c.found_at,
                               c.episode_id))
        _adults_named(w, facts["childId"], c.episode_id, with_persons)
        notification_id = None
        if facts["lookedAfter"] and facts["responsibleLa"]:
            # "police -> responsible LA when found (half of forces don't)" (DOMAIN.md): mpdb sends it
            # as part of recording the finding, so it cannot be forgotten.
            notification_id = _nid("NOT")
            ack_due = _iso(w.now + timedelta(hours=book.notification_ack_hours))
            await w.repo.create_notification(
                id=notification_id, aboutId=c.episode_id, fromId=force, toId=facts["responsibleLa"],
                props={"kind": "found_to_responsible_la", **w.prov()}, sentAt=_iso(w.now), dueAt=ack_due,
                ackDueAt=ack_due)
            w.disclosures.append(([notification_id, c.episode_id, facts["childId"]], [facts["responsibleLa"]]))
        w.touched(c.episode_id, notification_id, record_id, child=facts["childId"])
        return {"episodeId": c.episode_id, "foundBy": force, "foundAtLocationId": loc["id"],
                "notificationId": notification_id, "notifiedAgency": facts["responsibleLa"] if notification_id else None}

    return await _mutate(ctx, "recordFound", idempotency_key, c, AuditAction.ALTERATION, work)


async def record_return(ctx: ServiceContext, c: cmd.RecordReturn, idempotency_key: str) -> dict[str, Any]:
    book = rules.load_area_rules()

    async def work(w: Write) -> dict[str, Any]:
        facts = await _locked_episode(w, c.episode_id, {"returned"})
        _require_open(facts)
        rules.check_found_returned(facts["reportedAt"], found_at=facts["foundAt"], returned_at=c.returned_at,
                                   now=w.latest)
        placement_id = c.returned_to_placement_id
        if placement_id is not None and placement_id not in facts["placementIds"]:
            raise NotFound(NOT_FOUND_MESSAGE.format(kind="placement of this child"),
                           field="input.returnedToPlacementId")
        loc = await w.place(c.returned_to_place, "input.returnedToPlace") if c.returned_to_place else None
        area_rules = book.for_area(rules.rule_area(facts["responsibleLa"], facts["missingFromLa"], facts["homeLa"]))
        due = rules.rhi_due_at(c.returned_at, area_rules.rhi_due, book.bank_holidays)
        interview_id = _nid("RI")
        await w.repo.record_return(
            episodeId=c.episode_id, returnedAt=_iso(c.returned_at), placementId=placement_id,
            locationId=loc["id"] if loc else None, interviewId=interview_id,
            interviewProps={"status": "not_offered", **w.prov()}, dueAt=_iso(due))
        # The episode is over for the agency that recorded it: the return is its end (a finding
        # recorded earlier set the end provisionally).
        record_id = await w.repo.end_episode_record(c.episode_id, SOURCE_SYSTEM, _iso(c.returned_at) or "")
        if facts["foundAt"] is None:  # back without a finding: this is when the holders learn it
            w.raised.append(Raised(AlertKind.CHILD_FOUND, facts["childId"], "Episode", c.episode_id, c.returned_at,
                                   c.episode_id))
        w.touched(c.episode_id, interview_id, record_id, child=facts["childId"])
        return {"episodeId": c.episode_id, "status": "closed", "returnedAt": _iso(c.returned_at),
                "returnInterviewId": interview_id, "returnInterviewDueAt": _iso(due),
                "ruleArea": area_rules.area, "returnInterviewRule": area_rules.rhi_due.describe()}

    return await _mutate(ctx, "recordReturn", idempotency_key, c, AuditAction.ALTERATION, work)


async def record_return_interview(ctx: ServiceContext, c: cmd.RecordReturnInterview,
                                  idempotency_key: str) -> dict[str, Any]:
    async def work(w: Write) -> dict[str, Any]:
        facts = await _locked_episode(w, c.episode_id)
        if facts["status"] != "closed" or facts["returnedAt"] is None:
            raise RuleViolation("a return interview follows the return: record the return first",
                                field="input.episodeId", rule="NOT_RETURNED")
        p = ctx.principal
        provider = c.provider_agency_id or p.agency_id
        if p.agency_kind is AgencyKind.RHI_PROVIDER and provider != p.agency_id:
            raise Forbidden("a provider records its own interviews", field="input.providerAgencyId")
        agency = await w.repo.agency(provider)
        if agency is None or agency["kind"] not in ("rhi_provider", "local_authority"):
            raise InvalidInput(f"{provider} is not a return-interview provider or local authority",
                               field="input.providerAgencyId")
        for name, value in (("offeredAt", c.offered_at), ("declinedAt", c.declined_at),
                            ("completedAt", c.completed_at)):
            if value is None:
                continue
            if value < facts["returnedAt"]:
                raise RuleViolation(f"{name} is before the child returned ({_iso(facts['returnedAt'])})",
                                    field=f"input.{name}", rule="BEFORE_RETURN")
            if value > w.latest:
                raise InvalidInput(f"{name} is in the future", field=f"input.{name}")
        interview = facts["interview"]
        if interview is not None and interview["status"] in ("completed", "declined"):
            raise RuleViolation(f"return interview {interview['id']} is already {interview['status']}",
                                field="input.status", rule="INTERVIEW_FINAL")
        props = {"status": c.status, "confidentialAccount": c.confidential_account,
                 "summaryPlaces": list(c.summary_places), "summaryPeople": list(c.summary_people),
                 "summaryWith": list(c.summary_with), "summaryRiskTypes": list(c.summary_risk_types), **w.prov()}
        if interview is None:  # a return recorded outside this API (e.g. imported) has no placeholder
            interview_id = _nid("RI")
            await w.repo.create_return_interview(c.episode_id, interview_id, {"status": "not_offered"}, None)
            w.action = AuditAction.COLLECTION
            due_at = None
        else:
            interview_id = interview["id"]
            due_at = interview["dueAt"]
        await w.repo.update_return_interview(
            episodeId=c.episode_id, interviewId=interview_id, providerId=provider, props=props,
            offeredAt=_iso(c.offered_at), completedAt=_iso(c.completed_at), declinedAt=_iso(c.declined_at))
        w.touched(c.episode_id, interview_id, child=facts["childId"])
        return {"episodeId": c.episode_id, "returnInterviewId": interview_id, "status": c.status,
                "providerAgencyId": provider, "dueAt": _iso(_dt(due_at)) if due_at else None,
                "timeliness": rules.rhi_timeliness(c.status, _dt(due_at) if due_at else None,
                                                   c.completed_at or c.declined_at or w.now)}

    return await _mutate(ctx, "recordReturnInterview", idempotency_key, c, AuditAction.ALTERATION, work)


# --- placements ------------------------------------------------------------------------------

async def start_placement(ctx: ServiceContext, c: cmd.StartPlacement, idempotency_key: str) -> dict[str, Any]:
    book = rules.load_area_rules()

    async def work(w: Write) -> dict[str, Any]:
        p = ctx.principal
        placing = c.placing_la or (p.agency_id if p.agency_kind is AgencyKind.LOCAL_AUTHORITY else None)
        if placing is None:
            raise InvalidInput("placingLa is required for a caller that is not a local authority",
                               field="input.placingLa")
        if p.agency_kind is AgencyKind.LOCAL_AUTHORITY and placing != p.agency_id:
            raise Forbidden("a local authority records its own placements: placingLa must be "
                            f"{p.agency_id} or omitted", field="input.placingLa")
        placing_la = await w.repo.la_facts(placing)
        if placing_la is None:
            raise InvalidInput(f"unknown local authority {placing}", field="input.placingLa")
        if not await w.repo.lock_child(c.child_id):
            raise NotFound(NOT_FOUND_MESSAGE.format(kind="child"), field="input.childId")
        facts = await w.repo.child_facts(c.child_id)
        if facts["responsibleLa"] and facts["responsibleLa"] != placing:
            raise RuleViolation(f"the child is looked after by {facts['responsibleLa']}, not {placing}",
                                field="input.placingLa", rule="RESPONSIBLE_LA_MISMATCH")
        start = c.start_date or _uk_date(w.now)
        today = _uk_date(w.latest)
        if start > today:
            raise InvalidInput("startDate is in the future", field="input.startDate")
        if facts["dateOfBirth"] is not None and start < facts["dateOfBirth"]:
            raise RuleViolation(f"startDate is before the child's date of birth ({facts['dateOfBirth']})",
                                field="input.startDate", rule="BEFORE_BIRTH")
        if c.end_date is not None:
            if c.end_date < start:
                raise RuleViolation(f"endDate is before the placement started ({start})", field="input.endDate",
                                    rule="END_BEFORE_START")
            if c.end_date > today:
                raise InvalidInput("endDate is in the future", field="input.endDate")
        # A placement that has already ended is history and may sit beside the current one.
        if c.end_date is None and facts["openPlacementIds"]:
            raise Conflict(f"the child's placement {facts['openPlacementIds'][0]} has not ended: end it first",
                           field="input.childId", reason="OPEN_PLACEMENT_EXISTS",
                           openPlacementId=facts["openPlacementIds"][0])
        loc = await w.place(c.place, "input.place")
        est_id = est_kind = None
        if c.establishment is not None:
            e = c.establishment
            est_id = e.id
            est = await w.repo.merge_establishment(
                e.id or "", {"urn": e.urn, "name": e.name, "kind": e.kind, **w.prov()}, loc["id"])
            if est["created"] and (e.name is None or e.kind is None):
                raise InvalidInput("a new establishment needs name and kind", field="input.establishment.name")
            if est["created"]:
                w.record_ids.append(e.id or "")
            est_kind = est["kind"]
        home = facts["home"]
        origin = (home["latitude"], home["longitude"]) if home else (placing_la["latitude"], placing_la["longitude"])
        target = (loc["latitude"], loc["longitude"]) if loc.get("latitude") is not None else None
        geo = rules.placement_geography(placing_la=placing, placing_la_forces=placing_la["forces"],
                                        host_la=loc["laCode"], host_force=loc["forceCode"],
                                        home=origin, placement=target)
        if not await w.repo.create_placement(
            childId=c.child_id, placingLa=placing, hostLa=loc["laCode"], hostForce=loc["forceCode"],
            locationId=loc["id"], placementId=c.placement_id, establishmentId=est_id, startDate=_iso(start),
            endDate=_iso(c.end_date),
            props={"placementType": c.placement_type, "distanceKm": geo.distance_km, "outOfArea": geo.out_of_area,
                   "crossForce": geo.cross_force, "dcsApproved": c.dcs_approved, **w.prov()}):
            raise Conflict("placementId is already taken: use a fresh id", field="input.placementId",
                           reason="ID_TAKEN")
        notifications = []
        if geo.out_of_area:
            for kind, to in (("placement_to_host_la", loc["laCode"]), ("placement_to_host_force", loc["forceCode"])):
                nid, due = _nid("NOT"), _iso(rules.notification_due_at(book, kind, start))
                await w.repo.create_notification(
                    id=nid, aboutId=c.placement_id, fromId=placing, toId=to, props={"kind": kind, **w.prov()},
                    sentAt=_iso(w.now) if c.notify_sent else None, dueAt=due,
                    ackDueAt=_iso(w.now + timedelta(hours=book.notification_ack_hours)) if c.notify_sent else None)
                notifications.append({"id": nid, "kind": kind, "to": to, "sent": c.notify_sent, "dueAt": due})
                if c.notify_sent:
                    w.disclosures.append(([nid, c.placement_id, c.child_id], [to]))
                w.record_ids.append(nid)
        if rules.home_notification_due(est_kind, geo.out_of_area):
            notifications.append(await _home_notification(w, book, c.placement_id, placing, loc["laCode"],
                                                          "placement", start))
            if c.end_date is not None:
                notifications.append(await _home_notification(w, book, c.placement_id, placing, loc["laCode"],
                                                              "discharge", c.end_date))
        w.touched(c.placement_id, child=c.child_id)
        return {"placementId": c.placement_id, "childId": c.child_id, "placingLa": placing,
                "hostLa": loc["laCode"], "hostForce": loc["forceCode"], "locationId": loc["id"],
                "startDate": _iso(start), "endDate": _iso(c.end_date),
                "distanceKm": geo.distance_km, "distanceFrom": "home" if home else "placing_la_centroid",
                "outOfArea": geo.out_of_area, "crossForce": geo.cross_force,
                "notifications": notifications}

    return await _mutate(ctx, "startPlacement", idempotency_key, c, AuditAction.COLLECTION, work)


async def _home_notification(w: Write, book: rules.AreaRuleBook, placement_id: str, placing_la: str,
                             host_la: str, occasion: str, event_date: date) -> dict[str, Any]:
    """The children's home's notice to the host LA, on placement or discharge. The home is an
    Establishment, not an agency that signs in, so the notice is FROM the placing LA that
    contracts the home (the home itself is ABOUT -> Placement -> AT); it starts unsent, and the
    placing LA marks it sent (markNotificationSent) when the home has sent it. Due from the day
    of the placement or discharge (`event_date`)."""
    nid = _nid("NOT")
    due = _iso(rules.notification_due_at(book, "home_to_host_la", event_date)) or ""
    await w.repo.create_notification(
        id=nid, aboutId=placement_id, fromId=placing_la, toId=host_la,
        props={"kind": "home_to_host_la", "occasion": occasion, **w.prov()}, sentAt=None, dueAt=due)
    w.record_ids.append(nid)
    return {"id": nid, "kind": "home_to_host_la", "to": host_la, "sent": False, "dueAt": due}


async def end_placement(ctx: ServiceContext, c: cmd.EndPlacement, idempotency_key: str) -> dict[str, Any]:
    book = rules.load_area_rules()

    async def work(w: Write) -> dict[str, Any]:
        row = await w.repo.lock_placement(c.placement_id)
        if row is None:
            raise NotFound(NOT_FOUND_MESSAGE.format(kind="placement"), field="input.placementId")
        if not ctx.scope.national and ctx.principal.agency_id != row["placingLa"]:
            # The caller can see the child (a host LA, a force), so the placement's existence is
            # no secret to it: FORBIDDEN, not NOT_FOUND.
            raise Forbidden(f"only the placing local authority ({row['placingLa']}) ends its placement",
                            field="input.placementId")
        if row["endDate"] is not None:
            raise Conflict(f"placement {c.placement_id} already ended on {row['endDate']}",
                           field="input.placementId", reason="PLACEMENT_ENDED")
        if c.end_date < row["startDate"]:
            raise RuleViolation(f"endDate is before the placement started ({row['startDate']})",
                                field="input.endDate", rule="END_BEFORE_START")
        if c.end_date > w.latest.date():
            raise InvalidInput("endDate is in the future", field="input.endDate")
        await w.repo.end_placement(c.placement_id, _iso(c.end_date) or "")
        notifications = []
        est = row["establishment"] or {}
        if rules.home_notification_due(est.get("kind"), bool(row["outOfArea"])) and row["hostLa"]:
            notifications.append(await _home_notification(
                w, book, c.placement_id, row["placingLa"], row["hostLa"], "discharge", c.end_date))
        w.touched(c.placement_id, child=row["childId"])
        return {"placementId": c.placement_id, "childId": row["childId"], "endDate": _iso(c.end_date),
                "notifications": notifications}

    return await _mutate(ctx, "endPlacement", idempotency_key, c, AuditAction.ALTERATION, work)


# --- notifications, flags, associates --------------------------------------------------------

async def acknowledge_notification(ctx: ServiceContext, c: cmd.AcknowledgeNotification,
                                   idempotency_key: str) -> dict[str, Any]:
    async def work(w: Write) -> dict[str, Any]:
        row = await w.repo.lock_notification_for_recipient(c.notification_id)
        if row is None:
            raise NotFound(NOT_FOUND_MESSAGE.format(kind="notification addressed to you"),
                           field="input.notificationId")
        if row["acknowledgedAt"] is not None:  # acknowledging twice changes nothing
            w.audit = False
            return {"notificationId": c.notification_id, "acknowledgedAt": _iso(_dt(row["acknowledgedAt"])),
                    "alreadyAcknowledged": True}
        await w.repo.acknowledge_notification(c.notification_id, _iso(w.now) or "", ctx.principal.subject)
        w.touched(c.notification_id, row["aboutId"])
        return {"notificationId": c.notification_id, "acknowledgedAt": _iso(w.now), "alreadyAcknowledged": False}

    return await _mutate(ctx, "acknowledgeNotification", idempotency_key, c, AuditAction.ALTERATION, work)


async def mark_notification_sent(ctx: ServiceContext, c: cmd.MarkNotificationSent,
                                 idempotency_key: str) -> dict[str, Any]:
    book = rules.load_area_rules()

    async def work(w: Write) -> dict[str, Any]:
        row = await w.repo.lock_notification_for_party(c.notification_id)
        if row is None:
            raise NotFound(NOT_FOUND_MESSAGE.format(kind="notification from or to you"),
                           field="input.notificationId")
        if row["fromId"] != ctx.principal.agency_id:
            raise Forbidden(f"only the sending agency ({row['fromId']}) marks this notification sent",
                            field="input.notificationId")
        if row["sentAt"] is not None:
            sent = _dt(row["sentAt"])
            if sent != c.sent_at:
                raise Conflict(f"notification {c.notification_id} was already sent at {_iso(sent)}",
                               field="input.sentAt", reason="ALREADY_SENT", sentAt=_iso(sent))
            w.audit = False  # the same fact again: nothing changes, nothing is disclosed again
            return {"notificationId": c.notification_id, "sentAt": _iso(sent), "recipient": row["toId"],
                    "alreadySent": True}
        if c.sent_at > w.latest:
            raise InvalidInput("sentAt is in the future", field="input.sentAt")
        if row["reportedAt"] is not None and c.sent_at < _dt(row["reportedAt"]):
            raise RuleViolation(f"sentAt is before the episode was reported ({_iso(_dt(row['reportedAt']))})",
                                field="input.sentAt", rule="BEFORE_REPORTED")
        await w.repo.mark_notification_sent(
            c.notification_id, _iso(c.sent_at) or "", ctx.principal.subject,
            _iso(c.sent_at + timedelta(hours=book.notification_ack_hours)) or "")
        w.touched(c.notification_id, row["aboutId"])
        w.disclosures.append(([i for i in (c.notification_id, row["aboutId"], row["childId"]) if i], [row["toId"]]))
        return {"notificationId": c.notification_id, "sentAt": _iso(c.sent_at), "recipient": row["toId"],
                "alreadySent": False}

    return await _mutate(ctx, "markNotificationSent", idempotency_key, c, AuditAction.ALTERATION, work)


async def raise_flag(ctx: ServiceContext, c: cmd.RaiseFlag, idempotency_key: str) -> dict[str, Any]:
    async def work(w: Write) -> dict[str, Any]:
        child = await w.repo.locked_child(c.child_id)
        if child is None:
            raise NotFound(NOT_FOUND_MESSAGE.format(kind="child"), field="input.childId")
        values.check_not_before_birth(c.raised_at, child["dateOfBirth"], "input.raisedAt")
        if c.raised_at > w.latest:
            raise InvalidInput("raisedAt is in the future", field="input.raisedAt")
        if c.review_due is not None and c.review_due < c.raised_at.date():
            raise InvalidInput("reviewDue is before raisedAt", field="input.reviewDue")
        if await w.repo.agency(ctx.principal.agency_id) is None:
            raise Forbidden(f"your agency {ctx.principal.agency_id} is not registered, so it cannot raise flags")
        if not await w.repo.create_flag(childId=c.child_id, agencyId=ctx.principal.agency_id, flagId=c.flag_id,
                                        props={"type": c.type, "status": "active", "note": c.note, **w.prov()},
                                        raisedAt=_iso(c.raised_at), reviewDue=_iso(c.review_due)):
            raise Conflict("flagId is already taken: use a fresh id", field="input.flagId", reason="ID_TAKEN")
        w.touched(c.flag_id, child=c.child_id)
        w.raised.append(Raised(AlertKind.RISK_RAISED, c.child_id, "Flag", c.flag_id, c.raised_at))
        return {"flagId": c.flag_id, "childId": c.child_id, "type": c.type, "status": "active"}

    return await _mutate(ctx, "raiseFlag", idempotency_key, c, AuditAction.COLLECTION, work)


async def _locked_active_flag(w: Write, flag_id: str, at: datetime, at_field: str) -> dict[str, Any]:
    row = await w.repo.lock_flag(flag_id)
    if row is None:
        raise NotFound(NOT_FOUND_MESSAGE.format(kind="flag"), field="input.flagId")
    if row["status"] != "active":
        raise RuleViolation(f"flag {flag_id} is {row['status']}", field="input.flagId", rule="FLAG_NOT_ACTIVE")
    if at < _dt(row["raisedAt"]):
        raise RuleViolation(f"{at_field} is before the flag was raised", field=f"input.{at_field}",
                            rule="BEFORE_RAISED")
    if at > w.latest:
        raise InvalidInput(f"{at_field} is in the future", field=f"input.{at_field}")
    return row


async def review_flag(ctx: ServiceContext, c: cmd.ReviewFlag, idempotency_key: str) -> dict[str, Any]:
    async def work(w: Write) -> dict[str, Any]:
        row = await _locked_active_flag(w, c.flag_id, c.reviewed_at, "reviewedAt")
        if c.next_review_due is not None and c.next_review_due < c.reviewed_at.date():
            raise InvalidInput("nextReviewDue is before reviewedAt", field="input.nextReviewDue")
        await w.repo.review_flag(c.flag_id, _iso(c.reviewed_at) or "", _iso(c.next_review_due))
        w.touched(c.flag_id, child=row["childId"])
        return {"flagId": c.flag_id, "status": "active", "reviewedAt": _iso(c.reviewed_at),
                "reviewDue": _iso(c.next_review_due)}

    return await _mutate(ctx, "reviewFlag", idempotency_key, c, AuditAction.ALTERATION, work)


async def expire_flag(ctx: ServiceContext, c: cmd.ExpireFlag, idempotency_key: str) -> dict[str, Any]:
    async def work(w: Write) -> dict[str, Any]:
        row = await _locked_active_flag(w, c.flag_id, c.expired_at, "expiredAt")
        await w.repo.expire_flag(c.flag_id, _iso(c.expired_at) or "")
        w.touched(c.flag_id, child=row["childId"])
        return {"flagId": c.flag_id, "status": "expired", "expiredAt": _iso(c.expired_at)}

    return await _mutate(ctx, "expireFlag", idempotency_key, c, AuditAction.ALTERATION, work)


async def link_associate(ctx: ServiceContext, c: cmd.LinkAssociate, idempotency_key: str) -> dict[str, Any]:
    async def work(w: Write) -> dict[str, Any]:
        if not await w.repo.lock_child(c.child_id):
            raise NotFound(NOT_FOUND_MESSAGE.format(kind="child"), field="input.childId")
        if c.person_id is not None:
            if c.person_id not in await w.repo.persons_linkable([c.person_id]):
                raise NotFound(NOT_FOUND_MESSAGE.format(kind="person"), field="input.personId")
            person_id = c.person_id
        else:
            assert c.new_person is not None
            np = c.new_person
            _check_new_person_id(await w.repo.persons_seen([np.id]), np.id, "input.newPerson.id")
            await w.repo.merge_persons([{"id": np.id, "props": {"name": np.name, "role": np.role,
                                                                "dateOfBirth": np.date_of_birth, "notes": np.notes}}],
                                       w.prov())
            person_id = np.id
        row = await w.repo.link_associate(c.child_id, person_id, c.kind, _iso(c.since), _iso(w.now) or "")
        if not row["created"]:
            w.action = AuditAction.ALTERATION
        w.touched(person_id, child=c.child_id)
        return {"childId": c.child_id, "personId": person_id, "kind": row["kind"], "linked": row["created"]}

    return await _mutate(ctx, "linkAssociate", idempotency_key, c, AuditAction.COLLECTION, work)
