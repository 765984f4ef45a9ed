-- The exposition text of pg_prom_metrics(): the families it must contain,
-- with HELP and TYPE, and the rules of the text format it must keep.
CREATE EXTENSION pg_prom;

CREATE TEMP TABLE scrape AS
SELECT n, l
FROM regexp_split_to_table(pg_prom_metrics(), E'\n') WITH ORDINALITY AS t(l, n);

-- the families of the core issue, with postgres_exporter's types
SELECT f AS family, t AS type,
       EXISTS (SELECT 1 FROM scrape WHERE l = '# TYPE ' || f || ' ' || t) AS typed,
       EXISTS (SELECT 1 FROM scrape WHERE l LIKE '# HELP ' || f || ' _%') AS helped
FROM (VALUES ('pg_up', 'gauge'),
             ('pg_static', 'untyped'),
             ('pg_postmaster_start_time_seconds', 'gauge'),
             ('pg_database_size_bytes', 'gauge'),
             ('pg_database_connection_limit', 'gauge'),
             ('pg_stat_database_numbackends', 'gauge'),
             ('pg_stat_database_xact_commit', 'counter'),
             ('pg_stat_database_blks_hit', 'counter'),
             ('pg_stat_database_deadlocks', 'counter'),
             ('pg_stat_database_active_time_seconds_total', 'counter'),
             ('pg_stat_database_conflicts_confl_lock', 'counter'),
             ('pg_stat_activity_count', 'gauge'),
             ('pg_stat_activity_max_tx_duration', 'gauge'),
             ('pg_locks_count', 'gauge'),
             ('pg_settings_max_connections', 'gauge'),
             ('pg_settings_shared_buffers_bytes', 'gauge'),
             ('pg_settings_statement_timeout_seconds', 'gauge'),
             ('pg_stat_bgwriter_buffers_alloc_total', 'counter'),
             ('pg_stat_archiver_archived_count', 'counter'),
             ('pg_stat_archiver_failed_count', 'counter'),
             ('pg_scrape_collector_success', 'gauge'),
             ('pg_scrape_collector_duration_seconds', 'gauge'),
             ('pg_prom_scrape_duration_seconds', 'gauge'),
             ('pg_prom_scrapes_total', 'counter'),
             ('pg_prom_http_requests_total', 'counter'),
             ('pg_prom_build_info', 'gauge')) AS v(f, t)
ORDER BY 1;

-- every TYPE line directly follows the HELP line of the same family
SELECT count(*) AS type_lines_without_help
FROM scrape t
LEFT JOIN scrape h ON h.n = t.n - 1
WHERE t.l LIKE '# TYPE %'
  AND (h.l IS NULL OR h.l NOT LIKE '# HELP ' || split_part(t.l, ' ', 3) || ' %');

-- each family is declared once
SELECT count(*) - count(DISTINCT split_part(l, ' ', 3)) AS families_declared_twice
FROM scrape WHERE l LIKE '# TYPE %';

-- no series appears twice
SELECT count(*) - count(DISTINCT regexp_replace(l, ' [^ ]+$', '')) AS duplicate_series
FROM scrape WHERE l <> '' AND l NOT LIKE '#%';

-- every sample belongs to the family declared just above it (contiguity)
WITH samples AS (
  SELECT s.n, regexp_replace(s.l, '[{ ].*$', '') AS name,
         (SELECT split_part(t.l, ' ', 3) FROM scrape t
          WHERE t.n < s.n AND t.l LIKE '# TYPE %' ORDER BY t.n DESC LIMIT 1) AS family
  FROM scrape s WHERE s.l <> '' AND s.l NOT LIKE '#%')
SELECT count(*) AS samples_outside_their_family
FROM samples WHERE name <> family
  AND name NOT IN (family || '_bucket', family || '_sum', family || '_count');

-- sample lines are well formed: name, optional labels, one value
SELECT count(*) AS malformed_samples
FROM scrape
WHERE l <> '' AND l NOT LIKE '#%'
  AND l !~ '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (NaN|[+-]Inf|-?[0-9.]+(e[+-]?[0-9]+)?)$';

-- the output ends with a newline and has no blank line inside
SELECT right(pg_prom_metrics(), 1) = E'\n' AS ends_with_newline,
       (SELECT count(*) FROM scrape
        WHERE l = '' AND n < (SELECT max(n) FROM scrape)) AS blank_lines;

-- the checkpoint counters: pg_stat_bgwriter's before PostgreSQL 17,
-- pg_stat_checkpointer's (collector stat_checkpointer) from 17 on
SELECT EXISTS (SELECT 1 FROM scrape
               WHERE l = '# TYPE ' || CASE WHEN current_setting('server_version_num')::int >= 170000
                                           THEN 'pg_stat_checkpointer_num_timed_total'
                                           ELSE 'pg_stat_bgwriter_checkpoints_timed_total' END
                         || ' counter') AS checkpoints_timed_typed,
       (SELECT count(*) FROM scrape
        WHERE l = 'pg_scrape_collector_success{collector="stat_checkpointer"} 1')
       = CASE WHEN current_setting('server_version_num')::int >= 170000 THEN 1 ELSE 0 END
       AS checkpointer_collector_from_17;

