/* loadgen.c: the load generator of the overlap benchmarks.
 *
 * One thread, raw epoll (level-triggered), non-blocking sockets with
 * TCP_NODELAY, optionally pinned to one CPU. It does not use Go's netpoller,
 * so every engine under test meets the same client.
 *
 *   loadgen -addr HOST:PORT -mode pingpong|pipeline|idle [options]
 *
 *   -conns N          connections (default 50)
 *   -size S           message size in bytes (default 64)
 *   -depth P          messages in flight per connection, pipeline mode (default 8)
 *   -warmup SEC       traffic before measuring starts (default 1)
 *   -duration SEC     measured window (default 10, at most 600)
 *   -cpu N            pin to CPU N (default: no pinning)
 *   -pid PID          read this process's utime+stime at the window's edges
 *   -connect-timeout SEC   give up on connections not up by then (default 30)
 *   -connect-batch N  connects in progress at once (default 256)
 *   -hold SEC         idle mode: longest time to hold the connections (default 300)
 *
 * pingpong: each connection sends S bytes, waits for all S echoed bytes, repeats.
 * pipeline: each connection keeps P messages of S bytes in flight; every
 *   completed echo immediately queues the next message.
 * Latency is per message: from the moment it is queued for sending (it is
 * written at once unless the socket is full) to the receipt of its last echoed
 * byte, matched FIFO per connection. Echoed bytes are checked against what was
 * sent. After the run one JSON object is printed on stdout, including the
 * machine-wide CPU time of the window (/proc/stat), from which the harness
 * tells how much other processes ran alongside.
 *
 * idle: opens N connections that send nothing, prints one JSON line once all
 * are established, then holds them until stdin reaches EOF, SIGTERM/SIGINT
 * arrives, or -hold expires. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { CONNECTING, READY, DEAD };
enum { E_CONNECT, E_EOF, E_IO, E_CORRUPT, E_NKINDS };
static const char *ekind[E_NKINDS] = { "connect", "eof", "io", "corrupt" };

/* conn is one client connection. Message i of the byte stream occupies
 * [i*size, (i+1)*size); ts[i % depth] is the time message i was queued. */
struct conn {
	int fd, state, want_out;
	uint64_t queued, done;        /* messages queued for sending / fully echoed */
	uint64_t sent, recvd;         /* bytes written / read */
	uint64_t *ts;
};

static struct {
	const char *addr, *mode;
	int conns, size, depth, cpu, pid, batch;
	double warmup, duration, connect_timeout, hold;
} opt = { "127.0.0.1:0", "pingpong", 50, 64, 8, -1, 0, 256, 1, 10, 30, 300 };

static struct conn *cs;
static int ep;
static unsigned char *pat;           /* pat[k] = f(k % size), long enough for any send or check */
static size_t patlen;
static unsigned char rbuf[64 << 10];
static volatile sig_atomic_t stop;
static int running;                  /* new messages are queued only while set */
static int measuring;                /* completions are counted only while set */
static uint64_t nerr[E_NKINDS];
static char first_err[160];
static int alive;

/* Latency histogram in nanoseconds: exact below 128, then 64 linear
 * sub-buckets per power of two (under 1.6% relative error). */
#define SUB_BITS 6
#define NBUCKETS (64 * 64)
static uint64_t hist[NBUCKETS], hcount, hmax;
static double hsum;
static uint64_t msgs, bytes;

static int bucket_of(uint64_t v) {
	if (v < 128) return (int)v;
	int shift = 63 - __builtin_clzll(v) - SUB_BITS;
	return shift * 64 + (int)(v >> shift);
}

static uint64_t bucket_mid(int i) {
	if (i < 128) return (uint64_t)i;
	int shift = i / 64 - 1;
	uint64_t lo = (uint64_t)(64 + i % 64) << shift;
	return lo + ((1ull << shift) >> 1);
}

static void hist_add(uint64_t v) {
	hist[bucket_of(v)]++;
	hcount++; hsum += (double)v;
	if (v > hmax) hmax = v;
}

/* quantile returns the q-quantile of the recorded latencies in microseconds. */
static double quantile(double q) {
	if (!hcount) return 0;
	uint64_t want = (uint64_t)ceil(q * (double)hcount), seen = 0;
	if (want < 1) want = 1;
	for (int i = 0; i < NBUCKETS; i++)
		if ((seen += hist[i]) >= want) return bucket_mid(i) / 1e3;
	return hmax / 1e3;
}

