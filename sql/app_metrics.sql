-- Application metrics from SQL: counters, gauges, histograms in shared
-- memory, their errors, privileges, and their place in the exposition.
CREATE EXTENSION IF NOT EXISTS pg_prom;
CREATE FUNCTION app_lines(prefix text) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT l FROM regexp_split_to_table(pg_prom_metrics(), E'\n') AS l
  WHERE l LIKE prefix || '%' OR l LIKE '# %' || prefix || '%'
$$;

-- counters, with labels in any order
SELECT pg_prom_counter_inc('shop_orders_total', 'region', 'eu', 'channel', 'web');
SELECT pg_prom_counter_inc('shop_orders_total', 'channel', 'web', 'region', 'eu');
SELECT pg_prom_counter_add('shop_orders_total', 2.5, 'region', 'us', 'channel', 'shop');
SELECT pg_prom_counter_inc('shop_logins_total');
-- gauges
SELECT pg_prom_gauge_set('shop_queue_depth', 7);
SELECT pg_prom_gauge_add('shop_queue_depth', -2);
SELECT pg_prom_gauge_set('shop_temperature_celsius', -3.5, 'room', 'cold "store"');
-- a histogram with its own buckets and HELP
SELECT pg_prom_metric_define('shop_checkout_seconds', 'histogram',
                             'Time from cart to payment.', ARRAY[0.1, 1, 10]);
SELECT pg_prom_histogram_observe('shop_checkout_seconds', v, 'method', 'card')
  FROM unnest(ARRAY[0.05, 0.1, 0.5, 2, 20]) AS v;
SELECT pg_prom_metric_define('shop_orders_total', 'counter', 'Orders placed, by region and channel.');

SELECT * FROM pg_prom_app_metrics() ORDER BY 1, 3;
SELECT * FROM app_lines('shop_');

-- not transactional: a rollback keeps the increment (like nextval)
BEGIN;
SELECT pg_prom_counter_inc('shop_logins_total');
ROLLBACK;
SELECT value FROM pg_prom_app_metrics() WHERE metric_name = 'shop_logins_total';

-- from a trigger: count rows per region as they are inserted
CREATE TABLE orders (id int, region text);
CREATE FUNCTION count_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_prom_counter_inc('shop_rows_total', 'region', NEW.region);
  RETURN NEW;
END $$;
CREATE TRIGGER count_order AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION count_order();
INSERT INTO orders SELECT g, CASE WHEN g % 3 = 0 THEN 'us' ELSE 'eu' END FROM generate_series(1, 30) g;
SELECT labels, value FROM pg_prom_app_metrics() WHERE metric_name = 'shop_rows_total' ORDER BY 1;

-- the same without PL/pgSQL: pg_prom_count_rows() as the trigger function,
-- by a role that may insert but not call the metric functions
CREATE TABLE payments (id int, method text, "Bad-Col" text);
CREATE TRIGGER count_payment AFTER INSERT OR DELETE ON payments
  FOR EACH ROW EXECUTE FUNCTION pg_prom_count_rows('shop_payment_rows_total', 'method');
CREATE ROLE app_metrics_inserter;
GRANT SELECT, INSERT, DELETE ON payments TO app_metrics_inserter;
SET ROLE app_metrics_inserter;
INSERT INTO payments SELECT g, CASE WHEN g % 2 = 0 THEN 'card' END FROM generate_series(1, 10) g;
DELETE FROM payments WHERE method = 'card';
RESET ROLE;
SELECT labels, value FROM pg_prom_app_metrics() WHERE metric_name = 'shop_payment_rows_total' ORDER BY 1;
-- a BEFORE trigger hands the row on
CREATE TRIGGER count_before BEFORE INSERT ON payments
  FOR EACH ROW EXECUTE FUNCTION pg_prom_count_rows('shop_payment_attempts_total');
