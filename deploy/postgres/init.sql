-- One database per service, owned by the application user (POSTGRES_USER, "fupin").
-- The postgres image runs this once, on the first start with an empty data volume, as POSTGRES_USER.
-- The services would also create a missing database at start (shared.db.ensure_database); creating them
-- here keeps ownership explicit and lets a DBA review what the stack expects.
CREATE DATABASE fupin_registry OWNER fupin;
CREATE DATABASE fupin_identification OWNER fupin;
CREATE DATABASE fupin_funds OWNER fupin;
CREATE DATABASE fupin_loans OWNER fupin;
CREATE DATABASE fupin_notifications OWNER fupin;
