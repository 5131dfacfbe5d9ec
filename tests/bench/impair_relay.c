/*
 * Native impairing UDP relay for the real-time benchmark (tests/bench/realtime_compare.ts),
 * with the semantics of tests/helpers/impair_relay.ts but timed from the kernel's receive
 * timestamp: every datagram is read with recvmsg and SO_TIMESTAMPNS (CLOCK_REALTIME), due =
 * rx + scripted delay, pending datagrams wait in a min-heap by due time, and the single
 * thread sleeps (ppoll, 1 ns timer slack) until ~300 µs before the earliest due time, then
 * spins on clock_gettime and sends at the due time. The relay's own latency is then the
 * sendto path, the same in both directions.
 *
 * Built by tests/helpers/native_relay.ts:  gcc -O2 -Wall -o impair_relay impair_relay.c -lm
 *
 * Arguments (all optional but the upstream):
 *   --listen HOST            address clients send to (default 127.0.0.1)
 *   --listen-port N          (default 0: the OS picks)
 *   --upstream HOST --upstream-port N
 *   --up BASE_MS,JITTER_MS,LOSS    --down BASE_MS,JITTER_MS,LOSS
 *   --window KIND,START_S,END_S,DIR,MIN_MS,MAX_MS   (KIND outage|congestion, DIR up|down|both;
 *                                                   repeatable)
 *   --seed N --max-queue N --max-clients N --idle-seconds S
 *   --spin-us N              how long before the due time to start spinning (default 300:
 *                            a timer wake-up after an idle spell takes 100-150 µs here)
 *   --priority N             try nice N (default -10; failure ignored)
 *   --watch-stdin 1          exit (with the stats) when stdin reaches end of file
 *   --fifo N                 try SCHED_FIFO priority N (default 0: no; failure ignored)
 *   --anticipate-us N        busy-poll from N µs before to N µs after the next expected
 *                            request (last arrival + last interval; default 1500, 0: off)
 *   --anticipate-frac F      widen that window by F times the interval (default 0.02)
 * Output: the bound port on one line at start; on SIGTERM/SIGINT (or stdin closing) the stats
 * as one JSON line, then exit 0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_WINDOWS 16
#define MAX_LINKS_CAP 1024
#define SPARES 4
#define PKT_MAX 2048

enum { UP = 0, DOWN = 1 };

struct dir_conf {
  double base_ms, jitter_ms, loss;
};

struct window {
  int outage;   /* 1 outage, 0 congestion */
  int dir;      /* -1 both, UP, DOWN */
  double start_s, end_s, min_ms, max_ms;
};

struct link {
  int fd;                 /* -1: free slot */
  uint32_t gen;           /* bumped on close, so queued packets of a closed link are dropped */
  int assigned;           /* 0: a spare */
  struct sockaddr_in client;
  int64_t last_used;      /* ns, CLOCK_MONOTONIC */
};

struct packet {
  int64_t due;            /* ns, CLOCK_REALTIME */
  int64_t rx;
  uint64_t seq;           /* FIFO among equal due times */
  int dir;
  int link;               /* up: link index whose socket sends; down: -1 (listener sends) */
  uint32_t gen;
  struct sockaddr_in to;
  int len;
  unsigned char data[PKT_MAX];
};

struct dir_stats {
  uint64_t received, sent, late;
  double late_sum_us, late_max_us, read_sum_us, read_max_us;
};

static struct dir_conf conf[2];
static struct window windows[MAX_WINDOWS];
static int nwindows;
static uint32_t prng;
static int max_queue = 256, max_clients = 64;
static double idle_s = 20;
static int64_t spin_ns = 300000;

static struct link links[MAX_LINKS_CAP + SPARES];
static int nlink_slots;
static int listener = -1;
static struct sockaddr_in upstream;

static struct packet *slots;    /* 2 * max_queue packets */
static int *free_slots, nfree;
static int *heap, nheap;        /* slot indices, min-heap by (due, seq) */
static int in_flight[2];
static uint64_t seq_counter;

