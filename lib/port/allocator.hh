// fg::port::allocator picks the ephemeral source port for an outgoing
// connection, the way Linux's __inet_hash_connect() does since 5.18
// (RFC 6056 algorithm 4, "double-hash port selection"):
//
//   port_offset = SipHash(saddr, daddr, dport)   (secure_ipv4_port_ephemeral)
//   index       = port_offset & 0xFFFF           (a perturbation table slot)
//   start       = (table[index] + (port_offset >> 32)) % range, made even
//   scan start, start+2, ... (lo's parity first), then the other parity;
//   on success table[index] += max(i, 2 * random_below(8)) + 2
//
// so consecutive connections to one destination walk the range instead of
// colliding, different destinations start at unrelated places, and an
// observer cannot predict the next port.
//
// Floodgate adds one rule: an lcore hands out only (source address, port)
// pairs whose 4-tuple it owns under fg::steering, so the SYN-ACK comes back to
// the lcore that sent the SYN. Ownership costs two table loads per candidate:
// hash(tuple with lport 0) once per call, then owner_of_hash(h0 ^
// lport_delta(port)). Uniqueness is per 4-tuple: the caller's in_use(tuple)
// callback says whether a 4-tuple is free, busy (in use, or the port is bound)
// or a TIME_WAIT entry it may recycle (Linux tcp_tw_reuse); the allocator
// takes the first acceptable candidate in scan order.
//
// Running out is -EADDRNOTAVAIL after at most one pass over the range: bounded
// work, never a hang. Like Linux, an odd-sized range [lo, hi] loses one port
// per scan (remaining &= ~1): configure lo even and hi odd.
//
// One departure from Linux, measured in bench/port_bench.cc: once more than
// half of a destination's ports are in use, lo's parity is full and Linux
// scans all of it (14k candidates, 7k owned by each of 2 lcores) on every connect
// before trying the other parity: 110-150 us per call under churn at 60-90%
// occupancy against 0.65-1.1 us with the hint below (BM_PortAllocChurn,
// 2 lcores, one loaded run; CPU time). We remember, per
// perturbation slot (tagged with a 16-bit fingerprint of the destination),
// that lo's parity was found full and scan the other parity first next time;
// when that one has no room the scan falls back to lo's parity and forgets the
// hint if it finds a port there. Both parities are still scanned before
// -EADDRNOTAVAIL, and as long as nothing is freed the ports chosen are
// exactly Linux's (a freed port of lo's parity may be passed over until the
// other parity fills). config::remember_full_parity = false is exact Linux.
//
// One allocator per lcore, single-threaded, no allocation after construction.
#pragma once

#include <array>
#include <cerrno>
#include <cstdint>
#include <utility>
#include <vector>

#include <rte_byteorder.h>

#include "base/compiler.hh"
#include "base/siphash.hh"
#include "base/steer.hh"
#include "base/tuple.hh"

namespace fg::port {

// What the caller's in_use() callback says about a candidate 4-tuple.
#define FG_PORT_TUPLE_STATES(X)                                                                                     \
    X(free, "unused: take it")                                                                                      \
    X(busy, "in use, or the port is bound: skip it")                                                                \
    X(time_wait_reusable, "a TIME_WAIT entry safe to reuse (tcp_tw_reuse): take it, the caller recycles the entry")

enum class tuple_state : uint8_t {
#define FG_PORT_STATE_ENUM(name, doc) name,
    FG_PORT_TUPLE_STATES(FG_PORT_STATE_ENUM)
#undef FG_PORT_STATE_ENUM
};
const char* to_string(tuple_state s);

#define FG_PORT_COUNTERS(X)                                                                                         \
    X(allocated, "ports handed out for a free 4-tuple")                                                             \
    X(tw_reused, "ports handed out by recycling a TIME_WAIT 4-tuple")                                               \
    X(exhausted, "calls that found no port (-EADDRNOTAVAIL)")                                                       \
    X(probes, "candidate 4-tuples offered to in_use()")                                                             \
    X(not_owned, "candidate ports skipped: another lcore owns the 4-tuple")                                         \
    X(parity_skips, "calls that scanned the other parity first: low's was full last time")

struct counters {
#define FG_PORT_COUNTER_FIELD(name, doc) uint64_t name = 0;
    FG_PORT_COUNTERS(FG_PORT_COUNTER_FIELD)
#undef FG_PORT_COUNTER_FIELD
};

struct config {
    uint16_t lo = 32768;            // ip_local_port_range, Linux default 32768 60999
    uint16_t hi = 60999;            // inclusive
    std::vector<uint16_t> reserved; // never handed out (ip_local_reserved_ports); outside [lo, hi] is ignored
    // Remember, per destination, that lo's parity was full, and scan the
    // other parity first next time (see the header comment). false = exactly
    // Linux, which rescans the full parity on every call.
    bool remember_full_parity = true;
};

class allocator {
public:
    // Linux INET_TABLE_PERTURB_SIZE: 2^16 slots, so unrelated destinations
    // rarely share a slot (and so a walk). 16-bit entries: 128 KB per lcore.
    static constexpr uint32_t perturb_size = 1u << 16;
    // Linux: on success the slot advances by max(i, 2 * random_below(8)) + 2,
    // random on low contention, the scan length on high contention.
    static constexpr uint32_t perturb_random = 8;

