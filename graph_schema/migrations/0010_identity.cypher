// Review and merge of possible duplicates (issue 12 point 3; graph_schema/MODEL.md "Identities").
//
// A candidate pair is one POSSIBLY_SAME_AS relationship per unordered pair of children, named by
// its `id` ('psa-' + 24 hex of sha256 of the ordered pair). Reviewers address it by that id
// (identityCandidate, confirm/reject/unmerge), so the id is unique and seekable; a relationship
// property uniqueness constraint gives both (its backing index), and makes a second proposal for
// the same pair fail instead of silently doubling it.
CREATE CONSTRAINT possibly_same_as_id IF NOT EXISTS FOR ()-[r:POSSIBLY_SAME_AS]-() REQUIRE r.id IS UNIQUE;
// The review queue lists pairs by status ('proposed' first of all); without this every list
// scans every candidate relationship.
CREATE INDEX possibly_same_as_status IF NOT EXISTS FOR ()-[r:POSSIBLY_SAME_AS]-() ON (r.status, r.matchProbability);
// Unmerge finds the SAME_AS a candidate created by the candidate's id.
CREATE INDEX same_as_candidate IF NOT EXISTS FOR ()-[r:SAME_AS]-() ON (r.candidateId);
