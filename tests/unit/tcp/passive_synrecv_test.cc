// SYN-RECEIVED (Linux tcp_check_req), SYN-ACK retransmission, the third ACK
// and the accept ring, the per-lcore SYN queue and when cookies take over.
#include <cerrno>

#include "passive_harness.hh"

namespace fg::tcp::test {
namespace {

TEST_F(passive, SynRecv_RequestEntryState)
{
    start();
    const seg sa = syn(40000, 1000);
    const conn* c = find(40000);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->st, state::syn_received);
    EXPECT_EQ(c->iss, sa.seq());
    EXPECT_EQ(c->rcv_nxt, 1001u);
    EXPECT_EQ(c->snd_nxt, sa.seq() + 1);
    EXPECT_EQ(c->listener, lst->ref());
    EXPECT_EQ(lst->lcore(0).syn_queue_len, 1u);
    uint32_t exp = 0;
    ASSERT_TRUE(eng->timer_of(*c, exp));
    EXPECT_EQ(exp, t_start + 1000);
    EXPECT_EQ(count(ctr::requests_created), 1u);
    EXPECT_EQ(count(ctr::synack_sent), 1u);
}

TEST_F(passive, SynAck_Retransmit_1s_Doubling_5Retries)
{
    start();
    const seg sa = syn(40000, 1000);
    // Linux: 1, 2, 4, 8, 16 s between SYN-ACKs, then 32 s until the request goes (63 s).
    const uint32_t at[] = {1000, 3000, 7000, 15000, 31000};
    for (uint32_t t : at) {
        tick_to(t_start + t - 1);
        EXPECT_TRUE(sent().empty()) << "early at " << t - 1;
        tick_to(t_start + t);
        const seg r = one();
        EXPECT_EQ(r.flags(), th_syn | th_ack) << t;
        EXPECT_EQ(r.seq(), sa.seq());
        EXPECT_EQ(r.ack(), 1001u);
        EXPECT_EQ(r.opts.ts_ecr, sa.opts.ts_ecr); // same options; only TSval moves on
        EXPECT_EQ(r.opts.ts_val, sa.opts.ts_val + t);
        EXPECT_EQ(r.opts.has_wscale, sa.opts.has_wscale);
        EXPECT_EQ(r.opts.sack_ok, sa.opts.sack_ok);
        EXPECT_EQ(r.opts.mss, sa.opts.mss);
        EXPECT_TRUE(r.ip_cksum_ok && r.tcp_cksum_ok);
        // A new frame: addressed through the configured L2 (src/dst MAC).
        const auto* eth = reinterpret_cast<const rte_ether_hdr*>(r.bytes.data());
        EXPECT_TRUE(rte_is_same_ether_addr(&eth->dst_addr, &mac_c));
    }
    EXPECT_EQ(count(ctr::synack_retransmits), 5u);
    tick_to(t_start + 63000 - 1);
    EXPECT_NE(find(40000), nullptr);
    tick_to(t_start + 63000);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(find(40000), nullptr);
    EXPECT_EQ(count(ctr::synack_timeouts), 1u);
    EXPECT_EQ(lst->lcore(0).syn_queue_len, 0u);
    expect_clean();
}

TEST_F(passive, SynAck_RetriesConfigurable)
{
    cfg.synack_retries = 2;
    cfg.rto_initial_ms = 200;
    start();
    syn(40000, 1000);
    tick_to(t_start + 200);
    EXPECT_EQ(sent().size(), 1u);
    tick_to(t_start + 600);
    EXPECT_EQ(sent().size(), 1u);
    tick_to(t_start + 1399);
    EXPECT_NE(find(40000), nullptr);
    tick_to(t_start + 1400);
    EXPECT_EQ(find(40000), nullptr);
    EXPECT_EQ(count(ctr::synack_retransmits), 2u);
    expect_clean();
}

TEST_F(passive, SynRecv_DuplicateSynResendsSynAck)
{
    start();
    const seg sa = syn(40000, 1000);
    const net::tcp_options o = client_syn_opts();
    rte_mbuf* dup = frame(40000, th_syn, 1000, 0, &o);
    in(dup);
    const seg r = one();
    EXPECT_EQ(r.mbuf, dup); // in place again
    EXPECT_EQ(r.flags(), th_syn | th_ack);
    EXPECT_EQ(r.seq(), sa.seq());
    EXPECT_EQ(r.ack(), 1001u);
    EXPECT_EQ(count(ctr::synack_dup_syn), 1u);
    EXPECT_EQ(eng->conns_in_use(), 1u);
    EXPECT_EQ(lst->lcore(0).syn_queue_len, 1u);
}

// Linux tcp_check_req(): the resent SYN-ACK restarts the SYN-ACK timer from
// now (mod_timer_pending with the current timeout), and a second duplicate
// within tcp_invalid_ratelimit (500 ms) is not answered.
TEST_F(passive, SynRecv_DuplicateSynRestartsTimerAndIsRateLimited)
{
    start();
    syn(40000, 1000);
    const net::tcp_options o = client_syn_opts();
    tick_to(t_start + 700);
    in(40000, th_syn, 1000, 0, &o);
    EXPECT_EQ(one().flags(), th_syn | th_ack);
    uint32_t exp = 0;
    ASSERT_TRUE(eng->timer_of(*find(40000), exp));
    EXPECT_EQ(exp, t_start + 700 + 1000);
    tick_to(t_start + 1199);
    in(40000, th_syn, 1000, 0, &o);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(count(ctr::oow_ack_rate_limited), 1u);
    tick_to(t_start + 1200);
    in(40000, th_syn, 1000, 0, &o);
    EXPECT_EQ(one().flags(), th_syn | th_ack);
    EXPECT_EQ(count(ctr::synack_dup_syn), 2u);
}

// Linux looks at RST, SYN and ACK only: a SYN+FIN with the first SYN's
// sequence number is a retransmitted SYN, not a new one.
TEST_F(passive, SynRecv_SynFinWithTheSameIsnIsARetransmission)
{
    start();
    const seg sa = syn(40000, 1000);
    in(40000, th_syn | th_fin, 1000, 0);
    const seg r = one();
    EXPECT_EQ(r.flags(), th_syn | th_ack);
    EXPECT_EQ(r.seq(), sa.seq());
    EXPECT_EQ(count(ctr::synrecv_syn_reset), 0u);
    EXPECT_EQ(find(40000)->st, state::syn_received);
}

// Linux tsecr_reject: an ACK whose TSecr echoes no SYN-ACK TSval of ours
// is out of window: ACKed, the request stays.
TEST_F(passive, SynRecv_AckEchoingNoTsvalOfOursGetsAck)
{
    start();
    const seg sa = syn(40000, 1000);
    net::tcp_options a;
    a.has_ts = true;
    a.ts_val = 1001;
    a.ts_ecr = sa.opts.ts_val + 5000; // a TSval we never sent
    in(40000, th_ack, 1001, sa.seq() + 1, &a);
    const seg r = one();
    EXPECT_EQ(r.flags(), th_ack);
    EXPECT_EQ(find(40000)->st, state::syn_received);
    EXPECT_TRUE(accepted().empty());
    a.ts_ecr = sa.opts.ts_val;
    in(40000, th_ack, 1001, sa.seq() + 1, &a);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(accepted().size(), 1u);
}

// PAWS in SYN-RECEIVED: an ACK with a TSval older than the SYN's.
TEST_F(passive, SynRecv_PawsOldTsvalGetsAck)
{
    start();
    const seg sa = syn(40000, 1000); // TSval 1000
    net::tcp_options a;
    a.has_ts = true;
    a.ts_val = 999;
    a.ts_ecr = sa.opts.ts_val;
    in(40000, th_ack, 1001, sa.seq() + 1, &a);
    EXPECT_EQ(one().flags(), th_ack);
    EXPECT_EQ(find(40000)->st, state::syn_received);
}

// Linux: "Truncate SYN, it is out of window starting at rcv_isn + 1": a
// SYN+ACK that starts at the peer's ISN and carries data into the window
// is taken as the third ACK (its data is left for the peer to resend).
TEST_F(passive, SynRecv_SynAckWithDataFromTheIsnCompletesTheHandshake)
{
    start();
    const seg sa = syn(40000, 1000, client_syn_opts(true, true, true, false));
    in(40000, th_syn | th_ack, 1000, sa.seq() + 1, nullptr, 20);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(accepted().size(), 1u);
    EXPECT_EQ(find(40000)->st, state::established);
    EXPECT_EQ(find(40000)->rcv_nxt, 1001u);
    EXPECT_EQ(count(ctr::synrecv_syn_reset), 0u);
}

TEST_F(passive, SynRecv_BadAckGetsRst)
{
    start();
    const seg sa = syn(40000, 1000);
    in(40000, th_ack, 1001, sa.seq() + 5);
    const seg r = one();
    EXPECT_EQ(r.flags(), th_rst);
    EXPECT_EQ(r.seq(), sa.seq() + 5); // <SEQ=SEG.ACK>
    EXPECT_EQ(count(ctr::bad_ack_synrecv), 1u);
    // Linux keeps the request: the right ACK still completes it.
    ASSERT_NE(find(40000), nullptr);
    in(40000, th_ack, 1001, sa.seq() + 1);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(accepted().size(), 1u);
}

TEST_F(passive, SynRecv_OutOfWindowGetsAck)
{
    start();
    const seg sa = syn(40000, 1000);
    in(40000, th_ack, 1001 + 70000, sa.seq() + 1);
    const seg r = one();
    EXPECT_EQ(r.flags(), th_ack);
    EXPECT_EQ(r.seq(), sa.seq() + 1);
    EXPECT_EQ(r.ack(), 1001u);
    EXPECT_EQ(count(ctr::synrecv_out_of_window), 1u);
    EXPECT_EQ(find(40000)->st, state::syn_received);
}

TEST_F(passive, SynRecv_RstInWindowDropsRequest)
{
    start();
    syn(40000, 1000);
    in(40000, th_rst, 1001, 0);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(count(ctr::synrecv_rst), 1u);
    EXPECT_EQ(lst->lcore(0).syn_queue_len, 0u);
    expect_clean();
}

TEST_F(passive, SynRecv_NewSynInWindowGetsRstAndDropsRequest)
{
    start();
    syn(40000, 1000);
    const net::tcp_options o = client_syn_opts();
    in(40000, th_syn, 1005, 0, &o); // a different ISN inside the window
    const seg r = one();
    EXPECT_EQ(r.flags(), th_rst | th_ack);
    EXPECT_EQ(r.ack(), 1006u);
    EXPECT_EQ(count(ctr::synrecv_syn_reset), 1u);
    expect_clean();
}

TEST_F(passive, SynRecv_NoAckDropped)
{
    start();
    syn(40000, 1000);
    in(40000, th_psh, 1001, 0, nullptr, 10);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(count(ctr::synrecv_no_ack_dropped), 1u);
    EXPECT_EQ(find(40000)->st, state::syn_received);
}

TEST_F(passive, ThirdAck_Accepts)
{
    start();
    const seg sa = syn(40000, 1000);
    tick_to(t_start + 3); // 3 ms RTT
    net::tcp_options a;
    a.has_ts = true;
    a.ts_val = 1001;
    a.ts_ecr = sa.opts.ts_val;
    in(40000, th_ack, 1001, sa.seq() + 1, &a, 0, 501);
    EXPECT_TRUE(sent().empty());
    const conn* c = find(40000);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->st, state::established);
    EXPECT_EQ(c->snd_una, sa.seq() + 1);
    EXPECT_EQ(c->snd_wnd, 501u);
    EXPECT_EQ(c->ts_recent, 1001u);
    uint32_t exp = 0;
    EXPECT_FALSE(eng->timer_of(*c, exp)); // SYN-ACK timer cancelled
    EXPECT_EQ(lst->lcore(0).syn_queue_len, 0u);
    const std::vector<event> acc = accepted();
    ASSERT_EQ(acc.size(), 1u);
    const event& e = acc[0];
    EXPECT_EQ(e.type, event_type::accepted);
    EXPECT_EQ(e.tuple, tuple(40000));
    EXPECT_EQ(e.listener_ref, lst->ref());
    EXPECT_EQ(e.mss, 1460u);
    EXPECT_EQ(e.opts, ev_sack | ev_ts | ev_wscale);
    EXPECT_EQ(e.snd_wscale, 7u);
    EXPECT_EQ(e.rcv_wscale, cfg.opts.rcv_wscale);
    EXPECT_EQ(e.rtt_us, 3000u);
    EXPECT_EQ(eng->find(e.h), c);
    EXPECT_EQ(count(ctr::accepted), 1u);
    // Nothing on the lcore's event ring: accepted connections go to the listener.
    EXPECT_TRUE(events().empty());
}

