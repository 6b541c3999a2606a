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

} // namespace fg
