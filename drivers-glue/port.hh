// Port and queue set-up for any ethdev, one rx and one tx queue per lcore.
//
// PCI NICs get multi-queue RSS with the symmetric Toeplitz key and a
// redirection table programmed to match fg::steering (entry i -> queue
// i % n_queues), so packets arrive on their owner lcore; ports that cannot do
// RSS (tap, af_packet, ring pairs) are flagged `sw_steering` and the lcore loop
// forwards misdelivered packets to their owner. IPv4/TCP checksum offloads
// are used when the port offers them, software otherwise. Mempools are per
// NUMA socket and shared by every port on that socket.
//
// Ring pairs (rte_eth_from_rings) are two ports wired back to back in memory,
// n queues each: what one sends on tx queue i arrives on the other's rx queue i.
#pragma once

#include <cstdint>
#include <string>

#include <rte_ether.h>
#include <rte_mempool.h>

#include "base/steer.hh"

namespace fg::glue {

struct port_config {
    uint16_t n_queues = 1;       // one rx + one tx queue per lcore
    uint16_t rx_desc = 1024;     // ring sizes: deep enough for a 10 us stall at 100 Mpps / lcore
    uint16_t tx_desc = 1024;
    uint16_t mtu = 1500;
    bool promiscuous = false;    // tap/af_packet: off, we answer only to our MAC and broadcast
    uint32_t link_wait_ms = 5000;
};

struct port_info {
    uint16_t port_id = 0;
    std::string name;            // ethdev name, e.g. net_tap0
    std::string driver;          // driver name, e.g. net_tap
    rte_ether_addr mac{};
    uint16_t n_queues = 0;
    uint16_t mtu = 1500;
    int socket = 0;
    bool rss = false;            // hardware RSS programmed with fg::steering's key and RETA
    bool sw_steering = true;     // the loop must check owner() and redirect
    bool tx_ip_cksum = false;    // offloads in use
    bool tx_tcp_cksum = false;
    bool rx_cksum = false;
    bool link_up = false;
    uint32_t link_speed_mbps = 0;
};

// Shared mbuf pool of `socket` (created on first use). Returns nullptr and sets
// `error` on failure. `n_mbufs` only matters on first use.
// The mempool driver mbuf_pool() uses unless EAL's --mbuf-pool-ops-name names one.
inline constexpr const char* mbuf_pool_default_ops = "stack";
rte_mempool* mbuf_pool(int socket, uint32_t n_mbufs, std::string& error);

// Configures and starts `port_id` with cfg.n_queues queue pairs; programs RSS
// to match `steer` where the port supports it. Returns false with `error` set.
bool port_start(uint16_t port_id, const port_config& cfg, const fg::steering& steer, port_info& out,
                std::string& error);

// Stops and closes a port (a no-op if it does not exist).
void port_stop(uint16_t port_id);

// Creates a back-to-back ring pair ("<name>_a", "<name>_b") with n queues each.
// Returns false with `error` set.
bool make_ring_pair(const std::string& name, uint16_t n_queues, int socket, uint16_t& port_a, uint16_t& port_b,
                    std::string& error);

// Undoes make_ring_pair(name, n_queues): stops and closes both ports if they
// still exist, then frees the rings (with any mbufs still in them). Safe on a
// half-made or already closed pair.
void destroy_ring_pair(const std::string& name, uint16_t n_queues);

// A virtio PMD pair in this process, made in two steps: net_vhost
// "net_vhost_<name>" (port_b) first, whose socket `socket_path` exists only
// once port_b is configured (port_start); then virtio_user
// "virtio_user_<name>" (port_a), which connects to it. n queues each, 1024
// descriptors a queue on the virtio side (its default 256 overflows at
// load-test rates). What the virtio side transmits arrives on the vhost
// side, with the offloads and multi-queue paths of a real virtio NIC; the
// vhost side's link is up once the virtio side is started. False with `error`.
bool make_vhost_server(const std::string& name, const std::string& socket_path, uint16_t n_queues, uint16_t& port_b,
                       std::string& error);
bool make_virtio_client(const std::string& name, const std::string& socket_path, uint16_t n_queues, uint16_t& port_a,
                        std::string& error);
// Undoes both: closes the ports if still there, removes the devices and the socket.
void destroy_vhost_pair(const std::string& name, const std::string& socket_path);

// Finds a port by ethdev name (e.g. "net_tap0"); false if none.
bool find_port(const std::string& name, uint16_t& port_id);

} // namespace fg::glue
