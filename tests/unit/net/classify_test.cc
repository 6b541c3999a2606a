// classify(): every accepted kind with its fields, and every drop reason.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <rte_arp.h>
#include <rte_mbuf_core.h>

#include "frames.hh"
#include "net/classify.hh"
#include "net/icmp.hh"
#include "net/tcp_options.hh"

namespace fg::net::test {
namespace {

constexpr uint64_t ip_good = RTE_MBUF_F_RX_IP_CKSUM_GOOD;
constexpr uint64_t ip_bad = RTE_MBUF_F_RX_IP_CKSUM_BAD;
constexpr uint64_t ip_none = RTE_MBUF_F_RX_IP_CKSUM_NONE;
constexpr uint64_t l4_good = RTE_MBUF_F_RX_L4_CKSUM_GOOD;
constexpr uint64_t l4_bad = RTE_MBUF_F_RX_L4_CKSUM_BAD;
constexpr uint64_t l4_none = RTE_MBUF_F_RX_L4_CKSUM_NONE;

void expect_drop(const std::vector<uint8_t>& f, drop reason, uint64_t flags = 0)
{
    const result r = classify_vec(f, flags);
    EXPECT_EQ(r.kind, pkt_kind::drop);
    EXPECT_STREQ(drop_name(r.why), drop_name(reason));
}

// --- Ethernet --------------------------------------------------------------

TEST(ClassifyEth, ShorterThanEthernetHeaderIsTruncatedEth)
{
    for (uint32_t n = 0; n < 14; n++) {
        const result r = classify_guarded(scapy_syn.data(), n);
        EXPECT_EQ(r.kind, pkt_kind::drop) << n;
        EXPECT_EQ(r.why, drop::truncated_eth) << n;
    }
}

TEST(ClassifyEth, Ipv6IsUnknownEthertype)
{
    auto f = scapy_syn;
    f[12] = 0x86;
    f[13] = 0xdd;
    expect_drop(f, drop::unknown_ethertype);
}

TEST(ClassifyEth, VlanTaggedIsUnknownEthertype)
{
    // A valid IPv4 SYN behind an 802.1Q tag: not supported yet.
    std::vector<uint8_t> f(scapy_syn.begin(), scapy_syn.begin() + 12);
    const uint8_t tag[] = {0x81, 0x00, 0x00, 0x05};
    f.insert(f.end(), tag, tag + 4);
    f.insert(f.end(), scapy_syn.begin() + 12, scapy_syn.end());
    expect_drop(f, drop::unknown_ethertype);
}

TEST(ClassifyEth, EthernetHeaderOnlyOfUnknownTypeIsUnknownEthertype)
{
    std::vector<uint8_t> f(scapy_syn.begin(), scapy_syn.begin() + 14);
    f[12] = 0x88;
    f[13] = 0xcc; // LLDP
    expect_drop(f, drop::unknown_ethertype);
}

// --- ARP -------------------------------------------------------------------

TEST(ClassifyArp, RequestFields)
{
    const result r = classify_vec(scapy_arp_request);
    ASSERT_EQ(r.kind, pkt_kind::arp);
    EXPECT_EQ(r.info.l2_len, 14);
    EXPECT_EQ(r.info.l3_len, 28);
    EXPECT_EQ(r.info.frame_len(), 42u);
    EXPECT_EQ(r.info.arp_op, RTE_ARP_OP_REQUEST);
    EXPECT_TRUE(rte_is_same_ether_addr(&r.info.arp_sha, &mac_c));
    EXPECT_EQ(r.info.arp_sip, ip_c);
    EXPECT_EQ(r.info.arp_tip, ip_s);
}

TEST(ClassifyArp, ReplyFields)
{
    const result r = classify_vec(scapy_arp_reply);
    ASSERT_EQ(r.kind, pkt_kind::arp);
    EXPECT_EQ(r.info.arp_op, RTE_ARP_OP_REPLY);
    EXPECT_TRUE(rte_is_same_ether_addr(&r.info.arp_sha, &mac_s));
    EXPECT_EQ(r.info.arp_sip, ip_s);
    EXPECT_EQ(r.info.arp_tip, ip_c);
}

TEST(ClassifyArp, PaddedTo60Accepted)
{
    auto f = scapy_arp_request;
    f.resize(60, 0xee);
    const result r = classify_vec(f);
    ASSERT_EQ(r.kind, pkt_kind::arp);
    EXPECT_EQ(r.info.frame_len(), 42u);
}

TEST(ClassifyArp, EveryPrefixIsTruncated)
{
    for (uint32_t n = 0; n < scapy_arp_request.size(); n++) {
        const result r = classify_guarded(scapy_arp_request.data(), n);
        ASSERT_EQ(r.kind, pkt_kind::drop) << n;
        EXPECT_EQ(r.why, n < 14 ? drop::truncated_eth : drop::truncated_arp) << n;
    }
}

TEST(ClassifyArp, HardwareTypeNotEthernetIsBad)
{
    auto f = scapy_arp_request;
    f[15] = 6; // IEEE 802
    expect_drop(f, drop::bad_arp);
}

TEST(ClassifyArp, ProtocolNotIpv4IsBad)
{
    auto f = scapy_arp_request;
    f[16] = 0x86;
    f[17] = 0xdd;
    expect_drop(f, drop::bad_arp);
}

TEST(ClassifyArp, HardwareLengthNotSixIsBad)
{
    auto f = scapy_arp_request;
    f[18] = 8;
    expect_drop(f, drop::bad_arp);
}

TEST(ClassifyArp, ProtocolLengthNotFourIsBad)
{
    auto f = scapy_arp_request;
    f[19] = 16;
    expect_drop(f, drop::bad_arp);
}

TEST(ClassifyArp, OpcodeNotRequestOrReplyIsBad)
{
    for (uint16_t op : {0, 3, 4, 8, 9, 0x0101}) {
        auto f = scapy_arp_request;
        f[20] = uint8_t(op >> 8);
        f[21] = uint8_t(op);
        expect_drop(f, drop::bad_arp);
    }
}

// --- IPv4 ------------------------------------------------------------------

// Raw prefixes of a frame: IP total length now exceeds what the frame holds.
void expect_prefixes_dropped(const std::vector<uint8_t>& f)
{
    for (uint32_t n = 0; n < f.size(); n++) {
        const result r = classify_guarded(f.data(), n);
        ASSERT_EQ(r.kind, pkt_kind::drop) << n;
        const drop want = n < 14 ? drop::truncated_eth : n < 34 ? drop::truncated_ip : drop::ip_total_len;
        EXPECT_STREQ(drop_name(r.why), drop_name(want)) << n;
    }
    EXPECT_NE(classify_vec(f).kind, pkt_kind::drop);
}

TEST(ClassifyIp, EveryPrefixOfSynDropped)
{
    expect_prefixes_dropped(scapy_syn);
}

TEST(ClassifyIp, EveryPrefixOfAckWithDataDropped)
{
    expect_prefixes_dropped(scapy_ack_hello);
}

TEST(ClassifyIp, EveryPrefixOfPingDropped)
{
    expect_prefixes_dropped(scapy_ping);
}

TEST(ClassifyIp, VersionNotFourIsBadVersion)
{
    for (uint8_t v : {0x65, 0x05, 0x35, 0xf5}) {
        auto f = scapy_syn;
        f[off_ip] = v;
        fix_ip(f.data());
        expect_drop(f, drop::bad_ip_version);
    }
}

TEST(ClassifyIp, IhlBelowFiveIsBadIhl)
{
    for (uint8_t ihl = 0; ihl < 5; ihl++) {
        auto f = scapy_syn;
        f[off_ip] = uint8_t(0x40 | ihl);
        expect_drop(f, drop::bad_ihl);
    }
}

// scapy_syn with `opts` (padded with EOL to a multiple of 4) as IP options,
// checksums right.
std::vector<uint8_t> syn_with_ip_options(std::vector<uint8_t> opts)
{
    while (opts.size() % 4 != 0) {
        opts.push_back(0);
    }
    std::vector<uint8_t> f = scapy_syn;
    f.insert(f.begin() + 34, opts.begin(), opts.end());
    f[off_ip] = uint8_t(0x40 | (5 + opts.size() / 4));
    set_total_len(f.data(), uint16_t(f.size() - 14));
    fix_ip(f.data());
    return f;
}

// Linux answers a SYN whose IP options are well formed (ip_options_compile
// accepts them, the TCP checksum does not cover them): so must we.
TEST(ClassifyIp, WellFormedIpOptionsAreSkipped)
{
    const std::vector<std::vector<uint8_t>> accepted = {
        {1, 1, 1, 0},                                  // NOP, NOP, NOP, EOL
        {7, 7, 4, 0, 0, 0, 0},                         // record route, room for one address
        {7, 3, 4},                                     // record route, full (pointer past the end)
        {68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0},        // timestamp, ts only
        {68, 12, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0},        // timestamp and address
        {68, 4, 5, 0x30},                              // timestamp, full, overflow 3
        {148, 4, 0, 0},                                // router alert
        {130, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0},          // security (RFC 1108): accepted on receipt
        {0, 0x44, 0xff},                               // EOL: the rest is ignored
        std::vector<uint8_t>(40, 1),                   // 40 NOPs (IHL 15)
    };
    for (const auto& o : accepted) {
        const std::vector<uint8_t> f = syn_with_ip_options(o);
        const result r = classify_vec(f, 0);
        ASSERT_EQ(r.kind, pkt_kind::tcp) << "option kind " << int(o[0]) << ": " << drop_name(r.why);
        EXPECT_EQ(r.info.l3_len, 20 + ((o.size() + 3) & ~3u));
        EXPECT_EQ(r.info.l4_len, 40u);
        EXPECT_EQ(r.info.opt_len, 20u);
        EXPECT_EQ(r.info.opt_off, 14u + r.info.l3_len + 20u);
        EXPECT_EQ(r.info.payload_len, 0u);
        EXPECT_EQ(r.info.seq, 0x11223344u);
        EXPECT_EQ(r.info.tcp_flags, RTE_TCP_SYN_FLAG);
        // The TCP options are found behind the IP options.
        tcp_options to;
        parse_tcp_options(f.data() + r.info.opt_off, r.info.opt_len, true, to);
        EXPECT_TRUE(to.has_mss && to.mss == 1460 && to.has_ts && to.ts_val == 0x01020304 && to.sack_ok);
    }
}

// What ip_options_compile() refuses, and source routes (accept_source_route
// = 0), are dropped as Linux drops them.
TEST(ClassifyIp, MalformedIpOptionsAndSourceRoutesAreDropped)
{
    const std::vector<std::vector<uint8_t>> bad = {
        {7, 1},                        // length < 2
        {7, 0},                        // length 0
        {7, 9, 4, 0},                  // length past the options
        {7, 2},                        // record route without a pointer
        {7, 7, 3, 0, 0, 0, 0},         // record route pointer < 4
        {7, 6, 4, 0, 0, 0},            // pointer inside, but no room for an address
        {7, 3, 4, 7, 3, 4},            // record route twice
        {68, 3, 5},                    // timestamp shorter than 4
        {68, 8, 4, 0, 0, 0, 0, 0},     // timestamp pointer < 5
        {68, 8, 5, 1, 0, 0, 0, 0},     // timestamp and address without room for both
        {68, 4, 5, 0xf0},              // full timestamp whose overflow count would wrap
        {68, 4, 5, 0x10, 68, 4, 5, 0x10}, // timestamp twice
        {148, 3, 0},                   // router alert shorter than 4
        {134, 8, 0, 0, 0, 1, 0, 0},    // CIPSO: no DOI configured
        {1, 1, 1, 7},                  // NOPs, then a kind without its length byte
    };
    for (const auto& o : bad) {
        expect_drop(syn_with_ip_options(o), drop::bad_ip_options);
    }
    expect_drop(syn_with_ip_options({131, 7, 4, 198, 18, 0, 9}), drop::ip_source_route);  // loose
    expect_drop(syn_with_ip_options({137, 7, 4, 198, 18, 0, 9}), drop::ip_source_route);  // strict
    expect_drop(syn_with_ip_options({131, 2}), drop::bad_ip_options);                      // no pointer
    expect_drop(syn_with_ip_options({131, 3, 4, 137, 3, 4}), drop::bad_ip_options);        // two routes
}

TEST(ClassifyIp, IhlBeyondFrameOrTotalLengthIsDropped)
{
    std::vector<uint8_t> f = syn_with_ip_options({1, 1, 1, 0});
    // IHL 15 (60 bytes) in a frame that ends after 14 + 40 bytes.
    f[off_ip] = 0x4f;
    f.resize(14 + 40);
    expect_drop(f, drop::truncated_ip);
    // IHL 15 in a long frame whose IP total length says 40.
    f = syn_with_ip_options({1, 1, 1, 0});
    f[off_ip] = 0x4f;
    set_total_len(f.data(), 40);
    fix_ip(f.data());
    expect_drop(f, drop::ip_total_len);
}

// An echo request with IP options is answered without them.
TEST(ClassifyIp, PingWithIpOptionsIsAnsweredWithoutThem)
{
    std::vector<uint8_t> f = scapy_ping;
    const std::vector<uint8_t> rr = {7, 7, 4, 0, 0, 0, 0, 0};
    f.insert(f.begin() + 34, rr.begin(), rr.end());
    f[off_ip] = 0x47;
    set_total_len(f.data(), uint16_t(f.size() - 14));
    fix_ip(f.data());
    const result r = classify_vec(f, 0);
    ASSERT_EQ(r.kind, pkt_kind::icmp_echo) << drop_name(r.why);
    EXPECT_EQ(r.info.l3_len, 28u);
    std::vector<uint8_t> out = f;
    const uint32_t n = make_icmp_echo_reply_inplace(out.data(), uint32_t(out.size()), r.info);
    ASSERT_EQ(n, scapy_pong.size());
    out.resize(n);
    EXPECT_EQ(out, scapy_pong); // what we answer the same ping without options
}

TEST(ClassifyIp, TotalLengthBeyondFrameDropped)
{
    auto f = scapy_syn;
    set_total_len(f.data(), uint16_t(f.size() - 14 + 1));
    fix_ip(f.data());
    expect_drop(f, drop::ip_total_len);
    set_total_len(f.data(), 0xffff);
    fix_ip(f.data());
    expect_drop(f, drop::ip_total_len);
}

TEST(ClassifyIp, TotalLengthShorterThanHeaderDropped)
{
    for (uint16_t total : {0, 1, 19}) {
        auto f = scapy_syn;
        set_total_len(f.data(), total);
        fix_ip(f.data());
        expect_drop(f, drop::ip_total_len);
    }
}

TEST(ClassifyIp, EthernetPaddingIgnored)
{
    // 59-byte ACK with 5 bytes of data padded to 60 with junk, as a NIC may
    // deliver it: the payload is 5 bytes and the checksum still verifies
    // (it would not if the junk byte were summed).
    auto f = scapy_ack_hello;
    f.resize(60, 0xab);
    const result r = classify_vec(f);
    ASSERT_EQ(r.kind, pkt_kind::tcp) << drop_name(r.why);
    EXPECT_EQ(r.info.payload_len, 5);
    EXPECT_EQ(r.info.frame_len(), 59u);

    auto s = scapy_syn;
    s.resize(128, 0xcd);
    const result rs = classify_vec(s);
    ASSERT_EQ(rs.kind, pkt_kind::tcp);
    EXPECT_EQ(rs.info.payload_len, 0);
}

TEST(ClassifyIp, BadChecksumDroppedWhenUnknown)
{
    auto f = scapy_syn;
    f[off_ip + 10] ^= 0x01;
    expect_drop(f, drop::bad_ip_cksum, 0);
    // Or any header byte changed after the checksum was computed.
    auto g = scapy_syn;
    g[off_ip + 8] = 63; // TTL
    expect_drop(g, drop::bad_ip_cksum, 0);
}

TEST(ClassifyIp, NicGoodTrustedOverBadChecksum)
{
    auto f = scapy_syn;
    f[off_ip + 10] ^= 0x01;
    EXPECT_EQ(classify_vec(f, ip_good).kind, pkt_kind::tcp);
}

TEST(ClassifyIp, NicNoneTreatedAsVerified)
{
    auto f = scapy_syn;
    f[off_ip + 10] ^= 0x01;
    EXPECT_EQ(classify_vec(f, ip_none).kind, pkt_kind::tcp);
}

TEST(ClassifyIp, NicBadTrustedOverGoodChecksum)
{
    expect_drop(scapy_syn, drop::bad_ip_cksum, ip_bad);
    expect_drop(scapy_syn, drop::bad_ip_cksum, ip_bad | l4_good);
}

TEST(ClassifyIp, MoreFragmentsDropped)
{
    auto f = scapy_syn;
    f[off_ip + 6] = 0x20; // MF, offset 0
    fix_ip(f.data());
    expect_drop(f, drop::ip_fragment);
}

TEST(ClassifyIp, FragmentOffsetDropped)
{
    for (uint16_t fo : {0x0001, 0x4001, 0x1fff, 0x0100}) {
        auto f = scapy_syn;
        f[off_ip + 6] = uint8_t(fo >> 8);
        f[off_ip + 7] = uint8_t(fo);
        fix_ip(f.data());
        expect_drop(f, drop::ip_fragment);
    }
}

TEST(ClassifyIp, DontFragmentOrNoFlagsAccepted)
{
    auto f = scapy_syn; // DF set
    EXPECT_EQ(classify_vec(f).kind, pkt_kind::tcp);
    f[off_ip + 6] = 0;
    fix_ip(f.data());
    EXPECT_EQ(classify_vec(f).kind, pkt_kind::tcp);
}

std::vector<uint8_t> with_addr(uint32_t off, uint32_t host_addr)
{
    auto f = scapy_syn;
    f[off] = uint8_t(host_addr >> 24);
    f[off + 1] = uint8_t(host_addr >> 16);
    f[off + 2] = uint8_t(host_addr >> 8);
    f[off + 3] = uint8_t(host_addr);
    fix_ip(f.data());
    fix_tcp(f.data());
    return f;
}

const uint32_t martians[] = {
    RTE_IPV4(0, 0, 0, 0),         RTE_IPV4(0, 1, 2, 3),       // zero network
    RTE_IPV4(127, 0, 0, 1),       RTE_IPV4(127, 255, 0, 9),   // loopback
    RTE_IPV4(224, 0, 0, 1),       RTE_IPV4(239, 255, 255, 255), // multicast
    RTE_IPV4(240, 0, 0, 1),       RTE_IPV4(254, 1, 1, 1),     // class E
    RTE_IPV4(255, 255, 255, 255),                             // limited broadcast
};
const uint32_t boundaries_ok[] = {
    RTE_IPV4(1, 0, 0, 0), RTE_IPV4(126, 255, 255, 255), RTE_IPV4(128, 0, 0, 0), RTE_IPV4(223, 255, 255, 255),
};

TEST(ClassifyIp, EachBadSourceClassDropped)
{
    for (uint32_t a : martians) {
        expect_drop(with_addr(off_ip + 12, a), drop::bad_src_addr);
    }
}

TEST(ClassifyIp, EachBadDestinationClassDropped)
{
    for (uint32_t a : martians) {
        expect_drop(with_addr(off_ip + 16, a), drop::bad_dst_addr);
    }
}

TEST(ClassifyIp, AddressesNextToBadClassesAccepted)
{
    for (uint32_t a : boundaries_ok) {
        EXPECT_EQ(classify_vec(with_addr(off_ip + 12, a)).kind, pkt_kind::tcp) << std::hex << a;
        EXPECT_EQ(classify_vec(with_addr(off_ip + 16, a)).kind, pkt_kind::tcp) << std::hex << a;
    }
}

TEST(ClassifyIp, UdpAndOthersAreUnknownL4)
{
    for (uint8_t proto : {17, 47, 41, 0, 255}) {
        auto f = scapy_syn;
        f[off_ip + 9] = proto;
        fix_ip(f.data());
        expect_drop(f, drop::unknown_l4);
    }
}

// --- TCP -------------------------------------------------------------------

TEST(ClassifyTcp, SynFields)
{
    const result r = classify_vec(scapy_syn);
    ASSERT_EQ(r.kind, pkt_kind::tcp);
    const pkt_info& i = r.info;
    EXPECT_EQ(i.l2_len, 14);
    EXPECT_EQ(i.l3_len, 20);
    EXPECT_EQ(i.l4_len, 40);
    EXPECT_EQ(i.payload_len, 0);
    EXPECT_EQ(i.src_ip, ip_c);
    EXPECT_EQ(i.dst_ip, ip_s);
    EXPECT_EQ(i.ttl, 64);
    EXPECT_EQ(i.tuple, make_tuple4(RTE_IPV4(198, 18, 0, 1), 80, RTE_IPV4(198, 18, 0, 2), 40000));
    EXPECT_EQ(i.tcp_flags, RTE_TCP_SYN_FLAG);
    EXPECT_EQ(i.seq, 0x11223344u);
    EXPECT_EQ(i.ack, 0u);
    EXPECT_EQ(i.window, 64240);
    EXPECT_EQ(i.opt_off, 54);
    EXPECT_EQ(i.opt_len, 20);

    tcp_options o;
    parse_tcp_options(tcp_options_ptr(scapy_syn.data(), i), i.opt_len, true, o);
    EXPECT_TRUE(o.has_mss);
    EXPECT_EQ(o.mss, 1460);
    EXPECT_TRUE(o.sack_ok);
    EXPECT_TRUE(o.has_ts);
    EXPECT_EQ(o.ts_val, 0x01020304u);
    EXPECT_EQ(o.ts_ecr, 0u);
    EXPECT_TRUE(o.has_wscale);
    EXPECT_EQ(o.wscale, 7);
}

TEST(ClassifyTcp, AckWithPayloadFields)
{
    const result r = classify_vec(scapy_ack_hello);
    ASSERT_EQ(r.kind, pkt_kind::tcp);
    EXPECT_EQ(r.info.l4_len, 20);
    EXPECT_EQ(r.info.opt_len, 0);
    EXPECT_EQ(r.info.payload_len, 5);
    EXPECT_EQ(r.info.tcp_flags, RTE_TCP_PSH_FLAG | RTE_TCP_ACK_FLAG);
    EXPECT_EQ(r.info.seq, 0x11223345u);
    EXPECT_EQ(r.info.ack, 0xaabbccdeu);
    EXPECT_EQ(r.info.window, 502);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(payload_ptr(scapy_ack_hello.data(), r.info)), 5), "hello");
}

