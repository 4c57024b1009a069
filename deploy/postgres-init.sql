-- Runs once, when the PostgreSQL volume is created: n8n gets a database of its own next to the ledger's, and the
-- ledger's database gets TimescaleDB so balance history becomes a hypertable (the migration checks for it).
CREATE DATABASE n8n;
\connect veil
CREATE EXTENSION IF NOT EXISTS timescaledb;
