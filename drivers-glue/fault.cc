#include "fault.hh"

#include <cmath>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>

namespace fg::glue {

namespace {
constexpr uint64_t never = UINT64_MAX; // after_seq of frames no successor releases

uint64_t splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

bool share_ok(double s) { return std::isfinite(s) && s >= 0 && s <= 1; }
} // namespace

bool fault_config::valid(std::string& error) const
{
    if (!share_ok(drop) || !share_ok(duplicate) || !share_ok(reorder) || !share_ok(delay)) {
        error = "fault shares (drop, duplicate, reorder, delay) must be between 0 and 1";
        return false;
    }
    if (delay_us == 0 || reorder_max_us == 0) {
        error = "fault delay_us and reorder_max_us must be > 0";
        return false;
    }
    if (hold_max == 0) {
        error = "fault hold_max must be > 0";
        return false;
    }
    return true;
}

std::unique_ptr<fault_injector> fault_injector::attach(uint16_t port_id, uint16_t n_queues, const fault_config& cfg,
                                                       std::string& error)
{
    if (!cfg.valid(error)) {
        return nullptr;
    }
    if (!rte_eth_dev_is_valid_port(port_id) || n_queues == 0) {
        error = "fault injector: no port " + std::to_string(port_id) + " or no queue";
        return nullptr;
    }
    std::unique_ptr<fault_injector> f(new fault_injector());
    f->_port = port_id;
    f->_cfg = cfg;
    f->_delay_tsc = rte_get_tsc_hz() / 1000000 * cfg.delay_us;
    f->_reorder_tsc = rte_get_tsc_hz() / 1000000 * cfg.reorder_max_us;
    for (uint16_t q = 0; q < n_queues; q++) {
        auto s = std::make_unique<queue_state>();
        s->owner = f.get();
        s->queue = q;
        s->rng = splitmix(cfg.seed ^ (uint64_t(port_id) << 16 | q));
        s->rng = s->rng != 0 ? s->rng : 1; // xorshift's one bad state
        s->hold.reserve(cfg.hold_max);
        f->_q.push_back(std::move(s));
    }
    for (uint16_t q = 0; q < n_queues; q++) {
        queue_state& s = *f->_q[q];
        s.cb = rte_eth_add_rx_callback(port_id, q, &fault_injector::on_rx, &s);
        if (s.cb == nullptr) {
            error = "fault injector: rte_eth_add_rx_callback(port " + std::to_string(port_id) + ", queue " +
                    std::to_string(q) + "): " + rte_strerror(rte_errno);
            return nullptr; // the destructor removes those already added
        }
    }
    return f;
}

fault_injector::~fault_injector()
{
    for (auto& q : _q) {
        if (q->cb != nullptr && rte_eth_remove_rx_callback(_port, q->queue, q->cb) == 0) {
            // No lcore polls the queue any more (the contract): the callback
            // block is ours to free (rte_eth_remove_rx_callback's note).
            rte_free(const_cast<rte_eth_rxtx_callback*>(q->cb));
        }
        q->cb = nullptr;
        for (const held_frame& h : q->hold) {
            rte_pktmbuf_free(h.m);
        }
        inc(q->ctr.freed_held, q->hold.size());
        q->hold.clear();
    }
}

double fault_injector::uniform(uint64_t& s)
{
    // xorshift64* (Vigna): fast, and plenty for choosing frames.
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return double((s * 0x2545f4914f6cdd1dull) >> 11) * 0x1.0p-53;
}

uint16_t fault_injector::on_rx(uint16_t, uint16_t, rte_mbuf** pkts, uint16_t n, uint16_t max, void* arg)
{
    auto* q = static_cast<queue_state*>(arg);
    return q->owner->rx(*q, pkts, n, max);
}

uint16_t fault_injector::rx(queue_state& q, rte_mbuf** pkts, uint16_t n, uint16_t max)
{
    const fault_config& c = _cfg;
    const uint64_t now = q.hold.empty() && n == 0 ? 0 : rte_get_tsc_cycles();
    uint16_t k = 0; // delivered so far: pkts[0, k), compacted in place (k <= i)
    for (uint16_t i = 0; i < n; i++) {
        rte_mbuf* m = pkts[i];
        inc(q.ctr.frames);
        if (c.drop > 0 && uniform(q.rng) < c.drop) {
            rte_pktmbuf_free(m);
            inc(q.ctr.dropped);
            continue;
        }
        if (c.duplicate > 0 && uniform(q.rng) < c.duplicate) {
            // The copy waits in the hold, due at once: it goes out behind
            // this burst's fresh frames, so after its original.
            if (q.hold.size() >= c.hold_max) {
                inc(q.ctr.hold_full);
            } else if (rte_mbuf* d = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX); d == nullptr) {
                inc(q.ctr.dup_failed);
            } else {
                q.hold.push_back(held_frame{d, 0, never});
                inc(q.ctr.duplicated);
            }
        }
        if (c.reorder > 0 && uniform(q.rng) < c.reorder) {
            if (q.hold.size() < c.hold_max) {
                q.hold.push_back(held_frame{m, now + _reorder_tsc, q.seq});
                inc(q.ctr.reordered);
                continue;
            }
            inc(q.ctr.hold_full);
        } else if (c.delay > 0 && uniform(q.rng) < c.delay) {
            if (q.hold.size() < c.hold_max) {
                q.hold.push_back(held_frame{m, now + _delay_tsc, never});
                inc(q.ctr.delayed);
                continue;
            }
            inc(q.ctr.hold_full);
        }
        pkts[k++] = m;
        q.seq++;
    }
    // Held frames that are due, behind this burst's fresh frames; what does
    // not fit into the caller's array waits for the next rx_burst.
    uint64_t released = 0;
    for (size_t j = 0; j < q.hold.size() && k < max;) {
        const held_frame& h = q.hold[j];
        if (now >= h.due_tsc || q.seq > h.after_seq) {
            pkts[k++] = h.m;
            released++;
            q.hold[j] = q.hold.back();
            q.hold.pop_back();
        } else {
            j++;
        }
    }
    if (released != 0) {
        inc(q.ctr.released, released);
    }
    return k;
}

fault_counters fault_injector::totals() const
{
    fault_counters t;
    for (const auto& q : _q) {
#define FG_X(name, doc) t.name += __atomic_load_n(&q->ctr.name, __ATOMIC_RELAXED);
        FG_FOREACH_FAULT_COUNTER(FG_X)
#undef FG_X
    }
    return t;
}

uint64_t fault_injector::held() const
{
    const fault_counters t = totals();
    return t.duplicated + t.reordered + t.delayed - t.released - t.freed_held;
}

} // namespace fg::glue
