// The active close (RFC 9293 3.10.4 CLOSE and 3.10.7.4 for the states we
// reach by closing first): FIN-WAIT-1, FIN-WAIT-2, CLOSING and TIME-WAIT,
// and the timers of the active side (SYN retransmission is in synsent.cc).
//
// FIN-WAIT-1/2 and CLOSING use the synchronized-state checks of
// established.cc (sequence acceptability, RFC 5961 RST and SYN handling,
// ACK processing) and its data/FIN step, then change state as the RFC says.
// Their events go to the application's event ring, or to the local sink for
// connections of the lcore's own application (engine::open_local).
// TIME-WAIT follows Linux's tcp_timewait_state_process(): an in-window RST
// kills the entry (tcp_rfc1337=0, the default), a retransmitted FIN or any
// out-of-window segment is ACKed and restarts the 2 MSL timer, a new SYN
// may be handed to a listener (TCP_TW_SYN).
//
// FIN-WAIT-2 ends after fin_timeout (Linux tcp_fin_timeout, 60 s: an
// orphaned FIN-WAIT-2 socket becomes a timewait socket for that long and
// then disappears without a segment). TIME-WAIT ends after time_wait_ms;
// leaving it frees the block, and with it the 4-tuple: the port allocator
// sees the port free again (it asks this engine's table).
#include <cerrno>

#include "net/tcp_options.hh"
#include "tcp/connect.hh"

namespace fg::tcp {

namespace {

constexpr uint32_t paws_msl_ms = 60000; // Linux TCP_PAWS_MSL: an RST is never PAWS-rejected after 60 s
constexpr int32_t paws_window = 1;      // Linux TCP_PAWS_WINDOW: TSvals this far back still pass

} // namespace

void engine::enter_time_wait(conn& c, uint32_t slot)
{
    // "Enter the TIME-WAIT state, start the time-wait timer, turn off the
    // other timers." t0 is from now on when the peer's last TSval arrived
    // (Linux tw_ts_recent_stamp), for tw_reuse.
    c.st = state::time_wait;
    c.retries = 0;
    c.t0 = _now_ms;
    arm(slot, _active->cfg.time_wait_ms);
    _ctr.inc(ctr::time_wait_entered);
    _ctr.inc(ctr::closed);
    post_active(c, event_type::closed, 0);
}

void engine::on_fin_wait_1(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi)
{
    if (!sync_checks(c, slot, m, pi)) {
        return;
    }
    // "In addition to the processing for the ESTABLISHED state, if the FIN
    // segment is now acknowledged, then enter FIN-WAIT-2 and continue
    // processing in that state."
    const bool fin_acked = c.snd_una == c.snd_nxt;
    if (fin_acked) {
        c.st = state::fin_wait_2;
        c.retries = 0;
        arm(slot, _active->cfg.fin_timeout_ms);
    }
    // Eighth, FIN: "If our FIN has been ACKed (perhaps in this segment),
    // then enter TIME-WAIT, start the time-wait timer, turn off the other
    // timers; otherwise, enter the CLOSING state" (the FIN timer runs on).
    if (data_and_fin(c, m, pi)) {
        if (fin_acked) {
            enter_time_wait(c, slot);
        } else {
            c.st = state::closing;
        }
    }
}

void engine::on_fin_wait_2(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi)
{
    if (!sync_checks(c, slot, m, pi)) {
        return;
    }
    // FIN: "Enter the TIME-WAIT state. Start the time-wait timer, turn off
    // the other timers."
    if (data_and_fin(c, m, pi)) {
        enter_time_wait(c, slot);
    }
}

void engine::on_closing(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi)
{
    if (!sync_checks(c, slot, m, pi)) {
        return;
    }
    // "In addition to the processing for the ESTABLISHED state, if the ACK
    // acknowledges our FIN, then enter the TIME-WAIT state; otherwise,
    // ignore the segment." (A retransmitted FIN is ACKed again.)
    if (c.snd_una == c.snd_nxt) {
        enter_time_wait(c, slot);
    }
    data_and_fin(c, m, pi);
}

void engine::on_time_wait(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi)
{
    const uint8_t f = pi.tcp_flags;
    net::tcp_options o;
    if (c.has(cf_ts_ok) && pi.opt_len != 0) {
        net::parse_tcp_options(rte_pktmbuf_mtod(m, const uint8_t*) + pi.opt_off, pi.opt_len, false, o);
    }
    // PAWS (RFC 7323 5.3, Linux tcp_paws_reject): a TSval older than the
    // last one is an old duplicate -- except an RST once 60 s passed.
    const bool paws_reject = o.has_ts && int32_t(c.ts_recent - o.ts_val) > paws_window &&
                             !((f & th_rst) && _now_ms - c.t0 >= paws_msl_ms);

    // In window (exactly RCV.NXT): only an RST or a bare ACK can be there.
    if (!paws_reject && pi.seq == c.rcv_nxt && (net::seg_len(pi) == 0 || (f & th_rst))) {
        if (f & th_rst) {
            // TIME-WAIT assassination (RFC 1337). Linux's default
            // tcp_rfc1337=0 lets the RST free the entry.
            _ctr.inc(ctr::time_wait_killed);
            rte_pktmbuf_free(m);
            free_conn(c, slot);
            return;
        }
        arm(slot, _active->cfg.time_wait_ms); // Linux reschedules TIME-WAIT on it
        if (o.has_ts) {
            c.ts_recent = o.ts_val;
            c.t0 = _now_ms;
        }
        drop(m, ctr::time_wait_dropped);
        return;
    }

    // A new SYN beyond the old incarnation (higher sequence number, or a
    // newer timestamp): Linux TCP_TW_SYN hands it to a listener if there is
    // one, and the TIME-WAIT entry goes. Without a listener it is ACKed.
    if ((f & (th_syn | th_rst | th_ack)) == th_syn && !paws_reject &&
        (seq_gt(pi.seq, c.rcv_nxt) || (o.has_ts && int32_t(c.ts_recent - o.ts_val) < 0)) &&
        find_listener(pi.tuple.laddr, pi.tuple.lport) != nullptr) {
        _ctr.inc(ctr::time_wait_syn);
        free_conn(c, slot);
        on_listen(m, pi);
        return;
    }

    // Everything else out of window -- the peer's retransmitted FIN above
    // all -- is ACKed, and an ACK (or a PAWS-old segment) restarts the
    // timer. An RST here is dropped.
    if (f & th_rst) {
        drop(m, ctr::time_wait_dropped);
        return;
    }
    if (paws_reject || (f & th_ack)) {
        arm(slot, _active->cfg.time_wait_ms);
    }
    _ctr.inc(ctr::time_wait_acks);
    send_ack(c, m);
}

void engine::on_timer_active(conn& c, uint32_t slot)
{
    switch (c.st) {
    case state::syn_sent:
    case state::syn_received:
        on_syn_timer(c, slot);
        return;
    case state::fin_wait_1:
    case state::closing:
        on_fin_timer(c, slot); // close.cc: resend the FIN, or give up after fin_retries
        return;
    case state::fin_wait_2:
        _ctr.inc(ctr::fin_wait_2_timeouts);
        post_active(c, event_type::closed, ETIMEDOUT);
        free_conn(c, slot);
        return;
    case state::time_wait:
        _ctr.inc(ctr::time_wait_expired);
        free_conn(c, slot);
        return;
    default:
        return;
    }
}

} // namespace fg::tcp
