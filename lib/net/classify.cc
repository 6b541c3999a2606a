#include "net/classify.hh"

#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf_core.h>
#include <rte_tcp.h>

#include "base/compiler.hh"
#include "net/checksum.hh"
#include "net/ether.hh"
#include "net/ipv4.hh"

namespace fg::net {
namespace {

constexpr uint32_t arp_len = sizeof(rte_arp_hdr); // 28: ARP for IPv4 over Ethernet
constexpr uint32_t tcp_min_len = sizeof(rte_tcp_hdr); // 20
constexpr uint32_t icmp_len = sizeof(rte_icmp_hdr);   // 8

FG_ALWAYS_INLINE pkt_kind dropped(drop& why, drop reason)
{
    why = reason;
    return pkt_kind::drop;
}

FG_COLD pkt_kind classify_arp(const uint8_t* frame, uint32_t len, pkt_info& out, drop& why)
{
    if (len < eth_hdr_len + arp_len) {
        return dropped(why, drop::truncated_arp);
    }
    const auto* arp = reinterpret_cast<const rte_arp_hdr*>(frame + eth_hdr_len);
    if (arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) || arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
        arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != sizeof(rte_be32_t)) {
        return dropped(why, drop::bad_arp);
    }
    const uint16_t op = rte_be_to_cpu_16(arp->arp_opcode);
    if (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY) {
        return dropped(why, drop::bad_arp);
    }
    out.l3_len = arp_len;
    out.l4_len = 0;
    out.payload_len = 0;
    out.arp_op = op;
    out.arp_sha = arp->arp_data.arp_sha;
    out.arp_sip = arp->arp_data.arp_sip;
    out.arp_tip = arp->arp_data.arp_tip;
    return pkt_kind::arp;
}

// The IP header is valid; `l4` has `l4_avail` bytes (from the IP total length).
FG_COLD pkt_kind classify_icmp(const uint8_t* l4, uint32_t l4_avail, pkt_info& out, drop& why)
{
    if (l4_avail < icmp_len) {
        return dropped(why, drop::truncated_icmp);
    }
    if (!icmp_cksum_ok(l4, l4_avail)) {
        return dropped(why, drop::bad_icmp_cksum);
    }
    const auto* icmp = reinterpret_cast<const rte_icmp_hdr*>(l4);
    if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST) {
        return dropped(why, drop::icmp_unhandled);
    }
    out.l4_len = icmp_len;
    out.payload_len = uint16_t(l4_avail - icmp_len);
    return pkt_kind::icmp_echo;
}

// IP option kinds (RFC 791 3.1, IANA) that Linux's option compiler checks.
constexpr uint8_t ipopt_end = 0;
constexpr uint8_t ipopt_noop = 1;
constexpr uint8_t ipopt_rr = 7;      // record route
constexpr uint8_t ipopt_ts = 68;     // timestamp
constexpr uint8_t ipopt_lsrr = 131;  // loose source route
constexpr uint8_t ipopt_ssrr = 137;  // strict source route
constexpr uint8_t ipopt_cipso = 134; // commercial IP security option
constexpr uint8_t ipopt_ra = 148;    // router alert
constexpr uint8_t ipopt_ts_tsandaddr = 1;
constexpr uint8_t ipopt_ts_prespec = 3;

// The IP options of a received packet (`len` bytes after the 20-byte header),
// checked as Linux's __ip_options_compile() checks them for an skb: EOL ends
// the list, NOP is skipped, a length < 2 or past the end is an error; record
// route and timestamp must have sane pointers and appear once; router alert
// needs 4 bytes; CIPSO fails (no DOI is configured, as on a stock kernel);
// source routes are noted. Unknown options are fine. Linux then drops what
// failed (and answers with ICMP parameter problem, which we do not send) and,
// with accept_source_route = 0 (the default), anything source-routed.
// Options are otherwise ignored: nothing we send echoes them.
FG_COLD bool ip_options_ok(const uint8_t* p, uint32_t len, drop& why)
{
    bool rr = false;
    bool ts = false;
    bool srr = false;
    uint32_t l = len;
    while (l > 0) {
        const uint8_t kind = p[0];
        if (kind == ipopt_end) {
            break;
        }
        if (kind == ipopt_noop) {
            p++;
            l--;
            continue;
        }
        if (l < 2) {
            why = drop::bad_ip_options; // Linux reads optptr[1] here; there is no such byte
            return false;
        }
        const uint32_t optlen = p[1];
        if (optlen < 2 || optlen > l) {
            why = drop::bad_ip_options;
            return false;
        }
        switch (kind) {
        case ipopt_ssrr:
        case ipopt_lsrr:
            if (optlen < 3 || p[2] < 4 || srr) {
                why = drop::bad_ip_options;
                return false;
            }
            srr = true;
            break;
        case ipopt_rr:
            if (rr || optlen < 3 || p[2] < 4 || (p[2] <= optlen && p[2] + 3u > optlen)) {
                why = drop::bad_ip_options;
                return false;
            }
            rr = true;
            break;
        case ipopt_ts:
            if (ts || optlen < 4 || p[2] < 5) {
                why = drop::bad_ip_options;
                return false;
            }
            if (p[2] <= optlen) {
                const uint8_t flag = p[3] & 0xf;
                if (p[2] + 3u > optlen ||
                    ((flag == ipopt_ts_tsandaddr || flag == ipopt_ts_prespec) && p[2] + 7u > optlen)) {
                    why = drop::bad_ip_options;
                    return false;
                }
            } else if ((p[3] >> 4) == 15) { // overflow counter would wrap
                why = drop::bad_ip_options;
                return false;
            }
            ts = true;
            break;
        case ipopt_ra:
            if (optlen < 4) {
                why = drop::bad_ip_options;
                return false;
            }
            break;
        case ipopt_cipso:
            why = drop::bad_ip_options; // cipso_v4_validate(): no DOI configured
            return false;
        default:
            break; // security, stream id, anything else: accepted for a received packet
        }
        p += optlen;
        l -= optlen;
    }
    if (srr) {
        why = drop::ip_source_route;
        return false;
    }
    return true;
}

} // namespace

