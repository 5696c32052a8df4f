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

/* The key of element @i of @v (its first member). */
static const char *sorted_key(const void *v, size_t size, size_t i)
{
	const char *k;

	memcpy(&k, (const char *)v + i * size, sizeof(k));
	return k;
}

const void *cyris_find_sorted(const void *v, size_t n, size_t size, const char *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(sorted_key(v, size, mid), key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && streq(sorted_key(v, size, lo), key) ? (const char *)v + lo * size : NULL;
}

void cyris_fput_word(FILE *f, const char *w)
{
	if (*w && !w[strcspn(w, " \t\n'\"\\#$`;&|<>()*?[]{}~")]) {
		fputs(w, f);
		return;
	}
	fputc('\'', f);
	for (; *w; w++)
		if (*w == '\'')
			fputs("'\\''", f);
		else
			fputc(*w, f);
	fputc('\'', f);
}
