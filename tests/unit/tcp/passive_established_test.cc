// Synchronized states of an accepted connection: RFC 9293 3.10.7.4 checks,
// RFC 5961 RST/SYN handling, data ACKed and discarded, passive close
// (CLOSE-WAIT -> LAST-ACK), application close and abort, and that every path
// gives back what it took.
#include <cerrno>

#include "passive_harness.hh"

namespace fg::tcp::test {
namespace {

// An accepted connection from client port 40000, client ISN 1000, without
// timestamps unless asked (so sequence checks are easy to read).
class passive_est : public passive {
protected:
    event acc{};
    uint32_t iss = 0;              // ours
    uint32_t rcv = 1001;           // the client's next sequence number
    uint32_t snd() const { return iss + 1; }

    void open(bool ts = false)
    {
        start();
        acc = handshake(40000, 1000, client_syn_opts(true, true, true, ts));
        iss = find(40000)->iss;
    }
    const conn* c() const { return find(40000); }
};

TEST_F(passive_est, Established_InWindowRst_ChallengeAck_RFC5961)
{
    open();
    in(40000, th_rst, rcv + 10, 0);
    const seg r = one();
    EXPECT_EQ(r.flags(), th_ack); // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
    EXPECT_EQ(r.seq(), snd());
    EXPECT_EQ(r.ack(), rcv);
    ASSERT_NE(c(), nullptr);
    EXPECT_EQ(c()->st, state::established);
    EXPECT_EQ(count(ctr::challenge_acks), 1u);
    EXPECT_EQ(count(ctr::rst_received), 0u);
}

TEST_F(passive_est, Established_ExactRst_Resets)
{
    open();
    in(40000, th_rst, rcv, 0);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(c(), nullptr);
    EXPECT_EQ(count(ctr::rst_received), 1u);
    const std::vector<event> ev = events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].type, event_type::reset);
    EXPECT_EQ(ev[0].error, ECONNRESET);
    EXPECT_EQ(ev[0].h, acc.h);
    EXPECT_EQ(eng->find(acc.h), nullptr); // the handle is dead
    expect_clean();
}

TEST_F(passive_est, Established_OutOfWindowRstDropped)
{
    open();
    in(40000, th_rst, rcv - 1, 0);
    in(40000, th_rst, rcv + 200000, 0);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(count(ctr::rst_out_of_window), 2u);
    EXPECT_NE(c(), nullptr);
}

TEST_F(passive_est, Established_Syn_ChallengeAck)
{
    open();
    const net::tcp_options o = client_syn_opts();
    in(40000, th_syn, rcv + 5, 0, &o); // in window
    seg r = one();
    EXPECT_EQ(r.flags(), th_ack);
    EXPECT_EQ(r.seq(), snd());
    EXPECT_EQ(r.ack(), rcv);
    tick_to(t_start + 500); // the connection's challenge-ACK limit (Linux: 1 per 500 ms)
    in(40000, th_syn, 1000, 0, &o); // the old SYN again: out of window, a challenge ACK all the same
    r = one();
    EXPECT_EQ(r.flags(), th_ack);
    EXPECT_EQ(r.ack(), rcv);
    EXPECT_EQ(c()->st, state::established);
    EXPECT_EQ(count(ctr::challenge_acks), 2u);
    EXPECT_EQ(count(ctr::out_of_window), 0u);
}

// Linux tcp_send_challenge_ack(): first the connection's own limit -- one
// challenge (or out-of-window) ACK per tcp_invalid_ratelimit (500 ms) --
// then the host-wide one (here per lcore).
TEST_F(passive_est, Established_ChallengeAckRateLimitedPerConnection)
{
    open();
    for (int i = 0; i < 4; i++) {
        in(40000, th_rst, rcv + 10, 0);
    }
    EXPECT_EQ(sent().size(), 1u);
    EXPECT_EQ(count(ctr::challenge_acks), 1u);
    EXPECT_EQ(count(ctr::oow_ack_rate_limited), 3u);
    tick_to(t_start + 499);
    in(40000, th_rst, rcv + 10, 0);
    EXPECT_TRUE(sent().empty());
    tick_to(t_start + 500);
    in(40000, th_rst, rcv + 10, 0);
    EXPECT_EQ(sent().size(), 1u);
    EXPECT_EQ(c()->st, state::established);
}

