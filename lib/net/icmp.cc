#include "net/icmp.hh"

#include <cstring>

#include <rte_icmp.h>
#include <rte_ip.h>

#include "base/compiler.hh"
#include "net/checksum.hh"
#include "net/ether.hh"
#include "net/ipv4.hh"

namespace fg::net {

uint32_t make_icmp_echo_reply_inplace(uint8_t* frame, uint32_t len, const pkt_info& req)
{
    if (req.frame_len() > len || req.l3_len < ipv4_hdr_len) {
        return 0; // not a frame classify() accepted: refuse rather than write past it
    }
    swap_macs(frame);
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(frame + eth_hdr_len);
    const uint32_t icmp_len = uint32_t(req.l4_len) + req.payload_len;
    if (FG_UNLIKELY(req.l3_len != ipv4_hdr_len)) {
        // The request's IP options are not echoed (Linux echoes record-route
        // and timestamp options, ip_options_echo; we send none): the ICMP
        // message moves up behind a plain 20-byte header.
        std::memmove(frame + eth_hdr_len + ipv4_hdr_len, frame + eth_hdr_len + req.l3_len, icmp_len);
        ip->version_ihl = RTE_IPV4_VHL_DEF;
        ip->total_length = rte_cpu_to_be_16(uint16_t(ipv4_hdr_len + icmp_len));
    }
    const uint32_t out_len = eth_hdr_len + ipv4_hdr_len + icmp_len;
    const rte_be32_t src = ip->src_addr;
    ip->src_addr = ip->dst_addr;
    ip->dst_addr = src;
    ip->time_to_live = default_ttl;
    set_ipv4_cksum(ip);

    auto* icmp = reinterpret_cast<rte_icmp_hdr*>(frame + eth_hdr_len + ipv4_hdr_len);
    const uint16_t old_word = load16(icmp); // type, code as they sit in the packet
    icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
    const uint16_t new_word = load16(icmp);
    icmp->icmp_cksum = cksum_adjust16(icmp->icmp_cksum, old_word, new_word);
    if (FG_UNLIKELY(icmp->icmp_cksum == 0)) {
        // Maybe an all-zero reply (id 0, seq 0, zero data), whose checksum is 0xffff.
        icmp->icmp_cksum = icmp_cksum(icmp, icmp_len);
    }
    return out_len;
}

} // namespace fg::net
