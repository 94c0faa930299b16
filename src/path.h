/*
 * path.h
 *	  Where a value sits in a JSON document, for error messages.
 */
#ifndef WA_PATH_H
#define WA_PATH_H

/*
 * A step of the path from the document root to the value being walked; the
 * chain lives on the C stack and is only formatted when an error is raised.
 */
typedef struct WaPath
{
	const struct WaPath *parent;
	const char *key;			/* object key, or NULL for an array element */
	int			keylen;
	int			index;			/* array index when key is NULL */
} WaPath;

extern char *wa_path_string(const WaPath *path);

#endif							/* WA_PATH_H */
