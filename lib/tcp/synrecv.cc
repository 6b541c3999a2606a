// SYN-RECEIVED for passive opens: the request entry waiting for the third
// ACK, in the order Linux's tcp_check_req() checks (which is RFC 9293
// 3.10.7.4 with Linux's answers where the RFC leaves room), and the SYN-ACK
// retransmission timer (Linux reqsk_timer_handler).
#include <cerrno>

#include "net/tcp_options.hh"
#include "tcp/engine.hh"

namespace fg::tcp {

namespace {

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
    const uint8_t f = pi.tcp_flags;

    // A retransmitted SYN (same ISN, nothing else set): the SYN-ACK was lost;
    // send it again (3.10.7.4 "duplicate SYN", Linux: seq == rcv_isn && flg == SYN).
    if ((f & (th_syn | th_ack | th_rst | th_fin)) == th_syn && pi.seq == c.rcv_nxt - 1) {
        _ctr.inc(ctr::synack_dup_syn);
        send_synack(c, m);
        return;
    }

    // An ACK that does not acknowledge our SYN: "If the segment acknowledgment
    // is not acceptable, form a reset segment <SEQ=SEG.ACK><CTL=RST>" (3.10.7.4
    // fifth, SYN-RECEIVED). Linux hands such a segment to the listener, which
    // resets it and keeps the request. Never a reset for a reset.
    if ((f & th_ack) && pi.ack != c.iss + 1) {
        _ctr.inc(ctr::bad_ack_synrecv);
        send_reset_for(m, pi, false);
        return;
    }

    // First: sequence number acceptable in [RCV.NXT, RCV.NXT + RCV.WND)? If
    // not, ACK (unless RST) and drop.
    const uint32_t end_seq = pi.seq + net::seg_len(pi);
    if (!in_window(pi.seq, end_seq, c.rcv_nxt, c.rcv_nxt + syn_window(_cfg.opts))) {
        if (f & th_rst) {
            drop(m, ctr::rst_out_of_window);
            return;
        }
        _ctr.inc(ctr::synrecv_out_of_window);
        send_ack(c, m);
        return;
    }

    // Second (RST) and fourth (SYN): Linux tcp_check_req's embryonic_reset: a
    // RST in the window drops the request silently ("return this connection
    // to LISTEN"); a new SYN in the window is answered with RST and drops it.
    if (f & th_rst) {
        _ctr.inc(ctr::synrecv_rst);
        drop_request(c, slot);
        rte_pktmbuf_free(m);
        return;
    }
    if (f & th_syn) {
        _ctr.inc(ctr::synrecv_syn_reset);
        drop_request(c, slot);
        send_reset_for(m, pi, false);
        return;
    }

    // Fifth: "if the ACK bit is off drop the segment and return".
    if (!(f & th_ack)) {
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
    if (c.has(cf_ts_ok) && pi.opt_len != 0) {
        net::tcp_options o;
        net::parse_tcp_options(rte_pktmbuf_mtod(m, const uint8_t*) + pi.opt_off, pi.opt_len, false, o);
        if (o.has_ts && seq_leq(pi.seq, c.rcv_nxt)) {
            c.ts_recent = o.ts_val;
        }
    }
    const uint32_t rtt_us = (_now_ms - c.t0) * 1000u;
    if (!enqueue_accept(*l, c, rtt_us)) {
        // Linux with tcp_abort_on_overflow=0: ignore the ACK, keep the request;
        // the SYN-ACK retransmission makes the client ACK again later.
        rte_pktmbuf_free(m);
        return;
    }
    _wheel.cancel(slot);
    listener::lcore_state& ls = l->lcore(_cfg.lcore);
    if (ls.syn_queue_len > 0) {
        ls.syn_queue_len--;
    }
    c.st = state::established;
    c.retries = 0;
    _ctr.inc(ctr::accepted);
    if (serve_accepted(*l, c, slot, rtt_us, m, pi)) {
        return; // served on the lcore: the data path (data.cc) took the segment
    }
    // The third ACK may carry data (and even FIN): process it as ESTABLISHED.
    if (pi.payload_len != 0 || (f & th_fin)) {
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

void engine::drop_request(conn& c, uint32_t slot)
{
    listener* l = _cfg.registry->get(c.listener);
    if (l != nullptr) {
        listener::lcore_state& ls = l->lcore(_cfg.lcore);
        if (ls.syn_queue_len > 0) {
            ls.syn_queue_len--;
        }
    }
    free_conn(c, slot);
}

} // namespace fg::tcp
