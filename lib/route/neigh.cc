#include "route/neigh.hh"

#include <algorithm>
#include <bit>

#include "route/addr.hh"

namespace fg::route {

namespace {

constexpr const char* state_names[] = {
#define FG_X(name, desc) #name,
    FG_FOREACH_NEIGH_STATE(FG_X)
#undef FG_X
};
constexpr const char* action_names[] = {
#define FG_X(name, desc) #name,
    FG_FOREACH_NEIGH_ACTION(FG_X)
#undef FG_X
};

bool unicast_sender(rte_be32_t ip, const rte_ether_addr& mac)
{
    return ip != 0 && !is_martian(rte_be_to_cpu_32(ip)) && !rte_is_multicast_ether_addr(&mac) &&
           !rte_is_zero_ether_addr(&mac);
}

} // namespace

const char* neigh_state_name(neigh_state s) { return state_names[unsigned(s)]; }
const char* neigh_action_name(neigh_action a) { return action_names[unsigned(a)]; }

std::unique_ptr<neigh_table> neigh_table::create(const neigh_config& cfg, std::string& error)
{
    if (cfg.max_entries == 0 || cfg.max_entries > (1u << 20)) {
        error = "neighbour table: max_entries " + std::to_string(cfg.max_entries) + " out of range 1..1048576";
        return nullptr;
    }
    if (cfg.queue_len == 0 || cfg.queue_len > 4096) {
        error = "neighbour table: queue_len " + std::to_string(cfg.queue_len) + " out of range 1..4096";
        return nullptr;
    }
    if (cfg.max_tries == 0 || cfg.retrans_ms == 0 || cfg.reachable_ms == 0 || cfg.gc_stale_ms == 0 ||
        cfg.gc_sweep == 0) {
        error = "neighbour table: max_tries, retrans_ms, reachable_ms, gc_stale_ms and gc_sweep must be > 0";
        return nullptr;
    }
    return std::unique_ptr<neigh_table>(new neigh_table(cfg));
}

neigh_table::neigh_table(const neigh_config& cfg)
    : _cfg(cfg), _entries(new entry[cfg.max_entries]()),
      _queue(new void*[std::size_t(cfg.max_entries) * cfg.queue_len]())
{
    // At most half full, so probe chains stay short and always end.
    const uint32_t n_slots = std::max<uint32_t>(16, std::bit_ceil(cfg.max_entries * 2));
    _slots.reset(new slot[n_slots]());
    _slot_mask = n_slots - 1;
    for (uint32_t i = 0; i < cfg.max_entries; i++) {
        _entries[i].next = i + 1 < cfg.max_entries ? i + 1 : none;
        _entries[i].prev = none;
    }
    _free_head = 0;
}

uint32_t neigh_table::alloc(rte_be32_t ip, uint32_t now_ms)
{
    if (_free_head == none) {
        return none;
    }
    const uint32_t i = _free_head;
    entry& e = _entries[i];
    _free_head = e.next;
    e = entry{};
    e.ip = ip;
    e.timer_ms = now_ms;
    e.used_ms = now_ms;
    e.prev = none;
    e.next = none;
    uint32_t h = hash(ip);
    while (_slots[h].ip != 0) {
        h = (h + 1) & _slot_mask;
    }
    _slots[h] = slot{ip, i};
    _used++;
    return i;
}

void neigh_table::release(uint32_t i)
{
    entry& e = _entries[i];
    uint32_t h = hash(e.ip);
    while (_slots[h].ip != e.ip) {
        h = (h + 1) & _slot_mask;
    }
    // Backward-shift deletion: pull later members of the probe chain into the
    // hole unless their home slot lies cyclically in (hole, j].
    uint32_t j = h;
    while (true) {
        j = (j + 1) & _slot_mask;
        if (_slots[j].ip == 0) {
            break;
        }
        const uint32_t k = hash(_slots[j].ip);
        const bool stays = (h <= j) ? (h < k && k <= j) : (h < k || k <= j);
        if (!stays) {
            _slots[h] = _slots[j];
            h = j;
        }
    }
    _slots[h] = slot{0, 0};
    e = entry{};
    e.state = uint8_t(neigh_state::free);
    e.prev = none;
    e.next = _free_head;
    _free_head = i;
    _used--;
}

void neigh_table::pend_push(uint32_t i)
{
    entry& e = _entries[i];
    e.next = none;
    e.prev = _pend_tail;
    if (_pend_tail != none) {
        _entries[_pend_tail].next = i;
    } else {
        _pend_head = i;
    }
    _pend_tail = i;
}

void neigh_table::pend_unlink(uint32_t i)
{
    entry& e = _entries[i];
    if (e.prev != none) {
        _entries[e.prev].next = e.next;
    } else {
        _pend_head = e.next;
    }
    if (e.next != none) {
        _entries[e.next].prev = e.prev;
    } else {
        _pend_tail = e.prev;
    }
    e.prev = none;
    e.next = none;
}

void* neigh_table::enqueue(entry& e, void* pkt)
{
    if (pkt == nullptr) {
        return nullptr;
    }
    void** q = queue_of(e);
    _ctr.queued++;
    if (e.q_len < _cfg.queue_len) {
        q[(e.q_head + e.q_len) % _cfg.queue_len] = pkt;
        e.q_len++;
        return nullptr;
    }
    // Full: drop the oldest, as Linux's __neigh_event_send does.
    void* oldest = q[e.q_head];
    q[e.q_head] = pkt;
    e.q_head = uint16_t((e.q_head + 1) % _cfg.queue_len);
    _ctr.queue_full_drops++;
    return oldest;
}

resolve_result neigh_table::resolve_slow(uint32_t i, rte_be32_t ip, void* pkt, uint32_t now_ms)
{
    const rte_ether_addr zero{};
    if (ip == 0) {
        _ctr.failed_refusals++;
        return resolve_result{neigh_action::failed, zero, nullptr};
    }
    // Starts (or restarts) a round of requests with `pkt` queued.
    auto start = [&](uint32_t idx) {
        entry& e = _entries[idx];
        e.state = uint8_t(neigh_state::incomplete);
        e.tries = 1;
        e.timer_ms = now_ms;
        pend_push(idx);
        _ctr.requests++;
        enqueue(e, pkt); // empty queue: never drops
        return resolve_result{neigh_action::queued_send_request, zero, nullptr};
    };
    if (i == none) {
        i = alloc(ip, now_ms);
        if (i == none) {
            _ctr.table_full_drops++;
            return resolve_result{neigh_action::table_full, zero, nullptr};
        }
        _ctr.misses++;
        return start(i);
    }
    entry& e = _entries[i];
    e.used_ms = now_ms;
    switch (neigh_state(e.state)) {
    case neigh_state::reachable: // not confirmed for reachable_ms
        e.state = uint8_t(neigh_state::stale);
        e.tries = 0;
        [[fallthrough]];
    case neigh_state::stale:
        if (e.tries >= _cfg.max_tries && now_ms - e.timer_ms >= _cfg.retrans_ms) {
            // Probes went unanswered: resolve afresh (Linux PROBE -> FAILED).
            return start(i);
        }
        _ctr.hits++;
        if (e.tries == 0 || (e.tries < _cfg.max_tries && now_ms - e.timer_ms >= _cfg.retrans_ms)) {
            e.tries++;
            e.timer_ms = now_ms;
            _ctr.probes++;
            _ctr.requests++;
            return resolve_result{neigh_action::mac_known_send_request, e.mac, nullptr};
        }
        return resolve_result{neigh_action::mac_known, e.mac, nullptr};
    case neigh_state::incomplete: {
        void* dropped = enqueue(e, pkt);
        return resolve_result{dropped ? neigh_action::queued_dropped_oldest : neigh_action::queued, zero, dropped};
    }
    case neigh_state::failed:
        if (now_ms - e.timer_ms < _cfg.failed_hold_ms) {
            _ctr.failed_refusals++;
            return resolve_result{neigh_action::failed, zero, nullptr};
        }
        return start(i);
    case neigh_state::permanent:
        _ctr.hits++;
        return resolve_result{neigh_action::mac_known, e.mac, nullptr};
    case neigh_state::free:
        break;
    }
    _ctr.failed_refusals++; // unreachable: a free entry is never indexed
    return resolve_result{neigh_action::failed, zero, nullptr};
}

arp_outcome neigh_table::learn(rte_be32_t ip, const rte_ether_addr& mac, arp_kind kind, uint32_t now_ms,
                               uint32_t& idx)
{
    if (!unicast_sender(ip, mac)) {
        _ctr.ignored_bad_sender++;
        return arp_outcome::ignored_bad_sender;
    }
    uint32_t i = index_of(ip);
    if (i == none) {
        // Linux learns the sender of a request for one of its addresses (it
        // will talk back to it); anything else about a stranger is ignored
        // (arp_accept=0), so a flood of gratuitous ARP cannot fill the table.
        if (kind != arp_kind::request_to_us) {
            _ctr.ignored_unknown++;
            return arp_outcome::ignored_unknown;
        }
        i = alloc(ip, now_ms);
        if (i == none) {
            _ctr.learn_table_full++;
            return arp_outcome::table_full;
        }
        entry& e = _entries[i];
        e.mac = mac;
        e.state = uint8_t(neigh_state::stale);
        _ctr.learned++;
        idx = i;
        return arp_outcome::created;
    }
    entry& e = _entries[i];
    idx = i;
    const neigh_state st = neigh_state(e.state);
    if (st == neigh_state::permanent) {
        _ctr.ignored_static++;
        return arp_outcome::ignored_static;
    }
    const bool had_mac = st == neigh_state::reachable || st == neigh_state::stale;
    const bool changed = had_mac && !rte_is_same_ether_addr(&e.mac, &mac);
    if (changed) {
        _ctr.mac_changes++;
    }
    if (st == neigh_state::incomplete) {
        pend_unlink(i);
    }
    e.mac = mac;
    if (kind == arp_kind::reply_to_us) {
        e.state = uint8_t(neigh_state::reachable);
        e.timer_ms = now_ms;
        e.tries = 0;
        _ctr.confirmed++;
    } else {
        // Unconfirmed news: usable, to be re-probed (Linux sets STALE on an
        // override with a new address; the same address keeps its state).
        if (!had_mac || changed) {
            e.state = uint8_t(neigh_state::stale);
            e.timer_ms = now_ms;
            e.tries = 0;
        }
        _ctr.updated++;
    }
    if (st == neigh_state::incomplete) {
        _ctr.resolved++;
        return arp_outcome::resolved;
    }
    return arp_outcome::confirmed;
}

bool neigh_table::make_static(rte_be32_t ip, const rte_ether_addr& mac, std::string& error, uint32_t& idx)
{
    if (!unicast_sender(ip, mac)) {
        error = "static neighbour " + format_ipv4(rte_be_to_cpu_32(ip)) + ": address and MAC must be unicast";
        return false;
    }
    uint32_t i = index_of(ip);
    if (i == none) {
        i = alloc(ip, 0);
        if (i == none) {
            error = "static neighbour " + format_ipv4(rte_be_to_cpu_32(ip)) + ": table full (max_entries " +
                    std::to_string(_cfg.max_entries) + ")";
            return false;
        }
    } else if (_entries[i].state == uint8_t(neigh_state::incomplete)) {
        pend_unlink(i);
    }
    entry& e = _entries[i];
    e.state = uint8_t(neigh_state::permanent);
    e.mac = mac;
    e.tries = 0;
    idx = i;
    return true;
}

void neigh_table::retransmit(entry& e, uint32_t now_ms)
{
    const uint32_t i = uint32_t(&e - _entries.get());
    e.tries++;
    e.timer_ms = now_ms;
    pend_unlink(i);
    pend_push(i); // now the newest request: the list stays ordered by timer_ms
    _ctr.requests++;
    _ctr.retransmits++;
}

void neigh_table::mark_failed(entry& e, uint32_t now_ms)
{
    pend_unlink(uint32_t(&e - _entries.get()));
    e.state = uint8_t(neigh_state::failed);
    e.timer_ms = now_ms;
    _ctr.failures++;
    _ctr.failed_drops += e.q_len;
}

void neigh_table::sweep(uint32_t now_ms)
{
    const uint32_t n = std::min(_cfg.gc_sweep, _cfg.max_entries);
    for (uint32_t k = 0; k < n; k++) {
        const uint32_t i = _sweep_pos;
        _sweep_pos = _sweep_pos + 1 == _cfg.max_entries ? 0 : _sweep_pos + 1;
        const entry& e = _entries[i];
        const neigh_state st = neigh_state(e.state);
        const bool expired = (st == neigh_state::failed && now_ms - e.timer_ms >= _cfg.failed_hold_ms) ||
                             ((st == neigh_state::reachable || st == neigh_state::stale) &&
                              now_ms - e.used_ms >= _cfg.gc_stale_ms);
        if (expired) {
            release(i);
            _ctr.expired++;
        }
    }
}

std::optional<neigh_view> neigh_table::find(rte_be32_t ip) const
{
    if (ip == 0) {
        return std::nullopt;
    }
    const uint32_t i = index_of(ip);
    if (i == none) {
        return std::nullopt;
    }
    const entry& e = _entries[i];
    return neigh_view{neigh_state(e.state), e.mac, e.q_len, e.tries};
}

} // namespace fg::route