TEST_F(passive, ThirdAck_WithDataIsAckedAndDiscarded)
{
    start();
    const seg sa = syn(40000, 1000, client_syn_opts(true, true, true, false));
    in(40000, th_ack | th_psh, 1001, sa.seq() + 1, nullptr, 100);
    const seg r = one();
    EXPECT_EQ(r.flags(), th_ack);
    EXPECT_EQ(r.ack(), 1101u);
    EXPECT_EQ(find(40000)->st, state::established);
    EXPECT_EQ(count(ctr::payload_bytes_discarded), 100u);
    EXPECT_EQ(accepted().size(), 1u);
}

TEST_F(passive, AcceptQueueFull_AckIgnoredSynAckRetransmitted)
{
    lopts.backlog = 1;
    start();
    const seg sa = syn(40000, 1000);
    const seg sb = syn(40001, 2000);
    in(40000, th_ack, 1001, sa.seq() + 1); // fills the accept ring
    in(40001, th_ack, 2001, sb.seq() + 1); // no room: ignored
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(count(ctr::accept_queue_overflows), 1u);
    EXPECT_EQ(find(40001)->st, state::syn_received);
    EXPECT_EQ(lst->lcore(0).syn_queue_len, 1u);
    // The request stays and its SYN-ACK is retransmitted (tcp_abort_on_overflow=0).
    tick_to(t_start + 1000);
    const seg r = one();
    EXPECT_EQ(r.flags(), th_syn | th_ack);
    EXPECT_EQ(r.seq(), sb.seq());
    // The application accepts; the client's next ACK gets in.
    EXPECT_EQ(accepted().size(), 1u);
    in(40001, th_ack, 2001, sb.seq() + 1);
    EXPECT_EQ(find(40001)->st, state::established);
    EXPECT_EQ(accepted().size(), 1u);
}