static struct dir_stats dstats[2];
static uint64_t lost, outage_dropped, overflow_dropped, evicted, send_errors;
static int64_t start_rt;
static volatile sig_atomic_t stop_flag;
/* Anticipation: clients poll on a schedule, so the next request is expected one interval
 * after the last; around that time the relay busy-polls instead of sleeping, because waking a
 * halted vCPU after a long idle takes 75-400 µs here (more than the scripted delay). */
static int64_t anticipate_ns = 1500000;
static double anticipate_frac = 0.02; /* plus this share of the interval (chronyd varies it) */
static int64_t last_up_rx, up_interval;
static double anticipate_spin_ms;
static uint64_t anticipated;

static int64_t now_ns(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* mulberry32, as seededRandom in tests/helpers/impair_relay.ts */
static double random01(void) {
  prng += 0x6d2b79f5u;
  uint32_t t = prng;
  t = (t ^ (t >> 15)) * (t | 1u);
  t ^= t + (t ^ (t >> 7)) * (t | 61u);
  return (double)(t ^ (t >> 14)) / 4294967296.0;
}

static void on_signal(int sig) {
  (void)sig;
  stop_flag = 1;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

/* ---- heap ---- */
static int before(int a, int b) {
  const struct packet *pa = &slots[a], *pb = &slots[b];
  return pa->due < pb->due || (pa->due == pb->due && pa->seq < pb->seq);
}

static void heap_push(int s) {
  int i = nheap++;
  heap[i] = s;
  while (i > 0) {
    int p = (i - 1) / 2;
    if (!before(heap[i], heap[p])) break;
    int t = heap[i];
    heap[i] = heap[p];
    heap[p] = t;
    i = p;
  }
}

static int heap_pop(void) {
  int top = heap[0];
  heap[0] = heap[--nheap];
  int i = 0;
  for (;;) {
    int l = 2 * i + 1, r = l + 1, m = i;
    if (l < nheap && before(heap[l], heap[m])) m = l;
    if (r < nheap && before(heap[r], heap[m])) m = r;
    if (m == i) break;
    int t = heap[i];
    heap[i] = heap[m];
    heap[m] = t;
    i = m;
  }
  return top;
}

/* ---- sockets ---- */
static int open_udp(const struct sockaddr_in *bind_to) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0) die("SO_TIMESTAMPNS");
  if (bind(fd, (const struct sockaddr *)bind_to, sizeof *bind_to) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static struct sockaddr_in listen_addr;

static int open_spare(void) {
  for (int i = 0; i < nlink_slots; i++) {
    if (links[i].fd >= 0) continue;
    struct sockaddr_in a = listen_addr;
    a.sin_port = 0;
    int fd = open_udp(&a);
    if (fd < 0) return -1;
    links[i].fd = fd;
    links[i].assigned = 0;
    links[i].last_used = now_ns(CLOCK_MONOTONIC);
    return i;
  }
  return -1;
}

static void close_link(int i) {
  close(links[i].fd);
  links[i].fd = -1;
  links[i].assigned = 0;
  links[i].gen++;
}

static int count_assigned(void) {
  int n = 0;
  for (int i = 0; i < nlink_slots; i++) n += links[i].fd >= 0 && links[i].assigned;
  return n;
}

static int count_spares(void) {
  int n = 0;
  for (int i = 0; i < nlink_slots; i++) n += links[i].fd >= 0 && !links[i].assigned;
  return n;
}

static int link_for(const struct sockaddr_in *client) {
  for (int i = 0; i < nlink_slots; i++) {
    if (links[i].fd >= 0 && links[i].assigned && links[i].client.sin_port == client->sin_port &&
        links[i].client.sin_addr.s_addr == client->sin_addr.s_addr)
      return i;
  }
  if (count_assigned() >= max_clients) {
    int oldest = -1;
    for (int i = 0; i < nlink_slots; i++) {
      if (links[i].fd >= 0 && links[i].assigned &&
          (oldest < 0 || links[i].last_used < links[oldest].last_used))
        oldest = i;
    }
    if (oldest >= 0) close_link(oldest);
    evicted++;
  }
  int s = -1;
  for (int i = 0; i < nlink_slots; i++) {
    if (links[i].fd >= 0 && !links[i].assigned) {
      s = i;
      break;
    }
  }
  if (s < 0) s = open_spare(); /* no spare left: open one now (costs a few µs) */
  if (s < 0) return -1;
  links[s].assigned = 1;
  links[s].client = *client;
  return s;
}

/* ---- impairment ---- */

static int64_t window_ns(void);

/* Delay in ns for one packet received at `rx`, or -1 when it is dropped. */
static int64_t impair(int dir, int64_t rx) {
  double loss_draw = random01();
  double jitter_draw = -log(1 - random01());
  double extra_draw = random01();
  double t = (double)(rx - start_rt) / 1e9;
  double extra = 0;
  for (int i = 0; i < nwindows; i++) {
    const struct window *w = &windows[i];
    if (t < w->start_s || t >= w->end_s) continue;
    if (w->dir >= 0 && w->dir != dir) continue;
    if (w->outage) {
      outage_dropped++;
      return -1;
    }
    extra += w->min_ms + (w->max_ms - w->min_ms) * extra_draw;
  }
  if (loss_draw < conf[dir].loss) {
    lost++;
    return -1;
  }
  double ms = conf[dir].base_ms + conf[dir].jitter_ms * jitter_draw + extra;
  return (int64_t)llround(ms * 1e6);
}

static void send_packet(int s) {
  struct packet *p = &slots[s];
  int64_t now = now_ns(CLOCK_REALTIME);
  int fd;
  if (p->dir == UP) {
    struct link *l = &links[p->link];
    fd = (l->fd >= 0 && l->gen == p->gen) ? l->fd : -1;
  } else {
    fd = listener;
  }
  if (fd >= 0) {
    ssize_t n = sendto(fd, p->data, p->len, 0, (const struct sockaddr *)&p->to, sizeof p->to);
    if (n == p->len) {
      struct dir_stats *st = &dstats[p->dir];
      st->sent++;
      double late = (double)(now - p->due) / 1e3;
      if (late < 0) late = 0;
      st->late_sum_us += late;
      if (late > st->late_max_us) st->late_max_us = late;
      if (late > 10) st->late++;
    } else {
      send_errors++;
    }
  }
  in_flight[p->dir]--;
  free_slots[nfree++] = s;
}

static unsigned char scratch[PKT_MAX];

/* Reads every datagram waiting on `fd`; `li` is the link index, or -1 for the listener. */
static void drain(int fd, int li) {
  for (;;) {
    int dir = li < 0 ? UP : DOWN;
    int s = nfree > 0 && in_flight[dir] < max_queue ? free_slots[nfree - 1] : -1;
    unsigned char *buf = s >= 0 ? slots[s].data : scratch;
    struct sockaddr_in from;
    char cbuf[256];
    struct iovec iov = {buf, PKT_MAX};
    struct msghdr msg = {0};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf;
    msg.msg_controllen = sizeof cbuf;
    ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
    if (n < 0) return;
    int64_t read_at = now_ns(CLOCK_REALTIME);
    int64_t rx = read_at;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
        struct timespec ts;
        memcpy(&ts, CMSG_DATA(c), sizeof ts);
        rx = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
      }
    }
    if (li >= 0 && !links[li].assigned) continue; /* a spare: nobody sent through it yet */
    if (li < 0) {
      int64_t gap = rx - last_up_rx;
      if (last_up_rx > 0 && gap > 50000000LL && gap < 20000000000LL) {
        int64_t pred = last_up_rx + up_interval;
        int64_t w = window_ns();
        if (up_interval > 0 && rx > pred - w && rx < pred + w)
          anticipated++;
        up_interval = gap;
      }
      if (last_up_rx == 0 || gap > 50000000LL) last_up_rx = rx;
    }
    if (msg.msg_flags & MSG_TRUNC) continue;
    struct dir_stats *st = &dstats[dir];
    st->received++;
    double read_us = (double)(read_at - rx) / 1e3;
    st->read_sum_us += read_us;
    if (read_us > st->read_max_us) st->read_max_us = read_us;
    int link = li;
    if (dir == UP) {
      link = link_for(&from);
      if (link < 0) {
        send_errors++;
        continue;
      }
    }
    links[link].last_used = now_ns(CLOCK_MONOTONIC);
    int64_t delay = impair(dir, rx);
    if (delay < 0) continue;
    if (s < 0) {
      overflow_dropped++;
      continue;
    }
    nfree--;
    in_flight[dir]++;
    struct packet *p = &slots[s];
    p->rx = rx;
    p->due = rx + delay;
    p->seq = seq_counter++;
    p->dir = dir;
    p->len = (int)n;
    if (dir == UP) {
      p->link = link;
      p->gen = links[link].gen;
      p->to = upstream;
    } else {
      p->link = -1;
      p->to = links[li].client;
    }
    heap_push(s);
  }
}

