/*
 * buffer_codec.c
 *	  Base64 codec for Baileys Buffer nodes (no server dependencies).
 */
#include "buffer_codec.h"

static const char encode_table[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Sextet value of a base64 character, either alphabet; -1 if none. */
static inline int
sextet(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

size_t
wa_base64_encoded_len(size_t len)
{
	return (len + 2) / 3 * 4;
}

size_t
wa_base64_decoded_max(size_t len)
{
	return (len + 3) / 4 * 3;
}

void
wa_base64_encode(const uint8_t *src, size_t len, char *dst)
{
	size_t		i = 0;

	for (; i + 3 <= len; i += 3)
	{
		uint32_t	v = ((uint32_t) src[i] << 16) | ((uint32_t) src[i + 1] << 8) | src[i + 2];

		*dst++ = encode_table[(v >> 18) & 0x3F];
		*dst++ = encode_table[(v >> 12) & 0x3F];
		*dst++ = encode_table[(v >> 6) & 0x3F];
		*dst++ = encode_table[v & 0x3F];
	}
	if (len - i == 1)
	{
		uint32_t	v = (uint32_t) src[i] << 16;

		*dst++ = encode_table[(v >> 18) & 0x3F];
		*dst++ = encode_table[(v >> 12) & 0x3F];
		*dst++ = '=';
		*dst++ = '=';
	}
	else if (len - i == 2)
	{
		uint32_t	v = ((uint32_t) src[i] << 16) | ((uint32_t) src[i + 1] << 8);

		*dst++ = encode_table[(v >> 18) & 0x3F];
		*dst++ = encode_table[(v >> 12) & 0x3F];
		*dst++ = encode_table[(v >> 6) & 0x3F];
		*dst++ = '=';
	}
}

long
wa_base64_decode(const char *src, size_t len, uint8_t *dst, size_t *bad_pos)
{
	size_t		data_len = len;
	size_t		i;
	uint32_t	acc = 0;
	int			bits = 0;
	long		out = 0;

	/* Up to two '=' may close the text, and only where padding belongs. */
	while (data_len > 0 && len - data_len < 2 && src[data_len - 1] == '=')
		data_len--;
	if (data_len < len && len % 4 != 0)
	{
		*bad_pos = data_len;
		return -1;
	}

	for (i = 0; i < data_len; i++)
	{
		int			v = sextet((unsigned char) src[i]);

		if (v < 0)
		{
			*bad_pos = i;
			return -1;
		}
		acc = (acc << 6) | (uint32_t) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			dst[out++] = (uint8_t) (acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}

	/* One character alone cannot carry a byte: the text was cut. */
	if (data_len % 4 == 1)
	{
		*bad_pos = len;
		return -1;
	}
	return out;
}

bool
wa_base64_is_canonical(const char *src, size_t len)
{
	size_t		pad = 0;
	size_t		i;

	if (len % 4 != 0)
		return false;
	while (pad < 2 && pad < len && src[len - 1 - pad] == '=')
		pad++;
	for (i = 0; i < len - pad; i++)
	{
		unsigned char c = (unsigned char) src[i];

		if (c == '-' || c == '_' || sextet(c) < 0)
			return false;
	}
	/* The bits past the last byte must be zero, as the encoder leaves them. */
	if (pad == 1 && (sextet((unsigned char) src[len - 2]) & 0x03) != 0)
		return false;
	if (pad == 2 && (sextet((unsigned char) src[len - 3]) & 0x0F) != 0)
		return false;
	return true;
}
