DROP TABLE pending_involvements;
