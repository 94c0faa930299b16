/*
 * company_id.h
 *	  The company id rule: 1 to 50 characters among A-Z a-z 0-9 _ -.
 *
 * Inline so that the router's library, which links nothing of the store's,
 * applies the same rule.
 */
#ifndef WA_COMPANY_ID_H
#define WA_COMPANY_ID_H

static inline bool
wa_is_company_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '_' || c == '-';
}

static inline bool
wa_company_id_is_valid(const char *company_id, int len)
{
	int			i;
	bool		ok = len >= 1 && len <= 50;

	for (i = 0; ok && i < len; i++)
		ok = wa_is_company_char(company_id[i]);
	return ok;
}

#endif							/* WA_COMPANY_ID_H */
