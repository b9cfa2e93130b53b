DROP TABLE trainers;
DROP TABLE training_completions;
DROP TABLE training_sessions;
DROP TABLE training_courses;
