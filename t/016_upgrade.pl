# ALTER EXTENSION pg_prom UPDATE from 1.0, on an installation in use: queries
# registered under 1.0 in pg_prom_queries and application metrics recorded
# by an application role.  Before the update the 1.0 registration functions
# refuse to run and custom queries wait, saying why, while everything else
# is served; after it the queries run again, owned by the role that updated,
# the metrics kept their values, the grants still hold, and the updated
# extension is object for object what CREATE EXTENSION makes today.
#
# The 1.0 script is not shipped: scripts/test.sh puts test/upgrade's copy
# next to the installed scripts for the run.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use PgProm;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my ($node, $port) = new_prom_node('upgrade');
my $sharedir = $node->config_data('--sharedir');
if (!-e "$sharedir/extension/pg_prom--1.0.sql")
{
	plan skip_all => "no pg_prom--1.0.sql in $sharedir/extension (scripts/test.sh installs it for the run)";
}
$node->start;
ok(wait_for_endpoint($port), 'endpoint answers');

# --- an installation of 1.0 in use ------------------------------------------
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_prom VERSION '1.0';
CREATE ROLE app LOGIN;
GRANT EXECUTE ON FUNCTION pg_prom_counter_inc(text, text[]) TO app;
-- registered under 1.0 (by its PL/pgSQL functions, refused today)
INSERT INTO pg_prom_queries (name, query, help, value_columns, min_interval)
VALUES ('upg_roles', 'SELECT count(*) AS n FROM pg_catalog.pg_roles', 'Roles.', '{n}', '0'),
       ('upg_weekly', 'SELECT 1 AS one', 'Weekly.', '{one}', '7 days');
SET ROLE app;
SELECT pg_prom_counter_inc('upg_events_total', 'kind', 'a') FROM generate_series(1, 5);
});
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pg_prom'"),
	'1.0', 'the extension is at 1.0');

my ($rc, $out, $err) = $node->psql('postgres',
	"SELECT pg_prom_register_query('upg_x', 'SELECT 1 AS v', 'x')");
isnt($rc, 0, '1.0\'s SECURITY DEFINER registration function refuses to run');
like($err, qr/ALTER EXTENSION pg_prom UPDATE/, 'and says how to fix it');

my $m = metrics_of($port);
like($m, qr/^upg_events_total\{kind="a"\} 5$/m, 'at 1.0, application metrics are served');
like($m, qr/^pg_scrape_collector_success\{collector="custom_queries"\} 0$/m,
	'custom queries wait for the update, reported as failed');
like($m, qr/^pg_up 1$/m, 'and the rest of the scrape is whole');
unlike($m, qr/^upg_roles_n /m, 'no 1.0 query runs');
like(slurp_file($node->logfile), qr/collector "custom_queries" failed: extension pg_prom in database "postgres" is at version 1\.0 \(hint: Run ALTER EXTENSION pg_prom UPDATE/,
	'the server log says why, with the fix');

# --- the update -----------------------------------------------------------
$node->safe_psql('postgres', 'ALTER EXTENSION pg_prom UPDATE');
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pg_prom'"),
	'1.1', 'updated to 1.1');
is($node->safe_psql('postgres',
		"SELECT string_agg(name || ' ' || registered_by || ' ' || min_interval, ', ' ORDER BY name) FROM pg_prom_queries"),
	'upg_roles postgres 00:00:00, upg_weekly postgres 1 day',
	'the queries are kept, owned by the role that updated, min_interval within a day');

$m = metrics_of($port);
like($m, qr/^upg_roles_n \d+$/m, 'the 1.0 queries run again');
like($m, qr/^pg_scrape_collector_success\{collector="custom_queries"\} 1$/m, 'custom queries succeed');
like($m, qr/^upg_events_total\{kind="a"\} 5$/m, 'the application metric kept its value');

$node->safe_psql('postgres', q{
SET ROLE app;
SELECT pg_prom_counter_inc('upg_events_total', 'kind', 'a');
});
like(metrics_of($port), qr/^upg_events_total\{kind="a"\} 6$/m,
	'the application role\'s grant holds after the update');
