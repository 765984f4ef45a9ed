# Proves least privilege and recovery from a broken role: the worker runs
# as a LOGIN role with only pg_monitor and every collector succeeds; when
# its role is dropped the worker does not fail every few seconds but backs
# off and says why, and it comes back once the role exists again.
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
ok(wait_for_endpoint($port, 60), 'the worker connects as a pg_monitor role');
is($node->safe_psql('postgres', "SELECT usename FROM pg_stat_activity WHERE backend_type = 'pg_prom'"),
	'prom_agent', 'as pg_prom.role');
my $m = metrics_of($port);
unlike($m, qr/^pg_scrape_collector_success\{[^}]*\} 0$/m, 'every default collector succeeds with pg_monitor only');

# drop the role under the running worker, then make the worker reconnect
$node->safe_psql('postgres', 'DROP ROLE prom_agent');
my $pid = worker_pid($node);
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok($node->wait_for_log(qr/role "prom_agent" does not exist/), 'the failed connection is logged');
ok($node->wait_for_log(qr/pg_prom: the worker could not connect to database "postgres" as role "prom_agent" the last 1 time\(s\); retrying in 5 s/),
	'the next start backs off and says why');
ok($node->wait_for_log(qr/the last 2 time\(s\); retrying in 10 s/), 'and backs off longer');

$node->safe_psql('postgres', 'CREATE ROLE prom_agent LOGIN IN ROLE pg_monitor');
ok(wait_for_endpoint($port, 60), 'once the role exists again the worker serves again');
is(http_get($port, '/metrics')->{status}, 200, 'metrics too');

# the worker's database cannot be renamed under it: PostgreSQL refuses
# while a session is connected, and nothing else breaks
my ($rc, $out, $err) = $node->psql('template1', 'ALTER DATABASE postgres RENAME TO postgres_renamed');
like($err, qr/database "postgres" is being accessed by other users/,
	"renaming pg_prom.database is refused while the worker is connected");
is(http_get($port, '/metrics')->{status}, 200, 'and the endpoint keeps serving');

$node->stop;
check_log_clean($node);
done_testing();
