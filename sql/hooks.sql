-- Counters fed by hooks: statement latency, errors, the histogram format.
CREATE EXTENSION IF NOT EXISTS pg_prom;
CREATE FUNCTION hook_sample(series text) RETURNS float8 LANGUAGE sql AS $$
  SELECT COALESCE((SELECT split_part(l, ' ', 2)::float8
    FROM regexp_split_to_table(pg_prom_metrics(), E'\n') AS l
    WHERE split_part(l, ' ', 1) = series), 0)
$$;

SELECT hook_sample('pg_statement_duration_seconds_count{datname="contrib_regression",command="select"}') AS before \gset
SELECT 1;
SELECT 2;
SELECT 3;
SELECT 4;
SELECT 5;
-- five SELECTs, plus the one that read "before" (counted when it ended)
SELECT hook_sample('pg_statement_duration_seconds_count{datname="contrib_regression",command="select"}') - :before AS selects;

SELECT hook_sample('pg_error_codes_total{sqlstate="22012",condition="division_by_zero"}') AS before \gset
SELECT 1/0;
SELECT hook_sample('pg_error_codes_total{sqlstate="22012",condition="division_by_zero"}') - :before AS divisions_by_zero;

-- an error caught in PL/pgSQL never reaches the log: not counted
SELECT hook_sample('pg_errors_total{severity="ERROR",sqlstate_class="22"}') AS before \gset
DO $$ BEGIN PERFORM 1/0; EXCEPTION WHEN division_by_zero THEN NULL; END $$;
SELECT hook_sample('pg_errors_total{severity="ERROR",sqlstate_class="22"}') - :before AS caught_errors;

-- the histogram is cumulative and ends with +Inf = _count
WITH s AS (SELECT l FROM regexp_split_to_table(pg_prom_metrics(), E'\n') AS l
           WHERE l LIKE 'pg_statement_duration_seconds_%{datname="contrib_regression",command="select"%')
SELECT (SELECT count(*) FROM s WHERE l LIKE '%_bucket{%') AS buckets,
       (SELECT split_part(l, ' ', 2) FROM s WHERE l LIKE '%le="+Inf"}%') =
       (SELECT split_part(l, ' ', 2) FROM s WHERE l LIKE '%_count{%') AS inf_is_count;

SELECT f AS family, t AS type,
       EXISTS (SELECT 1 FROM regexp_split_to_table(pg_prom_metrics(), E'\n') AS l
               WHERE l = '# TYPE ' || f || ' ' || t) AS typed
FROM (VALUES ('pg_statement_duration_seconds', 'histogram'),
             ('pg_transaction_duration_seconds', 'histogram'),
             ('pg_errors_total', 'counter'),
             ('pg_error_codes_total', 'counter'),
             ('pg_auth_attempts_total', 'counter'),
             ('pg_connections_max', 'gauge'),
             ('pg_connections_used', 'gauge'),
             ('pg_backends', 'gauge'),
             ('pg_oldest_transaction_age_seconds', 'gauge'),
             ('pg_backends_waiting_on_lock', 'gauge')) AS v(f, t)
ORDER BY 1;

-- switched off, statements are not counted
SET pg_prom.track_statements = off;
SELECT hook_sample('pg_statement_duration_seconds_count{datname="contrib_regression",command="select"}') AS before \gset
SELECT 1;
SELECT hook_sample('pg_statement_duration_seconds_count{datname="contrib_regression",command="select"}') - :before AS counted_while_off;
RESET pg_prom.track_statements;

DROP FUNCTION hook_sample(text);
