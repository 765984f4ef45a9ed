-- The drop-in families of postgres_exporter's default collectors, their
-- classic names, the per-table cap and the collector switches.
CREATE EXTENSION IF NOT EXISTS pg_prom;
CREATE TABLE dropin_a (id int PRIMARY KEY, v text);
CREATE TABLE dropin_b (id int);
CREATE TABLE dropin_c (id int);
INSERT INTO dropin_a SELECT g, 'x' FROM generate_series(1, 10) g;

CREATE TEMP TABLE scrape AS
SELECT l FROM regexp_split_to_table(pg_prom_metrics(), E'\n') AS l;

SELECT f AS family, t AS type,
       EXISTS (SELECT 1 FROM scrape WHERE l = '# TYPE ' || f || ' ' || t) AS typed
FROM (VALUES ('pg_replication_lag_seconds', 'gauge'),
             ('pg_replication_is_replica', 'gauge'),
             ('pg_replication_last_replay_seconds', 'gauge'),
             ('pg_replication_lag', 'gauge'),
             ('pg_replication_slots_active', 'gauge'),
             ('pg_replication_slots_slot_current_wal_lsn', 'gauge'),
             ('pg_replication_slot_slot_current_wal_lsn', 'gauge'),
             ('pg_stat_replication_pg_wal_lsn_diff', 'gauge'),
             ('pg_roles_connection_limit', 'gauge'),
             ('pg_wal_segments', 'gauge'),
             ('pg_wal_size_bytes', 'gauge'),
             ('pg_stat_progress_vacuum_phase', 'gauge'),
             ('pg_stat_progress_vacuum_heap_blks', 'gauge'),
             ('pg_stat_user_tables_seq_scan', 'counter'),
             ('pg_stat_user_tables_n_live_tup', 'gauge'),
             ('pg_stat_user_tables_last_autovacuum', 'gauge'),
             ('pg_stat_user_tables_autoanalyze_count', 'counter'),
             ('pg_stat_user_tables_table_size_bytes', 'gauge'),
             ('pg_stat_user_tables_index_size_bytes', 'gauge'),
             ('pg_stat_user_tables_size_bytes', 'gauge'),
             ('pg_statio_user_tables_heap_blocks_read', 'counter'),
             ('pg_statio_user_tables_heap_blks_read', 'counter'),
             ('pg_statio_user_tables_tidx_blocks_hit', 'counter'),
             ('pg_prom_collector_objects_left_out', 'gauge'),
             ('pg_prom_collector_relations_skipped_locked', 'gauge')) AS v(f, t)
ORDER BY 1;

-- per-table series carry this database's name, the schema and the table
SELECT l FROM scrape
WHERE l LIKE 'pg\_stat\_user\_tables\_n\_tup\_ins{%' AND l LIKE '%dropin%'
ORDER BY l;
SELECT l LIKE '%} 0' AS size_is_zero FROM scrape
WHERE l LIKE 'pg\_stat\_user\_tables\_table\_size\_bytes{%relname="dropin\_a"}%';
SELECT l FROM scrape WHERE l LIKE 'pg_roles_connection_limit{rolname="pg_monitor"}%';
SELECT l FROM scrape WHERE l IN ('pg_replication_is_replica 0', 'pg_replication_lag_seconds 0');

-- the per-table cap: one table shown, the others left out and counted
-- (temporary tables, this session's included, are never shown: other
-- sessions' temp tables must not push real ones out)
SET pg_prom.max_tables = 1;
SET pg_prom.slow_collector_interval = 0;
WITH s AS (SELECT l FROM regexp_split_to_table(pg_prom_metrics(), E'\n') AS l)
SELECT (SELECT count(*) FROM s WHERE l LIKE 'pg\_stat\_user\_tables\_seq\_scan{%') AS tables_shown,
       (SELECT l FROM s WHERE l LIKE 'pg_prom_collector_objects_left_out{collector="stat_user_tables"}%') AS left_out,
       (SELECT l FROM s WHERE l LIKE 'pg_prom_collector_objects_left_out{collector="table_sizes"}%') AS sizes_left_out;
RESET pg_prom.max_tables;
RESET pg_prom.slow_collector_interval;

-- collector switches
SET pg_prom.collectors = 'default, -settings, -stat_user_tables';
WITH s AS (SELECT l FROM regexp_split_to_table(pg_prom_metrics(), E'\n') AS l)
SELECT (SELECT count(*) FROM s WHERE l LIKE 'pg\_settings\_%') AS settings_lines,
       (SELECT count(*) FROM s WHERE l LIKE 'pg\_stat\_user\_tables\_seq\_scan%') AS table_lines,
       (SELECT count(*) FROM s WHERE l LIKE 'pg_scrape_collector_success{collector="settings"}%') AS settings_reported,
       (SELECT count(*) FROM s WHERE l LIKE 'pg_up 1') AS up;
SET pg_prom.collectors = '-all, static';
SELECT count(*) AS families FROM regexp_split_to_table(pg_prom_metrics(), E'\n') AS l
WHERE l LIKE '# TYPE %';
SET pg_prom.collectors = 'default, nosuch';
SET pg_prom.collectors = 'default,,locks';
RESET pg_prom.collectors;

-- postgres_exporter's opt-in collectors
SET pg_prom.collectors = 'default, long_running_transactions, database_wraparound, statio_user_indexes, stat_wal_receiver, xlog_location, stat_statements, process_idle, stat_checkpointer, buffercache_summary';
CREATE TEMP TABLE optin AS
SELECT l FROM regexp_split_to_table(pg_prom_metrics(), E'\n') AS l;
SELECT l FROM optin WHERE l LIKE 'pg_scrape_collector_success%' AND l NOT LIKE '%} 1' ;
SELECT f AS family, t AS type,
       EXISTS (SELECT 1 FROM optin WHERE l = '# TYPE ' || f || ' ' || t) AS typed
FROM (VALUES ('pg_long_running_transactions', 'gauge'),
             ('pg_long_running_transactions_oldest_timestamp_seconds', 'gauge'),
             ('pg_database_wraparound_age_datfrozenxid_seconds', 'gauge'),
             ('pg_database_wraparound_age_datminmxid_seconds', 'gauge'),
             ('pg_statio_user_indexes_idx_blks_read_total', 'counter'),
             ('pg_statio_user_indexes_idx_blks_hit_total', 'counter'),
             ('pg_stat_wal_receiver_flushed_lsn', 'counter'),
             ('pg_xlog_location_bytes', 'gauge'),
             ('pg_process_idle_seconds', 'histogram')) AS v(f, t)
ORDER BY 1;
SELECT l FROM optin WHERE l LIKE 'pg_statio_user_indexes_idx_blks_hit_total{%dropin_a_pkey%';
-- without the pg_stat_statements extension that collector writes nothing
SELECT count(*) AS stat_statements_families FROM optin WHERE l LIKE '# TYPE pg\_stat\_statements%';
RESET pg_prom.collectors;

-- the compatibility server label of postgres_exporter <= 0.19
SET pg_prom.server_label = 'db1:5432';
SELECT l FROM regexp_split_to_table(pg_prom_metrics(), E'\n') AS l
WHERE l LIKE 'pg_up%' OR l LIKE 'pg_locks_count{datname="contrib_regression",mode="sireadlock"%';
RESET pg_prom.server_label;
SELECT set_config('pg_prom.server_label', repeat('x', 201), false);

DROP TABLE dropin_a, dropin_b, dropin_c;
