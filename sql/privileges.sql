-- Who may read the metrics: EXECUTE is granted to pg_monitor only, and the
-- function itself requires the privileges of pg_read_all_stats, because it
-- reads shared memory that bypasses the views' permission checks.
CREATE EXTENSION IF NOT EXISTS pg_prom;
CREATE ROLE prom_nobody;
CREATE ROLE prom_executor;
CREATE ROLE prom_monitor IN ROLE pg_monitor;
GRANT EXECUTE ON FUNCTION pg_prom_metrics() TO prom_executor;

-- not granted: denied by EXECUTE
SET ROLE prom_nobody;
SELECT length(pg_prom_metrics()) > 0;
RESET ROLE;

-- EXECUTE alone is not enough
SET ROLE prom_executor;
SELECT length(pg_prom_metrics()) > 0;
DO $$
BEGIN
  PERFORM pg_prom_metrics();
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'caught SQLSTATE %', SQLSTATE;
END $$;
RESET ROLE;

-- a member of pg_monitor reads everything
SET ROLE prom_monitor;
SELECT pg_prom_metrics() LIKE '%pg_up 1%' AS reads_metrics;
SELECT pg_prom_metrics() ~ 'pg_scrape_collector_success\{collector="settings"\} 1' AS settings_ok;
RESET ROLE;

SELECT proacl FROM pg_proc WHERE proname = 'pg_prom_metrics';

DROP ROLE prom_nobody;
DROP OWNED BY prom_executor;
DROP ROLE prom_executor;
DROP ROLE prom_monitor;
