/* pg_prom--1.1.sql */

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

-- Application metrics: counters, gauges and histograms recorded from SQL
-- (and triggers) into shared memory, exported with the other families.
-- Updates are immediate and not undone by a rollback, like nextval().
-- Nobody may write them until granted: GRANT EXECUTE ON FUNCTION ... TO role.
-- A metric belongs to the role that created it: only that role, its
-- members and superusers may change it.  pg_prom's own names are refused.

CREATE FUNCTION pg_prom_counter_inc(metric_name text, VARIADIC labels text[] DEFAULT '{}')
RETURNS void
AS 'MODULE_PATHNAME', 'pg_prom_counter_inc'
LANGUAGE C VOLATILE PARALLEL SAFE;

CREATE FUNCTION pg_prom_counter_add(metric_name text, value float8, VARIADIC labels text[] DEFAULT '{}')
RETURNS void
AS 'MODULE_PATHNAME', 'pg_prom_counter_add'
LANGUAGE C VOLATILE PARALLEL SAFE;

CREATE FUNCTION pg_prom_gauge_set(metric_name text, value float8, VARIADIC labels text[] DEFAULT '{}')
RETURNS void
AS 'MODULE_PATHNAME', 'pg_prom_gauge_set'
LANGUAGE C VOLATILE PARALLEL SAFE;

CREATE FUNCTION pg_prom_gauge_add(metric_name text, value float8, VARIADIC labels text[] DEFAULT '{}')
RETURNS void
AS 'MODULE_PATHNAME', 'pg_prom_gauge_add'
LANGUAGE C VOLATILE PARALLEL SAFE;

CREATE FUNCTION pg_prom_histogram_observe(metric_name text, value float8, VARIADIC labels text[] DEFAULT '{}')
RETURNS void
AS 'MODULE_PATHNAME', 'pg_prom_histogram_observe'
LANGUAGE C VOLATILE PARALLEL SAFE;

