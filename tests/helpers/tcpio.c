/* SPDX-License-Identifier: MIT */
/*
 * tcpio — TCP services and clients that check every byte, for the tunnel
 * tests and benchmark.
 *
 *   tcpio serve ADDR PORT         echo on PORT, sink on PORT+1, source on
 *                                 PORT+2, many connections in one poll loop,
 *                                 until SIGTERM
 *   tcpio echo HOST PORT CONNS BYTES
 *                                 CONNS concurrent connections to the echo
 *                                 service, BYTES each of a per-connection
 *                                 pseudo-random stream; every byte that comes
 *                                 back is compared with what was sent
 *   tcpio upload HOST PORT BYTES  BYTES to the sink, which answers with the
 *                                 count and FNV-1a checksum it received
 *   tcpio download HOST PORT BYTES
 *                                 BYTES from the source, each byte checked
 *   tcpio latency HOST PORT N     N times: connect, one byte there and back,
 *                                 close; prints the median in microseconds
 *   tcpio hold HOST PORT N        N connections, one byte echoed on each,
 *                                 "ready", then (at EOF on stdin) one more
 *                                 byte each and close
 *
 * Exit 0 when every byte was right, 1 otherwise (with the reason).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (64 * 1024)
#define STALL_MS 60000

static uint8_t buf[CHUNK], gen[CHUNK];

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("tcpio: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A reproducible byte stream: xorshift64*, one byte at a time. */
struct stream {
	uint64_t s, word;
	unsigned left;
};

static void stream_init(struct stream *st, uint64_t seed)
{
	st->s = seed * 0x9E3779B97F4A7C15ULL + 1;
	st->left = 0;
}

static void stream_fill(struct stream *st, uint8_t *p, size_t n)
{
	while (n) {
		if (!st->left) {
			st->s ^= st->s >> 12;
			st->s ^= st->s << 25;
			st->s ^= st->s >> 27;
			st->word = st->s * 0x2545F4914F6CDD1DULL;
			st->left = 8;
			if (n >= 8) {           /* whole words: the fast path */
				memcpy(p, &st->word, 8);
				p += 8;
				n -= 8;
				st->left = 0;
				continue;
			}
		}
		*p++ = (uint8_t)st->word;
		st->word >>= 8;
		st->left--;
		n--;
	}
}

/* FNV-1a over 64-bit words of the stream (independent of how reads split
 * it): a checksum the sink reports and the uploader recomputes. */
struct csum {
	uint64_t h;
	uint8_t part[8];
	unsigned np;
};
#define FNV0 0xcbf29ce484222325ULL

static void csum_word(struct csum *c, const uint8_t *w)
{
	uint64_t v;

	memcpy(&v, w, 8);
	c->h = (c->h ^ v) * 0x100000001b3ULL;
}

static void csum_add(struct csum *c, const uint8_t *p, size_t n)
{
	while (n && c->np) {
		c->part[c->np++] = *p++;
		n--;
		if (c->np == 8) {
			csum_word(c, c->part);
			c->np = 0;
		}
	}
	for (; n >= 8; p += 8, n -= 8)
		csum_word(c, p);
	while (n--)
		c->part[c->np++] = *p++;
}

static uint64_t csum_end(struct csum *c)
{
	unsigned i;

	for (i = 0; i < c->np; i++)
		c->h = (c->h ^ c->part[i]) * 0x100000001b3ULL;
	return c->h;
}

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static int dial(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	int fd, g = getaddrinfo(host, port, &hints, &res);

	if (g)
		die("%s: %s", host, gai_strerror(g));
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0)
		die("connect %s:%s: %s", host, port, strerror(errno));
	freeaddrinfo(res);
	return fd;
}

static void write_all(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("write: %s", strerror(errno));
		p = (const char *)p + w;
		n -= (size_t)w;
	}
}

/* ---- the services ---------------------------------------------------------- */

enum kind { ECHO, SINK, SOURCE };

struct peer {
	int fd;
	enum kind kind;
	uint8_t *out;          /* echo: bytes not yet written back */
	size_t out_off, out_len;
	uint64_t count, want;
	struct csum sum;
	struct stream st;
	bool rd_eof, have_req;
	char req[64];
	size_t req_len;
};

