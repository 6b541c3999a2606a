// Test harness for eal-core: Floodgate stacks on the two ends of ring pairs,
// their polling loops on EAL worker lcores, and raw frames crafted with
// lib/net to inject on (and read back from) a ring port nobody polls.
//
// A ring pair is two ethdevs back to back in memory: what one end sends on tx
// queue i arrives on the other end's rx queue i. A stack on one end polls rx
// queue idx and transmits on tx queue idx from its lcore idx; a test that
// drives the other end by hand ("raw" end) transmits on the queue the stack
// should receive on and reads the stack's frames on the queue of the lcore
// that sent them.
//
// Waiting: loops run concurrently with the test, so a test waits for a
// condition (a counter, a frame) with a generous deadline that only guards
// against hangs; nothing is asserted about how long anything took.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "core/stack.hh"
#include "net/classify.hh"
#include "net/tcp_hdr.hh"
#include "port.hh"

namespace fg::eal_test {

// Deadline for anything a test waits for: far above what the work takes even
// on a loaded two-CPU machine; reaching it means something hangs.
inline constexpr std::chrono::seconds wait_limit{20};

// Polls `cond` every millisecond (sleeping) until it holds or wait_limit passes.
inline bool wait_until(const std::function<bool()>& cond)
{
    const auto end = std::chrono::steady_clock::now() + wait_limit;
    while (!cond()) {
        if (std::chrono::steady_clock::now() > end) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

// A unique name for rings and ports: tests may repeat (--gtest_repeat) and
// DPDK object names must not.
inline std::string unique_name(const std::string& base)
{
    static unsigned n = 0;
    return base + std::to_string(n++);
}

// A stack with its loops running on EAL worker lcores; stops and joins them
// (sleeping, not spinning) on stop() or destruction, which also stops the port.
class running_stack {
public:
    running_stack() = default;
    running_stack(const running_stack&) = delete;
    running_stack& operator=(const running_stack&) = delete;
    ~running_stack()
    {
        stop();
        if (_st) {
            const uint16_t port = _st->config().port_id;
            _st.reset();
            glue::port_stop(port);
        }
    }

    // Creates the stack and launches its loops; false with `error` on failure.
    bool start(const core::stack_config& cfg, std::string& error)
    {
        _st = core::stack::create(cfg, error);
        if (!_st) {
            return false;
        }
        for (uint16_t i = 0; i < _st->n_lcores(); i++) {
            const unsigned id = _st->lc(i).lcore_id;
            if (id == rte_get_main_lcore()) {
                error = "the main lcore drives the test: give the stack worker lcores";
                return false;
            }
            if (rte_eal_remote_launch(&running_stack::loop, _st.get(), id) != 0) {
                error = "lcore " + std::to_string(id) + " is busy";
                return false;
            }
            _launched.push_back(id);
        }
        return true;
    }

    // Stops the loops and waits for them; the stack stays for inspection.
    void stop()
    {
        if (!_st) {
            return;
        }
        _st->stop();
        for (unsigned id : _launched) {
            while (rte_eal_get_lcore_state(id) == RUNNING) {
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
            rte_eal_wait_lcore(id);
        }
        _launched.clear();
    }

    core::stack& operator*() { return *_st; }
    core::stack* operator->() { return _st.get(); }
    core::stack* get() { return _st.get(); }

private:
    static int loop(void* arg) { return static_cast<core::stack*>(arg)->run_lcore(rte_lcore_id()); }

    std::unique_ptr<core::stack> _st;
    std::vector<unsigned> _launched;
};

// A stack config for tests: one address, the given lcores, small tables
// (the default 1M connections per lcore would fault in ~100 MB each).
inline core::stack_config test_config(const std::string& name, uint16_t port_id, std::vector<unsigned> lcores,
                                      const std::string& addr)
{
    core::stack_config sc;
    sc.name = name;
    sc.port_id = port_id;
    sc.lcores = std::move(lcores);
    route::addr_range r;
    std::string error;
    route::parse_addr(addr, r, error);
    sc.addrs.push_back(r);
    sc.gratuitous_arp = false; // the tests want to see ARP resolve, not be announced to
    sc.tcp.capacity = 4096;
    sc.redirect_ring_size = 1024;
    sc.command_ring_size = 1024;
    sc.event_ring_size = 1024;
    return sc;
}

// ---- raw frames ----

// An ICMP echo request (Ethernet + IPv4 + ICMP + payload), checksums set.
// src/dst IPs host order. Returns the frame length.
uint32_t make_icmp_echo_request(uint8_t* buf, const rte_ether_addr& src_mac, const rte_ether_addr& dst_mac,
                                uint32_t src_ip, uint32_t dst_ip, uint16_t id, uint16_t seq, const uint8_t* payload,
                                uint16_t payload_len);

// An mbuf from `pool` holding `len` bytes of `frame`; nullptr if the pool is empty.
rte_mbuf* frame_mbuf(rte_mempool* pool, const uint8_t* frame, uint32_t len);

// A TCP segment (see net::make_tcp_segment; software checksums) in a new mbuf.
rte_mbuf* tcp_mbuf(rte_mempool* pool, const rte_ether_addr& src_mac, const rte_ether_addr& dst_mac, const tuple4& t,
                   uint32_t seq, uint32_t ack, uint8_t flags, const net::tcp_options* opts);

// Linux's SYN options: MSS 1460, SACK_PERM, TS, WS 7.
net::tcp_options linux_syn_options(uint32_t ts_val);

// Transmits one mbuf on (port, queue); frees it and returns false if refused.
bool send_frame(uint16_t port, uint16_t queue, rte_mbuf* m);

// Reads (port, queue) until `match` accepts a frame or wait_limit passes;
// every frame is shown to `match` and freed. True if one matched.
bool read_until(uint16_t port, uint16_t queue, const std::function<bool(const uint8_t*, uint32_t)>& match);

// Frames waiting on (port, queue) right now, each shown to `seen` and freed.
unsigned drain(uint16_t port, uint16_t queue, const std::function<void(const uint8_t*, uint32_t)>& seen);

} // namespace fg::eal_test
