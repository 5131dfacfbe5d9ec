/*
 * Reads tempus's error-bound page (errorboundfile) the way an application would: mmap the
 * file once, then for each reading copy the record under the sequence lock and read
 * CLOCK_REALTIME and CLOCK_MONOTONIC. Prints "earliest latest" in Unix seconds (exit 0) or
 * "unsynchronised" (exit 1). Layout: docs/operations.md and src/io/error_bound_file.ts.
 *
 *   cc -O2 -o errorbound_read errorbound_read.c -lm && ./errorbound_read /run/tempus/errorbound
 */
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct record {
  char magic[4];          /* "TPEB" */
  uint32_t version;       /* 1 */
  uint64_t sequence;      /* odd while the daemon writes */
  int64_t as_of;          /* CLOCK_REALTIME, ns */
  int64_t as_of_mono;     /* CLOCK_MONOTONIC, ns */
  double max_error;       /* s, +Inf: unbounded */
  double growth;          /* per second of CLOCK_MONOTONIC */
  uint32_t status;        /* 1: synchronised */
  uint32_t leap;
};

static int64_t now_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "/run/tempus/errorbound";
  int fd = open(path, O_RDONLY);
  if (fd < 0) { perror(path); return 2; }
  const volatile struct record *page = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
  if (page == MAP_FAILED) { perror("mmap"); return 2; }
  struct record r;
  int64_t real, mono;
  for (int tries = 0;; tries++) {
    uint64_t before = page->sequence;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    memcpy(&r, (const void *)page, sizeof r);
    mono = now_ns(CLOCK_MONOTONIC);
    real = now_ns(CLOCK_REALTIME);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (before % 2 == 0 && page->sequence == before) break;
    if (tries > 1000) { puts("busy"); return 1; }
  }
  if (memcmp(r.magic, "TPEB", 4) != 0 || r.version != 1) { puts("not a tempus page"); return 2; }
  double age = (mono - r.as_of_mono) / 1e9;
  double stepped = fabs(((real - mono) - (r.as_of - r.as_of_mono)) / 1e9);
  if (r.status != 1 || !isfinite(r.max_error) || age < 0 || age > 10) {
    puts("unsynchronised");
    return 1;
  }
  double max_error = r.max_error + age * r.growth + stepped;
  int64_t err = (int64_t)ceil(max_error * 1e9);
  int64_t e = real - err, l = real + err;
  printf("%lld.%09lld %lld.%09lld\n", (long long)(e / 1000000000), (long long)(e % 1000000000),
         (long long)(l / 1000000000), (long long)(l % 1000000000));
  return 0;
}