INSERT INTO payments VALUES (11, 'cash') RETURNING id, method;
DROP TRIGGER count_before ON payments;
-- misdeclared triggers: the statement fails with the reason
CREATE TRIGGER bad AFTER INSERT ON payments FOR EACH STATEMENT EXECUTE FUNCTION pg_prom_count_rows('x_total');
INSERT INTO payments VALUES (12, 'cash');
DROP TRIGGER bad ON payments;
CREATE TRIGGER bad AFTER INSERT ON payments FOR EACH ROW EXECUTE FUNCTION pg_prom_count_rows();
INSERT INTO payments VALUES (12, 'cash');
DROP TRIGGER bad ON payments;
CREATE TRIGGER bad AFTER INSERT ON payments FOR EACH ROW EXECUTE FUNCTION pg_prom_count_rows('x_total', 'nosuch');
INSERT INTO payments VALUES (12, 'cash');
DROP TRIGGER bad ON payments;
CREATE TRIGGER bad AFTER INSERT ON payments FOR EACH ROW EXECUTE FUNCTION pg_prom_count_rows('x_total', 'Bad-Col');
INSERT INTO payments VALUES (12, 'cash');
DROP TRIGGER bad ON payments;
SELECT pg_prom_count_rows();
DROP TABLE payments;
DROP ROLE app_metrics_inserter;

-- bad input: a clear error, and nothing changes
SELECT pg_prom_gauge_set('shop_orders_total', 1, 'region', 'eu', 'channel', 'web');
SELECT pg_prom_counter_add('shop_orders_total', -1);
SELECT pg_prom_counter_add('shop_orders_total', 'NaN');
SELECT pg_prom_counter_inc('shop_orders_total', 'region');
SELECT pg_prom_counter_inc('shop_orders_total', 'region', NULL);
SELECT pg_prom_counter_inc('shop_orders_total', 'region', 'a', 'region', 'b');
SELECT pg_prom_counter_inc('shop_orders_total', '__name__', 'x');
SELECT pg_prom_counter_inc('shop_orders_total', '9region', 'x');
SELECT pg_prom_counter_inc('shop-orders');
SELECT pg_prom_counter_inc('');
SELECT pg_prom_counter_inc(NULL);
SELECT pg_prom_counter_inc(repeat('a', 200));
SELECT pg_prom_counter_inc('x_total', VARIADIC ARRAY[['a', 'b'], ['c', 'd']]);
SELECT pg_prom_counter_inc('x_total', 'a', '1', 'b', '2', 'c', '3', 'd', '4', 'e', '5',
                           'f', '6', 'g', '7', 'h', '8', 'i', '9');
SELECT pg_prom_counter_inc('x_total', 'a', repeat('v', 300));
SELECT pg_prom_histogram_observe('shop_checkout_seconds', 1, 'le', '1');
SELECT pg_prom_histogram_observe('shop_checkout_seconds', 'Infinity');
SELECT pg_prom_histogram_observe('shop_checkout_seconds', NULL);
SELECT pg_prom_metric_define('shop_checkout_seconds', 'histogram', NULL, ARRAY[1, 2]);
SELECT pg_prom_metric_define('shop_new_seconds', 'histogram', NULL, ARRAY[2, 1]);
SELECT pg_prom_metric_define('shop_new_seconds', 'histogram', NULL, '{}');
SELECT pg_prom_metric_define('shop_new_seconds', 'histogram', NULL, ARRAY[1, NULL]);
SELECT pg_prom_metric_define('shop_queue_depth', 'gauge', NULL, ARRAY[1]);
SELECT pg_prom_metric_define('shop_queue_depth', 'summary');
SELECT pg_prom_metric_define('shop_queue_depth', 'gauge', repeat('h', 300));
SELECT pg_prom_metric_drop('shop_no_such_metric');
SELECT count(*) AS series_after_errors FROM pg_prom_app_metrics();

-- drop forgets every series of a family
SELECT pg_prom_metric_drop('shop_orders_total');
SELECT count(*) FROM pg_prom_app_metrics() WHERE metric_name = 'shop_orders_total';

