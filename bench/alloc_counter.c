// libinferd_alloc_counter.so: counts heap allocations of the process it is preloaded into, for
// the allocations-per-request benchmark (bench/run.py allocs). Every malloc-family call that
// allocates (malloc, calloc, realloc, memalign, posix_memalign, aligned_alloc, valloc) adds one
// to a process-wide counter and is then served by glibc. SIGUSR2 writes the count, as decimal
// text, to the file named by $INFERD_ALLOC_COUNT_FILE. C++'s operator new ends in malloc, so it
// is counted too. A measuring tool only: never linked into inferd.
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void* __libc_malloc(size_t);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);
extern void* __libc_memalign(size_t, size_t);

static atomic_ulong allocations;

static void count(void) { atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed); }

void* malloc(size_t n) {
  count();
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t size) {
  count();
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t n) {
  count();
  return __libc_realloc(p, n);
}
void* memalign(size_t alignment, size_t n) {
  count();
  return __libc_memalign(alignment, n);
}
void* aligned_alloc(size_t alignment, size_t n) {
  count();
  return __libc_memalign(alignment, n);
}
void* valloc(size_t n) {
  count();
  return __libc_memalign((size_t)sysconf(_SC_PAGESIZE), n);
}
int posix_memalign(void** out, size_t alignment, size_t n) {
  count();
  void* p = __libc_memalign(alignment, n);
  if (p == NULL) return 12;  // ENOMEM
  *out = p;
  return 0;
}

// Async-signal-safe: no stdio, no allocation.
static void dump(int sig) {
  (void)sig;
  const char* path = getenv("INFERD_ALLOC_COUNT_FILE");
  if (path == NULL) return;
  char digits[32];
  int len = 0;
  unsigned long v = atomic_load_explicit(&allocations, memory_order_relaxed);
  do {
    digits[len++] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  char text[34];
  for (int i = 0; i < len; ++i) text[i] = digits[len - 1 - i];
  text[len++] = '\n';
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  ssize_t ignored = write(fd, text, (size_t)len);
  (void)ignored;
  close(fd);
}

__attribute__((constructor)) static void install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = dump;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR2, &sa, NULL);
}
