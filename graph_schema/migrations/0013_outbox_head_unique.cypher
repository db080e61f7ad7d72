// One outbox head (migration 0011): APPEND_EVENTS merges the head when it is missing (a store wiped
// by hand), so a write never appends nothing silently; this constraint makes two concurrent merges
// meet on one node instead of creating two heads.
CREATE CONSTRAINT outbox_head_id IF NOT EXISTS FOR (h:OutboxHead) REQUIRE h.id IS UNIQUE;
