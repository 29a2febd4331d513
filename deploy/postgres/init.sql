-- One schema and one login role per service (the distributed form). Passwords here are for the local compose
-- demo only; production provisions roles and passwords from its secret store.
CREATE ROLE mimamori_ingest LOGIN PASSWORD 'ingest-dev';
CREATE ROLE mimamori_identity LOGIN PASSWORD 'identity-dev';
CREATE ROLE mimamori_risk LOGIN PASSWORD 'risk-dev';
CREATE ROLE mimamori_casework LOGIN PASSWORD 'casework-dev';
CREATE ROLE mimamori_gateway LOGIN PASSWORD 'gateway-dev';
-- audit: the owner migrates; the runtime role may only SELECT and INSERT the ledger.
CREATE ROLE mimamori_audit_owner LOGIN PASSWORD 'audit-owner-dev';
CREATE ROLE mimamori_audit LOGIN PASSWORD 'audit-dev';
CREATE SCHEMA ingest AUTHORIZATION mimamori_ingest;
CREATE SCHEMA identity AUTHORIZATION mimamori_identity;
CREATE SCHEMA risk AUTHORIZATION mimamori_risk;
CREATE SCHEMA casework AUTHORIZATION mimamori_casework;
CREATE SCHEMA gateway AUTHORIZATION mimamori_gateway;
CREATE SCHEMA audit AUTHORIZATION mimamori_audit_owner;
GRANT USAGE ON SCHEMA audit TO mimamori_audit;
ALTER DEFAULT PRIVILEGES FOR ROLE mimamori_audit_owner IN SCHEMA audit GRANT SELECT, INSERT ON TABLES TO mimamori_audit;
ALTER DEFAULT PRIVILEGES FOR ROLE mimamori_audit_owner IN SCHEMA audit GRANT USAGE ON SEQUENCES TO mimamori_audit;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