// Truncations the IP header agrees with (total length and IP checksum fixed
// up): the TCP layer must notice what is missing.
TEST(ClassifyTcp, ConsistentlyTruncatedSegments)
{
    for (const auto* ref : {&scapy_syn, &scapy_ack_hello}) {
        const uint32_t doff = ((*ref)[off_l4 + 12] >> 4) * 4u;
        for (uint32_t total = 20; total < ref->size() - 14; total++) {
            std::vector<uint8_t> f(ref->begin(), ref->begin() + 14 + total);
            set_total_len(f.data(), uint16_t(total));
            fix_ip(f.data());
            const uint32_t l4 = total - 20;
            const result r = classify_vec(f);
            if (l4 < 20) {
                EXPECT_EQ(r.why, drop::truncated_tcp) << total;
            } else if (l4 < doff) {
                EXPECT_EQ(r.why, drop::bad_tcp_doff) << total;
            } else {
                // Payload cut short: the checksum no longer matches, unless the NIC vouches for it.
                EXPECT_EQ(r.why, drop::bad_tcp_cksum) << total;
                const result g = classify_vec(f, l4_good);
                ASSERT_EQ(g.kind, pkt_kind::tcp) << total;
                EXPECT_EQ(g.info.payload_len, l4 - doff);
            }
            EXPECT_EQ(r.kind, pkt_kind::drop);
        }
    }
}

