#include "tcp/isn.hh"

#include <algorithm>

#include "base/siphash_lanes.hh"
#include "tcp/tuple_words.hh"

namespace fg::tcp {

isn_generator isn_generator::random()
{
    const siphash_key seq_key = random_siphash_key();
    const siphash_key ts_key = random_siphash_key();
    return isn_generator(seq_key, ts_key);
}

void isn_generator::isn_burst(std::size_t n, const tuple4* t, uint64_t now_ns, uint32_t* out) const
{
    if (n <= detail::one_by_one_max) {
        for (std::size_t i = 0; i < n; i++) {
            out[i] = isn(t[i], now_ns);
        }
        return;
    }
    const uint32_t clock = uint32_t(now_ns >> clock_shift);
    alignas(64) uint64_t m0[detail::burst_lanes];
    alignas(64) uint64_t m1[detail::burst_lanes];
    alignas(64) uint64_t h[detail::burst_lanes];
    for (std::size_t base = 0; base < n; base += detail::burst_lanes) {
        const std::size_t m = std::min(detail::burst_lanes, n - base);
        // siphash_3u32(laddr, raddr, lport << 16 | rport)
        for (std::size_t i = 0; i < m; i++) {
            m0[i] = detail::addr_words(t[base + i]);
            m1[i] = detail::seq_port_word(t[base + i]);
        }
        siphash_lanes(_seq_key, sip_len::u32x3, m, m0, m1, h);
        for (std::size_t i = 0; i < m; i++) {
            out[base + i] = uint32_t(h[i]) + clock;
        }
    }
}

void isn_generator::ts_offset_burst(std::size_t n, const tuple4* t, uint32_t* out) const
{
    if (n <= detail::one_by_one_max) {
        for (std::size_t i = 0; i < n; i++) {
            out[i] = ts_offset(t[i]);
        }
        return;
    }
    alignas(64) uint64_t m0[detail::burst_lanes];
    alignas(64) uint64_t h[detail::burst_lanes];
    for (std::size_t base = 0; base < n; base += detail::burst_lanes) {
        const std::size_t m = std::min(detail::burst_lanes, n - base);
        // siphash_2u32(laddr, raddr)
        for (std::size_t i = 0; i < m; i++) {
            m0[i] = detail::addr_words(t[base + i]);
        }
        siphash_lanes(_ts_key, sip_len::u32x2, m, m0, nullptr, h);
        for (std::size_t i = 0; i < m; i++) {
            out[base + i] = uint32_t(h[i]);
        }
    }
}

} // namespace fg::tcp
