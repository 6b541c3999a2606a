// classify() is the first thing every received frame meets: one pass over the
// Ethernet, IPv4/ARP and TCP/ICMP headers that either says what the frame is
// (ARP, ICMP echo request, TCP segment) and fills a pkt_info with everything
// later stages need, or drops it with a reason from drop.hh.
//
// It trusts no length in the packet: it never reads past `len`, and every
// length it reports (l3, l4, payload) lies inside the frame. Lengths past the
// IP header come from the IP total length, not from the frame length, so the
// padding a NIC adds to short Ethernet frames is ignored. Checksums: where the
// NIC reported GOOD or BAD in the rx ol_flags (RTE_MBUF_F_RX_IP_CKSUM_*,
// RTE_MBUF_F_RX_L4_CKSUM_*) we believe it; NONE (data wrong but integrity
// verified) counts as good; UNKNOWN means we check in software. ICMP checksums
// are always checked in software (NICs' L4 flags cover TCP/UDP only).
//
// IPv4 options (IHL > 5) are checked as Linux checks them on receipt (see
// ip_options_ok in classify.cc): malformed ones and source routes are drops,
// anything else is skipped -- l3_len covers them and every later offset
// counts from the end of the options. Replies never carry options.
//
// Truncation is reported per layer: a frame cut inside the Ethernet or IP
// header is truncated_eth / truncated_ip; a frame cut after the IP header is
// ip_total_len (the IP header claims more than the frame holds); truncated_tcp
// and truncated_icmp mean the IP packet itself is too short for the L4 header.
//
// It does not decide whether the destination is one of our addresses (lib/route
// does) nor anything about TCP state (lib/tcp). Called for every received
// packet at tens of Mpps: no allocation, no system call, branches laid out for
// a valid TCP segment first.
#pragma once

#include <cstdint>

#include <rte_ether.h>

#include "base/tuple.hh"
#include "net/drop.hh"

namespace fg::net {

enum class pkt_kind : uint8_t {
    arp,       // ARP request or reply for IPv4 over Ethernet
    icmp_echo, // ICMP echo request
    tcp,       // TCP segment
    drop,      // see the drop reason
};

// What classify() learnt. Only the fields of the returned kind are written;
// the rest keep whatever they held.
struct pkt_info {
    uint16_t l2_len;      // all kinds: 14
    uint16_t l3_len;      // IPv4 header length incl. options (20..60) / ARP: 28
    uint16_t l4_len;      // TCP header incl. options (doff * 4) / ICMP header: 8
    uint16_t payload_len; // bytes after the L4 header, from the IP total length (never Ethernet padding)
    rte_be32_t src_ip;    // IP source, network order (tcp, icmp_echo)
    rte_be32_t dst_ip;    // IP destination, network order (tcp, icmp_echo)
    tuple4 tuple;         // tcp: receiver's view: laddr = IP dst, raddr = IP src, lport = TCP dst, rport = TCP src
    uint32_t seq;         // tcp: sequence number, host order
    uint32_t ack;         // tcp: acknowledgment number, host order
    uint16_t window;      // tcp: window field (unscaled), host order
    uint8_t tcp_flags;    // tcp: RTE_TCP_*_FLAG bits
    uint8_t ttl;          // IP TTL (tcp, icmp_echo)
    uint16_t opt_off;     // tcp: offset of the TCP options from the frame start
    uint16_t opt_len;     // tcp: length of the TCP options (doff * 4 - 20, up to 40)
    uint16_t arp_op;      // arp: RTE_ARP_OP_REQUEST or RTE_ARP_OP_REPLY, host order
    rte_ether_addr arp_sha; // arp: sender hardware address
    rte_be32_t arp_sip;   // arp: sender IP, network order
    rte_be32_t arp_tip;   // arp: target IP, network order

    // Bytes of the frame that are the packet (IP total length + 14, or 42 for
    // ARP): what remains after stripping Ethernet padding.
    uint32_t frame_len() const { return uint32_t(l2_len) + l3_len + l4_len + payload_len; }
};

static_assert(sizeof(pkt_info) <= 64, "pkt_info stays within one cache line per packet of a burst");

// Classifies the frame `frame[0..len)` (2-byte aligned) with the rx offload
// flags of its mbuf (0 when there are none). On pkt_kind::drop, `why` says why
// and `out` is partly written; otherwise `why` is untouched.
pkt_kind classify(const uint8_t* frame, uint32_t len, uint64_t rx_ol_flags, pkt_info& out, drop& why);

inline const char* pkt_kind_name(pkt_kind k)
{
    switch (k) {
    case pkt_kind::arp:
        return "arp";
    case pkt_kind::icmp_echo:
        return "icmp_echo";
    case pkt_kind::tcp:
        return "tcp";
    case pkt_kind::drop:
        return "drop";
    }
    return "unknown";
}

// The raw TCP options of a classified segment (opt_len bytes).
inline const uint8_t* tcp_options_ptr(const uint8_t* frame, const pkt_info& info)
{
    return frame + info.opt_off;
}

// The TCP payload (tcp) or echo data (icmp_echo) of a classified frame (payload_len bytes).
inline const uint8_t* payload_ptr(const uint8_t* frame, const pkt_info& info)
{
    return frame + info.l2_len + info.l3_len + info.l4_len;
}

} // namespace fg::net
