-- Custom collector queries: registration checks, the families they write,
-- failures that stay their own, and the SQL to list, change and remove them.
CREATE EXTENSION IF NOT EXISTS pg_prom;
CREATE FUNCTION custom_lines(pattern text) RETURNS TABLE (l text) LANGUAGE sql AS $$
  SELECT l FROM regexp_split_to_table(pg_prom_metrics(), E'\n') AS l WHERE l ~ pattern
$$;

CREATE TABLE orders (id serial, region text, amount numeric, paid boolean);
INSERT INTO orders (region, amount, paid)
  VALUES ('eu', 10, true), ('eu', 5, false), ('us', 7.5, true), (NULL, 1, true);
-- custom queries run as pg_prom.custom_query_role (pg_monitor by default)
GRANT SELECT ON orders TO pg_monitor;

SELECT pg_prom_register_query('shop_orders',
  $$SELECT region, count(*) AS total, sum(amount) AS amount_sum,
           bool_and(paid) AS all_paid
    FROM public.orders   -- a comment
    GROUP BY region ORDER BY region;
  $$,
  'Orders by region.', label_columns => '{region}');
SELECT pg_prom_register_query('shop_paid', 'SELECT count(*) FILTER (WHERE paid) AS total FROM public.orders',
  'Paid orders.', metric_type => 'counter', min_interval => '1 hour');
SELECT name, metric_type, label_columns, value_columns, min_interval, enabled
  FROM pg_prom_queries ORDER BY name;
SELECT * FROM custom_lines('^(# [A-Z]+ )?shop_');
SELECT * FROM custom_lines('collector="custom:') WHERE l LIKE 'pg_scrape_collector_success%';

-- min_interval: served from the cache in between
INSERT INTO orders (region, amount, paid) VALUES ('eu', 1, true);
SELECT * FROM custom_lines('^shop_paid_total');

-- change a definition: registering the same name replaces it
SELECT pg_prom_register_query('shop_orders', 'SELECT region, count(*) AS total FROM public.orders GROUP BY region',
  'Orders by region (changed).', label_columns => ARRAY['region']);
SELECT * FROM custom_lines('^(# [A-Z]+ )?shop_orders');
SELECT pg_prom_register_query('shop_orders', 'SELECT 1 AS total', 'Off for now.', enabled => false);
SELECT * FROM custom_lines('^shop_orders|custom:shop_orders');

-- a query that fails at scrape time affects only itself
SELECT pg_prom_register_query('shop_broken',
  'SELECT 1 / (count(*) - count(*)) AS ratio FROM public.orders', 'Fails when run.');
SELECT * FROM custom_lines('^(shop_|pg_scrape_collector_success\{collector="custom:)');
-- read-only: a query calling a writing function fails at scrape time
GRANT USAGE, UPDATE ON SEQUENCE orders_id_seq TO pg_monitor;
SELECT pg_prom_register_query('shop_writes', $$SELECT nextval('public.orders_id_seq') AS next$$, 'Writes.');
SELECT * FROM custom_lines('collector="custom:shop_writes"') WHERE l LIKE 'pg_scrape_collector_success%';
-- five rows were inserted, and the scrape did not take a sixth value
SELECT last_value FROM orders_id_seq;
SELECT pg_prom_unregister_query('shop_writes');
SELECT pg_prom_unregister_query('shop_broken');
REVOKE USAGE, UPDATE ON SEQUENCE orders_id_seq FROM pg_monitor;