/* Half-width of the busy-poll window around the next expected request, ns. */
static int64_t window_ns(void) {
  return anticipate_ns + (int64_t)(anticipate_frac * (double)up_interval);
}

static void print_stats(void) {
  printf("{\"upReceived\":%llu,\"upSent\":%llu,\"downReceived\":%llu,\"downSent\":%llu,"
         "\"lost\":%llu,\"outageDropped\":%llu,\"overflowDropped\":%llu,\"evicted\":%llu,"
         "\"sendErrors\":%llu",
         (unsigned long long)dstats[UP].received, (unsigned long long)dstats[UP].sent,
         (unsigned long long)dstats[DOWN].received, (unsigned long long)dstats[DOWN].sent,
         (unsigned long long)lost, (unsigned long long)outage_dropped,
         (unsigned long long)overflow_dropped, (unsigned long long)evicted,
         (unsigned long long)send_errors);
  const char *names[2] = {"up", "down"};
  for (int d = 0; d < 2; d++) {
    const struct dir_stats *st = &dstats[d];
    printf(",\"%sLate\":%llu,\"%sLateMeanUs\":%.2f,\"%sLateMaxUs\":%.2f,"
           "\"%sReadMeanUs\":%.2f,\"%sReadMaxUs\":%.2f",
           names[d], (unsigned long long)st->late, names[d],
           st->sent ? st->late_sum_us / st->sent : 0.0, names[d], st->late_max_us, names[d],
           st->received ? st->read_sum_us / st->received : 0.0, names[d], st->read_max_us);
  }
  printf(",\"anticipated\":%llu,\"anticipateSpinMs\":%.1f}\n", (unsigned long long)anticipated,
         anticipate_spin_ms);
  fflush(stdout);
}

