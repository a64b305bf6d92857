DROP TABLE login_steps;
DROP TABLE recovery_codes;
DROP TABLE second_factors;
