/*-------------------------------------------------------------------------
 *
 * txn.h
 *		Run a piece of the worker's code in a transaction of its own.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_TXN_H
#define PG_PROM_TXN_H

extern bool pgprom_in_transaction(const char *what, void (*fn) (void *arg),
								  void *arg);

#endif							/* PG_PROM_TXN_H */
