DROP TABLE case_pseudonyms;
