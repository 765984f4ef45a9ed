/* pg_prom--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "ALTER EXTENSION pg_prom UPDATE TO '1.1'" to load this file. \quit

-- Custom queries are registered by C functions that are not SECURITY
-- DEFINER any more (1.0's PL/pgSQL ones resolved names through the
-- extension's schema while running as its owner).  CREATE OR REPLACE keeps
-- the EXECUTE privileges granted on them.
CREATE OR REPLACE FUNCTION pg_prom_register_query(name text, query text, help text,
									   metric_type text DEFAULT 'gauge',
									   label_columns text[] DEFAULT '{}',
									   value_columns text[] DEFAULT NULL,
									   min_interval interval DEFAULT '0',
									   enabled boolean DEFAULT true)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_prom_register_query'
LANGUAGE C VOLATILE SECURITY INVOKER PARALLEL UNSAFE;
ALTER FUNCTION pg_prom_register_query(text, text, text, text, text[], text[], interval, boolean)
	RESET ALL;

CREATE OR REPLACE FUNCTION pg_prom_unregister_query(name text)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_prom_unregister_query'
LANGUAGE C VOLATILE SECURITY INVOKER PARALLEL UNSAFE;
ALTER FUNCTION pg_prom_unregister_query(text) RESET ALL;

-- the check is part of registration now
DROP FUNCTION pg_prom_check_query(text, text, text, text[], text[]);

-- application metrics show who owns them
DROP FUNCTION pg_prom_app_metrics();
CREATE FUNCTION pg_prom_app_metrics(OUT metric_name text, OUT metric_type text,
									OUT labels text, OUT value float8, OUT count bigint,
									OUT owner text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_prom_app_metrics'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION pg_prom_app_metrics() IS
'Every application metric series with its current value';
REVOKE ALL ON FUNCTION pg_prom_app_metrics() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pg_prom_app_metrics() TO pg_monitor;