pkt_kind classify(const uint8_t* frame, uint32_t len, uint64_t rx_ol_flags, pkt_info& out, drop& why)
{
    if (FG_UNLIKELY(len < eth_hdr_len)) {
        return dropped(why, drop::truncated_eth);
    }
    out.l2_len = eth_hdr_len;
    const rte_be16_t type = eth_hdr(frame)->ether_type;
    if (FG_UNLIKELY(type != RTE_BE16(RTE_ETHER_TYPE_IPV4))) {
        if (type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
            return classify_arp(frame, len, out, why);
        }
        return dropped(why, drop::unknown_ethertype);
    }

    // IPv4 (RFC 791, RFC 1122 3.2.1).
    const uint32_t l3_avail = len - eth_hdr_len;
    if (FG_UNLIKELY(l3_avail < ipv4_hdr_len)) {
        return dropped(why, drop::truncated_ip);
    }
    const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(frame + eth_hdr_len);
    uint32_t ihl = ipv4_hdr_len;
    if (FG_UNLIKELY(ip->version_ihl != RTE_IPV4_VHL_DEF)) {
        if ((ip->version_ihl >> 4) != IPVERSION) {
            return dropped(why, drop::bad_ip_version);
        }
        ihl = uint32_t(ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) * 4;
        if (ihl < ipv4_hdr_len) {
            return dropped(why, drop::bad_ihl);
        }
        if (ihl > l3_avail) {
            return dropped(why, drop::truncated_ip);
        }
    }
    const uint32_t total = rte_be_to_cpu_16(ip->total_length);
    if (FG_UNLIKELY(total > l3_avail || total < ihl)) {
        return dropped(why, drop::ip_total_len);
    }
    const uint64_t ip_ck = rx_ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
    if (FG_UNLIKELY(ip_ck == RTE_MBUF_F_RX_IP_CKSUM_BAD) ||
        (ip_ck == RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN && FG_UNLIKELY(!ipv4_cksum_ok(ip)))) {
        return dropped(why, drop::bad_ip_cksum);
    }
    // Linux compiles the options only after routing (ip_rcv_finish), but a
    // packet they fail is dropped either way: checking them here, before the
    // fragment and address checks, only changes the reason it is counted under.
    if (FG_UNLIKELY(ihl != ipv4_hdr_len) &&
        !ip_options_ok(frame + eth_hdr_len + ipv4_hdr_len, ihl - ipv4_hdr_len, why)) {
        return pkt_kind::drop;
    }
    if (FG_UNLIKELY((ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0)) {
        return dropped(why, drop::ip_fragment);
    }
    if (FG_UNLIKELY(is_martian_addr(ip->src_addr))) {
        return dropped(why, drop::bad_src_addr);
    }
    if (FG_UNLIKELY(is_martian_addr(ip->dst_addr))) {
        return dropped(why, drop::bad_dst_addr);
    }
    out.l3_len = uint16_t(ihl);
    out.src_ip = ip->src_addr;
    out.dst_ip = ip->dst_addr;
    out.ttl = ip->time_to_live;

    const uint8_t* l4 = frame + eth_hdr_len + ihl;
    const uint32_t l4_avail = total - ihl;
    if (FG_UNLIKELY(ip->next_proto_id != IPPROTO_TCP)) {
        if (ip->next_proto_id == IPPROTO_ICMP) {
            return classify_icmp(l4, l4_avail, out, why);
        }
        return dropped(why, drop::unknown_l4);
    }

    // TCP (RFC 9293 3.1).
    if (FG_UNLIKELY(l4_avail < tcp_min_len)) {
        return dropped(why, drop::truncated_tcp);
    }
    const auto* tcp = reinterpret_cast<const rte_tcp_hdr*>(l4);
    const uint32_t doff = uint32_t(tcp->data_off >> 4) * 4;
    if (FG_UNLIKELY(doff < tcp_min_len || doff > l4_avail)) {
        return dropped(why, drop::bad_tcp_doff);
    }
    const uint64_t l4_ck = rx_ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
    if (FG_UNLIKELY(l4_ck == RTE_MBUF_F_RX_L4_CKSUM_BAD) ||
        (l4_ck == RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN && FG_UNLIKELY(!l4_cksum_ok(ip, tcp)))) {
        return dropped(why, drop::bad_tcp_cksum);
    }
    out.l4_len = uint16_t(doff);
    out.payload_len = uint16_t(l4_avail - doff);
    out.tuple.laddr = ip->dst_addr;
    out.tuple.raddr = ip->src_addr;
    out.tuple.lport = tcp->dst_port;
    out.tuple.rport = tcp->src_port;
    out.seq = rte_be_to_cpu_32(tcp->sent_seq);
    out.ack = rte_be_to_cpu_32(tcp->recv_ack);
    out.window = rte_be_to_cpu_16(tcp->rx_win);
    out.tcp_flags = tcp->tcp_flags;
    out.opt_off = uint16_t(eth_hdr_len + ihl + tcp_min_len);
    out.opt_len = uint16_t(doff - tcp_min_len);
    return pkt_kind::tcp;
}

} // namespace fg::net
