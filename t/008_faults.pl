# Proves the endpoint under faults: max_connections exhausted by ordinary
# and then by superuser sessions (full metrics still served), a thousand
# connections opened at once against the endpoint, and a client that
# sends one byte per second.  After each, the server answers SQL and its
# log shows no process terminated by a signal.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use IO::Socket::INET;
use PgProm;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my ($node, $port) = new_prom_node('faults', conf => qq{
max_connections = 10
superuser_reserved_connections = 3
pg_prom.request_timeout = '2s'
pg_prom.max_clients = 16
});
$node->start;
ok(wait_for_endpoint($port), 'endpoint answers');
$node->safe_psql('postgres', 'CREATE ROLE app LOGIN');
my $worker = worker_pid($node);

# --- max_connections exhausted ------------------------------------------------------
my @sessions;
for my $i (1 .. 7)
{
	push @sessions, $node->background_psql('postgres', extra_params => [ '-U', 'app' ]);
}
my ($rc, $out, $err) = $node->psql('postgres', 'SELECT 1', extra_params => [ '-U', 'app' ]);
like($err, qr/remaining connection slots are reserved|too many clients/,
	'ordinary connections are exhausted');
# (since 18 the refused login shows in the backend array until it has
# exited, which may be just after psql returned)
my $m = wait_for_metrics($port, qr/^pg_connections_used 7$/m, 10) // metrics_of($port);
like($m, qr/^pg_up 1$/m, 'metrics are served with max_connections exhausted');
unlike($m, qr/^pg_scrape_collector_success\{[^}]*\} 0$/m, 'every collector succeeds');
is(sample_of($m, 'pg_connections_used'), 7, 'and they show the seven sessions');
is(sample_of($m, 'pg_connections_available'), 0, 'and no slot left');

for my $i (1 .. 3)
{
	push @sessions, $node->background_psql('postgres');
}
($rc, $out, $err) = $node->psql('postgres', 'SELECT 1');
like($err, qr/too many clients already/, 'even superuser connections are exhausted');
$m = metrics_of($port);
like($m, qr/^pg_up 1$/m, 'metrics are still served with every slot taken');
unlike($m, qr/^pg_scrape_collector_success\{[^}]*\} 0$/m, 'every collector still succeeds');
like($m, qr/^pg_error_codes_total\{sqlstate="53300",condition="too_many_connections"\} [1-9]/m,
	'the refused connections are counted');
$_->quit for @sessions;

# --- a thousand connections at once ----------------------------------------------
{
	my @socks;
	for (1 .. 1000)
	{
		my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp', Timeout => 5);
		push @socks, $s if $s;
	}
	ok(@socks >= 900, scalar(@socks) . ' connections opened');
	syswrite($_, "GET /health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n") for @socks;
	my ($ok, $refused, $other) = (0, 0, 0);
	for my $s (@socks)
	{
		my $resp = read_response($s, 10);
		if ($resp =~ m{^HTTP/1.1 200 }) { $ok++ }
		elsif ($resp =~ m{^HTTP/1.1 503 }) { $refused++ }
		else { $other++ }
		close $s;
	}
	ok($ok >= 1, "some were served ($ok)");
	note("refused: $refused, closed to make room before sending: $other");
	is(http_get($port, '/health')->{status}, 200, 'the endpoint serves normally afterwards');
	is(worker_pid($node), $worker, 'the worker did not restart');
}

# --- a thousand half-sent requests do not lock a scrape out -------------------------------
{
	$node->safe_psql('postgres', "ALTER SYSTEM SET pg_prom.max_clients = 1000; SELECT pg_reload_conf();");
	sleep 0.5;
	my @socks;
	for (1 .. 1000)
	{
		my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp', Timeout => 5);
		next unless $s;
		syswrite($s, "GET /metrics HTTP/1.1\r\nHo");
		push @socks, $s;
	}
	ok(@socks >= 900, scalar(@socks) . ' half-sent requests');
	my $t0 = time;
	my $r = http_get($port, '/metrics');
	my $took = time - $t0;
	is($r->{status}, 200, 'a normal scrape still gets 200');
	ok($took < 1, sprintf('in under a second (%.3f s)', $took));
	like(metrics_of($port), qr/^pg_prom_http_clients_evicted_total [1-9]/m,
		'half-sent requests from the same address made room (pg_prom.max_clients_per_address)');
	close $_ for @socks;
	$node->safe_psql('postgres', "ALTER SYSTEM RESET pg_prom.max_clients; SELECT pg_reload_conf();");
}

# --- a collection larger than pg_prom.max_response_size --------------------------------
{
	$node->safe_psql('postgres', q{
		DO $$ BEGIN FOR i IN 1..400 LOOP EXECUTE format('CREATE TABLE big_%s (x int)', i); END LOOP; END $$;
	});
	# New tables are named at most OWN_REFRESH_MS (2 s) after the last
	# read of the catalog: wait until they are, then lower the limit.
	ok(wait_for_metrics($port, qr/relname="big_400"/), 'the 400 new tables are served');
	$node->safe_psql('postgres', q{
		ALTER SYSTEM SET pg_prom.max_response_size = '1MB';
		SELECT pg_reload_conf();
	});
	sleep 0.5;
	my $r = http_get($port, '/metrics');
	is($r->{status}, 500, 'a collection over pg_prom.max_response_size gets 500');
	like($r->{content}, qr/larger than pg_prom.max_response_size \(1 MB\)/, 'with the reason');
	is(http_get($port, '/health')->{status}, 200, 'and the endpoint goes on');
	is(worker_pid($node), $worker, 'without restarting');
	$node->safe_psql('postgres', q{
		ALTER SYSTEM RESET pg_prom.max_response_size;
		SELECT pg_reload_conf();
		DO $$ BEGIN FOR i IN 1..400 LOOP EXECUTE format('DROP TABLE big_%s', i); END LOOP; END $$;
	});
	sleep 0.5;
	is(http_get($port, '/metrics')->{status}, 200, 'served again under the limit');
}

# --- one byte per second ---------------------------------------------------------------
{
	my $drip = open_client($port);
	my $t0 = time;
	my $answer = '';
	for my $byte (split //, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
	{
		last unless syswrite($drip, $byte);
		my $sel = IO::Select->new($drip);
		if ($sel->can_read(1))
		{
			$answer = read_response($drip, 5);
			last;
		}
		is(http_get($port, '/health')->{status}, 200, 'others are served meanwhile') if time - $t0 < 1.5;
		last if time - $t0 > 10;
	}
	like($answer, qr{^HTTP/1.1 408 }, 'a one-byte-per-second client gets 408 after pg_prom.request_timeout');
	close $drip;
}

is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server answers SQL');
is(worker_pid($node), $worker, 'the worker never restarted');
$node->stop;
check_log_clean($node);
done_testing();
