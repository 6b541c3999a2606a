// SYN cookies end to end: the cookie SYN-ACK (ISN and TSval as Linux makes
// them), the ACK that brings the connection back with its options, invalid
// and stale cookies, and the "cookies sent recently" gate.
#include "passive_harness.hh"

namespace fg::tcp::test {
namespace {

class passive_cookie : public passive {
protected:
    void SetUp() override
    {
        passive::SetUp();
        lopts.cookies = syncookie_mode::always;
    }

    // The client's third ACK for a cookie SYN-ACK, echoing its TSval.
    void ack_cookie(uint16_t cport, uint32_t ciss, const seg& sa, uint32_t payload = 0, uint8_t extra = 0)
    {
        net::tcp_options a;
        if (sa.opts.has_ts) {
            a.has_ts = true;
            a.ts_val = 5555;
            a.ts_ecr = sa.opts.ts_val;
        }
        in(cport, uint8_t(th_ack | extra), ciss + 1, sa.seq() + 1, &a, payload);
    }
};

TEST_F(passive_cookie, CookieSynAck_TsvalCarriesOptions)
{
    start();
    net::tcp_options o = client_syn_opts();
    o.wscale = 5;
    const seg sa = syn(40000, 1000, o);
    EXPECT_TRUE(sa.opts.has_ts);
    EXPECT_EQ(sa.opts.ts_ecr, o.ts_val);
    const uint32_t ts_off = isn.ts_offset(tuple(40000));
    // Low 6 bits of (TSval - offset): wscale 5, SACK bit.
    const uint32_t raw = sa.opts.ts_val - ts_off;
    EXPECT_EQ(raw & 0xf, 5u);
    EXPECT_EQ(raw & syncookie::ts_sack, syncookie::ts_sack);
    EXPECT_LE(raw, t_start); // never ahead of our clock (cookie_init_timestamp)
    EXPECT_TRUE(sa.opts.has_wscale);
    EXPECT_TRUE(sa.opts.sack_ok);
    // Without timestamps a cookie cannot keep wscale or SACK: not offered.
    const seg sb = syn(40001, 1000, client_syn_opts(true, true, true, false));
    EXPECT_FALSE(sb.opts.has_ts);
    EXPECT_FALSE(sb.opts.has_wscale);
    EXPECT_FALSE(sb.opts.sack_ok);
    EXPECT_TRUE(sb.opts.has_mss);
    EXPECT_TRUE(sb.ip_cksum_ok && sb.tcp_cksum_ok);
    expect_clean();
}

// A SYN whose mbuf someone else also holds (refcount 2, as a capture clone
// leaves it) is not written over: its SYN-ACK goes out in a new frame, byte
// for byte the one an unshared copy of the same SYN gets in place.
TEST_F(passive_cookie, SharedSynIsAnsweredInANewFrame)
{
    start();
    const net::tcp_options o = client_syn_opts();
    in(frame(40000, th_syn, 1000, 0, &o));
    const std::vector<seg> in_place = sent();
    ASSERT_EQ(in_place.size(), 1u);

    rte_mbuf* m = frame(40000, th_syn, 1000, 0, &o);
    const std::vector<uint8_t> before(rte_pktmbuf_mtod(m, uint8_t*), rte_pktmbuf_mtod(m, uint8_t*) + m->data_len);
    rte_mbuf_refcnt_update(m, 1); // our own reference, besides the engine's
    in(m);
    const std::vector<seg> fresh = sent();
    ASSERT_EQ(fresh.size(), 1u);
    EXPECT_NE(fresh[0].mbuf, m);
    EXPECT_EQ(fresh[0].bytes, in_place[0].bytes);
    EXPECT_EQ(rte_mbuf_refcnt_read(m), 1u); // the engine let its reference go
    EXPECT_EQ(std::vector<uint8_t>(rte_pktmbuf_mtod(m, uint8_t*), rte_pktmbuf_mtod(m, uint8_t*) + m->data_len),
              before);
    rte_pktmbuf_free(m);
    expect_clean();
}

TEST_F(passive_cookie, CookieAck_CreatesConnWithRecoveredOptions)
{
    start();
    net::tcp_options o = client_syn_opts();
    o.mss = 1400; // cookies carry the largest table MSS <= 1400: 1300
    o.wscale = 5;
    const seg sa = syn(40000, 1000, o);
    tick_to(t_start + 20);
    ack_cookie(40000, 1000, sa);
    EXPECT_TRUE(sent().empty());
    const conn* c = find(40000);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->st, state::established);
    EXPECT_EQ(c->mss, 1300u);
    EXPECT_TRUE(c->has(cf_ws_ok));
    EXPECT_EQ(c->snd_wscale(), 5u);
    EXPECT_EQ(c->rcv_wscale(), cfg.opts.rcv_wscale);
    EXPECT_TRUE(c->has(cf_sack_ok));
    EXPECT_TRUE(c->has(cf_ts_ok));
    EXPECT_TRUE(c->has(cf_from_cookie));
    EXPECT_EQ(c->ts_recent, 5555u);
    EXPECT_EQ(c->iss, sa.seq());
    EXPECT_EQ(c->snd_nxt, sa.seq() + 1);
    EXPECT_EQ(c->rcv_nxt, 1001u);
    EXPECT_EQ(eng->timers_armed(), 0u);
    const std::vector<event> acc = accepted();
    ASSERT_EQ(acc.size(), 1u);
    EXPECT_EQ(acc[0].mss, 1300u);
    EXPECT_EQ(acc[0].opts, ev_sack | ev_ts | ev_wscale | ev_cookie);
    EXPECT_EQ(acc[0].snd_wscale, 5u);
    EXPECT_EQ(count(ctr::cookies_accepted), 1u);
    EXPECT_EQ(count(ctr::accepted), 1u);
    // Later segments use the recovered timestamps.
    in(40000, th_ack | th_psh, 1001, sa.seq() + 1, nullptr, 10);
    const seg r = one();
    EXPECT_TRUE(r.opts.has_ts);
    EXPECT_EQ(r.opts.ts_ecr, 5555u);
}

TEST_F(passive_cookie, CookieAck_WithoutTimestampsMssOnly)
{
    start();
    net::tcp_options o = client_syn_opts(true, true, true, false);
    o.mss = 500; // below 536: the cookie carries 536 (Linux msstab[0])
    const seg sa = syn(40000, 77, o);
    ack_cookie(40000, 77, sa);
    const conn* c = find(40000);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->mss, 536u);
    EXPECT_FALSE(c->has(cf_ws_ok));
    EXPECT_FALSE(c->has(cf_sack_ok));
    EXPECT_FALSE(c->has(cf_ts_ok));
}

