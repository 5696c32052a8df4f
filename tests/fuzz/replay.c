/* SPDX-License-Identifier: MIT */
/*
 * The replay driver: links with one harness instead of libFuzzer and feeds
 * it every file named on the command line (a directory: every file in it,
 * in name order), each in a buffer of exactly its size so that the
 * sanitizers see any read past the end. A crash aborts the process; the
 * last "replay: FILE" line on stderr names the input.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "fuzz.h"

static int replay_file(const char *path)
{
	struct stat st;
	uint8_t *buf;
	size_t n = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	FUZZ_ASSERT(buf);
	while (n < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + n, (size_t)st.st_size - n);

		if (k <= 0) {
			fprintf(stderr, "replay: %s: %s\n", path, k ? strerror(errno) : "short read");
			free(buf);
			close(fd);
			return -1;
		}
		n += (size_t)k;
	}
	close(fd);
	fprintf(stderr, "replay: %s\n", path);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

static int replay(const char *path, unsigned *count)
{
	struct dirent **names;
	struct stat st;
	int i, n, r = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return replay_file(path);
	}
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		char sub[4096];

		if (names[i]->d_name[0] == '.') {
			/* hidden files are not inputs */
		} else if (snprintf(sub, sizeof(sub), "%s/%s", path, names[i]->d_name) >= (int)sizeof(sub)) {
			fprintf(stderr, "replay: %s/%s: path too long\n", path, names[i]->d_name);
			r = -1;
		} else if (replay(sub, count) < 0) {
			r = -1;
		}
		free(names[i]);
	}
	free(names);
	return r;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int i, r = 0;

	if (argc < 2) {
		fprintf(stderr, "Usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++)
		if (replay(argv[i], &count) < 0)
			r = 1;
	printf("%u inputs replayed\n", count);
	return r;
}
