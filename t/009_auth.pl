# Proves the endpoint's access control: the client allow-list (403 before
# anything else), bearer-token authentication from a file, and HTTP Basic
# against PostgreSQL roles (pg_monitor membership, password changes and
# revocation take effect at once), with 401 and WWW-Authenticate on
# failure, failures counted, and 429 after repeated failures.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use MIME::Base64;
use PgProm;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my ($node, $port) = new_prom_node('auth');
$node->start;
ok(wait_for_endpoint($port), 'endpoint answers');

sub reconfigure
{
	my (%settings) = @_;
	while (my ($k, $v) = each %settings)
	{
		$node->safe_psql('postgres', "ALTER SYSTEM SET $k = '$v'");
	}
	$node->reload;
	sleep 0.5;
}

sub get_with
{
	my ($authorization) = @_;
	return http_get($port, '/metrics', $authorization ? (Authorization => $authorization) : ());
}

# --- allow-list -------------------------------------------------------------------
reconfigure('pg_prom.allowed_clients' => '10.0.0.0/8, ::1');
my $resp = http_raw($port, "GET /health HTTP/1.1\r\nHost: a\r\n\r\n");
like($resp, qr{^HTTP/1.1 403 Forbidden\r\n}, 'a client outside pg_prom.allowed_clients gets 403');
reconfigure('pg_prom.allowed_clients' => '127.0.0.0/8');
is(http_get($port, '/health')->{status}, 200, 'a client inside is served');
like(metrics_of($port), qr/^pg_prom_http_clients_denied_total 1$/m, 'the denial is counted');

# --- bearer token ---------------------------------------------------------------------
my $token = 'f00dfeedcafe0123456789abcdef0123';
my $token_file = $node->data_dir . '/prom_token';
open(my $fh, '>', $token_file) or die;
print $fh "$token\n";
close $fh;
chmod 0644, $token_file;
reconfigure('pg_prom.auth_method' => 'bearer', 'pg_prom.auth_token_file' => $token_file);
ok($node->wait_for_log(qr/the token file ".*prom_token" is not a regular file private to its owner/),
	'a token file readable by others is refused');
is(get_with("Bearer $token")->{status}, 401, 'and nothing is served with it');
open($fh, '>', $token_file) or die;
print $fh ('x' x 300) . "\n";
close $fh;
chmod 0600, $token_file;
$node->reload;
ok($node->wait_for_log(qr/the token in ".*prom_token" is longer than 256 characters/),
	'a token over the limit is refused, not cut short');
is(get_with('Bearer ' . ('x' x 256))->{status}, 401, 'and its first 256 characters do not work');
open($fh, '>', $token_file) or die;
print $fh "$token\n";
close $fh;
chmod 0600, $token_file;
$node->reload;
sleep 0.5;

my $r = get_with(undef);
is($r->{status}, 401, 'no token: 401');
is($r->{headers}{'www-authenticate'}, 'Bearer realm="pg_prom"', 'with a Bearer challenge');
is(get_with("Bearer wrong-token-0000000000000000")->{status}, 401, 'a wrong token: 401');
is(get_with("Basic " . encode_base64("a:b", ''))->{status}, 401, 'another scheme: 401');
$r = get_with("Bearer $token");
is($r->{status}, 200, 'the right token: 200');
like($r->{content}, qr/^pg_up 1$/m, 'with the metrics');
is(http_get($port, '/health')->{status}, 200, '/health needs no token');

unlink $token_file;
$node->reload;
ok($node->wait_for_log(qr/could not read the token file/), 'a missing token file is logged');
is(get_with("Bearer $token")->{status}, 401, 'and nothing is served without a readable token');

# --- Basic against PostgreSQL roles -----------------------------------------------------
$node->safe_psql('postgres', q{
	SET password_encryption = 'scram-sha-256';
	CREATE ROLE reader LOGIN PASSWORD 'right horse' IN ROLE pg_monitor;
	CREATE ROLE outsider LOGIN PASSWORD 'right horse';
	CREATE ROLE nologin NOLOGIN PASSWORD 'right horse' IN ROLE pg_monitor;
});
reconfigure('pg_prom.auth_method' => 'basic');
sub basic { return "Basic " . encode_base64("$_[0]:$_[1]", '') }