is($node->safe_psql('postgres',
		"SELECT owner FROM pg_prom_app_metrics() WHERE metric_name = 'upg_events_total'"),
	'app', '1.1\'s pg_prom_app_metrics() shows the owner');
$node->safe_psql('postgres',
	"SELECT pg_prom_register_query('upg_new', 'SELECT 2 AS v', 'New.')");
like(metrics_of($port), qr/^upg_new_v 2$/m, 'registration works after the update');

# --- the updated extension equals a fresh one ------------------------------
my $describe = q{
SELECT string_agg(x, E'\n' ORDER BY x) FROM (
  SELECT 'function ' || p.oid::pg_catalog.regprocedure::text
         || ' returns ' || pg_catalog.pg_get_function_result(p.oid)
         || ' args ' || pg_catalog.pg_get_function_arguments(p.oid)
         || ' lang ' || l.lanname || ' volatile ' || p.provolatile::text
         || ' parallel ' || p.proparallel::text || ' strict ' || p.proisstrict
         || ' secdef ' || p.prosecdef
         || ' config ' || coalesce(pg_catalog.array_to_string(p.proconfig, ','), '')
         || ' acl ' || coalesce(p.proacl::text, '')
         || ' src ' || pg_catalog.md5(p.prosrc)
         || ' comment ' || coalesce(pg_catalog.obj_description(p.oid, 'pg_proc'), '') AS x
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_language l ON l.oid = p.prolang
  WHERE EXISTS (SELECT FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
                WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid
                  AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
                  AND e.extname = 'pg_prom')
  UNION ALL
  SELECT 'column ' || a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
         || ' not null ' || a.attnotnull
         || ' default ' || coalesce(pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), '')
  FROM pg_catalog.pg_attribute a
  LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
  WHERE a.attrelid = 'public.pg_prom_queries'::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'constraint ' || conname || ' ' || pg_catalog.pg_get_constraintdef(oid)
  FROM pg_catalog.pg_constraint WHERE conrelid = 'public.pg_prom_queries'::pg_catalog.regclass
  UNION ALL
  SELECT 'table acl ' || coalesce(relacl::text, '') || ' comment '
         || coalesce(pg_catalog.obj_description(oid, 'pg_class'), '')
  FROM pg_catalog.pg_class WHERE oid = 'public.pg_prom_queries'::pg_catalog.regclass
  UNION ALL
  SELECT 'trigger ' || pg_catalog.pg_get_triggerdef(oid) FROM pg_catalog.pg_trigger
  WHERE tgrelid = 'public.pg_prom_queries'::pg_catalog.regclass AND NOT tgisinternal
  UNION ALL
  SELECT 'config ' || coalesce(pg_catalog.array_to_string(extconfig::pg_catalog.regclass[]::text[], ','), '')
         || ' ' || coalesce(pg_catalog.array_to_string(extcondition, ','), '')
  FROM pg_catalog.pg_extension WHERE extname = 'pg_prom'
) s};
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
# with the same grant as the updated one (the only difference the test made)
$node->safe_psql('fresh', q{
CREATE EXTENSION pg_prom;
GRANT EXECUTE ON FUNCTION pg_prom_counter_inc(text, text[]) TO app;
});
my $updated = $node->safe_psql('postgres', $describe);
my $fresh = $node->safe_psql('fresh', $describe);
cmp_ok(length($fresh), '>', 1000, 'the description of a fresh 1.1 is substantial');
if ($updated ne $fresh)
{
	my %u = map { $_ => 1 } split /\n/, $updated;
	my %f = map { $_ => 1 } split /\n/, $fresh;
	diag("only after the update: $_") for grep { !$f{$_} } sort keys %u;
	diag("only in a fresh 1.1:   $_") for grep { !$u{$_} } sort keys %f;
}
ok($updated eq $fresh, 'the updated extension equals a fresh CREATE EXTENSION, object for object');

$node->stop;
check_log_clean($node);
done_testing();
