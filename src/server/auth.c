/*-------------------------------------------------------------------------
 *
 * auth.c
 *		Who may read the endpoint: a client-network allow-list checked on
 *		accept, and authentication of the metrics path by a bearer token
 *		read from a file or by HTTP Basic against PostgreSQL's own roles.
 *
 * Basic authentication uses the role's password verifier in pg_authid
 * (SCRAM or MD5, through get_role_password and plain_crypt_verify, so
 * rolvaliduntil is honoured) and requires LOGIN and the privileges of
 * pg_monitor: revoke the membership and access is gone at the next
 * request.  Every refusal costs the same verification work as a wrong
 * password (a role that does not exist is checked against a verifier made
 * up at start), so the time of an answer does not tell which roles exist.
 * A verified (role, password, verifier) triple is remembered, as a digest,
 * so that Prometheus' scrapes do not each pay for a SCRAM computation; a
 * changed password changes the verifier and misses it.  Comparisons of
 * secrets are constant-time.
 *
 * Failures are answered 401 with WWW-Authenticate, counted, and logged at
 * most once a minute per client address.  An address with too many recent
 * failures is locked out for failing credentials only: its requests are
 * no longer verified (429, no SCRAM work to spend), but credentials that
 * were verified before still get in.  So whoever shares Prometheus'
 * address (a NAT, a sidecar, any local user on loopback) cannot lock
 * Prometheus out by failing on purpose.
 *
 * The bearer token file must not be readable by group or others (as the
 * server requires of its own key file) and holds 16 to 256 characters; a
 * file that breaks a rule is refused whole, never truncated.
 *
 * Runs in the endpoint only.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "libpq/crypt.h"
#include "libpq/scram.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "compat.h"
#include "guc.h"
#include "server/auth.h"
#include "shmem.h"
#include "txn.h"

#define FAILURE_WINDOW_SECONDS 60
#define MAX_FAILURES 10			/* per address and window, then 429 */
#define GLOBAL_MAX_FAILURES 100 /* every address together, per window */
#define FAILURE_SLOTS 64
#define MAX_TOKEN 256
/* Verified credentials remembered, and for how long since last used. */
#define GOOD_SLOTS 16
#define GOOD_SECONDS 3600

/* Failed attempts of one client address. */
typedef struct FailureSlot
{
	char		address[INET6_ADDRSTRLEN + 8];	/* or network: failure_key() */
	int			failures;
	TimestampTz window_start;
	bool		logged;
} FailureSlot;

/* Credentials verified before: digest of role, password and verifier. */
typedef struct GoodCredential
{
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	TimestampTz used;			/* 0: free */
} GoodCredential;

static char token[MAX_TOKEN + 1];
static bool token_loaded = false;
static GoodCredential good[GOOD_SLOTS];
static FailureSlot failures[FAILURE_SLOTS];
static char *mock_verifier = NULL;
static int	global_failures = 0;
static TimestampTz global_window_start = 0;

/*---- pg_prom.allowed_clients ----*/

static bool
prefix_matches(const unsigned char *a, const unsigned char *b, int prefix)
{
	int			full = prefix / 8;
	int			rest = prefix % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ b[full]) & (0xFF << (8 - rest))) == 0;
}

/* Whether a connecting client's address is on the allow-list. */
bool
pgprom_client_allowed(const struct sockaddr_storage *peer)
{
	const unsigned char *addr;
	int			family = peer->ss_family;
	int			i;
	const PromAllowedNets *allowed = pgprom_allowed_nets;

	if (allowed == NULL || allowed->n == 0)
		return true;
	if (family == AF_INET)
		addr = (const unsigned char *) &((const struct sockaddr_in *) peer)->sin_addr;
	else if (family == AF_INET6)
		addr = (const unsigned char *) &((const struct sockaddr_in6 *) peer)->sin6_addr;
	else
		return false;
	for (i = 0; i < allowed->n; i++)
		if (allowed->nets[i].family == family &&
			prefix_matches(addr, allowed->nets[i].addr, allowed->nets[i].prefix))
			return true;
	return false;
}

/*---- the token file ----*/

/*
 * (Re)read pg_prom.auth_token_file.  Called by the worker at start and at
 * every reload; with no usable token, bearer authentication refuses every
 * request rather than letting one through.
 */
