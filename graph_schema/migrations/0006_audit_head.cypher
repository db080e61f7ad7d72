// One audit head. APPEND_EVENT MERGEs the head and locks it, which serialises appends once it
// exists; but on an empty trail two first appends running at once (the console fetches a page's
// parts concurrently) could both CREATE a head, and the second then failed on the AuditEvent seq
// constraint: an internal error for the user. With this constraint MERGE takes the unique index
// entry's lock, so the second waits for the first and then matches its head.
CREATE CONSTRAINT audit_head_id IF NOT EXISTS FOR (n:AuditHead) REQUIRE n.id IS UNIQUE;
