// SYN-SENT (RFC 9293 3.10.7.3), in the order Linux's
// tcp_rcv_synsent_state_process() checks it, the SYN-RECEIVED of a
// simultaneous open, the transition to ESTABLISHED and the SYN
// retransmission timer.
//
// A simultaneous open moves the connection to SYN-RECEIVED like Linux's
// tcp_set_state(TCP_SYN_RECV): state syn_received without cf_passive. The
// SYN-RECEIVED dispatch (synrecv.cc) sends such connections here
// (on_simopen_syn_received), and its timer is still the SYN timer, which now
// resends the SYN-ACK.
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
    const uint8_t f = pi.tcp_flags;

    // First: check the ACK bit. "If SEG.ACK =< ISS or SEG.ACK > SND.NXT,
    // send a reset (unless the RST bit is set, if so drop the segment and
    // return) <SEQ=SEG.ACK><CTL=RST>, and discard the segment."
    net::tcp_options o;
    if (f & th_ack) {
        if (seq_leq(pi.ack, c.iss) || seq_gt(pi.ack, c.snd_nxt)) {
            // Linux: "Previous FIN/ACK or RST/ACK might be ignored": if the
            // SYN was not retransmitted yet, the timer fires almost at once
            // (TCP_TIMEOUT_MIN), so the peer -- whose old connection this
            // segment came from -- gets our SYN again right after the RST.
            if (c.retries == 0) {
                arm(slot, timeout_min_ms);
            }
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
        // open. Linux: tcp_set_state(TCP_SYN_RECV); the SYN-ACK is the SYN
        // in the retransmit queue with ACK added, so it carries the options
        // of our SYN whatever the peer's SYN offered, TSecr = the peer's
        // TSval; the SYN timer keeps running and now resends the SYN-ACK.)
        // The connection then uses each option only if both SYNs carried it.
        o = parse_options(m, pi, true);
        local_settings s = _cfg.opts;
        s.mss = c.mss;
        const negotiated n = negotiate_active(to_syn_options(o), s);
        c.rcv_nxt = pi.seq + 1; // a SYN's data is not taken (Linux discards it here too)
        c.snd_wnd = pi.window;
        c.mss = n.mss;
        c.ts_recent = o.has_ts ? o.ts_val : 0;
        c.flags = uint8_t((c.flags & ~(cf_ts_ok | cf_sack_ok | cf_ws_ok)) | (n.ts_ok ? cf_ts_ok : 0) |
                          (n.sack_ok ? cf_sack_ok : 0) | (n.wscale_ok ? cf_ws_ok : 0));
        c.set_wscale(n.snd_wscale, n.rcv_wscale);
        c.st = state::syn_received;
        _ctr.inc(ctr::simultaneous_opens);
        rte_pktmbuf_free(m);
        send_syn(c);
        return;
    }

    // Fifth: "If neither of the SYN or RST bits is set, then drop the
    // segment and return."
    drop(m, ctr::synsent_no_syn);
}

void engine::on_simopen_syn_received(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi)
{
    // SYN-RECEIVED of a simultaneous open, as Linux's tcp_rcv_state_process()
    // handles a full socket in TCP_SYN_RECV: segments with none of SYN, ACK,
    // RST are dropped; tcp_validate_incoming() (sequence, RST, SYN); then
    // the ACK must acknowledge our SYN or the segment is answered with RST.
    const uint8_t f = pi.tcp_flags;
    if (!(f & (th_syn | th_ack | th_rst))) {
        drop(m, ctr::simopen_dropped);
        return;
    }

    // First: sequence acceptability, Linux's tcp_sequence(): not entirely
    // before RCV.NXT, not beginning beyond RCV.NXT + RCV.WND. Unacceptable:
    // a SYN gets a challenge ACK, an RST is dropped, anything else a
    // duplicate ACK.
    const uint32_t wnd = syn_window(_cfg.opts);
    if (seq_lt(pi.seq + net::seg_len(pi), c.rcv_nxt) || seq_gt(pi.seq, c.rcv_nxt + wnd)) {
        if (f & th_rst) {
            drop(m, ctr::rst_out_of_window);
        } else if (f & th_syn) {
            send_challenge_ack(c, m);
        } else {
            _ctr.inc(ctr::simopen_dropped);
            send_dupack(c, m, pi);
        }
        return;
    }
    // Second, RST (RFC 5961 3.2): exactly RCV.NXT resets the connection
    // (Linux tcp_reset in SYN_RECV: ECONNRESET); elsewhere in the window, a
    // challenge ACK.
    if (f & th_rst) {
        if (pi.seq == c.rcv_nxt) {
            rte_pktmbuf_free(m);
            finish_active(c, slot, ctr::refused, event_type::refused, ECONNRESET);
            return;
        }
        send_challenge_ack(c, m);
        return;
    }
    // Fourth, SYN: the peer's SYN-ACK to our SYN -- its SYN already counted
    // (SEG.SEQ + 1 == RCV.NXT), no data, ACKing exactly our SYN -- goes on
    // (Linux tcp_validate_incoming's one exception in SYN_RECV); any other
    // SYN, its plain SYN again included, gets a challenge ACK (RFC 5961 4.2).
    if (f & th_syn) {
        if (!((f & th_ack) && pi.payload_len == 0 && !(f & th_fin) && pi.seq + 1 == c.rcv_nxt &&
              pi.ack == c.snd_nxt)) {
            send_challenge_ack(c, m);
            return;
        }
    }
    // Fifth, ACK: "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED";
    // otherwise "form a reset segment <SEQ=SEG.ACK><CTL=RST>" (Linux: one
    // RST, the connection stays).
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
    if (c.has(cf_ts_ok) && pi.opt_len != 0) {
        const net::tcp_options o = parse_options(m, pi, false);
        if (o.has_ts && seq_leq(pi.seq, c.rcv_nxt)) {
            c.ts_recent = o.ts_val;
        }
    }
    // Linux goes on with the segment in ESTABLISHED: data and FIN riding on
    // the ACK are taken (tcp_data_queue). The peer's SYN-ACK has neither.
    const bool more = !(f & th_syn) && (pi.payload_len != 0 || (f & th_fin));
    if (!more) {
        active_established(c, slot, m, false);
        return;
    }
    active_established(c, slot, nullptr, false);
    const conn* still = find(c.tuple);
    if (still != &c || c.st != state::established) {
        rte_pktmbuf_free(m); // the generator's close mode already ended it
        return;
    }
    if (data_and_fin(c, m, pi)) {
        peer_fin(c, slot);
    }
}

