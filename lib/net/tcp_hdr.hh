// Building TCP segments (Ethernet + IPv4 + TCP header + options, payload placed by the caller)
// on DPDK's rte_tcp_hdr: SYN, SYN-ACK, ACK, RST, FIN. The handshake path builds
// the SYN-ACK in the received SYN's own mbuf, so every builder first copies
// what it needs from its arguments and only then writes: arguments may point
// into the buffer being written.
//
// Checksums: cksum_mode::software writes both IP and TCP checksums;
// cksum_mode::offload leaves the IP checksum 0 and puts the pseudo-header sum
// in the TCP checksum, as DPDK's TX checksum offload wants. The caller then
// sets ol_flags = tcp_tx_offload_flags, l2_len = 14, l3_len = 20.
#pragma once

#include <cstdint>

#include <rte_ether.h>
#include <rte_tcp.h>

#include "base/tuple.hh"
#include "net/classify.hh"
#include "net/tcp_options.hh"

namespace fg::net {

enum class cksum_mode : uint8_t {
    software, // compute IP and TCP checksums here
    offload,  // IP checksum 0, TCP checksum = pseudo-header sum: the NIC finishes both
};

// Bytes make_tcp_segment() writes: 54 + options.
inline uint32_t tcp_segment_len(const tcp_options* opts)
{
    return uint32_t(sizeof(rte_ether_hdr)) + 20 + 20 + (opts != nullptr ? tcp_options_len(*opts) : 0);
}

// Writes a TCP segment. `t` is our view of the connection: IP source t.laddr,
// destination t.raddr, TCP ports t.lport -> t.rport. seq/ack/window in host
// order; flags are RTE_TCP_*_FLAG bits; opts may be null. IP header: IHL 5,
// DF, TTL 64, ID 0. A segment with payload (the data path) has its
// `payload_len` bytes already in place right after the header, at
// buf + tcp_segment_len(opts): lengths and checksums cover them. Returns the
// frame length (header + payload).
uint32_t make_tcp_segment(uint8_t* buf, const rte_ether_addr& src_mac, const rte_ether_addr& dst_mac,
                          const tuple4& t, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t window,
                          const tcp_options* opts, cksum_mode mode, uint32_t payload_len = 0);

// A reply written over the frame it answers (a SYN becoming its SYN-ACK): the
// frame's Ethernet addresses swapped in place, then the bytes
// make_tcp_segment(buf, <its destination MAC>, <its source MAC>, t, ...)
// writes, without payload. Unlike make_tcp_segment, `t` and `opts` must not
// point into `buf` (nothing is copied first): the per-SYN path of a flood.
uint32_t make_tcp_reply(uint8_t* buf, const tuple4& t, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t window,
                        const tcp_options* opts, cksum_mode mode);

// The reset RFC 9293 3.10.7.1 sends for an unacceptable segment `in` (as
// classified): if `in` has ACK, <SEQ=SEG.ACK><CTL=RST>; otherwise <SEQ=0>
// <ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SEG.LEN counting payload, SYN and FIN.
// Window 0, no options. Addressed back to the sender of `in`. The caller never
// answers a segment that has RST itself.
uint32_t make_tcp_reset_for(uint8_t* buf, const pkt_info& in, const rte_ether_addr& src_mac,
                            const rte_ether_addr& dst_mac, cksum_mode mode);

// SEG.LEN of a classified segment: payload plus one for SYN and one for FIN.
inline uint32_t seg_len(const pkt_info& in)
{
    return uint32_t(in.payload_len) + ((in.tcp_flags & RTE_TCP_SYN_FLAG) != 0 ? 1 : 0) +
           ((in.tcp_flags & RTE_TCP_FIN_FLAG) != 0 ? 1 : 0);
}

} // namespace fg::net