TEST(ClassifyTcp, DataOffsetBelowFiveDropped)
{
    for (uint8_t doff = 0; doff < 5; doff++) {
        auto f = scapy_syn;
        f[off_l4 + 12] = uint8_t(doff << 4);
        fix_tcp(f.data());
        expect_drop(f, drop::bad_tcp_doff);
    }
}

TEST(ClassifyTcp, DataOffsetPastIpPayloadDropped)
{
    auto f = scapy_ack_hello; // 25 bytes of TCP: doff 6 (24) fits, doff 7 (28) does not
    f[off_l4 + 12] = 0x70;
    fix_tcp(f.data());
    expect_drop(f, drop::bad_tcp_doff);
    f[off_l4 + 12] = 0xf0;
    fix_tcp(f.data());
    expect_drop(f, drop::bad_tcp_doff);
    f[off_l4 + 12] = 0x60;
    fix_tcp(f.data());
    const result r = classify_vec(f);
    ASSERT_EQ(r.kind, pkt_kind::tcp);
    EXPECT_EQ(r.info.l4_len, 24);
    EXPECT_EQ(r.info.payload_len, 1);
}

TEST(ClassifyTcp, DataOffsetPastIpPayloadButInsidePaddingDropped)
{
    // The padding after the IP packet is not TCP header, even if it is there.
    auto f = scapy_syn;
    f[off_l4 + 12] = 0xb0; // 44 bytes of header, 40 in the IP packet
    fix_tcp(f.data());
    f.resize(f.size() + 8, 0);
    expect_drop(f, drop::bad_tcp_doff);
}

