// Internet checksums (RFC 1071) for IPv4, TCP and ICMP, one way for every
// builder and for the classifier.
//
// The sums add the bytes as they sit in the packet, eight at a time into a
// 64-bit accumulator whose carries are folded in at the end: RFC 1071's
// "byte order independence" and "parallel summation" (section 2 (B), (C))
// make that equal to the 16-bit one's complement sum. DPDK's rte_raw_cksum
// adds one 16-bit word per step; on the 20-60 byte headers of a handshake
// this is 3-4x fewer operations (bench/parse_bench.cc BM_Cksum*), and every
// segment is summed twice (built, then verified by the receiver). Results are
// equal to DPDK's for every length and alignment (tests/unit/net/checksum_test.cc).
//
// Lengths come from the headers already validated by the caller: these
// functions trust their arguments.
#pragma once

#include <cstdint>
#include <cstring>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf_core.h>
#include <rte_tcp.h>

namespace fg::net {

// The 64-bit partial sum of len bytes at p (any alignment), to be folded by
// cksum_fold(). `sum` carries a previous partial sum in.
inline uint64_t cksum_add(const void* p, uint32_t len, uint64_t sum = 0)
{
    const uint8_t* b = static_cast<const uint8_t*>(p);
    // 64-bit words into a 128-bit accumulator (add, add-with-carry: two
    // instructions per 8 bytes); the carries above bit 63 are added back at
    // the end (end-around carry: 2^64 = 1 modulo 2^16 - 1).
    unsigned __int128 acc = sum;
    while (len >= 16) {
        uint64_t w[2];
        std::memcpy(w, b, 16);
        acc += w[0];
        acc += w[1];
        b += 16;
        len -= 16;
    }
    if (len >= 8) {
        uint64_t w;
        std::memcpy(&w, b, 8);
        acc += w;
        b += 8;
        len -= 8;
    }
    uint64_t s = uint64_t(acc) + uint64_t(acc >> 64);
    s += s < uint64_t(acc >> 64) ? 1 : 0; // the carry of that addition, around again
    // The rest (0-7 bytes) as 32-bit words and a last 16-bit word or byte,
    // into a 64-bit sum that cannot overflow from here: fold once first.
    s = (s & 0xffffffffu) + (s >> 32);
    if (len >= 4) {
        uint32_t w;
        std::memcpy(&w, b, 4);
        s += w;
        b += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t w;
        std::memcpy(&w, b, 2);
        s += w;
        b += 2;
        len -= 2;
    }
    if (len != 0) {
        // The odd byte is the high-order byte of a 16-bit word on the wire:
        // as loaded natively that is the first byte of the pair.
        uint16_t w = 0;
        std::memcpy(&w, b, 1);
        s += w;
    }
    return s;
}

// Folds a partial sum to 16 bits (end-around carries), not complemented:
// what rte_raw_cksum returns.
inline uint16_t cksum_fold(uint64_t sum)
{
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    uint32_t s = uint32_t(sum & 0xffff) + uint32_t(sum >> 16);
    s = (s & 0xffff) + (s >> 16);
    return uint16_t((s & 0xffff) + (s >> 16));
}

// rte_raw_cksum(p, len), faster.
inline uint16_t raw_cksum(const void* p, uint32_t len)
{
    return cksum_fold(cksum_add(p, len));
}

// The IPv4 pseudo-header of a TCP (or UDP) segment of l4_len bytes, as a
// partial sum (source, destination, protocol, length).
inline uint64_t ipv4_phdr_sum(const rte_ipv4_hdr* ip, uint32_t l4_len)
{
    uint64_t sum = uint64_t(ip->src_addr) + ip->dst_addr;
    sum += rte_cpu_to_be_16(uint16_t(ip->next_proto_id)); // zero byte, then the protocol
    sum += rte_cpu_to_be_16(uint16_t(l4_len));
    return sum;
}

// TCP payload length from the IP header (total length minus IHL).
inline uint32_t ipv4_l4_len(const rte_ipv4_hdr* ip)
{
    return uint32_t(rte_be_to_cpu_16(ip->total_length)) - uint32_t(ip->version_ihl & 0x0f) * 4;
}

// ol_flags a caller sets on an mbuf built with cksum_mode::offload (plus
// l2_len = 14, l3_len = 20): the NIC fills the IP checksum and finishes the TCP
// checksum from the pseudo-header sum we left in the field.
inline constexpr uint64_t tcp_tx_offload_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;

// Writes the IPv4 header checksum (header length from IHL).
inline void set_ipv4_cksum(rte_ipv4_hdr* ip)
{
    ip->hdr_checksum = 0;
    ip->hdr_checksum = uint16_t(~raw_cksum(ip, uint32_t(ip->version_ihl & 0x0f) * 4)); // = rte_ipv4_cksum
}

// True if the IPv4 header (IHL words) sums to 0xffff, i.e. its checksum is right.
inline bool ipv4_cksum_ok(const rte_ipv4_hdr* ip)
{
    const uint32_t ihl = uint32_t(ip->version_ihl & 0x0f) * 4;
    // Without options (nearly always) a constant 20 bytes: the sum unrolled.
    return (ihl == 20 ? raw_cksum(ip, 20) : raw_cksum(ip, ihl)) == 0xffff;
}

// Writes the full TCP checksum (pseudo-header + TCP header + payload, the TCP
// length taken from the IP total length).
inline void set_tcp_cksum(const rte_ipv4_hdr* ip, rte_tcp_hdr* tcp)
{
    tcp->cksum = 0;
    const uint32_t l4 = ipv4_l4_len(ip);
    tcp->cksum = uint16_t(~cksum_fold(cksum_add(tcp, l4, ipv4_phdr_sum(ip, l4)))); // = rte_ipv4_udptcp_cksum
}

// Writes only the pseudo-header sum into the TCP checksum, as DPDK's TX
// checksum offload expects (RTE_MBUF_F_TX_TCP_CKSUM without TSO).
inline void set_tcp_phdr_cksum(const rte_ipv4_hdr* ip, rte_tcp_hdr* tcp)
{
    tcp->cksum = cksum_fold(ipv4_phdr_sum(ip, ipv4_l4_len(ip))); // = rte_ipv4_phdr_cksum(ip, 0)
}

// True if the TCP (or UDP) checksum over pseudo-header + segment is right.
inline bool l4_cksum_ok(const rte_ipv4_hdr* ip, const void* l4)
{
    const uint32_t len = ipv4_l4_len(ip);
    return cksum_fold(cksum_add(l4, len, ipv4_phdr_sum(ip, len))) == 0xffff;
}

// ICMP checksum: plain RFC 1071 sum over the whole ICMP message.
inline uint16_t icmp_cksum(const void* icmp, uint32_t len)
{
    return uint16_t(~raw_cksum(icmp, len));
}

inline bool icmp_cksum_ok(const void* icmp, uint32_t len)
{
    return raw_cksum(icmp, len) == 0xffff;
}

// RFC 1624 eqn. 3 incremental update: the checksum `cksum` covered a 16-bit
// word `old_word` that becomes `new_word` (all three as loaded from the packet).
// One ambiguity remains: when the covered data becomes all zeros the right
// checksum is 0xffff but this returns 0. A 0 result is right in every other
// case, so callers whose data can be all zeros recompute when they get 0.
inline uint16_t cksum_adjust16(uint16_t cksum, uint16_t old_word, uint16_t new_word)
{
    uint32_t sum = uint32_t(uint16_t(~cksum)) + uint16_t(~old_word) + new_word;
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
}

// Native 16-bit load/store at any alignment, for checksum arithmetic on raw bytes.
inline uint16_t load16(const void* p)
{
    uint16_t v;
    std::memcpy(&v, p, sizeof(v));
    return v;
}

inline void store16(void* p, uint16_t v)
{
    std::memcpy(p, &v, sizeof(v));
}

} // namespace fg::net
