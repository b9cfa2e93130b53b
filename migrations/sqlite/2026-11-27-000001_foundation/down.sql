DROP TABLE programs;
DROP TABLE peer_supporters;
DROP TABLE oauth_clients;
DROP TABLE refresh_tokens;
DROP TABLE account_roles;
DROP TABLE accounts;
DROP TABLE people;
DROP TABLE institution;