-- capacity (pg_prom.max_app_series = 50 here): a clear error, no silent loss
DO $$
BEGIN
  FOR i IN 1..100 LOOP
    PERFORM pg_prom_gauge_set('shop_many', i, 'i', i::text);
  END LOOP;
END $$;
SELECT count(*) <= 50 AS within_capacity,
       count(*) FILTER (WHERE metric_name = 'shop_many') > 0 AS some_were_created
  FROM pg_prom_app_metrics();
-- the table is full, and the exposition says so (an alert watches this)
SELECT * FROM app_lines('pg_prom_app_metric_series');
SELECT pg_prom_metric_drop('shop_many') > 0 AS dropped;
SELECT pg_prom_gauge_set('shop_many', 1, 'i', '1');

-- who may write: nobody until granted
CREATE ROLE app_metrics_writer;
CREATE ROLE app_metrics_stranger;
GRANT EXECUTE ON FUNCTION pg_prom_counter_inc(text, text[]) TO app_metrics_writer;
SET ROLE app_metrics_stranger;
SELECT pg_prom_counter_inc('shop_logins_total');
SELECT pg_prom_metric_drop('shop_logins_total');
RESET ROLE;
-- a metric belongs to the role that created it: the writer may not change
-- the superuser's, but creates and owns its own
SET ROLE app_metrics_writer;
SELECT pg_prom_counter_inc('shop_logins_total');
SELECT pg_prom_counter_inc('shop_writer_logins_total');
SELECT pg_prom_counter_inc('shop_writer_logins_total');
RESET ROLE;
SELECT metric_name, value, owner FROM pg_prom_app_metrics()
  WHERE metric_name IN ('shop_logins_total', 'shop_writer_logins_total') ORDER BY 1;
-- a member of the owner may write it too
GRANT app_metrics_writer TO app_metrics_stranger;
GRANT EXECUTE ON FUNCTION pg_prom_counter_inc(text, text[]) TO app_metrics_stranger;
SET ROLE app_metrics_stranger;
SELECT pg_prom_counter_inc('shop_writer_logins_total');
RESET ROLE;
SELECT value FROM pg_prom_app_metrics() WHERE metric_name = 'shop_writer_logins_total';
REVOKE app_metrics_writer FROM app_metrics_stranger;
REVOKE ALL ON FUNCTION pg_prom_counter_inc(text, text[]) FROM app_metrics_stranger;

-- pg_prom's own names are not for applications, whoever asks
SELECT pg_prom_gauge_set('pg_database_wraparound_age_datfrozenxid_seconds', 0, 'datname', 'postgres');
SELECT pg_prom_gauge_set('pg_scrape_collector_success', 1, 'collector', 'locks');
SELECT pg_prom_counter_inc('pg_prom_scrapes_total');
SELECT pg_prom_counter_inc('pg_statement_duration_seconds_count');
SELECT pg_prom_metric_define('pg_up', 'gauge');
SELECT pg_prom_counter_inc('pg_errors');
SELECT pg_prom_histogram_observe('process_cpu_seconds', 1);
-- nor the series Prometheus writes itself, nor recording-rule names
SELECT pg_prom_gauge_set('up', 0, 'job', 'postgres');
SELECT pg_prom_gauge_set('scrape_duration_seconds', 99);
SELECT pg_prom_gauge_set('pg_prom:role', 1, 'role', 'replica');
SELECT count(*) AS reserved_series FROM pg_prom_app_metrics()
 WHERE metric_name LIKE 'pg\_%' OR metric_name LIKE 'process\_%' OR metric_name IN ('up', 'scrape_duration_seconds', 'pg_prom:role');

-- clean up for the other tests
SELECT sum(pg_prom_metric_drop(metric_name)) AS dropped_series
  FROM (SELECT DISTINCT metric_name FROM pg_prom_app_metrics()) m;
DROP TABLE orders;
DROP FUNCTION count_order();
DROP FUNCTION app_lines(text);
REVOKE ALL ON FUNCTION pg_prom_counter_inc(text, text[]) FROM app_metrics_writer;
DROP ROLE app_metrics_writer;
DROP ROLE app_metrics_stranger;
