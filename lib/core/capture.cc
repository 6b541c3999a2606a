#include "core/capture.hh"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_version.h>

#include "base/log.hh"
#include "eal.hh"

namespace fg::core {

namespace {
constexpr uint16_t write_burst = 64;      // copies written per rte_pcapng_write_packets() call
constexpr auto idle_sleep = std::chrono::microseconds(500); // writer: nothing queued

uint64_t wall_ns()
{
    return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count());
}
} // namespace

std::unique_ptr<capture> capture::open(const capture_config& cfg, const std::vector<queue_id>& queues,
                                       std::string& error)
{
    std::unique_ptr<capture> c(new capture());
    c->_cfg = cfg;
    c->_fd = ::open(cfg.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (c->_fd < 0) {
        error = "--pcap: cannot create " + cfg.path + ": " + std::strerror(errno);
        return nullptr;
    }
    c->_pcap = rte_pcapng_fdopen(c->_fd, nullptr, nullptr, "floodgate", nullptr);
    if (c->_pcap == nullptr) {
        error = "--pcap: cannot start a pcapng file: " + std::string(rte_strerror(rte_errno));
        ::close(c->_fd);
        c->_fd = -1;
        return nullptr;
    }
    // rte_pcapng_close() closes the fd. What fdopen wrote (section and
    // interface blocks) counts toward the size bound.
    const off_t head = ::lseek(c->_fd, 0, SEEK_CUR);
    c->_bytes.store(head > 0 ? uint64_t(head) : 0);
    c->_copy_len = std::min<uint32_t>(cfg.snaplen, cfg.max_frame);
    const uint32_t room = rte_pcapng_mbuf_size(c->_copy_len);
    c->_pool = rte_pktmbuf_pool_create("fg_pcap", cfg.n_mbufs, 256, 0, uint16_t(std::min<uint32_t>(room, UINT16_MAX)),
                                       SOCKET_ID_ANY);
    if (c->_pool == nullptr) {
        error = "--pcap: cannot create the capture mbuf pool: " + std::string(rte_strerror(rte_errno));
        return nullptr;
    }
    c->_start_ns = wall_ns();
    c->_start_tsc = rte_get_tsc_cycles();
    c->_ns_per_tsc = 1e9 / double(rte_get_tsc_hz());
    for (const queue_id& q : queues) {
        if (!c->attach(q.port, q.queue, error)) {
            return nullptr;
        }
    }
    c->_writer = std::thread([p = c.get()] { p->writer(); });
    return c;
}

bool capture::attach(uint16_t port, uint16_t queue, std::string& error)
{
    auto t = std::make_unique<queue_tap>();
    t->owner = this;
    t->port = port;
    t->queue = queue;
    const std::string rn = "fg_pcap_" + std::to_string(port) + "_" + std::to_string(queue);
    t->ring = rte_ring_create(rn.c_str(), _cfg.ring_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (t->ring == nullptr) {
        error = "--pcap: cannot create a capture ring: " + std::string(rte_strerror(rte_errno));
        return false;
    }
    queue_tap* raw = t.get();
    _taps.push_back(std::move(t));
    raw->rx_cb = rte_eth_add_rx_callback(port, queue, &capture::on_rx, raw);
    raw->tx_cb = rte_eth_add_tx_callback(port, queue, &capture::on_tx, raw);
    if (raw->rx_cb == nullptr || raw->tx_cb == nullptr) {
        error = "--pcap: cannot add rx/tx callbacks to port " + std::to_string(port) + " queue " +
                std::to_string(queue) + ": " + rte_strerror(rte_errno);
        return false;
    }
    return true;
}

uint16_t capture::on_rx(uint16_t, uint16_t, rte_mbuf** pkts, uint16_t n, uint16_t, void* arg)
{
    auto* q = static_cast<queue_tap*>(arg);
    if (n != 0) {
        q->rx += n;
        q->owner->copy(*q, pkts, n, RTE_PCAPNG_DIRECTION_IN);
    }
    return n;
}

uint16_t capture::on_tx(uint16_t, uint16_t, rte_mbuf** pkts, uint16_t n, void* arg)
{
    auto* q = static_cast<queue_tap*>(arg);
    if (n != 0) {
        q->tx += n;
        q->owner->copy(*q, pkts, n, RTE_PCAPNG_DIRECTION_OUT);
    }
    return n;
}

void capture::copy(queue_tap& q, rte_mbuf** pkts, uint16_t n, rte_pcapng_direction dir)
{
    if (_full.load(std::memory_order_relaxed)) {
        __atomic_store_n(&q.lost_size, q.lost_size + n, __ATOMIC_RELAXED);
        return;
    }
    rte_mbuf* copies[RTE_MAX(write_burst, 64)];
    const uint64_t ts = rte_get_tsc_cycles();
    uint16_t done = 0;
    while (done < n) {
        const uint16_t chunk = uint16_t(std::min<uint32_t>(n - done, RTE_DIM(copies)));
        uint16_t made = 0;
        for (uint16_t i = 0; i < chunk; i++) {
            rte_mbuf* c = rte_pcapng_copy(q.port, q.queue, pkts[done + i], _pool, _copy_len, ts, dir);
            if (c != nullptr) {
                set_timestamp(c, ts);
                copies[made++] = c;
            }
        }
        const unsigned queued = rte_ring_sp_enqueue_burst(q.ring, reinterpret_cast<void**>(copies), made, nullptr);
        if (queued < made) {
            rte_pktmbuf_free_bulk(&copies[queued], made - queued);
        }
        __atomic_store_n(&q.captured, q.captured + queued, __ATOMIC_RELAXED);
        __atomic_store_n(&q.lost_busy, q.lost_busy + (chunk - queued), __ATOMIC_RELAXED);
        done = uint16_t(done + chunk);
    }
}

// DPDK 22.11's rte_pcapng_copy() turns TSC cycles into nanoseconds as
// (cycles - cycles at load) * 1e9 / hz in 64 bits, which wraps a few seconds
// after the process started (fixed in later DPDK): the packet block's
// timestamp is rewritten here from our own wall-clock base.
void capture::set_timestamp(rte_mbuf* copy, uint64_t tsc) const
{
    struct epb_head {
        uint32_t block_type;
        uint32_t block_length;
        uint32_t interface_id;
        uint32_t timestamp_hi;
        uint32_t timestamp_lo;
    };
    auto* e = rte_pktmbuf_mtod(copy, epb_head*);
    const uint64_t ns = _start_ns + uint64_t(double(tsc - _start_tsc) * _ns_per_tsc);
    e->timestamp_hi = uint32_t(ns >> 32);
    e->timestamp_lo = uint32_t(ns);
}

bool capture::drain_once()
{
    bool any = false;
    for (auto& t : _taps) {
        rte_mbuf* m[write_burst];
        unsigned n;
        while ((n = rte_ring_sc_dequeue_burst(t->ring, reinterpret_cast<void**>(m), write_burst, nullptr)) > 0) {
            any = true;
            unsigned keep = n;
            if (_cfg.max_bytes != 0) {
                // Only what fits under the bound: whole blocks.
                uint64_t b = _bytes.load(std::memory_order_relaxed);
                keep = 0;
                while (keep < n && b + rte_pktmbuf_pkt_len(m[keep]) <= _cfg.max_bytes) {
                    b += rte_pktmbuf_pkt_len(m[keep]);
                    keep++;
                }
                if (keep < n) {
                    _full.store(true, std::memory_order_relaxed);
                    _lost_size_writer.fetch_add(n - keep, std::memory_order_relaxed);
                    rte_pktmbuf_free_bulk(&m[keep], n - keep);
                }
            }
            if (keep == 0) {
                continue;
            }
            // (22.11's header says the copies are freed; its code does not, as dpdk-dumpcap knows.)
            const ssize_t w = rte_pcapng_write_packets(_pcap, m, uint16_t(keep));
            rte_pktmbuf_free_bulk(m, keep);
            if (w < 0) {
                _write_errors.fetch_add(keep, std::memory_order_relaxed);
            } else {
                _written.fetch_add(keep, std::memory_order_relaxed);
                _bytes.fetch_add(uint64_t(w), std::memory_order_relaxed);
            }
        }
    }
    return any;
}

void capture::writer()
{
    glue::unpin_this_thread();
    while (!_stop.load(std::memory_order_acquire)) {
        if (!drain_once()) {
            std::this_thread::sleep_for(idle_sleep);
        }
    }
}

void capture::close()
{
    if (_closed) {
        return;
    }
    _closed = true;
    // The lcores have stopped: no callback runs any more once removed.
    for (auto& t : _taps) {
        if (t->rx_cb != nullptr && rte_eth_remove_rx_callback(t->port, t->queue, t->rx_cb) == 0) {
            rte_free(const_cast<rte_eth_rxtx_callback*>(t->rx_cb));
        }
        if (t->tx_cb != nullptr && rte_eth_remove_tx_callback(t->port, t->queue, t->tx_cb) == 0) {
            rte_free(const_cast<rte_eth_rxtx_callback*>(t->tx_cb));
        }
        t->rx_cb = t->tx_cb = nullptr;
    }
    _stop.store(true, std::memory_order_release);
    if (_writer.joinable()) {
        _writer.join();
    }
    if (_pcap != nullptr) {
        drain_once();
        // One statistics block per port captured: frames seen and not written.
        const uint64_t end_ns = wall_ns();
        std::vector<uint16_t> ports;
        for (auto& t : _taps) {
            if (std::find(ports.begin(), ports.end(), t->port) == ports.end()) {
                ports.push_back(t->port);
            }
        }
        for (uint16_t p : ports) {
            uint64_t seen = 0;
            uint64_t lost = 0;
            for (auto& t : _taps) {
                if (t->port == p) {
                    seen += t->rx + t->tx;
                    lost += t->lost_busy + t->lost_size;
                }
            }
            rte_pcapng_write_stats(_pcap, p, "floodgate capture", _start_ns, end_ns, seen, lost);
        }
        rte_pcapng_close(_pcap); // closes _fd
        _pcap = nullptr;
        _fd = -1;
    }
    for (auto& t : _taps) {
        if (t->ring != nullptr) {
            rte_mbuf* m;
            while (rte_ring_dequeue(t->ring, reinterpret_cast<void**>(&m)) == 0) {
                rte_pktmbuf_free(m);
            }
            rte_ring_free(t->ring);
            t->ring = nullptr;
        }
    }
    if (_pool != nullptr) {
        rte_mempool_free(_pool);
        _pool = nullptr;
    }
}

capture::~capture()
{
    close();
    if (_fd >= 0) {
        ::close(_fd);
    }
}

capture_stats capture::stats() const
{
    capture_stats s;
    for (const auto& t : _taps) {
        s.captured += __atomic_load_n(&t->captured, __ATOMIC_RELAXED);
        s.lost_busy += __atomic_load_n(&t->lost_busy, __ATOMIC_RELAXED);
        s.lost_size += __atomic_load_n(&t->lost_size, __ATOMIC_RELAXED);
    }
    s.lost_size += _lost_size_writer.load(std::memory_order_relaxed);
    s.written = _written.load(std::memory_order_relaxed);
    s.bytes = _bytes.load(std::memory_order_relaxed);
    s.write_errors = _write_errors.load(std::memory_order_relaxed);
    return s;
}

} // namespace fg::core
