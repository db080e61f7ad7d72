// Every node key is unique. Community edition has uniqueness constraints (node keys and
// existence constraints are Enterprise-only), so presence is enforced by the write layer.
CREATE CONSTRAINT agency_id IF NOT EXISTS FOR (n:Agency) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT force_code IF NOT EXISTS FOR (n:Force) REQUIRE n.code IS UNIQUE;
CREATE CONSTRAINT la_code IF NOT EXISTS FOR (n:LocalAuthority) REQUIRE n.code IS UNIQUE;
CREATE CONSTRAINT location_id IF NOT EXISTS FOR (n:Location) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT establishment_id IF NOT EXISTS FOR (n:Establishment) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT child_id IF NOT EXISTS FOR (n:Child) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT child_pseudonym IF NOT EXISTS FOR (n:Child) REQUIRE n.pseudonym IS UNIQUE;
CREATE CONSTRAINT person_id IF NOT EXISTS FOR (n:Person) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT episode_id IF NOT EXISTS FOR (n:Episode) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT episode_record_id IF NOT EXISTS FOR (n:EpisodeRecord) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT risk_assessment_id IF NOT EXISTS FOR (n:RiskAssessment) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT return_interview_id IF NOT EXISTS FOR (n:ReturnInterview) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT referral_id IF NOT EXISTS FOR (n:Referral) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT placement_id IF NOT EXISTS FOR (n:Placement) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT flag_id IF NOT EXISTS FOR (n:Flag) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT notification_id IF NOT EXISTS FOR (n:Notification) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT schema_migration_version IF NOT EXISTS FOR (n:SchemaMigration) REQUIRE n.version IS UNIQUE;
CREATE CONSTRAINT idempotency_key IF NOT EXISTS FOR (n:IdempotencyKey) REQUIRE n.key IS UNIQUE;
CREATE CONSTRAINT audit_event_seq IF NOT EXISTS FOR (n:AuditEvent) REQUIRE n.seq IS UNIQUE;
CREATE CONSTRAINT dataset_info_id IF NOT EXISTS FOR (n:DatasetInfo) REQUIRE n.id IS UNIQUE;
