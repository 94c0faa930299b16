/*
 * buffer_codec.h
 *	  Base64 codec for Baileys Buffer nodes.
 *
 * Plain C with no server headers, so the fuzz harness can call it without a
 * backend.  Decoding accepts what Node's Buffer.from(s, 'base64') produces
 * and consumes in practice: the standard and URL-safe alphabets, with or
 * without '=' padding.  Encoding always emits padded standard base64, the
 * only form Baileys 7 revives.
 */
#ifndef WA_BUFFER_CODEC_H
#define WA_BUFFER_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Characters needed to encode len bytes (padded, no terminator). */
extern size_t wa_base64_encoded_len(size_t len);

/* Upper bound of the bytes decoded from len characters. */
extern size_t wa_base64_decoded_max(size_t len);

/* Encode len bytes of src into dst, which has wa_base64_encoded_len(len) room. */
extern void wa_base64_encode(const uint8_t *src, size_t len, char *dst);

/*
 * Decode len characters of src into dst (wa_base64_decoded_max(len) room).
 * Returns the number of bytes written, or -1 when the text is not base64; then
 * *bad_pos is the offset of the first offending character (len when the
 * length itself is impossible).
 */
extern long wa_base64_decode(const char *src, size_t len, uint8_t *dst,
							 size_t *bad_pos);

/* True when src is exactly what wa_base64_encode would produce for its bytes. */
extern bool wa_base64_is_canonical(const char *src, size_t len);

#endif							/* WA_BUFFER_CODEC_H */
