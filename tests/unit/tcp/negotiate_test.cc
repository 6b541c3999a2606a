#include <gtest/gtest.h>

#include "tcp/negotiate.hh"

namespace fg::tcp {
namespace {

// A Linux client's SYN: MSS 1460, WS 7, SACK, TS.
syn_options full_syn()
{
    syn_options o;
    o.has_mss = true;
    o.mss = 1460;
    o.has_wscale = true;
    o.wscale = 7;
    o.sack_ok = true;
    o.has_ts = true;
    o.ts_val = 0xAABBCCDD;
    return o;
}

local_settings ours()
{
    local_settings s;
    s.mss = 1460;
    s.rcv_wnd = 64240;
    return s;
}

// ---- settings helpers ----

TEST(Negotiate, AdvmssIsMtuMinus40WithLinuxBounds)
{
    EXPECT_EQ(advmss_for_mtu(1500), 1460);
    EXPECT_EQ(advmss_for_mtu(9000), 8960);
    EXPECT_EQ(advmss_for_mtu(576), 536);
    EXPECT_EQ(advmss_for_mtu(100), 256);     // Linux ip_rt_min_advmss
    EXPECT_EQ(advmss_for_mtu(0), 256);
    EXPECT_EQ(advmss_for_mtu(70000), 65495); // 65535 - 40
}

TEST(Negotiate, WscaleIsSmallestShiftFittingTheSpace)
{
    EXPECT_EQ(wscale_for_space(6 * 1024 * 1024), 7); // Linux tcp_rmem[2] default
    EXPECT_EQ(local_settings::default_rcv_wscale, 7);
    EXPECT_EQ(wscale_for_space(65535), 0);
    EXPECT_EQ(wscale_for_space(131072), 2);
    EXPECT_EQ(wscale_for_space(0), 0);
    EXPECT_EQ(wscale_for_space(0xFFFFFFFFu), 14);
}

TEST(Negotiate, SynWindowIsNeverScaled)
{
    local_settings s = ours();
    EXPECT_EQ(syn_window(s), 64240);
    s.rcv_wnd = 1 << 20;
    EXPECT_EQ(syn_window(s), 65535);
}

// ---- passive: MSS ----

TEST(NegotiatePassive, SynAckAlwaysCarriesOurMss)
{
    syn_options bare; // no options at all
    local_settings s = ours();
    s.mss = 8960;
    const syn_options a = synack_options(negotiate_passive(bare, s), s, 1);
    EXPECT_TRUE(a.has_mss);
    EXPECT_EQ(a.mss, 8960); // ours, not the peer's
}

TEST(NegotiatePassive, MssIsMinOfPeerAndOurs)
{
    syn_options syn = full_syn();
    syn.mss = 1200;
    EXPECT_EQ(negotiate_passive(syn, ours()).mss, 1200);
    syn.mss = 9000;
    EXPECT_EQ(negotiate_passive(syn, ours()).mss, 1460);
}

TEST(NegotiatePassive, NoMssOrZeroMssMeans536)
{
    syn_options syn = full_syn();
    syn.has_mss = false;
    EXPECT_EQ(negotiate_passive(syn, ours()).mss, 536);
    syn.has_mss = true;
    syn.mss = 0;
    EXPECT_EQ(negotiate_passive(syn, ours()).mss, 536);
    EXPECT_EQ(peer_mss(syn), 536);
}

TEST(NegotiatePassive, TinyMssRaisedTo48)
{
    syn_options syn = full_syn();
    syn.mss = 1;
    EXPECT_EQ(negotiate_passive(syn, ours()).mss, 48);
    syn.mss = 47;
    EXPECT_EQ(negotiate_passive(syn, ours()).mss, 48);
    syn.mss = 49;
    EXPECT_EQ(negotiate_passive(syn, ours()).mss, 49);
}

// ---- passive: window scale ----

TEST(NegotiatePassive, WindowScaleOnlyIfPeerSentIt)
{
    const local_settings s = ours();
    syn_options syn = full_syn();
    syn.wscale = 9;
    negotiated n = negotiate_passive(syn, s);
    EXPECT_TRUE(n.wscale_ok);
    EXPECT_EQ(n.snd_wscale, 9);
    EXPECT_EQ(n.rcv_wscale, 7);
    syn_options a = synack_options(n, s, 1);
    EXPECT_TRUE(a.has_wscale);
    EXPECT_EQ(a.wscale, 7); // our shift

    syn.has_wscale = false;
    n = negotiate_passive(syn, s);
    EXPECT_FALSE(n.wscale_ok);
    EXPECT_EQ(n.snd_wscale, 0);
    EXPECT_EQ(n.rcv_wscale, 0);
    EXPECT_FALSE(synack_options(n, s, 1).has_wscale);
}

TEST(NegotiatePassive, PeerShiftAbove14IsTaken14)
{
    syn_options syn = full_syn();
    syn.wscale = 15;
    EXPECT_EQ(negotiate_passive(syn, ours()).snd_wscale, 14);
    syn.wscale = 255;
    EXPECT_EQ(negotiate_passive(syn, ours()).snd_wscale, 14);
}

TEST(NegotiatePassive, OurShiftIsConfigurable)
{
    local_settings s = ours();
    s.rcv_wscale = 2;
    const negotiated n = negotiate_passive(full_syn(), s);
    EXPECT_EQ(n.rcv_wscale, 2);
    EXPECT_EQ(synack_options(n, s, 1).wscale, 2);
}

TEST(NegotiatePassive, WindowScalingDisabledHere)
{
    local_settings s = ours();
    s.window_scaling = false;
    const negotiated n = negotiate_passive(full_syn(), s);
    EXPECT_FALSE(n.wscale_ok);
    EXPECT_EQ(n.snd_wscale, 0);
    EXPECT_EQ(n.rcv_wscale, 0);
    EXPECT_FALSE(synack_options(n, s, 1).has_wscale);
}

TEST(NegotiatePassive, WindowClampedTo65535WithoutScaling)
{
    local_settings s = ours();
    s.rcv_wnd = 1 << 20;
    syn_options syn = full_syn();
    EXPECT_EQ(negotiate_passive(syn, s).window_clamp, 1u << 20);
    syn.has_wscale = false;
    EXPECT_EQ(negotiate_passive(syn, s).window_clamp, 65535u);
}

// ---- passive: SACK and timestamps ----

TEST(NegotiatePassive, SackOnlyIfOffered)
{
    const local_settings s = ours();
    syn_options syn = full_syn();
    EXPECT_TRUE(synack_options(negotiate_passive(syn, s), s, 1).sack_ok);
    syn.sack_ok = false;
    const negotiated n = negotiate_passive(syn, s);
    EXPECT_FALSE(n.sack_ok);
    EXPECT_FALSE(synack_options(n, s, 1).sack_ok);
    local_settings off = s;
    off.sack = false;
    EXPECT_FALSE(negotiate_passive(full_syn(), off).sack_ok);
}

TEST(NegotiatePassive, TimestampsOnlyIfOfferedAndEchoed)
{
    const local_settings s = ours();
    syn_options syn = full_syn();
    negotiated n = negotiate_passive(syn, s);
    EXPECT_TRUE(n.ts_ok);
    EXPECT_EQ(n.ts_recent, 0xAABBCCDDu);
    syn_options a = synack_options(n, s, 4242);
    EXPECT_TRUE(a.has_ts);
    EXPECT_EQ(a.ts_val, 4242u);
    EXPECT_EQ(a.ts_ecr, 0xAABBCCDDu);

    syn.has_ts = false;
    n = negotiate_passive(syn, s);
    EXPECT_FALSE(n.ts_ok);
    a = synack_options(n, s, 4242);
    EXPECT_FALSE(a.has_ts);
    EXPECT_EQ(a.ts_val, 0u);
    EXPECT_EQ(a.ts_ecr, 0u);

    local_settings off = s;
    off.timestamps = false;
    EXPECT_FALSE(negotiate_passive(full_syn(), off).ts_ok);
}

TEST(NegotiatePassive, MssOnlySynGetsMssOnlySynAck)
{
    syn_options syn;
    syn.has_mss = true;
    syn.mss = 1400;
    const local_settings s = ours();
    syn_options want;
    want.has_mss = true;
    want.mss = 1460;
    EXPECT_EQ(synack_options(negotiate_passive(syn, s), s, 99), want);
}

// ---- passive: cookies ----

TEST(NegotiateCookie, NoTimestampsMeansNoWscaleNoSack)
{
    syn_options syn = full_syn();
    syn.has_ts = false;
    const syn_options v = cookie_view(syn);
    EXPECT_FALSE(v.has_wscale);
    EXPECT_FALSE(v.sack_ok);
    EXPECT_TRUE(v.has_mss);
    const local_settings s = ours();
    const syn_options a = synack_options(negotiate_passive(v, s), s, 1);
    EXPECT_FALSE(a.has_wscale);
    EXPECT_FALSE(a.sack_ok);
    EXPECT_FALSE(a.has_ts);
}

TEST(NegotiateCookie, WithTimestampsOptionsKept)
{
    EXPECT_EQ(cookie_view(full_syn()), full_syn());
}

TEST(NegotiateCookie, AckRebuildsWhatTheSynNegotiated)
{
    const local_settings s = ours();
    for (int ws = -1; ws <= 14; ws++) {
        for (bool sack : {false, true}) {
            syn_options syn = full_syn();
            syn.has_wscale = ws >= 0;
            syn.wscale = ws >= 0 ? uint8_t(ws) : 0;
            syn.sack_ok = sack;
            syn.mss = 1300;
            const negotiated at_syn = negotiate_passive(cookie_view(syn), s);
            const uint32_t tsval = syncookie::make_tsval(7777777, cookie_options_of(at_syn));
            const syn_options a = synack_options(at_syn, s, tsval + 1000); // + the pair's offset
            cookie_options decoded;
            ASSERT_TRUE(syncookie::decode_tsecr(true, syncookie::tsecr_without_offset(a.ts_val, 1000),
                                                cookie_policy{}, decoded));
            const negotiated at_ack = negotiate_cookie(1300, decoded, true, 0xAABBCCDD, s);
            EXPECT_EQ(at_ack, at_syn) << ws << " " << sack;
        }
    }
}

TEST(NegotiateCookie, AckWithoutTimestampsHasNoOptions)
{
    const negotiated n = negotiate_cookie(1460, cookie_options{}, false, 0, ours());
    EXPECT_FALSE(n.ts_ok);
    EXPECT_FALSE(n.wscale_ok);
    EXPECT_FALSE(n.sack_ok);
    EXPECT_EQ(n.mss, 1460);
    EXPECT_EQ(n.window_clamp, 64240u);
}

TEST(NegotiateCookie, CookieMssClampedByOurs)
{
    local_settings s = ours();
    s.mss = 1400;
    EXPECT_EQ(negotiate_cookie(1460, cookie_options{}, false, 0, s).mss, 1400);
    EXPECT_EQ(negotiate_cookie(536, cookie_options{}, false, 0, s).mss, 536);
}

TEST(NegotiateCookie, EcnNeverEncoded)
{
    negotiated n = negotiate_passive(full_syn(), ours());
    EXPECT_FALSE(cookie_options_of(n).ecn_ok);
    EXPECT_EQ(cookie_options_of(n).snd_wscale, 7);
    EXPECT_TRUE(cookie_options_of(n).wscale_ok);
}

// ---- active open ----

TEST(NegotiateActive, SynCarriesWhatIsEnabled)
{
    local_settings s = ours();
    syn_options o = syn_options_for(s, 31337);
    EXPECT_TRUE(o.has_mss);
    EXPECT_EQ(o.mss, 1460);
    EXPECT_TRUE(o.has_wscale);
    EXPECT_EQ(o.wscale, 7);
    EXPECT_TRUE(o.sack_ok);
    EXPECT_TRUE(o.has_ts);
    EXPECT_EQ(o.ts_val, 31337u);
    EXPECT_EQ(o.ts_ecr, 0u);

    s.window_scaling = false;
    s.sack = false;
    s.timestamps = false;
    o = syn_options_for(s, 31337);
    syn_options want;
    want.has_mss = true;
    want.mss = 1460;
    EXPECT_EQ(o, want);
}

TEST(NegotiateActive, WindowScaleOnlyIfBothSent)
{
    local_settings s = ours();
    syn_options synack = full_syn();
    synack.wscale = 3;
    negotiated n = negotiate_active(synack, s);
    EXPECT_TRUE(n.wscale_ok);
    EXPECT_EQ(n.snd_wscale, 3);
    EXPECT_EQ(n.rcv_wscale, 7);

    synack.has_wscale = false; // peer did not: both shifts 0
    n = negotiate_active(synack, s);
    EXPECT_FALSE(n.wscale_ok);
    EXPECT_EQ(n.snd_wscale, 0);
    EXPECT_EQ(n.rcv_wscale, 0);
    EXPECT_EQ(n.window_clamp, 64240u);

    s.window_scaling = false; // we did not: a peer's WS is ignored
    n = negotiate_active(full_syn(), s);
    EXPECT_FALSE(n.wscale_ok);
    EXPECT_EQ(n.snd_wscale, 0);
}

TEST(NegotiateActive, TimestampsEchoedOnlyIfBothSent)
{
    local_settings s = ours();
    negotiated n = negotiate_active(full_syn(), s);
    EXPECT_TRUE(n.ts_ok);
    EXPECT_EQ(n.ts_recent, 0xAABBCCDDu);
    syn_options synack = full_syn();
    synack.has_ts = false;
    EXPECT_FALSE(negotiate_active(synack, s).ts_ok);
    s.timestamps = false; // RFC 7323: TS in a SYN-ACK to a SYN without TS is ignored
    n = negotiate_active(full_syn(), s);
    EXPECT_FALSE(n.ts_ok);
    EXPECT_EQ(n.ts_recent, 0u);
}

TEST(NegotiateActive, SackOnlyIfBothSent)
{
    local_settings s = ours();
    EXPECT_TRUE(negotiate_active(full_syn(), s).sack_ok);
    syn_options synack = full_syn();
    synack.sack_ok = false;
    EXPECT_FALSE(negotiate_active(synack, s).sack_ok);
    s.sack = false;
    EXPECT_FALSE(negotiate_active(full_syn(), s).sack_ok);
}

TEST(NegotiateActive, MssRules)
{
    syn_options synack = full_syn();
    synack.mss = 1000;
    EXPECT_EQ(negotiate_active(synack, ours()).mss, 1000);
    synack.has_mss = false;
    EXPECT_EQ(negotiate_active(synack, ours()).mss, 536);
    synack.has_mss = true;
    synack.mss = 20;
    EXPECT_EQ(negotiate_active(synack, ours()).mss, 48);
    synack.mss = 9000;
    EXPECT_EQ(negotiate_active(synack, ours()).mss, 1460);
}

// ---- input conversion ----

struct parsed_like { // the shape of lib/net's tcp_options
    uint16_t mss;
    uint8_t wscale;
    bool has_mss, has_wscale, sack_ok, has_ts;
    uint32_t ts_val, ts_ecr;
};

TEST(Negotiate, ConvertsParsedOptionsFieldByField)
{
    const parsed_like p{1234, 5, true, true, true, true, 77, 88};
    const syn_options o = to_syn_options(p);
    EXPECT_EQ(o.mss, 1234);
    EXPECT_EQ(o.wscale, 5);
    EXPECT_TRUE(o.has_mss && o.has_wscale && o.sack_ok && o.has_ts);
    EXPECT_EQ(o.ts_val, 77u);
    EXPECT_EQ(o.ts_ecr, 88u);
}

} // namespace
} // namespace fg::tcp
