DROP TABLE federation_seen_calls;
