# Proves TLS on the endpoint: HTTPS with the configured certificate, no
# plain HTTP on a TLS port, certificates read again at reload, a broken
# certificate keeping the endpoint down (never falling back to plain HTTP),
# client-certificate verification and the minimum protocol version.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use PgProm;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

my ($node, $port) = new_prom_node('tls');
my $dir = $node->data_dir;

# a CA, two server certificates and a client certificate
sub openssl { system('openssl', @_) == 0 or die "openssl @_ failed" }
my $q = '-subj';
openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', "$dir/ca.key", '-out', "$dir/ca.crt",
	'-days', '2', $q, '/CN=pg_prom test CA');
for my $name (qw(server1 server2 client))
{
	openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', "$dir/$name.key", '-out', "$dir/$name.csr",
		$q, "/CN=$name");
	open(my $ext, '>', "$dir/$name.ext") or die;
	print $ext "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
	close $ext;
	openssl('x509', '-req', '-in', "$dir/$name.csr", '-CA', "$dir/ca.crt", '-CAkey', "$dir/ca.key",
		'-CAcreateserial', '-out', "$dir/$name.crt", '-days', '2', '-extfile', "$dir/$name.ext");
}
chmod 0600, glob("$dir/*.key");
system("cp $dir/server1.crt $dir/endpoint.crt && cp $dir/server1.key $dir/endpoint.key");

$node->append_conf('postgresql.conf', qq{
pg_prom.tls = on
pg_prom.tls_cert_file = 'endpoint.crt'
pg_prom.tls_key_file = 'endpoint.key'
});
$node->start;

sub curl
{
	my (@args) = @_;
	my ($out, $err);
	IPC::Run::run([ 'curl', '-s', '-m', '10', '-o', '/dev/null', '-w', '%{http_code}', @args ],
		'>', \$out, '2>', \$err);
	return $out;
}
my $url = "https://127.0.0.1:$port";

my $ok = 0;
for (1 .. 100) { if (curl('--cacert', "$dir/ca.crt", "$url/health") eq '200') { $ok = 1; last } sleep 0.2 }
ok($ok, 'HTTPS /health answers with a certificate the CA vouches for');
is(curl('--cacert', "$dir/ca.crt", "$url/metrics"), '200', 'HTTPS /metrics');
is(curl('--cacert', "$dir/ca.crt", "$url/metrics", '-o', '/dev/null', "$url/health"), '200200', 'two requests on one TLS connection');
is(curl("http://127.0.0.1:$port/health"), '000', 'plain HTTP on the TLS port gets no HTTP answer');
is(curl('--cacert', "$dir/ca.crt", "$url/health"), '200', 'and the endpoint still serves TLS clients');

sub subject
{
	my $s = `openssl s_client -connect 127.0.0.1:$port -CAfile $dir/ca.crt </dev/null 2>/dev/null | openssl x509 -noout -subject 2>/dev/null`;
	chomp $s;
	return $s;
}
like(subject(), qr/CN\s*=\s*server1/, 'the first certificate is served');
system("cp $dir/server2.crt $dir/endpoint.crt && cp $dir/server2.key $dir/endpoint.key");
$node->reload;
sleep 1;
like(subject(), qr/CN\s*=\s*server2/, 'a reload serves the renewed certificate');

# a broken certificate keeps the endpoint down, never plain HTTP
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_prom.tls_cert_file = 'missing.crt'");
$node->reload;
ok($node->wait_for_log(qr/could not load the TLS certificate "missing.crt"/), 'a missing certificate is logged');
ok($node->wait_for_log(qr/the metrics endpoint is down because TLS is on but not usable/), 'and the endpoint goes down');
sleep 0.5;
is(curl("http://127.0.0.1:$port/health"), '000', 'no plain HTTP fallback');
is(curl('-k', "$url/health"), '000', 'no HTTPS either');
$node->safe_psql('postgres', "ALTER SYSTEM RESET pg_prom.tls_cert_file");
$node->reload;
$ok = 0;
for (1 .. 100) { if (curl('--cacert', "$dir/ca.crt", "$url/health") eq '200') { $ok = 1; last } sleep 0.2 }
ok($ok, 'a fixed certificate brings the endpoint back at reload');

# a key with a passphrase: refused with the reason, never a prompt that
# hangs the endpoint, which keeps answering reloads
openssl('rsa', '-in', "$dir/server1.key", '-aes256', '-passout', 'pass:secret', '-out', "$dir/locked.key");
chmod 0600, "$dir/locked.key";
system("cp $dir/server1.crt $dir/locked.crt");
$node->safe_psql('postgres',
	"ALTER SYSTEM SET pg_prom.tls_cert_file = 'locked.crt'; ALTER SYSTEM SET pg_prom.tls_key_file = 'locked.key'");
$node->reload;
ok($node->wait_for_log(qr/the TLS key "locked.key" is protected by a passphrase/),
	'a key with a passphrase is refused with the reason');
$node->safe_psql('postgres',
	"ALTER SYSTEM RESET pg_prom.tls_cert_file; ALTER SYSTEM RESET pg_prom.tls_key_file");
$node->reload;
$ok = 0;
for (1 .. 100) { if (curl('--cacert', "$dir/ca.crt", "$url/health") eq '200') { $ok = 1; last } sleep 0.2 }
ok($ok, 'the endpoint did not hang on a prompt: the next reload brings it back');

# client certificates
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_prom.tls_ca_file = 'ca.crt'");
$node->reload;
sleep 1;
is(curl('--cacert', "$dir/ca.crt", "$url/health"), '000', 'without a client certificate: refused');
is(curl('--cacert', "$dir/ca.crt", '--cert', "$dir/client.crt", '--key', "$dir/client.key", "$url/metrics"),
	'200', 'with a client certificate from the CA: served');
$node->safe_psql('postgres', "ALTER SYSTEM RESET pg_prom.tls_ca_file");

# minimum protocol version
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_prom.tls_min_protocol_version = 'TLSv1.3'");
$node->reload;
sleep 1;
is(curl('--cacert', "$dir/ca.crt", '--tls-max', '1.2', "$url/health"), '000', 'TLS 1.2 refused when 1.3 is the minimum');
is(curl('--cacert', "$dir/ca.crt", "$url/health"), '200', 'TLS 1.3 served');

is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server answers SQL');
$node->stop;
check_log_clean($node);
done_testing();
