// Range indexes on the properties that queries filter or sort on.
CREATE INDEX episode_reported_at IF NOT EXISTS FOR (n:Episode) ON (n.reportedAt);
CREATE INDEX episode_status IF NOT EXISTS FOR (n:Episode) ON (n.status);
CREATE INDEX location_force_code IF NOT EXISTS FOR (n:Location) ON (n.forceCode);
CREATE INDEX location_la_code IF NOT EXISTS FOR (n:Location) ON (n.laCode);
CREATE INDEX location_cell IF NOT EXISTS FOR (n:Location) ON (n.cell);
CREATE INDEX child_lac_ref IF NOT EXISTS FOR (n:Child) ON (n.lacRefLa, n.lacChildRef);
CREATE INDEX child_dob IF NOT EXISTS FOR (n:Child) ON (n.dateOfBirth);
CREATE INDEX flag_status IF NOT EXISTS FOR (n:Flag) ON (n.status);
CREATE INDEX notification_kind IF NOT EXISTS FOR (n:Notification) ON (n.kind);
CREATE INDEX return_interview_due IF NOT EXISTS FOR (n:ReturnInterview) ON (n.dueAt);
CREATE INDEX placement_start IF NOT EXISTS FOR (n:Placement) ON (n.startDate);
CREATE INDEX audit_event_at IF NOT EXISTS FOR (n:AuditEvent) ON (n.at);
CREATE INDEX audit_event_agency IF NOT EXISTS FOR (n:AuditEvent) ON (n.agencyId);
CREATE INDEX episode_record_agency IF NOT EXISTS FOR (n:EpisodeRecord) ON (n.agencyId);
CREATE INDEX agency_kind IF NOT EXISTS FOR (n:Agency) ON (n.kind);
