/* SPDX-License-Identifier: MIT */
/*
 * netcheck — real packets for the tests.
 *
 *   netcheck listen tcp:PORT udp:PORT ...   answer every connection/datagram
 *                                           with "PEER-IP <data>"; runs until
 *                                           killed
 *   netcheck connect tcp|udp ADDR PORT [MS] send a line, print the answer
 *                                           (MS: how long to wait, default
 *                                           1000); the exit code says what
 *                                           happened:
 *        0  answered: the line came back
 *        1  timed out: nothing at all came back within MS (no SYN-ACK, no
 *           RST, no ICMP error, no answer) — what a DROP looks like
 *        2  usage error
 *        3  refused: a TCP RST (ECONNREFUSED/ECONNRESET), or an ICMP port
 *           unreachable for UDP — a host answered, nothing listens there
 *        4  unreachable: no route, or an ICMP host/net unreachable or
 *           "administratively prohibited" came back (EHOSTUNREACH,
 *           ENETUNREACH, EHOSTDOWN, ENONET, EACCES/EPERM)
 *        5  any other failure (socket, bind of NETCHECK_SRC, the peer
 *           closed without answering); the reason goes to stderr
 *   (NETCHECK_SRC=IP makes connect and stream send from that address)
 *   netcheck stream ADDR PORT SECONDS [MS]  one TCP connection, a round trip
 *                                           every 10 ms for SECONDS; exit 1
 *                                           if any answer takes over MS
 *                                           (default 500) or the flow breaks;
 *                                           prints "connected" once the first
 *                                           round trip is done (tests wait
 *                                           for that line); a SIGTERM ends it
 *                                           early, as if SECONDS had passed
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXFD 64

/* exit codes of "connect" (see the header) */
enum { NC_ANSWERED = 0, NC_TIMEOUT = 1, NC_USAGE = 2, NC_REFUSED = 3, NC_UNREACH = 4, NC_OTHER = 5 };

/* The exit code for a failed socket call's errno. */
static int nc_code(int err, const char *what)
{
	switch (err) {
	case ECONNREFUSED:
	case ECONNRESET:
		return NC_REFUSED;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENONET:
	case EACCES:
	case EPERM:
		return NC_UNREACH;
	default:
		fprintf(stderr, "netcheck: %s: %s\n", what, strerror(err));
		return NC_OTHER;
	}
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void peer_str(const struct sockaddr_storage *ss, char *buf, size_t n)
{
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, buf, (socklen_t)n);
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, buf, (socklen_t)n);
}

