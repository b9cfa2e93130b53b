DROP TRIGGER support_requests_cases_in;
DROP TRIGGER support_requests_cases_out;
DROP TRIGGER support_requests_cases_moved;
DROP TABLE supporter_cases;
