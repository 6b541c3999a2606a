// Option negotiation for the handshake: given what the peer's SYN (or
// SYN-ACK) offered and what we are configured to do, what our SYN-ACK (or
// SYN) carries and what the connection then uses. The rules are Linux's
// (tcp_parse_options, tcp_openreq_init, tcp_synack_options,
// tcp_rcv_synsent_state_process) and RFC 7323 / RFC 2018 / RFC 9293:
//
//   * MSS: always sent (ours = route MTU - 40). We send segments of at most
//     min(peer's MSS, or 536 if it sent none or 0, our MSS), never below 48.
//   * Window scale: each side sends its own shift; scaling is on only if both
//     sent the option, else both shifts are 0 and windows stay <= 65535.
//     A peer shift above 14 is taken as 14.
//   * SACK-permitted, timestamps: on only if both sides sent them. A server
//     echoes only what the SYN offered. With timestamps on, our first TSecr
//     echoes the peer's TSval.
//   * SYN cookies keep no state: without timestamps a cookie connection has
//     no window scaling and no SACK (Linux tcp_clear_options), so the SYN-ACK
//     does not offer them either (cookie_view()).
//
// The input is syn_options, field for field what lib/net's TCP option parser
// produces (to_syn_options() converts any struct with those field names).
// Everything here is a pure function of its arguments, cheap enough for the
// per-SYN path.
#pragma once

#include <algorithm>
#include <cstdint>

#include "tcp/syncookie.hh"

namespace fg::tcp {

static constexpr uint16_t default_mss = 536;   // RFC 9293 §3.7.1 / Linux TCP_MSS_DEFAULT: no MSS option
static constexpr uint16_t min_snd_mss = 48;    // Linux TCP_MIN_SND_MSS: smaller MSS options are raised
static constexpr uint8_t max_wscale = 14;      // RFC 7323 §2.3: larger shifts are taken as 14
static constexpr uint32_t max_unscaled_window = 65535; // a window field without scaling (and in any SYN)

// TCP options of a SYN or SYN-ACK, received or to send. Same field names as
// lib/net's parsed tcp_options.
struct syn_options {
    uint16_t mss = 0;       // MSS option value, if has_mss
    uint8_t wscale = 0;     // window scale shift, if has_wscale
    bool has_mss = false;
    bool has_wscale = false;
    bool sack_ok = false;   // SACK-permitted present
    bool has_ts = false;    // timestamps present
    uint32_t ts_val = 0;    // TSval, if has_ts
    uint32_t ts_ecr = 0;    // TSecr, if has_ts

    friend bool operator==(const syn_options&, const syn_options&) = default;
};

// Field by field between option structs with the fields above (syn_options,
// lib/net's tcp_options), inline (see engine::synack_net_options).
template <class To, class From>
To convert_options(const From& p)
{
    To o;
    o.mss = p.mss;
    o.wscale = p.wscale;
    o.has_mss = p.has_mss;
    o.has_wscale = p.has_wscale;
    o.sack_ok = p.sack_ok;
    o.has_ts = p.has_ts;
    o.ts_val = p.ts_val;
    o.ts_ecr = p.ts_ecr;
    return o;
}
// Any parsed-options struct with the fields above (lib/net's tcp_options).
template <class Parsed>
syn_options to_syn_options(const Parsed& p)
{
    return convert_options<syn_options>(p);
}

// What this host offers and advertises.
struct local_settings {
    // Linux picks the smallest shift that fits its largest receive buffer
    // (tcp_rmem[2] = 6 MB on modern kernels -> 7); so do we by default.
    static constexpr uint8_t default_rcv_wscale = 7;

    uint16_t mss = 1460;                       // our MSS: advmss_for_mtu(route MTU)
    uint32_t rcv_wnd = max_unscaled_window;    // initial receive window, bytes
    uint8_t rcv_wscale = default_rcv_wscale;   // our window shift (<= 14), sent if window_scaling
    bool window_scaling = true;                // Linux tcp_window_scaling
    bool sack = true;                          // Linux tcp_sack
    bool timestamps = true;                    // Linux tcp_timestamps
};

// What a connection uses once the handshake's options are known.
struct negotiated {
    uint16_t mss = default_mss;     // largest segment we send
    uint8_t snd_wscale = 0;         // the peer's windows are field << snd_wscale
    uint8_t rcv_wscale = 0;         // our window field is window >> rcv_wscale
    bool wscale_ok = false;         // both sides sent window scale
    bool sack_ok = false;           // both sides sent SACK-permitted
    bool ts_ok = false;             // both sides sent timestamps
    uint32_t ts_recent = 0;         // the peer's TSval to echo, if ts_ok
    uint32_t window_clamp = max_unscaled_window; // the largest window we may advertise