-- pg_stat_io from 16 (collector stat_io), pg_stat_lock from 19 (stat_lock):
-- on by default where the server has them, one series per cell of the view
-- (the count of a query over a view only servers from that version have)
CREATE FUNCTION pg_temp.count_from(version int, query text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE n bigint := 0;
BEGIN
  IF current_setting('server_version_num')::int >= version THEN
    EXECUTE query INTO n;
  END IF;
  RETURN n;
END $$;
SELECT (SELECT count(*) FROM scrape
        WHERE l = 'pg_scrape_collector_success{collector="stat_io"} 1')
       = CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 1 ELSE 0 END
       AS io_collector_from_16,
       (SELECT count(*) FROM scrape
        WHERE l ~ '^pg_stat_io_reads_total\{backend_type="client backend",object="relation",context="normal"\} [0-9]+$')
       = CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 1 ELSE 0 END
       AS io_client_reads_from_16,
       (SELECT count(*) FROM scrape WHERE l LIKE 'pg_stat_io_hits_total{%')
       = pg_temp.count_from(160000, 'SELECT count(*) FROM pg_catalog.pg_stat_io WHERE hits IS NOT NULL')
         AS io_series_are_the_view_cells,
       (SELECT count(*) FROM scrape
        WHERE l = 'pg_scrape_collector_success{collector="stat_lock"} 1')
       = CASE WHEN current_setting('server_version_num')::int >= 190000 THEN 1 ELSE 0 END
       AS lock_collector_from_19,
       (SELECT count(*) FROM scrape
        WHERE l = 'pg_scrape_collector_success{collector="stat_recovery"} 1')
       = CASE WHEN current_setting('server_version_num')::int >= 190000 THEN 1 ELSE 0 END
       AS recovery_collector_from_19,
       (SELECT count(*) FROM scrape
        WHERE l = 'pg_scrape_collector_success{collector="autovacuum_scores"} 1')
       = CASE WHEN current_setting('server_version_num')::int >= 190000 THEN 1 ELSE 0 END
       AS autovacuum_scores_collector_from_19,
       (SELECT count(*) FROM scrape WHERE l LIKE 'pg_stat_autovacuum_scores_score{%')
       = least(50, pg_temp.count_from(190000, 'SELECT count(*) FROM pg_catalog.pg_stat_autovacuum_scores'))
         AS autovacuum_scores_top_tables;

-- pg_stat_wal on every version: this database's creation wrote WAL
SELECT EXISTS (SELECT 1 FROM scrape WHERE l ~ '^pg_stat_wal_records_total [1-9][0-9]*$')
         AS wal_records,
       EXISTS (SELECT 1 FROM scrape WHERE l ~ '^pg_stat_wal_bytes_total [1-9][0-9]*$')
         AS wal_bytes;

-- pg_stat_bgwriter and pg_stat_archiver come from the shared statistics:
-- the numbers the views show (ones that do not move during the test)
SELECT (SELECT substring(l from ' (.*)$')::float8 FROM scrape
        WHERE l LIKE 'pg_stat_bgwriter_stats_reset_total %')
       = (SELECT date_part('epoch', stats_reset) FROM pg_stat_bgwriter)
         AS bgwriter_reset_as_view,
       (SELECT substring(l from ' (.*)$')::float8 FROM scrape
        WHERE l LIKE 'pg_stat_archiver_failed_count %')
       = (SELECT failed_count FROM pg_stat_archiver) AS archiver_failed_as_view,
       (NOT EXISTS (SELECT 1 FROM scrape WHERE l LIKE 'pg_stat_archiver_last_archive_age %'))
       = (SELECT last_archived_time IS NULL FROM pg_stat_archiver)
         AS archive_age_only_once_archived;

-- every other collector succeeded
SELECT l FROM scrape WHERE l LIKE 'pg_scrape_collector_success%'
  AND l NOT LIKE '%"stat_checkpointer"%' AND l NOT LIKE '%"stat_io"%'
  AND l NOT LIKE '%"stat_lock"%' AND l NOT LIKE '%"stat_recovery"%'
  AND l NOT LIKE '%"autovacuum_scores"%' ORDER BY n;

-- values that are known here
SELECT l FROM scrape WHERE l IN ('pg_up 1', 'pg_settings_max_connections 100',
                                 'pg_settings_shared_buffers_bytes 134217728',
                                 'pg_settings_statement_timeout_seconds 0',
                                 'pg_settings_autovacuum 1')
ORDER BY l;

-- this session is left out of pg_stat_activity_count, like postgres_exporter
-- leaves out its own connection; every database has all six states
SELECT count(*) AS activity_series_for_regression_db
FROM scrape
WHERE l LIKE 'pg_stat_activity_count{datname="contrib_regression",%';

-- pg_locks_count: nine modes for every database
SELECT count(*) = 9 * (SELECT count(*) FROM pg_database) AS all_lock_modes
FROM scrape WHERE l LIKE 'pg_locks_count{%';

-- the scrape counter moves with every render
SELECT (regexp_match(pg_prom_metrics(), E'\npg_prom_scrapes_total ([0-9]+)'))[1]::int
     < (regexp_match(pg_prom_metrics(), E'\npg_prom_scrapes_total ([0-9]+)'))[1]::int
  AS scrapes_counted;
