CREATE INDEX encounters_month ON encounters (occurred_on, supporter_id, duration_band);
DROP TABLE supporter_minutes;
