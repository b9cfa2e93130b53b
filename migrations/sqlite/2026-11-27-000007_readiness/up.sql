-- Readiness self-assessments: the institution's answers, scores per domain, and whether it
-- chose to share the scores with the federation's steward.
CREATE TABLE readiness_assessments (
    id TEXT PRIMARY KEY NOT NULL,
    answers TEXT NOT NULL,
    scores TEXT NOT NULL,
    share_with_steward BOOLEAN NOT NULL,
    submitted_by TEXT NOT NULL,
    submitted_at TIMESTAMP NOT NULL
);