TEST_F(passive_cookie, CookieAck_WithDataAndFin)
{
    start();
    const seg sa = syn(40000, 1000, client_syn_opts(true, true, true, false));
    ack_cookie(40000, 1000, sa, 20, th_fin);
    const seg r = one();
    EXPECT_EQ(r.flags(), th_ack);
    EXPECT_EQ(r.ack(), 1001u + 20 + 1);
    EXPECT_EQ(find(40000)->st, state::close_wait);
    const std::vector<event> ev = events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].type, event_type::peer_closed);
}

TEST_F(passive_cookie, CookieAck_Invalid)
{
    start();
    const seg sa = syn(40000, 1000);
    // A wrong cookie (ack) and a wrong client ISN (seq) are refused.
    in(40000, th_ack, 1001, sa.seq() + 2);
    seg r = one();
    EXPECT_EQ(r.flags(), th_rst);
    EXPECT_EQ(r.seq(), sa.seq() + 2);
    // (An ISN off by a few only shifts the MSS index, as in Linux: take one far off.)
    in(40000, th_ack, 1001 + 5000, sa.seq() + 1);
    r = one();
    EXPECT_EQ(r.flags(), th_rst);
    EXPECT_EQ(count(ctr::cookies_rejected), 2u);
    EXPECT_EQ(count(ctr::listen_ack_rst), 0u);
    EXPECT_EQ(eng->conns_in_use(), 0u);
    expect_clean();
}

