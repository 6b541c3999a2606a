// Ethernet II framing on DPDK's rte_ether_hdr. Frames are raw byte buffers
// (`uint8_t* frame`, as rte_pktmbuf_mtod gives them) so that parsing and
// building need neither EAL nor mbufs. Frame buffers must be 2-byte aligned,
// as mbuf data always is (rte_ether_hdr is declared __rte_aligned(2)).
// No 802.1Q: a VLAN-tagged frame is an unknown ethertype for now.
#pragma once

#include <cstdint>
#include <cstring>

#include <rte_ether.h>

namespace fg::net {

inline constexpr uint32_t eth_hdr_len = sizeof(rte_ether_hdr); // 14: no VLAN tag

inline constexpr rte_ether_addr broadcast_mac{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
inline constexpr rte_ether_addr zero_mac{{0, 0, 0, 0, 0, 0}};

// Writes an Ethernet header. `ether_type` in host order (RTE_ETHER_TYPE_*).
// dst/src are copied by value first, so they may point into `buf` itself.
inline void write_eth(uint8_t* buf, rte_ether_addr dst, rte_ether_addr src, uint16_t ether_type)
{
    auto* eth = reinterpret_cast<rte_ether_hdr*>(buf);
    eth->dst_addr = dst;
    eth->src_addr = src;
    eth->ether_type = rte_cpu_to_be_16(ether_type);
}

inline const rte_ether_hdr* eth_hdr(const uint8_t* frame)
{
    return reinterpret_cast<const rte_ether_hdr*>(frame);
}

inline rte_ether_hdr* eth_hdr(uint8_t* frame)
{
    return reinterpret_cast<rte_ether_hdr*>(frame);
}

// Swaps source and destination MAC in place (replies built in the request's buffer).
inline void swap_macs(uint8_t* frame)
{
    auto* eth = eth_hdr(frame);
    const rte_ether_addr tmp = eth->dst_addr;
    eth->dst_addr = eth->src_addr;
    eth->src_addr = tmp;
}

} // namespace fg::net
