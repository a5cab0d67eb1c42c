// The libc symbols the Embedded Swift runtime needs, for a bare wasm32 canister:
// an allocator, the mem* functions, a deterministic arc4random_buf and putchar.
// Why C: defining malloc in Swift with @_cdecl is warned against by swiftc (reserved
// runtime names). Compiled freestanding; no_builtin stops clang from turning the loops
// back into calls to themselves.
#include <stddef.h>
#include <stdint.h>
#include "CSupport.h"

__attribute__((import_module("ic0"), import_name("debug_print")))
extern void ic0_debug_print(const void *src, int32_t size);

extern unsigned char __heap_base;

// ---- allocator: power-of-two size classes with free lists over a bump region ----------
// Every block has a 16-byte header holding its class; payloads are 16-aligned. Canisters
// are single-threaded and short-lived per message, so simplicity beats fragmentation
// resistance here; freed blocks are reused within their class.

#define HEADER 16
#define MIN_CLASS 4   /* 16 bytes */
#define MAX_CLASS 31
#define LARGE_CLASS 0xff

static uintptr_t bump_next = 0;
static uintptr_t bump_end = 0;
static void *free_lists[MAX_CLASS + 1];

static int grow_to(uintptr_t end) {
    uintptr_t have = __builtin_wasm_memory_size(0) * 65536u;
    if (end <= have) return 1;
    uintptr_t pages = (end - have + 65535u) / 65536u;
    if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) return 0;
    return 1;
}

static void *bump(size_t total) {
    if (bump_next == 0) {
        bump_next = ((uintptr_t)&__heap_base + 15u) & ~(uintptr_t)15u;
        bump_end = __builtin_wasm_memory_size(0) * 65536u;
    }
    uintptr_t start = bump_next;
    uintptr_t end = start + total;
    if (end < start) return 0;
    if (end > bump_end) {
        if (!grow_to(end)) return 0;
        bump_end = __builtin_wasm_memory_size(0) * 65536u;
    }
    bump_next = end;
    return (void *)start;
}

static unsigned class_for(size_t size) {
    unsigned c = MIN_CLASS;
    while (c <= MAX_CLASS && ((size_t)1 << c) < size) c++;
    return c;
}

void *malloc(size_t size) {
    if (size == 0) size = 1;
    unsigned c = class_for(size);
    if (c > MAX_CLASS) return 0;
    if (free_lists[c]) {
        void *p = free_lists[c];
        free_lists[c] = *(void **)p;
        return p;
    }
    unsigned char *block = bump(HEADER + ((size_t)1 << c));
    if (!block) return 0;
    *(uint32_t *)block = c;
    return block + HEADER;
}

void free(void *p) {
    if (!p) return;
    unsigned c = *(uint32_t *)((unsigned char *)p - HEADER);
    *(void **)p = free_lists[c];
    free_lists[c] = p;
}

static size_t capacity_of(void *p) {
    return (size_t)1 << *(uint32_t *)((unsigned char *)p - HEADER);
}

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);

void *calloc(size_t count, size_t size) {
    size_t total = count * size;
    if (size && total / size != count) return 0;
    void *p = malloc(total);
    if (p) memset(p, 0, total);
    return p;
}

void *realloc(void *p, size_t size) {
    if (!p) return malloc(size);
    size_t have = capacity_of(p);
    if (size <= have) return p;
    void *q = malloc(size);
    if (!q) return 0;
    memcpy(q, p, have);
    free(p);
    return q;
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    // Payloads are 16-aligned; larger alignments over-allocate and are never freed back
    // to a class list of the wrong size (they are rare: Swift asks for ≤ 16).
    if (alignment <= 16) {
        void *p = malloc(size);
        if (!p) return 12; /* ENOMEM */
        *out = p;
        return 0;
    }
    unsigned char *raw = bump(size + alignment + HEADER);
    if (!raw) return 12;
    uintptr_t aligned = ((uintptr_t)raw + HEADER + alignment - 1) & ~(uintptr_t)(alignment - 1);
    // Mark with a class that free() accepts; the block is leaked into that class's list.
    *(uint32_t *)(aligned - HEADER) = class_for(size);
    *out = (void *)aligned;
    return 0;
}

void *aligned_alloc(size_t alignment, size_t size) {
    void *p = 0;
    return posix_memalign(&p, alignment, size) == 0 ? p : 0;
}

// ---- memory functions ------------------------------------------------------------------

__attribute__((no_builtin)) void *memcpy(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--) *d++ = *s++;
    return dst;
}

__attribute__((no_builtin)) void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) {
        while (n--) *d++ = *s++;
    } else if (d > s) {
        d += n;
        s += n;
        while (n--) *--d = *--s;
    }
    return dst;
}

__attribute__((no_builtin)) void *memset(void *dst, int c, size_t n) {
    unsigned char *d = dst;
    while (n--) *d++ = (unsigned char)c;
    return dst;
}

__attribute__((no_builtin)) int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    }
    return 0;
}

__attribute__((no_builtin)) size_t strlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

// ---- randomness ------------------------------------------------------------------------
// The IC has no synchronous randomness and execution must be deterministic, so this is a
// fixed-seed xorshift. Swift's Hasher is seeded from it: hash flooding is possible in
// principle, so canisters should not key dictionaries by attacker-chosen data in hot paths.

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

void arc4random_buf(void *buf, size_t n) {
    unsigned char *out = buf;
    for (size_t i = 0; i < n; i++) {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        out[i] = (unsigned char)(rng_state >> 24);
    }
}

// ---- print() → ic0.debug_print, one call per line ----------------------------------------

static char line[1024];
static size_t line_length = 0;

void icws_debug_flush(void) {
    if (line_length) ic0_debug_print(line, (int32_t)line_length);
    line_length = 0;
}

int putchar(int c) {
    if (c == '\n') {
        // An empty line still prints, as print("") would.
        ic0_debug_print(line, (int32_t)line_length);
        line_length = 0;
        return c;
    }
    line[line_length++] = (char)c;
    if (line_length == sizeof line) icws_debug_flush();
    return c;
}

size_t icws_memory_size(void) { return __builtin_wasm_memory_size(0) * 65536u; }

// ---- 128-bit multiply (compiler-rt's __multi3) -------------------------------------------
// Swift's Duration arithmetic multiplies 128-bit integers; wasm32-unknown-none has no
// compiler-rt, so the one helper it needs is here. Built from 32-bit partial products so that
// it does not call itself.
typedef union {
    __int128 all;
    struct { unsigned long long low, high; } s;  // wasm32 is little-endian
} icws_twords;

__int128 __multi3(__int128 a, __int128 b) {
    icws_twords x = {.all = a}, y = {.all = b}, r;
    unsigned long long a0 = x.s.low & 0xffffffffu, a1 = x.s.low >> 32;
    unsigned long long b0 = y.s.low & 0xffffffffu, b1 = y.s.low >> 32;
    unsigned long long p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    unsigned long long middle = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    r.s.low = (middle << 32) | (p00 & 0xffffffffu);
    r.s.high = p11 + (p01 >> 32) + (p10 >> 32) + (middle >> 32) + x.s.low * y.s.high + x.s.high * y.s.low;
    return r.all;
}
