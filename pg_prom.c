/*-------------------------------------------------------------------------
 *
 * pg_prom.c
 *		Module entry of pg_prom: settings, worker registration and the
 *		SQL-callable pg_prom_metrics().
 *
 * pg_prom serves Prometheus metrics from inside PostgreSQL.  Loaded through
 * shared_preload_libraries, it creates its shared counters and registers
 * one background worker that answers HTTP (worker.c).  Loaded any other
 * way (CREATE EXTENSION, LOAD), it only defines its settings and the SQL
 * function, and says in the log that the endpoint is off: the function
 * works either way, because both doors call the same renderer (render.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_authid.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "src/appmetrics.h"
#include "src/auth.h"
#include "src/collectors/collectors.h"
#include "src/custom.h"
#include "src/hooks.h"
#include "src/listen.h"
#include "src/pg_prom.h"
#include "src/render.h"
#include "src/shmem.h"
#include "src/tls.h"

PG_MODULE_MAGIC;

/*---- GUC variables ----*/

char	   *pgprom_listen_addresses = NULL;
int			pgprom_port = 9187;
char	   *pgprom_metrics_path = NULL;
char	   *pgprom_database = NULL;
char	   *pgprom_role = NULL;
int			pgprom_max_clients = 16;
int			pgprom_request_timeout_ms = 10000;
int			pgprom_idle_timeout_ms = 120000;
int			pgprom_scrape_timeout_ms = 8000;
int			pgprom_lock_timeout_ms = 100;
int			pgprom_slow_collector_interval_s = 60;
int			pgprom_max_tables = 10000;
int			pgprom_other_databases_interval_s = 60;
char	   *pgprom_server_label = NULL;
int			pgprom_max_databases = 64;
int			pgprom_stat_statements_limit = 100;
bool		pgprom_track_statements = true;
bool		pgprom_track_errors = true;
bool		pgprom_track_auth = true;
static char *pgprom_collectors_setting = NULL;
static char *pgprom_allowed_clients = NULL;
int			pgprom_auth_method = PGPROM_AUTH_NONE;
char	   *pgprom_auth_token_file = NULL;

bool		pgprom_tls = false;
char	   *pgprom_tls_cert_file = NULL;
char	   *pgprom_tls_key_file = NULL;
char	   *pgprom_tls_ca_file = NULL;
int			pgprom_tls_min_protocol = 12;

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

/*---- Function declarations ----*/

void		_PG_init(void);

PG_FUNCTION_INFO_V1(pg_prom_metrics);

static bool check_metrics_path(char **newval, void **extra, GucSource source);
static bool check_object_name(char **newval, void **extra, GucSource source);
static bool check_server_label(char **newval, void **extra, GucSource source);
static void define_settings(void);

void
_PG_init(void)
{
	define_settings();

	/*
	 * In order to create our shared memory area and the worker, we have to
	 * be loaded via shared_preload_libraries.  If not, the SQL function
	 * still works, so just say that the endpoint is off.
	 */
	if (!process_shared_preload_libraries_in_progress)
	{
		ereport(LOG,
				(errmsg("pg_prom: loaded without shared_preload_libraries; the HTTP endpoint is off"),
				 errhint("Add pg_prom to shared_preload_libraries and restart the server to serve /metrics.")));
		return;
	}

	pgprom_shmem_install_hooks();
	pgprom_install_hooks();
	pgprom_register_worker();
}

static void
define_settings(void)
{
	DefineCustomStringVariable("pg_prom.listen_addresses",
							   "Addresses the metrics endpoint listens on.",
							   "A comma-separated list of host names or IP addresses; '*' means all, an empty string turns the endpoint off.",
							   &pgprom_listen_addresses,
							   "localhost",
							   PGC_SIGHUP, 0,
							   pgprom_check_listen_addresses, NULL, NULL);

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
							   &pgprom_allowed_clients,
							   "",
							   PGC_SIGHUP, GUC_LIST_INPUT,
							   pgprom_check_allowed_clients, pgprom_assign_allowed_clients, NULL);

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
							   "Read at start and at every reload; at least 16 characters.",
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
							"Maximum number of simultaneous HTTP clients.",
							"Further connections are answered 503 and closed.",
							&pgprom_max_clients,
							16, 1, 256,
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
							   &pgprom_collectors_setting,
							   "default",
							   PGC_SUSET, GUC_LIST_INPUT,
							   pgprom_check_collectors, pgprom_assign_collectors, NULL);

	DefineCustomStringVariable("pg_prom.server_label",
							   "Value of a constant server label on every series; empty for none.",
							   "For dashboards written for postgres_exporter 0.19 and older, which attached server=\"host:port\".",
							   &pgprom_server_label,
							   "",
							   PGC_SUSET, 0,
							   check_server_label, NULL, NULL);

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
							"Maximum number of tables per database in the per-table families.",
							"Tables beyond it, in schema and name order, are left out and counted in pg_prom_collector_objects_left_out.",
							&pgprom_max_tables,
							10000, 0, 1000000,
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
	 * Settings of the worker's connection exist only where there is a
	 * worker: PGC_POSTMASTER variables cannot be created after startup.
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

/*
 * pg_prom.metrics_path: an absolute path of safe characters that does not
 * shadow the fixed routes.
 */
static bool
check_metrics_path(char **newval, void **extra, GucSource source)
{
	const char *p = *newval;

	if (p == NULL || p[0] != '/' || strlen(p) > 200)
	{
		GUC_check_errdetail("The metrics path must start with \"/\" and be at most 200 characters long.");
		return false;
	}
	if (strcmp(p, "/") == 0 || strcmp(p, "/health") == 0)
	{
		GUC_check_errdetail("\"%s\" is reserved for pg_prom's own pages.", p);
		GUC_check_errhint("Use for example \"/metrics\".");
		return false;
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

/* pg_prom.database and pg_prom.role: must fit in a PostgreSQL name. */
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

/*
 * pg_prom_metrics() - the exposition text, exactly what /metrics serves.
 *
 * The renderer reads shared memory directly (backend status, pgstat), which
 * bypasses the permission checks of the views, so besides EXECUTE (granted
 * to pg_monitor) the caller must have the privileges of pg_read_all_stats.
 */
Datum
pg_prom_metrics(PG_FUNCTION_ARGS)
{
	StringInfoData buf;

	if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read pg_prom metrics"),
				 errdetail("Only roles with privileges of the \"%s\" role may read them.",
						   "pg_read_all_stats"),
				 errhint("Grant pg_monitor to the role.")));

	initStringInfo(&buf);
	pgprom_render(&buf);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}