TEST(ClassifyTcp, BadChecksumDroppedWhenUnknown)
{
    auto f = scapy_ack_hello;
    f[f.size() - 1] ^= 0x20; // one payload bit
    expect_drop(f, drop::bad_tcp_cksum, 0);
    expect_drop(f, drop::bad_tcp_cksum, ip_good);
}

TEST(ClassifyTcp, NicGoodTrustedOverBadChecksum)
{
    auto f = scapy_ack_hello;
    f[f.size() - 1] ^= 0x20;
    EXPECT_EQ(classify_vec(f, l4_good).kind, pkt_kind::tcp);
    EXPECT_EQ(classify_vec(f, ip_good | l4_good).kind, pkt_kind::tcp);
}

TEST(ClassifyTcp, NicNoneTreatedAsVerified)
{
    auto f = scapy_ack_hello;
    f[f.size() - 1] ^= 0x20;
    EXPECT_EQ(classify_vec(f, l4_none).kind, pkt_kind::tcp);
}

TEST(ClassifyTcp, NicBadTrustedOverGoodChecksum)
{
    expect_drop(scapy_ack_hello, drop::bad_tcp_cksum, l4_bad);
    expect_drop(scapy_ack_hello, drop::bad_tcp_cksum, ip_good | l4_bad);
}