static int listen_on(const char *addr, unsigned port)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, fd;

	if (inet_pton(AF_INET, addr, &s4.sin_addr) == 1) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&s4, sizeof(s4)) < 0)
			die("bind %s:%u: %s", addr, port, strerror(errno));
	} else if (inet_pton(AF_INET6, addr, &s6.sin6_addr) == 1) {
		fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&s6, sizeof(s6)) < 0)
			die("bind [%s]:%u: %s", addr, port, strerror(errno));
	} else {
		die("%s: not an address", addr);
	}
	if (listen(fd, 1024) < 0)
		die("listen: %s", strerror(errno));
	return fd;
}

/* One step of a peer; false when it is finished. */
static bool peer_step(struct peer *p, short re)
{
	ssize_t n;

	if (p->kind == ECHO && p->out_len) {
		n = write(p->fd, p->out + p->out_off, p->out_len);
		if (n < 0 && errno != EAGAIN)
			return false;
		if (n > 0) {
			p->out_off += (size_t)n;
			p->out_len -= (size_t)n;
		}
		if (p->out_len)
			return true;
	}
	if (p->kind == SOURCE && p->have_req) {
		size_t k = p->want - p->count < CHUNK ? (size_t)(p->want - p->count) : CHUNK;

		if (!k)
			return false;
		if (!(re & POLLOUT))
			return true;
		struct stream save = p->st;

		stream_fill(&p->st, buf, k);
		n = write(p->fd, buf, k);
		if (n < 0 && errno != EAGAIN)
			return false;
		/* rewind the stream to what was really written */
		p->st = save;
		if (n > 0) {
			stream_fill(&p->st, buf, (size_t)n);
			p->count += (uint64_t)n;
		}
		return true;
	}
	if (!(re & (POLLIN | POLLHUP | POLLERR)))
		return true;
	n = read(p->fd, buf, CHUNK);
	if (n < 0)
		return errno == EAGAIN;
	if (n == 0) {
		if (p->kind == SINK) {
			char line[64];
			int l = snprintf(line, sizeof(line), "%" PRIu64 " %016" PRIx64 "\n",
					 p->count, csum_end(&p->sum));

			fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) & ~O_NONBLOCK);
			(void)!write(p->fd, line, (size_t)l);
		}
		return false;   /* echo: everything was written back already */
	}
	if (p->kind == SINK) {
		p->count += (uint64_t)n;
		csum_add(&p->sum, buf, (size_t)n);
	} else if (p->kind == ECHO) {
		ssize_t w = write(p->fd, buf, (size_t)n);

		if (w < 0 && errno != EAGAIN)
			return false;
		if (w < 0)
			w = 0;
		if (w < n) {
			p->out = realloc(p->out, CHUNK);
			if (!p->out)
				return false;
			memcpy(p->out, buf + w, (size_t)(n - w));
			p->out_off = 0;
			p->out_len = (size_t)(n - w);
		}
	} else {
		unsigned long long want, seed;

		if (p->req_len + (size_t)n >= sizeof(p->req))
			return false;
		memcpy(p->req + p->req_len, buf, (size_t)n);
		p->req_len += (size_t)n;
		p->req[p->req_len] = '\0';
		if (!strchr(p->req, '\n'))
			return true;
		if (sscanf(p->req, "%llu %llu", &want, &seed) != 2)
			return false;
		p->want = want;
		stream_init(&p->st, seed);
		p->have_req = true;
	}
	return true;
}

