/*-------------------------------------------------------------------------
 *
 * legacy.h
 *		Refuse the SECURITY DEFINER functions of pg_prom 1.0.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_LEGACY_H
#define PG_PROM_LEGACY_H

/* Called from _PG_init in the postmaster. */
extern void pgprom_install_legacy_guard(void);

#endif							/* PG_PROM_LEGACY_H */
