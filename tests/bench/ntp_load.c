/*
 * A native NTP load generator for tests/bench/server_bench.ts (compiled there with gcc).
 * Loopback only: every address it binds or sends to must be in 127.0.0.0/8.
 *
 * Closed loop (default): keeps WINDOW requests in flight from SOCKETS sockets on 127.0.0.1
 * until TOTAL replies or lost requests, or SECONDS have passed. A request unanswered for
 * 200 ms is counted lost and replaced.
 *
 * Flood (-r RATE): sends RATE requests/s open loop, round-robin from FLOOD sockets bound to
 * 127.1.x.y, for SECONDS; meanwhile LEGIT sockets bound to 127.2.0.x each send one request
 * every LEGIT_MS milliseconds (a well-behaved client) and their answers are counted apart.
 *
 * Each request carries its slot and a generation in the transmit timestamp, which the server
 * copies into the reply's origin timestamp; latency is CLOCK_MONOTONIC from just before the
 * send to just after the receive. Served-time accuracy: the client reads CLOCK_REALTIME just
 * before each send (T1; the well-behaved clients of flood mode take the kernel's transmit
 * timestamp instead, SO_TIMESTAMPING) and the kernel receive timestamp of each reply (T4,
 * SO_TIMESTAMPNS);
 * client and server share this machine's clock, so the NTP offset ((T2-T1)+(T3-T4))/2 should be
 * 0 and its median is the server's error, and T4-T3 is how long after its stamped transmit time
 * a reply reached the client. Prints one line of key=value pairs.
 *
 * gcc -O2 -o ntp_load ntp_load.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define LOST_NS 200000000LL
#define MAX_SOCKETS 4096
#define FLOOD_BURST 16

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int open_socket(uint32_t addr_host_order) {
  if ((addr_host_order >> 24) != 127) {
    fprintf(stderr, "refusing a non-loopback address\n");
    exit(2);
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (fd < 0) { perror("socket"); exit(2); }
  int size = 1 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
  sa.sin_addr.s_addr = htonl(addr_host_order);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) { perror("bind"); exit(2); }
  return fd;
}

typedef struct {
  int64_t sent_ns;   /* 0: free */
  int64_t sent_rt;   /* CLOCK_REALTIME just before the send (T1) */
  uint32_t gen;
  int sock;
  int legit;
} slot_t;

static slot_t *slots;
static int nslots;
static int64_t *lat;
static long nlat, cap_lat;
static int64_t *lat_legit;
static long nlat_legit, cap_legit;
static long sent, received, lost, kod, legit_sent, legit_received, legit_kod;
static struct sockaddr_in server;
static int64_t *offs, *txlag;
static long noffs, cap_offs, ntxlag, cap_txlag;

static int64_t real_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* An NTP timestamp (32.32 since 1900) at p as Unix ns. */
static int64_t ntp_to_ns(const uint8_t *p) {
  uint32_t s, f;
  memcpy(&s, p, 4);
  memcpy(&f, p + 4, 4);
  s = ntohl(s);
  f = ntohl(f);
  return ((int64_t)s - 2208988800LL) * 1000000000LL + (int64_t)(((uint64_t)f * 1000000000ULL) >> 32);
}

static void make_request(uint8_t *req, int slot, uint32_t gen) {
  memset(req, 0, 48);
  req[0] = (4 << 3) | 3;
  uint32_t s = htonl((uint32_t)slot), g = htonl(gen);
  memcpy(req + 40, &s, 4);
  memcpy(req + 44, &g, 4);
}

/* Kernel software transmit timestamps on a well-behaved client's socket (flood mode). */
static void enable_tx_stamps(int fd) {
  int flags = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_TSONLY;
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) < 0) {
    perror("SO_TIMESTAMPING");
    exit(2);
  }
}

/* The kernel's transmit time of the datagram just sent on fd (Unix ns), 0 if none queued. */
static int64_t read_tx_stamp(int fd) {
  char ctrl[256];
  struct msghdr m;
  memset(&m, 0, sizeof m);
  m.msg_control = ctrl;
  m.msg_controllen = sizeof ctrl;
  int64_t t = 0;
  while (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0) {
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
        struct timespec ts[3];
        memcpy(ts, CMSG_DATA(c), sizeof ts);
        t = (int64_t)ts[0].tv_sec * 1000000000LL + ts[0].tv_nsec;
      }
    }
    m.msg_controllen = sizeof ctrl;
  }
  return t;
}

