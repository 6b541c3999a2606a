#include "net/tcp_hdr.hh"

#include <cstring>

#include <rte_ip.h>

#include "base/compiler.hh"

#include "net/checksum.hh"
#include "net/ether.hh"
#include "net/ipv4.hh"

namespace fg::net {

namespace {

// The header is written with plain stores and its checksums are summed from
// the values being stored, never read back: reading a header just written
// with narrower stores stalls on store forwarding (it was a quarter of this
// function's time). Sums are RFC 1071 over the 16-bit words as numbers
// (network order values), folded at the end.
struct words {
    uint64_t sum = 0; // 16- and 32-bit values as numbers; carries kept above bit 31 until the fold
    FG_ALWAYS_INLINE void add(uint32_t v) { sum += v; }
    FG_ALWAYS_INLINE uint16_t fold() const { return cksum_fold(sum); }
};

// write_tcp_options()'s layout (Linux's: MSS, SACK-permitted+timestamps,
// window scale) as 32-bit words, each stored and summed as it is made.
FG_ALWAYS_INLINE uint32_t put_options(uint8_t* dst, const tcp_options& o, words& w)
{
    uint8_t* p = dst;
    auto put32 = [&](uint32_t v) {
        const uint32_t be = rte_cpu_to_be_32(v);
        std::memcpy(p, &be, 4);
        p += 4;
        w.add(v);
    };
    if (o.has_mss) {
        put32((uint32_t(tcpopt_mss) << 24) | (uint32_t(tcpolen_mss) << 16) | o.mss);
    }
    if (o.has_ts) {
        put32(o.sack_ok ? (uint32_t(tcpopt_sack_perm) << 24) | (uint32_t(tcpolen_sack_perm) << 16) |
                              (uint32_t(tcpopt_timestamp) << 8) | tcpolen_timestamp
                        : (uint32_t(tcpopt_nop) << 24) | (uint32_t(tcpopt_nop) << 16) |
                              (uint32_t(tcpopt_timestamp) << 8) | tcpolen_timestamp);
        put32(o.ts_val);
        put32(o.ts_ecr);
    } else if (o.sack_ok) {
        put32((uint32_t(tcpopt_nop) << 24) | (uint32_t(tcpopt_nop) << 16) | (uint32_t(tcpopt_sack_perm) << 8) |
              tcpolen_sack_perm);
    }
    if (o.has_wscale) {
        put32((uint32_t(tcpopt_nop) << 24) | (uint32_t(tcpopt_window) << 16) | (uint32_t(tcpolen_window) << 8) |
              o.wscale);
    }
    return uint32_t(p - dst);
}

// The IPv4 and TCP headers (and options) of make_tcp_segment, after the
// Ethernet header; `t` and `o` must not point into `buf`.
FG_ALWAYS_INLINE uint32_t write_ip_tcp(uint8_t* buf, const tuple4& tup, uint32_t seq, uint32_t ack, uint8_t flags,
                                       uint16_t window, const tcp_options* o, cksum_mode mode, uint32_t payload_len)
{
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(buf + eth_hdr_len);
    auto* tcp = reinterpret_cast<rte_tcp_hdr*>(buf + eth_hdr_len + ipv4_hdr_len);
    words tw; // TCP: header, options, pseudo-header
    const uint32_t opt_len = o != nullptr ? put_options(reinterpret_cast<uint8_t*>(tcp + 1), *o, tw) : 0;
    const uint32_t tcp_len = uint32_t(sizeof(rte_tcp_hdr)) + opt_len;
    const uint32_t l4_len = tcp_len + payload_len;
    const uint16_t total = uint16_t(ipv4_hdr_len + l4_len);
    write_ipv4_hdr(ip, total, IPPROTO_TCP, tup.laddr, tup.raddr);
    const uint32_t src = rte_be_to_cpu_32(tup.laddr);
    const uint32_t dst = rte_be_to_cpu_32(tup.raddr);

    const uint16_t off_flags = uint16_t(((tcp_len / 4) << 12) | flags);
    tcp->src_port = tup.lport;
    tcp->dst_port = tup.rport;
    tcp->sent_seq = rte_cpu_to_be_32(seq);
    tcp->recv_ack = rte_cpu_to_be_32(ack);
    tcp->data_off = uint8_t(off_flags >> 8);
    tcp->tcp_flags = flags;
    tcp->rx_win = rte_cpu_to_be_16(window);
    tcp->tcp_urp = 0;
    // Pseudo-header: source, destination, protocol, TCP length.
    words pw;
    pw.add(src);
    pw.add(dst);
    pw.add(IPPROTO_TCP);
    pw.add(l4_len);
    if (mode == cksum_mode::software) {
        // IP: version/IHL/TOS, total length, ID 0, DF, TTL/protocol, addresses.
        words iw;
        iw.add(0x4500);
        iw.add(total);
        iw.add(RTE_IPV4_HDR_DF_FLAG);
        iw.add((uint32_t(default_ttl) << 8) | IPPROTO_TCP);
        iw.add(src);
        iw.add(dst);
        ip->hdr_checksum = rte_cpu_to_be_16(uint16_t(~iw.fold()));
        tw.add(rte_be_to_cpu_16(tup.lport));
        tw.add(rte_be_to_cpu_16(tup.rport));
        tw.add(seq);
        tw.add(ack);
        tw.add(off_flags);
        tw.add(window);
        tw.sum += pw.sum; // 64 bits hold both: one fold
        if (payload_len != 0) {
            // Bytes already in the buffer (not just written): summed from memory,
            // in memory order, then taken as a network-order value.
            tw.sum += rte_be_to_cpu_16(cksum_fold(cksum_add(reinterpret_cast<uint8_t*>(tcp) + tcp_len, payload_len)));
        }
        tcp->cksum = rte_cpu_to_be_16(uint16_t(~tw.fold()));
    } else {
        tcp->cksum = rte_cpu_to_be_16(pw.fold()); // the NIC finishes it (= rte_ipv4_phdr_cksum)
    }
    return eth_hdr_len + ipv4_hdr_len + l4_len;
}

} // namespace

uint32_t make_tcp_segment(uint8_t* buf, const rte_ether_addr& src_mac, const rte_ether_addr& dst_mac,
                          const tuple4& t, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t window,
                          const tcp_options* opts, cksum_mode mode, uint32_t payload_len)
{
    // Copy every argument that may live in `buf` before writing to it.
    const rte_ether_addr smac = src_mac;
    const rte_ether_addr dmac = dst_mac;
    const tuple4 tup = t;
    tcp_options o;
    if (opts != nullptr) {
        o = *opts;
    }
    write_eth(buf, dmac, smac, RTE_ETHER_TYPE_IPV4);
    return write_ip_tcp(buf, tup, seq, ack, flags, window, opts != nullptr ? &o : nullptr, mode, payload_len);
}

uint32_t make_tcp_reply(uint8_t* buf, const tuple4& t, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t window,
                        const tcp_options* opts, cksum_mode mode)
{
    auto* eth = reinterpret_cast<rte_ether_hdr*>(buf);
    const rte_ether_addr from = eth->src_addr;
    eth->src_addr = eth->dst_addr;
    eth->dst_addr = from;
    eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
    return write_ip_tcp(buf, t, seq, ack, flags, window, opts, mode, 0);
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
