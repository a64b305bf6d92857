DROP TABLE must_read_confirmations;
DROP TABLE must_reads;
