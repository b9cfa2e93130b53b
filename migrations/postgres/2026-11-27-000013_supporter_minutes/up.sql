-- Matching needs each supporter's encounter minutes this month. Summing the encounters for every
-- new request costs time in proportion to the month's encounters; a running total per supporter
-- and month, kept with each encounter, costs time in proportion to the supporters.
CREATE TABLE supporter_minutes (
    supporter_id TEXT NOT NULL REFERENCES peer_supporters (id) ON DELETE CASCADE,
    month DATE NOT NULL,
    minutes BIGINT NOT NULL,
    PRIMARY KEY (supporter_id, month)
);

INSERT INTO supporter_minutes (supporter_id, month, minutes)
SELECT supporter_id, CAST(date_trunc('month', occurred_on) AS DATE),
       SUM(CASE duration_band
               WHEN 'under_15_minutes' THEN 15
               WHEN '15_to_30_minutes' THEN 30
               WHEN '30_to_60_minutes' THEN 60
               ELSE 90
           END)
FROM encounters
WHERE supporter_id IS NOT NULL
GROUP BY supporter_id, CAST(date_trunc('month', occurred_on) AS DATE);

DROP INDEX encounters_month;
