ALTER TABLE alerts DROP COLUMN acknowledged_at;
ALTER TABLE alerts DROP COLUMN next_step_at;
ALTER TABLE alerts DROP COLUMN step;
DROP TABLE alert_pages;
DROP TABLE on_call_overrides;
DROP TABLE on_call_shifts;
DROP TABLE on_call_settings;
