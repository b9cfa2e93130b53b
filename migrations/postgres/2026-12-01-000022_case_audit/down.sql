DROP TABLE case_audit;
