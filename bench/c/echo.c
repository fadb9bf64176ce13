/* echo.c: the "C floor" peer of the overlap benchmarks, a minimal
 * single-threaded epoll (level-triggered) TCP echo server.
 *
 *   echo -addr HOST:PORT      (port 0 picks a free port)
 *
 * Prints "echo listening on HOST:PORT" on stdout once listening and exits on
 * SIGTERM/SIGINT (their default action). Received bytes are written straight
 * back from one shared buffer; only an unsent tail is copied, and while a
 * connection has one it is not read from. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

struct tail { char *buf; size_t off, len; }; /* unsent echo, indexed by fd */

static void die(const char *what) { perror(what); exit(1); }

static void drop(int fd, struct tail *t) { free(t->buf); memset(t, 0, sizeof *t); close(fd); }

int main(int argc, char **argv) {
	const char *addr = "127.0.0.1:0";
	for (int i = 1; i < argc - 1; i++)
		if (!strcmp(argv[i], "-addr")) addr = argv[++i];
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }
	struct tail *tails = calloc(rl.rlim_cur, sizeof *tails);

	char host[64]; const char *colon = strrchr(addr, ':');
	if (!colon || colon - addr >= (long)sizeof host) { fprintf(stderr, "bad -addr %s\n", addr); return 2; }
	memcpy(host, addr, colon - addr); host[colon - addr] = 0;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(atoi(colon + 1)) };
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) { fprintf(stderr, "bad host %s\n", host); return 2; }

	int one = 1, lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (lfd < 0) die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) || listen(lfd, 4096)) die("bind/listen");
	socklen_t sl = sizeof sa;
	getsockname(lfd, (struct sockaddr *)&sa, &sl);
	printf("echo listening on %s:%d\n", host, ntohs(sa.sin_port));
	fflush(stdout);

	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd }, evs[512];
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev)) die("epoll");
	static char buf[64 << 10];
	for (;;) {
		int n = epoll_wait(ep, evs, 512, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd, c;
			if (fd == lfd) {
				while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = c };
					if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev)) close(c);
				}
				continue;
			}
			struct tail *t = &tails[fd];
			if (t->len) { /* writable again: send the tail, then resume reading */
				ssize_t w = send(fd, t->buf + t->off, t->len, MSG_NOSIGNAL);
				if (w < 0 && errno != EAGAIN) { drop(fd, t); continue; }
				if (w > 0) { t->off += w; t->len -= w; }
				if (!t->len) {
					ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = fd };
					epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
				}
				continue;
			}
			ssize_t r = read(fd, buf, sizeof buf);
			if (r < 0 && errno == EAGAIN) continue;
			if (r <= 0) { drop(fd, t); continue; }
			ssize_t w = send(fd, buf, r, MSG_NOSIGNAL);
			if (w < 0 && errno != EAGAIN) { drop(fd, t); continue; }
			if (w < 0) w = 0;
			if (w < r) { /* keep the tail; wait for EPOLLOUT instead of EPOLLIN */
				t->buf = realloc(t->buf, r - w); memcpy(t->buf, buf + w, r - w);
				t->off = 0; t->len = r - w;
				ev = (struct epoll_event){ .events = EPOLLOUT, .data.fd = fd };
				epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
			}
		}
	}
}
