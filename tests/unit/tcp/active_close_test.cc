// Closing first (RFC 9293 3.10.4, 3.10.7.4): FIN-WAIT-1, FIN-WAIT-2,
// CLOSING, TIME-WAIT (Linux tcp_timewait_state_process), their timers, and
// the application's abort from those states.
#include <cerrno>

#include "active_harness.hh"

namespace fg::tcp::atest {
namespace {

using active_close = active;

constexpr uint32_t piss = 900000; // the peer's ISN in establish()

// FIN-WAIT-1 -> (ACK of FIN) FIN-WAIT-2 -> (FIN) TIME-WAIT -> expiry.
TEST_F(active_close, FinWait1ToFinWait2ToTimeWait)
{
    acfg.time_wait_ms = 30000;
    start();
    open_conn c;
    const seg fin = close_after_establish(c);
    EXPECT_EQ(fin.flags(), th_fin | th_ack);
    EXPECT_EQ(fin.seq(), c.syn.seq() + 1);
    EXPECT_EQ(fin.ack(), piss + 1);
    EXPECT_EQ(find(c.t)->st, state::fin_wait_1);
    EXPECT_EQ(count(ctr::fin_sent), 1u);

    net::tcp_options o = ts(peer_tsval + 1, fin.opts.ts_val);
    in(c.t, th_ack, piss + 1, fin.seq() + 1, &o);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(find(c.t)->st, state::fin_wait_2);
    uint32_t exp = 0;
    ASSERT_TRUE(eng->timer_of(*find(c.t), exp));
    EXPECT_EQ(exp, now() + 60000u); // fin_timeout

    tick_to(t_start + 10);
    o = ts(peer_tsval + 2, fin.opts.ts_val);
    in(c.t, th_fin | th_ack, piss + 1, fin.seq() + 1, &o);
    const seg a = one();
    EXPECT_EQ(a.flags(), th_ack);
    EXPECT_EQ(a.seq(), fin.seq() + 1);
    EXPECT_EQ(a.ack(), piss + 2);
    EXPECT_EQ(a.opts.ts_ecr, peer_tsval + 2);
    const conn* tw = find(c.t);
    ASSERT_NE(tw, nullptr);
    EXPECT_EQ(tw->st, state::time_wait);
    ASSERT_TRUE(eng->timer_of(*tw, exp));
    EXPECT_EQ(exp, t_start + 10 + 30000u);
    EXPECT_EQ(count(ctr::time_wait_entered), 1u);
    const event e = one_event();
    EXPECT_EQ(e.type, event_type::closed);
    EXPECT_EQ(e.error, 0);

    tick_to(exp - 1);
    EXPECT_NE(find(c.t), nullptr);
    tick_to(exp);
    EXPECT_EQ(find(c.t), nullptr);
    EXPECT_EQ(count(ctr::time_wait_expired), 1u);
    expect_clean();
}

// FIN-WAIT-1 -> (FIN, ours not ACKed) CLOSING -> (ACK of FIN) TIME-WAIT.
TEST_F(active_close, FinWait1ToClosingToTimeWait)
{
    start();
    open_conn c;
    const seg fin = close_after_establish(c);
    net::tcp_options o = ts(peer_tsval + 1, fin.opts.ts_val);
    in(c.t, th_fin | th_ack, piss + 1, fin.seq(), &o); // the peer's FIN crossed ours
    const seg a = one();
    EXPECT_EQ(a.flags(), th_ack);
    EXPECT_EQ(a.ack(), piss + 2);
    EXPECT_EQ(a.seq(), fin.seq() + 1);
    EXPECT_EQ(find(c.t)->st, state::closing);
    uint32_t exp = 0;
    ASSERT_TRUE(eng->timer_of(*find(c.t), exp)); // our FIN's retransmission timer runs on
    EXPECT_EQ(exp, t_start + 1000u);

    in(c.t, th_ack, piss + 2, fin.seq() + 1, &o);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(find(c.t)->st, state::time_wait);
    ASSERT_TRUE(eng->timer_of(*find(c.t), exp));
    EXPECT_EQ(exp, now() + 60000u);
    EXPECT_EQ(one_event().type, event_type::closed);
    tick_to(exp);
    expect_clean();
}

// Simultaneous close where the peer's FIN also ACKs ours: FIN-WAIT-1 ->
// TIME-WAIT in one step.
TEST_F(active_close, FinThatAcksOurFinGoesStraightToTimeWait)
{
    start();
    open_conn c;
    const seg fin = close_after_establish(c);
    in(c.t, th_fin | th_ack, piss + 1, fin.seq() + 1);
    const seg a = one();
    EXPECT_EQ(a.ack(), piss + 2);
    EXPECT_EQ(find(c.t)->st, state::time_wait);
    EXPECT_EQ(count(ctr::time_wait_entered), 1u);
}

// CLOSING ignores what does not ACK our FIN, and ACKs a retransmitted FIN.
TEST_F(active_close, ClosingAcksARetransmittedFin)
{
    start();
    open_conn c;
    const seg fin = close_after_establish(c);
    in(c.t, th_fin | th_ack, piss + 1, fin.seq());
    discard_sent();
    in(c.t, th_fin | th_ack, piss + 1, fin.seq());
    const seg a = one();
    EXPECT_EQ(a.flags(), th_ack);
    EXPECT_EQ(a.ack(), piss + 2);
    EXPECT_EQ(find(c.t)->st, state::closing);
}

// TIME-WAIT: "The only thing that can arrive in this state is a
// retransmission of the remote FIN. Acknowledge it, and restart the 2 MSL
// timeout."
TEST_F(active_close, TimeWaitReAcksARetransmittedFinAndRestartsTheTimer)
{
    start();
    open_conn c;
    const seg fin = close_after_establish(c);
    in(c.t, th_fin | th_ack, piss + 1, fin.seq() + 1);
    discard_sent();
    tick_to(t_start + 20000);
    net::tcp_options o = ts(peer_tsval + 5, fin.opts.ts_val);
    in(c.t, th_fin | th_ack, piss + 1, fin.seq() + 1, &o);
    const seg a = one();
    EXPECT_EQ(a.flags(), th_ack);
    EXPECT_EQ(a.seq(), fin.seq() + 1);
    EXPECT_EQ(a.ack(), piss + 2);
    EXPECT_EQ(count(ctr::time_wait_acks), 1u);
    uint32_t exp = 0;
    ASSERT_TRUE(eng->timer_of(*find(c.t), exp));
    EXPECT_EQ(exp, t_start + 20000 + 60000u);
    tick_to(t_start + 60000);
    EXPECT_NE(find(c.t), nullptr);
    tick_to(exp);
    EXPECT_EQ(find(c.t), nullptr);
    expect_clean();
}

// Linux tcp_rfc1337=0 (the default): an RST at RCV.NXT frees TIME-WAIT.
TEST_F(active_close, TimeWaitRstAtRcvNxtKillsTheEntry)
{
    start();
    open_conn c;
    const seg fin = close_after_establish(c);
    in(c.t, th_fin | th_ack, piss + 1, fin.seq() + 1);
    discard_sent();
    (void)events();
    in(c.t, th_rst, piss + 5, 0); // not at RCV.NXT: ignored
    EXPECT_TRUE(sent().empty());
    EXPECT_NE(find(c.t), nullptr);
    EXPECT_EQ(count(ctr::time_wait_dropped), 1u);
    in(c.t, th_rst, piss + 2, 0);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(count(ctr::time_wait_killed), 1u);
    EXPECT_TRUE(events().empty());
    expect_clean();
}

// Linux: a PAWS-old segment in TIME-WAIT is ACKed, not accepted.
TEST_F(active_close, TimeWaitAcksAPawsOldSegment)
{
    start();
    open_conn c;
    const seg fin = close_after_establish(c);
    net::tcp_options o = ts(peer_tsval + 10, fin.opts.ts_val);
    in(c.t, th_fin | th_ack, piss + 1, fin.seq() + 1, &o);
    discard_sent();
    o = ts(peer_tsval, fin.opts.ts_val); // older than ts_recent
    in(c.t, th_rst, piss + 2, 0, &o);    // an old RST: dropped, the entry stays
    EXPECT_NE(find(c.t), nullptr);
    in(c.t, th_ack, piss + 2, fin.seq() + 1, &o);
    EXPECT_EQ(one().flags(), th_ack);
    EXPECT_EQ(find(c.t)->ts_recent, peer_tsval + 10);
}

// Deliberate difference (lib/tcp/FIDELITY.md): Linux rate-limits a
// timewait socket's out-of-window ACKs (tcp_timewait_state_process ->
// tcp_oow_rate_limited: one per 500 ms); a TIME-WAIT entry here answers
// every one -- five retransmitted FINs within a millisecond, five ACKs.
TEST_F(active_close, TimeWaitAnswersEveryOutOfWindowSegmentUnlimited)
{
    start();
    open_conn c;
    const seg fin = close_after_establish(c);
    net::tcp_options o = ts(peer_tsval + 1, fin.opts.ts_val);
    in(c.t, th_fin | th_ack, piss + 1, fin.seq() + 1, &o);
    ASSERT_EQ(find(c.t)->st, state::time_wait);
    discard_sent();
    for (uint32_t k = 0; k < 5; k++) {
        o = ts(peer_tsval + 2 + k, fin.opts.ts_val);
        in(c.t, th_fin | th_ack, piss + 1, fin.seq() + 1, &o); // the peer's FIN again
        const seg a = one();
        EXPECT_EQ(a.flags(), th_ack) << "retransmission " << k;
        EXPECT_EQ(a.ack(), piss + 2);
    }
    EXPECT_EQ(count(ctr::time_wait_acks), 5u);
    EXPECT_EQ(count(ctr::oow_ack_rate_limited), 0u);
}

// RFC 5961 5.2 on the active side: an ACK at or below our ISN (here ACK =
// ISS, one below SND.UNA) gets a challenge ACK and its data is not taken;
// ISS + 1 is the bound on both sides (lib/tcp/FIDELITY.md: Linux's
// bytes_acked counts the SYN, one sequence number of difference).
TEST_F(active_close, EstablishedAckAtOurIsnGetsChallengeAck)
{
    start();
    open_conn c = establish();
    net::tcp_options o = ts(peer_tsval + 1, c.our_tsval);
    in(c.t, th_ack | th_psh, piss + 1, c.syn.seq(), &o, 10);
    const seg r = one();
    EXPECT_EQ(r.flags(), th_ack);
    EXPECT_EQ(r.ack(), piss + 1); // the data was not taken
    EXPECT_EQ(count(ctr::ack_too_old), 1u);
    EXPECT_EQ(count(ctr::challenge_acks), 1u);
    o = ts(peer_tsval + 2, c.our_tsval);
    in(c.t, th_ack | th_psh, piss + 1, c.syn.seq() + 1, &o, 10); // SND.UNA: taken
    EXPECT_EQ(one().ack(), piss + 11);
    EXPECT_EQ(count(ctr::ack_too_old), 1u);
    abort(c.h);
    expect_clean();
}

// FIN-WAIT-2 ends after fin_timeout without a segment (Linux orphan).
TEST_F(active_close, FinWait2TimesOutSilently)
{
    acfg.fin_timeout_ms = 5000;
    start();
    open_conn c;
    const seg fin = close_after_establish(c);
    in(c.t, th_ack, piss + 1, fin.seq() + 1);
    (void)events();
    tick_to(t_start + 4999);
    EXPECT_NE(find(c.t), nullptr);
    tick_to(t_start + 5000);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(count(ctr::fin_wait_2_timeouts), 1u);
    const event e = one_event();
    EXPECT_EQ(e.type, event_type::closed);
    EXPECT_EQ(e.error, ETIMEDOUT);
    expect_clean();
}

// FIN-WAIT-1: our FIN is retransmitted (close.cc's timer) and given up on.
TEST_F(active_close, FinWait1RetransmitsTheFinThenGivesUp)
{
    cfg.fin_retries = 2;
    start();
    open_conn c;
    const seg fin = close_after_establish(c);
    tick_to(t_start + 1000);
    seg r = one();
    EXPECT_EQ(r.flags(), th_fin | th_ack);
    EXPECT_EQ(r.seq(), fin.seq());
    tick_to(t_start + 3000);
    EXPECT_EQ(one().seq(), fin.seq());
    tick_to(t_start + 7000);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(count(ctr::fin_timeouts), 1u);
    expect_clean();
}

// RFC 5961 in FIN-WAIT-2 (sync_checks): an RST at RCV.NXT resets, one
// elsewhere in the window gets a challenge ACK.
TEST_F(active_close, FinWait2RstRules)
{
    start();
    open_conn c;
    const seg fin = close_after_establish(c);
    in(c.t, th_ack, piss + 1, fin.seq() + 1);
    in(c.t, th_rst, piss + 100, 0);
    const seg ch = one();
    EXPECT_EQ(ch.flags(), th_ack);
    EXPECT_EQ(count(ctr::challenge_acks), 1u);
    in(c.t, th_rst, piss + 1, 0);
    EXPECT_TRUE(sent().empty());
    const event e = one_event();
    EXPECT_EQ(e.type, event_type::reset);
    expect_clean();
}

// SYN in a synchronized state: challenge ACK (RFC 5961 4.2).
TEST_F(active_close, FinWait1SynGetsAChallengeAck)
{
    start();
    open_conn c;
    const seg fin = close_after_establish(c);
    in(c.t, th_syn, piss + 50, 0);
    const seg ch = one();
    EXPECT_EQ(ch.flags(), th_ack);
    EXPECT_EQ(ch.seq(), fin.seq() + 1);
    EXPECT_EQ(find(c.t)->st, state::fin_wait_1);
}

// abort() (close.cc) from FIN-WAIT-1 sends RST and frees; from TIME-WAIT
// it just frees.
TEST_F(active_close, AbortFromClosingStates)
{
    start();
    open_conn c;
    const seg fin = close_after_establish(c);
    abort(c.h);
    const seg r = one();
    EXPECT_EQ(r.flags(), th_rst | th_ack);
    EXPECT_EQ(r.seq(), fin.seq() + 1);
    expect_clean();

    open_conn d;
    const seg fin2 = close_after_establish(d);
    in(d.t, th_fin | th_ack, piss + 1, fin2.seq() + 1);
    discard_sent();
    ASSERT_EQ(find(d.t)->st, state::time_wait);
    abort(d.h);
    EXPECT_TRUE(sent().empty());
    expect_clean();
}

// A data segment in FIN-WAIT-2 is ACKed and discarded (no data delivery).
TEST_F(active_close, FinWait2AcksData)
{
    start();
    open_conn c;
    const seg fin = close_after_establish(c);
    in(c.t, th_ack, piss + 1, fin.seq() + 1);
    in(c.t, th_ack | th_psh, piss + 1, fin.seq() + 1, nullptr, 100);
    const seg a = one();
    EXPECT_EQ(a.ack(), piss + 101);
    EXPECT_EQ(find(c.t)->st, state::fin_wait_2);
}

// Linux TCP_TW_SYN: a new SYN (sequence beyond the old RCV.NXT) to a
// TIME-WAIT 4-tuple with a listener behind it becomes a new passive
// connection; without a listener it is ACKed and TIME-WAIT stays.
TEST_F(active_close, TimeWaitNewSynGoesToAListener)
{
    start();
    open_conn c;
    const seg fin = close_after_establish(c);
    in(c.t, th_fin | th_ack, piss + 1, fin.seq() + 1);
    discard_sent();
    // No listener on our port: ACK.
    in(c.t, th_syn, piss + 100000, 0);
    EXPECT_EQ(one().flags(), th_ack);
    ASSERT_EQ(find(c.t)->st, state::time_wait);
    // A listener on our address and port: the SYN is accepted.
    int rc = 0;
    std::string err;
    lst = listen(lt, reg, c.t.laddr, c.t.lport, listen_options{}, 1, rc, err);
    ASSERT_NE(lst, nullptr) << err;
    in(c.t, th_syn, piss + 100000, 0);
    const seg sa = one();
    EXPECT_EQ(sa.flags(), th_syn | th_ack);
    EXPECT_EQ(sa.ack(), piss + 100001);
    EXPECT_EQ(find(c.t)->st, state::syn_received);
    EXPECT_EQ(count(ctr::time_wait_syn), 1u);
}

// The passive side's own active close (a server that closes first) goes
// through the same states.
TEST_F(active_close, ServerClosingFirstReachesTimeWait)
{
    start();
    int rc = 0;
    std::string err;
    lst = listen(lt, reg, be32(ip_first), be16(8080), listen_options{}, 1, rc, err);
    ASSERT_NE(lst, nullptr) << err;
    const tuple4 t{be32(ip_first), be32(ip_peer), be16(8080), be16(5555)};
    in(t, th_syn, 100, 0);
    const seg sa = one();
    in(t, th_ack, 101, sa.seq() + 1);
    event acc[1];
    ASSERT_EQ(lst->accept_burst(acc, 1), 1u);
    close(acc[0].h);
    const seg fin = one();
    EXPECT_EQ(fin.flags(), th_fin | th_ack);
    in(t, th_fin | th_ack, 101, fin.seq() + 1);
    EXPECT_EQ(one().ack(), 102u);
    EXPECT_EQ(find(t)->st, state::time_wait);
    tick_to(t_start + 60000);
    expect_clean();
}

} // namespace
} // namespace fg::tcp::atest
