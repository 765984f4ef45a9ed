-- pg_prom's settings: defaults, and bad values rejected with a clear
-- message (ALTER SYSTEM runs the same checks as postgresql.conf).
SELECT name, setting, unit, context
FROM pg_settings WHERE name LIKE 'pg_prom.%' ORDER BY name;

ALTER SYSTEM SET pg_prom.metrics_path = 'metrics';
ALTER SYSTEM SET pg_prom.metrics_path = '/health';
ALTER SYSTEM SET pg_prom.metrics_path = '/ready';
ALTER SYSTEM SET pg_prom.metrics_path = '/a b';
ALTER SYSTEM SET pg_prom.metrics_path = '/prom/metrics';
ALTER SYSTEM RESET pg_prom.metrics_path;

ALTER SYSTEM SET pg_prom.port = 0;
ALTER SYSTEM SET pg_prom.port = 70000;
ALTER SYSTEM SET pg_prom.port = 'http';

ALTER SYSTEM SET pg_prom.listen_addresses = 'localhost; rm -rf /';
ALTER SYSTEM SET pg_prom.listen_addresses = 'a,,b';
ALTER SYSTEM SET pg_prom.listen_addresses = 'localhost, evil/host';
ALTER SYSTEM SET pg_prom.listen_addresses = '127.0.0.1, ::1';
ALTER SYSTEM RESET pg_prom.listen_addresses;

ALTER SYSTEM SET pg_prom.database = 'a_database_name_that_is_much_longer_than_sixty_three_bytes_allowed';
ALTER SYSTEM SET pg_prom.max_clients = 0;
ALTER SYSTEM SET pg_prom.max_clients_per_address = 0;
ALTER SYSTEM SET pg_prom.max_response_size = '2GB';
ALTER SYSTEM SET pg_prom.max_response_size = '0';
ALTER SYSTEM SET pg_prom.min_scrape_interval = '-1';
ALTER SYSTEM SET pg_prom.min_scrape_interval = '2h';
ALTER SYSTEM SET pg_prom.request_timeout = '1ms';
ALTER SYSTEM SET pg_prom.scrape_timeout = '-1';
ALTER SYSTEM SET pg_prom.slow_collector_interval = '2d';

-- settings that need a reload or restart cannot be SET in a session
SET pg_prom.port = 9999;
SET pg_prom.database = 'x';

-- the prefix is reserved: typos are caught
SET pg_prom.prot = 9999;

-- session-level settings work for the SQL door
SET pg_prom.slow_collector_interval = 0;
SET pg_prom.scrape_timeout = '2s';
SELECT pg_prom_metrics() LIKE '%pg_database_size_bytes{datname="template1"}%' AS sizes;
RESET pg_prom.slow_collector_interval;
RESET pg_prom.scrape_timeout;

-- access control settings
ALTER SYSTEM SET pg_prom.allowed_clients = '10.0.0.0/33';
ALTER SYSTEM SET pg_prom.allowed_clients = 'example.com';
ALTER SYSTEM SET pg_prom.allowed_clients = '10.0.0.0/8, ::1, 192.168.1.7';
ALTER SYSTEM RESET pg_prom.allowed_clients;
ALTER SYSTEM SET pg_prom.auth_method = 'kerberos';
SET pg_prom.auth_method = 'basic';

-- custom queries and application metrics
SET pg_prom.custom_query_timeout = 0;
SET pg_prom.custom_query_max_rows = 0;
SET pg_prom.custom_query_role = 'pg_monitor';
ALTER SYSTEM SET pg_prom.custom_query_role = 'a_role_name_that_is_far_longer_than_the_sixty_three_bytes_postgres_allows';
SET pg_prom.max_app_series = 10;
