// The steering function: every 4-tuple has exactly one owner lcore, and this is
// the one place that decides which. It is the NIC's own RSS: a Toeplitz hash of
// (src addr, dst addr, src port, dst port) with a symmetric key (0x6D5A
// repeated), so both directions of a connection hash alike, then a redirection
// table (RETA) from hash bits to a queue; queue i belongs to lcore i.
//
// Where the NIC does RSS with this key and RETA, packets arrive on their owner
// already. Where it cannot (tap, af_packet, ring ports, a NIC without RSS),
// the receiving lcore computes the same function in software and forwards the
// packet to its owner. The client side picks source ports whose replies the
// function sends back to the picking lcore (lib/port), using lport_delta().
//
// Software Toeplitz is table driven: hash = XOR of 12 byte-indexed tables
// (12 KB), instead of rte_softrss()'s loop over 96 input bits. The unit test
// checks it equals rte_softrss(); bench/steer_bench.cc keeps the comparison.
#pragma once

#include <array>
#include <cstdint>

#include "base/tuple.hh"

namespace fg {

class steering {
public:
    static constexpr uint32_t reta_max = 512;   // largest RETA a NIC we support exposes
    static constexpr uint32_t key_len = 40;     // Toeplitz key bytes, as NICs use
    static const std::array<uint8_t, key_len> symmetric_key; // 0x6D,0x5A x 20

    // n_owners lcores (queues); reta_size must be a power of two <= reta_max.
    // Entry i of the RETA names queue i % n_owners, as rte_eth_dev_rss_reta_update
    // is programmed by drivers-glue.
    explicit steering(uint16_t n_owners = 1, uint32_t reta_size = 128,
                      const std::array<uint8_t, key_len>& key = symmetric_key);

    // Toeplitz hash of the tuple as a received packet carries it:
    // (raddr, laddr, rport, lport).
    uint32_t hash(const tuple4& t) const
    {
        const uint8_t* b = reinterpret_cast<const uint8_t*>(&t);
        // tuple4 layout: laddr[0..3] raddr[4..7] lport[8..9] rport[10..11];
        // RSS input order: raddr, laddr, rport, lport.
        return _t[0][b[4]] ^ _t[1][b[5]] ^ _t[2][b[6]] ^ _t[3][b[7]] ^ _t[4][b[0]] ^ _t[5][b[1]] ^
               _t[6][b[2]] ^ _t[7][b[3]] ^ _t[8][b[10]] ^ _t[9][b[11]] ^ _t[10][b[8]] ^ _t[11][b[9]];
    }

    // The contribution of the local port to hash(): hash(t) ==
    // hash(t with lport 0) ^ lport_delta(t.lport). Lets the port allocator test
    // a candidate port's owner with two loads.
    uint32_t lport_delta(rte_be16_t lport) const
    {
        const uint8_t* b = reinterpret_cast<const uint8_t*>(&lport);
        return _t[10][b[0]] ^ _t[11][b[1]];
    }

    uint16_t owner_of_hash(uint32_t h) const { return _reta[h & (_reta_size - 1)]; }
    uint16_t owner(const tuple4& t) const { return owner_of_hash(hash(t)); }

    uint16_t n_owners() const { return _n_owners; }
    uint32_t reta_size() const { return _reta_size; }
    uint16_t reta(uint32_t i) const { return _reta[i]; }
    // 4-byte aligned, so it can be passed to rte_softrss() as it is.
    const std::array<uint8_t, key_len>& key() const { return _key; }

private:
    uint32_t _t[12][256];
    std::array<uint16_t, reta_max> _reta{};
    uint32_t _reta_size;
    uint16_t _n_owners;
    // rte_softrss() and rte_thash read the key as 32-bit words: keep it
    // 4-aligned (after a u16 it would otherwise sit at an odd half-word).
    alignas(uint32_t) std::array<uint8_t, key_len> _key;
};

} // namespace fg
