// The active open (Linux tcp_v4_connect -> inet_hash_connect -> tcp_connect):
// route and source address, ephemeral port, ISN, SYN; its events; the
// neighbour-failure path (l2_failed); and the bulk connection generator.
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
constexpr uint32_t hold_sweep = 64;        // held connections looked at per generate(): bounded work
constexpr uint32_t hold_rotate = 8;        // hold_ms 0: live ones re-queued per call while looking for dead ones

const active_config& default_active_config()
{
    static const active_config c;
    return c;
}

} // namespace

const char* close_mode_name(close_mode m)
{
    static constexpr const char* names[] = {
#define FG_X(name, doc) #name,
        FG_FOREACH_GEN_CLOSE(FG_X)
#undef FG_X
    };
    return unsigned(m) < sizeof(names) / sizeof(names[0]) ? names[unsigned(m)] : "unknown";
}

// ---- set-up ---------------------------------------------------------------

bool engine::init_active(std::string& error)
{
    const active_config& ac = _cfg.active != nullptr ? *_cfg.active : default_active_config();
    const generator_config& g = ac.gen;
    if (ac.time_wait_ms == 0 || ac.fin_timeout_ms == 0) {
        error = "tcp engine: time_wait_ms and fin_timeout_ms must be > 0";
        return false;
    }
    if (g.cps < 0 || g.burst == 0 || (!g.targets.empty() && g.cps == 0)) {
        error = "tcp engine: generator needs cps > 0 and burst > 0";
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
    a.tsc_per_us = std::max<uint64_t>(1, tsc_hz() / 1000000u);
    a.ns_per_tsc = 1e9 / double(std::max<uint64_t>(1, tsc_hz()));

    // Generator targets: routed once (routes do not change while lcores run).
    for (rte_be32_t l : g.laddrs) {
        if (l == 0 || (_cfg.routes != nullptr && !_cfg.routes->addrs().is_local(l))) {
            error = "tcp engine: generator source address is not one of ours";
            return false;
        }
    }
    for (const tuple4& want : g.targets) {
        if (want.raddr == 0 || want.rport == 0) {
            error = "tcp engine: generator target needs an address and a port";
            return false;
        }
        active_state::target t{want, 0, 0};
        t.t.lport = 0;
        if (_cfg.routes != nullptr) {
            const route::route_result r = _cfg.routes->lookup(want.raddr, want.laddr);
            if (!r.ok()) {
                t.err = route::route_errno(r.status);
            } else {
                t.mss = std::min(advmss_for_mtu(r.mtu), _cfg.opts.mss);
                if (want.laddr == 0 && g.laddrs.empty()) {
                    t.t.laddr = r.src;
                }
            }
        } else if (want.laddr == 0 && g.laddrs.empty()) {
            t.err = ENETUNREACH;
        } else {
            t.mss = _cfg.opts.mss;
        }
        a.targets.push_back(t);
    }
    if (g.close == close_mode::hold && !g.targets.empty()) {
        a.hold.resize(g.concurrency != 0 ? std::min(g.concurrency, _cfg.capacity) : _cfg.capacity);
    }
    a.last_ns = isn_clock_ns();
    return true;
}

void engine::fini_active()
{
    delete _active;
    _active = nullptr;
}

// ---- clocks and events --------------------------------------------------------

uint32_t engine::rtt_stamp() const
{
    if (_active->cfg.clock == active_clock::engine_ms) {
        return _now_ms * 1000u;
    }
    return uint32_t(rte_rdtsc() / _active->tsc_per_us);
}

uint64_t engine::isn_clock_ns() const
{
    if (_active->cfg.clock == active_clock::engine_ms) {
        return uint64_t(_now_ms) * 1000000u;
    }
    return uint64_t(double(rte_rdtsc()) * _active->ns_per_tsc);
}

const rtt_histogram& engine::rtt() const
{
    return _active->rtt;
}

void engine::post_active(const conn& c, event_type t, int32_t err, uint32_t rtt_us)
{
    if ((c.spare & af_gen) || c.has(cf_auto)) {
        return; // no application: counters and the RTT histogram say it all
    }
    event e;
    fill_event(e, c, t, err);
    e.rtt_us = rtt_us;
    e.user = c.has(cf_passive) ? 0 : _active->user[slot_of(c)]; // passive: a listener's connection, no connect()
    if (_cfg.event_ring == nullptr || rte_ring_sp_enqueue_elem(_cfg.event_ring, &e, sizeof(e)) != 0) {
        _ctr.inc(ctr::event_ring_full);
    }
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

void engine::gen_release(const conn& c)
{
    if (c.spare & af_counted) {
        const_cast<conn&>(c).spare = uint16_t(c.spare & ~af_counted);
        _active->in_flight--;
    }
}

void engine::finish_active(conn& c, uint32_t slot, ctr counter, event_type t, int32_t err)
{
    _ctr.inc(counter);
    post_active(c, t, err);
    gen_release(c);
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
    if (open_active(k.tuple, k.user, false, nullptr, 0, 0, why, err) == UINT32_MAX) {
        post_failure(k.tuple, k.user, why, err);
    }
}

uint32_t engine::open_active(const tuple4& want, uint64_t user, bool gen, const rte_be32_t* laddrs,
                             uint32_t n_laddrs, uint16_t mss, event_type& why, int32_t& err)
{
    active_state& a = *_active;
    tuple4 t = want;
    auto fail = [&](ctr c, event_type type, int32_t e) {
        _ctr.inc(c);
        why = type;
        err = e;
        return UINT32_MAX;
    };
    if (t.raddr == 0 || t.rport == 0) {
        return fail(ctr::unreachable, event_type::unreachable, EINVAL);
    }

    // Linux ip_route_connect: route, and the route's preferred source unless
    // the caller bound one (which must then be ours, on the egress port).
    if (mss == 0) {
        if (_cfg.routes != nullptr) {
            const route::route_result r = _cfg.routes->lookup(t.raddr, t.laddr);
            if (!r.ok()) {
                return fail(ctr::unreachable, event_type::unreachable, route::route_errno(r.status));
            }
            if (t.laddr == 0 && n_laddrs == 0) {
                t.laddr = r.src;
            }
            mss = std::min(advmss_for_mtu(r.mtu), _cfg.opts.mss); // opts.mss clamps, as TCP_MAXSEG does
        } else {
            if (t.laddr == 0 && n_laddrs == 0) {
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
    if (t.lport != 0) {
        if (t.laddr == 0 || !a.ports.owns(t.laddr, t.raddr, t.rport, rte_be_to_cpu_16(t.lport))) {
            return fail(ctr::no_port, event_type::no_port, EADDRNOTAVAIL); // the SYN-ACK would reach another lcore
        }
        const port::tuple_state st = in_use(t);
        if (st == port::tuple_state::busy) {
            return fail(ctr::no_port, event_type::no_port, EADDRNOTAVAIL);
        }
        tw = st == port::tuple_state::time_wait_reusable;
    } else {
        const int port = t.laddr != 0 ? a.ports.alloc(t.laddr, t.raddr, t.rport, in_use, &tw)
                                      : a.ports.alloc_any(laddrs, n_laddrs, t.raddr, t.rport, in_use, &t.laddr, &tw);
        if (port < 0) {
            return fail(ctr::no_port, event_type::no_port, EADDRNOTAVAIL);
        }
        t.lport = rte_cpu_to_be_16(uint16_t(port));
    }

    // ISN: RFC 6528 (Linux secure_tcp_seq), or past the TIME-WAIT
    // incarnation's sequence space when we take its 4-tuple over.
    uint32_t iss;
    if (tw) {
        const uint32_t old = _table.lookup(t);
        conn& o = at(old);
        iss = tw_reuse_isn(o.snd_nxt);
        _ctr.inc(ctr::time_wait_reused);
        free_conn(o, old);
    } else {
        iss = _cfg.isn->isn(t, isn_clock_ns());
    }
    const uint32_t slot = new_conn(t);
    if (FG_UNLIKELY(slot == UINT32_MAX)) {
        why = event_type::no_port; // counted by new_conn (pool_exhausted / table_full)
        err = ENOBUFS;
        return UINT32_MAX;
    }
    conn& c = at(slot);
    c.iss = iss;
    c.snd_una = iss;
    c.snd_nxt = iss + 1;
    c.ts_offset = _cfg.opts.timestamps ? _cfg.isn->ts_offset(t) : 0;
    c.ts_recent = tsval(c); // SYN-SENT: our first SYN's TSval (Linux retrans_stamp), for the SYN-ACK's PAWS check
    c.t0 = rtt_stamp();     // SYN-SENT: when the first SYN left, for the handshake RTT
    c.mss = mss;            // SYN-SENT: the MSS we advertise; the negotiated one from ESTABLISHED on
    c.st = state::syn_sent;
    c.set_wscale(0, _cfg.opts.window_scaling ? std::min(_cfg.opts.rcv_wscale, max_wscale) : 0);
    c.spare = gen ? uint16_t(af_gen | af_counted) : 0;
    c.flags = gen ? uint8_t(cf_auto) : 0; // no application: post_event() stays silent, a peer FIN is answered
    a.user[slot] = user;
    arm(slot, backoff_ms(0));
    send_syn(c);
    _ctr.inc(ctr::attempted);
    return slot;
}

void engine::send_syn(const conn& c)
{
    // Linux tcp_syn_options: MSS, SACK-permitted, timestamps, window scale
    // as enabled. A simultaneous open's SYN-ACK offers only what the peer's
    // SYN offered too (RFC 7323 / RFC 2018 rules) and echoes its TSval.
    local_settings s = _cfg.opts;
    const bool simopen = (c.spare & af_simopen) != 0;
    s.mss = simopen ? our_mss(c.tuple) : c.mss;
    net::tcp_options o = synack_net_options(syn_options_for(s, tsval(c)));
    uint8_t flags = th_syn;
    uint32_t ack = 0;
    if (simopen) {
        flags |= th_ack;
        ack = c.rcv_nxt;
        o.has_wscale = c.has(cf_ws_ok);
        o.sack_ok = c.has(cf_sack_ok);
        o.has_ts = c.has(cf_ts_ok);
        o.ts_ecr = c.ts_recent;
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

// ---- bulk generator ---------------------------------------------------------

uint32_t engine::generator_in_flight() const
{
    return _active->in_flight;
}

bool engine::generator_done() const
{
    const active_state& a = *_active;
    const uint64_t total = a.cfg.gen.total;
    // Any thread: tries first (acquire), then in_flight, the reverse of the
    // order generate() writes them in.
    const uint64_t tries = __atomic_load_n(&a.tries, __ATOMIC_ACQUIRE);
    const bool stopped = __atomic_load_n(&a.stopped, __ATOMIC_ACQUIRE);
    return __atomic_load_n(&a.in_flight, __ATOMIC_RELAXED) == 0 && (stopped || (total != 0 && tries >= total));
}

void engine::stop_generator()
{
    _active->stopped = true;
}

uint32_t engine::generate()
{
    active_state& a = *_active;
    const generator_config& g = a.cfg.gen;
    if (a.targets.empty()) {
        return 0;
    }

    // Held connections: end the holds that are due (all of them once
    // stopped), forget the ones the peer closed or reset meanwhile.
    for (uint32_t k = 0, rotated = 0; k < hold_sweep && a.hold_n != 0; k++) {
        active_state::held e = a.hold[a.hold_head];
        const conn* found = find(e.h);
        // A peer FIN already took it to LAST-ACK (cf_auto), an RST freed it.
        const bool alive = found != nullptr && (found->spare & af_gen) && found->st == state::established;
        const bool due = a.stopped || (g.hold_ms != 0 && int32_t(_now_ms - e.expire_ms) >= 0);
        if (alive && !due && (g.hold_ms != 0 || rotated == hold_rotate)) {
            break;
        }
        a.hold_head = a.hold_head + 1 == a.hold.size() ? 0 : a.hold_head + 1;
        a.hold_n--;
        if (!alive) {
            a.in_flight--; // reset or closed by the peer (the passive handlers freed it)
            continue;
        }
        conn& c = const_cast<conn&>(*found);
        if (!due) { // hold_ms 0: alive, to the back of the queue
            a.hold[(a.hold_head + a.hold_n) % a.hold.size()] = e;
            a.hold_n++;
            rotated++;
            continue;
        }
        c.spare = uint16_t(c.spare & ~af_counted);
        a.in_flight--;
        start_active_close(c, slot_of(c));
    }
    if (a.stopped) {
        return 0;
    }

    // Token bucket: cps tokens a second, at most `burst` banked.
    const uint64_t now_ns = isn_clock_ns();
    a.tokens = std::min(double(g.burst), a.tokens + g.cps * double(now_ns - a.last_ns) / 1e9);
    a.last_ns = now_ns;

    uint32_t n = 0;
    while (a.tokens >= 1.0 && n < g.burst && (g.total == 0 || a.tries < g.total) &&
           (g.concurrency == 0 || a.in_flight < g.concurrency)) {
        a.tokens -= 1.0;
        n++;
        const active_state::target& tg = a.targets[a.next];
        a.next = a.next + 1 == a.targets.size() ? 0 : a.next + 1;
        if (tg.err != 0) {
            _ctr.inc(ctr::unreachable);
            __atomic_store_n(&a.tries, a.tries + 1, __ATOMIC_RELEASE);
            continue;
        }
        // In flight before the try is counted: generator_done(), read from
        // another thread, must never see this try made and nothing in flight.
        a.in_flight++;
        __atomic_store_n(&a.tries, a.tries + 1, __ATOMIC_RELEASE);
        event_type why;
        int32_t err;
        if (open_active(tg.t, 0, true, g.laddrs.data(), uint32_t(g.laddrs.size()), tg.mss, why, err) ==
            UINT32_MAX) {
            a.in_flight--;
        }
    }
    return n;
}

} // namespace fg::tcp
