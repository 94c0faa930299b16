/*
 * buffer_codec_fuzz.c
 *	  libFuzzer harness for src/buffer_codec.c.
 *
 * Each input is used twice: as base64 text (what arrives in a Buffer node's
 * "data") and as raw bytes (what the encoder is handed).  Every buffer the
 * codec writes to is malloc'd at exactly the size the header promises, so
 * ASan reports a write or read of even one byte past it.  A broken
 * invariant calls abort(), which libFuzzer records as a crash.
 *
 * Built and run by test/fuzz/run.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buffer_codec.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* malloc that may return NULL only for zero bytes, which we never touch. */
static void *
xmalloc(size_t n)
{
	void	   *p = malloc(n);

	if (p == NULL && n > 0)
		abort();
	return p;
}

/*
 * Encode len bytes, check the text is canonical and decodes back to the same
 * bytes.  If expect is not NULL, the text must also equal it.
 */
static void
check_roundtrip(const uint8_t *bytes, size_t len,
				const char *expect, size_t expect_len)
{
	size_t		text_len = wa_base64_encoded_len(len);
	char	   *text = xmalloc(text_len);
	size_t		back_max = wa_base64_decoded_max(text_len);
	uint8_t    *back;
	size_t		bad_pos = (size_t) -1;
	long		n;

	/* Encoding must never lose room: the decoder's bound covers the input. */
	if (back_max < len || text_len % 4 != 0)
		abort();

	wa_base64_encode(bytes, len, text);
	if (!wa_base64_is_canonical(text, text_len))
		abort();
	if (expect != NULL &&
		(expect_len != text_len || memcmp(expect, text, text_len) != 0))
		abort();

	back = xmalloc(back_max);
	n = wa_base64_decode(text, text_len, back, &bad_pos);
	if (n < 0 || (size_t) n != len || memcmp(back, bytes, len) != 0)
		abort();

	free(back);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *) data;
	size_t		max = wa_base64_decoded_max(size);
	uint8_t    *bytes = xmalloc(max);
	size_t		bad_pos = (size_t) -1;
	bool		canonical;
	long		n;

	/*
	 * libFuzzer hands us a heap copy of exactly size bytes, so reading past
	 * the text is caught without copying it again.
	 */
	canonical = wa_base64_is_canonical(text, size);
	n = wa_base64_decode(text, size, bytes, &bad_pos);

	if (n >= 0)
	{
		/* ASan lets malloc(0) take one byte, so an overrun there ends here. */
		if ((size_t) n > max)
			abort();
		/* Canonical text is the encoder's own output for those bytes. */
		check_roundtrip(bytes, (size_t) n,
						canonical ? text : NULL, size);
	}
	else
	{
		/* Rejected text cannot be canonical, and the blame is inside it. */
		if (n != -1 || canonical || bad_pos > size)
			abort();
	}
	free(bytes);

	/* The same input as arbitrary bytes. */
	check_roundtrip(data, size, NULL, 0);
	return 0;
}