CREATE FUNCTION pg_prom_metric_define(metric_name text, metric_type text, help text DEFAULT NULL,
									  buckets float8[] DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_prom_metric_define'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION pg_prom_metric_drop(metric_name text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'pg_prom_metric_drop'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION pg_prom_app_metrics(OUT metric_name text, OUT metric_type text,
									OUT labels text, OUT value float8, OUT count bigint,
									OUT owner text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_prom_app_metrics'
LANGUAGE C VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION pg_prom_counter_inc(text, text[]) IS
'Add 1 to an application counter: pg_prom_counter_inc(name, label, value, ...)';
COMMENT ON FUNCTION pg_prom_counter_add(text, float8, text[]) IS
'Add a non-negative amount to an application counter';
COMMENT ON FUNCTION pg_prom_gauge_set(text, float8, text[]) IS
'Set an application gauge';
COMMENT ON FUNCTION pg_prom_gauge_add(text, float8, text[]) IS
'Add to (or, negative, subtract from) an application gauge';
COMMENT ON FUNCTION pg_prom_histogram_observe(text, float8, text[]) IS
'Record one observation in an application histogram';
COMMENT ON FUNCTION pg_prom_metric_define(text, text, text, float8[]) IS
'Declare an application metric with its type, HELP text and histogram buckets';
COMMENT ON FUNCTION pg_prom_metric_drop(text) IS
'Forget an application metric and all its series; returns how many series';
COMMENT ON FUNCTION pg_prom_app_metrics() IS
'Every application metric series with its current value';

REVOKE ALL ON FUNCTION pg_prom_counter_inc(text, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_prom_counter_add(text, float8, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_prom_gauge_set(text, float8, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_prom_gauge_add(text, float8, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_prom_histogram_observe(text, float8, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_prom_metric_define(text, text, text, float8[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_prom_metric_drop(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_prom_app_metrics() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pg_prom_app_metrics() TO pg_monitor;

-- Custom collector queries (postgres_exporter's queries.yaml, in SQL).
-- Each value column of a query becomes the family <name>_<column>, each row
-- a series labelled by the label columns.  The worker runs the enabled
-- queries of pg_prom.database at every scrape, as pg_prom.custom_query_role,
-- read-only, each in its own subtransaction with its own timeout.
-- pg_dump keeps the definitions (extension configuration table).

-- Every function and operator below is schema-qualified: CREATE EXTENSION
-- runs as a superuser, and a name resolved through the extension's schema
-- could find an object someone else created there.
CREATE FUNCTION pg_prom_valid_names(names text[], pattern text)
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN NOT EXISTS (SELECT FROM pg_catalog.unnest(names) AS n
				   WHERE n OPERATOR(pg_catalog.!~) pattern OR n OPERATOR(pg_catalog.~) '^__');

CREATE TABLE pg_prom_queries (
	name text PRIMARY KEY
		CONSTRAINT pg_prom_queries_name_check
		CHECK (name OPERATOR(pg_catalog.~) '^[a-zA-Z_:][a-zA-Z0-9_:]{0,99}$'),
	query text NOT NULL,
	help text NOT NULL DEFAULT '',
	metric_type text NOT NULL DEFAULT 'gauge'
		CONSTRAINT pg_prom_queries_metric_type_check
		CHECK (metric_type OPERATOR(pg_catalog.=) ANY (ARRAY['gauge', 'counter']::pg_catalog.text[])),
	label_columns text[] NOT NULL DEFAULT '{}'
		CONSTRAINT pg_prom_queries_label_columns_check
		CHECK (@extschema@.pg_prom_valid_names(label_columns, '^[a-zA-Z_][a-zA-Z0-9_]*$')),
	value_columns text[] NOT NULL
		CONSTRAINT pg_prom_queries_value_columns_check
		CHECK (pg_catalog.cardinality(value_columns) OPERATOR(pg_catalog.>) 0
			   AND @extschema@.pg_prom_valid_names(value_columns, '^[a-zA-Z_][a-zA-Z0-9_]*$')),
	min_interval interval NOT NULL DEFAULT '0'
		CONSTRAINT pg_prom_queries_min_interval_check
		CHECK (min_interval OPERATOR(pg_catalog.>=) '0'::pg_catalog.interval
			   AND min_interval OPERATOR(pg_catalog.<=) '1 day'::pg_catalog.interval),
	enabled boolean NOT NULL DEFAULT true,
	changed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	-- who registered it: its queries run only while that role has the
	-- privileges of pg_prom.custom_query_role (a name, so that pg_dump and
	-- pg_upgrade carry it)
	registered_by name NOT NULL DEFAULT CURRENT_ROLE
);

COMMENT ON TABLE pg_prom_queries IS
'Custom collector queries; change them with pg_prom_register_query() and pg_prom_unregister_query()';

SELECT pg_catalog.pg_extension_config_dump('pg_prom_queries', '');
REVOKE ALL ON pg_prom_queries FROM PUBLIC;
GRANT SELECT ON pg_prom_queries TO pg_monitor;

-- Not SECURITY DEFINER: the C functions check the caller (a superuser, or
-- a role with the privileges of pg_prom.custom_query_role), check the query
-- as that role, then write pg_prom_queries as its owner with fully
-- qualified SQL.
CREATE FUNCTION pg_prom_register_query(name text, query text, help text,
									   metric_type text DEFAULT 'gauge',
									   label_columns text[] DEFAULT '{}',
									   value_columns text[] DEFAULT NULL,
									   min_interval interval DEFAULT '0',
									   enabled boolean DEFAULT true)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_prom_register_query'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION pg_prom_unregister_query(name text)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_prom_unregister_query'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION pg_prom_register_query(text, text, text, text, text[], text[], interval, boolean) IS
'Add or replace a custom collector query after checking it as pg_prom.custom_query_role';
COMMENT ON FUNCTION pg_prom_unregister_query(text) IS
'Remove a custom collector query';

-- Registering decides what pg_prom.custom_query_role runs at every scrape:
-- superusers, and roles they grant EXECUTE to that also have the
-- privileges of that role.
REVOKE ALL ON FUNCTION pg_prom_register_query(text, text, text, text, text[], text[], interval, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_prom_unregister_query(text) FROM PUBLIC;

-- A row trigger counting rows without a PL/pgSQL function:
--   CREATE TRIGGER t AFTER INSERT ON orders FOR EACH ROW
--     EXECUTE FUNCTION pg_prom_count_rows('shop_orders_total', 'region');
-- EXECUTE is checked when a trigger is created: grant it to table owners.
CREATE FUNCTION pg_prom_count_rows()
RETURNS trigger
AS 'MODULE_PATHNAME', 'pg_prom_count_rows'
LANGUAGE C;

COMMENT ON FUNCTION pg_prom_count_rows() IS
'Row trigger: add 1 to the counter named by its first argument, labelled by the columns named by the others';

REVOKE ALL ON FUNCTION pg_prom_count_rows() FROM PUBLIC;