TEST_F(passive_est, Established_ChallengeAckRateLimitedPerLcore)
{
    cfg.challenge_ack_per_s = 2;
    start();
    for (uint16_t p = 0; p < 4; p++) {
        handshake(uint16_t(41000 + p), 1000, client_syn_opts(true, true, true, false));
    }
    for (uint16_t p = 0; p < 4; p++) {
        in(uint16_t(41000 + p), th_rst, 1011, 0);
    }
    EXPECT_EQ(sent().size(), 2u);
    EXPECT_EQ(count(ctr::challenge_acks), 2u);
    EXPECT_EQ(count(ctr::challenge_ack_rate_limited), 2u);
    tick_to(t_start + 1000);
    in(41003, th_rst, 1011, 0);
    EXPECT_EQ(sent().size(), 1u);
}

TEST_F(passive_est, Established_OutOfWindowSegmentGetsAck)
{
    open();
    in(40000, th_ack, rcv + 100000, snd(), nullptr, 10);
    const seg r = one();
    EXPECT_EQ(r.flags(), th_ack);
    EXPECT_EQ(r.ack(), rcv);
    EXPECT_EQ(count(ctr::out_of_window), 1u);
    EXPECT_EQ(count(ctr::payload_bytes_discarded), 0u);
}

// Out-of-window ACKs are rate limited per connection (Linux
// tcp_oow_rate_limited), but a segment with data always gets its ACK.
TEST_F(passive_est, Established_OutOfWindowAcksRateLimitedUnlessData)
{
    open();
    for (int i = 0; i < 3; i++) {
        in(40000, th_ack, rcv + 100000, snd()); // no data: one ACK per 500 ms
    }
    EXPECT_EQ(sent().size(), 1u);
    EXPECT_EQ(count(ctr::oow_ack_rate_limited), 2u);
    for (int i = 0; i < 3; i++) {
        in(40000, th_ack, rcv + 100000, snd(), nullptr, 10); // data: every one answered
    }
    EXPECT_EQ(sent().size(), 3u);
    EXPECT_EQ(count(ctr::out_of_window), 6u);
}

// A segment ending exactly at RCV.NXT and a zero-length one exactly at the
// right edge of the window are acceptable to Linux's tcp_sequence().
TEST_F(passive_est, Established_LinuxSequenceAcceptabilityEdges)
{
    open();
    const uint32_t wnd = uint32_t(65535u >> 7) << 7; // our window as advertised (shift 7)
    const uint64_t oow = count(ctr::out_of_window);
    in(40000, th_ack, rcv + wnd, snd());
    EXPECT_EQ(count(ctr::out_of_window), oow); // accepted: a bare ACK, no reply
    EXPECT_TRUE(sent().empty());
    tick_to(t_start + 1000);
    in(40000, th_ack, rcv + wnd + 1, snd());
    EXPECT_EQ(count(ctr::out_of_window), oow + 1);
    EXPECT_EQ(one().ack(), rcv);
}

// An ACK of data never sent: "send an ACK, drop the segment" -- a
// challenge ACK (rate limited), as Linux 6.x does; nothing in it is taken.
TEST_F(passive_est, Established_AckOfUnsentDataGetsChallengeAck)
{
    open();
    in(40000, th_ack | th_psh, rcv, snd() + 10, nullptr, 10);
    const seg r = one();
    EXPECT_EQ(r.flags(), th_ack);
    EXPECT_EQ(r.seq(), snd());
    EXPECT_EQ(r.ack(), rcv);
    EXPECT_EQ(count(ctr::ack_too_new), 1u);
    EXPECT_EQ(count(ctr::challenge_acks), 1u);
    EXPECT_EQ(c()->snd_una, snd());
    EXPECT_EQ(c()->rcv_nxt, rcv); // the data was not taken
    EXPECT_EQ(count(ctr::payload_bytes_discarded), 0u);
}

TEST_F(passive_est, CloseWait_AckOfUnsentDataGetsChallengeAck)
{
    open();
    in(40000, th_fin | th_ack, rcv, snd());
    discard_sent();
    events();
    in(40000, th_ack, rcv + 1, snd() + 10);
    const seg r = one();
    EXPECT_EQ(r.flags(), th_ack);
    EXPECT_EQ(r.seq(), snd());
    EXPECT_EQ(r.ack(), rcv + 1);
    EXPECT_EQ(count(ctr::ack_too_new), 1u);
    EXPECT_EQ(count(ctr::challenge_acks), 1u);
    EXPECT_EQ(c()->st, state::close_wait);
}