    friend bool operator==(const negotiated&, const negotiated&) = default;
};

// Our MSS for a route MTU: MTU - 40 (IPv4 + TCP headers), at least 256 and
// at most 65495, as Linux's ipv4_default_advmss().
uint16_t advmss_for_mtu(uint32_t mtu);

// Linux tcp_select_initial_window(): the smallest shift that lets a window
// of `space` bytes be advertised, ilog2(space) - 15 clamped to 0..14.
uint8_t wscale_for_space(uint32_t space);

// The MSS a peer's SYN announced for cookie and clamp purposes: its option,
// or 536 if absent or zero (Linux ignores an MSS option of 0).
inline uint16_t peer_mss(const syn_options& o) { return o.has_mss && o.mss != 0 ? o.mss : default_mss; }

// The segment size we send: min(peer's, ours), raised to 48.
inline uint16_t send_mss(uint16_t peer, uint16_t ours) { return std::max(min_snd_mss, std::min(peer, ours)); }

// The window field of a SYN or SYN-ACK (never scaled, RFC 7323 §2.2).
inline uint16_t syn_window(const local_settings& s)
{
    return uint16_t(std::min(s.rcv_wnd, max_unscaled_window));
}

// ---- passive open (listener) ------------------------------------------------

// What a SYN answered with a cookie is taken to offer: without timestamps,
// nowhere to keep window scale and SACK, so no options but MSS.
inline syn_options cookie_view(const syn_options& syn)
{
    syn_options o = syn;
    if (!o.has_ts) {
        o.has_wscale = false;
        o.wscale = 0;
        o.sack_ok = false;
    }
    return o;
}

// The connection's options after a SYN (call with cookie_view(syn) when
// answering with a cookie).
inline negotiated negotiate_passive(const syn_options& syn, const local_settings& s)
{
    negotiated n;
    n.mss = send_mss(peer_mss(syn), s.mss);
    n.wscale_ok = syn.has_wscale && s.window_scaling;
    if (n.wscale_ok) {
        n.snd_wscale = std::min(syn.wscale, max_wscale);
        n.rcv_wscale = std::min(s.rcv_wscale, max_wscale);
        n.window_clamp = s.rcv_wnd;
    } else {
        n.window_clamp = std::min(s.rcv_wnd, max_unscaled_window);
    }
    n.sack_ok = syn.sack_ok && s.sack;
    n.ts_ok = syn.has_ts && s.timestamps;
    n.ts_recent = n.ts_ok ? syn.ts_val : 0;
    return n;
}

// The options our SYN-ACK carries for a connection negotiated as `n`:
// MSS always (ours), the rest only where negotiated (i.e. offered by the
// peer and enabled here). tsval = our timestamp clock + the pair's offset
// (for a cookie: syncookie::make_tsval(...) + offset).
inline syn_options synack_options(const negotiated& n, const local_settings& s, uint32_t tsval)
{
    syn_options o;
    o.has_mss = true;
    o.mss = s.mss;
    o.has_wscale = n.wscale_ok;
    o.wscale = n.wscale_ok ? n.rcv_wscale : 0;
    o.sack_ok = n.sack_ok;
    o.has_ts = n.ts_ok;
    o.ts_val = n.ts_ok ? tsval : 0;
    o.ts_ecr = n.ts_ok ? n.ts_recent : 0;
    return o;
}

// What a cookie must remember of a negotiation (its TSval low bits).
inline cookie_options cookie_options_of(const negotiated& n)
{
    cookie_options c;
    c.wscale_ok = n.wscale_ok;
    c.snd_wscale = n.wscale_ok ? n.snd_wscale : 0;
    c.sack_ok = n.sack_ok;
    c.ecn_ok = false;
    return c;
}

// The connection's options rebuilt from a valid cookie ACK: cookie_mss from
// syncookie::check, `decoded` from syncookie::decode_tsecr, and the ACK's
// own timestamp option (Linux cookie_v4_check: tstamp_ok = saw_tstamp,
// ts_recent = its TSval).
inline negotiated negotiate_cookie(uint16_t cookie_mss, const cookie_options& decoded, bool ack_has_ts,
                                   uint32_t ack_tsval, const local_settings& s)
{
    negotiated n;
    n.mss = send_mss(cookie_mss, s.mss);
    n.wscale_ok = decoded.wscale_ok && s.window_scaling;
    if (n.wscale_ok) {
        n.snd_wscale = std::min(decoded.snd_wscale, max_wscale);
        n.rcv_wscale = std::min(s.rcv_wscale, max_wscale);
        n.window_clamp = s.rcv_wnd;
    } else {
        n.window_clamp = std::min(s.rcv_wnd, max_unscaled_window);
    }
    n.sack_ok = decoded.sack_ok && s.sack;
    n.ts_ok = ack_has_ts && s.timestamps;
    n.ts_recent = n.ts_ok ? ack_tsval : 0;
    return n;
}

// ---- active open (connect) --------------------------------------------------

// The options our SYN carries: MSS, and window scale, SACK-permitted and
// timestamps (TSval = tsval, TSecr 0) as enabled.
syn_options syn_options_for(const local_settings& s, uint32_t tsval);

// The connection's options once the SYN-ACK arrives (our SYN having carried
// syn_options_for(s, ...)): each option on only if both sides sent it.
negotiated negotiate_active(const syn_options& synack, const local_settings& s);

} // namespace fg::tcp