-- bad definitions are refused with the reason
SELECT pg_prom_register_query('9shop', 'SELECT 1 AS v', 'x');
SELECT pg_prom_register_query('shop x', 'SELECT 1 AS v', 'x');
SELECT pg_prom_register_query('shop:rate', 'SELECT 1 AS v', 'x');
SELECT pg_prom_register_query('scrape', 'SELECT 1 AS duration_seconds', 'x');
SELECT pg_prom_register_query('shop_bad', 'SELECT 1 AS v', 'x', metric_type => 'summary');
SELECT pg_prom_register_query('shop_bad', 'SELECT region FROM public.orders', 'x', label_columns => '{region}');
SELECT pg_prom_register_query('shop_bad', 'SELECT region AS v FROM public.orders', 'x');
SELECT pg_prom_register_query('shop_bad', 'SELECT 1 AS v', 'x', label_columns => '{nosuch}');
SELECT pg_prom_register_query('shop_bad', 'SELECT 1 AS v', 'x', value_columns => '{nosuch}');
SELECT pg_prom_register_query('shop_bad', 'SELECT 1 AS v', 'x', value_columns => '{}');
SELECT pg_prom_register_query('shop_bad', 'SELECT 1 AS v, 2 AS w', 'x', label_columns => '{v}', value_columns => '{v}');
SELECT pg_prom_register_query('shop_bad', 'SELECT 1 AS "bad-name"', 'x');
SELECT pg_prom_register_query('shop_bad', 'SELECT 1 AS v, 2 AS "__x"', 'x', label_columns => '{__x}');
SELECT pg_prom_register_query('shop_bad', 'SELEC 1', 'x');
SELECT pg_prom_register_query('shop_bad', 'SELECT 1 AS v; SELECT 2 AS v', 'x');
SELECT pg_prom_register_query('shop_bad', 'DELETE FROM public.orders RETURNING id', 'x');
SELECT pg_prom_register_query('shop_bad', 'SELECT 1 AS v FROM pg_authid', 'x');
-- names resolve in pg_catalog only: tables are written with their schema
SELECT pg_prom_register_query('shop_bad', 'SELECT count(*) AS v FROM orders', 'x');
SELECT pg_prom_register_query('shop_bad', 'SELECT 1 AS v', 'x', min_interval => '-1 s');
SELECT pg_prom_register_query('shop_bad', 'SELECT 1 AS v', 'x', min_interval => '25 hours');
-- one SELECT only: no second statement smuggled past the wrapping, no
-- SELECT INTO, row locks or data-modifying WITH
SELECT pg_prom_register_query('shop_bad', 'SELECT 1 AS v) s; DELETE FROM public.orders; SELECT * FROM (SELECT 1 AS v', 'x');
SELECT pg_prom_register_query('shop_bad', 'SELECT 1 AS v INTO shop_copy', 'x');
SELECT pg_prom_register_query('shop_bad', 'SELECT id AS v FROM public.orders FOR UPDATE', 'x');
SELECT pg_prom_register_query('shop_bad', 'WITH d AS (DELETE FROM public.orders RETURNING id) SELECT count(*) AS v FROM d', 'x');
SELECT pg_prom_register_query('shop_values', 'VALUES (1)', 'x');
SELECT pg_prom_unregister_query('shop_values');
SELECT count(*) AS orders_left FROM orders;
-- pg_prom's own names are refused
SELECT pg_prom_register_query('pg_database_wraparound_age', 'SELECT 1 AS datfrozenxid_seconds', 'x');
SELECT pg_prom_register_query('pg_scrape', 'SELECT 1 AS collector_success', 'x');
SELECT pg_prom_register_query('pg_errors', 'SELECT 1 AS total', 'x');
SELECT pg_prom_register_query('shop_bad', NULL, 'x');
SELECT pg_prom_unregister_query('shop_no_such_query');
-- the table's own checks stop definitions that bypass the functions
\set VERBOSITY terse
INSERT INTO pg_prom_queries (name, query, value_columns) VALUES ('bad name', 'SELECT 1 AS v', '{v}');
INSERT INTO pg_prom_queries (name, query, value_columns) VALUES ('shop_bad', 'SELECT 1 AS v', '{}');
\set VERBOSITY default
SELECT count(*) AS definitions FROM pg_prom_queries;

-- a name pg_prom writes is refused at registration; one that still gets
-- into the table (here by hand; or a family added by an upgrade) is
-- dropped at scrape time, alone, and the built-in family stays
SELECT pg_prom_register_query('pg', 'SELECT 1 AS up', 'Clashes with pg_up.');
INSERT INTO pg_prom_queries (name, query, value_columns) VALUES ('pg', 'SELECT 0 AS up', '{up}');
SELECT * FROM custom_lines('^pg_up |collector="custom:pg"') WHERE l NOT LIKE 'pg_scrape_collector_duration%'
  AND l NOT LIKE 'pg_prom_collector_%';
DELETE FROM pg_prom_queries WHERE name = 'pg';

-- a name an application metric already has is refused
SELECT pg_prom_gauge_set('shop_queue_depth', 1);
SELECT pg_prom_register_query('shop_queue', 'SELECT 1 AS depth', 'Clashes with an application metric.');
SELECT pg_prom_metric_drop('shop_queue_depth');

-- who may register: superusers, and roles granted EXECUTE that have the
-- privileges of pg_prom.custom_query_role (whose rights the query uses)
CREATE ROLE custom_stranger;
SET ROLE custom_stranger;
SELECT pg_prom_register_query('shop_x', 'SELECT 1 AS v', 'x');
SELECT pg_prom_unregister_query('shop_paid');
SELECT count(*) FROM pg_prom_queries;
RESET ROLE;
GRANT EXECUTE ON FUNCTION pg_prom_register_query(text, text, text, text, text[], text[], interval, boolean),
  pg_prom_unregister_query(text) TO custom_stranger;
SET ROLE custom_stranger;
SELECT pg_prom_register_query('shop_x', 'SELECT 1 AS v', 'x');
RESET ROLE;
GRANT pg_monitor TO custom_stranger;
SET ROLE custom_stranger;
SELECT pg_prom_register_query('shop_x', 'SELECT 1 AS v', 'x');
SELECT pg_prom_unregister_query('shop_x');
RESET ROLE;
REVOKE pg_monitor FROM custom_stranger;
REVOKE ALL ON FUNCTION pg_prom_register_query(text, text, text, text, text[], text[], interval, boolean),
  pg_prom_unregister_query(text) FROM custom_stranger;

-- clean up
SELECT pg_prom_unregister_query(name) FROM pg_prom_queries;
DROP ROLE custom_stranger;
REVOKE SELECT ON orders FROM pg_monitor;
DROP TABLE orders;
DROP FUNCTION custom_lines(text);
