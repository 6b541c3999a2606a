// Large, long-lived allocations for tables and pools: tens of millions of
// entries are allocated once at start-up and never freed on the hot path.
// alloc_huge() tries explicit 2 MB hugepages first (MAP_HUGETLB), then falls
// back to ordinary pages with transparent-hugepage advice, so the same code
// runs with and without reserved hugepages and without EAL (unit tests).
#pragma once

#include <cstddef>

namespace fg {

struct huge_region {
    void* ptr = nullptr;   // start, 2 MB aligned when hugepages were used
    std::size_t bytes = 0; // mapped length (rounded up to the page size used)
    bool hugetlb = false;  // true if explicit hugepages back it
};

// Zeroed memory of at least `bytes`. `populate` faults every page in now, so
// the hot path never takes a page fault. Returns {nullptr,0} on failure.
huge_region alloc_huge(std::size_t bytes, bool populate = false);
void free_huge(huge_region& r);

} // namespace fg
