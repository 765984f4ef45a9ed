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

-- 1.0 resolved unnest, cardinality and operators of the table's checks
-- through the extension's schema when it was created: recreate them fully
-- qualified (the checks are evaluated by every superuser that inserts).
CREATE OR REPLACE FUNCTION pg_prom_valid_names(names text[], pattern text)
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN NOT EXISTS (SELECT FROM pg_catalog.unnest(names) AS n
				   WHERE n OPERATOR(pg_catalog.!~) pattern OR n OPERATOR(pg_catalog.~) '^__');

UPDATE pg_prom_queries SET min_interval = '1 day'::pg_catalog.interval
	WHERE min_interval OPERATOR(pg_catalog.>) '1 day'::pg_catalog.interval;
ALTER TABLE pg_prom_queries
	DROP CONSTRAINT IF EXISTS pg_prom_queries_name_check,
	DROP CONSTRAINT IF EXISTS pg_prom_queries_metric_type_check,
	DROP CONSTRAINT IF EXISTS pg_prom_queries_label_columns_check,
	DROP CONSTRAINT IF EXISTS pg_prom_queries_value_columns_check,
	DROP CONSTRAINT IF EXISTS pg_prom_queries_min_interval_check,
	ADD CONSTRAINT pg_prom_queries_name_check
		CHECK (name OPERATOR(pg_catalog.~) '^[a-zA-Z_:][a-zA-Z0-9_:]{0,99}$'),
	ADD CONSTRAINT pg_prom_queries_metric_type_check
		CHECK (metric_type OPERATOR(pg_catalog.=) ANY (ARRAY['gauge', 'counter']::pg_catalog.text[])),
	ADD CONSTRAINT pg_prom_queries_label_columns_check
		CHECK (@extschema@.pg_prom_valid_names(label_columns, '^[a-zA-Z_][a-zA-Z0-9_]*$')),
	ADD CONSTRAINT pg_prom_queries_value_columns_check
		CHECK (pg_catalog.cardinality(value_columns) OPERATOR(pg_catalog.>) 0
			   AND @extschema@.pg_prom_valid_names(value_columns, '^[a-zA-Z_][a-zA-Z0-9_]*$')),
	ADD CONSTRAINT pg_prom_queries_min_interval_check
		CHECK (min_interval OPERATOR(pg_catalog.>=) '0'::pg_catalog.interval
			   AND min_interval OPERATOR(pg_catalog.<=) '1 day'::pg_catalog.interval),
	ALTER COLUMN changed_at SET DEFAULT pg_catalog.now(),
	-- 1.0 did not record who registered a query: the role updating the
	-- extension (a superuser) takes them over; review them after the update
	ADD COLUMN registered_by name NOT NULL DEFAULT CURRENT_ROLE;
