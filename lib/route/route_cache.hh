// A per-lcore memo of route_table::lookup(dst, bound_src) for the frames the
// TCP engine builds from scratch (a connection's SYN, its RST or FIN on
// command, retransmissions): each needs its next hop again, and a full
// lookup (martian and local checks, rte_lpm, the bound source's port) is ~100
// instructions and three tables touched. The route table cannot change once
// lcores run (route.hh), so an entry never goes stale: direct-mapped, a
// collision simply replaces; only successful lookups are kept (a failure is
// looked up again, counted by the caller each time).
#pragma once

#include <cstdint>

#include "base/compiler.hh"
#include "route/route.hh"

namespace fg::route {

// Slots: a power of two up to 256 (the tests use 1: every key collides).
template <uint32_t Slots>
class basic_route_cache {
public:
    static_assert(Slots >= 1 && Slots <= 256 && (Slots & (Slots - 1)) == 0);
    static constexpr uint32_t slots = Slots;

    route_result lookup(const route_table& rt, rte_be32_t dst, rte_be32_t bound_src)
    {
        slot& s = _s[index(dst, bound_src)];
        if (FG_LIKELY(s.dst == dst && s.bound_src == bound_src)) { // dst 0 is never routable: empty slots miss
            return s.r;
        }
        const route_result r = rt.lookup(dst, bound_src);
        if (r.ok()) {
            s.dst = dst;
            s.bound_src = bound_src;
            s.r = r;
        }
        return r;
    }

    static uint32_t index(rte_be32_t dst, rte_be32_t bound_src)
    {
        return uint32_t((uint64_t(dst ^ (bound_src * 0x9e3779b1u)) * 0x9e3779b97f4a7c15ull) >> 56) & (Slots - 1);
    }

private:
    struct slot {
        rte_be32_t dst = 0;
        rte_be32_t bound_src = 0;
        route_result r;
    };
    slot _s[Slots];
};

using route_cache = basic_route_cache<256>; // 6 KB: a generator's source addresses to one target fit

} // namespace fg::route
