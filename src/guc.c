/*-------------------------------------------------------------------------
 *
 * guc.c
 *		Every pg_prom setting: variables, definitions and check hooks.
 *
 * All settings are defined here, once, from _PG_init, in every process
 * that loads the library.  Check hooks reject bad values with a detail and
 * a hint; the ones that parse (allowed_clients, collectors) hand the
 * parsed form to their assign hook through "extra", allocated the way the
 * server's GUC machinery frees it (malloc up to 15, guc_malloc from 16).
 * Settings of the worker's connection (PGC_POSTMASTER) exist only when
 * the library is preloaded: they cannot be created after startup.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/varlena.h"

#include "compat.h"
#include "guc.h"

/*---- Variables ----*/

char	   *pgprom_listen_addresses = NULL;
int			pgprom_port = 9187;
char	   *pgprom_metrics_path = NULL;
int			pgprom_max_clients = 1000;
int			pgprom_max_clients_per_address = 100;
int			pgprom_request_timeout_ms = 10000;
int			pgprom_idle_timeout_ms = 120000;
int			pgprom_max_response_mb = 256;
int			pgprom_min_scrape_interval_ms = 0;
const PromAllowedNets *pgprom_allowed_nets = NULL;
int			pgprom_auth_method = PGPROM_AUTH_NONE;
char	   *pgprom_auth_token_file = NULL;
bool		pgprom_tls = false;
char	   *pgprom_tls_cert_file = NULL;
char	   *pgprom_tls_key_file = NULL;
char	   *pgprom_tls_ca_file = NULL;
int			pgprom_tls_min_protocol = 12;

char	   *pgprom_database = NULL;
char	   *pgprom_role = NULL;
int			pgprom_scrape_timeout_ms = 8000;
int			pgprom_lock_timeout_ms = 100;
int			pgprom_slow_collector_interval_s = 60;
uint64		pgprom_collector_mask = ~UINT64CONST(0);
int			pgprom_other_databases_interval_s = 60;
char	   *pgprom_server_label = NULL;
char	   *pgprom_test_stall_collector = NULL;
int			pgprom_test_catalog_handoff_delay_ms = 0;
int			pgprom_stat_statements_limit = 100;
int			pgprom_max_tables = 1000;
char	   *pgprom_custom_query_role = NULL;
int			pgprom_custom_query_timeout_ms = 1000;
int			pgprom_custom_query_max_rows = 1000;

bool		pgprom_track_statements = true;
bool		pgprom_track_errors = true;
bool		pgprom_track_auth = true;
int			pgprom_max_databases = 64;
int			pgprom_max_app_series = 1000;

/* Only the settings' own storage: the string forms behind parsed ones. */
static char *allowed_clients_setting = NULL;
static char *collectors_setting = NULL;

/* Lists from other layers, given by pgprom_define_settings(). */
static const char *const *fixed_routes = NULL;
static const char *const *collector_names = NULL;
static const bool *collector_default = NULL;
static int	ncollectors = 0;

static const struct config_enum_entry tls_protocol_options[] = {
	{"TLSv1.2", 12, false},
	{"TLSv1.3", 13, false},
	{NULL, 0, false}
};

static const struct config_enum_entry auth_method_options[] = {
	{"none", PGPROM_AUTH_NONE, false},
	{"basic", PGPROM_AUTH_BASIC, false},
	{"bearer", PGPROM_AUTH_BEARER, false},
	{NULL, 0, false}
};

static bool check_listen_addresses(char **newval, void **extra, GucSource source);
static bool check_allowed_clients(char **newval, void **extra, GucSource source);
static void assign_allowed_clients(const char *newval, void *extra);
static bool check_metrics_path(char **newval, void **extra, GucSource source);
static bool check_collectors(char **newval, void **extra, GucSource source);
static void assign_collectors(const char *newval, void *extra);
static bool check_object_name(char **newval, void **extra, GucSource source);
static bool check_server_label(char **newval, void **extra, GucSource source);