TEST_F(passive, AcceptQueueFull_SynDropped)
{
    lopts.backlog = 1;
    start();
    handshake(40000, 1000);
    // Not dequeued: fill it again.
    const seg sa = syn(40001, 1000);
    in(40001, th_ack, 1001, sa.seq() + 1);
    EXPECT_EQ(lst->accept_pending(), 1u);
    const net::tcp_options o = client_syn_opts();
    in(40002, th_syn, 5, 0, &o);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(count(ctr::syn_accept_queue_full), 1u);
    EXPECT_EQ(find(40002), nullptr);
}

TEST_F(passive, SynQueueFull_AutoSendsCookies)
{
    lopts.syn_backlog = 2;
    start();
    syn(40000, 1000);
    syn(40001, 1000);
    EXPECT_EQ(lst->lcore(0).syn_queue_len, 2u);
    const seg c = syn(40002, 1000);
    EXPECT_EQ(c.flags(), th_syn | th_ack);
    EXPECT_EQ(find(40002), nullptr); // no state for a cookie
    EXPECT_EQ(eng->conns_in_use(), 2u);
    EXPECT_EQ(count(ctr::syn_queue_full_cookies), 1u);
    EXPECT_EQ(count(ctr::cookies_sent), 1u);
    // The ISN is the Linux cookie for this SYN and minute.
    EXPECT_EQ(c.seq(), cookies.make(tuple(40002), 1000, 1460, syncookie::count_from_ms(t_start)));
    // A request leaving the queue makes room: requests again, no cookie.
    in(40000, th_rst, 1001, 0);
    const seg r = syn(40003, 1000);
    (void)r;
    EXPECT_NE(find(40003), nullptr);
    EXPECT_EQ(count(ctr::cookies_sent), 1u);
}