// RFC 5961 5.2 (Linux tcp_ack): an ACK below what the peer could still
// acknowledge -- at or below our ISN here, as we send no data -- gets a
// challenge ACK and the segment is dropped.
TEST_F(passive_est, Established_AckBelowOurIsnGetsChallengeAck)
{
    open();
    in(40000, th_ack | th_psh, rcv, iss, nullptr, 10);
    const seg r = one();
    EXPECT_EQ(r.flags(), th_ack);
    EXPECT_EQ(r.ack(), rcv);
    EXPECT_EQ(count(ctr::ack_too_old), 1u);
    EXPECT_EQ(count(ctr::challenge_acks), 1u);
    EXPECT_EQ(c()->rcv_nxt, rcv); // the data was not taken
}

// PAWS (RFC 7323 5.3, Linux tcp_paws_discard): a TSval older than the last
// one taken marks an old duplicate: ACKed, its data not taken.
TEST_F(passive_est, Established_PawsDropsOldTimestamp)
{
    open(true);
    net::tcp_options a;
    a.has_ts = true;
    a.ts_val = 5000;
    in(40000, th_ack | th_psh, rcv, snd(), &a, 10); // taken: ts_recent 5000
    EXPECT_EQ(one().ack(), rcv + 10);
    a.ts_val = 4998; // older by more than TCP_PAWS_WINDOW (1)
    in(40000, th_ack | th_psh, rcv + 10, snd(), &a, 10);
    const seg r = one();
    EXPECT_EQ(r.ack(), rcv + 10);
    EXPECT_EQ(count(ctr::paws_rejected), 1u);
    EXPECT_EQ(c()->rcv_nxt, rcv + 10);
    // An RST is not subject to PAWS.
    in(40000, th_rst, rcv + 10, 0, &a);
    EXPECT_EQ(c(), nullptr);
}

// listen_options::idle_timeout_ms: a held connection that receives nothing
// for that long (checked every quarter: up to a quarter more) is closed with
// FIN; a segment starts the count over.
TEST_F(passive, Hold_IdleTimeoutClosesWithFin)
{
    lopts.on_accept = accept_action::hold;
    lopts.idle_timeout_ms = 4000;
    start();
    const net::tcp_options o = client_syn_opts(true, true, true, false);
    const seg sa = syn(40000, 1000, o);
    in(40000, th_ack, 1001, sa.seq() + 1);
    EXPECT_TRUE(accepted().empty()); // held: no accept ring
    ASSERT_EQ(find(40000)->st, state::established);
    EXPECT_EQ(eng->timers_armed(), 1u);
    auto run_to = [&](uint32_t ms) { // the lcore ticks every millisecond
        for (uint32_t t = eng->now_ms() + 1; t <= t_start + ms; t++) {
            tick_to(t);
        }
    };
    run_to(3500);
    in(40000, th_ack | th_psh, 1001, sa.seq() + 1, nullptr, 5); // activity at 3.5 s
    EXPECT_EQ(one().flags(), th_ack);
    run_to(7999);
    EXPECT_TRUE(sent().empty()); // 4.5 s idle, but the quarter of the segment was not quiet: still open
    EXPECT_EQ(find(40000)->st, state::established);
    run_to(8000); // the fifth quiet quarter ends at 8 s
    const seg f = one();
    EXPECT_EQ(f.flags(), th_fin | th_ack);
    EXPECT_EQ(find(40000)->st, state::fin_wait_1);
    EXPECT_EQ(count(ctr::idle_timeouts), 1u);
    // The peer ACKs and closes too: gone (TIME-WAIT, then freed).
    in(40000, th_fin | th_ack, 1006, sa.seq() + 2);
    EXPECT_EQ(one().flags(), th_ack);
    tick_to(t_start + 8000 + 61000); // TIME-WAIT ends
    expect_clean();
}

// A cookie connection (no request entry) held with an idle timeout: closed
// after five quiet quarters of it, not before.
TEST_F(passive, Hold_IdleTimeoutOnACookieConnection)
{
    lopts.on_accept = accept_action::hold;
    lopts.cookies = syncookie_mode::always;
    lopts.idle_timeout_ms = 2000;
    start();
    const seg sa = syn(40000, 1000, client_syn_opts(true, true, true, false));
    in(40000, th_ack, 1001, sa.seq() + 1);
    ASSERT_NE(find(40000), nullptr);
    EXPECT_EQ(count(ctr::cookies_accepted), 1u);
    for (uint32_t t = t_start + 1; t < t_start + 2500; t++) {
        tick_to(t);
    }
    EXPECT_TRUE(sent().empty());
    tick_to(t_start + 2500);
    EXPECT_EQ(one().flags(), th_fin | th_ack);
    EXPECT_EQ(count(ctr::idle_timeouts), 1u);
}