void
pgprom_auth_reload(void)
{
	FILE	   *f;
	size_t		n;
	struct stat st;

	token_loaded = false;
	explicit_bzero(token, sizeof(token));
	memset(good, 0, sizeof(good));
	memset(failures, 0, sizeof(failures));	/* a new configuration, a new
											 * count */
	global_failures = 0;
	if (pgprom_auth_method != PGPROM_AUTH_BEARER)
		return;
	if (pgprom_auth_token_file == NULL || pgprom_auth_token_file[0] == '\0')
	{
		ereport(WARNING,
				(errmsg("pg_prom: pg_prom.auth_method is \"bearer\" but pg_prom.auth_token_file is empty"),
				 errdetail("Every request for the metrics is refused.")));
		return;
	}
	f = AllocateFile(pgprom_auth_token_file, "r");
	if (f == NULL)
	{
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("pg_prom: could not read the token file \"%s\": %m", pgprom_auth_token_file),
				 errdetail("Every request for the metrics is refused until the file can be read at a reload."),
				 errhint("The file must be readable by the server's operating system user, for example: install -o postgres -m 600 token-file %s",
						 pgprom_auth_token_file)));
		return;
	}
	/* like the server's key file: the owner's alone, or root's and a group's */
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
		(st.st_uid == geteuid() && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) ||
		(st.st_uid == 0 && (st.st_mode & (S_IWGRP | S_IXGRP | S_IRWXO)) != 0) ||
		(st.st_uid != geteuid() && st.st_uid != 0))
	{
		FreeFile(f);
		ereport(WARNING,
				(errmsg("pg_prom: the token file \"%s\" is not a regular file private to its owner",
						pgprom_auth_token_file),
				 errdetail("It must be a file owned by the server's user with mode 0600, or by root with mode 0640 or less; every request for the metrics is refused."),
				 errhint("chmod 600 %s", pgprom_auth_token_file)));
		return;
	}
	n = fread(token, 1, MAX_TOKEN, f);
	/* one more byte than a token may have: too long, not cut short */
	if (n == MAX_TOKEN)
	{
		char		extra[64];
		size_t		more = fread(extra, 1, sizeof(extra), f);
		size_t		i;

		for (i = 0; i < more; i++)
			if (!(extra[i] == '\n' || extra[i] == '\r' || extra[i] == ' ' || extra[i] == '\t'))
				break;
		if (i < more)
		{
			FreeFile(f);
			explicit_bzero(token, sizeof(token));
			ereport(WARNING,
					(errmsg("pg_prom: the token in \"%s\" is longer than %d characters",
							pgprom_auth_token_file, MAX_TOKEN),
					 errdetail("Every request for the metrics is refused."),
					 errhint("Generate one with: openssl rand -hex 32")));
			return;
		}
	}
	FreeFile(f);
	token[n] = '\0';
	while (n > 0 && (token[n - 1] == '\n' || token[n - 1] == '\r' ||
					 token[n - 1] == ' ' || token[n - 1] == '\t'))
		token[--n] = '\0';
	if (n < 16 || strlen(token) != n)
	{
		explicit_bzero(token, sizeof(token));
		ereport(WARNING,
				(errmsg("pg_prom: the token in \"%s\" is shorter than 16 characters or not text",
						pgprom_auth_token_file),
				 errdetail("Every request for the metrics is refused."),
				 errhint("Generate one with: openssl rand -hex 32")));
		return;
	}
	token_loaded = true;
}

/* Constant-time comparison of two strings of possibly different length. */
static bool
secrets_equal(const char *a, const char *b)
{
	size_t		la = strlen(a);
	size_t		lb = strlen(b);
	size_t		i;
	unsigned char diff = (la != lb);

	for (i = 0; i < Max(la, lb); i++)
		diff |= (unsigned char) (i < la ? a[i] : 0) ^ (unsigned char) (i < lb ? b[i] : 0);
	return diff == 0;
}

/*---- failures per client address ----*/

/*
 * The key failures of an address are counted under: the whole loopback
 * network (every local user shares it), an IPv6 /64 (what one host gets),
 * else the address.  So rotating source addresses does not reset a count.
 */
static void
failure_key(const char *address, char *key, size_t size)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, address, a) == 1)
	{
		if (a[0] == 127)
			strlcpy(key, "127.0.0.0/8", size);
		else
			strlcpy(key, address, size);
		return;
	}
	if (inet_pton(AF_INET6, address, a) == 1)
	{
		char text[	INET6_ADDRSTRLEN];

		if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x7f", 13) == 0)
		{
			strlcpy(key, "127.0.0.0/8", size);	/* IPv4-mapped loopback */
			return;
		}
		memset(a + 8, 0, 8);
		if (inet_ntop(AF_INET6, a, text, sizeof(text)) != NULL)
		{
			snprintf(key, size, "%s/64", text);
			return;
		}
	}
	strlcpy(key, address, size);
}

