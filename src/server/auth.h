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

#include "guc.h"
#include "server/http.h"

extern bool pgprom_client_allowed(const struct sockaddr_storage *peer);
extern void pgprom_auth_reload(void);
extern int	pgprom_authenticate(const HttpRequest *req, const char *address);
extern const char *pgprom_auth_challenge(void);

#endif							/* PG_PROM_AUTH_H */