// Without an idle timeout a held connection has no timer at all.
TEST_F(passive, Hold_NoIdleTimeoutNoTimer)
{
    lopts.on_accept = accept_action::hold;
    start();
    const seg sa = syn(40000, 1000, client_syn_opts(true, true, true, false));
    in(40000, th_ack, 1001, sa.seq() + 1);
    EXPECT_EQ(eng->timers_armed(), 0u);
    tick_to(t_start + 3600000);
    EXPECT_EQ(find(40000)->st, state::established);
}

// Linux tcp_reset_check(): after the peer's FIN, an RST with that FIN's
// sequence number still resets (CLOSE-WAIT, LAST-ACK, CLOSING).
TEST_F(passive_est, CloseWait_RstAtTheFinsSequenceResets)
{
    open();
    in(40000, th_fin | th_ack, rcv, snd());
    discard_sent();
    events();
    in(40000, th_rst, rcv, 0);
    EXPECT_EQ(c(), nullptr);
    EXPECT_EQ(count(ctr::rst_received), 1u);
    const std::vector<event> ev = events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].type, event_type::reset);
    expect_clean();
}

TEST_F(passive_est, Established_NoAckDropped)
{
    open();
    in(40000, th_psh, rcv, 0, nullptr, 10);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(count(ctr::no_ack_dropped), 1u);
    EXPECT_EQ(c()->rcv_nxt, rcv);
}

TEST_F(passive_est, Established_DataAckedAndDiscarded)
{
    open();
    in(40000, th_ack | th_psh, rcv, snd(), nullptr, 100, 1000);
    seg r = one();
    EXPECT_EQ(r.flags(), th_ack);
    EXPECT_EQ(r.ack(), rcv + 100);
    EXPECT_EQ(r.pi.payload_len, 0u);
    EXPECT_EQ(c()->rcv_nxt, rcv + 100);
    EXPECT_EQ(c()->snd_wnd, 1000u);
    // Out of order (a hole before it): duplicate ACK, RCV.NXT stays.
    in(40000, th_ack | th_psh, rcv + 300, snd(), nullptr, 50);
    r = one();
    EXPECT_EQ(r.ack(), rcv + 100);
    // Overlapping old and new: only the new part moves RCV.NXT.
    in(40000, th_ack | th_psh, rcv + 50, snd(), nullptr, 100);
    r = one();
    EXPECT_EQ(r.ack(), rcv + 150);
    EXPECT_EQ(count(ctr::data_segments), 3u);
    EXPECT_EQ(count(ctr::payload_bytes_discarded), 250u);
    // A pure ACK gets no answer.
    in(40000, th_ack, rcv + 150, snd());
    EXPECT_TRUE(sent().empty());
}

TEST_F(passive_est, Established_TimestampsEchoed)
{
    open(true);
    net::tcp_options a;
    a.has_ts = true;
    a.ts_val = 9999;
    a.ts_ecr = 1;
    tick_to(t_start + 250);
    in(40000, th_ack | th_psh, rcv, snd(), &a, 10);
    const seg r = one();
    ASSERT_TRUE(r.opts.has_ts);
    EXPECT_EQ(r.opts.ts_ecr, 9999u);
    EXPECT_EQ(r.opts.ts_val, t_start + 250 + isn.ts_offset(tuple(40000)));
    EXPECT_TRUE(r.ip_cksum_ok && r.tcp_cksum_ok);
}