    // Throws std::invalid_argument on a bad config (lo == 0, lo > hi) or an
    // lcore the steering function does not know. The steering function is
    // copied (13 KB): the allocator keeps its tables next to its own.
    allocator(const config& cfg, const steering& steer, uint16_t my_lcore, const siphash_key& key);

    // A host-order port for laddr -> raddr:rport whose 4-tuple this lcore
    // owns and in_use() accepts, or -EADDRNOTAVAIL. in_use(const tuple4&)
    // returns a tuple_state. *reused_tw tells whether a TIME_WAIT 4-tuple was
    // taken (the caller must then recycle that entry).
    template <class InUse>
    int alloc(rte_be32_t laddr, rte_be32_t raddr, rte_be16_t rport, InUse&& in_use, bool* reused_tw = nullptr)
    {
        bool tw = false;
        const int port = scan(laddr, raddr, rport, in_use, &tw);
        account(port, tw, reused_tw);
        return port;
    }

    // As alloc() over several local addresses: starts at a different address
    // each call (round robin) so load spreads, tries each in turn before
    // giving up. *chosen_laddr gets the address used.
    template <class InUse>
    int alloc_any(const rte_be32_t* laddrs, uint32_t n, rte_be32_t raddr, rte_be16_t rport, InUse&& in_use,
                  rte_be32_t* chosen_laddr, bool* reused_tw = nullptr)
    {
        bool tw = false;
        int port = -EADDRNOTAVAIL;
        if (n != 0) {
            uint32_t j = _rotor % n;
            _rotor = j + 1;
            for (uint32_t k = 0; k < n; k++, j = (j + 1 == n) ? 0 : j + 1) {
                port = scan(laddrs[j], raddr, rport, in_use, &tw);
                if (port >= 0) {
                    if (chosen_laddr != nullptr) {
                        *chosen_laddr = laddrs[j];
                    }
                    break;
                }
            }
        }
        account(port, tw, reused_tw);
        return port;
    }

