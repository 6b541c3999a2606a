// LISTEN (RFC 9293 3.10.7.2), closed ports (3.10.7.1) and the SYN-ACK itself:
// options echoed, built in place, checksums that verify.
#include <cerrno>

#include "passive_harness.hh"

namespace fg::tcp::test {
namespace {

TEST_F(passive, Listen_RstIgnored_3_10_7_2)
{
    start();
    in(40000, th_rst, 1234, 0);
    in(40001, th_rst | th_ack, 1234, 99);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(count(ctr::listen_rst_ignored), 2u);
    EXPECT_EQ(count(ctr::rst_sent), 0u);
    expect_clean();
}

TEST_F(passive, Listen_AckGetsRstSeqEqSegAck)
{
    start();
    in(40000, th_ack, 1234, 0xdeadbeef);
    const seg r = one();
    EXPECT_EQ(r.flags(), th_rst); // <SEQ=SEG.ACK><CTL=RST>: no ACK bit
    EXPECT_EQ(r.seq(), 0xdeadbeefu);
    EXPECT_EQ(r.pi.tuple.laddr, ip_c());
    EXPECT_EQ(r.pi.tuple.lport, rte_cpu_to_be_16(40000));
    EXPECT_EQ(count(ctr::listen_ack_rst), 1u);
    EXPECT_EQ(count(ctr::rst_sent), 1u);
    expect_clean();
}

TEST_F(passive, Listen_AckWithDataGetsRst)
{
    start();
    in(40000, th_ack | th_psh, 1234, 777, nullptr, 100);
    const seg r = one();
    EXPECT_EQ(r.flags(), th_rst);
    EXPECT_EQ(r.seq(), 777u);
    EXPECT_EQ(r.pi.payload_len, 0u);
    expect_clean();
}

TEST_F(passive, Listen_SynAckGetsRst)
{
    start();
    const net::tcp_options o = client_syn_opts();
    in(40000, th_syn | th_ack, 1234, 5555, &o);
    const seg r = one();
    EXPECT_EQ(r.flags(), th_rst);
    EXPECT_EQ(r.seq(), 5555u);
    EXPECT_EQ(count(ctr::listen_ack_rst), 1u);
    EXPECT_EQ(eng->conns_in_use(), 0u);
    expect_clean();
}

TEST_F(passive, Listen_SynFinDropped)
{
    start();
    const net::tcp_options o = client_syn_opts();
    in(40000, th_syn | th_fin, 1234, 0, &o);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(count(ctr::synfin_dropped), 1u);
    EXPECT_EQ(count(ctr::syn_received), 0u);
    expect_clean();
}

TEST_F(passive, Listen_SynRstDropped)
{
    start();
    in(40000, th_syn | th_rst, 1234, 0);
    in(40001, th_syn | th_rst | th_ack, 1234, 1);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(count(ctr::synrst_dropped), 2u);
    expect_clean();
}

TEST_F(passive, Listen_NoFlagsDropped)
{
    start();
    in(40000, 0, 1234, 0);
    in(40001, th_psh | th_urg, 1234, 0, nullptr, 10);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(count(ctr::noflags_dropped), 2u);
    expect_clean();
}

TEST_F(passive, Listen_FinAloneDropped)
{
    start();
    in(40000, th_fin, 1234, 0);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(count(ctr::listen_no_syn_dropped), 1u);
    expect_clean();
}

TEST_F(passive, Listen_SecondListenerEaddrinuse)
{
    start();
    int rc = 0;
    std::string err;
    EXPECT_EQ(listen(lt, reg, ip_s(), rte_cpu_to_be_16(srv_port), lopts, 1, rc, err), nullptr);
    EXPECT_EQ(rc, -EADDRINUSE);
    // The wildcard address overlaps every address (Linux inet_bind_conflict).
    EXPECT_EQ(listen(lt, reg, 0, rte_cpu_to_be_16(srv_port), lopts, 1, rc, err), nullptr);
    EXPECT_EQ(rc, -EADDRINUSE);
    // Another port is fine, and unlisten frees it for reuse.
    auto l2 = listen(lt, reg, 0, rte_cpu_to_be_16(81), lopts, 1, rc, err);
    ASSERT_NE(l2, nullptr) << err;
    EXPECT_EQ(unlisten(lt, reg, *l2, nullptr), 0);
    l2.reset();
    l2 = listen(lt, reg, 0, rte_cpu_to_be_16(81), lopts, 1, rc, err);
    ASSERT_NE(l2, nullptr) << err;
    EXPECT_EQ(unlisten(lt, reg, *l2, nullptr), 0);
}

TEST_F(passive, Listen_WildcardAddressAnswers)
{
    start(false);
    int rc = 0;
    std::string err;
    lst = listen(lt, reg, 0, rte_cpu_to_be_16(srv_port), lopts, 1, rc, err);
    ASSERT_NE(lst, nullptr) << err;
    const seg sa = syn(40000, 100);
    EXPECT_EQ(sa.flags(), th_syn | th_ack);
}

TEST_F(passive, NoListener_RstAck)
{
    start();
    // No ACK bit: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; SEG.LEN counts SYN.
    const net::tcp_options o = client_syn_opts();
    in(frame(40000, th_syn, 1000, 0, &o, 0, 64240, 81));
    seg r = one();
    EXPECT_EQ(r.flags(), th_rst | th_ack);
    EXPECT_EQ(r.seq(), 0u);
    EXPECT_EQ(r.ack(), 1001u);
    EXPECT_EQ(r.pi.tuple.rport, rte_cpu_to_be_16(81));
    // SEG.LEN counts payload and FIN.
    in(frame(40000, th_fin | th_psh, 2000, 0, nullptr, 10, 64240, 81));
    r = one();
    EXPECT_EQ(r.flags(), th_rst | th_ack);
    EXPECT_EQ(r.ack(), 2011u);
    // With ACK: <SEQ=SEG.ACK><CTL=RST>.
    in(frame(40000, th_ack, 3000, 4242, nullptr, 0, 64240, 81));
    r = one();
    EXPECT_EQ(r.flags(), th_rst);
    EXPECT_EQ(r.seq(), 4242u);
    EXPECT_EQ(count(ctr::no_listener), 3u);
    EXPECT_EQ(count(ctr::rst_sent), 3u);
    EXPECT_TRUE(r.ip_cksum_ok && r.tcp_cksum_ok);
    expect_clean();
}

TEST_F(passive, NoListener_RstRateLimited)
{
    cfg.rst_per_s = 10;
    cfg.rst_burst = 5;
    start();
    for (int i = 0; i < 8; i++) {
        in(frame(uint16_t(40000 + i), th_syn, 1000, 0, nullptr, 0, 64240, 81));
    }
    EXPECT_EQ(sent().size(), 5u); // the burst
    EXPECT_EQ(count(ctr::rst_rate_limited), 3u);
    EXPECT_EQ(count(ctr::no_listener), 8u);
    // 10 per second: 100 ms later one more token.
    tick_to(t_start + 100);
    in(frame(40100, th_syn, 1000, 0, nullptr, 0, 64240, 81));
    in(frame(40101, th_syn, 1000, 0, nullptr, 0, 64240, 81));
    EXPECT_EQ(sent().size(), 1u);
    EXPECT_EQ(count(ctr::rst_rate_limited), 4u);
    expect_clean();
}

TEST_F(passive, NeverRstAnRst)
{
    start();
    // Closed port.
    in(frame(40000, th_rst, 1000, 0, nullptr, 0, 64240, 81));
    in(frame(40000, th_rst | th_ack, 1000, 5, nullptr, 0, 64240, 81));
    // Listener.
    in(40001, th_rst | th_ack, 1000, 5);
    // SYN-RECEIVED with a bad ACK.
    const seg sa = syn(40002, 500);
    in(40002, th_rst | th_ack, 501, sa.seq() + 77);
    // Established, out of window.
    const event e = handshake(40003, 900);
    (void)e;
    in(40003, th_rst, 901 + 1000000, 0);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(count(ctr::rst_sent), 0u);
    EXPECT_EQ(count(ctr::rst_rate_limited), 0u);
    EXPECT_EQ(count(ctr::bad_ack_synrecv), 1u);
    EXPECT_EQ(count(ctr::rst_out_of_window), 1u);
}

// Every combination of the four SYN options: the SYN-ACK carries MSS always
// and each other option exactly when the SYN offered it.
TEST_F(passive, SynAck_EchoesOnlyOfferedOptions)
{
    start();
    for (unsigned combo = 0; combo < 16; combo++) {
        const bool mss = combo & 1, ws = combo & 2, sack = combo & 4, ts = combo & 8;
        SCOPED_TRACE("mss=" + std::to_string(mss) + " ws=" + std::to_string(ws) + " sack=" + std::to_string(sack) +
                     " ts=" + std::to_string(ts));
        net::tcp_options o = client_syn_opts(mss, ws, sack, ts);
        o.ts_val = 7000 + combo;
        const uint16_t cport = uint16_t(41000 + combo);
        const seg sa = syn(cport, 100 * combo, o);
        EXPECT_EQ(sa.flags(), th_syn | th_ack);
        EXPECT_EQ(sa.ack(), 100 * combo + 1);
        EXPECT_TRUE(sa.opts.has_mss);
        EXPECT_EQ(sa.opts.mss, cfg.opts.mss);
        EXPECT_EQ(sa.opts.has_wscale, ws);
        if (ws) {
            EXPECT_EQ(sa.opts.wscale, cfg.opts.rcv_wscale);
        }
        EXPECT_EQ(sa.opts.sack_ok, sack);
        EXPECT_EQ(sa.opts.has_ts, ts);
        if (ts) {
            EXPECT_EQ(sa.opts.ts_ecr, 7000 + combo); // echoes the SYN's TSval
        }
        EXPECT_EQ(sa.pi.window, 65535u); // a SYN-ACK's window is never scaled
        // The connection uses what was negotiated.
        const conn* c = find(cport);
        ASSERT_NE(c, nullptr);
        EXPECT_EQ(c->has(cf_ws_ok), ws);
        EXPECT_EQ(c->has(cf_sack_ok), sack);
        EXPECT_EQ(c->has(cf_ts_ok), ts);
        EXPECT_EQ(c->mss, mss ? 1460 : 536);
        if (ws) {
            EXPECT_EQ(c->snd_wscale(), 7);
        }
    }
}

TEST_F(passive, SynAck_LocalSettingsOffMeansNotEchoed)
{
    cfg.opts.sack = false;
    cfg.opts.timestamps = false;
    cfg.opts.window_scaling = false;
    start();
    const seg sa = syn(40000, 1);
    EXPECT_TRUE(sa.opts.has_mss);
    EXPECT_FALSE(sa.opts.has_wscale);
    EXPECT_FALSE(sa.opts.sack_ok);
    EXPECT_FALSE(sa.opts.has_ts);
}

TEST_F(passive, SynAck_ClampsPeerWscaleAndMss)
{
    start();
    net::tcp_options o = client_syn_opts();
    o.mss = 20;     // below 48: raised to 48 by the parser/negotiation
    o.wscale = 14;
    const seg sa = syn(40000, 1, o);
    (void)sa;
    const conn* c = find(40000);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->mss, 48);
    EXPECT_EQ(c->snd_wscale(), 14);
}

TEST_F(passive, SynAck_BuiltInPlace)
{
    start();
    // With options, and a bare 54-byte SYN whose SYN-ACK is longer than it.
    const net::tcp_options o = client_syn_opts();
    rte_mbuf* m = frame(40000, th_syn, 1, 0, &o);
    in(m);
    seg sa = one();
    EXPECT_EQ(sa.mbuf, m);
    rte_mbuf* bare = frame(40001, th_syn, 1, 0, nullptr);
    EXPECT_EQ(bare->data_len, 54u);
    in(bare);
    sa = one();
    EXPECT_EQ(sa.mbuf, bare);
    EXPECT_EQ(sa.bytes.size(), 58u); // + MSS option
    // Ethernet addresses swapped: back to the client.
    const auto* eth = reinterpret_cast<const rte_ether_hdr*>(sa.bytes.data());
    EXPECT_TRUE(rte_is_same_ether_addr(&eth->dst_addr, &mac_c));
    EXPECT_TRUE(rte_is_same_ether_addr(&eth->src_addr, &mac_s));
    // Payload of a SYN (TFO data) is not carried over into the SYN-ACK.
    rte_mbuf* data_syn = frame(40002, th_syn, 1, 0, &o, 200);
    in(data_syn);
    sa = one();
    EXPECT_EQ(sa.mbuf, data_syn);
    EXPECT_EQ(sa.pi.payload_len, 0u);
    EXPECT_EQ(sa.ack(), 2u);
}

TEST_F(passive, SynAck_ChecksumsVerify)
{
    start();
    // classify() with rx flags 0 (UNKNOWN) verified both sums, or it would
    // have dropped the frame; check them directly as well, for each shape.
    for (unsigned combo = 0; combo < 16; combo++) {
        const net::tcp_options o = client_syn_opts(combo & 1, combo & 2, combo & 4, combo & 8);
        const seg sa = syn(uint16_t(40000 + combo), 77 * combo, o);
        EXPECT_EQ(sa.kind, net::pkt_kind::tcp);
        EXPECT_TRUE(sa.ip_cksum_ok);
        EXPECT_TRUE(sa.tcp_cksum_ok);
        EXPECT_EQ(sa.ol_flags, 0u);
    }
}

TEST_F(passive, SynAck_OffloadFlagsWhenPortOffloads)
{
    out.tx_ip_cksum = true;
    out.tx_tcp_cksum = true;
    start();
    const net::tcp_options o = client_syn_opts();
    in(40000, th_syn, 1, 0, &o);
    ASSERT_EQ(out.n, 1u);
    rte_mbuf* m = out.pkts[0];
    EXPECT_EQ(m->ol_flags, net::tcp_tx_offload_flags);
    EXPECT_EQ(m->l2_len, 14u);
    EXPECT_EQ(m->l3_len, 20u);
    const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, 14);
    const auto* th = rte_pktmbuf_mtod_offset(m, const rte_tcp_hdr*, 34);
    EXPECT_EQ(ip->hdr_checksum, 0u);
    EXPECT_EQ(th->cksum, rte_ipv4_phdr_cksum(ip, 0)); // the NIC finishes it
    discard_sent();
}

} // namespace
} // namespace fg::tcp::test
