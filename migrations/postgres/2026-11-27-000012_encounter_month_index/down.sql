DROP INDEX encounters_month;