static int serve(const char *addr, unsigned port)
{
	int lfd[3] = { listen_on(addr, port), listen_on(addr, port + 1), listen_on(addr, port + 2) };
	struct peer **v = NULL;
	struct pollfd *pf = NULL;
	size_t n = 0, i, j;

	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		pf = realloc(pf, (n + 3) * sizeof(*pf));
		if (!pf)
			die("out of memory");
		for (i = 0; i < 3; i++)
			pf[i] = (struct pollfd){ .fd = lfd[i], .events = POLLIN };
		for (i = 0; i < n; i++) {
			short ev = POLLIN;

			if (v[i]->kind == ECHO && v[i]->out_len)
				ev = POLLOUT;
			if (v[i]->kind == SOURCE && v[i]->have_req)
				ev = POLLOUT;
			pf[3 + i] = (struct pollfd){ .fd = v[i]->fd, .events = ev };
		}
		if (poll(pf, n + 3, -1) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			if (pf[3 + i].revents && !peer_step(v[i], pf[3 + i].revents)) {
				close(v[i]->fd);
				free(v[i]->out);
				free(v[i]);
				v[i] = NULL;
			}
		}
		for (i = j = 0; i < n; i++)
			if (v[i])
				v[j++] = v[i];
		n = j;
		for (i = 0; i < 3; i++) {
			int fd;

			if (!(pf[i].revents & POLLIN))
				continue;
			while ((fd = accept4(lfd[i], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
				struct peer *p = calloc(1, sizeof(*p));

				v = realloc(v, (n + 1) * sizeof(*v));
				if (!p || !v)
					die("out of memory");
				p->fd = fd;
				p->kind = (enum kind)i;
				p->sum.h = FNV0;
				v[n++] = p;
			}
		}
	}
}

/* ---- the clients --------------------------------------------------------------- */

struct cl {
	int fd;
	uint64_t sent, got;
	struct stream tx, rx;
	bool shut, eof;
};

static int run_echo(const char *host, const char *port, unsigned conns, uint64_t bytes)
{
	struct cl *c = calloc(conns, sizeof(*c));
	struct pollfd *pf = calloc(conns, sizeof(*pf));
	long long t0 = now_us(), last = t0;
	unsigned i, done = 0;

	if (!c || !pf)
		die("out of memory");
	for (i = 0; i < conns; i++) {
		c[i].fd = dial(host, port);
		nonblock(c[i].fd);
		stream_init(&c[i].tx, 1000 + i);
		stream_init(&c[i].rx, 1000 + i);
	}
	while (done < conns) {
		for (i = 0; i < conns; i++) {
			pf[i].fd = c[i].eof ? -1 : c[i].fd;
			pf[i].events = POLLIN | (c[i].sent < bytes ? POLLOUT : 0);
		}
		if (poll(pf, conns, 1000) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (now_us() - last > STALL_MS * 1000LL)
			die("stalled: %u of %u connections finished", done, conns);
		for (i = 0; i < conns; i++) {
			struct cl *k = &c[i];
			ssize_t n;

			if (pf[i].revents & POLLOUT && k->sent < bytes) {
				size_t want = bytes - k->sent < CHUNK ? (size_t)(bytes - k->sent) : CHUNK;
				struct stream save = k->tx;

				stream_fill(&k->tx, gen, want);
				n = write(k->fd, gen, want);
				if (n < 0 && errno != EAGAIN)
					die("connection %u: write: %s", i, strerror(errno));
				k->tx = save;
				if (n > 0) {
					stream_fill(&k->tx, gen, (size_t)n);
					k->sent += (uint64_t)n;
					last = now_us();
				}
			}
			if (k->sent == bytes && !k->shut) {
				shutdown(k->fd, SHUT_WR);
				k->shut = true;
			}
			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(k->fd, buf, CHUNK);
			if (n < 0 && errno == EAGAIN)
				continue;
			if (n < 0)
				die("connection %u: read after %" PRIu64 " bytes: %s", i, k->got,
				    strerror(errno));
			if (n == 0) {
				if (k->got != bytes)
					die("connection %u: EOF after %" PRIu64 " of %" PRIu64 " bytes",
					    i, k->got, bytes);
				k->eof = true;
				done++;
				close(k->fd);
				continue;
			}
			stream_fill(&k->rx, gen, (size_t)n);
			if (memcmp(gen, buf, (size_t)n) != 0)
				die("connection %u: wrong data at byte %" PRIu64, i, k->got);
			k->got += (uint64_t)n;
			last = now_us();
			if (k->got > bytes)
				die("connection %u: more bytes than sent", i);
		}
	}
	printf("ok conns=%u bytes=%" PRIu64 " ms=%lld\n", conns, bytes, (now_us() - t0) / 1000);
	free(c);
	free(pf);
	return 0;
}

static void report(const char *what, uint64_t bytes, long long us)
{
	printf("ok %s bytes=%" PRIu64 " ms=%lld mib_s=%.1f\n", what, bytes, us / 1000,
	       us > 0 ? (double)bytes / 1048576.0 / ((double)us / 1e6) : 0.0);
}

static int run_upload(const char *host, const char *port, uint64_t bytes)
{
	long long t0 = now_us();
	int fd = dial(host, port);
	uint64_t sent = 0, sum, rcount, rsum;
	struct csum cs = { .h = FNV0 };
	struct stream st;
	char line[128];
	size_t got = 0;
	ssize_t n;

	stream_init(&st, 1);
	while (sent < bytes) {
		size_t k = bytes - sent < CHUNK ? (size_t)(bytes - sent) : CHUNK;

		stream_fill(&st, gen, k);
		csum_add(&cs, gen, k);
		write_all(fd, gen, k);
		sent += k;
	}
	sum = csum_end(&cs);
	shutdown(fd, SHUT_WR);
	while (got < sizeof(line) - 1 && (n = read(fd, line + got, sizeof(line) - 1 - got)) > 0)
		got += (size_t)n;
	line[got] = '\0';
	close(fd);
	if (sscanf(line, "%" SCNu64 " %" SCNx64, &rcount, &rsum) != 2)
		die("upload: the sink answered '%s'", line);
	if (rcount != bytes || rsum != sum)
		die("upload: sent %" PRIu64 " bytes (fnv %016" PRIx64 "), the sink got %" PRIu64
		    " (fnv %016" PRIx64 ")", bytes, sum, rcount, rsum);
	report("upload", bytes, now_us() - t0);
	return 0;
}

static int run_download(const char *host, const char *port, uint64_t bytes)
{
	long long t0 = now_us();
	int fd = dial(host, port);
	uint64_t got = 0;
	struct stream st;
	char req[64];
	ssize_t n;
	int l;

	stream_init(&st, 7);
	l = snprintf(req, sizeof(req), "%" PRIu64 " 7\n", bytes);
	write_all(fd, req, (size_t)l);
	while ((n = read(fd, buf, CHUNK)) > 0) {
		stream_fill(&st, gen, (size_t)n);
		if (got + (uint64_t)n > bytes || memcmp(gen, buf, (size_t)n) != 0)
			die("download: wrong data at byte %" PRIu64, got);
		got += (uint64_t)n;
	}
	if (n < 0)
		die("download: read after %" PRIu64 " bytes: %s", got, strerror(errno));
	close(fd);
	if (got != bytes)
		die("download: %" PRIu64 " of %" PRIu64 " bytes", got, bytes);
	report("download", bytes, now_us() - t0);
	return 0;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static int run_latency(const char *host, const char *port, unsigned n)
{
	long long *v = calloc(n, sizeof(*v));
	unsigned i;

	if (!v || !n)
		die("latency: bad count");
	for (i = 0; i < n; i++) {
		long long t0 = now_us();
		int fd = dial(host, port);
		char b = (char)('a' + i % 26), r = 0;

		write_all(fd, &b, 1);
		if (read(fd, &r, 1) != 1 || r != b)
			die("latency: round %u: no echo", i);
		v[i] = now_us() - t0;
		close(fd);
	}
	qsort(v, n, sizeof(*v), cmp_ll);
	printf("ok latency n=%u median_us=%lld min_us=%lld max_us=%lld\n", n, v[n / 2], v[0],
	       v[n - 1]);
	free(v);
	return 0;
}

static void echo_one(int fd, unsigned i, char b)
{
	char r = 0;

	write_all(fd, &b, 1);
	if (read(fd, &r, 1) != 1 || r != b)
		die("hold: connection %u: no echo", i);
}

static int run_hold(const char *host, const char *port, unsigned n)
{
	int *fd = calloc(n, sizeof(*fd));
	unsigned i;
	char c;

	if (!fd)
		die("out of memory");
	for (i = 0; i < n; i++) {
		fd[i] = dial(host, port);
		echo_one(fd[i], i, 'h');
	}
	printf("ready %u\n", n);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	for (i = 0; i < n; i++) {
		echo_one(fd[i], i, 'g');
		close(fd[i]);
	}
	printf("ok hold %u\n", n);
	free(fd);
	return 0;
}

static unsigned long long num(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (end == s)
		die("'%s' is not a number", s);
	if (*end == 'K' || *end == 'k')
		v <<= 10;
	else if (*end == 'M')
		v <<= 20;
	return v;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "serve"))
		return serve(argv[2], (unsigned)num(argv[3]));
	if (argc == 6 && !strcmp(argv[1], "echo"))
		return run_echo(argv[2], argv[3], (unsigned)num(argv[4]), num(argv[5]));
	if (argc == 5 && !strcmp(argv[1], "upload"))
		return run_upload(argv[2], argv[3], num(argv[4]));
	if (argc == 5 && !strcmp(argv[1], "download"))
		return run_download(argv[2], argv[3], num(argv[4]));
	if (argc == 5 && !strcmp(argv[1], "latency"))
		return run_latency(argv[2], argv[3], (unsigned)num(argv[4]));
	if (argc == 5 && !strcmp(argv[1], "hold"))
		return run_hold(argv[2], argv[3], (unsigned)num(argv[4]));
	fputs("usage: tcpio serve ADDR PORT | echo HOST PORT CONNS BYTES | upload HOST PORT BYTES\n"
	      "       | download HOST PORT BYTES | latency HOST PORT N | hold HOST PORT N\n", stderr);
	return 2;
}
