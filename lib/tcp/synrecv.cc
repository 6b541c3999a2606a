// SYN-RECEIVED for passive opens: the request entry waiting for the third
// ACK, in the order Linux's tcp_check_req() checks (which is RFC 9293
// 3.10.7.4 with Linux's answers where the RFC leaves room), and the SYN-ACK
// retransmission timer (Linux reqsk_timer_handler).
#include <cerrno>

#include "net/tcp_options.hh"
#include "tcp/engine.hh"

namespace fg::tcp {

namespace {

constexpr uint32_t paws_msl_ms = 60000; // Linux TCP_PAWS_MSL: an RST older than this is not PAWS-rejected

// Linux tcp_in_window(): is [seq, end_seq) acceptable for a receive window
// [s_win, e_win)? A zero-length segment at the right edge is.
bool in_window(uint32_t seq, uint32_t end_seq, uint32_t s_win, uint32_t e_win)
{
    if (seq == s_win) {
        return true;
    }
    if (seq_gt(end_seq, s_win) && seq_lt(seq, e_win)) {
        return true;
    }
    return seq == e_win && seq == end_seq;
}

} // namespace

void engine::on_syn_received(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi)
{
    if (!c.has(cf_passive)) {
        on_simopen_syn_received(c, slot, m, pi); // synsent.cc
        return;
    }
    // Linux tcp_check_req() looks at RST, SYN and ACK only (a FIN rides along).
    uint8_t flg = pi.tcp_flags & (th_rst | th_syn | th_ack);

    // Timestamps: PAWS against the SYN's TSval, and the TSecr must echo a
    // TSval of one of our SYN-ACKs (Linux: between the first and the last
    // one sent; we take "now" for the last, one SYN-ACK's send time being
    // all a request keeps).
    bool paws_reject = false;
    bool tsecr_reject = false;
    net::tcp_options o;
    if (pi.opt_len != 0 && _cfg.opts.timestamps) {
        net::parse_tcp_options(rte_pktmbuf_mtod(m, const uint8_t*) + pi.opt_off, pi.opt_len, false, o);
        if (o.has_ts) {
            if (o.ts_ecr != 0 && c.has(cf_ts_ok)) {
                const uint32_t first = c.t0 + c.ts_offset;
                tsecr_reject = uint32_t(o.ts_ecr - first) > uint32_t(tsval(c) - first);
            }
            paws_reject = c.ts_recent != 0 && int32_t(c.ts_recent - o.ts_val) > 0 &&
                          !((flg & th_rst) && _now_ms - c.t0 >= paws_msl_ms);
        }
    }

    // A retransmitted SYN (same ISN, of RST/SYN/ACK only SYN): our SYN-ACK
    // was lost. Linux resends it -- at most once per invalid_ratelimit_ms --
    // and restarts the SYN-ACK timer from now.
    if (pi.seq == c.rcv_nxt - 1 && flg == th_syn && !paws_reject) {
        if (!req_oow_limited(c)) {
            _ctr.inc(ctr::synack_dup_syn);
            arm(slot, backoff_ms(c.retries));
            send_synack(c, m);
            return;
        }
        rte_pktmbuf_free(m);
        return;
    }

    // An ACK that does not acknowledge our SYN: "If the segment acknowledgment
    // is not acceptable, form a reset segment <SEQ=SEG.ACK><CTL=RST>" (3.10.7.4
    // fifth, SYN-RECEIVED). Linux hands such a segment to the listener, which
    // resets it and keeps the request. Never a reset for a reset.
    if ((flg & th_ack) && pi.ack != c.iss + 1) {
        _ctr.inc(ctr::bad_ack_synrecv);
        send_reset_for(m, pi, false);
        return;
    }

    // First: sequence number acceptable in [RCV.NXT, RCV.NXT + RCV.WND)
    // (Linux tcp_in_window), timestamps fine? If not, ACK (unless RST; at
    // most once per invalid_ratelimit_ms) and drop.
    const uint32_t end_seq = pi.seq + net::seg_len(pi);
    if (paws_reject || tsecr_reject || !in_window(pi.seq, end_seq, c.rcv_nxt, c.rcv_nxt + syn_window(_cfg.opts))) {
        if (flg & th_rst) {
            drop(m, ctr::rst_out_of_window);
            return;
        }
        _ctr.inc(ctr::synrecv_out_of_window);
        if (req_oow_limited(c)) {
            rte_pktmbuf_free(m);
            return;
        }
        send_ack(c, m);
        return;
    }
    if (o.has_ts && c.has(cf_ts_ok) && seq_leq(pi.seq, c.rcv_nxt)) {
        c.ts_recent = o.ts_val;
    }
    // Linux: "Truncate SYN, it is out of window starting at rcv_isn + 1": a
    // segment that starts with the peer's SYN again but reaches into the
    // window (data) is taken as if it had no SYN.
    if (pi.seq == c.rcv_nxt - 1) {
        flg = uint8_t(flg & ~th_syn);
    }

    // Second (RST) and fourth (SYN): Linux tcp_check_req's embryonic_reset: a
    // RST in the window drops the request silently ("return this connection
    // to LISTEN"); a new SYN in the window is answered with RST and drops it.
    if (flg & th_rst) {
        _ctr.inc(ctr::synrecv_rst);
        drop_request(c, slot);
        rte_pktmbuf_free(m);
        return;
    }
    if (flg & th_syn) {
        _ctr.inc(ctr::synrecv_syn_reset);
        drop_request(c, slot);
        send_reset_for(m, pi, false);
        return;
    }

    // Fifth: "if the ACK bit is off drop the segment and return".
    if (!(flg & th_ack)) {
        drop(m, ctr::synrecv_no_ack_dropped);
        return;
    }

    // The third ACK (SEG.ACK == ISS + 1): "enter ESTABLISHED state" and hand
    // the connection to the listener's accept queue.
    listener* l = _cfg.registry->get(c.listener);
    if (FG_UNLIKELY(l == nullptr)) {
        // unlisten() since the SYN: as Linux after closing a listener, the ACK
        // finds nothing and is reset.
        _ctr.inc(ctr::listener_gone);
        free_conn(c, slot);
        send_reset_for(m, pi, false);
        return;
    }
    c.snd_una = pi.ack;
    c.snd_wnd = pi.window;
    const uint32_t rtt_us = (_now_ms - c.t0) * 1000u;
    if (!enqueue_accept(*l, c, rtt_us)) {
        // Linux with tcp_abort_on_overflow=0: ignore the ACK, keep the request;
        // the SYN-ACK retransmission makes the client ACK again later.
        rte_pktmbuf_free(m);
        return;
    }
    _wheel.cancel(slot);
    leave_syn_queue(c);
    c.st = state::established;
    c.retries = 0;
    c.t0 = 0;    // from now on: when the last out-of-window ACK went (none yet)
    c.spare = 0; // was the request's out-of-window stamp
    _ctr.inc(ctr::accepted);
    if (serve_accepted(*l, c, slot, rtt_us, m, pi)) {
        return; // served on the lcore: the data path (data.cc) took the segment
    }
    start_idle_timer(*l, c, slot);
    // The third ACK may carry data (and even FIN): process it as ESTABLISHED
    // -- unless it began with the peer's SYN again (truncated above): Linux's
    // new socket then meets that SYN and drops the segment; the peer resends.
    if (pi.seq == c.rcv_nxt && (pi.payload_len != 0 || (pi.tcp_flags & th_fin))) {
        if (data_and_fin(c, m, pi)) {
            peer_fin(c, slot);
        }
        return;
    }
    rte_pktmbuf_free(m);
}

void engine::on_synack_timer(conn& c, uint32_t slot)
{
    if (FG_UNLIKELY(_cfg.registry->get(c.listener) == nullptr)) {
        _ctr.inc(ctr::listener_gone);
        free_conn(c, slot);
        return;
    }
    // Linux reqsk_timer_handler: after synack_retries retransmissions (1, 2,
    // 4, 8, 16 s apart by default) and one more timeout (32 s), drop.
    if (c.retries >= _cfg.synack_retries) {
        _ctr.inc(ctr::synack_timeouts);
        drop_request(c, slot);
        return;
    }
    c.retries++;
    _ctr.inc(ctr::synack_retransmits);
    arm(slot, backoff_ms(c.retries));
    send_synack(c, nullptr);
}

bool engine::req_oow_limited(conn& c)
{
    // A request keeps the time of its last out-of-window ACK (or resent
    // SYN-ACK) in conn::spare, in ms modulo 2^16 (0 = none): Linux's
    // per-request last_oow_ack_time, one per invalid_ratelimit_ms.
    const uint16_t now = uint16_t(_now_ms) != 0 ? uint16_t(_now_ms) : 1;
    if (c.spare != 0 && uint16_t(now - c.spare) < _cfg.invalid_ratelimit_ms) {
        _ctr.inc(ctr::oow_ack_rate_limited);
        return true;
    }
    c.spare = now;
    return false;
}

void engine::leave_syn_queue(const conn& c)
{
    if (c.st != state::syn_received || !c.has(cf_passive)) {
        return;
    }
    listener* l = _cfg.registry->get(c.listener);
    if (l != nullptr) {
        listener::lcore_state& ls = l->lcore(_cfg.lcore);
        if (ls.syn_queue_len > 0) {
            ls.syn_queue_len--;
        }
    }
}

void engine::drop_request(conn& c, uint32_t slot)
{
    leave_syn_queue(c);
    free_conn(c, slot);
}

} // namespace fg::tcp
