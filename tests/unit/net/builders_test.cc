// Builders: byte-exact against scapy, built in place, round trip through
// classify(), checksums in software and offload modes.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include <rte_arp.h>

#include "frames.hh"
#include "net/arp.hh"
#include "net/checksum.hh"
#include "net/ether.hh"
#include "net/icmp.hh"
#include "net/tcp_hdr.hh"

namespace fg::net::test {
namespace {

struct buffer {
    alignas(64) uint8_t b[2048];
    buffer() { std::memset(b, 0xee, sizeof(b)); }
    std::vector<uint8_t> vec(uint32_t n) const { return std::vector<uint8_t>(b, b + n); }
};

const tuple4 server_view = make_tuple4(RTE_IPV4(198, 18, 0, 1), 80, RTE_IPV4(198, 18, 0, 2), 40000);
const tuple4 client_view = make_tuple4(RTE_IPV4(198, 18, 0, 2), 40000, RTE_IPV4(198, 18, 0, 1), 80);

tcp_options synack_opts()
{
    tcp_options o;
    o.has_mss = true;
    o.mss = 1460;
    o.sack_ok = true;
    o.has_ts = true;
    o.ts_val = 0x05060708;
    o.ts_ecr = 0x01020304;
    o.has_wscale = true;
    o.wscale = 7;
    return o;
}

// What a NIC does with a cksum_mode::offload frame: fills the IP checksum and
// finishes the TCP checksum over the segment, seeded by the pseudo-header sum.
void nic_tx_offload(uint8_t* f)
{
    auto* ip = ip_of(f);
    auto* tcp = tcp_of(f);
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    const uint32_t tcp_len = rte_be_to_cpu_16(ip->total_length) - 20;
    tcp->cksum = uint16_t(~rte_raw_cksum(tcp, tcp_len));
}

// --- TCP ---------------------------------------------------------------------

TEST(MakeTcpSegment, SynAckMatchesScapy)
{
    buffer buf;
    const tcp_options o = synack_opts();
    const uint32_t n = make_tcp_segment(buf.b, mac_s, mac_c, server_view, 0xaabbccdd, 0x11223345,
                                        RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 65160, &o, cksum_mode::software);
    EXPECT_EQ(n, tcp_segment_len(&o));
    EXPECT_EQ(buf.vec(n), scapy_synack);
    EXPECT_EQ(buf.b[n], 0xee) << "wrote past the returned length";
}

TEST(MakeTcpSegment, SynMatchesScapy)
{
    buffer buf;
    tcp_options o;
    o.has_mss = true;
    o.mss = 1460;
    o.sack_ok = true;
    o.has_ts = true;
    o.ts_val = 0x01020304;
    o.has_wscale = true;
    o.wscale = 7;
    const uint32_t n = make_tcp_segment(buf.b, mac_c, mac_s, client_view, 0x11223344, 0, RTE_TCP_SYN_FLAG, 64240, &o,
                                        cksum_mode::software);
    EXPECT_EQ(buf.vec(n), scapy_syn);
}

TEST(MakeTcpSegment, MssOnlyMatchesScapy)
{
    buffer buf;
    tcp_options o;
    o.has_mss = true;
    o.mss = 536;
    const uint32_t n = make_tcp_segment(buf.b, mac_s, mac_c, server_view, 0xaabbccdd, 0x11223345,
                                        RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 65535, &o, cksum_mode::software);
    EXPECT_EQ(buf.vec(n), scapy_synack_mss_only);
}

TEST(MakeTcpSegment, NoOptionsIs54Bytes)
{
    buffer buf;
    const uint32_t n = make_tcp_segment(buf.b, mac_s, mac_c, server_view, 1, 2, RTE_TCP_ACK_FLAG, 100, nullptr,
                                        cksum_mode::software);
    EXPECT_EQ(n, 54u);
    EXPECT_EQ(buf.b[off_l4 + 12], 0x50);
    const result r = classify_guarded(buf.b, n);
    ASSERT_EQ(r.kind, pkt_kind::tcp);
    EXPECT_EQ(r.info.tuple, client_view);
    EXPECT_EQ(r.info.seq, 1u);
    EXPECT_EQ(r.info.ack, 2u);
    EXPECT_EQ(r.info.window, 100);
    EXPECT_EQ(r.info.tcp_flags, RTE_TCP_ACK_FLAG);
    EXPECT_EQ(r.info.ttl, 64);
}

TEST(MakeTcpSegment, IpHeaderIsLinuxLike)
{
    buffer buf;
    make_tcp_segment(buf.b, mac_s, mac_c, server_view, 1, 2, RTE_TCP_ACK_FLAG, 100, nullptr, cksum_mode::software);
    const auto* ip = ip_of(buf.b);
    EXPECT_EQ(ip->version_ihl, 0x45);
    EXPECT_EQ(ip->type_of_service, 0);
    EXPECT_EQ(ip->packet_id, 0);
    EXPECT_EQ(ip->fragment_offset, RTE_BE16(RTE_IPV4_HDR_DF_FLAG));
    EXPECT_EQ(ip->time_to_live, 64);
    EXPECT_EQ(ip->next_proto_id, IPPROTO_TCP);
    EXPECT_EQ(tcp_of(buf.b)->tcp_urp, 0);
}

TEST(MakeTcpSegment, OffloadLeavesPseudoHeaderSum)
{
    buffer buf;
    const tcp_options o = synack_opts();
    const uint32_t n = make_tcp_segment(buf.b, mac_s, mac_c, server_view, 0xaabbccdd, 0x11223345,
                                        RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 65160, &o, cksum_mode::offload);
    EXPECT_EQ(ip_of(buf.b)->hdr_checksum, 0);
    EXPECT_EQ(tcp_of(buf.b)->cksum, rte_ipv4_phdr_cksum(ip_of(buf.b), 0));
    // Pseudo-header of 198.18.0.1 -> 198.18.0.2, TCP, length 40: c612+0001+c612+0002+0006+0028 = 0x18c55 -> 0x8c56.
    EXPECT_EQ(rte_be_to_cpu_16(tcp_of(buf.b)->cksum), 0x8c56);
    // The NIC finishing the job gives exactly the software frame.
    nic_tx_offload(buf.b);
    EXPECT_EQ(buf.vec(n), scapy_synack);
}

TEST(MakeTcpSegment, SynAckBuiltInPlaceOfTheSyn)
{
    // The SYN-ACK is written into the SYN's buffer, with MACs and tuple read
    // from that same buffer / its pkt_info: nothing may be overwritten before use.
    buffer buf;
    std::memcpy(buf.b, scapy_syn.data(), scapy_syn.size());
    const result r = classify_guarded(buf.b, uint32_t(scapy_syn.size()));
    ASSERT_EQ(r.kind, pkt_kind::tcp);
    pkt_info info = r.info;
    tcp_options peer;
    parse_tcp_options(tcp_options_ptr(buf.b, info), info.opt_len, true, peer);
    tcp_options o = synack_opts();
    o.ts_ecr = peer.ts_val;
    const rte_ether_hdr* eth = eth_hdr(buf.b);
    const uint32_t n = make_tcp_segment(buf.b, eth->dst_addr, eth->src_addr, info.tuple, 0xaabbccdd, info.seq + 1,
                                        RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 65160, &o, cksum_mode::software);
    EXPECT_EQ(buf.vec(n), scapy_synack);
}

TEST(MakeTcpSegment, TupleInsideTheBufferIsCopiedFirst)
{
    // A tuple4 that lives in the bytes the builder overwrites (IP addresses).
    // The frame starts 2 bytes in, so the tuple's 4-byte fields are aligned.
    buffer buf;
    uint8_t* f = buf.b + 2;
    std::memcpy(f, scapy_syn.data(), scapy_syn.size());
    auto* t = reinterpret_cast<tuple4*>(f + off_ip + 12); // overlaps src, dst, ports
    const tuple4 expect = *t;
    const uint32_t n = make_tcp_segment(f, mac_s, mac_c, *t, 1, 2, RTE_TCP_ACK_FLAG, 1, nullptr,
                                        cksum_mode::software);
    const result r = classify_guarded(f, n);
    ASSERT_EQ(r.kind, pkt_kind::tcp);
    EXPECT_EQ(r.info.tuple.laddr, expect.raddr);
    EXPECT_EQ(r.info.tuple.raddr, expect.laddr);
    EXPECT_EQ(r.info.tuple.lport, expect.rport);
    EXPECT_EQ(r.info.tuple.rport, expect.lport);

    // A tuple (and MACs) lying where the options go: written first by the builder.
    buffer buf2;
    uint8_t* g = buf2.b + 2;
    auto* t2 = reinterpret_cast<tuple4*>(g + 58);
    *t2 = server_view;
    auto* m2 = reinterpret_cast<rte_ether_addr*>(g + 70);
    *m2 = mac_s;
    const tcp_options o = synack_opts();
    const uint32_t n2 = make_tcp_segment(g, *m2, mac_c, *t2, 0xaabbccdd, 0x11223345,
                                         RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 65160, &o, cksum_mode::software);
    EXPECT_EQ(std::vector<uint8_t>(g, g + n2), scapy_synack);
}

// A random 4-tuple from 10.0.0.x to 198.18.x.x, any ports.
tuple4 random_tuple(std::mt19937& rng)
{
    const uint32_t l = RTE_IPV4(10, 0, 0, 1) + rng() % 1000;
    const uint16_t lp = uint16_t(rng());
    const uint32_t r = RTE_IPV4(198, 18, 0, 0) + rng() % 1000;
    return make_tuple4(l, lp, r, uint16_t(rng()));
}

TEST(MakeTcpSegment, RoundTripsThroughClassify)
{
    std::mt19937 rng(11);
    for (int i = 0; i < 2000; i++) {
        buffer buf;
        const tuple4 t = random_tuple(rng);
        const tcp_options o = random_tcp_options(rng, 9000);
        const uint32_t seq = rng(), ack = rng();
        const uint8_t flags = uint8_t(rng());
        const uint16_t win = uint16_t(rng());
        const cksum_mode mode = (rng() & 1) != 0 ? cksum_mode::software : cksum_mode::offload;
        const uint32_t n = make_tcp_segment(buf.b, mac_s, mac_c, t, seq, ack, flags, win, &o, mode);
        if (mode == cksum_mode::offload) {
            nic_tx_offload(buf.b);
        }
        ASSERT_TRUE(ipv4_cksum_ok(ip_of(buf.b)));
        ASSERT_TRUE(l4_cksum_ok(ip_of(buf.b), tcp_of(buf.b)));
        const result r = classify_guarded(buf.b, n);
        ASSERT_EQ(r.kind, pkt_kind::tcp) << drop_name(r.why);
        EXPECT_EQ(r.info.tuple, (tuple4{t.raddr, t.laddr, t.rport, t.lport}));
        EXPECT_EQ(r.info.seq, seq);
        EXPECT_EQ(r.info.ack, ack);
        EXPECT_EQ(r.info.tcp_flags, flags);
        EXPECT_EQ(r.info.window, win);
        EXPECT_EQ(r.info.payload_len, 0);
        tcp_options back;
        parse_tcp_options(tcp_options_ptr(buf.b, r.info), r.info.opt_len, true, back);
        EXPECT_EQ(back, o);
    }
}

TEST(MakeTcpReply, SynAckInPlaceOfTheSynMatchesScapy)
{
    // The SYN-ACK written over its SYN: MACs swapped in place, the rest as
    // make_tcp_segment writes it.
    buffer buf;
    std::memcpy(buf.b, scapy_syn.data(), scapy_syn.size());
    const result r = classify_guarded(buf.b, uint32_t(scapy_syn.size()));
    ASSERT_EQ(r.kind, pkt_kind::tcp);
    const pkt_info info = r.info;
    tcp_options peer;
    parse_tcp_options(tcp_options_ptr(buf.b, info), info.opt_len, true, peer);
    tcp_options o = synack_opts();
    o.ts_ecr = peer.ts_val;
    const uint32_t n = make_tcp_reply(buf.b, info.tuple, 0xaabbccdd, info.seq + 1, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG,
                                      65160, &o, cksum_mode::software);
    EXPECT_EQ(buf.vec(n), scapy_synack);
}

TEST(MakeTcpReply, EqualsMakeTcpSegmentWithTheMacsSwapped)
{
    // Every option layout, flags, windows and both checksum modes: the reply
    // written over a received frame is byte for byte the segment
    // make_tcp_segment builds to the frame's sender.
    std::mt19937 rng(12);
    for (int i = 0; i < 4000; i++) {
        rte_ether_addr a, b;
        for (int k = 0; k < 6; k++) {
            a.addr_bytes[k] = uint8_t(rng());
            b.addr_bytes[k] = uint8_t(rng());
        }
        const tuple4 t = random_tuple(rng);
        const tcp_options o = random_tcp_options(rng, 65535);
        const bool with_opts = (rng() % 4) != 0;
        const uint32_t seq = rng(), ack = rng();
        const uint8_t flags = uint8_t(rng());
        const uint16_t win = uint16_t(rng());
        const cksum_mode mode = (rng() & 1) != 0 ? cksum_mode::software : cksum_mode::offload;
        buffer want;
        const uint32_t n =
            make_tcp_segment(want.b, a, b, t, seq, ack, flags, win, with_opts ? &o : nullptr, mode);
        // The received frame: from b to a (the reply goes from a back to b),
        // whatever else it held.
        buffer got;
        for (auto& x : got.b) {
            x = uint8_t(rng());
        }
        std::memcpy(got.b, &a, 6);
        std::memcpy(got.b + 6, &b, 6);
        const uint32_t m = make_tcp_reply(got.b, t, seq, ack, flags, win, with_opts ? &o : nullptr, mode);
        ASSERT_EQ(m, n);
        ASSERT_EQ(got.vec(m), want.vec(n)) << "case " << i;
    }
}

// --- resets ------------------------------------------------------------------

pkt_info classified(const std::vector<uint8_t>& f)
{
    const result r = classify_vec(f);
    EXPECT_EQ(r.kind, pkt_kind::tcp) << drop_name(r.why);
    return r.info;
}

TEST(MakeTcpReset, ForSynIsRstAckMatchingScapy)
{
    buffer buf;
    const pkt_info in = classified(scapy_syn);
    const uint32_t n = make_tcp_reset_for(buf.b, in, mac_s, mac_c, cksum_mode::software);
    EXPECT_EQ(buf.vec(n), scapy_rst_for_syn); // <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>
}

TEST(MakeTcpReset, ForAckIsRstWithSeqFromAck)
{
    buffer buf;
    const pkt_info in = classified(scapy_ack_hello);
    const uint32_t n = make_tcp_reset_for(buf.b, in, mac_s, mac_c, cksum_mode::software);
    const result r = classify_guarded(buf.b, n);
    ASSERT_EQ(r.kind, pkt_kind::tcp);
    EXPECT_EQ(r.info.tcp_flags, RTE_TCP_RST_FLAG);
    EXPECT_EQ(r.info.seq, 0xaabbccdeu);
    EXPECT_EQ(r.info.ack, 0u);
    EXPECT_EQ(r.info.window, 0);
    EXPECT_EQ(r.info.tuple, (tuple4{in.tuple.raddr, in.tuple.laddr, in.tuple.rport, in.tuple.lport}));
}

TEST(MakeTcpReset, SegLenCountsPayloadSynAndFin)
{
    // ACK-less segment with 5 bytes of data: FIN adds one, SYN adds one.
    for (uint8_t flags : {uint8_t(RTE_TCP_PSH_FLAG), uint8_t(RTE_TCP_FIN_FLAG),
                          uint8_t(RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG)}) {
        auto f = scapy_ack_hello;
        tcp_of(f.data())->tcp_flags = flags;
        fix_tcp(f.data());
        const pkt_info in = classified(f);
        const uint32_t extra = ((flags & RTE_TCP_SYN_FLAG) ? 1 : 0) + ((flags & RTE_TCP_FIN_FLAG) ? 1 : 0);
        EXPECT_EQ(seg_len(in), 5 + extra);
        buffer buf;
        const uint32_t n = make_tcp_reset_for(buf.b, in, mac_s, mac_c, cksum_mode::software);
        const result r = classify_guarded(buf.b, n);
        ASSERT_EQ(r.kind, pkt_kind::tcp);
        EXPECT_EQ(r.info.tcp_flags, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
        EXPECT_EQ(r.info.seq, 0u);
        EXPECT_EQ(r.info.ack, 0x11223345u + 5 + extra);
    }
}

TEST(MakeTcpReset, AckWrapsAround)
{
    auto f = scapy_syn;
    tcp_of(f.data())->sent_seq = RTE_BE32(0xffffffff);
    fix_tcp(f.data());
    const pkt_info in = classified(f);
    buffer buf;
    const uint32_t n = make_tcp_reset_for(buf.b, in, mac_s, mac_c, cksum_mode::software);
    EXPECT_EQ(classify_guarded(buf.b, n).info.ack, 0u);
}

TEST(MakeTcpReset, InPlaceOffloadMatchesScapyAfterNic)
{
    buffer buf;
    std::memcpy(buf.b, scapy_syn.data(), scapy_syn.size());
    const pkt_info in = classify_guarded(buf.b, uint32_t(scapy_syn.size())).info;
    const rte_ether_hdr* eth = eth_hdr(buf.b);
    const uint32_t n = make_tcp_reset_for(buf.b, in, eth->dst_addr, eth->src_addr, cksum_mode::offload);
    EXPECT_EQ(ip_of(buf.b)->hdr_checksum, 0);
    nic_tx_offload(buf.b);
    EXPECT_EQ(buf.vec(n), scapy_rst_for_syn);
}

// --- ARP ---------------------------------------------------------------------

TEST(MakeArp, RequestMatchesScapy)
{
    buffer buf;
    const uint32_t n = make_arp_request(buf.b, mac_c, ip_c, ip_s);
    EXPECT_EQ(n, arp_frame_len);
    EXPECT_EQ(buf.vec(n), scapy_arp_request);
    EXPECT_EQ(buf.b[n], 0xee);
}

TEST(MakeArp, ReplyMatchesScapy)
{
    buffer buf;
    const uint32_t n = make_arp_reply(buf.b, mac_s, ip_s, mac_c, ip_c);
    EXPECT_EQ(buf.vec(n), scapy_arp_reply);
}

TEST(MakeArp, GratuitousIsBroadcastRequestForOwnAddress)
{
    buffer buf;
    const uint32_t n = make_gratuitous_arp(buf.b, mac_s, ip_s);
    ASSERT_EQ(n, 42u);
    EXPECT_TRUE(rte_is_broadcast_ether_addr(&eth_hdr(buf.b)->dst_addr));
    const result r = classify_guarded(buf.b, n);
    ASSERT_EQ(r.kind, pkt_kind::arp);
    EXPECT_EQ(r.info.arp_op, RTE_ARP_OP_REQUEST);
    EXPECT_EQ(r.info.arp_sip, ip_s);
    EXPECT_EQ(r.info.arp_tip, ip_s);
    EXPECT_TRUE(rte_is_same_ether_addr(&r.info.arp_sha, &mac_s));
    const auto* arp = reinterpret_cast<const rte_arp_hdr*>(buf.b + 14);
    EXPECT_TRUE(rte_is_zero_ether_addr(&arp->arp_data.arp_tha));
}

TEST(MakeArp, ReplyInPlaceOfPaddedRequestMatchesScapy)
{
    buffer buf;
    std::memcpy(buf.b, scapy_arp_request.data(), scapy_arp_request.size());
    std::memset(buf.b + 42, 0, 18); // padded to 60 by the sender's NIC
    const result r = classify_guarded(buf.b, 60);
    ASSERT_EQ(r.kind, pkt_kind::arp);
    const uint32_t n = make_arp_reply_inplace(buf.b, r.info, mac_s);
    EXPECT_EQ(n, 42u);
    EXPECT_EQ(buf.vec(n), scapy_arp_reply);
}

TEST(MakeArp, BuildersRoundTripThroughClassify)
{
    buffer buf;
    uint32_t n = make_arp_request(buf.b, mac_c, ip_c, ip_s);
    result r = classify_guarded(buf.b, n);
    ASSERT_EQ(r.kind, pkt_kind::arp);
    EXPECT_EQ(r.info.arp_op, RTE_ARP_OP_REQUEST);
    EXPECT_EQ(r.info.arp_sip, ip_c);
    EXPECT_EQ(r.info.arp_tip, ip_s);
    n = make_arp_reply(buf.b, mac_s, ip_s, mac_c, ip_c);
    r = classify_guarded(buf.b, n);
    ASSERT_EQ(r.kind, pkt_kind::arp);
    EXPECT_EQ(r.info.arp_op, RTE_ARP_OP_REPLY);
    EXPECT_TRUE(rte_is_same_ether_addr(&r.info.arp_sha, &mac_s));
}

// --- ICMP --------------------------------------------------------------------

TEST(MakeIcmp, EchoReplyInPlaceMatchesScapy)
{
    buffer buf;
    std::memcpy(buf.b, scapy_ping.data(), scapy_ping.size());
    const result r = classify_guarded(buf.b, uint32_t(scapy_ping.size()));
    ASSERT_EQ(r.kind, pkt_kind::icmp_echo);
    const uint32_t n = make_icmp_echo_reply_inplace(buf.b, uint32_t(scapy_ping.size()), r.info);
    EXPECT_EQ(buf.vec(n), scapy_pong);
}

TEST(MakeIcmp, EchoReplyOfPaddedRequestDropsPadding)
{
    buffer buf;
    std::memcpy(buf.b, scapy_ping.data(), scapy_ping.size());
    std::memset(buf.b + scapy_ping.size(), 0x5a, 60 - scapy_ping.size());
    const result r = classify_guarded(buf.b, 60);
    ASSERT_EQ(r.kind, pkt_kind::icmp_echo);
    const uint32_t n = make_icmp_echo_reply_inplace(buf.b, 60, r.info);
    EXPECT_EQ(n, scapy_pong.size());
    EXPECT_EQ(buf.vec(n), scapy_pong);
}

TEST(MakeIcmp, IncrementalChecksumEqualsFullRecompute)
{
    std::mt19937 rng(5);
    for (int i = 0; i < 5000; i++) {
        // A request with random id, seq and 0..99 bytes of random data.
        std::vector<uint8_t> f(scapy_ping.begin(), scapy_ping.begin() + 42);
        const uint32_t data = rng() % 100;
        for (uint32_t j = 0; j < data; j++) {
            f.push_back(uint8_t(rng()));
        }
        for (int j = 38; j < 42; j++) {
            f[j] = uint8_t(rng());
        }
        set_total_len(f.data(), uint16_t(f.size() - 14));
        f[off_ip + 8] = uint8_t(1 + rng() % 255);
        fix_ip(f.data());
        fix_icmp(f.data());
        const result r = classify_vec(f);
        ASSERT_EQ(r.kind, pkt_kind::icmp_echo) << drop_name(r.why);
        const uint32_t n = make_icmp_echo_reply_inplace(f.data(), uint32_t(f.size()), r.info);
        ASSERT_EQ(n, f.size());
        const uint16_t incremental = load16(f.data() + off_l4 + 2);
        fix_icmp(f.data());
        ASSERT_EQ(load16(f.data() + off_l4 + 2), incremental) << i;
        ASSERT_TRUE(ipv4_cksum_ok(ip_of(f.data())));
        EXPECT_EQ(ip_of(f.data())->time_to_live, 64);
        // The reply is an echo reply: classify() leaves it alone.
        EXPECT_EQ(classify_vec(f).why, drop::icmp_unhandled);
    }
}

TEST(MakeIcmp, RefusesInfoLongerThanTheFrame)
{
    buffer buf;
    std::memcpy(buf.b, scapy_ping.data(), scapy_ping.size());
    const result r = classify_guarded(buf.b, uint32_t(scapy_ping.size()));
    EXPECT_EQ(make_icmp_echo_reply_inplace(buf.b, 50, r.info), 0u);
    EXPECT_EQ(buf.vec(uint32_t(scapy_ping.size())), scapy_ping);
}

// --- checksum helpers ----------------------------------------------------------

TEST(Checksum, Rfc1624AdjustEqualsRecompute)
{
    std::mt19937 rng(3);
    for (int i = 0; i < 20000; i++) {
        uint8_t d[32];
        for (auto& b : d) {
            b = uint8_t(rng());
        }
        if (i % 7 == 0) {
            std::memset(d, 0, sizeof(d)); // all-zero data: checksum 0xffff edge
        }
        store16(d + 2, 0);
        store16(d + 2, uint16_t(~rte_raw_cksum(d, sizeof(d))));
        const uint32_t w = 4 + 2 * (rng() % 14);
        const uint16_t old_word = load16(d + w);
        const uint16_t new_word = (i % 5 == 0) ? uint16_t(0) : uint16_t(rng());
        store16(d + w, new_word);
        const uint16_t adjusted = cksum_adjust16(load16(d + 2), old_word, new_word);
        store16(d + 2, adjusted);
        uint8_t zero[32] = {};
        if (std::memcmp(d + 4, zero + 4, sizeof(d) - 4) == 0 && load16(d) == 0) {
            // RFC 1624's one ambiguity: all-zero data gets 0, not 0xffff (documented).
            ASSERT_EQ(adjusted, 0);
            continue;
        }
        ASSERT_EQ(rte_raw_cksum(d, sizeof(d)), 0xffff) << i;
    }
}

TEST(MakeIcmp, AllZeroReplyGetsChecksumFfff)
{
    // Echo request with id 0, seq 0 and no data: the reply is all zeros but
    // its checksum, which must be 0xffff (the incremental update alone gives 0).
    std::vector<uint8_t> f(scapy_ping.begin(), scapy_ping.begin() + 42);
    std::memset(f.data() + 38, 0, 4);
    set_total_len(f.data(), 28);
    fix_ip(f.data());
    fix_icmp(f.data());
    const result r = classify_vec(f);
    ASSERT_EQ(r.kind, pkt_kind::icmp_echo);
    ASSERT_EQ(make_icmp_echo_reply_inplace(f.data(), uint32_t(f.size()), r.info), 42u);
    EXPECT_EQ(f[off_l4 + 2], 0xff);
    EXPECT_EQ(f[off_l4 + 3], 0xff);
    EXPECT_EQ(ref_sum(f.data() + off_l4, 8), 0xffff);
}

TEST(Checksum, MatchesIndependentReference)
{
    // DPDK's sums (native loads) equal the textbook big-endian RFC 1071 sum.
    auto f = scapy_ack_hello;
    EXPECT_EQ(ref_sum(f.data() + off_ip, 20), 0xffff);
    EXPECT_TRUE(ipv4_cksum_ok(ip_of(f.data())));
    EXPECT_TRUE(l4_cksum_ok(ip_of(f.data()), tcp_of(f.data())));
    const uint16_t stored = rte_be_to_cpu_16(ip_of(f.data())->hdr_checksum);
    set_ipv4_cksum(ip_of(f.data()));
    EXPECT_EQ(rte_be_to_cpu_16(ip_of(f.data())->hdr_checksum), stored);
    const uint16_t tstored = rte_be_to_cpu_16(tcp_of(f.data())->cksum);
    set_tcp_cksum(ip_of(f.data()), tcp_of(f.data()));
    EXPECT_EQ(rte_be_to_cpu_16(tcp_of(f.data())->cksum), tstored);
    EXPECT_EQ(tstored, 0x8545);
    // Odd-length ICMP message.
    EXPECT_TRUE(icmp_cksum_ok(scapy_ping.data() + off_l4, 23));
    EXPECT_EQ(ref_sum(scapy_ping.data() + off_l4, 23), 0xffff);
}

} // namespace
} // namespace fg::net::test