static void parse_addr(const char *host, const char *port, struct sockaddr_in *a) {
  memset(a, 0, sizeof *a);
  a->sin_family = AF_INET;
  if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
    fprintf(stderr, "impair_relay: not an IPv4 address: %s\n", host);
    exit(2);
  }
  a->sin_port = htons((uint16_t)atoi(port));
}

static void parse_dir(const char *s, struct dir_conf *d) {
  if (sscanf(s, "%lf,%lf,%lf", &d->base_ms, &d->jitter_ms, &d->loss) != 3) {
    fprintf(stderr, "impair_relay: bad direction %s\n", s);
    exit(2);
  }
}

static void parse_window(const char *s) {
  char kind[16], dir[8];
  struct window w;
  if (nwindows >= MAX_WINDOWS ||
      sscanf(s, "%15[a-z],%lf,%lf,%7[a-z],%lf,%lf", kind, &w.start_s, &w.end_s, dir, &w.min_ms,
             &w.max_ms) != 6) {
    fprintf(stderr, "impair_relay: bad window %s\n", s);
    exit(2);
  }
  w.outage = strcmp(kind, "outage") == 0;
  w.dir = strcmp(dir, "up") == 0 ? UP : strcmp(dir, "down") == 0 ? DOWN : -1;
  windows[nwindows++] = w;
}

