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

-- Application metrics: counters, gauges and histograms recorded from SQL
-- (and triggers) into shared memory, exported with the other families.
-- Updates are immediate and not undone by a rollback, like nextval().
-- Nobody may write them until granted: GRANT EXECUTE ON FUNCTION ... TO role.

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
									OUT labels text, OUT value float8, OUT count bigint)
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

CREATE FUNCTION pg_prom_valid_names(names text[], pattern text)
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN NOT EXISTS (SELECT FROM unnest(names) AS n WHERE n !~ pattern OR n ~ '^__');

CREATE TABLE pg_prom_queries (
	name text PRIMARY KEY
		CHECK (name ~ '^[a-zA-Z_:][a-zA-Z0-9_:]{0,99}$'),
	query text NOT NULL,
	help text NOT NULL DEFAULT '',
	metric_type text NOT NULL DEFAULT 'gauge'
		CHECK (metric_type IN ('gauge', 'counter')),
	label_columns text[] NOT NULL DEFAULT '{}'
		CHECK (pg_prom_valid_names(label_columns, '^[a-zA-Z_][a-zA-Z0-9_]*$')),
	value_columns text[] NOT NULL
		CHECK (cardinality(value_columns) > 0
			   AND pg_prom_valid_names(value_columns, '^[a-zA-Z_][a-zA-Z0-9_]*$')),
	min_interval interval NOT NULL DEFAULT '0'
		CHECK (min_interval >= '0'),
	enabled boolean NOT NULL DEFAULT true,
	changed_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE pg_prom_queries IS
'Custom collector queries; change them with pg_prom_register_query() and pg_prom_unregister_query()';

SELECT pg_catalog.pg_extension_config_dump('pg_prom_queries', '');
REVOKE ALL ON pg_prom_queries FROM PUBLIC;
GRANT SELECT ON pg_prom_queries TO pg_monitor;

CREATE FUNCTION pg_prom_check_query(name text, query text, metric_type text,
									label_columns text[], value_columns text[])
RETURNS text[]
AS 'MODULE_PATHNAME', 'pg_prom_check_query'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

REVOKE ALL ON FUNCTION pg_prom_check_query(text, text, text, text[], text[]) FROM PUBLIC;

CREATE FUNCTION pg_prom_register_query(name text, query text, help text,
									   metric_type text DEFAULT 'gauge',
									   label_columns text[] DEFAULT '{}',
									   value_columns text[] DEFAULT NULL,
									   min_interval interval DEFAULT '0',
									   enabled boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
	q text := regexp_replace(query, '[[:space:];]+$', '');
	v text[];
BEGIN
	IF min_interval IS NULL OR min_interval < '0' THEN
		RAISE EXCEPTION 'min_interval must be zero or positive'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	v := pg_prom_check_query(name, q, metric_type, coalesce(label_columns, '{}'), value_columns);
	INSERT INTO pg_prom_queries AS t
		(name, query, help, metric_type, label_columns, value_columns, min_interval, enabled)
	VALUES (name, q, coalesce(help, ''), metric_type, coalesce(label_columns, '{}'), v,
			min_interval, coalesce(enabled, true))
	ON CONFLICT ON CONSTRAINT pg_prom_queries_pkey DO UPDATE
		SET query = excluded.query, help = excluded.help, metric_type = excluded.metric_type,
			label_columns = excluded.label_columns, value_columns = excluded.value_columns,
			min_interval = excluded.min_interval, enabled = excluded.enabled,
			changed_at = now();
END
$$;

CREATE FUNCTION pg_prom_unregister_query(name text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM pg_prom_queries AS t WHERE t.name = pg_prom_unregister_query.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'custom query "%" does not exist', name
			USING ERRCODE = 'undefined_object',
				  HINT = 'SELECT name FROM pg_prom_queries lists them.';
	END IF;
END
$$;

COMMENT ON FUNCTION pg_prom_register_query(text, text, text, text, text[], text[], interval, boolean) IS
'Add or replace a custom collector query after checking it as pg_prom.custom_query_role';
COMMENT ON FUNCTION pg_prom_unregister_query(text) IS
'Remove a custom collector query';

-- Registering decides what runs at every scrape: superusers, and roles
-- they grant EXECUTE to.
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
