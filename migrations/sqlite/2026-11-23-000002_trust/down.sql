DROP TABLE trust_audit;
DROP TABLE instances;
