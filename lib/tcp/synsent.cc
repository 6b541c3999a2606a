// SYN-SENT (RFC 9293 3.10.7.3), in the order Linux's
// tcp_rcv_synsent_state_process() checks it, the SYN-RECEIVED of a
// simultaneous open, the transition to ESTABLISHED and the SYN
// retransmission timer.
//
// A simultaneous open keeps the connection in state syn_sent with
// af_simopen set rather than moving it to syn_received: the passive side's
// SYN-RECEIVED handler and SYN-ACK timer belong to listeners (they look the
// listener up and drop the request when there is none), so the active side
// completes its own simultaneous opens here (on_simopen).
#include <cerrno>

#include "net/tcp_options.hh"
#include "tcp/connect.hh"

namespace fg::tcp {

namespace {

// Linux between(seq, low, high): low <= seq <= high, modulo 2^32.
bool between(uint32_t seq, uint32_t low, uint32_t high)
{
    return high - low >= seq - low;
}

net::tcp_options parse_options(const rte_mbuf* m, const net::pkt_info& pi, bool syn)
{
    net::tcp_options o;
    net::parse_tcp_options(rte_pktmbuf_mtod(m, const uint8_t*) + pi.opt_off, pi.opt_len, syn, o);
    return o;
}

} // namespace

void engine::on_syn_sent(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi)
{
    if (c.spare & af_simopen) {
        on_simopen(c, slot, m, pi);
        return;
    }
    const uint8_t f = pi.tcp_flags;

    // First: check the ACK bit. "If SEG.ACK =< ISS or SEG.ACK > SND.NXT,
    // send a reset (unless the RST bit is set, if so drop the segment and
    // return) <SEQ=SEG.ACK><CTL=RST>, and discard the segment."
    net::tcp_options o;
    if (f & th_ack) {
        if (seq_leq(pi.ack, c.iss) || seq_gt(pi.ack, c.snd_nxt)) {
            if (f & th_rst) {
                drop(m, ctr::synsent_bad_ack_rst);
                return;
            }
            _ctr.inc(ctr::synsent_bad_ack);
            send_reset_for(m, pi, false);
            return;
        }
        // Linux (LINUX_MIB_PAWSACTIVEREJECTED): a TSecr that is not between
        // our first SYN's TSval and now echoes no SYN of ours: reset.
        o = parse_options(m, pi, (f & th_syn) != 0);
        if (_cfg.opts.timestamps && o.has_ts && o.ts_ecr != 0 && !between(o.ts_ecr, c.ts_recent, tsval(c))) {
            if (f & th_rst) {
                drop(m, ctr::synsent_bad_ack_rst);
                return;
            }
            _ctr.inc(ctr::paws_active_rejected);
            send_reset_for(m, pi, false);
            return;
        }
    }

    // Second: check the RST bit. "If the ACK was acceptable, then signal to
    // the user 'error: connection reset', drop the segment, enter CLOSED
    // state, delete TCB, and return. Otherwise (no ACK), drop the segment
    // and return." (Linux: ECONNREFUSED.)
    if (f & th_rst) {
        if (f & th_ack) {
            rte_pktmbuf_free(m);
            finish_active(c, slot, ctr::refused, event_type::refused, ECONNREFUSED);
            return;
        }
        drop(m, ctr::synsent_rst_no_ack);
        return;
    }

    // Third: security -- not used.

    // Fourth: check the SYN bit.
    if (f & th_syn) {
        if (f & th_ack) {
            // "If SND.UNA > ISS (our SYN has been ACKed), change the
            // connection state to ESTABLISHED, form an ACK segment
            // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and send it." Options as
            // Linux negotiates them: each on only if both SYNs carried it;
            // TSecr echoes the SYN-ACK's TSval. A SYN-ACK's data or FIN is
            // not taken: RCV.NXT covers the SYN only, so the peer resends.
            local_settings s = _cfg.opts;
            s.mss = c.mss;
            const negotiated n = negotiate_active(to_syn_options(o), s);
            c.rcv_nxt = pi.seq + 1;
            c.snd_una = pi.ack;
            c.snd_wnd = pi.window; // never scaled in a SYN (RFC 7323 2.2)
            c.mss = n.mss;
            c.ts_recent = n.ts_recent;
            c.flags = uint8_t((c.flags & ~(cf_ts_ok | cf_sack_ok | cf_ws_ok)) | (n.ts_ok ? cf_ts_ok : 0) |
                              (n.sack_ok ? cf_sack_ok : 0) | (n.wscale_ok ? cf_ws_ok : 0));
            c.set_wscale(n.snd_wscale, n.rcv_wscale);
            active_established(c, slot, m, true);
            return;
        }
        // "Otherwise, enter SYN-RECEIVED, form a SYN,ACK segment
        // <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and send it." (Simultaneous
        // open; Linux: the SYN timer keeps running and now resends the
        // SYN-ACK, under the same syn_retries.)
        o = parse_options(m, pi, true);
        local_settings s = _cfg.opts;
        s.mss = c.mss;
        const negotiated n = negotiate_active(to_syn_options(o), s);
        c.rcv_nxt = pi.seq + 1;
        c.snd_wnd = pi.window;
        c.mss = n.mss;
        c.ts_recent = n.ts_recent;
        c.flags = uint8_t((c.flags & ~(cf_ts_ok | cf_sack_ok | cf_ws_ok)) | (n.ts_ok ? cf_ts_ok : 0) |
                          (n.sack_ok ? cf_sack_ok : 0) | (n.wscale_ok ? cf_ws_ok : 0));
        c.set_wscale(n.snd_wscale, n.rcv_wscale);
        c.spare = uint16_t(c.spare | af_simopen);
        _ctr.inc(ctr::simultaneous_opens);
        rte_pktmbuf_free(m);
        send_syn(c);
        return;
    }

    // Fifth: "If neither of the SYN or RST bits is set, then drop the
    // segment and return."
    drop(m, ctr::synsent_no_syn);
}

void engine::on_simopen(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi)
{
    const uint8_t f = pi.tcp_flags;

    // The peer's SYN-ACK to our SYN: our SYN is ACKed, its SYN already
    // counted. Linux tcp_validate_incoming lets exactly this one through in
    // SYN-RECEIVED; RFC 9293 figure 8 line 6: ESTABLISHED, nothing to send.
    if ((f & (th_syn | th_ack | th_rst)) == (th_syn | th_ack) && pi.seq + 1 == c.rcv_nxt && pi.ack == c.snd_nxt) {
        c.snd_una = pi.ack;
        c.snd_wnd = pi.window;
        active_established(c, slot, m, false);
        return;
    }
    // Its SYN again: our SYN-ACK was lost; resend it.
    if ((f & (th_syn | th_ack | th_rst | th_fin)) == th_syn && pi.seq + 1 == c.rcv_nxt) {
        rte_pktmbuf_free(m);
        send_syn(c);
        return;
    }

    // 3.10.7.4 first: sequence acceptability (RCV.WND: our SYN window).
    const uint32_t wnd = syn_window(_cfg.opts);
    if (!(seq_leq(c.rcv_nxt, pi.seq) && seq_lt(pi.seq, c.rcv_nxt + wnd))) {
        if (f & th_rst) {
            drop(m, ctr::rst_out_of_window);
            return;
        }
        _ctr.inc(ctr::simopen_dropped);
        send_ack(c, m);
        return;
    }
    // Second, RST (RFC 5961 3.2): exactly RCV.NXT -- "If this connection was
    // initiated with an active OPEN, the connection was refused"; elsewhere
    // in the window, a challenge ACK.
    if (f & th_rst) {
        if (pi.seq == c.rcv_nxt) {
            rte_pktmbuf_free(m);
            finish_active(c, slot, ctr::refused, event_type::refused, ECONNREFUSED);
            return;
        }
        send_challenge_ack(c, m);
        return;
    }
    // Fourth, SYN (RFC 5961 4.2): a challenge ACK.
    if (f & th_syn) {
        send_challenge_ack(c, m);
        return;
    }
    // Fifth, ACK: "if the ACK bit is off drop the segment"; "If SND.UNA <
    // SEG.ACK =< SND.NXT, then enter ESTABLISHED"; otherwise "form a reset
    // segment <SEQ=SEG.ACK><CTL=RST>". Data or FIN riding on this ACK is
    // not taken (the peer resends it).
    if (!(f & th_ack)) {
        drop(m, ctr::simopen_dropped);
        return;
    }
    if (pi.ack != c.snd_nxt) {
        _ctr.inc(ctr::synsent_bad_ack);
        send_reset_for(m, pi, false);
        return;
    }
    c.snd_una = pi.ack;
    c.snd_wnd = pi.window;
    if (c.has(cf_ts_ok)) {
        const net::tcp_options o = parse_options(m, pi, false);
        if (o.has_ts) {
            c.ts_recent = o.ts_val;
        }
    }
    active_established(c, slot, m, false);
}

void engine::active_established(conn& c, uint32_t slot, rte_mbuf* m, bool send_final_ack)
{
    // Karn: no RTT sample from a handshake whose SYN was sent again.
    const bool retransmitted = c.retries != 0;
    const uint32_t rtt_us = retransmitted ? 0 : rtt_stamp() - c.t0;
    _wheel.cancel(slot);
    c.st = state::established;
    c.retries = 0;
    c.spare = uint16_t(c.spare & ~af_simopen);
    c.t0 = _now_ms;
    _ctr.inc(ctr::established);
    if (!retransmitted) {
        _active->rtt.record(rtt_us);
    }
    if ((c.spare & af_local) && _cfg.active_app != nullptr) {
        // The local application's stream app has an exchange to run first
        // (data.cc): its first segment carries the ACK of the SYN-ACK. The
        // `established` event follows when the stream finishes.
        if (!send_final_ack) {
            rte_pktmbuf_free(m);
            m = nullptr;
        }
        open_stream(c, slot, retransmitted ? 0 : rtt_us, m, nullptr);
        return;
    }
    if (send_final_ack) {
        send_ack(c, m);
    } else {
        rte_pktmbuf_free(m);
    }
    post_active(c, event_type::established, 0, rtt_us);
}

void engine::on_syn_timer(conn& c, uint32_t slot)
{
    // Linux tcp_retransmit_timer / tcp_write_timeout in SYN-SENT (and a
    // simultaneous open's SYN-RECEIVED): resend with the RTO doubled until
    // syn_retries retransmissions went unanswered, then ETIMEDOUT.
    if (c.retries >= _active->cfg.syn_retries) {
        finish_active(c, slot, ctr::timed_out, event_type::timed_out, ETIMEDOUT);
        return;
    }
    c.retries++;
    _ctr.inc(ctr::syn_retransmits);
    arm(slot, backoff_ms(c.retries));
    send_syn(c);
}

} // namespace fg::tcp
