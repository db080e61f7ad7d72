"""Statements of the lifecycle writes, run inside the caller's write transaction.

A `WriteRepository` wraps ONE transaction: the service opens it with `graph.in_write_tx` and
calls these methods in order, so a mutation's reads, checks and writes commit together or not at
all. Nothing here decides a rule; it returns facts and performs writes.
"""

from __future__ import annotations

from typing import Any

from neo4j import AsyncManagedTransaction

from mpdb.auth.access import AccessScope
from mpdb.graph.db import run
from mpdb.graph.queries import entry_match as em
from mpdb.graph.queries import writes as q
from mpdb.graph.queries.access import REFRESH_ACCESS
from mpdb.graph.repositories.resolution import upsert_proposals
from mpdb.graph.repositories.hotspot_buckets import refresh_episodes


def _one(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    return rows[0] if rows else None


class WriteRepository:
    def __init__(self, tx: AsyncManagedTransaction, scope: AccessScope) -> None:
        self.tx = tx
        self.scope = scope

    async def _run(self, text: Any, **params: Any) -> list[dict[str, Any]]:
        return await run(self.tx, text, params)

    # idempotency
    async def claim_key(self, key: str, operation: str, request_hash: str) -> dict[str, Any]:
        rows = await self._run(q.CLAIM_IDEMPOTENCY_KEY, key=key, operation=operation, requestHash=request_hash,
                               agencyId=self.scope.agency_id)
        return rows[0]

    async def store_result(self, key: str, result_json: str) -> None:
        await self._run(q.STORE_IDEMPOTENT_RESULT, key=key, resultJson=result_json)

    # reference
    async def agency(self, agency_id: str) -> dict[str, Any] | None:
        return _one(await self._run(q.AGENCY, id=agency_id))

    async def resolve_area(self, la_code: str | None, force_code: str | None,
                           lat: float | None, lon: float | None) -> dict[str, Any] | None:
        return _one(await self._run(q.RESOLVE_AREA, laCode=la_code, forceCode=force_code, lat=lat, lon=lon))

    async def location(self, location_id: str) -> dict[str, Any] | None:
        return _one(await self._run(q.EXISTING_LOCATION, id=location_id))

    async def create_location(self, location_id: str, props: dict[str, Any], la_code: str, force_code: str,
                              lat: float | None, lon: float | None) -> None:
        await self._run(q.CREATE_LOCATION, id=location_id, props=props, laCode=la_code, forceCode=force_code,
                        lat=lat, lon=lon)

    async def la_facts(self, code: str) -> dict[str, Any] | None:
        return _one(await self._run(q.LA_FACTS, code=code))

    # children
    async def child_by_lac_ref(self, la: str, ref: str) -> str | None:
        row = _one(await self._run(q.CHILD_BY_LAC_REF, lacRefLa=la, lacChildRef=ref))
        return row["id"] if row else None

    async def merge_new_child(self, child_id: str, props: dict[str, Any], looked_after_by: str | None,
                              home_id: str | None) -> bool:
        rows = await self._run(q.MERGE_NEW_CHILD, id=child_id, props=props, lookedAfterBy=looked_after_by,
                               homeId=home_id)
        return bool(rows[0]["created"])

    async def child_id_taken(self, child_id: str) -> dict[str, Any] | None:
        """None when free; else `visible`: whether the caller may see the child holding it."""
        return _one(await self._run(q.CHILD_ID_TAKEN, childId=child_id, **self.scope.named_record_params()))

    async def lock_agency_registrations(self) -> None:
        await self._run(q.LOCK_AGENCY_REGISTRATIONS, agencyId=self.scope.agency_id)

    async def entry_candidates(self, keys: dict[str, Any], per_block: int, limit: int) -> list[dict[str, Any]]:
        """Likely existing records of a child about to be written (mpdb/graph/queries/entry_match.py)."""
        return await self._run(em.ENTRY_CANDIDATES, record=keys, perBlock=per_block, limit=limit,
                               **self.scope.named_record_params())

    async def agency_forces(self, agency_id: str) -> list[str]:
        """The police area(s) of a recording agency, as the batch maps it (empty: no area)."""
        row = _one(await self._run(em.AGENCY_FORCES, agencyId=agency_id))
        return list(row["forces"]) if row else []

    async def upsert_proposals(self, proposals: list[Any]) -> None:
        """POSSIBLY_SAME_AS pairs found at entry, proposed by the caller's agency (never a decided pair)."""
        await upsert_proposals(self.tx, proposals, self.scope.agency_id)

    async def lock_child(self, child_id: str, *, created: bool = False) -> bool:
        rows = await self._run(q.LOCK_CHILD, childId=child_id, created=created, **self.scope.cypher_params())
        return bool(rows)

    async def locked_child(self, child_id: str) -> dict[str, Any] | None:
        """Lock a child the caller may see, returning its id and date of birth (None: not visible)."""
        rows = await self._run(q.LOCK_CHILD, childId=child_id, created=False, **self.scope.cypher_params())
        return rows[0] if rows else None

    async def child_facts(self, child_id: str, *, created: bool = False) -> dict[str, Any]:
        return (await self._run(q.CHILD_FACTS, childId=child_id, created=created, **self.scope.cypher_params()))[0]

    async def visible_children(self, ids: list[str]) -> set[str]:
        rows = await self._run(q.VISIBLE_CHILDREN, ids=ids, **self.scope.cypher_params())
        return {r["id"] for r in rows}

    async def persons_seen(self, ids: list[str]) -> dict[str, bool]:
        """Of these person ids, those that exist, each with whether the caller may see it."""
        if not ids:
            return {}
        rows = await self._run(q.PERSONS_SEEN, ids=ids, **self.scope.cypher_params())
        return {r["id"]: bool(r["visible"]) for r in rows}

    async def persons_linkable(self, ids: list[str]) -> set[str]:
        """Of these person ids, those the caller may name by id in a link (docs/ACCESS.md)."""
        if not ids:
            return set()
        rows = await self._run(q.PERSONS_SEEN, ids=ids, **self.scope.cypher_params())
        return {r["id"] for r in rows if r["linkable"]}

    async def merge_persons(self, persons: list[dict[str, Any]], prov: dict[str, Any]) -> None:
        if persons:
            await self._run(q.MERGE_PERSONS, persons=persons, prov=prov)

    async def placement_of_child(self, child_id: str, placement_id: str) -> dict[str, Any] | None:
        return _one(await self._run(q.PLACEMENT_OF_CHILD, childId=child_id, placementId=placement_id,
                                    created=False, **self.scope.cypher_params()))

    async def refresh_access(self, child_ids: list[str]) -> None:
        await self._run(REFRESH_ACCESS, childIds=sorted(set(child_ids)))

    async def refresh_hotspot_buckets(self, episode_ids: list[str]) -> None:
        """The API only adds episodes and places, so the episodes' keys after the write are every
        bucket the write changed (mpdb/graph/repositories/hotspot_buckets.py)."""
        await refresh_episodes(self.tx, sorted(set(episode_ids)))

    # episodes
    async def create_episode(self, **params: Any) -> None:
        await self._run(q.CREATE_EPISODE, **params)

    async def lock_episode(self, episode_id: str) -> tuple[str, str] | None:
        """(child id, basis) of an episode the caller may write to; basis 'record' or 'locate'."""
        row = _one(await self._run(q.LOCK_EPISODE, episodeId=episode_id, **self.scope.cypher_params()))
        return (row["childId"], row["basis"]) if row else None

    async def episode_facts(self, episode_id: str) -> dict[str, Any]:
        return (await self._run(q.EPISODE_FACTS, episodeId=episode_id, **self.scope.cypher_params()))[0]

    async def create_episode_record(self, episode_id: str, record_id: str, props: dict[str, Any],
                                    start_at: str) -> None:
        await self._run(q.CREATE_EPISODE_RECORD, episodeId=episode_id, id=record_id, props=props, startAt=start_at)

    async def end_episode_record(self, episode_id: str, source_system: str, end_at: str) -> str | None:
        row = _one(await self._run(q.END_EPISODE_RECORD, episodeId=episode_id, sourceSystem=source_system,
                                   endAt=end_at))
        return row["id"] if row else None

    async def set_record_missing_type(self, episode_id: str, source_system: str, missing_type: str) -> str | None:
        row = _one(await self._run(q.SET_RECORD_MISSING_TYPE, episodeId=episode_id, sourceSystem=source_system,
                                   missingType=missing_type, agencyId=self.scope.agency_id))
        return row["id"] if row else None

    async def add_risk_assessment(self, episode_id: str, ra_id: str, props: dict[str, Any], assessed_at: str) -> None:
        await self._run(q.ADD_RISK_ASSESSMENT, episodeId=episode_id, id=ra_id, props=props, assessedAt=assessed_at)

    async def add_companions(self, episode_id: str, child_ids: list[str], person_ids: list[str], source: str) -> None:
        if child_ids or person_ids:
            await self._run(q.ADD_COMPANIONS, episodeId=episode_id, childIds=child_ids, personIds=person_ids,
                            source=source)

    async def add_reverse_companions(self, child_id: str, companion_ids: list[str], source: str) -> list[str]:
        """The companions' open episodes now also name `child_id`; returns those episode ids."""
        if not companion_ids:
            return []
        rows = await self._run(q.ADD_REVERSE_COMPANIONS, childId=child_id, companionIds=companion_ids, source=source)
        return [r["episodeId"] for r in rows]

    async def add_went_to(self, episode_id: str, sightings: list[dict[str, Any]]) -> None:
        if sightings:
            await self._run(q.ADD_WENT_TO, episodeId=episode_id, sightings=sightings)

    async def set_whereabouts_known(self, episode_id: str, value: bool) -> None:
        await self._run(q.SET_WHEREABOUTS_KNOWN, episodeId=episode_id, value=value)

    async def record_found(self, episode_id: str, force_code: str, location_id: str, found_at: str) -> None:
        await self._run(q.RECORD_FOUND, episodeId=episode_id, forceCode=force_code, locationId=location_id,
                        foundAt=found_at)

    async def create_notification(self, **params: Any) -> None:
        rows = await self._run(q.CREATE_NOTIFICATION, **{"ackDueAt": None, **params})
        if not rows:
            raise RuntimeError(f"notification {params.get('id')} not created: an endpoint is missing")

    async def record_return(self, **params: Any) -> None:
        await self._run(q.RECORD_RETURN, **params)

    async def update_return_interview(self, **params: Any) -> None:
        await self._run(q.UPDATE_RETURN_INTERVIEW, **params)

    # placements
    async def merge_establishment(self, est_id: str, props: dict[str, Any], location_id: str) -> dict[str, Any]:
        """`created` (this call made it) and the establishment's `kind`."""
        return (await self._run(q.MERGE_ESTABLISHMENT, id=est_id, props=props, locationId=location_id))[0]

    async def create_placement(self, **params: Any) -> bool:
        """False when the placement id is already taken (nothing written)."""
        return bool(await self._run(q.CREATE_PLACEMENT, **params))

    async def lock_placement(self, placement_id: str) -> dict[str, Any] | None:
        return _one(await self._run(q.LOCK_PLACEMENT, placementId=placement_id, **self.scope.cypher_params()))

    async def end_placement(self, placement_id: str, end_date: str) -> None:
        await self._run(q.END_PLACEMENT, placementId=placement_id, endDate=end_date)

    # notifications
    async def lock_notification_for_recipient(self, notification_id: str) -> dict[str, Any] | None:
        return _one(await self._run(q.LOCK_NOTIFICATION_FOR_RECIPIENT, notificationId=notification_id,
                                    agencyId=self.scope.agency_id))

    async def lock_notification_for_party(self, notification_id: str) -> dict[str, Any] | None:
        return _one(await self._run(q.LOCK_NOTIFICATION_FOR_PARTY, notificationId=notification_id,
                                    agencyId=self.scope.agency_id))

    async def mark_notification_sent(self, notification_id: str, sent_at: str, author: str, ack_due_at: str) -> None:
        await self._run(q.MARK_NOTIFICATION_SENT, notificationId=notification_id, sentAt=sent_at, author=author,
                        ackDueAt=ack_due_at)

    async def acknowledge_notification(self, notification_id: str, at: str, author: str) -> None:
        await self._run(q.ACKNOWLEDGE_NOTIFICATION, notificationId=notification_id, at=at, author=author)

    # flags and associates
    async def create_flag(self, **params: Any) -> bool:
        """False when the flag id is already taken (nothing written)."""
        return bool(await self._run(q.CREATE_FLAG, **params))

    async def lock_flag(self, flag_id: str) -> dict[str, Any] | None:
        return _one(await self._run(q.LOCK_FLAG, flagId=flag_id, **self.scope.cypher_params()))

    async def review_flag(self, flag_id: str, reviewed_at: str, review_due: str | None) -> None:
        await self._run(q.REVIEW_FLAG, flagId=flag_id, reviewedAt=reviewed_at, reviewDue=review_due,
                        agencyId=self.scope.agency_id)

    async def expire_flag(self, flag_id: str, expired_at: str) -> None:
        await self._run(q.EXPIRE_FLAG, flagId=flag_id, expiredAt=expired_at, agencyId=self.scope.agency_id)

    async def link_associate(self, child_id: str, person_id: str, kind: str, since: str | None, now: str) -> dict[str, Any]:
        return (await self._run(q.LINK_ASSOCIATE, childId=child_id, personId=person_id, kind=kind, since=since,
                                agencyId=self.scope.agency_id, now=now))[0]

    async def create_return_interview(self, episode_id: str, interview_id: str, props: dict[str, Any],
                                      due_at: str | None) -> None:
        await self._run(q.CREATE_RETURN_INTERVIEW, episodeId=episode_id, interviewId=interview_id, props=props,
                        dueAt=due_at)