TEST(ClassifyTcp, ChecksumCoversPseudoHeader)
{
    // Changing the destination address (IP checksum fixed, TCP not) breaks the TCP checksum.
    auto f = scapy_syn;
    f[off_ip + 19] = 9;
    fix_ip(f.data());
    expect_drop(f, drop::bad_tcp_cksum);
}

// --- ICMP ------------------------------------------------------------------

TEST(ClassifyIcmp, EchoRequestFields)
{
    const result r = classify_vec(scapy_ping);
    ASSERT_EQ(r.kind, pkt_kind::icmp_echo);
    EXPECT_EQ(r.info.l3_len, 20);
    EXPECT_EQ(r.info.l4_len, 8);
    EXPECT_EQ(r.info.payload_len, 15);
    EXPECT_EQ(r.info.src_ip, ip_c);
    EXPECT_EQ(r.info.dst_ip, ip_s);
    EXPECT_EQ(r.info.ttl, 63);
}

TEST(ClassifyIcmp, PaddingIgnored)
{
    auto f = scapy_ping;
    f.resize(60, 0x77);
    const result r = classify_vec(f);
    ASSERT_EQ(r.kind, pkt_kind::icmp_echo);
    EXPECT_EQ(r.info.payload_len, 15);
}

TEST(ClassifyIcmp, ConsistentlyTruncatedMessages)
{
    for (uint32_t total = 20; total < scapy_ping.size() - 14; total++) {
        std::vector<uint8_t> f(scapy_ping.begin(), scapy_ping.begin() + 14 + total);
        set_total_len(f.data(), uint16_t(total));
        fix_ip(f.data());
        const uint32_t l4 = total - 20;
        const result r = classify_vec(f, l4_good); // L4 flags do not cover ICMP
        if (l4 < 8) {
            EXPECT_EQ(r.why, drop::truncated_icmp) << total;
        } else if (ref_sum(f.data() + off_l4, l4) == 0xffff) {
            EXPECT_EQ(r.kind, pkt_kind::icmp_echo) << total;
        } else {
            EXPECT_EQ(r.why, drop::bad_icmp_cksum) << total;
        }
    }
}

