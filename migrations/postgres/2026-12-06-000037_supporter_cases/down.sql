DROP TRIGGER support_requests_cases ON support_requests;
DROP FUNCTION supporter_cases_follow();
DROP FUNCTION supporter_cases_of(TEXT, TEXT, TEXT);
DROP TABLE supporter_cases;
