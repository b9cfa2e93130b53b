DROP TABLE readiness_assessments;
