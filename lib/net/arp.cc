#include "net/arp.hh"

#include "net/ether.hh"

namespace fg::net {
namespace {

uint32_t write_arp(uint8_t* buf, rte_ether_addr eth_dst, uint16_t op, rte_ether_addr sha, rte_be32_t sip,
                   rte_ether_addr tha, rte_be32_t tip)
{
    write_eth(buf, eth_dst, sha, RTE_ETHER_TYPE_ARP);
    auto* arp = reinterpret_cast<rte_arp_hdr*>(buf + eth_hdr_len);
    arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
    arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
    arp->arp_hlen = RTE_ETHER_ADDR_LEN;
    arp->arp_plen = sizeof(rte_be32_t);
    arp->arp_opcode = rte_cpu_to_be_16(op);
    arp->arp_data.arp_sha = sha;
    arp->arp_data.arp_sip = sip;
    arp->arp_data.arp_tha = tha;
    arp->arp_data.arp_tip = tip;
    return arp_frame_len;
}

} // namespace

uint32_t make_arp_request(uint8_t* buf, const rte_ether_addr& src_mac, rte_be32_t src_ip, rte_be32_t target_ip)
{
    return write_arp(buf, broadcast_mac, RTE_ARP_OP_REQUEST, src_mac, src_ip, zero_mac, target_ip);
}

uint32_t make_arp_reply(uint8_t* buf, const rte_ether_addr& src_mac, rte_be32_t src_ip, const rte_ether_addr& dst_mac,
                        rte_be32_t dst_ip)
{
    return write_arp(buf, dst_mac, RTE_ARP_OP_REPLY, src_mac, src_ip, dst_mac, dst_ip);
}

uint32_t make_gratuitous_arp(uint8_t* buf, const rte_ether_addr& src_mac, rte_be32_t ip)
{
    return write_arp(buf, broadcast_mac, RTE_ARP_OP_REQUEST, src_mac, ip, zero_mac, ip);
}

uint32_t make_arp_reply_inplace(uint8_t* frame, const pkt_info& req, const rte_ether_addr& our_mac)
{
    // write_arp takes everything by value: safe even though `frame` holds the request.
    return write_arp(frame, req.arp_sha, RTE_ARP_OP_REPLY, our_mac, req.arp_tip, req.arp_sha, req.arp_sip);
}

} // namespace fg::net
