// How Linux packs a connection's identity into the u32 words of its
// SipHashes, read straight from a tuple4 (every field raw network order, as
// the kernel passes them with __force casts):
//
//   addr_words(t) = raddr << 32 | laddr : the first two words (laddr, raddr)
//   port_word(t)  = rport << 16 | lport : syncookies' (u32)sport << 16 | dport
//                                         of a SYN from the peer
//   seq_port_word = lport << 16 | rport : secure_tcp_seq's sport << 16 | dport
//                                         of our own segment
//
// Used by the *_burst calls to build siphash_lanes() messages; the one-tuple
// calls spell the kernel's arguments out instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "base/tuple.hh"

namespace fg::tcp::detail {

// Lanes per siphash_lanes() pass of the *_burst calls: the largest rx burst
// (bounds their stack buffers: a few KB).
inline constexpr std::size_t burst_lanes = 32;

// Bursts this short are hashed by the inline one-tuple calls: a call into
// siphash_lanes() costs more than it saves below three lanes
// (bench/syncookie_bench.cc, BM_*Burst/*/1 and /2).
inline constexpr std::size_t one_by_one_max = 2;

inline uint64_t addr_words(const tuple4& t)
{
    uint64_t w;
    std::memcpy(&w, &t.laddr, sizeof(w)); // laddr, raddr are adjacent: bytes 0-7
    return w;
}

inline uint32_t port_word(const tuple4& t)
{
    uint32_t w;
    std::memcpy(&w, &t.lport, sizeof(w)); // lport, rport are adjacent: bytes 8-11
    return w;
}

inline uint32_t seq_port_word(const tuple4& t)
{
    const uint32_t w = port_word(t);
    return (w << 16) | (w >> 16);
}

inline uint64_t swap_words(uint64_t w) { return (w << 32) | (w >> 32); }

static_assert(offsetof(tuple4, raddr) == offsetof(tuple4, laddr) + 4 &&
              offsetof(tuple4, rport) == offsetof(tuple4, lport) + 2);

} // namespace fg::tcp::detail