TEST_F(passive_est, PassiveClose_FinAckThenLastAck)
{
    open();
    // ESTABLISHED: the peer's FIN is ACKed, CLOSE-WAIT, the application told.
    in(40000, th_fin | th_ack, rcv, snd());
    seg r = one();
    EXPECT_EQ(r.flags(), th_ack);
    EXPECT_EQ(r.ack(), rcv + 1);
    EXPECT_EQ(c()->st, state::close_wait);
    std::vector<event> ev = events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].type, event_type::peer_closed);
    EXPECT_EQ(ev[0].h, acc.h);
    // A retransmitted FIN is ACKed again, nothing else changes.
    in(40000, th_fin | th_ack, rcv, snd());
    r = one();
    EXPECT_EQ(r.ack(), rcv + 1);
    EXPECT_EQ(count(ctr::fin_received), 1u);
    // The application closes: FIN, LAST-ACK.
    eng->command(make_cmd(cmd_type::close, acc.h));
    r = one();
    EXPECT_EQ(r.flags(), th_fin | th_ack);
    EXPECT_EQ(r.seq(), snd());
    EXPECT_EQ(r.ack(), rcv + 1);
    EXPECT_TRUE(r.ip_cksum_ok && r.tcp_cksum_ok);
    EXPECT_EQ(c()->st, state::last_ack);
    // The ACK of our FIN closes it.
    in(40000, th_ack, rcv + 1, snd() + 1);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(c(), nullptr);
    ev = events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].type, event_type::closed);
    EXPECT_EQ(ev[0].error, 0);
    EXPECT_EQ(count(ctr::closed), 1u);
    EXPECT_EQ(count(ctr::fin_sent), 1u);
    expect_clean();
}

TEST_F(passive_est, PassiveClose_LastAckIgnoresOldAck)
{
    open();
    in(40000, th_fin | th_ack, rcv, snd());
    eng->command(make_cmd(cmd_type::close, acc.h));
    discard_sent();
    in(40000, th_ack, rcv + 1, snd()); // does not cover our FIN
    EXPECT_EQ(c()->st, state::last_ack);
    EXPECT_TRUE(sent().empty());
}

TEST_F(passive_est, PassiveClose_FinRetransmittedThenGivenUp)
{
    cfg.fin_retries = 3;
    open();
    in(40000, th_fin | th_ack, rcv, snd());
    events();
    eng->command(make_cmd(cmd_type::close, acc.h));
    discard_sent();
    const uint32_t at[] = {1000, 3000, 7000};
    for (uint32_t t : at) {
        tick_to(t_start + t);
        const seg r = one();
        EXPECT_EQ(r.flags(), th_fin | th_ack);
        EXPECT_EQ(r.seq(), snd()); // the same FIN
    }
    tick_to(t_start + 15000);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(c(), nullptr);
    EXPECT_EQ(count(ctr::fin_retransmits), 3u);
    EXPECT_EQ(count(ctr::fin_timeouts), 1u);
    const std::vector<event> ev = events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].error, ETIMEDOUT);
    expect_clean();
}

TEST_F(passive_est, AppClose_InEstablishedSendsFinEntersFinWait1)
{
    open();
    eng->command(make_cmd(cmd_type::close, acc.h));
    const seg r = one();
    EXPECT_EQ(r.flags(), th_fin | th_ack);
    EXPECT_EQ(r.seq(), snd());
    EXPECT_EQ(c()->st, state::fin_wait_1);
    EXPECT_EQ(c()->snd_nxt, snd() + 1);
    EXPECT_TRUE(c()->has(cf_app_closed));
    uint32_t exp = 0;
    EXPECT_TRUE(eng->timer_of(*c(), exp));
}

TEST_F(passive_est, Abort_SendsRst)
{
    open();
    eng->command(make_cmd(cmd_type::abort, acc.h));
    const seg r = one();
    EXPECT_EQ(r.flags(), th_rst | th_ack);
    EXPECT_EQ(r.seq(), snd());
    EXPECT_EQ(r.ack(), rcv);
    EXPECT_TRUE(r.ip_cksum_ok && r.tcp_cksum_ok);
    EXPECT_EQ(c(), nullptr);
    EXPECT_EQ(count(ctr::aborted), 1u);
    EXPECT_EQ(count(ctr::rst_sent), 1u);
    EXPECT_TRUE(events().empty()); // the application asked: no event
    // The handle is dead now: a second command is counted, not obeyed.
    eng->command(make_cmd(cmd_type::abort, acc.h));
    eng->command(make_cmd(cmd_type::close, acc.h));
    EXPECT_EQ(count(ctr::stale_handle), 2u);
    EXPECT_TRUE(sent().empty());
    expect_clean();
}

TEST_F(passive_est, Command_StaleOrForeignHandle)
{
    open();
    handle h = acc.h;
    h.gen = h.gen + 1;
    eng->command(make_cmd(cmd_type::close, h));
    h = acc.h;
    h.lcore = 3;
    eng->command(make_cmd(cmd_type::abort, h));
    EXPECT_EQ(count(ctr::stale_handle), 2u);
    EXPECT_EQ(c()->st, state::established);
    EXPECT_TRUE(sent().empty());
}

