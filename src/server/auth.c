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
 * request.  A verified (role, password, verifier) triple is remembered for
 * CACHE_SECONDS so that Prometheus' scrapes do not each pay for a SCRAM
 * computation; a changed password changes the verifier and misses the
 * cache.  Comparisons of secrets are constant-time.  Failures are answered
 * 401 with WWW-Authenticate, counted, logged at most once a minute per
 * client address, and a client address with too many recent failures gets
 * 429 without any verification.
 *
 * Runs in the worker only.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "common/sha2.h"
#include "common/cryptohash.h"
#include "libpq/crypt.h"
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

#define CACHE_SECONDS 60
#define FAILURE_WINDOW_SECONDS 60
#define MAX_FAILURES 10			/* per address and window, then 429 */
#define FAILURE_SLOTS 64
#define MAX_TOKEN 256

/* Failed attempts of one client address. */
typedef struct FailureSlot
{
	char		address[INET6_ADDRSTRLEN];
	int			failures;
	TimestampTz window_start;
	bool		logged;
} FailureSlot;

static char token[MAX_TOKEN + 1];
static bool token_loaded = false;
static uint8 cached_digest[PG_SHA256_DIGEST_LENGTH];
static bool cache_valid = false;
static TimestampTz cached_at = 0;
static FailureSlot failures[FAILURE_SLOTS];

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

	token_loaded = false;
	cache_valid = false;
	explicit_bzero(token, sizeof(token));
	memset(failures, 0, sizeof(failures));	/* a new configuration, a new count */
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
				 errdetail("Every request for the metrics is refused until the file can be read at a reload.")));
		return;
	}
	n = fread(token, 1, MAX_TOKEN, f);
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

static FailureSlot *
failure_slot(const char *address, bool create)
{
	TimestampTz now = GetCurrentTimestamp();
	FailureSlot *oldest = &failures[0];
	int			i;

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

static int
refuse(const char *address, const char *user, const char *why)
{
	FailureSlot *s = failure_slot(address, true);

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

/*
 * Check user/password against pg_authid; returns NULL when accepted, else
 * why not.  Needs a transaction (syscache).
 */
static const char *
verify_role(const char *user, const char *password)
{
	const char *logdetail = NULL;
	char	   *shadow;
	HeapTuple	tuple;
	Form_pg_authid form;
	Oid			roleid;
	bool		canlogin;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];

	tuple = SearchSysCache1(AUTHNAME, PointerGetDatum(user));
	if (!HeapTupleIsValid(tuple))
		return "The role does not exist.";
	form = (Form_pg_authid) GETSTRUCT(tuple);
	roleid = form->oid;
	canlogin = form->rolcanlogin;
	ReleaseSysCache(tuple);
	if (!canlogin)
		return "The role is not permitted to log in.";
	if (!has_privs_of_role(roleid, ROLE_PG_MONITOR))
		return "The role does not have the privileges of pg_monitor.";

	/* NULL when there is no password or it has expired (rolvaliduntil) */
	shadow = get_role_password(user, &logdetail);
	if (shadow == NULL)
		return logdetail ? logdetail : "The role has no valid password.";

	/* the verifier is part of the key: a new password misses the cache */
	credentials_digest(user, password, shadow, digest);
	if (cache_valid &&
		!TimestampDifferenceExceeds(cached_at, GetCurrentTimestamp(), CACHE_SECONDS * 1000) &&
		timingsafe_bcmp(digest, cached_digest, sizeof(digest)) == 0)
		return NULL;

	if (plain_crypt_verify(user, shadow, password, &logdetail) != STATUS_OK)
		return logdetail ? logdetail : "Password does not match.";

	memcpy(cached_digest, digest, sizeof(digest));
	cached_at = GetCurrentTimestamp();
	cache_valid = true;
	return NULL;
}

/* Arguments and result of verify_role run in a transaction. */
typedef struct RoleCheck
{
	const char *user;
	const char *password;
	char	   *why;			/* 256 bytes; empty when accepted */
} RoleCheck;

static void
check_role(void *arg)
{
	RoleCheck  *check = (RoleCheck *) arg;
	const char *reason = verify_role(check->user, check->password);

	if (reason)
		strlcpy(check->why, reason, 256);
}

/*
 * Authenticate a request for the metrics; returns 0 to serve it, else the
 * status to answer (401 or 429).
 */
int
pgprom_authenticate(const HttpRequest *req, const char *address)
{
	FailureSlot *slot;

	if (pgprom_auth_method == PGPROM_AUTH_NONE)
		return 0;

	slot = failure_slot(address, false);
	if (slot && slot->failures >= MAX_FAILURES)
		return 429;

	if (pgprom_auth_method == PGPROM_AUTH_BEARER)
	{
		char		presented[MAX_TOKEN + 1];

		if (!req->has_authorization ||
			!http_parse_bearer(req->authorization, presented, sizeof(presented)))
			return refuse(address, NULL, "No bearer token was presented.");
		if (!token_loaded)
			return refuse(address, NULL, "No token is configured (see the warning about pg_prom.auth_token_file).");
		if (!secrets_equal(presented, token))
			return refuse(address, NULL, "The bearer token does not match.");
		return 0;
	}
	else
	{
		char		user[NAMEDATALEN];
		char		password[HTTP_MAX_AUTHORIZATION];
		char		why[256];
		RoleCheck	check;
		MemoryContext old = CurrentMemoryContext;

		if (!req->has_authorization ||
			!http_parse_basic(req->authorization, user, sizeof(user),
							  password, sizeof(password)))
			return refuse(address, NULL, "No Basic credentials were presented.");

		check.user = user;
		check.password = password;
		check.why = why;
		why[0] = '\0';
		/* a catalog error never takes the worker down: it refuses */
		if (!pgprom_in_transaction("pg_prom: checking a role", check_role, &check))
			strlcpy(why, "The role could not be checked (see the error above).", sizeof(why));
		MemoryContextSwitchTo(old);
		explicit_bzero(password, sizeof(password));
		if (why[0] != '\0')
			return refuse(address, user, why);
		return 0;
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
