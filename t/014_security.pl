# Proves that no role gains privileges or falsifies metrics through pg_prom,
# each attack played by an unprivileged role ("mallory": LOGIN, a member of
# pg_monitor, allowed to register custom queries and record application
# metrics, with CREATE on the extension's schema):
#  - a custom query whose function changes settings that would outlive it
#    (search_path to her schema, where her operators wait);
#  - a second statement smuggled past the query's wrapping;
#  - functions and operators shadowing built-in ones in the extension's
#    schema, temp objects of her own session, an overload of an extension's
#    function;
#  - a custom query that catches cancels and loops, and one that takes a
#    session-level advisory lock;
#  - application metrics with pg_prom's own names, and two roles in two
#    databases writing each other's metrics.
# After each: no role became superuser, nothing of hers ran with more rights
# than hers (a table records any call made as a superuser), built-in series
# are unchanged, /health answered at once during the slow scrape, and the
# caller's own session settings are untouched.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use PgProm;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my ($node, $port) = new_prom_node('security', conf => q{
pg_prom.collectors = 'default, stat_statements, buffercache_summary'
shared_preload_libraries = 'pg_prom, pg_stat_statements'
pg_prom.custom_query_timeout = '500ms'
pg_prom.scrape_timeout = '6s'
});
$node->start;
ok(wait_for_endpoint($port), 'endpoint answers');

# the stage: the extension in public, mallory with CREATE there
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_prom;
CREATE EXTENSION pg_stat_statements;
CREATE EXTENSION pg_buffercache;
CREATE ROLE mallory LOGIN IN ROLE pg_monitor;
GRANT CREATE ON SCHEMA public TO mallory;
GRANT CREATE ON DATABASE postgres TO mallory;
GRANT EXECUTE ON FUNCTION pg_prom_register_query(text, text, text, text, text[], text[], interval, boolean),
  pg_prom_unregister_query(text), pg_prom_gauge_set(text, float8, text[]),
  pg_prom_counter_inc(text, text[]), pg_prom_metric_define(text, text, text, float8[]),
  pg_prom_metric_drop(text) TO mallory;
-- whatever runs as a superuser on mallory's behalf leaves a row here
CREATE TABLE public.pwned (who text, what text);
GRANT INSERT ON public.pwned TO PUBLIC;
});

sub mallory_sql
{
	my ($sql, %opts) = @_;
	return $node->psql('postgres', $sql, extra_params => [ '-U', 'mallory' ], %opts);
}

my ($rc, $out, $err);

