// Compiler helpers used everywhere: branch hints, cache-line size, prefetch.
// Thin wrappers over DPDK's own macros so lib code does not depend on which
// DPDK header happened to define them first.
#pragma once

#include <cstddef>
#include <cstdint>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_prefetch.h>

namespace fg {

inline constexpr std::size_t cache_line = RTE_CACHE_LINE_SIZE;

#define FG_LIKELY(x) likely(x)
#define FG_UNLIKELY(x) unlikely(x)
#define FG_ALWAYS_INLINE inline __attribute__((always_inline))
#define FG_COLD __attribute__((cold, noinline))

// Prefetch a line with intent to write (PREFETCHW): the line comes in
// Exclusive, so the stores that follow need no second trip to take it from
// the core that wrote it last. That is the whole cost of a frame that crossed
// cores (a ring pair, a mempool the other lcore freed into): the peer core
// holds its lines Modified, and a plain prefetch brings them in Shared,
// leaving every store to wait for an invalidation round trip (bench-e2e-
// synflood: the responder's stores stalled behind those, 2.9 -> 4.9 Mpps).
// GCC emits PREFETCHW for __builtin_prefetch(p, 1) only with -mprfchw, so
// it is written out. Every x86-64 CPU executes it: Intel before Broadwell
// (no PRFCHW CPUID bit) runs it as a NOP, AMD has had it since the K6-2.
FG_ALWAYS_INLINE void prefetch_w(const void* p)
{
#if defined(__x86_64__)
    asm volatile("prefetchw %0" ::"m"(*static_cast<const char*>(p)));
#else
    __builtin_prefetch(p, 1, 3);
#endif
}

} // namespace fg
