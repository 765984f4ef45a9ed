/*-------------------------------------------------------------------------
 *
 * auth.h
 *		Client allow-list and authentication of the metrics endpoint.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_AUTH_H
#define PG_PROM_AUTH_H

#include <sys/socket.h>

#include "utils/guc.h"

#include "http.h"

typedef enum PromAuthMethod
{
	PGPROM_AUTH_NONE,
	PGPROM_AUTH_BASIC,
	PGPROM_AUTH_BEARER
} PromAuthMethod;

extern int	pgprom_auth_method;
extern char *pgprom_auth_token_file;

extern bool pgprom_check_allowed_clients(char **newval, void **extra,
										 GucSource source);
extern void pgprom_assign_allowed_clients(const char *newval, void *extra);
extern bool pgprom_client_allowed(const struct sockaddr_storage *peer);
extern void pgprom_auth_reload(void);
extern int	pgprom_authenticate(const HttpRequest *req, const char *address);
extern const char *pgprom_auth_challenge(void);

#endif							/* PG_PROM_AUTH_H */
