/*
 * whatsapp_auth.h
 *	  Module-wide rules and the settings each module defines at load.
 *
 * SPI: an SQL-callable entry point connects once (wa_spi_connect) and
 * finishes before it returns; every library function it calls assumes that
 * connection and never opens its own.
 */
#ifndef WHATSAPP_AUTH_H
#define WHATSAPP_AUTH_H

/* Each module defines its own settings; _PG_init calls these. */
extern void wa_value_size_init(void);
extern void wa_tenant_init(void);
extern void wa_health_init(void);
extern void wa_purge_init(void);
extern void wa_stats_init(void);

#endif							/* WHATSAPP_AUTH_H */