static uint64_t now_ns(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* proc_cpu_us returns utime+stime of process pid (all its threads) in
 * microseconds, or -1 if it cannot be read. */
static double proc_cpu_us(int pid) {
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f) return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')'); /* the command name may contain spaces */
	unsigned long long ut, st;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) return -1;
	return (double)(ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

/* machine_cpu reads the machine-wide "cpu" line of /proc/stat, in
 * microseconds: time in user+nice+system (processes), irq+softirq, steal, and
 * idle+iowait. */
struct mcpu { double procs, irq, steal, idle; };
static struct mcpu machine_cpu(void) {
	struct mcpu m = { -1, -1, -1, -1 };
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	if (!f) return m;
	int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 8) return m;
	double k = 1e6 / (double)sysconf(_SC_CLK_TCK);
	m.procs = (v[0] + v[1] + v[2]) * k;
	m.irq = (v[5] + v[6]) * k;
	m.steal = v[7] * k;
	m.idle = (v[3] + v[4]) * k;
	return m;
}

static double self_cpu_us(void) {
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static void fail(struct conn *c, int kind, const char *what, int err) {
	nerr[kind]++;
	if (!first_err[0]) snprintf(first_err, sizeof first_err, "%s: %s", what, err ? strerror(err) : ekind[kind]);
	if (c->state == READY) alive--;
	c->state = DEAD;
	close(c->fd);
	c->fd = -1;
}

static void watch(struct conn *c, int op, uint32_t events) {
	struct epoll_event ev = { .events = events, .data.ptr = c };
	epoll_ctl(ep, op, c->fd, &ev);
}

/* flush writes the queued-but-unsent bytes of c, arming EPOLLOUT while the
 * socket is full. */
static void flush(struct conn *c) {
	uint64_t pending = c->queued * (uint64_t)opt.size - c->sent;
	while (pending > 0) {
		size_t off = c->sent % (uint64_t)opt.size, len = patlen - off;
		if (len > pending) len = pending;
		ssize_t w = send(c->fd, pat + off, len, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN) break;
			fail(c, E_IO, "send", errno);
			return;
		}
		c->sent += (uint64_t)w;
		pending -= (uint64_t)w;
	}
	int want = pending > 0;
	if (want != c->want_out) {
		c->want_out = want;
		watch(c, EPOLL_CTL_MOD, want ? EPOLLIN | EPOLLOUT : EPOLLIN);
	}
}

static void enqueue(struct conn *c, uint64_t t) {
	c->ts[c->queued % (uint64_t)opt.depth] = t;
	c->queued++;
}

/* on_readable reads once from c, checks the bytes, completes messages and
 * queues their successors. */
static void on_readable(struct conn *c) {
	ssize_t r = read(c->fd, rbuf, sizeof rbuf);
	if (r < 0) {
		if (errno != EAGAIN) fail(c, E_IO, "read", errno);
		return;
	}
	if (r == 0) { fail(c, E_EOF, "read", 0); return; }
	if (c->recvd + (uint64_t)r > c->sent ||
	    memcmp(rbuf, pat + c->recvd % (uint64_t)opt.size, (size_t)r) != 0) {
		fail(c, E_CORRUPT, "echo mismatch", 0);
		return;
	}
	c->recvd += (uint64_t)r;
	uint64_t t = now_ns();
	if (measuring) bytes += (uint64_t)r;
	while (c->done < c->queued && c->recvd >= (c->done + 1) * (uint64_t)opt.size) {
		if (measuring) { hist_add(t - c->ts[c->done % (uint64_t)opt.depth]); msgs++; }
		c->done++;
		if (running) enqueue(c, t);
	}
	flush(c);
}

static void on_signal(int sig) { (void)sig; stop = 1; }

static void usage(void) {
	fprintf(stderr, "usage: loadgen -addr HOST:PORT -mode pingpong|pipeline|idle [-conns N] [-size S] [-depth P]\n"
	                "       [-warmup SEC] [-duration SEC] [-cpu N] [-pid PID] [-connect-timeout SEC]\n"
	                "       [-connect-batch N] [-hold SEC]\n");
	exit(2);
}