    // Whether this lcore owns laddr:port -> raddr:rport (port host order).
    bool owns(rte_be32_t laddr, rte_be32_t raddr, rte_be16_t rport, uint16_t port) const
    {
        return _steer.owner(tuple4{laddr, raddr, rte_cpu_to_be_16(port), rport}) == _me;
    }
    bool reserved(uint16_t port) const { return (_reserved[port >> 6] >> (port & 63)) & 1; }
    uint16_t lo() const { return uint16_t(_low); }
    uint16_t hi() const { return uint16_t(_high - 1); }
    uint16_t lcore() const { return _me; }
    uint16_t perturb(uint32_t index) const { return _perturb[index & (perturb_size - 1)]; }
    const counters& stats() const { return _ctr; }

private:
    // __inet_hash_connect()'s scan. Returns the port or -EADDRNOTAVAIL.
    template <class InUse>
    int scan(rte_be32_t laddr, rte_be32_t raddr, rte_be16_t rport, InUse& in_use, bool* tw)
    {
        // secure_ipv4_port_ephemeral(): SipHash of the raw network-order words.
        const uint64_t port_offset = siphash_3u32(laddr, raddr, uint32_t(rport), _key);
        const uint32_t index = uint32_t(port_offset) & (perturb_size - 1);
        uint32_t offset = (uint32_t(_perturb[index]) + uint32_t(port_offset >> 32)) % _remaining;
        offset &= ~1u; // first pass: low's parity
        tuple4 t{laddr, raddr, 0, rport};
        const uint32_t h0 = _steer.hash(t);
        if (_remaining <= 1) {
            return pass(offset, index, h0, t, in_use, tw);
        }
        const uint16_t fp = uint16_t(port_offset >> 48) | 1; // which destination set the hint
        if (!_hint || _full[index] != fp) {
            // As Linux: low's parity, then the other.
            const int port = pass(offset, index, h0, t, in_use, tw);
            if (port >= 0) {
                return port;
            }
            if (_hint) {
                _full[index] = fp;
            }
            return pass(offset + 1, index, h0, t, in_use, tw);
        }
        // Low's parity was full last time: the other first, then low's (and
        // if low's has room again, forget the hint).
        _ctr.parity_skips++;
        const int port = pass(offset + 1, index, h0, t, in_use, tw);
        if (port >= 0) {
            return port;
        }
        const int again = pass(offset, index, h0, t, in_use, tw);
        if (again >= 0) {
            _full[index] = 0;
        }
        return again;
    }

    // One parity: offset, offset + 2, ... over the range.
    template <class InUse>
    int pass(uint32_t offset, uint32_t index, uint32_t h0, tuple4& t, InUse& in_use, bool* tw)
    {
        uint32_t port = _low + offset;
        for (uint32_t i = 0; i < _remaining; i += 2, port += 2) {
            if (FG_UNLIKELY(port >= _high)) {
                port -= _remaining;
            }
            if (FG_UNLIKELY(reserved(uint16_t(port)))) {
                continue;
            }
            const rte_be16_t be = rte_cpu_to_be_16(uint16_t(port));
            if (_steer.owner_of_hash(h0 ^ _steer.lport_delta(be)) != _me) {
                _ctr.not_owned++;
                continue;
            }
            t.lport = be;
            _ctr.probes++;
            const tuple_state st = in_use(std::as_const(t));
            if (st != tuple_state::busy) {
                *tw = st == tuple_state::time_wait_reusable;
                const uint32_t step = 2 * random_below(perturb_random);
                _perturb[index] = uint16_t(_perturb[index] + (i > step ? i : step) + 2);
                return int(port);
            }
        }
        return -EADDRNOTAVAIL;
    }

    void account(int port, bool tw, bool* reused_tw)
    {
        if (port < 0) {
            _ctr.exhausted++;
            tw = false;
        } else if (tw) {
            _ctr.tw_reused++;
        } else {
            _ctr.allocated++;
        }
        if (reused_tw != nullptr) {
            *reused_tw = tw;
        }
    }

    // xorshift64*: Linux uses get_random_u32_below(); the perturbation only
    // needs to be unpredictable to an outsider, and the seed is secret.
    uint32_t random_below(uint32_t n)
    {
        _rng ^= _rng >> 12;
        _rng ^= _rng << 25;
        _rng ^= _rng >> 27;
        return uint32_t(((_rng * 0x2545F4914F6CDD1Dull) >> 32) * n >> 32);
    }

    steering _steer;
    siphash_key _key;
    uint32_t _low;       // Linux's low
    uint32_t _high;      // Linux's high: hi + 1
    uint32_t _remaining; // high - low, made even when > 1
    uint16_t _me;
    uint32_t _rotor = 0; // alloc_any's next starting address
    uint64_t _rng;
    counters _ctr;
    std::array<uint64_t, 65536 / 64> _reserved{};
    std::vector<uint16_t> _perturb;
    bool _hint;                  // config::remember_full_parity
    std::vector<uint16_t> _full; // per perturbation slot: fingerprint of the destination whose low parity was full
};

} // namespace fg::port
