/*-------------------------------------------------------------------------
 *
 * guc.h
 *		Every pg_prom setting (pg_prom.*): the variables, defined and checked
 *		in guc.c, the one module that owns them.
 *
 * A leaf: it includes nothing of pg_prom's but compat.h, and every process
 * that has the library loaded sees these variables.  Modules read them and
 * never assign them.  Settings whose check needs a list that belongs to
 * another layer (the fixed HTTP routes, the collector names) get that list
 * from the entry module through pgprom_define_settings().
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_GUC_H
#define PG_PROM_GUC_H

#include <sys/socket.h>

#define PG_PROM_VERSION "1.1.0"

/* pg_prom.auth_method */
typedef enum PromAuthMethod
{
	PGPROM_AUTH_NONE,
	PGPROM_AUTH_BASIC,
	PGPROM_AUTH_BEARER
} PromAuthMethod;

/* One network of pg_prom.allowed_clients, parsed by its check hook. */
typedef struct PromAllowedNet
{
	int			family;			/* AF_INET or AF_INET6 */
	int			prefix;
	unsigned char addr[16];
} PromAllowedNet;

typedef struct PromAllowedNets
{
	int			n;
	PromAllowedNet nets[FLEXIBLE_ARRAY_MEMBER];
} PromAllowedNets;

/* Most addresses pg_prom.listen_addresses may list. */
#define PGPROM_MAX_LISTEN 16

/*---- the endpoint ----*/
extern char *pgprom_listen_addresses;
extern int	pgprom_port;
extern char *pgprom_metrics_path;
extern int	pgprom_max_clients;
extern int	pgprom_max_clients_per_address;
extern int	pgprom_request_timeout_ms;
extern int	pgprom_idle_timeout_ms;
extern int	pgprom_max_response_mb;
extern int	pgprom_min_scrape_interval_ms;
extern const PromAllowedNets *pgprom_allowed_nets;	/* NULL or n == 0: all */
extern int	pgprom_auth_method;
extern char *pgprom_auth_token_file;
extern bool pgprom_tls;
extern char *pgprom_tls_cert_file;
extern char *pgprom_tls_key_file;
extern char *pgprom_tls_ca_file;
extern int	pgprom_tls_min_protocol;

/*---- collecting ----*/
extern char *pgprom_database;
extern char *pgprom_role;
extern int	pgprom_scrape_timeout_ms;
extern int	pgprom_lock_timeout_ms;
extern int	pgprom_slow_collector_interval_s;
extern uint64 pgprom_collector_mask;	/* pg_prom.collectors, a bit per
										 * collector */
extern int	pgprom_other_databases_interval_s;
extern char *pgprom_server_label;
extern char *pgprom_test_stall_collector;
extern int	pgprom_test_catalog_handoff_delay_ms;
extern int	pgprom_stat_statements_limit;
extern int	pgprom_max_tables;
extern char *pgprom_custom_query_role;
extern int	pgprom_custom_query_timeout_ms;
extern int	pgprom_custom_query_max_rows;

/*---- every backend ----*/
extern bool pgprom_track_statements;
extern bool pgprom_track_errors;
extern bool pgprom_track_auth;
extern int	pgprom_max_databases;
extern int	pgprom_max_app_series;

/*
 * Define every setting; called once from _PG_init.  The fixed routes
 * (NULL-terminated) are what pg_prom.metrics_path may not be; the
 * collectors (names and whether each is in the "default" set) are what
 * pg_prom.collectors may name.
 */
extern void pgprom_define_settings(const char *const *fixed_routes,
								   const char *const *collector_names,
								   const bool *collector_default,
								   int ncollectors);

#endif							/* PG_PROM_GUC_H */
