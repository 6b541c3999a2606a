// SYN-SENT (RFC 9293 3.10.7.3, Linux tcp_rcv_synsent_state_process), one
// test per step, the simultaneous open and the SYN retransmission timer.
#include <cerrno>

#include "active_harness.hh"

namespace fg::tcp::atest {
namespace {

struct synsent : active {
    // Simultaneous open (our SYN, the peer's SYN 3000), then an ACK of
    // ISS + `ack_from_iss` that does not cover our SYN: RST <SEQ=SEG.ACK>,
    // still SYN-RECEIVED, nothing told to the application; the ACK of our
    // SYN then completes it.
    void simultaneous_open_rejects_ack(uint32_t ack_from_iss)
    {
        start();
        const seg syn = connect_syn();
        const tuple4 t = syn.ours();
        in(t, th_syn, 3000, 0);
        discard_sent();
        in(t, th_ack, 3001, syn.seq() + ack_from_iss);
        const seg r = one();
        EXPECT_EQ(r.flags(), th_rst);
        EXPECT_EQ(r.seq(), syn.seq() + ack_from_iss);
        EXPECT_EQ(find(t)->st, state::syn_received);
        EXPECT_TRUE(events().empty());
        in(t, th_ack, 3001, syn.seq() + 1);
        EXPECT_TRUE(sent().empty());
        const event e = one_event();
        EXPECT_EQ(e.type, event_type::established);
        abort(e.h);
        expect_clean();
    }
};

// 3.10.7.3 first: "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset
// <SEQ=SEG.ACK><CTL=RST>" -- and the connection stays in SYN-SENT.
TEST_F(synsent, FirstAckAtOrBelowIssGetsResetWithSeqSegAck)
{
    start();
    const seg syn = connect_syn();
    const tuple4 t = syn.ours();
    for (uint32_t bad : {syn.seq(), syn.seq() - 1000}) {
        in(t, th_syn | th_ack, 4242, bad);
        const seg r = one();
        EXPECT_EQ(r.flags(), th_rst);
        EXPECT_EQ(r.seq(), bad);
        EXPECT_EQ(r.ours(), t); // from our side of the connection, to the peer
        EXPECT_TRUE(r.ip_cksum_ok && r.tcp_cksum_ok);
    }
    EXPECT_EQ(count(ctr::synsent_bad_ack), 2u);
    ASSERT_NE(find(t), nullptr);
    EXPECT_EQ(find(t)->st, state::syn_sent);
    EXPECT_TRUE(events().empty());
}

TEST_F(synsent, FirstAckBeyondSndNxtGetsResetWithSeqSegAck)
{
    start();
    const seg syn = connect_syn();
    in(syn.ours(), th_ack, 1, syn.seq() + 2); // a bare ACK too: the ACK check comes before anything else
    const seg r = one();
    EXPECT_EQ(r.flags(), th_rst);
    EXPECT_EQ(r.seq(), syn.seq() + 2);
    EXPECT_EQ(count(ctr::synsent_bad_ack), 1u);
    EXPECT_EQ(find(syn.ours())->st, state::syn_sent);
}

// "... (unless the RST bit is set, if so drop the segment and return)".
TEST_F(synsent, FirstUnacceptableAckWithRstIsDropped)
{
    start();
    const seg syn = connect_syn();
    in(syn.ours(), th_rst | th_ack, 0, syn.seq() + 5);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(count(ctr::synsent_bad_ack_rst), 1u);
    EXPECT_EQ(count(ctr::rst_sent), 0u);
    EXPECT_EQ(find(syn.ours())->st, state::syn_sent);
    EXPECT_TRUE(events().empty());
}

// Second: "If the ACK was acceptable, then signal to the user 'error:
// connection reset', drop the segment, enter CLOSED state, delete TCB".
TEST_F(synsent, SecondRstWithAcceptableAckIsRefused)
{
    start();
    connect(ip_peer, peer_port, 0xfeed);
    const seg syn = one();
    in(syn.ours(), th_rst | th_ack, 0, syn.seq() + 1);
    EXPECT_TRUE(sent().empty());
    const event e = one_event();
    EXPECT_EQ(e.type, event_type::refused);
    EXPECT_EQ(e.error, ECONNREFUSED);
    EXPECT_EQ(e.user, 0xfeedu);
    EXPECT_EQ(e.tuple, syn.ours());
    EXPECT_EQ(eng->find(e.h), nullptr); // the handle is dead
    EXPECT_EQ(count(ctr::refused), 1u);
    expect_clean();
}

// "Otherwise (no ACK), drop the segment and return."
TEST_F(synsent, SecondRstWithoutAckIsDropped)
{
    start();
    const seg syn = connect_syn();
    in(syn.ours(), th_rst, 0, 0);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(count(ctr::synsent_rst_no_ack), 1u);
    EXPECT_EQ(find(syn.ours())->st, state::syn_sent);
    EXPECT_TRUE(events().empty());
}

// Fourth: SYN-ACK -> ESTABLISHED, "<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>",
// timestamps echoed, the options as the kernel negotiates them.
TEST_F(synsent, FourthSynAckEstablishesAndSendsTheFinalAck)
{
    start();
    connect(ip_peer, peer_port, 77);
    const seg syn = one();
    tick_to(t_start + 3);
    synack(syn, 900000);
    const seg a = one();
    EXPECT_EQ(a.flags(), th_ack);
    EXPECT_EQ(a.seq(), syn.seq() + 1);
    EXPECT_EQ(a.ack(), 900001u);
    ASSERT_TRUE(a.opts.has_ts);
    EXPECT_EQ(a.opts.ts_ecr, peer_tsval);
    EXPECT_EQ(a.opts.ts_val, t_start + 3 + isn.ts_offset(syn.ours()));
    EXPECT_EQ(a.pi.window, 65535u >> 7); // scaled by our shift now
    EXPECT_TRUE(a.ip_cksum_ok && a.tcp_cksum_ok);

    const event e = one_event();
    EXPECT_EQ(e.type, event_type::established);
    EXPECT_EQ(e.user, 77u);
    EXPECT_EQ(e.rtt_us, 3000u);
    EXPECT_EQ(e.mss, 1400u); // min(peer's 1400, our 1460)
    EXPECT_EQ(e.opts, uint8_t(ev_sack | ev_ts | ev_wscale));
    EXPECT_EQ(e.snd_wscale, 9u);
    EXPECT_EQ(e.rcv_wscale, 7u);
    const conn* c = eng->find(e.h);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->st, state::established);
    EXPECT_EQ(c->rcv_nxt, 900001u);
    EXPECT_EQ(c->snd_una, syn.seq() + 1);
    EXPECT_EQ(c->ts_recent, peer_tsval);
    EXPECT_EQ(eng->timers_armed(), 0u); // SYN timer off
    EXPECT_EQ(count(ctr::established), 1u);
    EXPECT_EQ(eng->rtt().count(), 1u);
    EXPECT_EQ(eng->rtt().max(), 3000u);
    abort(e.h);
    expect_clean();
}

TEST_F(synsent, WindowScalingOnlyIfBothSentIt)
{
    start();
    const seg syn = connect_syn();
    synack(syn, 5, peer_opts(/*ws=*/false, /*sack=*/false, /*ts=*/false, /*mss=*/0));
    const seg a = one();
    EXPECT_EQ(a.pi.window, 65535u); // unscaled: the peer did not scale
    EXPECT_FALSE(a.opts.has_ts);    // the peer did not do timestamps: neither do we
    const event e = one_event();
    EXPECT_EQ(e.opts, 0u);
    EXPECT_EQ(e.snd_wscale, 0u);
    EXPECT_EQ(e.rcv_wscale, 0u);
    EXPECT_EQ(e.mss, 536u); // no MSS option: RFC 9293 default
    abort(e.h);
    expect_clean();
}

TEST_F(synsent, WindowScaleWeDoNotOfferIsNotUsed)
{
    cfg.opts.window_scaling = false;
    start();
    const seg syn = connect_syn();
    EXPECT_FALSE(syn.opts.has_wscale);
    synack(syn, 5, peer_opts(/*ws=*/true));
    (void)one();
    const event e = one_event();
    EXPECT_FALSE(e.opts & ev_wscale);
    EXPECT_EQ(e.snd_wscale, 0u);
    abort(e.h);
    expect_clean();
}

// Fifth: "If neither of the SYN or RST bits is set, then drop the segment".
TEST_F(synsent, FifthNeitherSynNorRstIsDropped)
{
    start();
    const seg syn = connect_syn();
    in(syn.ours(), th_ack, 1, syn.seq() + 1); // acceptable ACK, no SYN
    in(syn.ours(), th_fin | th_ack, 1, syn.seq() + 1);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(count(ctr::synsent_no_syn), 2u);
    EXPECT_EQ(find(syn.ours())->st, state::syn_sent);
}

// Linux: a SYN-ACK whose TSecr echoes no SYN of ours (PAWSActiveRejected)
// is reset.
TEST_F(synsent, PawsRejectsASynAckWithAFutureTsecr)
{
    start();
    const seg syn = connect_syn();
    net::tcp_options o = peer_opts();
    o.ts_val = peer_tsval;
    o.ts_ecr = syn.opts.ts_val + 100000;
    in(syn.ours(), th_syn | th_ack, 5, syn.seq() + 1, &o);
    const seg r = one();
    EXPECT_EQ(r.flags(), th_rst);
    EXPECT_EQ(r.seq(), syn.seq() + 1);
    EXPECT_EQ(count(ctr::paws_active_rejected), 1u);
    EXPECT_EQ(find(syn.ours())->st, state::syn_sent);
}

// Fourth, no ACK: "enter SYN-RECEIVED, form a SYN,ACK segment
// <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>"; the peer's SYN-ACK then completes it
// (RFC 9293 figure 8). Linux's SYN-ACK is its SYN with ACK added: the same
// options as our SYN, TSecr = the peer's TSval.
TEST_F(synsent, SimultaneousOpenCompletesOnThePeersSynAck)
{
    start();
    connect(ip_peer, peer_port, 5);
    const seg syn = one();
    const tuple4 t = syn.ours();
    net::tcp_options o = peer_opts();
    o.ts_val = peer_tsval;
    tick_to(t_start + 4);
    in(t, th_syn, 3000, 0, &o);
    const seg sa = one();
    EXPECT_EQ(sa.flags(), th_syn | th_ack);
    EXPECT_EQ(sa.seq(), syn.seq());
    EXPECT_EQ(sa.ack(), 3001u);
    EXPECT_EQ(sa.opts.mss, 1460u);
    EXPECT_TRUE(sa.opts.has_wscale && sa.opts.sack_ok && sa.opts.has_ts);
    EXPECT_EQ(sa.opts.wscale, syn.opts.wscale);
    EXPECT_EQ(sa.opts.ts_ecr, peer_tsval);
    EXPECT_EQ(sa.opts.ts_val, syn.opts.ts_val + 4);
    EXPECT_EQ(sa.pi.window, syn.pi.window);
    EXPECT_EQ(count(ctr::simultaneous_opens), 1u);
    EXPECT_EQ(find(t)->st, state::syn_received); // a real SYN-RECEIVED, not a flag on SYN-SENT
    EXPECT_FALSE(find(t)->has(cf_passive));
    EXPECT_TRUE(events().empty());

    // Its plain SYN again: Linux answers with a challenge ACK (RFC 5961 4.2).
    in(t, th_syn, 3000, 0, &o);
    const seg ca = one();
    EXPECT_EQ(ca.flags(), th_ack);
    EXPECT_EQ(ca.seq(), syn.seq() + 1);
    EXPECT_EQ(ca.ack(), 3001u);
    EXPECT_EQ(count(ctr::challenge_acks), 1u);

    // The peer's SYN-ACK to our SYN (its ISN, ACKing ours): ESTABLISHED, no reply.
    o.ts_ecr = syn.opts.ts_val;
    in(t, th_syn | th_ack, 3000, syn.seq() + 1, &o);
    EXPECT_TRUE(sent().empty());
    const event e = one_event();
    EXPECT_EQ(e.type, event_type::established);
    EXPECT_EQ(e.user, 5u);
    EXPECT_EQ(e.opts, uint8_t(ev_sack | ev_ts | ev_wscale));
    EXPECT_EQ(find(t)->st, state::established);
    EXPECT_EQ(find(t)->rcv_nxt, 3001u);
    EXPECT_EQ(eng->timers_armed(), 0u);
    abort(e.h);
    expect_clean();
}

// The SYN-ACK repeats our SYN's options even when the peer's SYN had none;
// the connection then uses none of them (each needs both SYNs).
TEST_F(synsent, SimultaneousOpenSynAckRepeatsOurSynsOptions)
{
    start();
    const seg syn = connect_syn();
    const tuple4 t = syn.ours();
    in(t, th_syn, 3000, 0); // no options at all
    const seg sa = one();
    EXPECT_EQ(sa.flags(), th_syn | th_ack);
    EXPECT_TRUE(sa.opts.has_mss && sa.opts.has_wscale && sa.opts.sack_ok && sa.opts.has_ts);
    EXPECT_EQ(sa.opts.mss, syn.opts.mss);
    EXPECT_EQ(sa.opts.ts_ecr, 0u);
    in(t, th_ack, 3001, syn.seq() + 1);
    const event e = one_event();
    EXPECT_EQ(e.type, event_type::established);
    EXPECT_EQ(e.opts, 0u);
    EXPECT_EQ(e.mss, 536u);
    abort(e.h);
    expect_clean();
}

TEST_F(synsent, SimultaneousOpenCompletesOnAPlainAck)
{
    simultaneous_open_rejects_ack(2); // not our SYN: RST <SEQ=SEG.ACK>
}

// Deliberate difference (lib/tcp/FIDELITY.md): Linux's tcp_ack takes an ACK
// equal to SND.UNA (= ISS: it does not cover our SYN) in a simultaneous
// open's SYN-RECEIVED and enters ESTABLISHED; we keep RFC 9293's rule
// (SND.UNA < SEG.ACK =< SND.NXT): RST <SEQ=SEG.ACK>, still SYN-RECEIVED,
// nothing told to the application; the ACK of our SYN then completes it.
TEST_F(synsent, SimultaneousOpenAckEqualToSndUnaGetsRst)
{
    simultaneous_open_rejects_ack(0); // SEG.ACK = SND.UNA = ISS
}

// Linux goes on with the completing ACK in ESTABLISHED: its data and FIN
// are taken (ACKed; FIN -> CLOSE-WAIT).
TEST_F(synsent, SimultaneousOpenAckWithDataAndFinIsTaken)
{
    start();
    const seg syn = connect_syn();
    const tuple4 t = syn.ours();
    in(t, th_syn, 3000, 0);
    discard_sent();
    in(t, th_ack | th_psh | th_fin, 3001, syn.seq() + 1, nullptr, 10);
    const seg a = one();
    EXPECT_EQ(a.flags(), th_ack);
    EXPECT_EQ(a.ack(), 3001u + 10 + 1);
    const std::vector<event> ev = events();
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_EQ(ev[0].type, event_type::established);
    EXPECT_EQ(ev[1].type, event_type::peer_closed);
    EXPECT_EQ(find(t)->st, state::close_wait);
    abort(ev[0].h);
    expect_clean();
}

// Linux tcp_reset() in SYN_RECV: the connect() fails with ECONNRESET.
TEST_F(synsent, SimultaneousOpenResetByRst)
{
    start();
    const seg syn = connect_syn();
    const tuple4 t = syn.ours();
    in(t, th_syn, 3000, 0);
    discard_sent();
    in(t, th_rst, 3005, 0); // in window, not exact: challenge ACK
    EXPECT_EQ(one().flags(), th_ack);
    ASSERT_NE(find(t), nullptr);
    in(t, th_rst, 3001, 0);
    const event e = one_event();
    EXPECT_EQ(e.type, event_type::refused);
    EXPECT_EQ(e.error, ECONNRESET);
    expect_clean();
}

// The SYN timer runs on in SYN-RECEIVED and resends the SYN-ACK, up to
// syn_retries in all (Linux tcp_write_timeout), then ETIMEDOUT.
TEST_F(synsent, SimultaneousOpenSynAckRetransmittedThenTimedOut)
{
    acfg.syn_retries = 2;
    start();
    const seg syn = connect_syn();
    const tuple4 t = syn.ours();
    tick_to(t_start + 1000);
    EXPECT_EQ(one().flags(), th_syn); // first retransmission, still SYN-SENT
    in(t, th_syn, 3000, 0);
    EXPECT_EQ(one().flags(), th_syn | th_ack);
    tick_to(t_start + 3000);
    const seg r = one();
    EXPECT_EQ(r.flags(), th_syn | th_ack);
    EXPECT_EQ(r.seq(), syn.seq());
    EXPECT_EQ(r.ack(), 3001u);
    tick_to(t_start + 7000);
    EXPECT_TRUE(sent().empty());
    const event e = one_event();
    EXPECT_EQ(e.type, event_type::timed_out);
    EXPECT_EQ(e.error, ETIMEDOUT);
    expect_clean();
}

// Linux tcp_rcv_synsent_state_process: after an unacceptable ACK (RST sent,
// or an RST+ACK dropped), if the SYN was not retransmitted yet the timer is
// re-armed to TCP_TIMEOUT_MIN, so the SYN goes again almost at once.
TEST_F(synsent, UnacceptableAckRearmsTheSynTimerAtOnce)
{
    start();
    const seg syn = connect_syn();
    const tuple4 t = syn.ours();
    tick_to(t_start + 10);
    in(t, th_ack, 4242, syn.seq() + 7);
    EXPECT_EQ(one().flags(), th_rst);
    uint32_t exp = 0;
    ASSERT_TRUE(eng->timer_of(*find(t), exp));
    EXPECT_EQ(exp, t_start + 10 + engine::timeout_min_ms);
    tick_to(exp);
    const seg again = one();
    EXPECT_EQ(again.flags(), th_syn);
    EXPECT_EQ(again.seq(), syn.seq());
    EXPECT_EQ(count(ctr::syn_retransmits), 1u);
    ASSERT_TRUE(eng->timer_of(*find(t), exp));
    EXPECT_EQ(exp, t_start + 10 + engine::timeout_min_ms + 2000); // the RTO doubled as usual
    // Retransmitted once already: another bad ACK leaves the timer alone.
    in(t, th_rst | th_ack, 0, syn.seq() + 7);
    EXPECT_TRUE(sent().empty());
    uint32_t exp2 = 0;
    ASSERT_TRUE(eng->timer_of(*find(t), exp2));
    EXPECT_EQ(exp2, exp);
}

TEST_F(synsent, UnacceptableRstAckAlsoRearmsTheSynTimer)
{
    start();
    const seg syn = connect_syn();
    in(syn.ours(), th_rst | th_ack, 0, syn.seq() + 7);
    EXPECT_TRUE(sent().empty());
    uint32_t exp = 0;
    ASSERT_TRUE(eng->timer_of(*find(syn.ours()), exp));
    EXPECT_EQ(exp, t_start + engine::timeout_min_ms);
}

// Linux tcp_write_timeout() also gives up once the time since the first SYN
// reaches what syn_retries take with the classic backoff (tcp_model_timeout:
// 3 s for 1 retry): with 4 linear timeouts and 1 retry, SYNs at 0, 1, 2 s and
// ETIMEDOUT at 3 s -- measured against the kernel in integ-active_syn_linear.
TEST_F(synsent, SynLinearTimeoutsBoundedByTheClassicTime)
{
    acfg.syn_linear_timeouts = 4;
    acfg.syn_retries = 1;
    start();
    connect_syn();
    tick_to(t_start + 1000);
    EXPECT_EQ(one().flags(), th_syn);
    tick_to(t_start + 2000);
    EXPECT_EQ(one().flags(), th_syn);
    tick_to(t_start + 3000);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(one_event().type, event_type::timed_out);
    EXPECT_EQ(count(ctr::syn_retransmits), 2u);
    expect_clean();
}

// Linux 6.5+ tcp_syn_linear_timeouts N: the first N retransmissions keep
// the initial RTO, the later ones double, and N more are allowed. With N = 4
// and 6 retries: SYNs at 0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 s, ETIMEDOUT at 131 s.
TEST_F(synsent, SynLinearTimeouts)
{
    acfg.syn_linear_timeouts = 4;
    start();
    connect(ip_peer, peer_port, 9);
    const seg syn = one();
    const conn* c = find(syn.ours());
    const uint32_t at[] = {1000, 2000, 3000, 4000, 5000, 7000, 11000, 19000, 35000, 67000};
    for (uint32_t a : at) {
        uint32_t exp = 0;
        ASSERT_TRUE(eng->timer_of(*c, exp));
        EXPECT_EQ(exp, t_start + a);
        tick_to(exp);
        EXPECT_EQ(one().flags(), th_syn) << a;
    }
    uint32_t exp = 0;
    ASSERT_TRUE(eng->timer_of(*c, exp));
    EXPECT_EQ(exp, t_start + 131000u);
    tick_to(exp);
    EXPECT_EQ(one_event().type, event_type::timed_out);
    EXPECT_EQ(count(ctr::syn_retransmits), 10u);
    expect_clean();
}

// Linux tcp_syn_retries = 6: RTO 1 s doubling, SYN sent 7 times over 127 s,
// then ETIMEDOUT.
TEST_F(synsent, SynRetransmittedEverySecondDoublingThenTimedOut)
{
    start();
    connect(ip_peer, peer_port, 9);
    const seg syn = one();
    const conn* c = find(syn.ours());
    uint32_t at = t_start;
    for (uint32_t i = 0; i < 6; i++) {
        uint32_t exp = 0;
        ASSERT_TRUE(eng->timer_of(*c, exp));
        EXPECT_EQ(exp, at + (1000u << i)) << i;
        tick_to(exp - 1);
        EXPECT_TRUE(sent().empty());
        at = exp;
        tick_to(at);
        const seg r = one();
        EXPECT_EQ(r.flags(), th_syn);
        EXPECT_EQ(r.seq(), syn.seq());
        EXPECT_EQ(r.ours(), syn.ours());
        EXPECT_EQ(r.opts.ts_val, at + isn.ts_offset(syn.ours())); // a fresh TSval each time
        EXPECT_EQ(count(ctr::syn_retransmits), i + 1);
    }
    uint32_t exp = 0;
    ASSERT_TRUE(eng->timer_of(*c, exp));
    EXPECT_EQ(exp, at + 64000u);
    EXPECT_EQ(exp, t_start + 127000u);
    tick_to(exp);
    EXPECT_TRUE(sent().empty());
    const event e = one_event();
    EXPECT_EQ(e.type, event_type::timed_out);
    EXPECT_EQ(e.error, ETIMEDOUT);
    EXPECT_EQ(e.user, 9u);
    EXPECT_EQ(count(ctr::timed_out), 1u);
    expect_clean();
}

TEST_F(synsent, SynRetriesAreConfigurable)
{
    acfg.syn_retries = 1;
    start();
    connect_syn();
    tick_to(t_start + 1000);
    EXPECT_EQ(one().flags(), th_syn);
    tick_to(t_start + 3000);
    EXPECT_EQ(one_event().type, event_type::timed_out);
    expect_clean();
}

// Karn: no RTT sample from a handshake whose SYN was retransmitted.
TEST_F(synsent, KarnNoRttFromARetransmittedSyn)
{
    start();
    const seg syn = connect_syn();
    tick_to(t_start + 1000);
    discard_sent();
    tick_to(t_start + 1200);
    synack(syn, 1);
    (void)one();
    const event e = one_event();
    EXPECT_EQ(e.type, event_type::established);
    EXPECT_EQ(e.rtt_us, 0u);
    EXPECT_EQ(eng->rtt().count(), 0u);
    abort(e.h);
    expect_clean();
}

// close() in SYN-SENT deletes the TCB (close.cc), abort() too: no leak.
TEST_F(synsent, CloseAndAbortInSynSentFreeEverything)
{
    start();
    connect(ip_peer);
    connect(ip_peer);
    discard_sent();
    ASSERT_EQ(eng->conns_in_use(), 2u);
    // Handles are only in events; find them through the table.
    std::vector<handle> hs;
    for (uint16_t p = 32768; p <= 60999 && hs.size() < 2; p++) {
        const conn* c = find(tuple4{be32(ip_first), be32(ip_peer), be16(p), be16(peer_port)});
        if (c != nullptr) {
            hs.push_back(eng->handle_of(*c));
        }
    }
    ASSERT_EQ(hs.size(), 2u);
    close(hs[0]);
    abort(hs[1]);
    EXPECT_TRUE(sent().empty()); // no RST from SYN-SENT
    expect_clean();
}

} // namespace
} // namespace fg::tcp::atest
