// fg::gen::pair_space is one (target, lcore)'s supply of source pairs for
// the load generator: every (source address, local port) whose 4-tuple to
// the target this lcore owns under the steering function (so the SYN-ACK
// comes back here), minus reserved ports. take() and give_back() are O(1) at
// any occupancy, and running out is known at once -- no scan, no table probe.
//
// Why not the engine's connect() allocator: it is Linux's RFC 6056
// algorithm 4, a scan that probes the connection table once per candidate.
// At 50-90% occupancy of a destination's ports that is 14k probes per
// connect (bench/port_bench.cc), and past half of the 4-tuples the load
// generator fell from 967 k/s to 16 k/s. An application's connect() keeps the
// Linux-exact allocator; the generator, which owns whole ranges of source
// addresses, keeps free lists instead.
//
// Layout: pairs never handed out come from a cursor that walks ports in
// order and, for each port, every source address (so consecutive
// connections rotate over the addresses, as Linux's would over a bound
// range); each candidate costs one table load to test ownership
// (steering::owner_of_hash of a per-address precomputed hash). Pairs given
// back (their connection's block was freed: after TIME-WAIT, an RST, a
// failure) go to a FIFO ring of packed (address index << 16 | port) words,
// and are handed out again oldest first, after the cursor's fresh pairs as
// long as the ring is less than half full -- so a 4-tuple is reused as late
// as possible (the peer may still hold TIME-WAIT state for it).
//
// Memory: 4 bytes per ring entry, reserved virtually for
// min(addresses x ports, max(2^24, 2 x connection capacity)) entries and
// faulted in only as pairs are given back: zero while connections are only
// opened and held. That bound never overflows: more than half the ring full
// means the ring is drained first, and at most `capacity` pairs are out.
//
// Single-threaded: one per (target, lcore), used by that lcore only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <rte_byteorder.h>

#include "base/compiler.hh"
#include "base/mem.hh"
#include "base/steer.hh"

namespace fg::gen {

class pair_space {
public:
    static constexpr uint32_t max_addrs = 1u << 16;      // address index must fit the ring word's high half
    static constexpr uint64_t ring_floor = 1ull << 24;  // ring entries at least (64 MB virtual at most)

    pair_space() = default;
    ~pair_space() { free_huge(_ring_mem); }
    pair_space(const pair_space&) = delete;
    pair_space& operator=(const pair_space&) = delete;
    pair_space(pair_space&& o) noexcept { *this = std::move(o); }
    pair_space& operator=(pair_space&& o) noexcept;

    // laddrs: the source addresses (network order, at most max_addrs); ports
    // [lo, hi] minus `reserved`; the target raddr:rport (network order);
    // `me` this lcore under `steer`; `capacity` the most connections this
    // lcore can have open (sizes the ring). False with a message on a bad
    // argument or no memory.
    bool init(const std::vector<rte_be32_t>& laddrs, uint16_t lo, uint16_t hi, const std::vector<uint16_t>& reserved,
              rte_be32_t raddr, rte_be16_t rport, const steering& steer, uint16_t me, uint32_t capacity,
              std::string& error);

    // A free pair: address index (into laddrs) and host-order port. False
    // when every pair this lcore owns is out.
    bool take(uint32_t& addr_idx, uint16_t& port)
    {
        if (_ring_n != 0 && (_ring_n >= _ring_cap / 2 || _cursor_done)) {
            const uint32_t w = _ring[_head];
            _head = _head + 1 == _ring_cap ? 0 : _head + 1;
            _ring_n--;
            addr_idx = w >> 16;
            port = uint16_t(w);
            _out++;
            return true;
        }
        if (!_cursor_done && next_fresh(addr_idx, port)) {
            _out++;
            return true;
        }
        if (_ring_n != 0) { // the cursor just ran out
            return take(addr_idx, port);
        }
        return false;
    }

    // A pair taken before is free again.
    void give_back(uint32_t addr_idx, uint16_t port)
    {
        uint64_t tail = _head + _ring_n;
        if (tail >= _ring_cap) {
            tail -= _ring_cap;
        }
        _ring[tail] = (addr_idx << 16) | port;
        _ring_n++;
        _out--;
    }

    // Pairs handed out and not given back.
    uint64_t out() const { return _out; }
    // Pairs waiting in the ring (given back, not taken again).
    uint64_t recycled() const { return _ring_n; }
    // The cursor has visited every pair: take() now only recycles.
    bool cursor_done() const { return _cursor_done; }
    uint64_t ring_capacity() const { return _ring_cap; }
    // Address index of a source address, or -1 if it is not one of ours.
    // O(1) when the addresses are one ascending range (the usual --ip
    // A-B), else a binary search.
    int64_t addr_index(rte_be32_t laddr) const
    {
        if (FG_LIKELY(_contiguous)) {
            const uint32_t d = rte_be_to_cpu_32(laddr) - _sorted.front();
            return d < _sorted.size() ? int64_t(d) : -1;
        }
        return addr_index_search(laddr);
    }
    // Bytes of ring memory reserved (virtual) and faulted in at most so far.
    std::size_t ring_bytes_reserved() const { return _ring_mem.bytes; }

private:
    bool next_fresh(uint32_t& addr_idx, uint16_t& port);
    int64_t addr_index_search(rte_be32_t laddr) const;

    // Cursor over (port, address), port-major.
    uint32_t _c_port = 0;     // host order
    uint32_t _c_addr = 0;
    bool _cursor_done = true;
    uint16_t _lo = 0;
    uint16_t _hi = 0;
    uint16_t _me = 0;
    bool _all_mine = true;    // one owner: no ownership test
    std::vector<uint32_t> _h0;        // steering hash of (laddr, 0, raddr, rport) per address
    std::vector<uint64_t> _reserved;  // bitmap over 65536 ports
    std::vector<rte_be32_t> _laddrs;
    std::vector<uint32_t> _sorted;    // host-order addresses sorted, for addr_index
    std::vector<uint32_t> _sorted_idx;
    bool _contiguous = false;         // laddrs[i] == laddrs[0] + i (host order)
    const steering* _steer = nullptr;

    // FIFO ring of given-back pairs.
    huge_region _ring_mem;
    uint32_t* _ring = nullptr;
    uint64_t _ring_cap = 0;
    uint64_t _head = 0;
    uint64_t _ring_n = 0;
    uint64_t _out = 0;
};

} // namespace fg::gen
