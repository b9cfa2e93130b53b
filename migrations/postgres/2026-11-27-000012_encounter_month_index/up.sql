-- Matching sums each supporter's encounter minutes this month; this index answers it without
-- reading the table.
CREATE INDEX encounters_month ON encounters (occurred_on, supporter_id, duration_band);
