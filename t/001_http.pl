# Proves the HTTP endpoint: routes, status codes, headers, keep-alive and
# pipelining, bounded requests (400/405/414/431/413/505), slow and idle
# clients closed on their deadline without blocking others, and clients
# over pg_prom.max_clients making room by closing the connection that waited
# longest for a request.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use PgProm;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my ($node, $port) = new_prom_node('http', conf => qq{
pg_prom.request_timeout = '2s'
pg_prom.idle_timeout = '3s'
pg_prom.max_clients = 4
});
$node->start;
ok(wait_for_endpoint($port), 'endpoint answers');

# --- the metrics -------------------------------------------------------
my $r = http_get($port, '/metrics');
is($r->{status}, 200, 'GET /metrics is 200');
is($r->{headers}{'content-type'}, 'text/plain; version=0.0.4; charset=utf-8',
	'Prometheus text content type');
is($r->{headers}{'content-length'}, length($r->{content}), 'Content-Length matches the body');
like($r->{content}, qr/^# HELP pg_up .*\n# TYPE pg_up gauge\npg_up 1$/m, 'pg_up 1 with HELP and TYPE');
like($r->{content}, qr/^pg_scrape_collector_success\{collector="stat_activity"\} 1$/m,
	'collectors report success');

my $head = http_raw($port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
like($head, qr{^HTTP/1.1 200 OK\r\n}, 'HEAD /metrics is 200');
my ($hlen) = $head =~ /Content-Length: (\d+)/;
ok($hlen > 1000, 'HEAD announces the body length');
like($head, qr/\r\n\r\n\z/, 'HEAD sends no body');

# --- other routes ------------------------------------------------------
$r = http_get($port, '/');
is($r->{status}, 200, 'landing page');
like($r->{content}, qr{<a href="/metrics">}, 'landing page links to the metrics');
$r = http_get($port, '/health');
is($r->{status}, 200, '/health is 200');
is($r->{content}, "OK\n", '/health says OK');
$r = http_get($port, '/nope');
is($r->{status}, 404, 'unknown path is 404');
$r = http_get($port, '/metrics?x=1');
is($r->{status}, 200, 'query string is ignored');

is(http_get($port, '/ready')->{status}, 200, '/ready is 200 when the worker can collect');
is(http_get($port, '/primary')->{status}, 200, '/primary is 200 on a primary');
is(http_get($port, '/replica')->{status}, 503, '/replica is 503 on a primary');

# collect[] selects collectors
$r = http_get($port, '/metrics?collect%5B%5D=locks&collect[]=static');
is($r->{status}, 200, 'collect[] scrape');
my @families = $r->{content} =~ /^# TYPE (\S+)/mg;
ok((grep { $_ eq 'pg_locks_count' } @families) && (grep { $_ eq 'pg_up' } @families), 'has the selected collectors');
ok(!(grep { /^pg_settings_/ } @families), 'and not the others');
like($r->{content}, qr/^pg_scrape_collector_success\{collector="locks"\} 1$/m, 'reports the selected collectors');
unlike($r->{content}, qr/^pg_scrape_collector_success\{collector="settings"\}/m, 'and only them');
is(http_get($port, '/metrics?collect[]=nosuch')->{status}, 400, 'an unknown collector in collect[] is 400');
is(http_get($port, '/metrics?collect[]=%zz')->{status}, 400, 'a malformed escape is 400');

# gzip when the scraper asks for it
{
	require IO::Uncompress::Gunzip;
	my $raw = http_raw($port, "GET /metrics HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n");
	my ($headers, $zbody) = split /\r\n\r\n/, $raw, 2;
	like($headers, qr/\r\nContent-Encoding: gzip\r\n/, 'gzip when Accept-Encoding: gzip');
	my ($zlen) = $headers =~ /Content-Length: (\d+)/;
	is(length($zbody), $zlen, 'Content-Length is the compressed size');
	my $text;
	IO::Uncompress::Gunzip::gunzip(\$zbody => \$text) or die;
	like($text, qr/^pg_up 1$/m, 'and the body decompresses to the metrics');
	my $plain = http_raw($port, "GET /metrics HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip;q=0, identity\r\nConnection: close\r\n\r\n");
	unlike($plain, qr/Content-Encoding/, 'not when gzip is refused with q=0');
}

my $resp = http_raw($port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
like($resp, qr{^HTTP/1.1 405 Method Not Allowed\r\n}, 'POST is 405');
like($resp, qr{\r\nAllow: GET, HEAD\r\n}, '405 carries Allow');

# --- malformed and oversized requests -------------------------------------
my %bad = (
	'garbage' => "\x00\x01\x02 hello\r\n\r\n",
	'no version' => "GET /metrics\r\n\r\n",
	'no Host in HTTP/1.1' => "GET /metrics HTTP/1.1\r\n\r\n",
	'two Hosts' => "GET /metrics HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	'NUL in a header' => "GET /metrics HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n",
	'space before colon' => "GET /metrics HTTP/1.1\r\nHost : a\r\n\r\n",
	'obs-fold' => "GET /metrics HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
	'bad Content-Length' => "GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n",
	'absolute-form' => "GET http://a/metrics HTTP/1.1\r\nHost: a\r\n\r\n",
);
for my $name (sort keys %bad)
{
	my $resp = http_raw($port, $bad{$name});
	like($resp, qr{^HTTP/1.1 400 Bad Request\r\n.*Connection: close\r\n}s, "$name: 400 and close");
}
like(http_raw($port, "GET /metrics HTTP/2.0\r\nHost: a\r\n\r\n"),
	qr{^HTTP/1.1 505 }, 'HTTP/2.0 request line: 505');
like(http_raw($port, "GET /" . ('a' x 5000) . " HTTP/1.1\r\nHost: a\r\n\r\n"),
	qr{^HTTP/1.1 414 }, 'long request line: 414');
like(http_raw($port, "GET /metrics HTTP/1.1\r\nHost: a\r\n" . ("X-Big: " . ('b' x 100) . "\r\n") x 100 . "\r\n"),
	qr{^HTTP/1.1 431 }, 'large header section: 431');
like(http_raw($port, "GET /metrics HTTP/1.1\r\nHost: a\r\n" . ("X: y\r\n" x 70) . "\r\n"),
	qr{^HTTP/1.1 431 }, 'too many headers: 431');
like(http_raw($port, "GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999\r\n\r\n"),
	qr{^HTTP/1.1 413 }, 'absurd Content-Length: 413');
like(http_raw($port, "GET /metrics HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
	qr{^HTTP/1.1 413 }, 'chunked body: 413');
like(http_raw($port, "GET /m\xff\xfe HTTP/1.1\r\nHost: a\r\n\r\n"),
	qr{^HTTP/1.1 404 }, 'invalid UTF-8 in the path: 404');

# --- keep-alive, HTTP/1.0 and pipelining ---------------------------------
{
	my $sock = open_client($port);
	syswrite($sock, "GET /health HTTP/1.1\r\nHost: a\r\n\r\n");
	my $first = '';
	my $deadline = time + 5;
	while ($first !~ /OK\n\z/ && time < $deadline)
	{
		my $buf;
		last unless IO::Select->new($sock)->can_read(5);
		last unless sysread($sock, $buf, 4096);
		$first .= $buf;
	}
	like($first, qr{^HTTP/1.1 200 OK\r\n.*Connection: keep-alive\r\n}s, 'keep-alive by default in HTTP/1.1');
	syswrite($sock, "GET /health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
	like(read_response($sock), qr{^HTTP/1.1 200 OK\r\n.*Connection: close\r\n}s,
		'second request on the same connection, then close');
	close $sock;
}
like(http_raw($port, "GET /health HTTP/1.0\r\n\r\n"), qr{^HTTP/1.1 200 .*Connection: close}s,
	'HTTP/1.0 without Host works and closes');
{
	my $pipelined = "GET /health HTTP/1.1\r\nHost: a\r\n\r\n" x 3
	  . "GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
	my $all = http_raw($port, $pipelined);
	my @statuses = $all =~ m{HTTP/1.1 (\d+) }g;
	is_deeply(\@statuses, [ 200, 200, 200, 200 ], 'four pipelined requests answered in order');
	like($all, qr/pg_up 1/, 'pipelined metrics included');
}
{
	# the client shuts its side right after its requests: every one is answered
	my $sock = open_client($port);
	syswrite($sock, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n"
		  . "GET /health HTTP/1.1\r\nHost: a\r\n\r\n"
		  . "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
	shutdown($sock, 1);
	my $all = read_response($sock, 20);
	close $sock;
	my @statuses = $all =~ m{HTTP/1.1 (\d+) }g;
	is_deeply(\@statuses, [ 200, 200, 200 ],
		'pipelined requests sent before the client shut its side are all answered');
	my @bodies = $all =~ /^pg_up 1$/mg;
	is(scalar(@bodies), 2, 'both metrics responses are whole');
}
{
	# a request left incomplete when the client shuts its side is dropped
	# at once, after the complete one before it is answered
	my $sock = open_client($port);
	syswrite($sock, "GET /health HTTP/1.1\r\nHost: a\r\n\r\nGET /hea");
	shutdown($sock, 1);
	my $t0 = time;
	my $all = read_response($sock, 20);
	close $sock;
	my @statuses = $all =~ m{HTTP/1.1 (\d+) }g;
	is_deeply(\@statuses, [200], 'the complete request is answered, the half one is not');
	cmp_ok(time - $t0, '<', 1.5, 'and the connection closes without waiting for a timeout');
}

# --- slow clients --------------------------------------------------------
{
	# a slowloris: half a request, never finished, never reading
	my $slow = open_client($port);
	syswrite($slow, "GET /metrics HTTP/1.1\r\nHost: a\r\nX-Slow: ");
	my $t0 = time;
	my $r2 = http_get($port, '/metrics');
	is($r2->{status}, 200, 'a second client is served while a slow one is pending');
	ok(time - $t0 < 2, 'and without waiting for the slow one');
	my $answer = read_response($slow, 10);
	like($answer, qr{^HTTP/1.1 408 }, 'the slow client gets 408 after pg_prom.request_timeout');
	close $slow;

	# a connection that never sends anything is closed after
	# pg_prom.request_timeout; one left idle after a request after
	# pg_prom.idle_timeout
	my $silent = open_client($port);
	$t0 = time;
	is(read_response($silent, 10), '', 'a silent client is closed without a response');
	my $waited = time - $t0;
	ok($waited >= 1.5 && $waited < 6, "silent client closed after about 2s ($waited s)");
	close $silent;

	my $idle = open_client($port);
	syswrite($idle, "GET /health HTTP/1.1\r\nHost: a\r\n\r\n");
	$t0 = time;
	my $got = read_response($idle, 10);
	$waited = time - $t0;
	like($got, qr{^HTTP/1.1 200 OK\r\n.*OK\n\z}s, 'the idle client got its answer, then nothing more');
	ok($waited >= 2.5 && $waited < 8, "idle keep-alive client closed after about 3s ($waited s)");
	close $idle;
}

# a client that requests a big response and never reads it
{
	my $reader = open_client($port);
	syswrite($reader, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n" x 20);
	my $r3 = http_get($port, '/health');
	is($r3->{status}, 200, 'a client that does not read does not stall others');
	close $reader;
	sleep 1;				# let the worker see the reset before counting slots
}

# --- the client cap: who waits longest for nothing gives way ----------------------
{
	my @held;
	for (1 .. 4)
	{
		push @held, open_client($port);
		sleep 0.05;
	}
	sleep 0.3;
	my $served = http_raw($port, "GET /health HTTP/1.1\r\nHost: a\r\n\r\n", 5);
	like($served, qr{^HTTP/1.1 200 OK\r\n},
		'a client over max_clients is served: a connection that sent nothing makes room');
	my $sel = IO::Select->new($held[0]);
	my $gone = $sel->can_read(2) && !sysread($held[0], my $buf, 10);
	ok($gone, 'the connection that waited longest was the one closed');
	close $_ for @held;
	sleep 0.5;
	like(metrics_of($port), qr/^pg_prom_http_clients_evicted_total [1-9]/m, 'evictions are counted');
}

my $m = metrics_of($port);
like($m, qr/^pg_prom_http_requests_total\{code="400"\} [1-9]/m, '400s are counted');
like($m, qr/^pg_prom_http_requests_total\{code="200"\} [1-9]/m, '200s are counted');

is($node->safe_psql('postgres', 'SELECT 1'), '1', 'server still answers SQL');
$node->stop;
check_log_clean($node);
done_testing();