static void send_slot(int *fds, int slot) {
  uint8_t req[48];
  slot_t *sl = &slots[slot];
  sl->gen++;
  make_request(req, slot, sl->gen);
  sl->sent_ns = mono_ns();
  sl->sent_rt = real_ns();
  if (sendto(fds[sl->sock], req, 48, 0, (struct sockaddr *)&server, sizeof server) != 48) {
    /* counted lost after the timeout */
  }
  if (sl->legit) {
    /* T1 is the kernel's transmit time: the client's own delay before the send biases nothing. */
    int64_t tx = read_tx_stamp(fds[sl->sock]);
    if (tx != 0) sl->sent_rt = tx;
    legit_sent++;
  } else sent++;
}

static void push(int64_t **a, long *n, long *cap, int64_t v) {
  if (*n == *cap) {
    *cap = *cap ? *cap * 2 : 65536;
    *a = realloc(*a, (size_t)*cap * sizeof **a);
    if (!*a) { perror("realloc"); exit(2); }
  }
  (*a)[(*n)++] = v;
}

static int cmp64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static double pct(int64_t *a, long n, double f) {
  if (n == 0) return -1;
  return a[(long)(f * (n - 1))] / 1000.0;
}

/* Reads every waiting reply on fd; returns the slots answered (to resend) in out[]. */
static int drain(int fd, int *out, int max) {
  static uint8_t bufs[BATCH][128];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  static uint8_t ctl[BATCH][128];
  int got = 0;
  for (;;) {
    for (int i = 0; i < BATCH; i++) {
      iov[i].iov_base = bufs[i];
      iov[i].iov_len = sizeof bufs[i];
      memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_control = ctl[i];
      msgs[i].msg_hdr.msg_controllen = sizeof ctl[i];
    }
    int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) return got;
    int64_t now = mono_ns();
    for (int i = 0; i < n; i++) {
      if (msgs[i].msg_len < 48) continue;
      uint8_t *r = bufs[i];
      uint32_t s, g;
      memcpy(&s, r + 24, 4);
      memcpy(&g, r + 28, 4);
      s = ntohl(s);
      g = ntohl(g);
      if ((int)s >= nslots) continue;
      slot_t *sl = &slots[s];
      if (sl->sent_ns == 0 || sl->gen != g) continue;
      int is_kod = r[1] == 0 && memcmp(r + 12, "RATE", 4) == 0;
      int64_t t4 = 0;
      for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
          struct timespec ts;
          memcpy(&ts, CMSG_DATA(c), sizeof ts);
          t4 = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
        }
      }
      if (!is_kod && t4 != 0 && sl->sent_rt != 0) {
        int64_t t2 = ntp_to_ns(r + 32), t3 = ntp_to_ns(r + 40);
        push(&offs, &noffs, &cap_offs, ((t2 - sl->sent_rt) + (t3 - t4)) / 2);
        push(&txlag, &ntxlag, &cap_txlag, t4 - t3);
      }
      if (sl->legit) {
        legit_received++;
        if (is_kod) legit_kod++;
        push(&lat_legit, &nlat_legit, &cap_legit, now - sl->sent_ns);
      } else {
        received++;
        if (is_kod) kod++;
        push(&lat, &nlat, &cap_lat, now - sl->sent_ns);
      }
      sl->sent_ns = 0;
      if (got < max) out[got++] = (int)s;
    }
    if (n < BATCH) return got;
  }
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  int port = 123, window = 64, sockets = 4, flood = 256, legit = 16, legit_ms = 1000;
  long total = 100000, rate = 0;
  double seconds = 30;
  int opt;
  while ((opt = getopt(argc, argv, "a:p:n:w:s:t:r:f:l:L:")) != -1) {
    switch (opt) {
      case 'a': host = optarg; break;
      case 'p': port = atoi(optarg); break;
      case 'n': total = atol(optarg); break;
      case 'w': window = atoi(optarg); break;
      case 's': sockets = atoi(optarg); break;
      case 't': seconds = atof(optarg); break;
      case 'r': rate = atol(optarg); break;
      case 'f': flood = atoi(optarg); break;
      case 'l': legit = atoi(optarg); break;
      case 'L': legit_ms = atoi(optarg); break;
      default:
        fprintf(stderr, "usage: ntp_load -a HOST -p PORT [-n TOTAL -w WINDOW -s SOCKETS] "
                        "[-r RATE -f FLOOD -l LEGIT -L LEGIT_MS] [-t SECONDS]\n");
        return 2;
    }
  }
  server.sin_family = AF_INET;
  server.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &server.sin_addr) != 1 ||
      (ntohl(server.sin_addr.s_addr) >> 24) != 127) {
    fprintf(stderr, "the server must be a 127.0.0.0/8 address\n");
    return 2;
  }
  if (seconds <= 0 || seconds > 600) seconds = 30;
  int64_t start = mono_ns(), deadline = start + (int64_t)(seconds * 1e9);
  int nfds;
  int *fds;
  int resend[BATCH * 4];

  if (rate == 0) {
    /* Closed loop. */
    if (sockets < 1 || sockets > MAX_SOCKETS || window < 1) return 2;
    nfds = sockets;
    fds = calloc((size_t)nfds, sizeof *fds);
    for (int i = 0; i < nfds; i++) fds[i] = open_socket(0x7f000001);
    nslots = window;
    slots = calloc((size_t)nslots, sizeof *slots);
    for (int i = 0; i < nslots; i++) slots[i].sock = i % nfds;
    for (int i = 0; i < nslots && sent < total; i++) send_slot(fds, i);
    struct pollfd *pfd = calloc((size_t)nfds, sizeof *pfd);
    for (int i = 0; i < nfds; i++) { pfd[i].fd = fds[i]; pfd[i].events = POLLIN; }
    int64_t last_scan = start;
    while (received + lost < total) {
      int64_t now = mono_ns();
      if (now > deadline) break;
      poll(pfd, (nfds_t)nfds, 10);
      for (int k = 0; k < nfds; k++) {
        if (!(pfd[k].revents & POLLIN)) continue;
        int n = drain(fds[k], resend, BATCH * 4);
        for (int i = 0; i < n; i++) if (sent < total) send_slot(fds, resend[i]);
      }
      now = mono_ns();
      if (now - last_scan > 10000000) {
        last_scan = now;
        for (int i = 0; i < nslots; i++) {
          if (slots[i].sent_ns != 0 && now - slots[i].sent_ns > LOST_NS) {
            lost++;
            slots[i].sent_ns = 0;
            if (sent < total) send_slot(fds, i);
          }
        }
      }
    }
  } else {
    /* Open-loop flood plus well-behaved clients. */
    if (flood < 1 || flood > MAX_SOCKETS || legit < 0 || legit > 250 || legit_ms < 1) return 2;
    nfds = flood + legit;
    fds = calloc((size_t)nfds, sizeof *fds);
    for (int i = 0; i < flood; i++) fds[i] = open_socket(0x7f010000 + 1 + (uint32_t)i);
    for (int i = 0; i < legit; i++) {
      fds[flood + i] = open_socket(0x7f020000 + 1 + (uint32_t)i);
      enable_tx_stamps(fds[flood + i]);
    }
    /* Flood slots: enough for 200 ms of traffic; legit: one per client. */
    int fslots = (int)(rate / 5) + 1;
    if (fslots > 1 << 20) fslots = 1 << 20;
    nslots = fslots + legit;
    slots = calloc((size_t)nslots, sizeof *slots);
    for (int i = 0; i < fslots; i++) slots[i].sock = i % flood;
    for (int i = 0; i < legit; i++) { slots[fslots + i].sock = flood + i; slots[fslots + i].legit = 1; }
    /* epoll: only the sockets with replies waiting are read. */
    int ep = epoll_create1(0);
    if (ep < 0) { perror("epoll_create1"); return 2; }
    for (int i = 0; i < nfds; i++) {
      struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
      if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) < 0) { perror("epoll_ctl"); return 2; }
    }
    struct epoll_event ready[512];
    int next = 0;
    int64_t *legit_next = calloc((size_t)(legit ? legit : 1), sizeof *legit_next);
    for (int i = 0; i < legit; i++) legit_next[i] = start + (int64_t)i * legit_ms * 1000000LL / (legit ? legit : 1);
    for (;;) {
      int64_t now = mono_ns();
      if (now > deadline) break;
      /* Well-behaved clients first: they are never late behind the flood. */
      for (int i = 0; i < legit; i++) {
        if (now >= legit_next[i]) {
          int s = fslots + i;
          send_slot(fds, s);
          legit_next[i] += (int64_t)legit_ms * 1000000LL;
        }
      }
      long due = (long)((double)(now - start) * rate / 1e9);
      /* Up to FLOOD_BURST requests per sendmmsg, all from the socket of the first slot. */
      for (int rounds = 0; sent < due && rounds < 64; rounds++) {
        uint8_t reqs[FLOOD_BURST][48];
        struct mmsghdr msgs[FLOOD_BURST];
        struct iovec iov[FLOOD_BURST];
        int k = 0, sock = slots[next].sock;
        int64_t t = mono_ns();
        while (k < FLOOD_BURST && sent < due) {
          slot_t *sl = &slots[next];
          sl->gen++;
          sl->sent_ns = t;
          sl->sent_rt = 0; /* flood requests share a send time: not used for accuracy */
          make_request(reqs[k], next, sl->gen);
          iov[k].iov_base = reqs[k];
          iov[k].iov_len = 48;
          memset(&msgs[k].msg_hdr, 0, sizeof msgs[k].msg_hdr);
          msgs[k].msg_hdr.msg_name = &server;
          msgs[k].msg_hdr.msg_namelen = sizeof server;
          msgs[k].msg_hdr.msg_iov = &iov[k];
          msgs[k].msg_hdr.msg_iovlen = 1;
          k++;
          sent++;
          next += flood; /* the next slot of the same socket */
          if (next >= fslots) next = (sock + 1) % flood;
        }
        sendmmsg(fds[sock], msgs, (unsigned)k, 0);
        if (slots[next].sock == sock) next = (sock + 1) % flood;
      }
      int n = epoll_wait(ep, ready, 512, 0);
      for (int k = 0; k < n; k++) drain(fds[ready[k].data.u32], resend, BATCH * 4);
      /* Keep the send schedule: sleep a little only when ahead of it. */
      if (n == 0 && (long)((double)(mono_ns() - start) * rate / 1e9) <= sent) {
        struct timespec ts = { 0, 20000 };
        nanosleep(&ts, NULL);
      }
    }
    /* Collect late replies for 100 ms. */
    int64_t until = mono_ns() + 100000000LL;
    while (mono_ns() < until) {
      int n = epoll_wait(ep, ready, 512, 10);
      for (int k = 0; k < n; k++) drain(fds[ready[k].data.u32], resend, BATCH * 4);
    }
  }
  double secs = (mono_ns() - start) / 1e9;
  qsort(lat, (size_t)nlat, sizeof *lat, cmp64);
  qsort(lat_legit, (size_t)nlat_legit, sizeof *lat_legit, cmp64);
  long unanswered = sent - received;
  qsort(offs, (size_t)noffs, sizeof *offs, cmp64);
  qsort(txlag, (size_t)ntxlag, sizeof *txlag, cmp64);
  printf("offset_p50_us=%.1f offset_p5_us=%.1f offset_p95_us=%.1f txlag_p50_us=%.1f ",
         pct(offs, noffs, 0.5), pct(offs, noffs, 0.05), pct(offs, noffs, 0.95),
         pct(txlag, ntxlag, 0.5));
  printf("sent=%ld received=%ld lost=%ld kod=%ld seconds=%.3f rate=%.0f p50_us=%.1f "
         "p99_us=%.1f legit_sent=%ld legit_received=%ld legit_kod=%ld legit_p50_us=%.1f\n",
         sent, received, rate == 0 ? lost : unanswered, kod, secs, received / secs,
         pct(lat, nlat, 0.5), pct(lat, nlat, 0.99), legit_sent, legit_received, legit_kod,
         pct(lat_legit, nlat_legit, 0.5));
  return 0;
}
