/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>

#include "util.h"

int cyris_parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
	unsigned long v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		if (v > (ULONG_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

void *cyris_grow(void **v, size_t *n, size_t *cap, size_t size)
{
	char *slot;

	/* ">=": a capacity that lags its count (a caller's bug) still grows
	 * past the count instead of writing beyond the array */
	if (*n >= *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		void *nv;

		while (ncap <= *n)
			ncap *= 2;
		if (ncap > SIZE_MAX / size)
			return NULL;
		nv = realloc(*v, ncap * size);

		if (!nv)
			return NULL;
		*v = nv;
		*cap = ncap;
	}
	slot = (char *)*v + *n * size;
	memset(slot, 0, size);
	(*n)++;
	return slot;
}

char *cyris_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}
