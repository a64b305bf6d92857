DROP TABLE leavers;
