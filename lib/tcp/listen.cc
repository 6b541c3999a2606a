// LISTEN (RFC 9293 3.10.7.2) and the passive-open paths that start from a
// table miss: a SYN becomes a request entry (SYN-RECEIVED) or a SYN-cookie
// SYN-ACK; an ACK is tried as a cookie or answered with RST; a segment to a
// port nobody listens on gets RFC 9293 3.10.7.1's RST (rate limited).
// Linux: tcp_v4_rcv -> tcp_v4_do_rcv (LISTEN) -> tcp_rcv_state_process /
// tcp_conn_request / cookie_v4_check.
#include <algorithm>
#include <cerrno>

#include <rte_tcp.h>

#include "net/tcp_options.hh"
#include "table/listener_table.hh"
#include "tcp/engine.hh"

namespace fg::tcp {

listener* engine::find_listener(rte_be32_t laddr, rte_be16_t lport) const
{
    if (_cfg.listeners == nullptr) {
        return nullptr;
    }
    const table::listener_table::entry* e = _cfg.listeners->lookup(laddr, lport);
    if (e == nullptr || !e->listening || e->user == nullptr) {
        return nullptr;
    }
    return static_cast<listener*>(e->user);
}

void engine::on_listen(rte_mbuf* m, const net::pkt_info& pi, const listen_pre* pre)
{
    listener* l = pre != nullptr && pre->looked_up ? pre->l : find_listener(pi.tuple.laddr, pi.tuple.lport);
    if (l == nullptr) {
        on_no_listener(m, pi);
        return;
    }
    const uint8_t f = pi.tcp_flags;
    // 3.10.7.2 first: "check for an RST. An incoming RST should be ignored."
    // (Linux drops SYN+RST here too, before looking at SYN.)
    if (f & th_rst) {
        drop(m, (f & th_syn) ? ctr::synrst_dropped : ctr::listen_rst_ignored);
        return;
    }
    // Second: "check for an ACK. Any acknowledgment is bad if it arrives on a
    // connection still in the LISTEN state. An acceptable reset segment should
    // be formed for any arriving ACK-bearing segment: <SEQ=SEG.ACK><CTL=RST>."
    // Except a SYN cookie: Linux cookie_v4_check() tries every ACK without SYN
    // while this listener sent cookies in the last two minutes.
    if (f & th_ack) {
        if (!(f & th_syn) && l->cookie_mode() != syncookie_mode::never && l->lcore(_cfg.lcore).recent.recent(_now_ms)) {
            on_cookie_ack(*l, m, pi, pre);
            return;
        }
        _ctr.inc(ctr::listen_ack_rst);
        send_reset_for(m, pi, false);
        return;
    }
    // Third: "check for a SYN". SYN+FIN is nonsense: dropped (Linux too).
    if (f & th_syn) {
        if (f & th_fin) {
            drop(m, ctr::synfin_dropped);
            return;
        }
        on_syn(*l, m, pi, pre);
        return;
    }
    // Fourth: "other control or text-bearing segments ... drop the segment".
    drop(m, (f & th_fin) ? ctr::listen_no_syn_dropped : ctr::noflags_dropped);
}

void engine::on_no_listener(rte_mbuf* m, const net::pkt_info& pi)
{
    // 3.10.7.1 CLOSED: "An incoming segment containing a RST is discarded. An
    // incoming segment not containing a RST causes a RST to be sent": RST
    // <SEQ=SEG.ACK>, or <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. Rate
    // limited per lcore: a scan of closed ports must not turn us into a
    // reflector at line rate.
    _ctr.inc(ctr::no_listener);
    send_reset_for(m, pi, true);
}

void engine::on_syn(listener& l, rte_mbuf* m, const net::pkt_info& pi, const listen_pre* pre)
{
    if (pre != nullptr && pre->kind != pre_syn) {
        pre = nullptr;
    }
    _ctr.inc(ctr::syn_received);
    // Linux tcp_conn_request: a full accept queue drops the SYN
    // (LINUX_MIB_LISTENOVERFLOWS): no point answering what cannot be accepted.
    if (FG_UNLIKELY(rte_ring_full(l.accept_ring()))) {
        drop(m, ctr::syn_accept_queue_full);
        return;
    }
    net::tcp_options parsed;
    if (pre != nullptr) {
        parsed = pre->syn; // input_burst parsed it already
    } else {
        net::parse_tcp_options(rte_pktmbuf_mtod(m, const uint8_t*) + pi.opt_off, pi.opt_len, true, parsed);
    }
    const syn_options syn = to_syn_options(parsed);

    listener::lcore_state& ls = l.lcore(_cfg.lcore);
    const bool full = ls.syn_queue_len >= l.syn_share();
    bool cookie = false;
    switch (l.cookie_mode()) {
    case syncookie_mode::always: // tcp_syncookies=2
        cookie = true;
        break;
    case syncookie_mode::automatic: // tcp_syncookies=1: only when this lcore's share is full
        if (full) {
            _ctr.inc(ctr::syn_queue_full_cookies);
            cookie = true;
        }
        break;
    case syncookie_mode::never: // tcp_syncookies=0
        if (full) {
            drop(m, ctr::syn_queue_overflows);
            return;
        }
        break;
    }

    if (cookie) {
        // No state at all: the SYN-ACK's ISN is the cookie and, when the peer
        // does timestamps, our TSval's low 6 bits carry wscale/SACK
        // (Linux cookie_v4_init_sequence + cookie_init_timestamp).
        // (input_burst hashed the whole burst's cookies and offsets lane by lane.)
        const negotiated n = negotiate_passive(cookie_view(syn), _cfg.opts);
        const uint32_t isn = pre != nullptr && pre->has_cookie
                                            ? pre->cookie
                                            : _cfg.cookies->make(pi.tuple, pi.seq, peer_mss(syn),
                                                                 syncookie::count_from_ms(_now_ms), nullptr);
        const uint32_t ts_off = !n.ts_ok ? 0 : pre != nullptr ? pre->ts_off : _cfg.isn->ts_offset(pi.tuple);
        const uint32_t tsv = n.ts_ok ? syncookie::make_tsval(_now_ms, cookie_options_of(n)) + ts_off : 0;
        const net::tcp_options o = synack_net_options(synack_options(n, _cfg.opts, tsv));
        ls.recent.note_sent(_now_ms);
        _ctr.inc(ctr::cookies_sent);
        _ctr.inc(ctr::synack_sent);
        send_segment(pi.tuple, m, th_syn | th_ack, isn, pi.seq + 1, syn_window(_cfg.opts), &o);
        return;
    }

    // A request entry: a conn block in SYN-RECEIVED, in the established table
    // (so the third ACK is an ordinary lookup), with the SYN-ACK timer armed.
    const uint32_t slot = new_conn(pi.tuple);
    if (FG_UNLIKELY(slot == UINT32_MAX)) {
        rte_pktmbuf_free(m); // counted by new_conn (pool_exhausted / table_full)
        return;
    }
    const negotiated n = negotiate_passive(syn, _cfg.opts);
    conn& c = at(slot);
    c.iss = _cfg.isn->isn(pi.tuple, uint64_t(_now_ms) * 1000000u);
    c.snd_una = c.iss;
    c.snd_nxt = c.iss + 1;
    c.rcv_nxt = pi.seq + 1; // a SYN's payload (TFO) is not accepted: the peer sends it again
    c.ts_recent = n.ts_recent;
    c.ts_offset = !n.ts_ok ? 0 : pre != nullptr ? pre->ts_off : _cfg.isn->ts_offset(pi.tuple);
    c.t0 = _now_ms;
    c.mss = n.mss;
    c.snd_wnd = pi.window; // a SYN's window is never scaled (RFC 7323 2.2)
    c.st = state::syn_received;
    c.flags = uint8_t(cf_passive | (n.ts_ok ? cf_ts_ok : 0) | (n.sack_ok ? cf_sack_ok : 0) |
                      (n.wscale_ok ? cf_ws_ok : 0));
    c.set_wscale(n.snd_wscale, n.rcv_wscale);
    c.retries = 0;
    c.listener = l.ref();
    ls.syn_queue_len++;
    _ctr.inc(ctr::requests_created);
    _ctr.inc(ctr::synack_sent);
    arm(slot, backoff_ms(0));
    send_synack(c, m);
}

void engine::on_cookie_ack(listener& l, rte_mbuf* m, const net::pkt_info& pi, const listen_pre* pre)
{
    if (pre != nullptr && pre->kind != pre_ack) {
        pre = nullptr;
    }
    // Linux cookie_v4_check(): the ACK acknowledges our cookie (ack - 1) for
    // the client ISN (seq - 1) less than two minutes old; its TSecr gives back
    // the options. Invalid: LINUX_MIB_SYNCOOKIESFAILED and the listener's
    // answer to a stray ACK, RST <SEQ=SEG.ACK>.
    uint16_t mss = pre != nullptr ? pre->mss : 0; // input_burst checked the whole burst's cookies
    bool ok = pre != nullptr ? mss != 0
                             : _cfg.cookies->check_ack(pi.tuple, pi.seq, pi.ack, syncookie::count_from_ms(_now_ms), &mss);
    net::tcp_options parsed;
    cookie_options co;
    uint32_t ts_off = 0;
    if (ok) {
        net::parse_tcp_options(rte_pktmbuf_mtod(m, const uint8_t*) + pi.opt_off, pi.opt_len, false, parsed);
        ts_off = pre != nullptr ? pre->ts_off : _cfg.isn->ts_offset(pi.tuple);
        const cookie_policy policy{_cfg.opts.timestamps, _cfg.opts.sack, _cfg.opts.window_scaling, false};
        ok = syncookie::decode_tsecr(parsed.has_ts, syncookie::tsecr_without_offset(parsed.ts_ecr, ts_off), policy,
                                     co);
    }
    if (!ok) {
        _ctr.inc(ctr::cookies_rejected);
        send_reset_for(m, pi, false);
        return;
    }
    const negotiated n = negotiate_cookie(mss, co, parsed.has_ts, parsed.ts_val, _cfg.opts);
    const uint32_t slot = new_conn(pi.tuple);
    if (FG_UNLIKELY(slot == UINT32_MAX)) {
        rte_pktmbuf_free(m); // counted by new_conn
        return;
    }
    conn& c = at(slot);
    c.iss = pi.ack - 1;
    c.snd_una = pi.ack;
    c.snd_nxt = pi.ack;
    c.rcv_nxt = pi.seq;
    c.ts_recent = n.ts_recent;
    c.ts_offset = n.ts_ok ? ts_off : 0;
    c.t0 = 0; // ESTABLISHED: when the last out-of-window ACK went (none yet)
    c.mss = n.mss;
    c.snd_wnd = pi.window;
    c.st = state::established;
    c.flags = uint8_t(cf_passive | cf_from_cookie | (n.ts_ok ? cf_ts_ok : 0) | (n.sack_ok ? cf_sack_ok : 0) |
                      (n.wscale_ok ? cf_ws_ok : 0));
    c.set_wscale(n.snd_wscale, n.rcv_wscale);
    c.listener = l.ref();
    // Linux tcp_v4_syn_recv_sock: a full accept queue drops the ACK (the
    // client retransmits its data or FIN, and that ACK is a cookie again).
    if (!enqueue_accept(l, c, 0)) {
        free_conn(c, slot);
        rte_pktmbuf_free(m);
        return;
    }
    _ctr.inc(ctr::cookies_accepted);
    _ctr.inc(ctr::accepted);
    if (serve_accepted(l, c, slot, 0, m, pi)) {
        return; // served on the lcore: the data path (data.cc) took the segment
    }
    start_idle_timer(l, c, slot);
    if (pi.payload_len != 0 || (pi.tcp_flags & th_fin)) {
        if (data_and_fin(c, m, pi)) {
            peer_fin(c, slot);
        }
        return;
    }
    rte_pktmbuf_free(m);
}

void engine::start_idle_timer(const listener& l, conn& c, uint32_t slot)
{
    const uint32_t idle = l.options().idle_timeout_ms;
    if (idle == 0 || !c.has(cf_auto) || is_stream(slot)) {
        return;
    }
    c.retries = 0; // quarters of idle_timeout_ms without a segment
    arm(slot, std::max<uint32_t>(1, idle / 4));
}

void engine::on_idle_timer(conn& c, uint32_t slot)
{
    const listener* l = _cfg.registry->get(c.listener);
    const uint32_t idle = l != nullptr ? l->options().idle_timeout_ms : 0;
    if (idle == 0) {
        return; // the listener is gone or changed: the connection stays as held ones without a limit do
    }
    // A segment resets the count but not the timer's phase: the quarter it
    // came in counts as quiet only in part, so the fifth quiet quarter --
    // at least idle_timeout_ms of silence -- closes it.
    if (++c.retries < 5) {
        arm(slot, std::max<uint32_t>(1, idle / 4));
        return;
    }
    // 3.10.4 CLOSE in ESTABLISHED on behalf of the absent application.
    _ctr.inc(ctr::idle_timeouts);
    c.set(cf_app_closed);
    c.st = state::fin_wait_1;
    c.retries = 0;
    arm(slot, backoff_ms(0));
    send_fin(c, nullptr);
}

bool engine::enqueue_accept(listener& l, conn& c, uint32_t rtt_us)
{
    if (l.options().on_accept == accept_action::hold || l.options().on_accept == accept_action::serve) {
        c.set(cf_auto);
        return true;
    }
    event e;
    fill_event(e, c, event_type::accepted, 0);
    e.rtt_us = rtt_us;
    if (FG_UNLIKELY(rte_ring_mp_enqueue_elem(l.accept_ring(), &e, sizeof(e)) != 0)) {
        _ctr.inc(ctr::accept_queue_overflows);
        return false;
    }
    return true;
}

} // namespace fg::tcp