$r = get_with(undef);
is($r->{status}, 401, 'no credentials: 401');
like($r->{headers}{'www-authenticate'}, qr/^Basic realm="pg_prom"/, 'with a Basic challenge');
is(get_with(basic('reader', 'right horse'))->{status}, 200, 'a pg_monitor role with its password: 200');
is(get_with(basic('reader', 'right horse'))->{status}, 200, 'and again (verified result remembered)');
is(get_with(basic('reader', 'wrong'))->{status}, 401, 'a wrong password: 401');
is(get_with(basic('outsider', 'right horse'))->{status}, 401, 'a role without pg_monitor: 401');
is(get_with(basic('nologin', 'right horse'))->{status}, 401, 'a role without LOGIN: 401');
is(get_with(basic('nobody', 'x'))->{status}, 401, 'an unknown role: 401');

$node->safe_psql('postgres', "SET password_encryption = 'scram-sha-256'; ALTER ROLE reader PASSWORD 'new horse'");
is(get_with(basic('reader', 'right horse'))->{status}, 401, 'the old password stops working at once');
is(get_with(basic('reader', 'new horse'))->{status}, 200, 'the new one works');
$node->safe_psql('postgres', 'REVOKE pg_monitor FROM reader');
is(get_with(basic('reader', 'new horse'))->{status}, 401, 'revoking pg_monitor removes access at once');
$node->safe_psql('postgres', 'GRANT pg_monitor TO reader');
$node->safe_psql('postgres', "ALTER ROLE reader VALID UNTIL '2000-01-01'");
is(get_with(basic('reader', 'new horse'))->{status}, 401, 'an expired password (rolvaliduntil) is refused');
$node->safe_psql('postgres', "ALTER ROLE reader VALID UNTIL 'infinity'");
is(get_with(basic('reader', 'new horse'))->{status}, 200, 'valid again');

ok($node->log_contains('pg_prom: authentication failed for a request from 127.0.0.1'),
	'failures are logged with the client address');
ok($node->log_contains('No Basic credentials were presented'), 'and the reason');
like(get_with(basic('reader', 'new horse'))->{content}, qr/^pg_prom_http_auth_failures_total [1-9]/m,
	'and counted');

# --- a refusal takes as long whatever is wrong ----------------------------------------
{
	$node->safe_psql('postgres', q{
		SET password_encryption = 'scram-sha-256';
		CREATE ROLE reader2 LOGIN PASSWORD 'other horse' IN ROLE pg_monitor;
	});
	$node->reload;				# a reload starts the failure counts afresh
	sleep 1;
	my $other = HTTP::Tiny->new(timeout => 20, keep_alive => 0);
	my $time_of = sub {
		my ($user, $password) = @_;
		my $best = 1e9;
		for (1 .. 4)
		{
			my $t0 = time;
			my $st = $other->get("http://127.0.0.1:$port/metrics",
				{ headers => { Authorization => basic($user, $password) } })->{status};
			my $t = time - $t0;
			$best = $t if $t < $best;
			die "unexpected status $st" unless $st == 401;
		}
		return $best;
	};
	my $wrong = $time_of->('reader2', 'wrong');
	my $missing = $time_of->('no_such_role', 'wrong');
	ok($missing > $wrong / 3,
		sprintf('a role that does not exist costs the verifier work too (%.4f s vs %.4f s)', $missing, $wrong));
}

# --- too many failures from one address -------------------------------------------------
is(get_with(basic('reader', 'new horse'))->{status}, 200, 'Prometheus scrapes with its credentials');
my $last;
for (1 .. 12)
{
	$last = get_with(basic('reader', 'guess'))->{status};
}
is($last, 429, 'after repeated failures the address gets 429 without verification');
is(get_with(basic('reader', 'new horse'))->{status}, 200,
	'credentials verified before still get in: failing on purpose cannot lock Prometheus out');
is(get_with(basic('reader', 'guess'))->{status}, 429, 'failing ones stay locked out');
is(get_with(basic('reader2', 'other horse'))->{status}, 429,
	'credentials never verified are not checked from a locked-out address');
my $rotated = HTTP::Tiny->new(timeout => 20, keep_alive => 0, local_address => '127.0.0.77')
  ->get("http://127.0.0.1:$port/metrics", { headers => { Authorization => basic('reader', 'guess') } });
is($rotated->{status}, 429, 'another loopback address counts with the same network');

$node->stop;
check_log_clean($node);
done_testing();