int main(int argc, char **argv) {
  const char *listen_host = "127.0.0.1", *listen_port = "0";
  const char *up_host = NULL, *up_port = NULL;
  uint32_t seed = 1;
  int priority = -10, watch_stdin = 0, fifo = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) {
      fprintf(stderr, "impair_relay: %s needs a value\n", a);
      return 2;
    }
    i++;
    if (!strcmp(a, "--listen")) listen_host = v;
    else if (!strcmp(a, "--listen-port")) listen_port = v;
    else if (!strcmp(a, "--upstream")) up_host = v;
    else if (!strcmp(a, "--upstream-port")) up_port = v;
    else if (!strcmp(a, "--up")) parse_dir(v, &conf[UP]);
    else if (!strcmp(a, "--down")) parse_dir(v, &conf[DOWN]);
    else if (!strcmp(a, "--window")) parse_window(v);
    else if (!strcmp(a, "--seed")) seed = (uint32_t)strtoul(v, NULL, 10);
    else if (!strcmp(a, "--max-queue")) max_queue = atoi(v);
    else if (!strcmp(a, "--max-clients")) max_clients = atoi(v);
    else if (!strcmp(a, "--idle-seconds")) idle_s = atof(v);
    else if (!strcmp(a, "--spin-us")) spin_ns = (int64_t)(atof(v) * 1000);
    else if (!strcmp(a, "--priority")) priority = atoi(v);
    else if (!strcmp(a, "--watch-stdin")) watch_stdin = atoi(v);
    else if (!strcmp(a, "--anticipate-us")) anticipate_ns = (int64_t)(atof(v) * 1000);
    else if (!strcmp(a, "--fifo")) fifo = atoi(v);
    else if (!strcmp(a, "--anticipate-frac")) anticipate_frac = atof(v);
    else {
      fprintf(stderr, "impair_relay: unknown option %s\n", a);
      return 2;
    }
  }
  if (!up_host || !up_port) {
    fprintf(stderr, "impair_relay: --upstream and --upstream-port are required\n");
    return 2;
  }
  if (max_queue < 1) max_queue = 1;
  if (max_clients < 1) max_clients = 1;
  if (max_clients > MAX_LINKS_CAP) max_clients = MAX_LINKS_CAP;
  prng = seed;
  parse_addr(listen_host, listen_port, &listen_addr);
  parse_addr(up_host, up_port, &upstream);

  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
  if (priority != 0) (void)setpriority(PRIO_PROCESS, 0, priority); /* failure ignored */
  if (fifo > 0) {
    struct sched_param sp = {.sched_priority = fifo};
    (void)sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp); /* failure ignored */
  }

  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigset_t block, run_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  sigprocmask(SIG_BLOCK, &block, &run_mask); /* delivered only inside ppoll */

  slots = calloc(2 * (size_t)max_queue, sizeof *slots);
  free_slots = calloc(2 * (size_t)max_queue, sizeof *free_slots);
  heap = calloc(2 * (size_t)max_queue, sizeof *heap);
  if (!slots || !free_slots || !heap) die("calloc");
  for (int i = 2 * max_queue - 1; i >= 0; i--) free_slots[nfree++] = i;

  nlink_slots = max_clients + SPARES;
  for (int i = 0; i < nlink_slots; i++) links[i].fd = -1;
  listener = open_udp(&listen_addr);
  if (listener < 0) die("bind");
  struct sockaddr_in bound;
  socklen_t blen = sizeof bound;
  getsockname(listener, (struct sockaddr *)&bound, &blen);
  for (int i = 0; i < SPARES; i++) open_spare();
  start_rt = now_ns(CLOCK_REALTIME);
  printf("%d\n", ntohs(bound.sin_port));
  fflush(stdout);

  struct pollfd pfds[MAX_LINKS_CAP + SPARES + 2];
  int pidx[MAX_LINKS_CAP + SPARES + 2];
  int64_t last_sweep = now_ns(CLOCK_MONOTONIC);
  const int64_t sweep_every = (int64_t)(idle_s / 2 > 1 ? idle_s / 2 : 1) * 1000000000LL;
  int stdin_open = watch_stdin;

  while (!stop_flag) {
    /* Send whatever is due, spinning through the last stretch before a due time. */
    while (nheap > 0) {
      int64_t due = slots[heap[0]].due;
      int64_t now = now_ns(CLOCK_REALTIME);
      if (due - now > spin_ns) break;
      while (now < due) now = now_ns(CLOCK_REALTIME);
      send_packet(heap_pop());
    }
    /* Housekeeping only when nothing is due within 1 ms. */
    int64_t quiet = nheap == 0 ? INT64_MAX : slots[heap[0]].due - now_ns(CLOCK_REALTIME);
    if (quiet > 1000000) {
      if (count_spares() < SPARES) open_spare();
      int64_t mono = now_ns(CLOCK_MONOTONIC);
      if (mono - last_sweep > sweep_every) {
        last_sweep = mono;
        for (int i = 0; i < nlink_slots; i++) {
          if (links[i].fd >= 0 && links[i].assigned &&
              (double)(mono - links[i].last_used) / 1e9 > idle_s)
            close_link(i);
        }
      }
    }
    int n = 0;
    pfds[n] = (struct pollfd){listener, POLLIN, 0};
    pidx[n++] = -1;
    if (stdin_open) {
      pfds[n] = (struct pollfd){0, POLLIN, 0};
      pidx[n++] = -2;
    }
    for (int i = 0; i < nlink_slots; i++) {
      if (links[i].fd < 0) continue;
      pfds[n] = (struct pollfd){links[i].fd, POLLIN, 0};
      pidx[n++] = i;
    }
    struct timespec ts, *tsp = NULL;
    if (nheap > 0) {
      int64_t wait = slots[heap[0]].due - spin_ns - now_ns(CLOCK_REALTIME);
      if (wait < 0) wait = 0;
      ts.tv_sec = wait / 1000000000LL;
      ts.tv_nsec = wait % 1000000000LL;
      tsp = &ts;
    } else if (count_spares() < SPARES) {
      ts = (struct timespec){0, 1000000};
      tsp = &ts;
    } else {
      ts = (struct timespec){1, 0}; /* for the idle sweep */
      tsp = &ts;
    }
    /* Around the next expected request, poll without sleeping (bounded by the window). */
    int64_t spin_from = 0;
    if (anticipate_ns > 0 && up_interval > 0) {
      int64_t pred = last_up_rx + up_interval, now = now_ns(CLOCK_REALTIME);
      int64_t anticipate_ns = window_ns();
      if (now > pred - anticipate_ns && now < pred + anticipate_ns) {
        ts = (struct timespec){0, 0};
        tsp = &ts;
        spin_from = now;
      } else if (now < pred - anticipate_ns) {
        int64_t wake = pred - anticipate_ns - now;
        int64_t cur = (int64_t)tsp->tv_sec * 1000000000LL + tsp->tv_nsec;
        if (wake < cur) {
          ts.tv_sec = wake / 1000000000LL;
          ts.tv_nsec = wake % 1000000000LL;
          tsp = &ts;
        }
      }
    }
    int r = ppoll(pfds, n, tsp, &run_mask);
    if (spin_from) anticipate_spin_ms += (double)(now_ns(CLOCK_REALTIME) - spin_from) / 1e6;
    if (r < 0) {
      if (errno == EINTR) continue;
      die("ppoll");
    }
    for (int k = 0; k < n && r > 0; k++) {
      if (!pfds[k].revents) continue;
      if (pidx[k] == -2) {
        char b[64];
        ssize_t got = read(0, b, sizeof b);
        if (got <= 0) stop_flag = 1; /* the parent is gone */
        continue;
      }
      /* A link closed (evicted) while handling an earlier fd: its descriptor is stale. */
      if (pidx[k] >= 0 && links[pidx[k]].fd != pfds[k].fd) continue;
      drain(pfds[k].fd, pidx[k]);
    }
  }
  print_stats();
  return 0;
}
