# Proves least privilege and recovery from a broken role: the collector
# runs as a LOGIN role with only pg_monitor and every collector succeeds;
# when its role is dropped the endpoint stays up (/health 200, /ready and
# the metrics 503 with the reason), the collector does not fail every few
# seconds but backs off and says why, and it comes back once the role
# exists again.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use PgProm;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my ($node, $port) = new_prom_node('role', conf => "pg_prom.role = 'prom_agent'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE ROLE prom_agent LOGIN IN ROLE pg_monitor');
ok(wait_for_endpoint($port, 60), 'the endpoint answers');

sub wait_for_ready
{
	my $deadline = time + 60;
	while (time < $deadline)
	{
		return 1 if http_get($port, '/ready')->{status} == 200;
		sleep 0.2;
	}
	return 0;
}
ok(wait_for_ready(), 'the collector connects as a pg_monitor role');
is($node->safe_psql('postgres', "SELECT usename FROM pg_stat_activity WHERE backend_type = 'pg_prom collector'"),
	'prom_agent', 'as pg_prom.role');
my $m = metrics_of($port);
unlike($m, qr/^pg_scrape_collector_success\{[^}]*\} 0$/m, 'every default collector succeeds with pg_monitor only');

# drop the role under the running collector, then make it reconnect
$node->safe_psql('postgres', 'DROP ROLE prom_agent');
my $pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_prom collector'");
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok($node->wait_for_log(qr/role "prom_agent" does not exist/), 'the failed connection is logged');
ok($node->wait_for_log(qr/pg_prom: the collector could not connect to database "postgres" as role "prom_agent" the last 1 time\(s\); retrying in 5 s/),
	'the next start backs off and says why');
is(http_get($port, '/health')->{status}, 200, 'the endpoint stays up');
is(http_get($port, '/ready')->{status}, 503, 'and says it is not ready');
my $r = http_get($port, '/metrics');
is($r->{status}, 503, 'metrics are 503 while the collector cannot connect');
like($r->{content}, qr/collector is not running/, 'with the reason');
ok($node->wait_for_log(qr/the last 2 time\(s\); retrying in 10 s/), 'and backs off longer');

$node->safe_psql('postgres', 'CREATE ROLE prom_agent LOGIN IN ROLE pg_monitor');
ok(wait_for_ready(), 'once the role exists again the collector connects again');
is(http_get($port, '/metrics')->{status}, 200, 'and the metrics are served');

# the worker's database cannot be renamed under it: PostgreSQL refuses
# while a session is connected, and nothing else breaks
my ($rc, $out, $err) = $node->psql('template1', 'ALTER DATABASE postgres RENAME TO postgres_renamed');
like($err, qr/database "postgres" is being accessed by other users/,
	"renaming pg_prom.database is refused while the collector is connected");
is(http_get($port, '/metrics')->{status}, 200, 'and the endpoint keeps serving');

$node->stop;
check_log_clean($node);
done_testing();