# her payload: record the call when it runs as a superuser, and try to
# make her one
($rc, $out, $err) = mallory_sql(q{
CREATE FUNCTION public.payload(what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    INSERT INTO public.pwned VALUES (current_user, what);
    EXECUTE 'ALTER ROLE mallory SUPERUSER';
  END IF;
END $$;
CREATE SCHEMA evil;
CREATE FUNCTION evil.minus(timestamptz, timestamptz) RETURNS interval LANGUAGE plpgsql AS $$
BEGIN PERFORM public.payload('operator -'); RETURN $1 OPERATOR(pg_catalog.-) $2; END $$;
CREATE OPERATOR evil.- (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = evil.minus);
CREATE FUNCTION evil.textlike(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM public.payload('operator ~~'); RETURN $1 OPERATOR(pg_catalog.~~) $2; END $$;
CREATE OPERATOR evil.~~ (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.textlike);
CREATE FUNCTION evil.texteq(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM public.payload('operator ='); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.texteq);
-- shadows of what 1.0 called by name, in the extension's schema
CREATE FUNCTION public.regexp_replace(text, text, text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM public.payload('regexp_replace'); RETURN $1; END $$;
-- (an overload: from PostgreSQL 16 pg_buffercache has the function itself)
CREATE FUNCTION public.pg_buffercache_summary(x int DEFAULT 0) RETURNS TABLE (buffers_used int4,
  buffers_unused int4, buffers_dirty int4, buffers_pinned int4, usagecount_avg float8) LANGUAGE plpgsql AS $$
BEGIN PERFORM public.payload('pg_buffercache_summary'); RETURN; END $$;
CREATE FUNCTION public.pg_stat_statements(showtext boolean, extra int DEFAULT 0) RETURNS SETOF record
  LANGUAGE plpgsql AS $$ BEGIN PERFORM public.payload('pg_stat_statements'); RETURN; END $$;
GRANT USAGE ON SCHEMA evil TO PUBLIC;
});
is($rc, 0, 'mallory sets her traps') or diag($err);

sub nothing_escalated
{
	my ($what) = @_;
	is($node->safe_psql('postgres', "SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'"),
		'f', "$what: mallory is not a superuser");
	is($node->safe_psql('postgres', "SELECT coalesce(string_agg(who || ': ' || what, ', '), '') FROM pwned"),
		'', "$what: nothing of hers ran as a superuser");
}

# --- 1. a custom query that changes settings for whoever runs next -------------------------
($rc, $out, $err) = mallory_sql(q{
SELECT pg_prom_register_query('m_settings',
  $$SELECT pg_catalog.length(pg_catalog.set_config('search_path', 'evil, pg_catalog, public', false)) AS v$$,
  'Changes the search_path of whoever runs it.');
});
is($rc, 0, 'mallory may register a query (she has pg_monitor\'s privileges)');
my $m;
$m = metrics_of($port) for 1 .. 3;
like($m, qr/^pg_scrape_collector_success\{collector="custom:m_settings"\} 1$/m, 'her query ran');
like($m, qr/^pg_scrape_collector_success\{collector="stat_archiver"\} 1$/m,
	'and the collectors after it resolve names as before');
nothing_escalated('settings changed by a custom query');

# the same through the SQL door, in a superuser's session
my $path = $node->safe_psql('postgres', q{
SET search_path = public, pg_catalog;
SELECT length(pg_prom_metrics()) > 0;
SHOW search_path;
SELECT count(*) FROM pg_class WHERE relname = 'pg_class';
});
like($path, qr/^t\npublic, pg_catalog\n1$/, "a superuser calling pg_prom_metrics() keeps its own search_path");
nothing_escalated('the SQL door');

# --- 2. a second statement smuggled past the wrapping ----------------------------------
($rc, $out, $err) = mallory_sql(q{
SELECT pg_prom_register_query('m_smuggle',
  $$SELECT 1 AS v) s; ALTER ROLE mallory SUPERUSER; SELECT * FROM (SELECT 1 AS v$$, 'x');
});
like($err, qr/syntax error/, 'a smuggled statement is refused at registration');
($rc, $out, $err) = mallory_sql(q{
SELECT pg_prom_register_query('m_cte',
  $$WITH x AS (INSERT INTO public.pwned VALUES ('cte', 'insert') RETURNING 1) SELECT count(*) AS v FROM x$$, 'x');
});
like($err, qr/cannot modify data/, 'a data-modifying WITH is refused');
# and written into the table behind the functions' back (a superuser did it), it fails alone
$node->safe_psql('postgres', q{
INSERT INTO pg_prom_queries (name, query, value_columns)
  VALUES ('m_behind', 'SELECT 1 AS v) s; ALTER ROLE mallory SUPERUSER; SELECT * FROM (SELECT 1 AS v', '{v}');
});
$m = metrics_of($port);
like($m, qr/^pg_scrape_collector_success\{collector="custom:m_behind"\} 0$/m,
	'a smuggled statement in the table fails at scrape time');
$node->safe_psql('postgres', "DELETE FROM pg_prom_queries WHERE name = 'm_behind'");
nothing_escalated('smuggled statements');

# --- 3. shadows in the extension's schema and in her temp schema -------------------------
{
	my $bg = $node->background_psql('postgres', on_error_stop => 0, extra_params => [ '-U', 'mallory' ]);
	$bg->query(q{
CREATE TEMP TABLE pg_prom_queries (name text, query text, help text, metric_type text,
  label_columns text[], value_columns text[], min_interval interval, enabled boolean, changed_at timestamptz);
CREATE FUNCTION pg_temp.trap() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM public.payload('temp trigger'); RETURN NEW; END $$;
CREATE TRIGGER trap BEFORE INSERT ON pg_temp.pg_prom_queries FOR EACH ROW EXECUTE FUNCTION pg_temp.trap();
CREATE FUNCTION pg_temp.pg_buffercache_summary() RETURNS TABLE (buffers_used int4, buffers_unused int4,
  buffers_dirty int4, buffers_pinned int4, usagecount_avg float8) LANGUAGE plpgsql AS $$
BEGIN PERFORM public.payload('temp pg_buffercache_summary'); RETURN; END $$;
SET search_path = pg_temp, public;
});
	my ($o) = $bg->query(q{
SELECT pg_prom_register_query('m_shadow', 'SELECT 2 AS v', 'Registered through shadows.');
SELECT count(*) FROM pg_temp.pg_prom_queries;
});
	like($o, qr/^\n?0$/m, 'registration wrote the extension\'s table, not her temp table');
	$m = metrics_of($port);
	like($m, qr/^m_shadow_v 2$/m, 'her query was registered where it belongs and runs');
	like($m, qr/^pg_scrape_collector_success\{collector="stat_statements"\} 0$/m,
		'an overload of an extension\'s function makes its collector fail instead of calling it');
	unlike($m, qr/^pg_buffercache_summary_/m, 'a function of the same name as an extension\'s is never called');
	$bg->quit;
	nothing_escalated('shadowing functions, operators and temp objects');
}
mallory_sql('DROP FUNCTION public.pg_stat_statements(boolean, int)');
like(metrics_of($port), qr/^pg_scrape_collector_success\{collector="stat_statements"\} 1$/m,
	'without the overload the collector works again');

# --- 4. a query that catches cancels and loops; one that keeps a lock ---------------------
mallory_sql(q{
CREATE FUNCTION public.stubborn() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  LOOP
    BEGIN
      PERFORM pg_catalog.pg_sleep(0.05);
    EXCEPTION WHEN query_canceled THEN NULL;
    END;
  END LOOP;
END $$;
SELECT pg_prom_register_query('m_loop', 'SELECT public.stubborn() AS v', 'Never stops by itself.');
SELECT pg_prom_register_query('m_lock', 'SELECT pg_catalog.pg_advisory_lock(4242) IS NULL AS held',
  'Keeps a session lock.');
});
{
	my $scrape = open_client($port);
	my $t0 = time;
	syswrite($scrape, "GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
	sleep 0.3;
	my $worst = 0;
	for my $route (qw(/health /ready /primary /replica))
	{
		my $h0 = time;
		my $r = http_get($port, $route);
		my $took = time - $h0;
		$worst = $took if $took > $worst;
		ok($r->{status} == 200 || ($route eq '/replica' && $r->{status} == 503),
			"$route answers during the slow scrape");
	}
	# the scrape takes seconds; a loaded machine may delay an answer a little
	ok($worst < 1, sprintf('without waiting for it (slowest %.3f s)', $worst));
	my $resp = read_response($scrape, 20);
	my $took = time - $t0;
	like($resp, qr{^HTTP/1.1 200}, 'the scrape itself succeeds');
	ok($took < 6, sprintf('within pg_prom.scrape_timeout (%.1f s)', $took));
	like($resp, qr/^pg_scrape_collector_success\{collector="custom:m_loop"\} 0$/m,
		'the looping query is reported failed');
	like($resp, qr/^pg_scrape_collector_success\{collector="custom:m_lock"\} 1$/m,
		'the queries after it still ran (in a new worker)');
	like($resp, qr/^pg_scrape_collector_success\{collector="custom:m_shadow"\} 1$/m,
		'all of them');
}
ok($node->log_contains(qr/\Qcollector "custom:m_loop" failed: still running past pg_prom.custom_query_timeout: its worker was terminated\E/),
	'the log says the worker was terminated');
# (a terminated or finished worker leaves the process table a moment after
# the scrape was answered)
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_prom custom queries'"),
	'no custom-query worker is left running');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"),
	'0', 'no advisory lock outlives the query that took it');
($rc, $out) = mallory_sql('SELECT pg_try_advisory_lock(4242)');
is($out, 't', 'she can take the lock herself at once');
mallory_sql("SELECT pg_prom_unregister_query('m_loop')");
nothing_escalated('a query that ignores cancels');

# --- 5. application metrics with pg_prom's names, and other roles' metrics ----------------
my $age_series = 'pg_database_wraparound_age_datfrozenxid_seconds{datname="postgres"}';
my $age_before = sample_of(metrics_of($port), $age_series);
($rc, $out, $err) = mallory_sql(q{
SELECT pg_prom_gauge_set('pg_database_wraparound_age_datfrozenxid_seconds', 0, 'datname', 'postgres');
});
like($err, qr/is reserved for pg_prom's own metrics/, 'a built-in family cannot be written');
($rc, $out, $err) = mallory_sql(q{SELECT pg_prom_gauge_set('pg_scrape_collector_success', 1, 'collector', 'locks')});
like($err, qr/is reserved/, 'nor the scrape\'s own families');
($rc, $out, $err) = mallory_sql(q{SELECT pg_prom_register_query('pg_database_wraparound_age', 'SELECT 0 AS datfrozenxid_seconds', 'x')});
like($err, qr/is reserved/, 'nor through a custom query');
$m = metrics_of($port);
ok(sample_of($m, $age_series) >= $age_before && sample_of($m, $age_series) > 0,
	'the wraparound age is still the real one');
like($m, qr/^pg_database_wraparound_age_datfrozenxid_seconds\{datname="template1"\} /m,
	'and no database went missing from it');

# two roles in two databases
$node->safe_psql('postgres', q{
CREATE ROLE alice LOGIN;
CREATE ROLE bob LOGIN;
CREATE DATABASE db_a;
CREATE DATABASE db_b;
});
for my $db (qw(db_a db_b))
{
	$node->safe_psql($db, q{
CREATE EXTENSION pg_prom;
GRANT EXECUTE ON FUNCTION pg_prom_counter_inc(text, text[]), pg_prom_gauge_set(text, float8, text[]),
  pg_prom_metric_drop(text), pg_prom_metric_define(text, text, text, float8[]) TO alice, bob;
});
}
$node->psql('db_a', "SELECT pg_prom_counter_inc('shop_a_orders_total'); SELECT pg_prom_counter_inc('shop_a_orders_total');",
	extra_params => [ '-U', 'alice' ]);
for my $attack ("SELECT pg_prom_counter_inc('shop_a_orders_total')",
	"SELECT pg_prom_metric_drop('shop_a_orders_total')",
	"SELECT pg_prom_metric_define('shop_a_orders_total', 'counter', 'Hijacked.')")
{
	($rc, $out, $err) = $node->psql('db_b', $attack, extra_params => [ '-U', 'bob' ]);
	like($err, qr/permission denied for application metric "shop_a_orders_total"/,
		"bob in another database is refused: $attack");
}
($rc, $out, $err) = $node->psql('db_b', "SELECT pg_prom_gauge_set('shop_a_orders_total', 7)",
	extra_params => [ '-U', 'bob' ]);
like($err, qr/permission denied|is a counter/, 'nor can he take the name with another type');
$m = metrics_of($port);
like($m, qr/^shop_a_orders_total 2$/m, "alice's metric is unchanged");
like($m, qr/^# HELP shop_a_orders_total Application counter set from SQL\.$/m, 'help text too');
($rc, $out, $err) = $node->psql('db_a', "SELECT pg_prom_metric_drop('shop_a_orders_total')",
	extra_params => [ '-U', 'alice' ]);
is($out, '1', 'alice herself may drop it');

# --- 6. a planted function meets CREATE EXTENSION (its script resolves nothing) --------------
$node->safe_psql('postgres', q{
CREATE DATABASE mallorys OWNER mallory;
});
($rc, $out, $err) = $node->psql('mallorys', q{
CREATE FUNCTION public.cardinality(a text[]) RETURNS int LANGUAGE plpgsql AS $$
BEGIN PERFORM public.payload('cardinality'); RETURN pg_catalog.cardinality(a); END $$;
CREATE FUNCTION public.unnest(a text[]) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN PERFORM public.payload('unnest'); RETURN QUERY SELECT pg_catalog.unnest(a); END $$;
CREATE FUNCTION public.payload(what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    RAISE WARNING 'pwned: % as %', what, current_user;
    EXECUTE 'ALTER ROLE mallory SUPERUSER';
  END IF;
END $$;
}, extra_params => [ '-U', 'mallory' ]);
is($rc, 0, 'the owner of a database plants functions in its public schema');
$node->safe_psql('mallorys', q{
CREATE EXTENSION pg_prom;
GRANT EXECUTE ON FUNCTION pg_prom_register_query(text, text, text, text, text[], text[], interval, boolean)
  TO mallory;
});
($rc, $out, $err) = $node->psql('mallorys',
	"SELECT pg_prom_register_query('m_planted', 'SELECT 1 AS v', 'x', label_columns => '{}')",
	extra_params => [ '-U', 'mallory' ]);
is($rc, 0, 'a query is registered there (the table checks run as its owner)');
unlike($err . slurp_file($node->logfile), qr/pwned: (cardinality|unnest)/,
	'the table checks never called her functions');
nothing_escalated('functions planted before CREATE EXTENSION');

# --- 7. version 1.0's SECURITY DEFINER functions stay disabled --------------------------------
$node->safe_psql('postgres', q{
CREATE FUNCTION public.pg_prom_register_query(x text) RETURNS void LANGUAGE plpgsql
  SECURITY DEFINER AS $$ BEGIN PERFORM public.payload('1.0 register'); END $$;
GRANT EXECUTE ON FUNCTION public.pg_prom_register_query(text) TO mallory;
});
($rc, $out, $err) = mallory_sql(q{SELECT public.pg_prom_register_query('x')});
like($err, qr/of extension pg_prom 1.0 is disabled/,
	"a SECURITY DEFINER pg_prom_register_query() (1.0's) is refused in every session");
$node->safe_psql('postgres', 'DROP FUNCTION public.pg_prom_register_query(text)');
nothing_escalated('version 1.0 functions');

# --- 8. a registrant who loses the privileges loses the query --------------------------------
$node->safe_psql('postgres', q{
CREATE ROLE reg2 LOGIN IN ROLE pg_monitor;
GRANT EXECUTE ON FUNCTION pg_prom_register_query(text, text, text, text, text[], text[], interval, boolean),
  pg_prom_unregister_query(text) TO reg2;
});
mallory_sql(q{SELECT pg_prom_register_query('m_owned', 'SELECT 5 AS v', 'Hers.')});
($rc, $out, $err) = $node->psql('postgres', q{SELECT pg_prom_register_query('m_owned', 'SELECT 6 AS v', 'Taken over.')},
	extra_params => [ '-U', 'reg2' ]);
like($err, qr/permission denied for custom query "m_owned"/, 'another registrant cannot replace her query');
($rc, $out, $err) = $node->psql('postgres', q{SELECT pg_prom_unregister_query('m_owned')},
	extra_params => [ '-U', 'reg2' ]);
like($err, qr/permission denied for custom query "m_owned"/, 'nor remove it');
like(metrics_of($port), qr/^m_owned_v 5$/m, 'her query runs while she may have it run');
$node->safe_psql('postgres', 'REVOKE pg_monitor FROM mallory');
$m = metrics_of($port);
like($m, qr/^pg_scrape_collector_success\{collector="custom:m_owned"\} 0$/m,
	'once she lost pg_monitor, her queries no longer run as it');
unlike($m, qr/^m_owned_v /m, 'and write nothing');
ok($node->log_contains('its registrant, role "mallory", no longer has the privileges of pg_prom.custom_query_role'),
	'the log says why');
$node->safe_psql('postgres', 'GRANT pg_monitor TO mallory');

# --- 9. an overload in public meets a custom query (names resolve in pg_catalog) --------------
$node->safe_psql('postgres', q{
CREATE TABLE public.regions (region varchar(10));
INSERT INTO public.regions VALUES ('EU');
GRANT SELECT ON public.regions TO pg_monitor;
});
mallory_sql(q{
CREATE FUNCTION public.lower(x varchar) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM public.payload('lower'); RETURN 'hijacked by ' || current_user; END $$;
SELECT pg_prom_register_query('m_regions', 'SELECT lower(region) AS region, 1 AS v FROM public.regions',
  'x', label_columns => '{region}');
});
like(metrics_of($port), qr/^m_regions_v\{region="eu"\} 1$/m,
	"a custom query calls pg_catalog's lower(), not an overload in public");
nothing_escalated('overloads in public');

# --- 10. errors a role raises itself are not server conditions --------------------------------
{
	my $disk = 'pg_error_codes_total{sqlstate="53100",condition="disk_full"}';
	my $before = sample_of(metrics_of($port), $disk);
	mallory_sql(q{DO $$ BEGIN RAISE EXCEPTION 'fake' USING ERRCODE = 'disk_full'; END $$});
	is(sample_of(metrics_of($port), $disk), $before, 'RAISE ... disk_full does not fire the disk_full alert');
}

# --- 11. her temp tables do not push real tables out of the per-table families -----------------
{
	# the cap is exactly the number of real tables of the busiest database
	$node->safe_psql('postgres', 'CREATE TABLE public.important (x int)');
	my $cap = $node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_user_tables WHERE schemaname !~ '^pg_temp'});
	$node->safe_psql('postgres', "ALTER SYSTEM SET pg_prom.max_tables = $cap; SELECT pg_reload_conf();");
	my $bg = $node->background_psql('postgres', on_error_stop => 0, extra_params => [ '-U', 'mallory' ]);
	$bg->query(join('', map { "CREATE TEMP TABLE aaa_$_ (x int); INSERT INTO aaa_$_ SELECT generate_series(1, 1000);" } 1 .. 20));
	$bg->query('SELECT count(*) FROM aaa_1');
	# (names of pg_prom.database are read again at most every 2 s)
	my $m = wait_for_metrics($port, qr/^pg_stat_user_tables_seq_scan\{datname="postgres",schemaname="public",relname="important"\}/m, 10);
	ok($m, "with the cap at $cap and 20 busy temp tables of hers, the real table is still shown");
	like($m // '', qr/^pg_prom_collector_objects_left_out\{collector="stat_user_tables"\} 0$/m,
		'her temp tables take no place and are not counted as left out');
	unlike($m // '', qr/relname="aaa_/, 'nor shown');
	$bg->quit;
	$node->safe_psql('postgres', "ALTER SYSTEM RESET pg_prom.max_tables; SELECT pg_reload_conf();");
}

# --- 12. application metrics: series names, a full table, another encoding --------------------
{
	mallory_sql(q{SELECT pg_prom_gauge_set('shop_m_orders_count', 42)});
	($rc, $out, $err) = $node->psql('db_b', q{SELECT pg_prom_metric_define('shop_m_orders', 'histogram')},
		extra_params => [ '-U', 'bob' ]);
	like($err, qr/would share series names with metric "shop_m_orders_count"/,
		"a histogram cannot take over another metric's series names");
	like(metrics_of($port), qr/^shop_m_orders_count 42$/m, 'her gauge is unchanged');

	# an application metric with a registered query's family name is left out at scrape
	mallory_sql(q{SELECT pg_prom_register_query('shop_q', 'SELECT 7 AS total', 'Hers.')});
	$node->psql('db_b', q{SELECT pg_prom_gauge_set('shop_q_total', 666)}, extra_params => [ '-U', 'bob' ]);
	$m = metrics_of($port);
	like($m, qr/^shop_q_total 7$/m, "a registered query's family keeps its value");
	unlike($m, qr/^shop_q_total 666$/m, 'the application metric of that name is left out');
	$node->psql('db_b', q{SELECT pg_prom_metric_drop('shop_q_total')}, extra_params => [ '-U', 'bob' ]);

	# label values are UTF-8 whatever the database's encoding
	$node->safe_psql('postgres', q{CREATE DATABASE ascii_db ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0});
	$node->safe_psql('ascii_db', q{CREATE EXTENSION pg_prom});
	($rc, $out, $err) = $node->psql('ascii_db', q{SELECT pg_prom_counter_inc('shop_ascii_total', 'x', E'\xf0\x9f')});
	like($err, qr/is not valid UTF-8/, 'invalid UTF-8 in a label is refused in a SQL_ASCII database');
	is($node->safe_psql('postgres', 'SELECT count(*) > 0 FROM pg_prom_app_metrics()'), 't',
		'and pg_prom_app_metrics() reads every series in a UTF-8 database');
}

# --- 13. a custom query calling pg_prom_metrics(); a huge label --------------------------------
mallory_sql(q{
SELECT pg_prom_register_query('m_recurse', 'SELECT pg_catalog.length(public.pg_prom_metrics()) AS v', 'x');
SELECT pg_prom_register_query('m_huge', $$SELECT pg_catalog.repeat('x', 100000) AS l, 1 AS v$$, 'x',
  label_columns => '{l}');
});
$m = metrics_of($port);
like($m, qr/^pg_scrape_collector_success\{collector="custom:m_recurse"\} 0$/m,
	'a custom query cannot call pg_prom_metrics() (no chain of workers)');
like($m, qr/^pg_scrape_collector_success\{collector="custom:m_huge"\} 0$/m, 'a label over 4 KB fails its query');
ok($node->log_contains(qr/\Qpg_prom_metrics() cannot be called by pg_prom's own workers\E/), 'with the reason');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_prom custom queries'"),
	'no custom-query worker is left running');

# --- 14. pg_prom_metrics() cut short at every point by statement_timeout ------------------------
# (a catalog read interrupted half-way once stayed behind in the session,
# freed with the scrape's memory, and the next call read it)
{
	my $script = join('', map {
		my $ms = 2 + ($_ * 7) % 44;
		"SET statement_timeout = '${ms}ms'; SELECT pg_catalog.length(public.pg_prom_metrics()) > 0;\n" } 1 .. 300);
	my ($rc2, $out2, $err2) = $node->psql('postgres', $script, on_error_stop => 0,
		extra_params => [ '-U', 'mallory' ]);
	my $cancels = () = $err2 =~ /canceling statement due to statement timeout/g;
	my $answers = () = $out2 =~ /^t$/mg;
	note("300 calls: $answers answered, $cancels cancelled");
	cmp_ok($cancels, '>', 0, 'some calls were cancelled part-way');
	is($node->safe_psql('postgres', 'SELECT 1'), '1', 'and the server stayed up');
	ok(!$node->log_contains(qr/terminated by signal/), 'no backend crashed');
}

nothing_escalated('the end');
$node->stop;
check_log_clean($node);
done_testing();