static void parse_flags(int argc, char **argv) {
	for (int i = 1; i < argc; i++) {
		const char *f = argv[i];
		if (i + 1 >= argc) usage();
		const char *v = argv[++i];
		if (!strcmp(f, "-addr")) opt.addr = v;
		else if (!strcmp(f, "-mode")) opt.mode = v;
		else if (!strcmp(f, "-conns")) opt.conns = atoi(v);
		else if (!strcmp(f, "-size")) opt.size = atoi(v);
		else if (!strcmp(f, "-depth")) opt.depth = atoi(v);
		else if (!strcmp(f, "-warmup")) opt.warmup = atof(v);
		else if (!strcmp(f, "-duration")) opt.duration = atof(v);
		else if (!strcmp(f, "-cpu")) opt.cpu = atoi(v);
		else if (!strcmp(f, "-pid")) opt.pid = atoi(v);
		else if (!strcmp(f, "-connect-timeout")) opt.connect_timeout = atof(v);
		else if (!strcmp(f, "-connect-batch")) opt.batch = atoi(v);
		else if (!strcmp(f, "-hold")) opt.hold = atof(v);
		else usage();
	}
	if (!strcmp(opt.mode, "pingpong")) opt.depth = 1;
	else if (strcmp(opt.mode, "pipeline") && strcmp(opt.mode, "idle")) usage();
	if (opt.conns < 1 || opt.size < 1 || opt.depth < 1 || opt.batch < 1) usage();
	if (opt.duration > 600) opt.duration = 600; /* every run stays bounded */
	if (opt.warmup > 60) opt.warmup = 60;
	if (opt.hold > 3600) opt.hold = 3600;
}

static void fatal(const char *msg) {
	printf("{\"mode\":\"%s\",\"fatal\":\"%s\",\"first_error\":\"%s\"}\n", opt.mode, msg, first_err);
	exit(1);
}

/* connect_all opens opt.conns connections, at most opt.batch in progress at
 * once, and returns how many are up. */
static int connect_all(const struct sockaddr_in *sa) {
	int started = 0, pending = 0, one = 1;
	uint64_t deadline = now_ns() + (uint64_t)(opt.connect_timeout * 1e9);
	struct epoll_event evs[512];
	while ((started < opt.conns || pending > 0) && !stop && now_ns() < deadline) {
		while (started < opt.conns && pending < opt.batch) {
			struct conn *c = &cs[started++];
			c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
			if (c->fd < 0) { c->state = CONNECTING; fail(c, E_CONNECT, "socket", errno); continue; }
			setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			c->state = CONNECTING;
			if (connect(c->fd, (const struct sockaddr *)sa, sizeof *sa) < 0 && errno != EINPROGRESS) {
				fail(c, E_CONNECT, "connect", errno);
				continue;
			}
			watch(c, EPOLL_CTL_ADD, EPOLLOUT);
			pending++;
		}
		int n = epoll_wait(ep, evs, 512, 100);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c->state != CONNECTING) continue;
			int err = 0;
			socklen_t l = sizeof err;
			getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
			pending--;
			if (err) { fail(c, E_CONNECT, "connect", err); continue; }
			c->state = READY;
			alive++;
			watch(c, EPOLL_CTL_MOD, EPOLLIN);
		}
	}
	for (int i = 0; i < started; i++) /* whatever is still connecting has timed out */
		if (cs[i].state == CONNECTING) fail(&cs[i], E_CONNECT, "connect", ETIMEDOUT);
	return alive;
}

static void print_errors(void) {
	uint64_t total = 0;
	for (int k = 0; k < E_NKINDS; k++) total += nerr[k];
	printf("\"errors\":%llu,\"errors_by_kind\":{", (unsigned long long)total);
	for (int k = 0; k < E_NKINDS; k++)
		printf("%s\"%s\":%llu", k ? "," : "", ekind[k], (unsigned long long)nerr[k]);
	printf("},\"first_error\":\"%s\"", first_err);
}

/* hold_idle keeps the idle connections open until told to let go. */
static void hold_idle(double connect_ms) {
	printf("{\"mode\":\"idle\",\"conns\":%d,\"established\":%d,\"connect_ms\":%.1f,", opt.conns, alive, connect_ms);
	print_errors();
	printf("}\n");
	fflush(stdout);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL }, evs[64];
	epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev); /* fails for files and /dev/null: then signals or -hold end it */
	uint64_t deadline = now_ns() + (uint64_t)(opt.hold * 1e9);
	while (!stop && now_ns() < deadline) {
		int n = epoll_wait(ep, evs, 64, 200);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (!c) { /* stdin: any read that is not data means let go */
				char b[256];
				if (read(0, b, sizeof b) <= 0) stop = 1;
			} else if (c->state == READY) {
				on_readable(c); /* an idle server never writes: EOF or error */
			}
		}
	}
}