void engine::active_established(conn& c, uint32_t slot, rte_mbuf* m, bool send_final_ack)
{
    // Karn: no RTT sample from a handshake whose SYN was sent again.
    const bool retransmitted = c.retries != 0;
    const uint32_t rtt_us = retransmitted ? 0 : rtt_stamp() - c.t0;
    _wheel.cancel(slot);
    c.st = state::established;
    c.retries = 0;
    c.t0 = 0; // ESTABLISHED: when the last out-of-window ACK went (none yet)
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
    } else if (m != nullptr) {
        rte_pktmbuf_free(m);
    }
    post_active(c, event_type::established, 0, rtt_us);
}

uint32_t engine::syn_backoff_ms(const conn& c) const
{
    // Linux tcp_retransmit_timer: the RTO doubles after each retransmission,
    // except in SYN-SENT while tcp_syn_linear_timeouts (Linux 6.5+) says the
    // first N retransmissions keep the initial RTO. A simultaneous open's
    // SYN-RECEIVED backs off from the linear phase on.
    const uint32_t linear = _active->cfg.syn_linear_timeouts;
    return backoff_ms(c.retries > linear ? c.retries - linear : 0);
}

uint32_t engine::syn_model_timeout_ms() const
{
    // Linux tcp_model_timeout(): how long syn_retries retransmissions take
    // with the classic backoff from the initial RTO -- doubling up to the
    // RTO cap, then linear at the cap.
    const uint32_t boundary = _active->cfg.syn_retries;
    uint32_t thresh = 0;
    while (thresh < 31 && (uint64_t(_cfg.rto_initial_ms) << (thresh + 1)) <= _cfg.rto_max_ms) {
        thresh++; // ilog2(rto_max / rto_initial)
    }
    if (boundary <= thresh) {
        return uint32_t(((uint64_t(2) << boundary) - 1) * _cfg.rto_initial_ms);
    }
    return uint32_t(((uint64_t(2) << thresh) - 1) * _cfg.rto_initial_ms + uint64_t(boundary - thresh) * _cfg.rto_max_ms);
}

void engine::on_syn_timer(conn& c, uint32_t slot)
{
    // Linux tcp_retransmit_timer / tcp_write_timeout in SYN-SENT (and a
    // simultaneous open's SYN-RECEIVED): resend the SYN (SYN-ACK) until
    // either syn_retries retransmissions went unanswered -- plus the linear
    // ones in SYN-SENT (tcp_write_timeout adds tcp_syn_linear_timeouts there)
    // -- or, once one was sent, the time since the first SYN reaches what
    // syn_retries take with the classic backoff (retransmits_timed_out):
    // linear timeouts send more SYNs within that time, not for longer.
    // Then ETIMEDOUT.
    const uint32_t max = _active->cfg.syn_retries + (c.st == state::syn_sent ? _active->cfg.syn_linear_timeouts : 0u);
    // t0: the first SYN (rtt_stamp, us). The timers run on the loop's ms
    // clock, which lags the us clock by up to a tick plus a loop iteration
    // when the first SYN's timer is armed: a timer due at exactly the model
    // time can fire when the us clock says 6999.x ms of 7000 (seen: a sixth
    // retransmission instead of ETIMEDOUT). Round up and allow one more tick.
    const uint32_t elapsed_ms = (rtt_stamp() - c.t0 + 999u) / 1000u + 1u;
    if (c.retries >= max || (c.retries != 0 && elapsed_ms >= syn_model_timeout_ms())) {
        finish_active(c, slot, ctr::timed_out, event_type::timed_out, ETIMEDOUT);
        return;
    }
    c.retries++;
    _ctr.inc(ctr::syn_retransmits);
    arm(slot, syn_backoff_ms(c));
    send_syn(c);
}

} // namespace fg::tcp
