#include "base/mem.hh"

#include <sys/mman.h>

namespace fg {

namespace {
constexpr std::size_t huge_page = 2u << 20; // 2 MB: the only size we reserve
constexpr std::size_t round_up(std::size_t n, std::size_t a) { return (n + a - 1) / a * a; }
} // namespace

huge_region alloc_huge(std::size_t bytes, bool populate)
{
    huge_region r;
    if (bytes == 0) {
        return r;
    }
    const int pop = populate ? MAP_POPULATE : 0;
    std::size_t len = round_up(bytes, huge_page);
    void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | pop, -1, 0);
    if (p != MAP_FAILED) {
        r.ptr = p;
        r.bytes = len;
        r.hugetlb = true;
        return r;
    }
    p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | pop, -1, 0);
    if (p == MAP_FAILED) {
        return r;
    }
    madvise(p, len, MADV_HUGEPAGE);
    r.ptr = p;
    r.bytes = len;
    return r;
}

void free_huge(huge_region& r)
{
    if (r.ptr != nullptr) {
        munmap(r.ptr, r.bytes);
    }
    r = huge_region{};
}

} // namespace fg
