# Helpers shared by pg_prom's TAP tests: a node with pg_prom preloaded,
# raw and parsed HTTP requests, and the server-log check every test ends
# with.
package PgProm;

use strict;
use warnings;

use Exporter 'import';
use HTTP::Tiny;
use JSON::PP ();
use IO::Socket::INET;
use IO::Select;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

our @EXPORT = qw(new_prom_node wait_for_endpoint http_get http_raw
  open_client read_response metrics_of wait_for_metrics check_log_clean
  worker_pid sample_of cause_deadlock prom_query_at wait_ready);

# A node with pg_prom in shared_preload_libraries and the endpoint on a
# free loopback port.  Extra configuration lines may follow.
sub new_prom_node
{
	my ($name, %opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(%{ $opts{init} || {} });
	my $port = PostgreSQL::Test::Cluster::get_free_port();
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_prom'
pg_prom.listen_addresses = '127.0.0.1'
pg_prom.port = $port
restart_after_crash = on
} . ($opts{conf} || ''));
	return ($node, $port);
}

# Wait until /health answers on the port (at most $timeout seconds).
sub wait_for_endpoint
{
	my ($port, $timeout) = @_;
	$timeout ||= 60;
	my $deadline = time + $timeout;
	while (time < $deadline)
	{
		my $r = HTTP::Tiny->new(timeout => 2)->get("http://127.0.0.1:$port/health");
		return 1 if $r->{status} == 200;
		sleep 0.2;
	}
	return 0;
}

sub http_get
{
	my ($port, $path, %headers) = @_;
	return HTTP::Tiny->new(timeout => 20, keep_alive => 0)
	  ->get("http://127.0.0.1:$port$path", { headers => \%headers });
}

sub open_client
{
	my ($port) = @_;
	return IO::Socket::INET->new(
		PeerAddr => '127.0.0.1',
		PeerPort => $port,
		Proto => 'tcp',
		Timeout => 5) || die "connect to $port: $!";
}

# Read from a socket until the peer closes it or $timeout seconds pass.
sub read_response
{
	my ($sock, $timeout) = @_;
	$timeout ||= 10;
	my $sel = IO::Select->new($sock);
	my $data = '';
	my $deadline = time + $timeout;
	while (time < $deadline)
	{
		last unless $sel->can_read($deadline - time);
		my $buf;
		my $n = sysread($sock, $buf, 65536);
		last if !defined $n || $n == 0;
		$data .= $buf;
	}
	return $data;
}

# Send raw bytes on a new connection and return everything the server
# sends back before it closes the connection.
sub http_raw
{
	my ($port, $bytes, $timeout) = @_;
	my $sock = open_client($port);
	syswrite($sock, $bytes);
	my $resp = read_response($sock, $timeout);
	close($sock);
	return $resp;
}

sub metrics_of
{
	my ($port) = @_;
	my $r = http_get($port, '/metrics');
	die "GET /metrics: $r->{status}" unless $r->{status} == 200;
	return $r->{content};
}

# The first scrape that matches $re within $timeout seconds (default 30),
# or undef.  A scrape that is not answered 200 (a collector restarting) is
# tried again.
sub wait_for_metrics
{
	my ($port, $re, $timeout) = @_;
	my $deadline = time + ($timeout || 30);
	while (time < $deadline)
	{
		my $r = http_get($port, '/metrics');
		return $r->{content} if $r->{status} == 200 && $r->{content} =~ $re;
		sleep 0.2;
	}
	return undef;
}

# Wait until $path (default /ready: the collector is connected) answers 200,
# at most $timeout seconds (default 30).
sub wait_ready
{
	my ($port, $path, $timeout) = @_;
	my $deadline = time + ($timeout || 30);
	while (time < $deadline)
	{
		return 1 if http_get($port, $path || '/ready')->{status} == 200;
		sleep 0.2;
	}
	return 0;
}

sub worker_pid
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_prom'");
}

# The check every test ends with: our code must never crash a backend.
# Processes the test killed itself can be named by PID.
sub check_log_clean
{
	my ($node, @killed) = @_;
	my $log = PostgreSQL::Test::Utils::slurp_file($node->logfile);
	for my $pid (@killed)
	{
		$log =~ s/^.*\(PID $pid\) was terminated by signal.*$//mg;
	}
	unlike($log, qr/terminated by signal/, $node->name . ': no process terminated by a signal');
	unlike($log, qr/server process .* was terminated/, $node->name . ': no server process terminated');
}

# One deadlock in database $db between two sessions updating tables d1 and
# d2 (one row each, created by the caller) in opposite order; one of the two
# is the victim (usually the second: the first's UPDATE is sent first, but
# nothing orders its arrival).
sub cause_deadlock
{
	my ($node, $db) = @_;
	my $a = $node->background_psql($db, on_error_stop => 0);
	my $b = $node->background_psql($db, on_error_stop => 0);
	$a->query_safe("SET deadlock_timeout = '100ms'; BEGIN; UPDATE d1 SET id = 2;");
	$b->query_safe("SET deadlock_timeout = '100ms'; BEGIN; UPDATE d2 SET id = 2;");
	$a->query_until(qr/^$/, "UPDATE d2 SET id = 3;\n");
	$b->query("UPDATE d1 SET id = 3;");
	$a->query("COMMIT;");
	$b->query("ROLLBACK;");
	$a->quit;
	$b->quit;
}

# The value of one series in a scrape (0 when absent).
sub sample_of
{
	my ($text, $series) = @_;
	my ($v) = $text =~ /^\Q$series\E (\S+)$/m;
	return defined $v ? $v : 0;
}

# The result of an instant query to the Prometheus at $url: a list of
# series, empty on any failure.
sub prom_query_at
{
	my ($url, $expr) = @_;
	my $r = HTTP::Tiny->new(timeout => 10)->post_form("$url/api/v1/query", { query => $expr });
	return [] unless $r->{success};
	my $body = JSON::PP::decode_json($r->{content});
	return $body->{status} eq 'success' ? $body->{data}{result} : [];
}

1;