static FailureSlot *
failure_slot(const char *client, bool create)
{
	TimestampTz now = GetCurrentTimestamp();
	FailureSlot *oldest = &failures[0];
	char		address[INET6_ADDRSTRLEN + 8];
	int			i;

	failure_key(client, address, sizeof(address));

	for (i = 0; i < FAILURE_SLOTS; i++)
	{
		FailureSlot *s = &failures[i];

		if (s->address[0] != '\0' && strcmp(s->address, address) == 0)
		{
			if (TimestampDifferenceExceeds(s->window_start, now, FAILURE_WINDOW_SECONDS * 1000))
			{
				s->failures = 0;
				s->window_start = now;
				s->logged = false;
			}
			return s;
		}
		if (s->window_start < oldest->window_start)
			oldest = s;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	strlcpy(oldest->address, address, sizeof(oldest->address));
	oldest->window_start = now;
	return oldest;
}

/*
 * Failures of every address together in the current window: past
 * GLOBAL_MAX_FAILURES nothing unverified is checked any more, so that
 * spreading guesses over many addresses buys no more of them.
 */
static bool
globally_throttled(bool count)
{
	TimestampTz now = GetCurrentTimestamp();

	if (TimestampDifferenceExceeds(global_window_start, now, FAILURE_WINDOW_SECONDS * 1000))
	{
		global_window_start = now;
		global_failures = 0;
	}
	if (count)
		global_failures++;
	return global_failures >= GLOBAL_MAX_FAILURES;
}

static int
refuse(const char *address, const char *user, const char *why)
{
	FailureSlot *s = failure_slot(address, true);

	(void) globally_throttled(true);
	s->failures++;
	if (pgprom_shared)
		pg_atomic_fetch_add_u64(&pgprom_shared->auth_failures, 1);
	if (!s->logged)
	{
		s->logged = true;
		ereport(LOG,
				(errmsg("pg_prom: authentication failed for %s%s%s from %s",
						user ? "role \"" : "a request", user ? user : "", user ? "\"" : "", address),
				 errdetail("%s", why),
				 errhint("Further failures from this address are logged at most once every %d seconds.",
						 FAILURE_WINDOW_SECONDS)));
	}
	return 401;
}

/*---- Basic authentication against PostgreSQL roles ----*/

static void
credentials_digest(const char *user, const char *password, const char *shadow,
				   uint8 *digest)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) user, strlen(user) + 1) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) password, strlen(password) + 1) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) shadow, strlen(shadow) + 1) < 0 ||
		pg_cryptohash_final(ctx, digest, PG_SHA256_DIGEST_LENGTH) < 0)
		memset(digest, 0, PG_SHA256_DIGEST_LENGTH);
	pg_cryptohash_free(ctx);
}

