/* SPDX-License-Identifier: MIT */
/*
 * Shared by the fuzz harnesses in tests/fuzz/. Each harness is one .c with
 * LLVMFuzzerTestOneInput(); `make fuzz` links it with libFuzzer (clang),
 * the normal and SAN builds link it with replay.c, which feeds it files, so
 * `make check` replays every seed and every crash ever found.
 */
#ifndef CYRIS_FUZZ_H
#define CYRIS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A harness states an invariant with this: it aborts (a crash to libFuzzer
 * and to the replay) with the failing condition. */
#define FUZZ_ASSERT(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

/* @data as a C string of its own (it stops at the first NUL, as every C
 * caller's string would). Never NULL: out of memory aborts. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	FUZZ_ASSERT(s);
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A path whose file holds exactly @data (a memfd reached through
 * /proc/self/fd), for the parsers that take a file name. The same file is
 * reused for each input. */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("cyris-fuzz", MFD_CLOEXEC);
		FUZZ_ASSERT(fd >= 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	FUZZ_ASSERT(ftruncate(fd, 0) == 0);
	FUZZ_ASSERT(pwrite(fd, data, size, 0) == (ssize_t)size);
	return path;
}

#endif