TEST_F(passive, SynQueue_SplitEvenlyAcrossLcores)
{
    lopts.syn_backlog = 5;
    n_lcores = 2;
    start();
    EXPECT_EQ(lst->syn_share(), 3u); // ceil(5 / 2)
    syn(40000, 1);
    syn(40001, 1);
    syn(40002, 1);
    EXPECT_EQ(eng->conns_in_use(), 3u);
    syn(40003, 1); // this lcore's share is full
    EXPECT_EQ(eng->conns_in_use(), 3u);
    EXPECT_EQ(count(ctr::cookies_sent), 1u);
}

TEST_F(passive, CookieAlways)
{
    lopts.cookies = syncookie_mode::always;
    start();
    const seg c = syn(40000, 1000);
    EXPECT_EQ(c.flags(), th_syn | th_ack);
    EXPECT_EQ(eng->conns_in_use(), 0u);
    EXPECT_EQ(eng->timers_armed(), 0u);
    EXPECT_EQ(count(ctr::cookies_sent), 1u);
    EXPECT_EQ(count(ctr::syn_queue_full_cookies), 0u);
    EXPECT_EQ(c.seq(), cookies.make(tuple(40000), 1000, 1460, syncookie::count_from_ms(t_start)));
    EXPECT_TRUE(c.ip_cksum_ok && c.tcp_cksum_ok);
    expect_clean();
}

