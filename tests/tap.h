/* SPDX-License-Identifier: MIT */
/*
 * tests/tap.h — a tiny TAP producer for C tests (after c-tap-harness).
 *
 *   plan(3); ok(x == 1, "x is one"); is_int(f(), 2, "f"); return done();
 *
 * Skips print "ok N # SKIP reason"; under CI=true a skip is a failure, so
 * nothing is skipped quietly in CI.
 */
#ifndef CYRIS_TAP_H
#define CYRIS_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count, tap_failed, tap_planned;

static inline bool tap_ci(void)
{
	const char *ci = getenv("CI");

	return ci && strcmp(ci, "true") == 0;
}

static inline void plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
}

static inline void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

static inline bool tap_vok(bool cond, const char *fmt, va_list ap)
{
	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	return cond;
}

static inline bool ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline bool ok(bool cond, const char *fmt, ...)
{
	va_list ap;
	bool r;

	va_start(ap, fmt);
	r = tap_vok(cond, fmt, ap);
	va_end(ap);
	return r;
}

#define is_int(got, want, ...)                                                 \
	do {                                                                   \
		long long g_ = (long long)(got), w_ = (long long)(want);       \
		if (!ok(g_ == w_, __VA_ARGS__))                                \
			diag("  got %lld, want %lld", g_, w_);                 \
	} while (0)

#define is_str(got, want, ...)                                                 \
	do {                                                                   \
		const char *g_ = (got), *w_ = (want);                          \
		if (!ok(g_ && w_ && strcmp(g_, w_) == 0, __VA_ARGS__))         \
			diag("  got '%s', want '%s'", g_ ? g_ : "(null)",      \
			     w_ ? w_ : "(null)");                              \
	} while (0)

static inline void skip(const char *reason)
{
	if (tap_ci()) {
		ok(false, "skipped in CI: %s", reason);
		return;
	}
	printf("ok %d # SKIP %s\n", ++tap_count, reason);
}

static inline int done(void)
{
	if (!tap_planned)
		printf("1..%d\n", tap_count);
	else if (tap_count != tap_planned)
		diag("planned %d tests, ran %d", tap_planned, tap_count);
	return tap_failed || (tap_planned && tap_count != tap_planned) ? 1 : 0;
}

#endif
