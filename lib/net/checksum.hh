// Internet checksums (RFC 1071) for IPv4, TCP and ICMP: thin wrappers over
// DPDK's rte_ipv4_cksum / rte_ipv4_udptcp_cksum / rte_ipv4_phdr_cksum /
// rte_raw_cksum, so every builder and the classifier compute them one way.
//
// All sums work on the bytes as they sit in the packet (native 16-bit loads,
// as rte_raw_cksum does); one's complement addition does not care about byte
// order, so results are stored back as loaded. Lengths come from the headers
// already validated by the caller: these functions trust their arguments.
#pragma once

#include <cstdint>
#include <cstring>

#include <rte_ip.h>
#include <rte_mbuf_core.h>
#include <rte_tcp.h>

namespace fg::net {

// ol_flags a caller sets on an mbuf built with cksum_mode::offload (plus
// l2_len = 14, l3_len = 20): the NIC fills the IP checksum and finishes the TCP
// checksum from the pseudo-header sum we left in the field.
inline constexpr uint64_t tcp_tx_offload_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;

// Writes the IPv4 header checksum (header length from IHL).
inline void set_ipv4_cksum(rte_ipv4_hdr* ip)
{
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
}

// True if the IPv4 header (IHL words) sums to 0xffff, i.e. its checksum is right.
inline bool ipv4_cksum_ok(const rte_ipv4_hdr* ip)
{
    return rte_raw_cksum(ip, rte_ipv4_hdr_len(ip)) == 0xffff;
}

// Writes the full TCP checksum (pseudo-header + TCP header + payload, the TCP
// length taken from the IP total length).
inline void set_tcp_cksum(const rte_ipv4_hdr* ip, rte_tcp_hdr* tcp)
{
    tcp->cksum = 0;
    tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
}

// Writes only the pseudo-header sum into the TCP checksum, as DPDK's TX
// checksum offload expects (RTE_MBUF_F_TX_TCP_CKSUM without TSO).
inline void set_tcp_phdr_cksum(const rte_ipv4_hdr* ip, rte_tcp_hdr* tcp)
{
    tcp->cksum = rte_ipv4_phdr_cksum(ip, 0);
}

// True if the TCP (or UDP) checksum over pseudo-header + segment is right.
inline bool l4_cksum_ok(const rte_ipv4_hdr* ip, const void* l4)
{
    return rte_ipv4_udptcp_cksum_verify(ip, l4) == 0;
}

// ICMP checksum: plain RFC 1071 sum over the whole ICMP message.
inline uint16_t icmp_cksum(const void* icmp, uint32_t len)
{
    return uint16_t(~rte_raw_cksum(icmp, len));
}

inline bool icmp_cksum_ok(const void* icmp, uint32_t len)
{
    return rte_raw_cksum(icmp, len) == 0xffff;
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
