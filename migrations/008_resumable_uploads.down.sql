DROP TABLE IF EXISTS direct_uploads;
DROP TABLE IF EXISTS tus_parts;
DROP TABLE IF EXISTS tus_uploads;
