#include "tcp/syncookie.hh"

#include <algorithm>

#include "tcp/isn.hh"

namespace fg::tcp {

bool parse_syncookie_mode(std::string_view s, syncookie_mode& out)
{
#define FG_X(e, str)                                                                                                \
    if (s == str) {                                                                                                 \
        out = syncookie_mode::e;                                                                                    \
        return true;                                                                                                \
    }
    FG_SYNCOOKIE_MODES(FG_X)
#undef FG_X
    return false;
}

const char* syncookie_mode_name(syncookie_mode m)
{
    switch (m) {
#define FG_X(e, str)                                                                                                \
    case syncookie_mode::e:                                                                                         \
        return str;
        FG_SYNCOOKIE_MODES(FG_X)
#undef FG_X
    }
    return "?";
}

syncookie syncookie::random()
{
    const siphash_key k0 = random_siphash_key();
    const siphash_key k1 = random_siphash_key();
    return syncookie(k0, k1);
}

} // namespace fg::tcp

namespace fg::tcp {

namespace {
using detail::sip_lanes;

// A chunk of at most 8 tuples as the 8-lane hash wants them: the caller's
// array when full, else a padded copy (repeating the last tuple).
struct lane_tuples {
    tuple4 pad[sip_lanes];
    const tuple4* p;

    lane_tuples(const tuple4* t, std::size_t m) : p(t)
    {
        if (m < sip_lanes) {
            for (std::size_t i = 0; i < sip_lanes; i++) {
                pad[i] = t[std::min(i, m - 1)];
            }
            p = pad;
        }
    }
};
} // namespace

void syncookie::make_burst(std::size_t n, const tuple4* t, const uint32_t* client_isn, const uint16_t* client_mss,
                           uint32_t count, uint32_t* cookie_out, uint16_t* mss_out) const
{
    alignas(64) uint64_t h0[sip_lanes];
    alignas(64) uint64_t h1[sip_lanes];
    alignas(32) uint32_t counts[sip_lanes];
    std::fill(counts, counts + sip_lanes, count);
    for (std::size_t base = 0; base < n; base += sip_lanes) {
        const std::size_t m = std::min(sip_lanes, n - base);
        const lane_tuples lt(t + base, m);
        detail::tuple_hash_x8(_key[0], detail::tuple_hash::cookie, lt.p, nullptr, h0); // cookie_hash(.., 0, 0)
        detail::tuple_hash_x8(_key[1], detail::tuple_hash::cookie, lt.p, counts, h1);  // cookie_hash(.., count, 1)
        for (std::size_t i = 0; i < m; i++) {
            const uint32_t idx = mss_index(client_mss[base + i]);
            cookie_out[base + i] = uint32_t(h0[i]) + client_isn[base + i] + (count << cookie_bits) +
                                   ((uint32_t(h1[i]) + idx) & cookie_mask);
            if (mss_out != nullptr) {
                mss_out[base + i] = msstab[idx];
            }
        }
    }
}

std::size_t syncookie::check_burst(std::size_t n, const tuple4* t, const uint32_t* cookie, const uint32_t* client_isn,
                                   uint32_t count, uint16_t* mss_out) const
{
    alignas(64) uint64_t h[sip_lanes];
    alignas(32) uint32_t counts[sip_lanes];
    uint32_t rest[sip_lanes];
    bool fresh[sip_lanes];
    std::size_t valid = 0;
    for (std::size_t base = 0; base < n; base += sip_lanes) {
        const std::size_t m = std::min(sip_lanes, n - base);
        const lane_tuples lt(t + base, m);
        detail::tuple_hash_x8(_key[0], detail::tuple_hash::cookie, lt.p, nullptr, h);
        // Linux check_tcp_syn_cookie(), first half: strip H0 and the ISN, age test.
        bool any = false;
        for (std::size_t i = 0; i < sip_lanes; i++) {
            const std::size_t j = base + std::min(i, m - 1);
            rest[i] = cookie[j] - (uint32_t(h[i]) + client_isn[j]);
            const uint32_t diff = (count - (rest[i] >> cookie_bits)) & (uint32_t(-1) >> cookie_bits);
            fresh[i] = diff < max_age && i < m;
            any |= fresh[i];
            counts[i] = count - diff;
        }
        if (any) { // a flood of forged ACKs mostly stops here
            detail::tuple_hash_x8(_key[1], detail::tuple_hash::cookie, lt.p, counts, h);
        }
        for (std::size_t i = 0; i < m; i++) {
            uint16_t mss = 0;
            if (fresh[i]) {
                const uint32_t data = (rest[i] - uint32_t(h[i])) & cookie_mask;
                if (data < msstab.size()) {
                    mss = msstab[data];
                    valid++;
                }
            }
            mss_out[base + i] = mss;
        }
    }
    return valid;
}

} // namespace fg::tcp
