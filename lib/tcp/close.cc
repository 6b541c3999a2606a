// Application close and abort (RFC 9293 3.10.4 CLOSE, 3.10.5 ABORT) and the
// FIN retransmission timer. A handle that no longer names a live connection
// of this lcore is counted (stale_handle) and ignored.
#include <cerrno>

#include "tcp/engine.hh"

namespace fg::tcp {

void engine::cmd_close(const cmd& k)
{
    const conn* found = find(k.h);
    if (found == nullptr) {
        _ctr.inc(ctr::stale_handle);
        return;
    }
    conn& c = const_cast<conn&>(*found);
    const uint32_t slot = slot_of(c);
    switch (c.st) {
    case state::syn_sent:
        // "Delete the TCB and return 'error: closing' responses to any queued
        // SENDs, or RECEIVEs."
        _ctr.inc(ctr::closed);
        free_conn(c, slot);
        return;
    case state::syn_received:
    case state::established:
        // "Queue this until all preceding SENDs have been segmentized, then
        // form a FIN segment and send it. In any case, enter FIN-WAIT-1."
        // (We never send data: the FIN goes now.)
        leave_syn_queue(c);
        c.set(cf_app_closed);
        c.st = state::fin_wait_1;
        c.retries = 0;
        arm(slot, backoff_ms(0));
        send_fin(c, nullptr);
        return;
    case state::close_wait:
        // "Queue this request until all preceding SENDs have been segmentized;
        // then send a FIN segment, enter LAST-ACK state."
        c.set(cf_app_closed);
        c.st = state::last_ack;
        c.retries = 0;
        arm(slot, backoff_ms(0));
        send_fin(c, nullptr);
        return;
    default:
        // FIN-WAIT-1/2, CLOSING, LAST-ACK, TIME-WAIT: "error: connection closing".
        c.set(cf_app_closed);
        _ctr.inc(ctr::bad_command);
        return;
    }
}

void engine::cmd_abort(const cmd& k)
{
    const conn* found = find(k.h);
    if (found == nullptr) {
        _ctr.inc(ctr::stale_handle);
        return;
    }
    conn& c = const_cast<conn&>(*found);
    const uint32_t slot = slot_of(c);
    switch (c.st) {
    case state::syn_received:
    case state::established:
    case state::fin_wait_1:
    case state::fin_wait_2:
    case state::close_wait:
        // "Send a reset segment: <SEQ=SND.NXT><CTL=RST>" (Linux
        // tcp_send_active_reset: RST+ACK), then delete the TCB.
        send_rst(c, nullptr, c.snd_nxt);
        break;
    default:
        // SYN-SENT: no RST; CLOSING, LAST-ACK, TIME-WAIT: "respond with ok
        // and delete the TCB".
        break;
    }
    _ctr.inc(ctr::aborted);
    drop_request(c, slot); // a request's SYN-queue place is given back too
}

void engine::on_fin_timer(conn& c, uint32_t slot)
{
    if (c.retries >= _cfg.fin_retries) {
        // Linux tcp_write_timeout with tcp_orphan_retries: give up.
        _ctr.inc(ctr::fin_timeouts);
        post_event(c, event_type::closed, ETIMEDOUT);
        free_conn(c, slot);
        return;
    }
    c.retries++;
    _ctr.inc(ctr::fin_retransmits);
    arm(slot, backoff_ms(c.retries));
    resend_fin(c);
}

} // namespace fg::tcp
