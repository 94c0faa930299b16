/*
 * stats.h
 *	  Call statistics (stats.c): what the current SQL call read and wrote,
 *	  added to its counters when it returns; nothing outside a counted call.
 */
#ifndef WA_STATS_H
#define WA_STATS_H

extern void wa_stats_keys_read(uint64 keys, uint64 bytes_out);
extern void wa_stats_keys_written(uint64 upserted, uint64 deleted);
extern void wa_stats_bytes_in(uint64 bytes);
extern void wa_stats_bytes_out(uint64 bytes);

#endif							/* WA_STATS_H */
