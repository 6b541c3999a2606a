// IPv4 header rules on DPDK's rte_ipv4_hdr: which addresses a segment may come
// from or go to, and the header every Floodgate packet carries (IHL 5, DF,
// TTL 64, ID 0 as Linux sends with DF set). Addresses are rte_be32_t, network
// order, exactly as in the packet.
#pragma once

#include <cstdint>

#include <rte_ip.h>

namespace fg::net {

inline constexpr uint32_t ipv4_hdr_len = sizeof(rte_ipv4_hdr); // 20: we send no IP options (received ones are checked and skipped)
inline constexpr uint8_t default_ttl = 64;                     // Linux's net.ipv4.ip_default_ttl

// True if `addr` may not appear as a source or destination of anything we
// handle: 0/8 ("this network", incl. 0.0.0.0), 127/8 (loopback on the wire is
// a martian), 224/4 (multicast) and 240/4 (class E, incl. the limited
// broadcast 255.255.255.255). Linux's ip_route_input_slow() treats the same
// ranges as martians. Subnet-directed broadcasts depend on our interface
// addresses and are the route library's business.
inline bool is_martian_addr(rte_be32_t addr)
{
    const uint8_t first = reinterpret_cast<const uint8_t*>(&addr)[0]; // first octet on the wire
    return first == 0 || first == 127 || first >= 224;
}

// Writes a 20-byte IPv4 header with checksum field 0 (callers fill it in or
// leave it to the NIC). `total_len` in host order.
inline void write_ipv4_hdr(rte_ipv4_hdr* ip, uint16_t total_len, uint8_t proto, rte_be32_t src, rte_be32_t dst)
{
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->type_of_service = 0;
    ip->total_length = rte_cpu_to_be_16(total_len);
    ip->packet_id = 0;
    ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
    ip->time_to_live = default_ttl;
    ip->next_proto_id = proto;
    ip->hdr_checksum = 0;
    ip->src_addr = src;
    ip->dst_addr = dst;
}

} // namespace fg::net
