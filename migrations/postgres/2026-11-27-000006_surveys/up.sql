-- Anonymous surveys. A token is issued when a case closes and emailed to the requester; neither
-- table refers to the request or the person, so an answer cannot be traced back to anyone.
CREATE TABLE survey_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    issued_month TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

CREATE TABLE survey_responses (
    id TEXT PRIMARY KEY NOT NULL,
    submitted_month TEXT NOT NULL,
    answers TEXT NOT NULL
);
