// Initial sequence numbers and timestamp offsets, as Linux makes them
// (net/core/secure_seq.c, RFC 6528 / RFC 9293 §3.4.1):
//
//   isn       = (u32)SipHash(laddr, raddr, lport << 16 | rport; net_secret) + (now_ns >> 6)
//   ts_offset = (u32)SipHash(laddr, raddr; ts_secret)
//
// The keyed hash makes each 4-tuple's sequence space unguessable to an
// off-path attacker; the clock term (one tick per 64 ns, wrapping every
// 274 s) keeps a new incarnation of the same 4-tuple ahead of the old one.
// The per-address-pair timestamp offset hides our clock (RFC 7323 §5.4) and
// keeps TSvals monotonic per peer, so PAWS works across connections.
//
// Linux hashes the side that sends the SYN or SYN-ACK first: in connect()
// secure_tcp_seq(inet_saddr, inet_daddr, sport, dport), in a listener
// tcp_v4_init_seq() = secure_tcp_seq(iph->daddr, iph->saddr, th->dest,
// th->source). Both are (local, remote) -- exactly a tuple4 -- so one
// function serves both directions. Words are the raw network-order values.
//
// Linux's clock is ktime_get_real_ns(); we take the clock as an argument
// (fg::mono_ns() by default) so tests control it and the lcore can pass a
// TSC-derived time. Immutable after construction: shared by all lcores.
//
// One SipHash costs ~15-20 ns on these machines, too much of a 50 ns
// per-packet budget, so the *_burst calls hash a whole rx burst side by side
// in SIMD lanes (base/siphash_lanes.hh: AVX-512, AVX2 or scalar, chosen at
// run time, FG_SIMD to force a narrower one). Same results as the single
// calls, bit for bit, on every variant.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/clock.hh"
#include "base/siphash.hh"
#include "base/tuple.hh"

namespace fg::tcp {

class isn_generator {
public:
    static constexpr unsigned clock_shift = 6; // Linux seq_scale(): 64 ns per tick, period 274 s > 2 MSL

    isn_generator(const siphash_key& seq_key, const siphash_key& ts_key) : _seq_key(seq_key), _ts_key(ts_key) {}
    // Two fresh keys from the kernel's CSPRNG.
    static isn_generator random();

    // Linux secure_tcp_seq(laddr, raddr, lport, rport) at clock now_ns.
    uint32_t isn(const tuple4& t, uint64_t now_ns) const
    {
        const uint32_t h =
            uint32_t(siphash_3u32(t.laddr, t.raddr, (uint32_t(t.lport) << 16) | uint32_t(t.rport), _seq_key));
        return h + uint32_t(now_ns >> clock_shift);
    }
    uint32_t isn(const tuple4& t) const { return isn(t, mono_ns()); }

    // Linux secure_tcp_ts_off(laddr, raddr): added to every TSval we send
    // on connections between these two addresses.
    uint32_t ts_offset(const tuple4& t) const { return uint32_t(siphash_2u32(t.laddr, t.raddr, _ts_key)); }

    // out[i] = isn(t[i], now_ns) for i < n: a whole rx burst (any n; 32 per
    // SIMD pass). Plain arrays, no allocation; out must not overlap t.
    void isn_burst(std::size_t n, const tuple4* t, uint64_t now_ns, uint32_t* out) const;
    // out[i] = ts_offset(t[i]) for i < n, the same way.
    void ts_offset_burst(std::size_t n, const tuple4* t, uint32_t* out) const;

private:
    siphash_key _seq_key;
    siphash_key _ts_key;
};

// Our TCP timestamp clock (before the per-pair offset): milliseconds, as
// Linux's tcp_time_stamp_raw() since 4.13 (TCP_TS_HZ = 1000).
inline uint32_t tcp_ts_now(uint64_t now_ns) { return uint32_t(now_ns / 1000000u); }

} // namespace fg::tcp
