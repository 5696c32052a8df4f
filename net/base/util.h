/* SPDX-License-Identifier: MIT */
/* Internal helpers shared by the library and the tools (not installed). */
#ifndef CYRIS_UTIL_H
#define CYRIS_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Automatic cleanup, as in systemd: the variable is released when it goes
 * out of scope; TAKE_PTR hands ownership on. */
static inline void cyris_freep(void *p) { free(*(void **)p); }
static inline void cyris_closep(int *fd) { if (*fd >= 0) close(*fd); }
static inline void cyris_fclosep(FILE **f) { if (*f) fclose(*f); }
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(cyris_freep)
#define _cleanup_close_ _cleanup_(cyris_closep)
#define _cleanup_fclose_ _cleanup_(cyris_fclosep)
#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })
#define TAKE_FD(fd) ({ int _fd = (fd); (fd) = -1; _fd; })

#define streq(a, b) (strcmp((a), (b)) == 0)

/* Copy @src into @dst of @size bytes; -ENAMETOOLONG if it does not fit. */
static inline int cyris_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(dst, src, n + 1);
	return (int)n;
}

/* Parse a decimal unsigned integer in [0, max]; -EINVAL / -ERANGE. */
int cyris_parse_uint(const char *s, unsigned long max, unsigned long *ret);

/* @s without leading and trailing white space (in place). */
char *cyris_trim(char *s);

/* Grow *@v (of *@n elements, *@cap capacity) to hold one more element of
 * @size bytes; returns a pointer to the new zeroed slot or NULL. */
void *cyris_grow(void **v, size_t *n, size_t *cap, size_t size);

/* In @v, @n elements of @size bytes each starting with a string key (a
 * `const char *` first member) and sorted by it (strcmp), the first element
 * whose key is @key, or NULL: a lower-bound search, O(log n). */
const void *cyris_find_sorted(const void *v, size_t n, size_t size, const char *key);

/* @w as one word of a batch line (and of a shell's): as it is when nothing
 * in it needs quoting, else in single quotes, a ' as '\'' (cli_split reads
 * both). */
void cyris_fput_word(FILE *f, const char *w);

#endif
