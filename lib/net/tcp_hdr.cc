#include "net/tcp_hdr.hh"

#include <rte_ip.h>

#include "net/checksum.hh"
#include "net/ether.hh"
#include "net/ipv4.hh"

namespace fg::net {

uint32_t make_tcp_segment(uint8_t* buf, const rte_ether_addr& src_mac, const rte_ether_addr& dst_mac,
                          const tuple4& t, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t window,
                          const tcp_options* opts, cksum_mode mode, uint32_t payload_len)
{
    // Copy every argument that may live in `buf` before writing to it.
    const rte_ether_addr smac = src_mac;
    const rte_ether_addr dmac = dst_mac;
    const tuple4 tup = t;
    tcp_options o;
    const bool has_opts = opts != nullptr;
    if (has_opts) {
        o = *opts;
    }

    write_eth(buf, dmac, smac, RTE_ETHER_TYPE_IPV4);
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(buf + eth_hdr_len);
    auto* tcp = reinterpret_cast<rte_tcp_hdr*>(buf + eth_hdr_len + ipv4_hdr_len);
    uint32_t opt_len = 0;
    if (has_opts) {
        opt_len = write_tcp_options(reinterpret_cast<uint8_t*>(tcp + 1), o);
    }
    const uint32_t tcp_len = uint32_t(sizeof(rte_tcp_hdr)) + opt_len;
    write_ipv4_hdr(ip, uint16_t(ipv4_hdr_len + tcp_len + payload_len), IPPROTO_TCP, tup.laddr, tup.raddr);

    tcp->src_port = tup.lport;
    tcp->dst_port = tup.rport;
    tcp->sent_seq = rte_cpu_to_be_32(seq);
    tcp->recv_ack = rte_cpu_to_be_32(ack);
    tcp->data_off = uint8_t((tcp_len / 4) << 4);
    tcp->tcp_flags = flags;
    tcp->rx_win = rte_cpu_to_be_16(window);
    tcp->tcp_urp = 0;
    if (mode == cksum_mode::software) {
        set_ipv4_cksum(ip);
        set_tcp_cksum(ip, tcp);
    } else {
        set_tcp_phdr_cksum(ip, tcp);
    }
    return eth_hdr_len + ipv4_hdr_len + tcp_len + payload_len;
}

uint32_t make_tcp_reset_for(uint8_t* buf, const pkt_info& in, const rte_ether_addr& src_mac,
                            const rte_ether_addr& dst_mac, cksum_mode mode)
{
    if ((in.tcp_flags & RTE_TCP_ACK_FLAG) != 0) {
        return make_tcp_segment(buf, src_mac, dst_mac, in.tuple, in.ack, 0, RTE_TCP_RST_FLAG, 0, nullptr, mode);
    }
    return make_tcp_segment(buf, src_mac, dst_mac, in.tuple, 0, in.seq + seg_len(in),
                            RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, 0, nullptr, mode);
}

} // namespace fg::net
