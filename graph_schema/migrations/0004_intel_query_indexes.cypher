// Indexes for the graph-intelligence queries (issue 4, speed), each justified by a PROFILE.
//
// duties RHI_OVERDUE starts from return interviews still owed: status IN ['offered', 'not_offered']
// AND dueAt < $asOf. With only `return_interview_due` the seek returns every interview due before
// asOf (all 24,937 on the demo data set, 3 of 4 of them completed or declined) and filters status
// afterwards; with (status, dueAt) the planner seeks the two statuses' ranges directly (9,521
// rows; 221k -> 181k db hits for Kent Police, and the saving grows with the number of completed
// interviews, i.e. with history).
CREATE INDEX return_interview_status_due IF NOT EXISTS FOR (n:ReturnInterview) ON (n.status, n.dueAt);