static int bind_any(int type, int port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	int fd = socket(AF_INET6, type | SOCK_CLOEXEC, 0), off = 0, on = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Answer "PEER data" on a connected TCP socket until it closes. */
static void serve_tcp(int c, const struct sockaddr_storage *peer)
{
	char ip[INET6_ADDRSTRLEN], buf[4096], out[4200];
	ssize_t n;

	peer_str(peer, ip, sizeof(ip));
	/* strip the IPv4-mapped prefix */
	const char *p = strncmp(ip, "::ffff:", 7) == 0 ? ip + 7 : ip;

	while ((n = read(c, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		int len = snprintf(out, sizeof(out), "%s %s", p, buf);

		if (write(c, out, (size_t)len) != len)
			break;
	}
	close(c);
}

static int do_listen(int argc, char **argv)
{
	struct pollfd pfd[MAXFD];
	int types[MAXFD], n = 0, i;

	signal(SIGCHLD, SIG_IGN);
	for (i = 0; i < argc && n < MAXFD; i++) {
		int udp = strncmp(argv[i], "udp:", 4) == 0;

		if (!udp && strncmp(argv[i], "tcp:", 4) != 0)
			return 2;
		pfd[n].fd = bind_any(udp ? SOCK_DGRAM : SOCK_STREAM, atoi(argv[i] + 4));
		if (pfd[n].fd < 0) {
			fprintf(stderr, "netcheck: bind %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		pfd[n].events = POLLIN;
		types[n++] = udp ? SOCK_DGRAM : SOCK_STREAM;
	}
	/* ready: tests wait for this line */
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		if (poll(pfd, (nfds_t)n, -1) < 0 && errno != EINTR)
			return 1;
		for (i = 0; i < n; i++) {
			struct sockaddr_storage ss;
			socklen_t sl = sizeof(ss);

			if (!(pfd[i].revents & POLLIN))
				continue;
			if (types[i] == SOCK_STREAM) {
				int c = accept4(pfd[i].fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);

				if (c < 0)
					continue;
				if (fork() == 0) {
					serve_tcp(c, &ss);
					_exit(0);
				}
				close(c);
			} else {
				char buf[2048], ip[INET6_ADDRSTRLEN], out[2200];
				ssize_t k = recvfrom(pfd[i].fd, buf, sizeof(buf) - 1, 0,
						     (struct sockaddr *)&ss, &sl);

				if (k < 0)
					continue;
				buf[k] = '\0';
				peer_str(&ss, ip, sizeof(ip));
				int len = snprintf(out, sizeof(out), "%s %s",
						   strncmp(ip, "::ffff:", 7) == 0 ? ip + 7 : ip, buf);
				sendto(pfd[i].fd, out, (size_t)len, 0, (struct sockaddr *)&ss, sl);
			}
		}
	}
}

/* A connected socket to ADDR PORT, or minus an exit code (see the header). */
static int connect_to(int type, const char *addr, const char *port, int ms)
{
	struct addrinfo hints = { .ai_socktype = type, .ai_flags = AI_NUMERICHOST }, *ai;
	struct pollfd p;
	int fd, err = 0, on = 1, rc;
	socklen_t el = sizeof(err);

	if (getaddrinfo(addr, port, &hints, &ai) != 0) {
		fprintf(stderr, "netcheck: %s %s: not a numeric address and port\n", addr, port);
		return -NC_USAGE;
	}
	fd = socket(ai->ai_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		rc = -nc_code(errno, "socket");
		freeaddrinfo(ai);
		return rc;
	}
	/* UDP: without IP_RECVERR the kernel keeps an ICMP host unreachable
	 * from a connected socket (only "hard" errors get through), and it
	 * would look like a drop */
	if (type == SOCK_DGRAM)
		setsockopt(fd, ai->ai_family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
			   ai->ai_family == AF_INET6 ? IPV6_RECVERR : IP_RECVERR, &on, sizeof(on));
	/* NETCHECK_SRC=IP: send from that address */
	if (getenv("NETCHECK_SRC")) {
		struct addrinfo *src;

		if (getaddrinfo(getenv("NETCHECK_SRC"), NULL, &hints, &src) != 0) {
			fprintf(stderr, "netcheck: NETCHECK_SRC: not a numeric address\n");
			rc = -NC_USAGE;
			goto fail;
		}
		if (bind(fd, src->ai_addr, src->ai_addrlen) < 0) {
			fprintf(stderr, "netcheck: bind %s: %s\n", getenv("NETCHECK_SRC"), strerror(errno));
			freeaddrinfo(src);
			rc = -NC_OTHER;
			goto fail;
		}
		freeaddrinfo(src);
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
		rc = -nc_code(errno, "connect");
		goto fail;
	}
	freeaddrinfo(ai);
	if (type == SOCK_STREAM) {
		p.fd = fd;
		p.events = POLLOUT;
		rc = poll(&p, 1, ms);
		if (rc == 0) {
			close(fd);
			return -NC_TIMEOUT;
		}
		if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			rc = -nc_code(rc < 0 ? errno : err ? err : errno, "connect");
			close(fd);
			return rc;
		}
	}
	return fd;
fail:
	freeaddrinfo(ai);
	close(fd);
	return rc;
}

/* Send @msg and wait up to @ms for an answer into @buf: 0, or an exit code. */
static int round_trip(int fd, const char *msg, char *buf, size_t size, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int rc;

	if (send(fd, msg, strlen(msg), MSG_NOSIGNAL) < 0)
		return nc_code(errno, "send");
	rc = poll(&p, 1, ms);
	if (rc == 0)
		return NC_TIMEOUT;
	if (rc < 0)
		return nc_code(errno, "poll");
	n = recv(fd, buf, size - 1, 0);
	if (n < 0)
		return nc_code(errno, "recv");
	if (n == 0) {
		fprintf(stderr, "netcheck: the peer closed without answering\n");
		return NC_OTHER;
	}
	buf[n] = '\0';
	return NC_ANSWERED;
}

static int do_connect(int argc, char **argv)
{
	int type = strcmp(argv[0], "udp") == 0 ? SOCK_DGRAM : SOCK_STREAM;
	int ms = argc > 3 ? atoi(argv[3]) : 1000, fd, rc;
	char buf[4096];

	if ((type == SOCK_STREAM && strcmp(argv[0], "tcp") != 0) || ms <= 0)
		return NC_USAGE;
	fd = connect_to(type, argv[1], argv[2], ms);
	if (fd < 0)
		return -fd;
	rc = round_trip(fd, "hello", buf, sizeof(buf), ms);
	if (rc == NC_ANSWERED)
		printf("%s\n", buf);
	close(fd);
	return rc;
}

static int do_stream(int argc, char **argv)
{
	long end = now_ms() + atol(argv[2]) * 1000, worst = 0;
	int ms = argc > 3 ? atoi(argv[3]) : 500, fd, trips = 0;
	char buf[4096];
	sigset_t term, pending;

	/* SIGTERM stays pending and is looked at between round trips, so it
	 * never interrupts one */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);

	fd = connect_to(SOCK_STREAM, argv[0], argv[1], ms);
	if (fd < 0) {
		fprintf(stderr, "netcheck: stream: no connection\n");
		return 1;
	}
	while (now_ms() < end) {
		long t = now_ms();

		if (round_trip(fd, "x", buf, sizeof(buf), ms) != NC_ANSWERED) {
			fprintf(stderr, "netcheck: stream: no answer within %d ms after %d round trips\n",
				ms, trips);
			close(fd);
			return 1;
		}
		if (now_ms() - t > worst)
			worst = now_ms() - t;
		if (trips++ == 0) {
			printf("connected\n");
			fflush(stdout);
		}
		if (sigpending(&pending) == 0 && sigismember(&pending, SIGTERM))
			break;
		usleep(10000);
	}
	printf("%d round trips, worst %ld ms\n", trips, worst);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "listen") == 0)
		return do_listen(argc - 2, argv + 2);
	if (argc >= 5 && strcmp(argv[1], "connect") == 0)
		return do_connect(argc - 2, argv + 2);
	if (argc >= 5 && strcmp(argv[1], "stream") == 0)
		return do_stream(argc - 2, argv + 2);
	fprintf(stderr, "usage: netcheck listen tcp:P udp:P ... | connect tcp|udp ADDR PORT [MS] | "
		"stream ADDR PORT SECONDS [MS]\n");
	return 2;
}