/* Constant-time comparison of two digests (16.0 has no timingsafe_bcmp). */
static bool
digests_equal(const uint8 *a, const uint8 *b)
{
	uint8		diff = 0;
	int			i;

	for (i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

/* Whether the digest is of credentials verified before (and refresh it). */
static bool
good_lookup(const uint8 *digest)
{
	TimestampTz now = GetCurrentTimestamp();
	bool		found = false;
	int			i;

	for (i = 0; i < GOOD_SLOTS; i++)
	{
		if (good[i].used == 0 ||
			TimestampDifferenceExceeds(good[i].used, now, GOOD_SECONDS * 1000))
			continue;
		/* constant time, and every slot looked at */
		if (digests_equal(good[i].digest, digest))
		{
			good[i].used = now;
			found = true;
		}
	}
	return found;
}

static void
good_insert(const uint8 *digest)
{
	int			oldest = 0;
	int			i;

	for (i = 1; i < GOOD_SLOTS; i++)
		if (good[i].used < good[oldest].used)
			oldest = i;
	memcpy(good[oldest].digest, digest, PG_SHA256_DIGEST_LENGTH);
	good[oldest].used = GetCurrentTimestamp();
}

/* What verify_role() concluded. */
typedef enum RoleVerdict
{
	ROLE_ACCEPTED,
	ROLE_REFUSED,
	ROLE_THROTTLED				/* not verified: the address is locked out */
} RoleVerdict;

/*
 * Check user/password against pg_authid; *why says why not.  Needs a
 * transaction (syscache).  A throttled address gets in with credentials
 * verified before only.
 */
static RoleVerdict
verify_role(const char *user, const char *password, bool throttled,
			const char **why)
{
	const char *logdetail = NULL;
	const char *problem = NULL;
	char	   *shadow = NULL;
	HeapTuple	tuple;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];

	tuple = SearchSysCache1(AUTHNAME, PointerGetDatum(user));
	if (!HeapTupleIsValid(tuple))
		problem = "The role does not exist.";
	else
	{
		Form_pg_authid form = (Form_pg_authid) GETSTRUCT(tuple);
		Oid			roleid = form->oid;
		bool		canlogin = form->rolcanlogin;

		ReleaseSysCache(tuple);
		if (!canlogin)
			problem = "The role is not permitted to log in.";
		else if (!has_privs_of_role(roleid, ROLE_PG_MONITOR))
			problem = "The role does not have the privileges of pg_monitor.";
		else
		{
			/* NULL when there is no password or it has expired */
			shadow = get_role_password(user, &logdetail);
			if (shadow == NULL)
				problem = logdetail ? logdetail : "The role has no valid password.";
		}
	}

	/* the verifier is part of the key: a new password misses the cache */
	if (problem == NULL)
	{
		credentials_digest(user, password, shadow, digest);
		if (good_lookup(digest))
			return ROLE_ACCEPTED;
	}
	if (throttled)
	{
		*why = "Too many failed attempts from this address.";
		return ROLE_THROTTLED;
	}

	/* the same work whatever is wrong, so refusals all take as long */
	if (plain_crypt_verify(user, problem ? mock_verifier : shadow, password,
						   &logdetail) != STATUS_OK || problem != NULL)
	{
		*why = problem ? problem : (logdetail ? logdetail : "Password does not match.");
		return ROLE_REFUSED;
	}
	good_insert(digest);
	return ROLE_ACCEPTED;
}

/* Arguments and result of verify_role run in a transaction. */
typedef struct RoleCheck
{
	const char *user;
	const char *password;
	bool		throttled;
	RoleVerdict verdict;
	char		why[256];
} RoleCheck;

static void
check_role(void *arg)
{
	RoleCheck  *check = (RoleCheck *) arg;
	const char *why = NULL;

	if (mock_verifier == NULL)
	{
		/* made once, with a random salt, like a real role's */
		char	   *v = pg_be_scram_build_secret("pg_prom: no such role");

		mock_verifier = MemoryContextStrdup(TopMemoryContext, v);
	}
	check->verdict = verify_role(check->user, check->password,
								 check->throttled, &why);
	if (why)
		strlcpy(check->why, why, sizeof(check->why));
}

/*
 * Authenticate a request for the metrics; returns 0 to serve it, else the
 * status to answer (401 or 429).
 */
int
pgprom_authenticate(const HttpRequest *req, const char *address)
{
	FailureSlot *slot;
	bool		throttled;

	if (pgprom_auth_method == PGPROM_AUTH_NONE)
		return 0;

	slot = failure_slot(address, false);
	throttled = (slot && slot->failures >= MAX_FAILURES) || globally_throttled(false);

	if (pgprom_auth_method == PGPROM_AUTH_BEARER)
	{
		char		presented[MAX_TOKEN + 1];

		/* a right token gets in even from a locked-out address */
		if (req->has_authorization && token_loaded &&
			pgprom_http_parse_bearer(req->authorization, presented, sizeof(presented)) &&
			secrets_equal(presented, token))
			return 0;
		if (throttled)
			return 429;
		if (!req->has_authorization ||
			!pgprom_http_parse_bearer(req->authorization, presented, sizeof(presented)))
			return refuse(address, NULL, "No bearer token was presented.");
		if (!token_loaded)
			return refuse(address, NULL, "No token is configured (see the warning about pg_prom.auth_token_file).");
		return refuse(address, NULL, "The bearer token does not match.");
	}
	else
	{
		char		user[NAMEDATALEN];
		char		password[HTTP_MAX_AUTHORIZATION];
		RoleCheck	check;
		MemoryContext old = CurrentMemoryContext;

		if (!req->has_authorization ||
			!pgprom_http_parse_basic(req->authorization, user, sizeof(user),
									 password, sizeof(password)))
			return throttled ? 429 :
				refuse(address, NULL, "No Basic credentials were presented.");

		memset(&check, 0, sizeof(check));
		check.user = user;
		check.password = password;
		check.throttled = throttled;
		check.verdict = ROLE_REFUSED;
		/* a catalog error never takes the endpoint down: it refuses */
		if (!pgprom_in_transaction("pg_prom: checking a role", check_role, &check))
			strlcpy(check.why, "The role could not be checked (see the error above).",
					sizeof(check.why));
		MemoryContextSwitchTo(old);
		explicit_bzero(password, sizeof(password));
		if (check.verdict == ROLE_ACCEPTED)
			return 0;
		if (check.verdict == ROLE_THROTTLED)
			return 429;
		return refuse(address, user, check.why);
	}
}

/* The WWW-Authenticate header of a 401 for the configured method. */
const char *
pgprom_auth_challenge(void)
{
	return pgprom_auth_method == PGPROM_AUTH_BEARER ?
		"WWW-Authenticate: Bearer realm=\"pg_prom\"\r\n" :
		"WWW-Authenticate: Basic realm=\"pg_prom\", charset=\"UTF-8\"\r\n";
}