TEST_F(passive_est, EventRingFullIsCounted)
{
    open();
    rte_ring_free(evring);
    evring = rte_ring_create_elem("pev_tiny", sizeof(event), 1, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_EXACT_SZ);
    ASSERT_NE(evring, nullptr);
    // The engine keeps the pointer it was given: rebuild it on the tiny ring.
    eng.reset();
    unlisten(lt, reg, *lst, nullptr);
    lst.reset();
    cfg.event_ring = evring;
    start();
    acc = handshake(40000, 1000, client_syn_opts(true, true, true, false));
    handshake(40001, 1000, client_syn_opts(true, true, true, false));
    in(40000, th_rst, 1001, 0);
    in(40001, th_rst, 1001, 0);
    EXPECT_EQ(events().size(), 1u);
    EXPECT_EQ(count(ctr::event_ring_full), 1u);
}

// Every way in and out of the passive side gives back what it took: pool
// blocks, table entries, timers and mbufs.
TEST_F(passive, NoLeaks_AfterEveryPath)
{
    lopts.syn_backlog = 4;
    lopts.backlog = 3;
    start();
    const net::tcp_options o = client_syn_opts();
    // 1. request that times out
    syn(40000, 1);
    // 2. accepted then aborted
    event e = handshake(40001, 1);
    eng->command(make_cmd(cmd_type::abort, e.h));
    discard_sent();
    // 3. accepted, passive close
    e = handshake(40002, 1);
    in(40002, th_fin | th_ack, 2, find(40002)->iss + 1);
    eng->command(make_cmd(cmd_type::close, e.h));
    in(40002, th_ack, 3, find(40002)->iss + 2);
    discard_sent();
    // 4. accepted, reset by the peer
    handshake(40003, 1);
    in(40003, th_rst, 2, 0);
    // 5. accepted, peer FIN, app close, our FIN never ACKed: the FIN timer gives up
    e = handshake(40004, 1);
    in(40004, th_fin | th_ack, 2, find(40004)->iss + 1);
    eng->command(make_cmd(cmd_type::close, e.h));
    discard_sent();
    // 6. request reset by the peer, request with a new SYN
    syn(40005, 1);
    in(40005, th_rst, 2, 0);
    syn(40006, 1);
    in(40006, th_syn, 5, 0, &o);
    discard_sent();
    // 7. segments that make nothing: closed port, stray ACK, RST, SYN+FIN, bad cookie
    in(frame(40007, th_syn, 1, 0, &o, 0, 64240, 81));
    in(40008, th_ack, 1, 1);
    in(40009, th_rst, 1, 0);
    in(40010, th_syn | th_fin, 1, 0, &o);
    discard_sent();
    // 8. SYN queue full -> cookies, and a cookie connection closed by abort
    syn(40011, 1);
    syn(40012, 1);
    syn(40013, 1);
    syn(40014, 1);
    const seg ck = syn(40015, 1);
    in(40015, th_ack, 2, ck.seq() + 1);
    EXPECT_EQ(count(ctr::cookies_accepted), 1u);
    // invalid cookie
    in(40016, th_ack, 2, 12345);
    for (const event& a : accepted()) {
        eng->command(make_cmd(cmd_type::abort, a.h));
    }
    discard_sent();
    events();
    // Let every timer run out (requests: 63 s; FINs: 8 retries, 511 s).
    auto run_timers = [&](uint32_t from, uint32_t to) {
        for (uint32_t t = from; t <= to; t += 100) {
            tick_to(t_start + t);
            discard_sent();
        }
    };
    run_timers(100, 600000);
    events();
    EXPECT_EQ(eng->conns_in_use(), 0u);
    // 9. accept ring overflow: the ACK is ignored, the request times out later
    std::vector<seg> sas;
    for (uint16_t p = 40020; p < 40024; p++) {
        sas.push_back(syn(p, 1));
    }
    for (uint16_t i = 0; i < 4; i++) {
        in(uint16_t(40020 + i), th_ack, 2, sas[i].seq() + 1);
    }
    EXPECT_EQ(count(ctr::accept_queue_overflows), 1u);
    run_timers(600100, 700000);
    // Whatever is still established (accepted but not consumed) is aborted by the app.
    for (const event& a : accepted()) {
        eng->command(make_cmd(cmd_type::abort, a.h));
    }
    expect_clean();
    EXPECT_EQ(lst->syn_queue_total(), 0u);
}

} // namespace
} // namespace fg::tcp::test
