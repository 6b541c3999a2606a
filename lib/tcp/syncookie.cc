#include "tcp/syncookie.hh"

#include <algorithm>

#include "base/siphash_lanes.hh"
#include "tcp/isn.hh"
#include "tcp/tuple_words.hh"

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
constexpr std::size_t lanes = detail::burst_lanes;
} // namespace

void syncookie::make_burst(std::size_t n, const tuple4* t, const uint32_t* client_isn, const uint16_t* client_mss,
                           uint32_t count, uint32_t* cookie_out, uint16_t* mss_out) const
{
    if (n <= detail::one_by_one_max) {
        for (std::size_t i = 0; i < n; i++) {
            cookie_out[i] = make(t[i], client_isn[i], client_mss[i], count, mss_out != nullptr ? &mss_out[i] : nullptr);
        }
        return;
    }
    alignas(64) uint64_t m0[lanes];
    alignas(64) uint64_t m1_0[lanes];
    alignas(64) uint64_t m1_c[lanes];
    alignas(64) uint64_t h0[lanes];
    alignas(64) uint64_t h1[lanes];
    for (std::size_t base = 0; base < n; base += lanes) {
        const std::size_t m = std::min(lanes, n - base);
        // cookie_hash(saddr, daddr, sport, dport, count, c) =
        // siphash_4u32(raddr, laddr, rport << 16 | lport, count)
        for (std::size_t i = 0; i < m; i++) {
            const tuple4& x = t[base + i];
            m0[i] = detail::swap_words(detail::addr_words(x));
            m1_0[i] = detail::port_word(x);
            m1_c[i] = m1_0[i] | (uint64_t(count) << 32);
        }
        siphash_lanes(_key[0], sip_len::u32x4, m, m0, m1_0, h0); // cookie_hash(.., 0, 0)
        siphash_lanes(_key[1], sip_len::u32x4, m, m0, m1_c, h1); // cookie_hash(.., count, 1)
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
    if (n <= detail::one_by_one_max) {
        std::size_t valid = 0;
        for (std::size_t i = 0; i < n; i++) {
            mss_out[i] = 0;
            valid += check(t[i], cookie[i], client_isn[i], count, &mss_out[i]);
        }
        return valid;
    }
    alignas(64) uint64_t m0[lanes];
    alignas(64) uint64_t m1[lanes];
    alignas(64) uint64_t h[lanes];
    uint32_t rest[lanes];
    uint8_t fresh[lanes]; // lanes whose age test passed, packed for the second hash
    std::size_t valid = 0;
    for (std::size_t base = 0; base < n; base += lanes) {
        const std::size_t m = std::min(lanes, n - base);
        for (std::size_t i = 0; i < m; i++) {
            const tuple4& x = t[base + i];
            m0[i] = detail::swap_words(detail::addr_words(x));
            m1[i] = detail::port_word(x);
        }
        siphash_lanes(_key[0], sip_len::u32x4, m, m0, m1, h); // cookie_hash(.., 0, 0)
        // Linux check_tcp_syn_cookie(), first half: strip H0 and the ISN,
        // then the age test. Lanes that pass are packed to the front, so a
        // flood of forged ACKs (almost all fail here) costs one hash each
        // and a burst of good ones two.
        std::size_t f = 0;
        for (std::size_t i = 0; i < m; i++) {
            const uint32_t r = cookie[base + i] - (uint32_t(h[i]) + client_isn[base + i]);
            const uint32_t diff = (count - (r >> cookie_bits)) & (uint32_t(-1) >> cookie_bits);
            mss_out[base + i] = 0;
            if (diff < max_age) {
                rest[f] = r;
                fresh[f] = uint8_t(i);
                m0[f] = m0[i];
                m1[f] = m1[i] | (uint64_t(count - diff) << 32);
                f++;
            }
        }
        if (f == 0) {
            continue;
        }
        siphash_lanes(_key[1], sip_len::u32x4, f, m0, m1, h); // cookie_hash(.., count - diff, 1)
        for (std::size_t j = 0; j < f; j++) {
            const uint32_t data = (rest[j] - uint32_t(h[j])) & cookie_mask;
            if (data < msstab.size()) {
                mss_out[base + fresh[j]] = msstab[data];
                valid++;
            }
        }
    }
    return valid;
}

} // namespace fg::tcp
