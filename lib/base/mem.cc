#include "base/mem.hh"

#include <sys/mman.h>

#include <cstdint>

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
    // Ordinary pages: ask for transparent hugepages first, then fault the
    // pages in (MAP_POPULATE here would fault 4 KB pages before the advice).
    p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return r;
    }
    madvise(p, len, MADV_HUGEPAGE);
    if (populate) {
        constexpr int madv_populate_write = 23; // MADV_POPULATE_WRITE, Linux 5.14
        if (madvise(p, len, madv_populate_write) != 0) {
            auto* b = static_cast<volatile uint8_t*>(p);
            for (std::size_t off = 0; off < len; off += 4096) {
                b[off] = 0;
            }
        }
    }
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