int main(int argc, char **argv) {
	parse_flags(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa_sig = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa_sig, NULL);
	sigaction(SIGINT, &sa_sig, NULL);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }
	if (opt.cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(opt.cpu, &set);
		if (sched_setaffinity(0, sizeof set, &set)) fatal("sched_setaffinity failed");
	}

	char host[64];
	const char *colon = strrchr(opt.addr, ':');
	if (!colon || colon - opt.addr >= (long)sizeof host) fatal("bad -addr");
	memcpy(host, opt.addr, colon - opt.addr);
	host[colon - opt.addr] = 0;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(atoi(colon + 1)) };
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) fatal("bad -addr host");

	patlen = (size_t)opt.size + ((size_t)opt.depth * opt.size > sizeof rbuf ? (size_t)opt.depth * opt.size : sizeof rbuf);
	pat = malloc(patlen);
	cs = calloc((size_t)opt.conns, sizeof *cs);
	uint64_t *ts = calloc((size_t)opt.conns * opt.depth, sizeof *ts);
	ep = epoll_create1(0);
	if (!pat || !cs || !ts || ep < 0) fatal("out of memory or epoll");
	for (size_t k = 0; k < patlen; k++) {
		size_t i = k % (size_t)opt.size;
		pat[k] = (unsigned char)(i * 131 + (i >> 8) + 7);
	}
	for (int i = 0; i < opt.conns; i++) { cs[i].fd = -1; cs[i].ts = ts + (size_t)i * opt.depth; }

	uint64_t t = now_ns();
	connect_all(&sa);
	double connect_ms = (now_ns() - t) / 1e6;
	if (!strcmp(opt.mode, "idle")) { hold_idle(connect_ms); return 0; }
	if (alive < opt.conns) fatal("not every connection was established");

	/* Start traffic on every connection, warm up, then measure. */
	running = 1;
	t = now_ns();
	for (int i = 0; i < opt.conns; i++) {
		for (int m = 0; m < opt.depth; m++) enqueue(&cs[i], t);
		flush(&cs[i]);
	}
	uint64_t warm_end = t + (uint64_t)(opt.warmup * 1e9), t0 = 0, t1;
	uint64_t end = warm_end + (uint64_t)(opt.duration * 1e9);
	double srv0 = -1, srv1 = -1, cli0 = 0;
	struct mcpu m0 = { 0 }, m1;
	struct epoll_event evs[512];
	for (;;) {
		uint64_t now = now_ns();
		if (!measuring && now >= warm_end) {
			memset(hist, 0, sizeof hist);
			hcount = hmax = msgs = bytes = 0;
			hsum = 0;
			measuring = 1;
			if (opt.pid > 0) srv0 = proc_cpu_us(opt.pid);
			cli0 = self_cpu_us();
			m0 = machine_cpu();
			t0 = now_ns();
		}
		if (now >= end || stop || alive == 0) break;
		uint64_t next = measuring ? end : warm_end;
		int n = epoll_wait(ep, evs, 512, (int)((next - now) / 1000000) + 1);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c->state != READY) continue;
			if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c);
			if (c->state == READY && (evs[i].events & EPOLLOUT)) flush(c);
		}
	}
	t1 = now_ns();
	if (opt.pid > 0) srv1 = proc_cpu_us(opt.pid);
	double cli = self_cpu_us() - cli0;
	m1 = machine_cpu();
	running = 0;
	if (!measuring) t0 = t1;
	double secs = (t1 - t0) / 1e9;

	printf("{\"mode\":\"%s\",\"conns\":%d,\"size\":%d,\"depth\":%d,\"warmup_s\":%.3f,\"duration_s\":%.6f,",
	       opt.mode, opt.conns, opt.size, opt.depth, opt.warmup, secs);
	printf("\"messages\":%llu,\"bytes\":%llu,\"msgs_per_sec\":%.1f,",
	       (unsigned long long)msgs, (unsigned long long)bytes, secs > 0 ? msgs / secs : 0);
	printf("\"lat_us\":{\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,\"p999\":%.2f,\"max\":%.2f,\"mean\":%.2f},",
	       quantile(0.50), quantile(0.90), quantile(0.99), quantile(0.999), hmax / 1e3,
	       hcount ? hsum / hcount / 1e3 : 0);
	printf("\"server_cpu_us\":%.0f,\"client_cpu_us\":%.0f,\"conns_alive\":%d,",
	       (srv0 >= 0 && srv1 >= 0) ? srv1 - srv0 : -1, cli, alive);
	printf("\"machine_cpu_us\":{\"procs\":%.0f,\"irq\":%.0f,\"steal\":%.0f,\"idle\":%.0f},",
	       m1.procs - m0.procs, m1.irq - m0.irq, m1.steal - m0.steal, m1.idle - m0.idle);
	print_errors();
	printf(",\"interrupted\":%s}\n", stop ? "true" : "false");
	return 0;
}
