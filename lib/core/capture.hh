// pcapng capture of what lcores receive and send (--pcap FILE), as DPDK's
// dpdk-dumpcap does, inside the app: ethdev rx/tx callbacks on the chosen
// (port, queue)s copy each frame (rte_pcapng_copy, up to snaplen bytes, TSC
// timestamp, direction) into a small mempool of their own and put the copy on
// that queue's ring; a writer thread (not an lcore) takes the copies from the
// rings and writes them (rte_pcapng_write_packets). The lcore never waits: a
// copy that finds the pool empty or the ring full is not made, and counted;
// once the file reached its size bound (max_bytes), frames are counted and
// not copied. rx callbacks see what rx_burst returned; tx callbacks see what
// is handed to tx_burst, including frames the port then refuses (counted as
// tx_dropped by the loop), as with dpdk-pdump.
//
// Life: open() after the ports exist (the file's interface blocks are the
// ethdev ports at that moment, numbered by port id) with the (port, queue)s
// to capture; close() once the lcores have stopped: the callbacks are
// removed, the rings drained to the file, a statistics block per port
// written, the file closed.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <rte_ethdev.h>
#include <rte_mempool.h>
#include <rte_pcapng.h>
#include <rte_ring.h>

namespace fg::core {

struct capture_config {
    std::string path;
    uint32_t snaplen = 65535;  // bytes kept of each frame
    uint64_t max_bytes = 0;    // file size bound; 0: none
    uint16_t max_frame = 1518; // largest frame the ports carry (copies are sized for it)
    uint32_t ring_size = 4096; // per queue: copies waiting for the writer (~4 ms of a busy lcore)
    uint32_t n_mbufs = 16383;  // copies in flight over all queues
};

struct capture_stats {
    uint64_t captured = 0;     // frames copied for the file
    uint64_t written = 0;      // frames written
    uint64_t bytes = 0;        // bytes written (pcapng blocks)
    uint64_t lost_busy = 0;    // frames not copied: pool empty or queue ring full (the writer fell behind)
    uint64_t lost_size = 0;    // frames not written: the file reached its size bound
    uint64_t write_errors = 0; // frames lost to a failed write
};

class capture {
public:
    struct queue_id {
        uint16_t port;
        uint16_t queue;
    };
    static std::unique_ptr<capture> open(const capture_config& cfg, const std::vector<queue_id>& queues,
                                         std::string& error);
    ~capture();
    capture(const capture&) = delete;
    capture& operator=(const capture&) = delete;

    // Detaches, drains, writes the per-port statistics and closes (lcores stopped). Idempotent.
    void close();
    capture_stats stats() const;
    const capture_config& config() const { return _cfg; }

private:
    // One captured queue: written by the lcore that polls it.
    struct alignas(64) queue_tap {
        capture* owner = nullptr;
        uint16_t port = 0;
        uint16_t queue = 0;
        rte_ring* ring = nullptr;
        const rte_eth_rxtx_callback* rx_cb = nullptr;
        const rte_eth_rxtx_callback* tx_cb = nullptr;
        uint64_t captured = 0;
        uint64_t lost_busy = 0;
        uint64_t lost_size = 0;
        uint64_t rx = 0; // frames seen, per direction (the statistics block)
        uint64_t tx = 0;
    };

    capture() = default;
    bool attach(uint16_t port, uint16_t queue, std::string& error);
    static uint16_t on_rx(uint16_t port, uint16_t queue, rte_mbuf** pkts, uint16_t n, uint16_t max, void* arg);
    static uint16_t on_tx(uint16_t port, uint16_t queue, rte_mbuf** pkts, uint16_t n, void* arg);
    void copy(queue_tap& q, rte_mbuf** pkts, uint16_t n, rte_pcapng_direction dir);
    void set_timestamp(rte_mbuf* copy, uint64_t tsc) const;
    void writer();
    // Writes what the rings hold; true if anything was there.
    bool drain_once();

    capture_config _cfg;
    int _fd = -1;
    rte_pcapng_t* _pcap = nullptr;
    rte_mempool* _pool = nullptr;
    uint32_t _copy_len = 0;
    uint64_t _start_ns = 0;  // wall clock at open()
    uint64_t _start_tsc = 0; // TSC at open()
    double _ns_per_tsc = 0;
    std::vector<std::unique_ptr<queue_tap>> _taps;
    std::thread _writer;
    std::atomic<bool> _stop{false};
    std::atomic<bool> _full{false};
    std::atomic<uint64_t> _written{0};
    std::atomic<uint64_t> _bytes{0};
    std::atomic<uint64_t> _lost_size_writer{0};
    std::atomic<uint64_t> _write_errors{0};
    bool _closed = false;
};

} // namespace fg::core
