// The active open (Linux tcp_v4_connect -> inet_hash_connect -> tcp_connect):
// route and source address, ephemeral port, ISN, SYN; its events; the
// neighbour-failure path (l2_failed); the lcore's local application
// (open_local, close, abort, the local event queue).
#include "tcp/connect.hh"

#include <algorithm>
#include <cerrno>
#include <new>
#include <stdexcept>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "base/clock.hh"
#include "route/route.hh"
#include "table/listener_table.hh"

namespace fg::tcp {

namespace {

constexpr uint32_t tw_reuse_min_ms = 1000; // Linux tcp_twsk_unique: the peer's last TSval at least 1 s old

const active_config& default_active_config()
{
    static const active_config c;
    return c;
}

} // namespace

// ---- set-up ---------------------------------------------------------------

bool engine::init_active(std::string& error)
{
    const active_config& ac = _cfg.active != nullptr ? *_cfg.active : default_active_config();
    if (ac.time_wait_ms == 0 || ac.fin_timeout_ms == 0) {
        error = "tcp engine: time_wait_ms and fin_timeout_ms must be > 0";
        return false;
    }
    try {
        const steering own(_cfg.n_lcores);
        const siphash_key key = ac.port_key.has_value() ? *ac.port_key : random_siphash_key();
        _active = new active_state(ac, ac.steer != nullptr ? *ac.steer : own, _cfg.lcore, key);
    } catch (const std::exception& e) {
        error = std::string("tcp engine: active side: ") + e.what();
        return false;
    }
    active_state& a = *_active;
    a.user_mem = alloc_huge(std::size_t(_cfg.capacity) * sizeof(uint64_t), false);
    if (a.user_mem.ptr == nullptr) {
        error = "tcp engine: no memory for connect() user values";
        return false;
    }
    a.user = static_cast<uint64_t*>(a.user_mem.ptr);
    const double hz = double(std::max<uint64_t>(1, tsc_hz()));
    a.us_per_tsc_q64 = uint64_t(std::min(1.8e19, 1e6 / hz * 18446744073709551616.0));
    a.ns_per_tsc_q32 = uint64_t(1e9 / hz * 4294967296.0);
    return true;
}

void engine::fini_active()
{
    delete _active;
    _active = nullptr;
}

// ---- clocks and events --------------------------------------------------------

uint32_t engine::rtt_stamp(uint64_t tsc) const
{
    if (_active->cfg.clock == active_clock::engine_ms) {
        return _now_ms * 1000u;
    }
    // tsc / tsc_per_us without a division: one 64x64 -> 128-bit multiply.
    return uint32_t((unsigned __int128)(tsc != 0 ? tsc : rte_rdtsc()) * _active->us_per_tsc_q64 >> 64);
}

uint64_t engine::isn_clock_ns(uint64_t tsc) const
{
    if (_active->cfg.clock == active_clock::engine_ms) {
        return uint64_t(_now_ms) * 1000000u;
    }
    return uint64_t((unsigned __int128)(tsc != 0 ? tsc : rte_rdtsc()) * _active->ns_per_tsc_q32 >> 32);
}

const rtt_histogram& engine::rtt() const
{
    return _active->rtt;
}

void engine::post_active(const conn& c, event_type t, int32_t err, uint32_t rtt_us)
{
    if (c.has(cf_auto)) {
        return; // no application: counters and the RTT histogram say it all
    }
    if (c.spare & af_local) {
        event* le = local_slot();
        if (le != nullptr) {
            fill_event(*le, c, t, err);
            le->rtt_us = rtt_us;
            post_for_local(c, *le);
        }
        return;
    }
    event e;
    fill_event(e, c, t, err);
    e.rtt_us = rtt_us;
    e.user = c.has(cf_passive) ? 0 : _active->user[slot_of(c)]; // passive: a listener's connection, no connect()
    if (_cfg.event_ring == nullptr || rte_ring_sp_enqueue_elem(_cfg.event_ring, &e, sizeof(e)) != 0) {
        _ctr.inc(ctr::event_ring_full);
    }
}

void engine::post_for_local(const conn& cc, event& e)
{
    conn& c = const_cast<conn&>(cc); // the engine's own block
    if (c.spare & af_told) {
        return; // it already heard how the connection ended
    }
    if (c.spare & af_pending) {
        e.opts = uint8_t(e.opts | ev_pending);
        c.spare = uint16_t(c.spare & ~af_pending);
    }
    switch (e.type) {
    case event_type::refused:
    case event_type::timed_out:
    case event_type::unreachable:
    case event_type::reset:
    case event_type::closed:
        c.spare = uint16_t(c.spare | af_told);
        break;
    default:
        break;
    }
    _local_n++; // e is _local[_local_n] (local_slot)
}

event* engine::local_slot()
{
    if (FG_UNLIKELY(_local_n == local_queue)) {
        _ctr.inc(ctr::local_event_overflow); // a bug: safe points come after every handler
        return nullptr;
    }
    return &_local[_local_n];
}

void engine::deliver_local()
{
    // The sink may call open_local/close/abort, which may post more: they
    // join the queue and are delivered in this same pass.
    for (uint32_t i = 0; i < _local_n; i++) {
        if (_sink != nullptr) {
            _sink(_sink_ctx, _local[i]);
        }
    }
    _local_n = 0;
}

void engine::post_failure(const tuple4& t, uint64_t user, event_type type, int32_t err)
{
    event e{};
    e.type = type;
    e.tuple = t;
    e.user = user;
    e.error = err;
    e.h.lcore = uint8_t(_cfg.lcore); // slot 0, generation 0: never a live connection
    if (_cfg.event_ring == nullptr || rte_ring_sp_enqueue_elem(_cfg.event_ring, &e, sizeof(e)) != 0) {
        _ctr.inc(ctr::event_ring_full);
    }
}

void engine::finish_active(conn& c, uint32_t slot, ctr counter, event_type t, int32_t err)
{
    _ctr.inc(counter);
    post_active(c, t, err);
    free_conn(c, slot);
}

// ---- connect -----------------------------------------------------------------

uint16_t engine::our_mss(const tuple4& t) const
{
    if (_cfg.routes == nullptr) {
        return _cfg.opts.mss;
    }
    const route::route_result r = _cfg.routes->lookup(t.raddr, t.laddr);
    return r.ok() ? std::min(advmss_for_mtu(r.mtu), _cfg.opts.mss) : _cfg.opts.mss;
}

void engine::cmd_connect(const cmd& k)
{
    event_type why = event_type::unreachable;
    int32_t err = 0;
    if (open_active(k.tuple, k.user, nullptr, why, err) == UINT32_MAX) {
        post_failure(k.tuple, k.user, why, err);
    }
}

bool engine::open_local(const tuple4& t, uint16_t mss, uint32_t ts_offset, uint16_t tag, handle* out,
                        event_type& why, int32_t& err)
{
    const local_open lo{mss, tag, ts_offset};
    const uint32_t slot = open_active(t, 0, &lo, why, err);
    if (slot == UINT32_MAX) {
        return false;
    }
    if (out != nullptr) {
        *out = handle_of(at(slot));
    }
    return true;
}

void engine::close(const handle& h)
{
    cmd_close(cmd{cmd_type::close, h, {}, 0});
}

void engine::abort(const handle& h)
{
    cmd_abort(cmd{cmd_type::abort, h, {}, 0});
}

uint32_t engine::open_active(const tuple4& want, uint64_t user, const local_open* local, event_type& why,
                             int32_t& err)
{
    active_state& a = *_active;
    tuple4 t = want;
    auto fail = [&](ctr c, event_type type, int32_t e) {
        _ctr.inc(c);
        why = type;
        err = e;
        return UINT32_MAX;
    };
    if (t.raddr == 0 || t.rport == 0 || (local != nullptr && (t.laddr == 0 || t.lport == 0 || local->mss == 0))) {
        return fail(ctr::unreachable, event_type::unreachable, EINVAL);
    }

    // Linux ip_route_connect: route, and the route's preferred source unless
    // the caller bound one (which must then be ours, on the egress port).
    // A local open comes routed already (the generator routes each target once).
    uint16_t mss = local != nullptr ? local->mss : 0;
    if (local == nullptr) {
        if (_cfg.routes != nullptr) {
            const route::route_result r = _cfg.routes->lookup(t.raddr, t.laddr);
            if (!r.ok()) {
                return fail(ctr::unreachable, event_type::unreachable, route::route_errno(r.status));
            }
            if (t.laddr == 0) {
                t.laddr = r.src;
            }
            mss = std::min(advmss_for_mtu(r.mtu), _cfg.opts.mss); // opts.mss clamps, as TCP_MAXSEG does
        } else {
            if (t.laddr == 0) {
                return fail(ctr::unreachable, event_type::unreachable, ENETUNREACH);
            }
            mss = _cfg.opts.mss;
        }
    }

    // Linux inet_hash_connect: a local port whose 4-tuple is unused here
    // (or a TIME-WAIT entry tcp_twsk_unique lets us take over), skipping
    // ports bound by bind()/listen() on an overlapping address.
    const uint32_t now = _now_ms;
    const bool tw_reuse = a.cfg.tw_reuse;
    auto in_use = [&](const tuple4& c) {
        const uint32_t s = _table.lookup(c);
        if (s == table::conn_table::none) {
            if (_cfg.listeners != nullptr && _cfg.listeners->port_in_use(c.laddr, c.lport)) {
                return port::tuple_state::busy;
            }
            return port::tuple_state::free;
        }
        const conn& o = at(s);
        if (o.st == state::time_wait && tw_reuse && o.has(cf_ts_ok) && now - o.t0 >= tw_reuse_min_ms) {
            return port::tuple_state::time_wait_reusable;
        }
        return port::tuple_state::busy;
    };
    bool tw = false;
    const uint64_t tsc = _active->cfg.clock == active_clock::tsc ? rte_rdtsc() : 0; // one clock read for ISN and RTT
    uint32_t slot = UINT32_MAX;
    uint32_t iss = 0;
    if (local != nullptr) {
        // A local open's pair is free as far as its application knows
        // (it recycles pairs only on `released`), so try the insert at once
        // -- one table probe instead of a lookup and then an insert -- and
        // only look closer if the 4-tuple is taken after all (a connect() of
        // an application thread, or a TIME-WAIT entry tw_reuse may take).
        if (_cfg.listeners != nullptr && _cfg.listeners->port_in_use(t.laddr, t.lport)) {
            return fail(ctr::no_port, event_type::no_port, EADDRNOTAVAIL);
        }
        bool exists = false;
        slot = new_conn(t, &exists);
        if (FG_UNLIKELY(exists)) {
            if (in_use(t) != port::tuple_state::time_wait_reusable) {
                return fail(ctr::no_port, event_type::no_port, EADDRNOTAVAIL);
            }
            tw = true;
            slot = UINT32_MAX;
        }
    } else if (t.lport != 0) {
        // A given port: ours to own (the SYN-ACK must come back to this
        // lcore), and its 4-tuple free.
        if (t.laddr == 0 || !a.ports.owns(t.laddr, t.raddr, t.rport, rte_be_to_cpu_16(t.lport))) {
            return fail(ctr::no_port, event_type::no_port, EADDRNOTAVAIL); // the SYN-ACK would reach another lcore
        }
        const port::tuple_state st = in_use(t);
        if (st == port::tuple_state::busy) {
            return fail(ctr::no_port, event_type::no_port, EADDRNOTAVAIL);
        }
        tw = st == port::tuple_state::time_wait_reusable;
    } else {
        const int port = a.ports.alloc(t.laddr, t.raddr, t.rport, in_use, &tw);
        if (port < 0) {
            return fail(ctr::no_port, event_type::no_port, EADDRNOTAVAIL);
        }
        t.lport = rte_cpu_to_be_16(uint16_t(port));
    }

    // ISN: RFC 6528 (Linux secure_tcp_seq), or past the TIME-WAIT
    // incarnation's sequence space when we take its 4-tuple over.
    if (tw) {
        const uint32_t old = _table.lookup(t);
        conn& o = at(old);
        iss = tw_reuse_isn(o.snd_nxt);
        _ctr.inc(ctr::time_wait_reused);
        free_conn(o, old);
    } else {
        iss = _cfg.isn->isn(t, isn_clock_ns(tsc));
    }
    if (slot == UINT32_MAX) {
        slot = new_conn(t);
    }
    if (FG_UNLIKELY(slot == UINT32_MAX)) {
        why = event_type::no_port; // counted by new_conn (pool_exhausted / table_full)
        err = ENOBUFS;
        return UINT32_MAX;
    }
    conn& c = at(slot);
    c.iss = iss;
    c.snd_una = iss;
    c.snd_nxt = iss + 1;
    c.ts_offset = !_cfg.opts.timestamps ? 0 : local != nullptr ? local->ts_offset : _cfg.isn->ts_offset(t);
    c.ts_recent = tsval(c); // SYN-SENT: our first SYN's TSval (Linux retrans_stamp), for the SYN-ACK's PAWS check
    c.t0 = rtt_stamp(tsc);  // SYN-SENT: when the first SYN left, for the handshake RTT
    c.mss = mss;            // SYN-SENT: the MSS we advertise; the negotiated one from ESTABLISHED on
    c.st = state::syn_sent;
    c.set_wscale(0, _cfg.opts.window_scaling ? std::min(_cfg.opts.rcv_wscale, max_wscale) : 0);
    if (local != nullptr) {
        c.spare = uint16_t(af_local | af_pending);
        c.listener = local->tag; // comes back in every event's listener_ref
    } else {
        a.user[slot] = user;
    }
    arm(slot, backoff_ms(0));
    send_syn(c);
    _ctr.inc(ctr::attempted);
    return slot;
}

void engine::send_syn(const conn& c)
{
    // Linux tcp_syn_options: MSS, SACK-permitted, timestamps, window scale
    // as enabled. A simultaneous open's SYN-ACK (SYN-RECEIVED) is the same
    // SYN with ACK added (Linux tcp_send_synack): the same options, whatever
    // the peer's SYN offered, with TSecr = the peer's TSval (0 if it sent none).
    local_settings s = _cfg.opts;
    const bool simopen = c.st == state::syn_received;
    s.mss = simopen ? our_mss(c.tuple) : c.mss;
    net::tcp_options o = synack_net_options(syn_options_for(s, tsval(c)));
    uint8_t flags = th_syn;
    uint32_t ack = 0;
    if (simopen) {
        flags |= th_ack;
        ack = c.rcv_nxt;
        o.ts_ecr = o.has_ts ? c.ts_recent : 0;
    }
    send_segment(c.tuple, nullptr, flags, c.iss, ack, syn_window(s), &o);
}

// ---- neighbour failure ------------------------------------------------------

void engine::l2_failed(rte_mbuf* m)
{
    _ctr.inc(ctr::no_neighbour);
    // Our own frame, but checked like any other: never read past data_len.
    const uint32_t len = m->data_len;
    const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
    constexpr uint32_t l2 = sizeof(rte_ether_hdr);
    if (len >= l2 + sizeof(rte_ipv4_hdr) + sizeof(rte_tcp_hdr)) {
        const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(p + l2);
        const uint32_t ihl = uint32_t(ip->version_ihl & 0x0f) * 4;
        if (ip->next_proto_id == IPPROTO_TCP && ihl >= sizeof(rte_ipv4_hdr) &&
            len >= l2 + ihl + sizeof(rte_tcp_hdr)) {
            const auto* th = reinterpret_cast<const rte_tcp_hdr*>(p + l2 + ihl);
            const tuple4 t{ip->src_addr, ip->dst_addr, th->src_port, th->dst_port};
            const uint32_t slot = _table.lookup(t);
            if ((th->tcp_flags & th_syn) && slot != table::conn_table::none && at(slot).st == state::syn_sent) {
                // Linux: a SYN whose neighbour never answered ARP fails the
                // connect() with EHOSTUNREACH.
                finish_active(at(slot), slot, ctr::unreachable, event_type::unreachable, EHOSTUNREACH);
            }
        }
    }
    rte_pktmbuf_free(m);
}

} // namespace fg::tcp
