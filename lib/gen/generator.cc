#include "gen/generator.hh"

#include <algorithm>
#include <cerrno>

#include "route/neigh.hh"
#include "route/route.hh"
#include "tcp/negotiate.hh"

namespace fg::gen {

namespace {

constexpr uint32_t hold_budget = 64;      // held connections closed per poll() once due or stopped (FINs per poll)
constexpr uint32_t sweep_budget = 65536;  // pool slots looked at per poll() by the stop sweep (hold_ms 0)

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

bool parse_close_mode(std::string_view s, close_mode& out)
{
#define FG_X(name, doc)                                                                                             \
    if (s == #name) {                                                                                               \
        out = close_mode::name;                                                                                     \
        return true;                                                                                                \
    }
    FG_FOREACH_GEN_CLOSE(FG_X)
#undef FG_X
    return false;
}

const char* counter_name(ctr c)
{
    static constexpr const char* names[] = {
#define FG_X(name, doc) #name,
        FG_FOREACH_GEN_COUNTER(FG_X)
#undef FG_X
    };
    return unsigned(c) < n_counters ? names[unsigned(c)] : "unknown";
}

const char* counter_desc(ctr c)
{
    static constexpr const char* descs[] = {
#define FG_X(name, doc) doc,
        FG_FOREACH_GEN_COUNTER(FG_X)
#undef FG_X
    };
    return unsigned(c) < n_counters ? descs[unsigned(c)] : "unknown";
}

config config::share(uint16_t n, uint16_t i) const
{
    config s = *this;
    if (!enabled() || n == 0) {
        s.cps = 0;
        s.total = 0;
        s.targets.clear();
        return s;
    }
    // As many generating lcores as there are connections and concurrency
    // slots to give out, at most one per lcore; the rest stay idle (a share
    // of 0 connections or concurrency would mean "unlimited").
    uint64_t k = n;
    if (total != 0) {
        k = std::min<uint64_t>(k, total);
    }
    if (concurrency != 0) {
        k = std::min<uint64_t>(k, concurrency);
    }
    if (i >= k) {
        s.cps = 0;
        s.total = 0;
        s.concurrency = 0;
        s.targets.clear();
        return s;
    }
    s.cps = cps / double(k);
    if (total != 0) {
        s.total = total / k + (i < total % k ? 1 : 0);
    }
    if (concurrency != 0) {
        s.concurrency = uint32_t(concurrency / k + (i < concurrency % k ? 1 : 0));
    }
    return s;
}

generator::~generator()
{
    if (_registered) {
        _env.engine->set_local_sink(nullptr, nullptr);
    }
}

bool generator::init(const config& c, const env& e, std::string& error)
{
    _cfg = c;
    _cps_per_ns = c.cps / 1e9;
    _env = e;
    if (e.engine == nullptr || e.steer == nullptr) {
        error = "generator: needs its lcore's engine and the steering function";
        return false;
    }
    if (c.cps < 0 || c.burst == 0 || c.burst > max_burst) {
        error = "generator: cps must be >= 0 and burst 1.." + std::to_string(max_burst);
        return false;
    }
    if (c.targets.size() > 65535) {
        error = "generator: at most 65535 targets";
        return false;
    }
    if (c.port_lo == 0 || c.port_lo > c.port_hi) {
        error = "generator: bad local port range";
        return false;
    }
    const tcp::engine_config& ec = e.engine->config();
    const tcp::isn_generator* isn = ec.isn;
    if (isn == nullptr) {
        error = "generator: the engine has no ISN secrets";
        return false;
    }
    for (rte_be32_t l : c.laddrs) {
        if (l == 0 || (e.routes != nullptr && !e.routes->addrs().is_local(l))) {
            error = "generator: source address is not one of ours";
            return false;
        }
    }
    _targets.clear();
    _targets.reserve(c.targets.size());
    for (const tuple4& want : c.targets) {
        if (want.raddr == 0 || want.rport == 0) {
            error = "generator: a target needs an address and a port";
            return false;
        }
        target t;
        t.t = tuple4{0, want.raddr, 0, want.rport};
        rte_be32_t route_src = 0;
        if (e.routes != nullptr) {
            const route::route_result r = e.routes->lookup(want.raddr, want.laddr);
            if (!r.ok()) {
                t.err = route::route_errno(r.status);
            } else {
                t.mss = std::min(tcp::advmss_for_mtu(r.mtu), ec.opts.mss);
                route_src = r.src;
                t.next_hop = r.next_hop;
            }
        } else {
            t.mss = ec.opts.mss;
        }
        if (want.laddr != 0) {
            if (e.routes != nullptr && !e.routes->addrs().is_local(want.laddr)) {
                error = "generator: a target's source address is not one of ours";
                return false;
            }
            t.addrs = {want.laddr};
        } else if (!c.laddrs.empty()) {
            t.addrs = c.laddrs;
        } else if (route_src != 0) {
            t.addrs = {route_src};
        } else if (t.err == 0) {
            t.err = ENETUNREACH; // no route table and no source given
        }
        if (t.err == 0) {
            t.ts_off.resize(t.addrs.size());
            for (std::size_t i = 0; i < t.addrs.size(); i++) {
                // Linux secure_tcp_ts_off(saddr, daddr): one per address pair, not per connection.
                t.ts_off[i] = isn->ts_offset(tuple4{t.addrs[i], want.raddr, 0, 0});
            }
            if (!t.pairs.init(t.addrs, c.port_lo, c.port_hi, c.reserved_ports, want.raddr, want.rport, *e.steer,
                              e.lcore, ec.capacity, error)) {
                return false;
            }
        }
        _targets.push_back(std::move(t));
    }
    if (c.close == close_mode::hold && c.hold_ms != 0 && c.enabled()) {
        // Live held connections never exceed in_flight <= concurrency; twice
        // that leaves room for entries whose connection ended early, so a
        // full FIFO is always at least half stale (see hold_push).
        const uint64_t live = c.concurrency != 0 ? std::min(c.concurrency, ec.capacity) : ec.capacity;
        _hold.resize(std::size_t(2 * live));
    }
    e.engine->set_local_sink(&generator::sink, this, c.close != close_mode::hold);
    _registered = true;
    return true;
}

bool generator::done() const
{
    // Any thread. The lcore counts a connection in flight before it counts
    // the try (release); read the try first (acquire), then in flight, so
    // "every try made and none in flight" is never seen while a try is being
    // made. An idle lcore (no share of the work) is done once nothing is in flight.
    const uint64_t tries = __atomic_load_n(&_tries, __ATOMIC_ACQUIRE);
    const bool stopped = __atomic_load_n(&_stopped, __ATOMIC_ACQUIRE);
    const uint32_t in_flight = __atomic_load_n(&_in_flight, __ATOMIC_RELAXED);
    return in_flight == 0 && (stopped || !_cfg.enabled() || (_cfg.total != 0 && tries >= _cfg.total));
}

std::size_t generator::memory_bytes() const
{
    std::size_t b = _hold.capacity() * sizeof(held);
    for (const target& t : _targets) {
        // The ring's pages in use so far: at most every slot written once.
        const uint64_t written = std::min<uint64_t>(t.pairs.ring_capacity(), t.pairs.out() + t.pairs.recycled());
        b += std::size_t(written) * sizeof(uint32_t) + t.ts_off.capacity() * sizeof(uint32_t) +
             t.addrs.capacity() * sizeof(rte_be32_t) * 4; // addrs, hashes, sorted copies
    }
    return b;
}

// ---- opening --------------------------------------------------------------------

uint32_t generator::poll(uint64_t now_ns)
{
    if (!_hold.empty() && _hold_n != 0) {
        end_holds();
    }
    if (_stopped) {
        if (_cfg.close == close_mode::hold && _cfg.hold_ms == 0 && !_sweep_done) {
            sweep_held();
        }
        return 0;
    }
    if (!_cfg.enabled()) {
        return 0;
    }
    if (!_clock_started) {
        _clock_started = true;
        _last_ns = now_ns; // the bucket starts empty
        return 0;
    }
    // Token bucket: cps tokens a second, at most `burst` banked.
    _tokens = std::min(double(_cfg.burst), _tokens + _cps_per_ns * double(now_ns - _last_ns));
    _last_ns = now_ns;
    uint32_t n = 0;
    while (_tokens >= 1.0 + n && n < _cfg.burst && (_cfg.total == 0 || _tries + n < _cfg.total) &&
           (_cfg.concurrency == 0 || _in_flight + n < _cfg.concurrency)) {
        n++;
    }
    if (n == 0) {
        return 0;
    }
    // Two passes, as the engine's input path does with its lookups: take the
    // source pairs of the whole burst and prefetch the table buckets their
    // inserts will touch, then open them while those loads are in flight.
    pending p[max_burst];
    uint32_t k = 0;
    uint32_t used = 0;
    ++_poll_no;
    for (uint32_t blocked = 0; used < n && blocked < _targets.size();) {
        const uint32_t ti = _next;
        _next = _next + 1 == _targets.size() ? 0 : _next + 1;
        target& tg = _targets[ti];
        if (!arp_room(tg)) {
            blocked++; // its next hop is still resolving and its queue is full: not a try yet
            continue;
        }
        blocked = 0;
        used++;
        _ctr.inc(ctr::tried);
        uint32_t ai;
        uint16_t port;
        if (tg.err != 0 || !tg.pairs.take(ai, port)) {
            // unroutable, or every owned 4-tuple to this target is in use: known at once
            _ctr.inc(tg.err != 0 ? ctr::unroutable : ctr::no_port);
            __atomic_store_n(&_tries, _tries + 1, __ATOMIC_RELEASE);
            continue;
        }
        in_flight_add(1); // before the try is counted (done() from other threads)
        __atomic_store_n(&_tries, _tries + 1, __ATOMIC_RELEASE);
        p[k] = pending{tuple4{tg.addrs[ai], tg.t.raddr, rte_cpu_to_be_16(port), tg.t.rport}, ti, ai};
        _env.engine->prefetch_open(p[k].t);
        k++;
    }
    _tokens -= used;
    for (uint32_t i = 0; i < k; i++) {
        target& tg = _targets[p[i].target];
        tcp::event_type why;
        int32_t err;
        if (_env.engine->open_local(p[i].t, tg.mss, tg.ts_off[p[i].addr], uint16_t(p[i].target), nullptr, why,
                                    err)) {
            continue;
        }
        in_flight_add(-1);
        tg.pairs.give_back(p[i].addr, rte_be_to_cpu_16(p[i].t.lport));
        _ctr.inc(err == EADDRNOTAVAIL ? ctr::pair_busy : ctr::open_failed);
    }
    _env.engine->flush_local();
    return used;
}

bool generator::arp_room(target& tg)
{
    // While a target's next hop is unresolved, its SYNs wait in the
    // neighbour entry's queue (queue_len deep; the oldest is dropped beyond
    // that and retransmitted a second later -- a whole concurrency window
    // stalled at start-up). So open only as many as the queue holds; the
    // rest wait for the ARP reply like the generator waits for tokens.
    if (_env.neigh == nullptr || tg.next_hop == 0 || tg.err != 0) {
        return true;
    }
    if (tg.room_poll != _poll_no) {
        tg.room_poll = _poll_no;
        const std::optional<route::neigh_view> v = _env.neigh->find(tg.next_hop);
        const uint32_t qlen = _env.neigh->config().queue_len;
        if (!v || v->state != route::neigh_state::incomplete) {
            tg.room = v ? UINT32_MAX : 1; // no entry: the first SYN starts the resolution
        } else {
            tg.room = v->queued < qlen ? qlen - v->queued : 0;
        }
    }
    if (tg.room == 0) {
        _ctr.inc(ctr::arp_waits);
        return false;
    }
    if (tg.room != UINT32_MAX) {
        tg.room--;
    }
    return true;
}

// ---- events -----------------------------------------------------------------------

void generator::sink(void* ctx, const tcp::event& e)
{
    static_cast<generator*>(ctx)->on_event(e);
}

void generator::on_event(const tcp::event& e)
{
    // ev_pending marks a connection's first event: until then it counts in
    // flight. Established hands it to the close mode; anything else first
    // means it ended before that (a failed handshake, or an exchange of the
    // stream app that ended on its own).
    const bool pending = (e.opts & tcp::ev_pending) != 0;
    const bool app_closed = (e.opts & tcp::ev_app_closed) != 0;
    switch (e.type) {
    case tcp::event_type::established:
        on_established(e);
        return;
    case tcp::event_type::refused:
    case tcp::event_type::timed_out:
    case tcp::event_type::unreachable:
        _ctr.inc(ctr::failed);
        in_flight_add(-1);
        return;
    case tcp::event_type::reset:
    case tcp::event_type::closed:
        if (pending) {
            _ctr.inc(ctr::ended_in_exchange);
            in_flight_add(-1);
        } else if (e.type == tcp::event_type::reset && !app_closed && _cfg.close == close_mode::hold) {
            _ctr.inc(ctr::held_lost); // a held connection the peer reset
            in_flight_add(-1);
        }
        return;
    case tcp::event_type::peer_closed:
        // CLOSE-WAIT: finish with our FIN (LAST-ACK), as an application would.
        if (!app_closed) {
            if (_cfg.close == close_mode::hold) {
                _ctr.inc(ctr::held_lost);
                in_flight_add(-1);
            }
            _env.engine->close(e.h);
        }
        return;
    case tcp::event_type::released: {
        if (pending) { // freed with nothing said before (e.g. a stream aborted)
            _ctr.inc(ctr::ended_in_exchange);
            in_flight_add(-1);
        }
        const uint32_t ti = e.listener_ref;
        if (ti < _targets.size()) {
            target& tg = _targets[ti];
            const int64_t ai = tg.pairs.addr_index(e.tuple.laddr);
            if (ai >= 0) {
                tg.pairs.give_back(uint32_t(ai), rte_be_to_cpu_16(e.tuple.lport));
                _ctr.inc(ctr::released);
            }
        }
        return;
    }
    default:
        return;
    }
}

void generator::on_established(const tcp::event& e)
{
    const bool peer_closed = (e.opts & tcp::ev_peer_closed) != 0;
    switch (_cfg.close) {
    case close_mode::rst:
        // SO_LINGER 0 right after connect(): RST <SEQ=SND.NXT>, freed.
        in_flight_add(-1);
        _ctr.inc(ctr::closed_by_rst);
        _env.engine->abort(e.h);
        return;
    case close_mode::fin:
        // In CLOSE-WAIT (the peer closed first) this FIN takes it to LAST-ACK.
        in_flight_add(-1);
        _ctr.inc(ctr::closed_by_fin);
        _env.engine->close(e.h);
        return;
    case close_mode::hold:
        _ctr.inc(ctr::held);
        if (peer_closed || _stopped) {
            in_flight_add(-1);
            _ctr.inc(peer_closed ? ctr::held_lost : ctr::hold_ended);
            _env.engine->close(e.h);
            return;
        }
        if (_cfg.hold_ms != 0) {
            hold_push(held{e.h, _env.engine->now_ms() + _cfg.hold_ms});
        }
        return;
    }
}

// ---- holds --------------------------------------------------------------------------

void generator::hold_push(const held& h)
{
    const uint32_t cap = uint32_t(_hold.size());
    if (_hold_n == cap) {
        // Full: drop the entries whose connection already ended (reset or
        // closed by the peer). At most half are live, so this frees at least
        // half: amortised O(1).
        uint32_t kept = 0;
        for (uint32_t k = 0; k < _hold_n; k++) {
            const held& x = _hold[(_hold_head + k) % cap];
            const tcp::conn* c = _env.engine->find(x.h);
            if (c != nullptr && c->st == tcp::state::established && !c->has(tcp::cf_app_closed)) {
                _hold[(_hold_head + kept) % cap] = x;
                kept++;
            }
        }
        _hold_n = kept;
    }
    _hold[(_hold_head + _hold_n) % cap] = h;
    _hold_n++;
}

void generator::end_holds()
{
    const uint32_t cap = uint32_t(_hold.size());
    const uint32_t now = _env.engine->now_ms();
    for (uint32_t k = 0; k < hold_budget && _hold_n != 0; k++) {
        const held& x = _hold[_hold_head];
        if (!_stopped && int32_t(now - x.expire_ms) < 0) {
            break; // a FIFO of equal hold times is sorted by expiry
        }
        const tcp::handle h = x.h;
        _hold_head = _hold_head + 1 == cap ? 0 : _hold_head + 1;
        _hold_n--;
        const tcp::conn* c = _env.engine->find(h);
        if (c != nullptr && c->st == tcp::state::established && !c->has(tcp::cf_app_closed)) {
            in_flight_add(-1);
            _ctr.inc(ctr::hold_ended);
            _env.engine->close(h);
        }
    }
    _env.engine->flush_local();
}

void generator::sweep_held()
{
    // At most hold_budget FINs per poll, like the opens: a sweep that closed
    // millions at once would overflow the tx queue (and lose the FINs to
    // their 1 s retransmission). The loop polls again only once the port
    // takes frames (backpressure).
    uint32_t closed = 0;
    _sweep = _env.engine->sweep_local(_sweep, sweep_budget, [&](const tcp::handle& h, const tcp::conn& c) {
        if (c.st == tcp::state::established && !c.has(tcp::cf_app_closed)) {
            in_flight_add(-1);
            _ctr.inc(ctr::hold_ended);
            _env.engine->close(h);
            closed++;
        }
        return closed < hold_budget;
    });
    _sweep_done = _sweep == UINT32_MAX;
}

} // namespace fg::gen