TEST_F(passive_cookie, CookieAck_TsecrClaimingDisabledOptionRefused)
{
    cfg.opts.sack = false;
    start();
    const seg sa = syn(40000, 1000);
    EXPECT_FALSE(sa.opts.sack_ok);
    net::tcp_options a;
    a.has_ts = true;
    a.ts_val = 1;
    a.ts_ecr = sa.opts.ts_val | syncookie::ts_sack; // forged: SACK we never offered
    in(40000, th_ack, 1001, sa.seq() + 1, &a);
    EXPECT_EQ(one().flags(), th_rst);
    EXPECT_EQ(count(ctr::cookies_rejected), 1u);
    expect_clean();
}

TEST_F(passive_cookie, CookieAck_ExpiresAfterTwoMinutes)
{
    start();
    const seg sa = syn(40000, 1000);
    // Keep cookies "recent": another cookie SYN-ACK near the end.
    tick_to(t_start + 3 * 60000);
    syn(40001, 1);
    ack_cookie(40000, 1000, sa);
    EXPECT_EQ(one().flags(), th_rst);
    EXPECT_EQ(count(ctr::cookies_rejected), 1u);
    EXPECT_EQ(find(40000), nullptr);
}

TEST_F(passive_cookie, CookieAck_ValidOneMinuteLater)
{
    start();
    const seg sa = syn(40000, 1000);
    tick_to(t_start + 61000);
    ack_cookie(40000, 1000, sa);
    EXPECT_TRUE(sent().empty());
    EXPECT_NE(find(40000), nullptr);
}

TEST_F(passive_cookie, CookieAck_NotCheckedWithoutRecentCookies)
{
    start();
    // A perfectly valid cookie for this SYN, but this lcore never sent one:
    // the ACK is an ordinary stray ACK to a listener (Linux
    // tcp_synq_no_recent_overflow).
    const uint32_t cookie = cookies.make(tuple(40000), 1000, 1460, syncookie::count_from_ms(t_start));
    in(40000, th_ack, 1001, cookie + 1);
    seg r = one();
    EXPECT_EQ(r.flags(), th_rst);
    EXPECT_EQ(count(ctr::listen_ack_rst), 1u);
    EXPECT_EQ(count(ctr::cookies_rejected), 0u);
    EXPECT_EQ(find(40000), nullptr);
    // Cookies sent, then more than two minutes of quiet: not checked again.
    const seg sa = syn(40001, 1000);
    tick_to(t_start + 2 * 60000 + 1001);
    ack_cookie(40001, 1000, sa);
    r = one();
    EXPECT_EQ(r.flags(), th_rst);
    EXPECT_EQ(count(ctr::listen_ack_rst), 2u);
    EXPECT_EQ(count(ctr::cookies_rejected), 0u);
    expect_clean();
}

TEST_F(passive_cookie, CookieAck_AcceptQueueFullDropsAck)
{
    lopts.backlog = 1;
    start();
    const seg s1 = syn(40000, 1000);
    const seg s2 = syn(40001, 1000);
    ack_cookie(40000, 1000, s1);
    ack_cookie(40001, 1000, s2);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(count(ctr::accept_queue_overflows), 1u);
    EXPECT_EQ(find(40001), nullptr); // nothing kept: the client's next segment is a cookie ACK again
    EXPECT_EQ(eng->conns_in_use(), 1u);
    accepted();
    ack_cookie(40001, 1000, s2);
    EXPECT_NE(find(40001), nullptr);
}

TEST_F(passive_cookie, CookieMode_NeverDoesNotCheckCookies)
{
    lopts.cookies = syncookie_mode::never;
    start();
    const uint32_t cookie = cookies.make(tuple(40000), 1000, 1460, syncookie::count_from_ms(t_start));
    in(40000, th_ack, 1001, cookie + 1);
    EXPECT_EQ(one().flags(), th_rst);
    EXPECT_EQ(count(ctr::listen_ack_rst), 1u);
}

} // namespace
} // namespace fg::tcp::test