TEST(ClassifyIcmp, BadChecksumDroppedEvenIfNicSaysGood)
{
    auto f = scapy_ping;
    f[f.size() - 1] ^= 1;
    expect_drop(f, drop::bad_icmp_cksum, 0);
    expect_drop(f, drop::bad_icmp_cksum, ip_good | l4_good);
}

TEST(ClassifyIcmp, AnythingButEchoRequestUnhandled)
{
    for (uint8_t type : {0, 3, 5, 11, 13, 42}) {
        auto f = scapy_ping;
        f[off_l4] = type;
        fix_icmp(f.data());
        expect_drop(f, drop::icmp_unhandled);
    }
}

TEST(ClassifyIcmp, OddLengthChecksumVerified)
{
    // 15 bytes of data: the odd last byte is summed as the high half of a word.
    auto f = scapy_ping;
    f[f.size() - 1] = 0x22;
    expect_drop(f, drop::bad_icmp_cksum);
    fix_icmp(f.data());
    EXPECT_EQ(classify_vec(f).kind, pkt_kind::icmp_echo);
}

// --- names -------------------------------------------------------------------

TEST(DropNames, EveryReasonHasItsOwnName)
{
    EXPECT_STREQ(drop_name(drop::truncated_eth), "truncated_eth");
    EXPECT_STREQ(drop_name(drop::icmp_unhandled), "icmp_unhandled");
    EXPECT_STREQ(drop_name(drop::count), "unknown");
    for (unsigned i = 0; i < n_drops; i++) {
        for (unsigned j = i + 1; j < n_drops; j++) {
            EXPECT_STRNE(drop_name(drop(i)), drop_name(drop(j)));
        }
    }
    EXPECT_STREQ(pkt_kind_name(pkt_kind::icmp_echo), "icmp_echo");
}

} // namespace
} // namespace fg::net::test
