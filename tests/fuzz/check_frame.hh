// What must hold for ANY input frame, whatever its bytes: shared by the
// libFuzzer target (classify_fuzz.cc) and the corpus replay unit test
// (tests/unit/net/corpus_test.cc), so the invariants the fuzzer hunts for are
// also checked in every ordinary CI run.
//
// check_frame() classifies the frame, checks that every length and offset it
// reports lies inside the frame and agrees with the bytes, then feeds the
// result to the builder that would answer it (reply or reset, in a copy) and
// checks that what was built classifies as expected with valid checksums.
// Returns nullptr when all holds, else a description of the first violation.
#pragma once

#include <cstdint>
#include <cstring>

#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf_core.h>
#include <rte_tcp.h>

#include "net/arp.hh"
#include "net/checksum.hh"
#include "net/classify.hh"
#include "net/ether.hh"
#include "net/icmp.hh"
#include "net/tcp_hdr.hh"
#include "net/tcp_options.hh"

namespace fg::net::check {

inline constexpr uint32_t max_frame = 2048; // builders' scratch size; larger inputs are checked up to classify only

struct stats {
    uint64_t kinds[4] = {};
    uint64_t drops[n_drops] = {};
};

// `frame` must be 2-byte aligned and exactly `len` readable bytes.
inline const char* check_frame(const uint8_t* frame, uint32_t len, uint64_t ol_flags, stats* st = nullptr)
{
    pkt_info info;
    std::memset(&info, 0xa5, sizeof(info));
    drop why = drop::count;
    const pkt_kind kind = classify(frame, len, ol_flags, info, why);
    if (st != nullptr) {
        st->kinds[unsigned(kind) & 3]++;
    }
    if (kind == pkt_kind::drop) {
        if (unsigned(why) >= n_drops) {
            return "drop without a valid reason";
        }
        if (st != nullptr) {
            st->drops[unsigned(why)]++;
        }
        return nullptr;
    }
    if (why != drop::count) {
        return "accepted frame but reason written";
    }
    if (info.l2_len != 14 || info.frame_len() > len) {
        return "lengths run past the frame";
    }
    alignas(64) static uint8_t out[max_frame + 64];
    const bool can_build = len <= max_frame;

    if (kind == pkt_kind::arp) {
        const auto* arp = reinterpret_cast<const rte_arp_hdr*>(frame + 14);
        if (info.l3_len != 28 || info.frame_len() != 42) {
            return "arp lengths";
        }
        if (info.arp_op != RTE_ARP_OP_REQUEST && info.arp_op != RTE_ARP_OP_REPLY) {
            return "arp op";
        }
        if (info.arp_sip != arp->arp_data.arp_sip || info.arp_tip != arp->arp_data.arp_tip ||
            !rte_is_same_ether_addr(&info.arp_sha, &arp->arp_data.arp_sha)) {
            return "arp fields differ from the bytes";
        }
        if (can_build) {
            std::memcpy(out, frame, len);
            const rte_ether_addr mine{{0x02, 0, 0, 0, 0, 0x99}};
            const uint32_t n = make_arp_reply_inplace(out, info, mine);
            pkt_info r;
            drop rwhy = drop::count;
            if (n != 42 || classify(out, n, 0, r, rwhy) != pkt_kind::arp || r.arp_op != RTE_ARP_OP_REPLY ||
                r.arp_sip != info.arp_tip || r.arp_tip != info.arp_sip || !rte_is_same_ether_addr(&r.arp_sha, &mine)) {
                return "arp reply in place does not classify as the reply";
            }
        }
        return nullptr;
    }

    const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(frame + 14);
    if ((ip->version_ihl >> 4) != 4 || info.l3_len != (ip->version_ihl & 0xf) * 4u || info.l3_len < 20 ||
        info.l3_len > 60) {
        return "ip header length";
    }
    if (info.frame_len() != 14u + rte_be_to_cpu_16(ip->total_length)) {
        return "l3+l4+payload differs from the IP total length";
    }
    if (info.src_ip != ip->src_addr || info.dst_ip != ip->dst_addr || info.ttl != ip->time_to_live) {
        return "ip fields differ from the bytes";
    }
    if ((ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN && !ipv4_cksum_ok(ip)) {
        return "accepted a bad IP checksum";
    }
    if ((ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_BAD) {
        return "accepted an IP checksum the NIC called bad";
    }

    const uint32_t l4_off = 14u + info.l3_len;
    if (kind == pkt_kind::icmp_echo) {
        const uint8_t* icmp = frame + l4_off;
        if (info.l4_len != 8 || icmp[0] != RTE_IP_ICMP_ECHO_REQUEST || ip->next_proto_id != IPPROTO_ICMP) {
            return "icmp fields";
        }
        if (!icmp_cksum_ok(icmp, 8u + info.payload_len)) {
            return "accepted a bad ICMP checksum";
        }
        if (can_build) {
            std::memcpy(out, frame, len);
            const uint32_t n = make_icmp_echo_reply_inplace(out, len, info);
            const auto* rip = reinterpret_cast<const rte_ipv4_hdr*>(out + 14);
            if (n != 34u + 8u + info.payload_len || rip->version_ihl != 0x45 || !ipv4_cksum_ok(rip) ||
                rte_be_to_cpu_16(rip->total_length) != n - 14 || !icmp_cksum_ok(out + 34, 8u + info.payload_len) ||
                out[34] != RTE_IP_ICMP_ECHO_REPLY || rip->src_addr != info.dst_ip || rip->dst_addr != info.src_ip ||
                std::memcmp(out + 38, frame + l4_off + 4, n - 38) != 0) {
                return "echo reply in place is wrong";
            }
        }
        return nullptr;
    }

    // TCP
    const auto* tcp = reinterpret_cast<const rte_tcp_hdr*>(frame + l4_off);
    if (ip->next_proto_id != IPPROTO_TCP || info.l4_len < 20 || info.l4_len > 60 || (info.l4_len & 3) != 0 ||
        info.l4_len != (tcp->data_off >> 4) * 4) {
        return "tcp header length";
    }
    if (info.opt_off != l4_off + 20 || info.opt_len != info.l4_len - 20 || uint32_t(info.opt_off) + info.opt_len > len) {
        return "tcp options run past the header";
    }
    if (info.tuple.laddr != ip->dst_addr || info.tuple.raddr != ip->src_addr || info.tuple.lport != tcp->dst_port ||
        info.tuple.rport != tcp->src_port) {
        return "tuple is not the receiver's view";
    }
    if (info.seq != rte_be_to_cpu_32(tcp->sent_seq) || info.ack != rte_be_to_cpu_32(tcp->recv_ack) ||
        info.window != rte_be_to_cpu_16(tcp->rx_win) || info.tcp_flags != tcp->tcp_flags) {
        return "tcp fields differ from the bytes";
    }
    const uint64_t l4 = ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
    if (l4 == RTE_MBUF_F_RX_L4_CKSUM_BAD || (l4 == RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN && !l4_cksum_ok(ip, tcp))) {
        return "accepted a bad TCP checksum";
    }
    tcp_options opts;
    parse_tcp_options(tcp_options_ptr(frame, info), info.opt_len, (info.tcp_flags & RTE_TCP_SYN_FLAG) != 0, opts);
    if (opts.has_wscale && opts.wscale > tcp_max_wscale) {
        return "window scale not clamped";
    }
    if (opts.has_mss && opts.mss == 0) {
        return "MSS 0 honoured";
    }
    if (can_build) {
        // The SYN-ACK (or any reply) built in the frame's own buffer must be a valid segment.
        std::memcpy(out, frame, len);
        const rte_ether_hdr* eth = eth_hdr(out);
        const uint32_t n = make_tcp_segment(out, eth->dst_addr, eth->src_addr, info.tuple, 12345, info.seq + 1,
                                            RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 65535, &opts, cksum_mode::software);
        pkt_info r;
        drop rwhy = drop::count;
        if (n != tcp_segment_len(&opts) || classify(out, n, 0, r, rwhy) != pkt_kind::tcp ||
            r.tuple.laddr != info.tuple.raddr || r.tuple.lport != info.tuple.rport || r.ack != info.seq + 1 ||
            r.payload_len != 0) {
            return "segment built in place does not classify back";
        }
        tcp_options back;
        parse_tcp_options(tcp_options_ptr(out, r), r.opt_len, true, back);
        if (!(back == opts)) {
            return "options do not survive write + parse";
        }
        const uint32_t m = make_tcp_reset_for(out, info, eth_hdr(frame)->dst_addr, eth_hdr(frame)->src_addr,
                                              cksum_mode::software);
        if (m != 54 || classify(out, m, 0, r, rwhy) != pkt_kind::tcp || (r.tcp_flags & RTE_TCP_RST_FLAG) == 0) {
            return "reset does not classify as a reset";
        }
        const bool had_ack = (info.tcp_flags & RTE_TCP_ACK_FLAG) != 0;
        if (had_ack ? (r.seq != info.ack || r.tcp_flags != RTE_TCP_RST_FLAG)
                    : (r.seq != 0 || r.ack != info.seq + seg_len(info) ||
                       r.tcp_flags != (RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG))) {
            return "reset numbers are not RFC 9293's";
        }
    }
    return nullptr;
}

} // namespace fg::net::check
