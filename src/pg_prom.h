/*-------------------------------------------------------------------------
 *
 * pg_prom.h
 *		Settings and entry points shared by pg_prom's subsystems.
 *
 * The GUC variables are defined in pg_prom.c; every process that has the
 * library loaded sees them.  Subsystems read them but never assign them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_H
#define PG_PROM_H

#define PG_PROM_VERSION "1.0.0"

/* GUC variables (pg_prom.c) */
extern char *pgprom_listen_addresses;
extern int	pgprom_port;
extern char *pgprom_metrics_path;
extern char *pgprom_database;
extern char *pgprom_role;
extern int	pgprom_max_clients;
extern int	pgprom_request_timeout_ms;
extern int	pgprom_idle_timeout_ms;
extern int	pgprom_scrape_timeout_ms;
extern int	pgprom_lock_timeout_ms;
extern int	pgprom_slow_collector_interval_s;
extern int	pgprom_max_tables;
extern int	pgprom_other_databases_interval_s;
extern char *pgprom_server_label;
extern int	pgprom_max_databases;
extern int	pgprom_stat_statements_limit;
extern bool pgprom_track_statements;
extern bool pgprom_track_errors;
extern bool pgprom_track_auth;

/* worker.c */
extern PGDLLEXPORT void pgprom_worker_main(Datum main_arg);
extern void pgprom_register_worker(void);

#endif							/* PG_PROM_H */