void
pgprom_define_settings(const char *const *routes, const char *const *names,
					   const bool *defaults, int n)
{
	fixed_routes = routes;
	collector_names = names;
	collector_default = defaults;
	ncollectors = n;

	DefineCustomStringVariable("pg_prom.listen_addresses",
							   "Addresses the metrics endpoint listens on.",
							   "A comma-separated list of host names or IP addresses; '*' means all, an empty string turns the endpoint off.",
							   &pgprom_listen_addresses,
							   "localhost",
							   PGC_SIGHUP, 0,
							   check_listen_addresses, NULL, NULL);

	DefineCustomIntVariable("pg_prom.port",
							"TCP port of the metrics endpoint.",
							"9187 is postgres_exporter's port, so Prometheus configurations keep working.",
							&pgprom_port,
							9187, 1, 65535,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("pg_prom.allowed_clients",
							   "Client networks allowed to connect to the endpoint, in CIDR notation.",
							   "Checked before anything else; an empty list allows every client.",
							   &allowed_clients_setting,
							   "",
							   PGC_SIGHUP, GUC_LIST_INPUT,
							   check_allowed_clients, assign_allowed_clients, NULL);

	DefineCustomBoolVariable("pg_prom.tls",
							 "Serve the endpoint over TLS (HTTPS) only.",
							 "A certificate that cannot be loaded keeps the endpoint down; it never falls back to plain HTTP.",
							 &pgprom_tls,
							 false,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("pg_prom.tls_cert_file",
							   "Certificate (chain) file of the endpoint; empty: the server's ssl_cert_file.",
							   NULL,
							   &pgprom_tls_cert_file,
							   "",
							   PGC_SIGHUP, 0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("pg_prom.tls_key_file",
							   "Private key file of the endpoint; empty: the server's ssl_key_file.",
							   NULL,
							   &pgprom_tls_key_file,
							   "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("pg_prom.tls_ca_file",
							   "CA file to verify client certificates against; empty: no client certificate required.",
							   NULL,
							   &pgprom_tls_ca_file,
							   "",
							   PGC_SIGHUP, 0,
							   NULL, NULL, NULL);

	DefineCustomEnumVariable("pg_prom.tls_min_protocol_version",
							 "Oldest TLS version the endpoint accepts.",
							 NULL,
							 &pgprom_tls_min_protocol,
							 12,
							 tls_protocol_options,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);

	DefineCustomEnumVariable("pg_prom.auth_method",
							 "Authentication of the metrics path: none, basic (PostgreSQL roles with pg_monitor) or bearer (a token file).",
							 NULL,
							 &pgprom_auth_method,
							 PGPROM_AUTH_NONE,
							 auth_method_options,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("pg_prom.auth_token_file",
							   "File holding the bearer token of pg_prom.auth_method = bearer.",
							   "Read at start and at every reload; 16 to 256 characters; the file must not be readable by group or others.",
							   &pgprom_auth_token_file,
							   "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("pg_prom.metrics_path",
							   "URL path that serves the metrics.",
							   NULL,
							   &pgprom_metrics_path,
							   "/metrics",
							   PGC_SIGHUP, 0,
							   check_metrics_path, NULL, NULL);

	DefineCustomIntVariable("pg_prom.max_clients",
							"Maximum number of simultaneous HTTP connections.",
							"When full, the connection that has waited longest for a request is closed to make room; when none waits, the newcomer gets 503.",
							&pgprom_max_clients,
							1000, 1, 10000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_prom.max_clients_per_address",
							"Maximum number of simultaneous HTTP connections from one client address.",
							"Over it, that address's connection that has waited longest for a request is closed to make room.",
							&pgprom_max_clients_per_address,
							100, 1, 10000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_prom.request_timeout",
							"Time a client has to send a request or read a response.",
							NULL,
							&pgprom_request_timeout_ms,
							10000, 100, 600000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_prom.idle_timeout",
							"Time an idle keep-alive connection stays open.",
							NULL,
							&pgprom_idle_timeout_ms,
							120000, 100, 3600000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_prom.max_response_size",
							"Largest metrics response the endpoint builds, in megabytes.",
							"A scrape whose text would be larger is answered 500 with the reason; raise it, or leave per-table families out with pg_prom.max_tables or pg_prom.collectors.",
							&pgprom_max_response_mb,
							256, 1, 1000,
							PGC_SIGHUP, GUC_UNIT_MB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_prom.min_scrape_interval",
							"Scrapes arriving within this time of the last collection get its result again.",
							"0 (the default) collects for every scrape that does not arrive while a collection runs; concurrent scrapes always share one.",
							&pgprom_min_scrape_interval_ms,
							0, 0, 3600000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_prom.scrape_timeout",
							"Time budget of one scrape; collectors still running when it is spent are cancelled.",
							"Keep it below Prometheus' scrape_timeout (10s by default).",
							&pgprom_scrape_timeout_ms,
							8000, 10, 600000,
							PGC_SUSET, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_prom.lock_timeout",
							"Longest time a collector waits for a lock before it gives up.",
							"0 leaves lock_timeout as it is.",
							&pgprom_lock_timeout_ms,
							100, 0, 60000,
							PGC_SUSET, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_prom.slow_collector_interval",
							"How often expensive, slowly changing metrics (database sizes) are recomputed.",
							"Between refreshes the previous values are served; 0 recomputes them on every scrape.",
							&pgprom_slow_collector_interval_s,
							60, 0, 86400,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomStringVariable("pg_prom.collectors",
							   "Collectors to run, read left to right.",
							   "\"default\" is the default set, \"all\" every collector, a name adds one, \"-name\" removes one; e.g. 'default, -settings'.",
							   &collectors_setting,
							   "default",
							   PGC_SUSET, GUC_LIST_INPUT,
							   check_collectors, assign_collectors, NULL);

	DefineCustomStringVariable("pg_prom.server_label",
							   "Value of a constant server label on every series; empty for none.",
							   "For dashboards written for postgres_exporter 0.19 and older, which attached server=\"host:port\".",
							   &pgprom_server_label,
							   "",
							   PGC_SUSET, 0,
							   check_server_label, NULL, NULL);

	/*
	 * Fault injection for the tests of what the endpoint does with a
	 * collector that ignores its cancel (render.c): hidden, superuser only.
	 */
	DefineCustomStringVariable("pg_prom.test_stall_collector",
							   "For tests only: the collector named stalls for 10 seconds ignoring interrupts.",
							   "Makes the collector worker behave as one stuck in an uninterruptible wait; empty (the default) for none.",
							   &pgprom_test_stall_collector,
							   "",
							   PGC_SIGHUP,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	/*
	 * Fault injection for the test of a catalog read before a DROP and handed
	 * over after it (tables_worker.c): hidden, superuser only.
	 */
	DefineCustomIntVariable("pg_prom.test_catalog_handoff_delay",
							"For tests only: per-database workers wait this long between reading a catalog and handing it over.",
							"Zero (the default) for no wait.",
							&pgprom_test_catalog_handoff_delay_ms,
							0, 0, 10000,
							PGC_SIGHUP,
							GUC_UNIT_MS | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_SUPERUSER_ONLY,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("pg_prom.track_statements",
							 "Time top-level statements and transactions into latency histograms.",
							 NULL,
							 &pgprom_track_statements,
							 true,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("pg_prom.track_errors",
							 "Count messages of severity WARNING and above by SQLSTATE.",
							 NULL,
							 &pgprom_track_errors,
							 true,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("pg_prom.track_auth",
							 "Count client authentication attempts by result and method.",
							 NULL,
							 &pgprom_track_auth,
							 true,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("pg_prom.stat_statements_limit",
							"Statements of pg_stat_statements with their own series; the rest are summed in one remainder series.",
							NULL,
							&pgprom_stat_statements_limit,
							100, 0, 10000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_prom.max_tables",
							"Tables per database with series of their own in the per-table and per-index families.",
							"Beyond it, the most active and the largest tables keep their own series (and any table near a vacuum alert); the others are summed into relname \"[other]\" and counted in pg_prom_collector_objects_left_out.",
							&pgprom_max_tables,
							1000, 0, 1000000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("pg_prom.custom_query_role",
							   "Role that custom queries (pg_prom_register_query) run as.",
							   "It must exist and not be a superuser; grant it what the queries read.",
							   &pgprom_custom_query_role,
							   "pg_monitor",
							   PGC_SIGHUP, 0,
							   check_object_name, NULL, NULL);

	DefineCustomIntVariable("pg_prom.custom_query_timeout",
							"Longest time one custom query may run in a scrape.",
							"A query still running is cancelled and only its families are left out.",
							&pgprom_custom_query_timeout_ms,
							1000, 1, 600000,
							PGC_SUSET, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_prom.custom_query_max_rows",
							"Most rows of one custom query that become series.",
							"Rows beyond it are left out and counted in pg_prom_collector_objects_left_out.",
							&pgprom_custom_query_max_rows,
							1000, 1, 1000000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_prom.other_databases_interval",
							"How often the per-table statistics of databases other than pg_prom.database are read.",
							"A short-lived background worker visits each database in turn; 0 turns this off.",
							&pgprom_other_databases_interval_s,
							60, 0, 86400,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	/*
	 * Settings of the worker's connection exist only where there is a worker:
	 * PGC_POSTMASTER variables cannot be created after startup.
	 */
	if (process_shared_preload_libraries_in_progress)
	{
		DefineCustomIntVariable("pg_prom.max_databases",
								"Databases with their own statement and transaction counters.",
								"Further databases are counted together under datname \"[other]\".",
								&pgprom_max_databases,
								64, 1, 100000,
								PGC_POSTMASTER, 0,
								NULL, NULL, NULL);

		DefineCustomIntVariable("pg_prom.max_app_series",
								"Series (name plus labels) that application metrics from SQL can hold.",
								"Each takes about 600 bytes of shared memory; 0 turns application metrics off.",
								&pgprom_max_app_series,
								1000, 0, 1000000,
								PGC_POSTMASTER, 0,
								NULL, NULL, NULL);

		DefineCustomStringVariable("pg_prom.database",
								   "Database the pg_prom worker connects to.",
								   "Catalog-level views are read through this database; it cannot be dropped while the worker runs.",
								   &pgprom_database,
								   "postgres",
								   PGC_POSTMASTER, 0,
								   check_object_name, NULL, NULL);

		DefineCustomStringVariable("pg_prom.role",
								   "Role the pg_prom worker connects as.",
								   "Empty means the bootstrap superuser; a LOGIN role that is a member of pg_monitor is enough.",
								   &pgprom_role,
								   "",
								   PGC_POSTMASTER, 0,
								   check_object_name, NULL, NULL);
	}

	MarkGUCPrefixReserved("pg_prom");
}

/*---- Check hooks ----*/

/*
 * pg_prom.listen_addresses: a comma-separated list of host names, numeric
 * addresses or '*'; empty turns the endpoint off.
 */
static bool
check_listen_addresses(char **newval, void **extra, GucSource source)
{
	char	   *raw = pstrdup(*newval);
	List	   *items;
	ListCell   *lc;

	if (!SplitGUCList(raw, ',', &items))
	{
		GUC_check_errdetail("List syntax is invalid.");
		return false;
	}
	if (list_length(items) > PGPROM_MAX_LISTEN)
	{
		GUC_check_errdetail("At most %d addresses can be listed.", PGPROM_MAX_LISTEN);
		return false;
	}
	foreach(lc, items)
	{
		const char *item = lfirst(lc);
		const char *p;

		if (item[0] == '\0' || strlen(item) > 255)
		{
			GUC_check_errdetail("An address is empty or longer than 255 characters.");
			return false;
		}
		for (p = item; *p; p++)
		{
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				  (*p >= '0' && *p <= '9') || strchr(".:-_%*", *p)))
			{
				GUC_check_errdetail("\"%s\" is not a host name, an IP address or \"*\".", item);
				GUC_check_errhint("Use for example 'localhost', '127.0.0.1, ::1' or '*'.");
				return false;
			}
		}
	}
	return true;
}

/* One "address[/prefix]" of pg_prom.allowed_clients. */
static bool
parse_net(const char *item, PromAllowedNet *net)
{
	char		buf[INET6_ADDRSTRLEN + 8];
	char	   *slash;
	int			max;

	if (strlen(item) >= sizeof(buf))
		return false;
	strlcpy(buf, item, sizeof(buf));
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, buf, net->addr) == 1)
	{
		net->family = AF_INET;
		max = 32;
	}
	else if (inet_pton(AF_INET6, buf, net->addr) == 1)
	{
		net->family = AF_INET6;
		max = 128;
	}
	else
		return false;
	net->prefix = max;
	if (slash)
	{
		char	   *end;
		long		p = strtol(slash + 1, &end, 10);

		if (slash[1] == '\0' || *end != '\0' || p < 0 || p > max)
			return false;
		net->prefix = (int) p;
	}
	return true;
}

/* pg_prom.allowed_clients: a list of networks, parsed for the assign hook. */
static bool
check_allowed_clients(char **newval, void **extra, GucSource source)
{
	char	   *raw = pstrdup(*newval);
	List	   *items;
	ListCell   *lc;
	PromAllowedNet *parsed;
	PromAllowedNets *nets;
	int			n = 0;

	if (!SplitGUCList(raw, ',', &items))
	{
		GUC_check_errdetail("List syntax is invalid.");
		return false;
	}
	/* parse into palloc'd memory first: nothing to free on a bad item */
	parsed = palloc(sizeof(PromAllowedNet) * Max(list_length(items), 1));
	foreach(lc, items)
	{
		if (!parse_net(lfirst(lc), &parsed[n]))
		{
			GUC_check_errdetail("\"%s\" is not an IP address or network in CIDR notation.",
								(char *) lfirst(lc));
			GUC_check_errhint("Use for example '127.0.0.1/32, 10.0.0.0/8, ::1'.");
			return false;
		}
		n++;
	}
	nets = pgprom_guc_malloc(offsetof(PromAllowedNets, nets) +
							 sizeof(PromAllowedNet) * Max(n, 1));
	if (nets == NULL)
		return false;
	nets->n = n;
	memcpy(nets->nets, parsed, sizeof(PromAllowedNet) * n);
	*extra = nets;
	return true;
}

static void
assign_allowed_clients(const char *newval, void *extra)
{
	pgprom_allowed_nets = (const PromAllowedNets *) extra;
}

/*
 * pg_prom.metrics_path: an absolute path of safe characters that is none
 * of the endpoint's fixed routes.
 */
static bool
check_metrics_path(char **newval, void **extra, GucSource source)
{
	const char *p = *newval;
	int			i;

	if (p == NULL || p[0] != '/' || strlen(p) > 200)
	{
		GUC_check_errdetail("The metrics path must start with \"/\" and be at most 200 characters long.");
		return false;
	}
	for (i = 0; fixed_routes && fixed_routes[i]; i++)
	{
		if (strcmp(p, fixed_routes[i]) == 0)
		{
			GUC_check_errdetail("\"%s\" is one of pg_prom's own routes.", p);
			GUC_check_errhint("Use for example \"/metrics\".");
			return false;
		}
	}
	for (; *p; p++)
	{
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || strchr("/-_.~", *p)))
		{
			GUC_check_errdetail("The metrics path may contain only letters, digits and \"/-_.~\".");
			return false;
		}
	}
	return true;
}

/*
 * pg_prom.collectors: a comma-separated list read left to right, where
 * "default" adds the default set, "all" every collector, a name adds that
 * collector and "-name" removes it.  The mask goes to the assign hook.
 */
static bool
check_collectors(char **newval, void **extra, GucSource source)
{
	char	   *raw = pstrdup(*newval);
	List	   *items;
	ListCell   *lc;
	uint64		mask = 0;
	uint64	   *result;

	if (!SplitIdentifierString(raw, ',', &items))
	{
		GUC_check_errdetail("List syntax is invalid.");
		return false;
	}
	foreach(lc, items)
	{
		const char *item = lfirst(lc);
		bool		remove = (item[0] == '-');
		const char *name = remove ? item + 1 : item;
		uint64		bits = 0;
		int			i;

		if (strcmp(name, "default") == 0)
		{
			for (i = 0; i < ncollectors; i++)
				if (collector_default[i])
					bits |= UINT64CONST(1) << i;
		}
		else if (strcmp(name, "all") == 0)
			bits = ~UINT64CONST(0);
		else
		{
			for (i = 0; i < ncollectors; i++)
				if (strcmp(collector_names[i], name) == 0)
					bits = UINT64CONST(1) << i;
			if (bits == 0)
			{
				StringInfoData names;

				initStringInfo(&names);
				for (i = 0; i < ncollectors; i++)
					appendStringInfo(&names, "%s%s", i ? ", " : "",
									 collector_names[i]);
				GUC_check_errdetail("Unknown collector \"%s\".", name);
				GUC_check_errhint("Known collectors: %s; \"default\" and \"all\" name sets, \"-name\" removes one.",
								  names.data);
				return false;
			}
		}
		if (remove)
			mask &= ~bits;
		else
			mask |= bits;
	}

	result = pgprom_guc_malloc(sizeof(uint64));
	if (result == NULL)
		return false;
	*result = mask;
	*extra = result;
	return true;
}

static void
assign_collectors(const char *newval, void *extra)
{
	pgprom_collector_mask = *((uint64 *) extra);
}

/* pg_prom.database, pg_prom.role, custom_query_role: a PostgreSQL name. */
static bool
check_object_name(char **newval, void **extra, GucSource source)
{
	if (*newval != NULL && strlen(*newval) >= NAMEDATALEN)
	{
		GUC_check_errdetail("Names are at most %d bytes long.", NAMEDATALEN - 1);
		return false;
	}
	return true;
}

/* pg_prom.server_label: a label value of reasonable length. */
static bool
check_server_label(char **newval, void **extra, GucSource source)
{
	if (*newval != NULL && strlen(*newval) > 200)
	{
		GUC_check_errdetail("The server label is at most 200 bytes long.");
		GUC_check_errhint("postgres_exporter used \"host:port\", for example \"db1.example.com:5432\".");
		return false;
	}
	return true;
}
