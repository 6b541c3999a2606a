// The handshake floor of bench-e2e-handshake: the frames of a handshake
// closed by RST passed over the same port pair with no TCP work at all -- what
// the ring ports, the mbuf pool and the frame writes alone allow on this
// machine, the denominator of "Floodgate / floor".
//
// Per handshake, as Floodgate's client and responder exchange them:
//   client:    SYN built from a template (mbuf from the pool), the SYN-ACK
//              received and rewritten in place into the third ACK, a RST built
//              from a template (mbuf from the pool): 3 frames out, 1 in;
//   responder: the SYN received and rewritten in place into the SYN-ACK, the
//              ACK and the RST received and freed: 1 frame out, 3 in.
// Frames move as in Floodgate's loop: received frames prefetched for writing
// four ahead (both mbuf lines, two data lines), new ones from pkt_out's
// prefetched stash, sent through pkt_out's 32-frame batch (flushed every
// iteration). What the floor leaves out and Floodgate does: checksums (a template's
// stay as they are; the responder checks none), the ISN, cookie and
// timestamp SipHashes, port choice, the connection table, timers, events,
// route and neighbour lookups, classification. Window: at most `window`
// SYNs without their SYN-ACK, as the generator's concurrency.
#pragma once

#include <atomic>
#include <cstdint>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "base/pktio.hh"

namespace fg::e2e {

struct hs_floor_config {
    uint16_t port_id = 0;
    rte_mempool* pool = nullptr;
    rte_ether_addr src_mac{};
    rte_ether_addr dst_mac{};
    uint32_t window = 256;      // SYNs without a SYN-ACK yet
    uint32_t src_ips = 256;     // client addresses 198.18.1.0 + i % src_ips, ports 1024 + ...
};

// Written by the owning lcore only; others read (relaxed).
struct alignas(64) hs_floor_stats {
    std::atomic<uint64_t> syns{0};        // client: SYNs sent
    std::atomic<uint64_t> handshakes{0};  // client: SYN-ACKs answered with ACK + RST
    std::atomic<uint64_t> no_mbuf{0};     // client: RSTs not sent, the pool was empty
    std::atomic<uint64_t> other{0};       // anything unexpected received
    std::atomic<uint64_t> synacks{0};     // responder: SYN-ACKs sent
    std::atomic<uint64_t> freed{0};       // responder: ACKs and RSTs received and freed
    std::atomic<uint64_t> refused{0};     // frames pkt_out dropped: the tx ring refused them and its backlog was full
};

class hs_floor_client {
public:
    explicit hs_floor_client(const hs_floor_config& c);
    ~hs_floor_client(); // sends or frees what is batched
    hs_floor_client(const hs_floor_client&) = delete;
    hs_floor_client& operator=(const hs_floor_client&) = delete;
    void step(hs_floor_stats& out);

private:
    hs_floor_config _c;
    uint8_t _syn[128];
    uint32_t _syn_len = 0;
    uint8_t _rst[64];
    pkt_out _out;
    uint32_t _data_at = 0;
    uint64_t _next = 0;
    uint64_t _in_flight = 0; // SYNs sent or pending without a SYN-ACK
};

// The responder side.
class hs_floor_responder {
public:
    hs_floor_responder(uint16_t port_id, rte_mempool* pool);
    hs_floor_responder(const hs_floor_responder&) = delete;
    hs_floor_responder& operator=(const hs_floor_responder&) = delete;
    void step(hs_floor_stats& out);

private:
    pkt_out _out;
    uint32_t _data_at = 0;
};

} // namespace fg::e2e