TEST_F(passive, CookieNever_DropsWhenFull)
{
    lopts.cookies = syncookie_mode::never;
    lopts.syn_backlog = 1;
    start();
    syn(40000, 1000);
    const net::tcp_options o = client_syn_opts();
    in(40001, th_syn, 1000, 0, &o);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(count(ctr::syn_queue_overflows), 1u);
    EXPECT_EQ(count(ctr::cookies_sent), 0u);
    EXPECT_EQ(eng->conns_in_use(), 1u);
}

TEST_F(passive, SynRecv_PoolExhaustedCounted)
{
    cfg.capacity = 2;
    start();
    syn(40000, 1);
    syn(40001, 1);
    const net::tcp_options o = client_syn_opts();
    in(40002, th_syn, 1, 0, &o);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(count(ctr::pool_exhausted), 1u);
    EXPECT_EQ(eng->conns_in_use(), 2u);
}

TEST_F(passive, Unlisten_RequestsFindListenerGone)
{
    start();
    const seg sa = syn(40000, 1000);
    syn(40001, 1000);
    std::vector<event> orphans;
    EXPECT_EQ(unlisten(lt, reg, *lst, &orphans), 0);
    lst.reset();
    EXPECT_TRUE(orphans.empty());
    // The third ACK finds its listener gone: reset (Linux: nothing listens now).
    in(40000, th_ack, 1001, sa.seq() + 1);
    const seg r = one();
    EXPECT_EQ(r.flags(), th_rst);
    // The other request goes at its timer.
    tick_to(t_start + 1000);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(count(ctr::listener_gone), 2u);
    expect_clean();
}

TEST_F(passive, Burst_DuplicateSynAndThirdAckInOneBurst)
{
    start();
    const net::tcp_options o = client_syn_opts(true, true, true, false);
    rte_mbuf* m[3] = {frame(40000, th_syn, 1000, 0, &o), frame(40000, th_syn, 1000, 0, &o),
                      frame(40001, th_syn, 5, 0, &o)};
    net::pkt_info pi[3];
    for (int i = 0; i < 3; i++) {
        pi[i] = classify_or_fail(m[i]);
    }
    eng->input_burst(m, pi, 3);
    std::vector<seg> v = sent();
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[0].seq(), v[1].seq()); // the second SYN found the request made by the first
    EXPECT_EQ(eng->conns_in_use(), 2u);
    EXPECT_EQ(count(ctr::synack_dup_syn), 1u);
    // ACK then RST for the same connection in one burst: the RST finds it established.
    rte_mbuf* n[2] = {frame(40000, th_ack, 1001, v[0].seq() + 1), frame(40000, th_rst, 1001, 0)};
    net::pkt_info pj[2] = {classify_or_fail(n[0]), classify_or_fail(n[1])};
    eng->input_burst(n, pj, 2);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(count(ctr::accepted), 1u);
    EXPECT_EQ(count(ctr::rst_received), 1u);
    EXPECT_EQ(find(40000), nullptr);
}

} // namespace
} // namespace fg::tcp::test
