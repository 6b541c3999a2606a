// The engine's frame: set-up, input dispatch, timers, commands, events.
// The state handlers live in listen.cc, synrecv.cc, established.cc, close.cc
// (passive side) and connect.cc, synsent.cc, active_close.cc (active side).
#include "tcp/engine.hh"

#include <cerrno>

#include "net/tcp_options.hh"
#include "tcp/connect.hh"
#include "tcp/listener.hh"
#include "tcp/negotiate.hh"
#include <cstddef>

#include "base/cpu.hh"

namespace fg::tcp {

const char* event_type_name(event_type t)
{
    static constexpr const char* names[] = {
#define FG_X(name, doc) #name,
        FG_FOREACH_TCP_EVENT(FG_X)
#undef FG_X
    };
    return unsigned(t) < unsigned(event_type::count) ? names[unsigned(t)] : "unknown";
}

// RFC 9293 3.10.7: one handler per state. LISTEN has no conn (on_listen is
// called on a table miss); CLOSED blocks are never in the table.
const engine::handler engine::dispatch[n_states] = {
    &engine::on_unhandled,    // closed
    &engine::on_syn_sent,     // syn_sent (synsent.cc)
    &engine::on_syn_received, // syn_received (synrecv.cc)
    &engine::on_established,  // established (established.cc)
    &engine::on_fin_wait_1,   // fin_wait_1 (active_close.cc)
    &engine::on_fin_wait_2,   // fin_wait_2 (active_close.cc)
    &engine::on_close_wait,   // close_wait (established.cc)
    &engine::on_closing,      // closing (active_close.cc)
    &engine::on_last_ack,     // last_ack (established.cc)
    &engine::on_time_wait,    // time_wait (active_close.cc)
};
static_assert(n_states == 10, "one dispatch entry per state");

engine::~engine()
{
    fini_active();
    fini_data();
}

bool engine::init(const engine_config& cfg, uint32_t now_ms, std::string& error)
{
    _cfg = cfg;
    if (_cfg.out == nullptr || _cfg.out->pool == nullptr) {
        error = "tcp engine: needs a pkt_out with a mempool";
        return false;
    }
    if (_cfg.cookies == nullptr || _cfg.isn == nullptr || _cfg.registry == nullptr) {
        error = "tcp engine: needs cookie and ISN secrets and the listener registry";
        return false;
    }
    if (_cfg.lcore >= listener::max_lcores || _cfg.n_lcores == 0 || _cfg.n_lcores > listener::max_lcores) {
        error = "tcp engine: lcore index out of range";
        return false;
    }
    if (_cfg.capacity == 0 || _cfg.capacity > timer::wheel::max_capacity) {
        error = "tcp engine: capacity must be 1 .. 2^31-1";
        return false;
    }
    if (_cfg.rto_initial_ms == 0 || _cfg.rto_max_ms < _cfg.rto_initial_ms || _cfg.timer_budget == 0) {
        error = "tcp engine: need 0 < rto_initial_ms <= rto_max_ms and a timer budget";
        return false;
    }
    if (_cfg.opts.rcv_wscale > max_wscale || _cfg.opts.mss < min_snd_mss) {
        error = "tcp engine: rcv_wscale must be <= 14 and mss >= 48";
        return false;
    }
    if (!_pool.init(_cfg.capacity, uint8_t(_cfg.lcore), _cfg.populate)) {
        error = "tcp engine: no memory for the connection pool";
        return false;
    }
    if (!_table.init(_cfg.capacity)) {
        error = "tcp engine: no memory for the connection table";
        return false;
    }
    if (!_wheel.init(&_pool[0], sizeof(conn), offsetof(conn, tl), _cfg.capacity, now_ms)) {
        error = "tcp engine: no memory for the timer wheel";
        return false;
    }
    _now_ms = now_ms;
    _rst_limit = rate_limit{_cfg.rst_per_s, _cfg.rst_burst, _cfg.rst_burst, now_ms};
    _challenge_limit = rate_limit{_cfg.challenge_ack_per_s, _cfg.challenge_ack_per_s, _cfg.challenge_ack_per_s, now_ms};
    return init_data(error) && init_active(error);
}

// ---- input ------------------------------------------------------------------

void engine::input(rte_mbuf* m, const net::pkt_info& pi)
{
    const uint32_t slot = _table.lookup(pi.tuple);
    if (slot != table::conn_table::none) {
        on_conn(slot, m, pi);
    } else {
        on_listen(m, pi);
    }
    flush_local();
}

void engine::input_burst(rte_mbuf** m, const net::pkt_info* pi, uint32_t n)
{
    tuple4 keys[table::conn_table::burst_max];
    uint32_t slots[table::conn_table::burst_max];
    listen_pre pre[table::conn_table::burst_max];
    for (uint32_t base = 0; base < n; base += table::conn_table::burst_max) {
        const uint32_t k = std::min<uint32_t>(n - base, table::conn_table::burst_max);
        for (uint32_t i = 0; i < k; i++) {
            keys[i] = pi[base + i].tuple;
        }
        _table.lookup_burst(keys, k, slots);
        uint32_t misses = 0;
        for (uint32_t i = 0; i < k; i++) {
            if (slots[i] != table::conn_table::none) {
                rte_prefetch0(&at(slots[i]));
            } else {
                misses++;
                // A bare ACK that found no connection may be a cookie ACK
                // about to become one: its bucket, which lookup_burst skipped
                // when empty, is then written (a SYN in cookie mode is not).
                if ((pi[base + i].tcp_flags & (th_syn | th_rst | th_ack)) == th_ack) {
                    _table.prefetch_insert(keys[i]);
                }
            }
        }
        // Lanes pay off from two segments up, and only with vector lanes: the
        // scalar lane code costs more than the one-at-a-time hashes
        // (callgrind, bench-tcp BM_CookieSynAck vs BM_CookieSynAckBurst).
        const bool batch = misses > 1 && simd_active() != simd::scalar;
        if (batch) {
            prepare_listen(m + base, pi + base, slots, k, pre);
        }
        const uint64_t inserts = _table.stats().inserts;
        for (uint32_t i = 0; i < k; i++) {
            const net::pkt_info& p = pi[base + i];
            uint32_t s = slots[i];
            // An earlier segment of this burst may have freed this connection
            // (and the block been reused) or created one for this tuple.
            if (s != table::conn_table::none) {
                const conn& c = at(s);
                if (FG_UNLIKELY(c.st == state::closed || !(c.tuple == p.tuple))) {
                    s = _table.lookup(p.tuple);
                }
            } else if (FG_UNLIKELY(_table.stats().inserts != inserts)) {
                s = _table.lookup(p.tuple);
            }
            if (s != table::conn_table::none) {
                on_conn(s, m[base + i], p);
            } else {
                on_listen(m[base + i], p, batch && slots[i] == table::conn_table::none ? &pre[i] : nullptr);
            }
            flush_local(); // a safe point: the local sink may open or close connections
        }
    }
}

void engine::prepare_listen(rte_mbuf** m, const net::pkt_info* pi, const uint32_t* slots, uint32_t n,
                            listen_pre* pre)
{
    // The segments that found no connection and that a listener will hash:
    // SYNs (cookie and timestamp offset) and, while cookies are recent, ACKs
    // (cookie check and timestamp offset). All of a burst's hashes then run
    // lane by lane (AVX-512 / AVX2 / scalar, chosen at run time): ~14 ns per
    // cookie SYN-ACK instead of ~50 (bench/syncookie_bench.cc).
    tuple4 syn_t[table::conn_table::burst_max];
    uint32_t syn_isn[table::conn_table::burst_max];
    uint16_t syn_mss[table::conn_table::burst_max];
    uint32_t syn_cookie[table::conn_table::burst_max];
    uint16_t syn_cmss[table::conn_table::burst_max];
    uint32_t syn_at[table::conn_table::burst_max];
    tuple4 ack_t[table::conn_table::burst_max];
    uint32_t ack_cookie[table::conn_table::burst_max];
    uint32_t ack_isn[table::conn_table::burst_max];
    uint16_t ack_mss[table::conn_table::burst_max];
    uint32_t ack_at[table::conn_table::burst_max];
    tuple4 ts_t[table::conn_table::burst_max];
    uint32_t ts_off[table::conn_table::burst_max];
    uint32_t ts_at[table::conn_table::burst_max];
    uint32_t n_syn = 0;
    uint32_t n_ack = 0;
    uint32_t n_ts = 0;
    for (uint32_t i = 0; i < n; i++) {
        listen_pre& x = pre[i];
        x.kind = pre_none;
        x.looked_up = false;
        x.has_cookie = false;
        x.mss = 0;
        x.ts_off = 0;
        if (slots[i] != table::conn_table::none) {
            continue;
        }
        const net::pkt_info& p = pi[i];
        x.l = find_listener(p.tuple.laddr, p.tuple.lport);
        x.looked_up = true;
        if (x.l == nullptr) {
            continue;
        }
        const uint8_t f = p.tcp_flags & (th_syn | th_ack | th_rst | th_fin);
        listener& l = *x.l;
        if (f == th_syn) {
            x.kind = pre_syn;
            net::parse_tcp_options(rte_pktmbuf_mtod(m[i], const uint8_t*) + p.opt_off, p.opt_len, true, x.syn);
            const listener::lcore_state& ls = l.lcore(_cfg.lcore);
            const bool cookie = l.cookie_mode() == syncookie_mode::always ||
                                (l.cookie_mode() == syncookie_mode::automatic && ls.syn_queue_len >= l.syn_share());
            if (cookie) {
                x.has_cookie = true;
                syn_t[n_syn] = p.tuple;
                syn_isn[n_syn] = p.seq;
                syn_mss[n_syn] = peer_mss(to_syn_options(x.syn));
                syn_at[n_syn++] = i;
            }
            if (x.syn.has_ts && _cfg.opts.timestamps) {
                ts_t[n_ts] = p.tuple;
                ts_at[n_ts++] = i;
            }
        } else if ((f & (th_ack | th_syn | th_rst)) == th_ack && l.cookie_mode() != syncookie_mode::never &&
                   l.lcore(_cfg.lcore).recent.recent(_now_ms)) {
            x.kind = pre_ack;
            ack_t[n_ack] = p.tuple;
            ack_cookie[n_ack] = p.ack - 1; // Linux cookie_v4_check: ack - 1 is the cookie, seq - 1 the client ISN
            ack_isn[n_ack] = p.seq - 1;
            ack_at[n_ack++] = i;
            ts_t[n_ts] = p.tuple;
            ts_at[n_ts++] = i;
        }
    }
    const uint32_t count = syncookie::count_from_ms(_now_ms);
    if (n_syn != 0) {
        _cfg.cookies->make_burst(n_syn, syn_t, syn_isn, syn_mss, count, syn_cookie, syn_cmss);
        for (uint32_t j = 0; j < n_syn; j++) {
            pre[syn_at[j]].cookie = syn_cookie[j];
            pre[syn_at[j]].mss = syn_cmss[j];
        }
    }
    if (n_ack != 0) {
        _cfg.cookies->check_burst(n_ack, ack_t, ack_cookie, ack_isn, count, ack_mss);
        for (uint32_t j = 0; j < n_ack; j++) {
            pre[ack_at[j]].mss = ack_mss[j];
        }
    }
    if (n_ts != 0) {
        _cfg.isn->ts_offset_burst(n_ts, ts_t, ts_off);
        for (uint32_t j = 0; j < n_ts; j++) {
            pre[ts_at[j]].ts_off = ts_off[j];
        }
    }
}

void engine::on_conn(uint32_t slot, rte_mbuf* m, const net::pkt_info& pi)
{
    conn& c = at(slot);
    if (is_stream(slot)) {
        on_stream(c, slot, m, pi); // a served connection (data.cc)
        return;
    }
    const handler h = dispatch[unsigned(c.st)];
    (this->*h)(c, slot, m, pi);
}

void engine::on_unhandled(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi)
{
    (void)c;
    (void)slot;
    (void)pi;
    drop(m, ctr::state_unhandled);
}

// ---- connections ------------------------------------------------------------

uint32_t engine::new_conn(const tuple4& t, bool* exists)
{
    const uint32_t slot = _pool.alloc();
    if (FG_UNLIKELY(slot == table::pool<conn>::none)) {
        _ctr.inc(ctr::pool_exhausted);
        return UINT32_MAX;
    }
    const int rc = _table.insert(t, slot);
    if (FG_UNLIKELY(rc != 0)) {
        _pool.free(slot);
        if (rc == -EEXIST && exists != nullptr) {
            *exists = true;
            return UINT32_MAX;
        }
        _ctr.inc(ctr::table_full);
        return UINT32_MAX;
    }
    at(slot).tuple = t; // pool::alloc() zero-filled the block: timer link unarmed, state closed
    if (_xfer != nullptr) {
        _xfer[slot] = xfer{}; // no data path until an app takes it (open_stream)
    }
    return slot;
}

void engine::free_conn(conn& c, uint32_t slot)
{
    if (FG_UNLIKELY(_xfer != nullptr) && _xfer[slot].on() && !(_xfer[slot].xf & xf_ended)) {
        end_stream(c, slot, stream_end::aborted); // data.cc ends streams with their reason; this catches the rest
    }
    if (c.spare & af_local) {
        // The local application learns that the 4-tuple is free again (and,
        // if nothing told it before, that the connection is gone).
        if (event* e = local_slot(); e != nullptr) {
            fill_event(*e, c, event_type::released, 0);
            if (c.spare & af_pending) {
                e->opts = uint8_t(e->opts | ev_pending);
            }
            _local_n++;
        }
    }
    _wheel.cancel(slot);
    _table.erase(c.tuple);
    c.st = state::closed;
    _pool.free(slot);
}

uint32_t engine::backoff_ms(uint32_t n) const
{
    if (n >= 31) {
        return _cfg.rto_max_ms;
    }
    const uint64_t t = uint64_t(_cfg.rto_initial_ms) << n;
    return t > _cfg.rto_max_ms ? _cfg.rto_max_ms : uint32_t(t);
}

const conn* engine::find(const tuple4& t) const
{
    const uint32_t slot = _table.lookup(t);
    return slot == table::conn_table::none ? nullptr : &_pool[slot];
}

const conn* engine::find(const handle& h) const
{
    if (h.lcore != _cfg.lcore) {
        return nullptr;
    }
    const conn* c = _pool.resolve(h);
    return c != nullptr && c->st != state::closed ? c : nullptr;
}

handle engine::handle_of(const conn& c) const
{
    return _pool.make_handle(slot_of(c));
}

bool engine::timer_of(const conn& c, uint32_t& expire_ms) const
{
    const uint32_t slot = slot_of(c);
    if (!_wheel.armed(slot)) {
        return false;
    }
    expire_ms = _wheel.expire_ms(slot);
    return true;
}

// ---- events -----------------------------------------------------------------

void engine::fill_event(event& e, const conn& c, event_type t, int32_t error) const
{
    e = event{};
    e.type = t;
    e.opts = uint8_t((c.has(cf_sack_ok) ? ev_sack : 0) | (c.has(cf_ts_ok) ? ev_ts : 0) |
                     (c.has(cf_ws_ok) ? ev_wscale : 0) | (c.has(cf_from_cookie) ? ev_cookie : 0));
    e.snd_wscale = c.snd_wscale();
    e.rcv_wscale = c.rcv_wscale();
    e.mss = c.mss;
    e.listener_ref = c.listener;
    e.h = handle_of(c);
    e.tuple = c.tuple;
    e.error = error;
    if (c.has(cf_app_closed)) {
        e.opts = uint8_t(e.opts | ev_app_closed);
    }
    if (c.has(cf_fin_rcvd)) {
        e.opts = uint8_t(e.opts | ev_peer_closed);
    }
}

void engine::post_event(const conn& c, event_type t, int32_t error)
{
    if (c.has(cf_auto)) {
        return; // accepted on the lcore: no application to tell
    }
    if (c.spare & af_local) {
        if (event* le = local_slot(); le != nullptr) {
            fill_event(*le, c, t, error);
            post_for_local(c, *le);
        }
        return;
    }
    event e;
    fill_event(e, c, t, error);
    if (_cfg.event_ring == nullptr || rte_ring_sp_enqueue_elem(_cfg.event_ring, &e, sizeof(e)) != 0) {
        _ctr.inc(ctr::event_ring_full);
    }
}

// ---- timers -----------------------------------------------------------------

void engine::tick(uint32_t now_ms, uint32_t budget)
{
    if (int32_t(now_ms - _now_ms) > 0) {
        _now_ms = now_ms;
    }
    _wheel.advance(
        _now_ms,
        [this](uint32_t slot) {
            on_timer(slot);
            flush_local();
        },
        budget != 0 ? std::min(budget, _cfg.timer_budget) : _cfg.timer_budget);
}

void engine::on_timer(uint32_t slot)
{
    conn& c = at(slot);
    if (is_stream(slot)) {
        on_stream_timer(c, slot); // send.cc
        return;
    }
    switch (c.st) {
    case state::syn_received:
        if (c.has(cf_passive)) {
            on_synack_timer(c, slot);
        } else {
            on_timer_active(c, slot); // a simultaneous open: the SYN timer resends the SYN-ACK
        }
        break;
    case state::last_ack:
        on_fin_timer(c, slot);
        break;
    case state::established:
        if (c.has(cf_auto) && c.has(cf_passive)) {
            on_idle_timer(c, slot); // listen.cc
        }
        break;
    case state::syn_sent:
    case state::fin_wait_1:
    case state::fin_wait_2:
    case state::closing:
    case state::time_wait:
        on_timer_active(c, slot);
        break;
    default:
        break; // no timer runs in CLOSE-WAIT; a stale expiry is harmless
    }
}

// ---- commands ---------------------------------------------------------------

void engine::command(const cmd& k)
{
    switch (k.type) {
    case cmd_type::close:
        cmd_close(k);
        break;
    case cmd_type::abort:
        cmd_abort(k);
        break;
    case cmd_type::connect:
        cmd_connect(k);
        break;
    default:
        _ctr.inc(ctr::bad_command);
        break;
    }
    flush_local();
}

} // namespace fg::tcp
