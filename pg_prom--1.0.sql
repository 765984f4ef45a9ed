/* pg_prom--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pg_prom" to load this file. \quit

CREATE FUNCTION pg_prom_metrics()
RETURNS text
AS 'MODULE_PATHNAME', 'pg_prom_metrics'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION pg_prom_metrics() IS
'Prometheus text exposition of this server, the same as the /metrics endpoint';

-- Reads statistics of every session and database: not for everyone.
REVOKE ALL ON FUNCTION pg_prom_metrics() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pg_prom_metrics() TO pg_monitor;
