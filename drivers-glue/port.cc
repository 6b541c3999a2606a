#include "port.hh"

#include <cstring>

#include <unistd.h>
#include <vector>

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_ring.h>

#include "base/log.hh"

namespace fg::glue {

namespace {
constexpr uint32_t mbuf_cache = 256;           // per-lcore mempool cache: covers two rx bursts + tx batch
constexpr uint32_t ring_pair_size = 65536;     // per queue, ring pairs: a full SYN retransmission wave of slack each way
rte_mempool* g_pools[RTE_MAX_NUMA_NODES] = {};
bool g_started[RTE_MAX_ETHPORTS] = {};         // port_start() started it and port_stop() has not stopped it

std::string errstr(const char* what, int rc)
{
    return std::string(what) + ": " + rte_strerror(rc < 0 ? -rc : rc);
}
// The vdev parameter that fixes the queue count of drivers whose every queue
// receives (nullptr: the queues are ours to choose, e.g. tap, PCI NICs).
const char* fixed_queue_param(const std::string& driver)
{
    if (driver == "net_af_packet") {
        return "qpairs";
    }
    if (driver == "net_vhost" || driver == "net_virtio_user") {
        return "queues";
    }
    return nullptr;
}
} // namespace

rte_mempool* mbuf_pool(int socket, uint32_t n_mbufs, std::string& error)
{
    if (socket < 0 || socket >= RTE_MAX_NUMA_NODES) {
        socket = 0;
    }
    if (g_pools[socket] != nullptr) {
        return g_pools[socket];
    }
    const std::string name = "fg_mbuf_s" + std::to_string(socket);
    // A LIFO pool unless the user chose one (EAL --mbuf-pool-ops-name): an
    // mbuf freed on one lcore comes back to the next allocation while still
    // in cache, where DPDK's default FIFO ring hands out the one freed a
    // whole pool ago (65 k mbufs, 140 MB: cold on every SYN and RST the
    // client allocates). bench-e2e-handshake measured both (see README).
    const char* ops = rte_mbuf_user_mempool_ops();
    if (ops == nullptr) {
        ops = mbuf_pool_default_ops;
        bool have = false;
        for (uint32_t i = 0; i < rte_mempool_ops_table.num_ops; i++) {
            have = have || std::strcmp(rte_mempool_ops_table.ops[i].name, ops) == 0;
        }
        if (!have) {
            // Its driver is not loaded (a static build without
            // librte_mempool_stack): DPDK's own default.
            ops = rte_mbuf_best_mempool_ops();
            FG_LOG(WARNING, "mempool ops \"%s\" not available: using \"%s\"", mbuf_pool_default_ops, ops);
        }
    }
    rte_mempool* mp = nullptr;
    for (int sock : {socket, int(SOCKET_ID_ANY)}) { // --no-huge gives memory on socket 0 only
        mp = rte_pktmbuf_pool_create_by_ops(name.c_str(), n_mbufs, mbuf_cache, 0, RTE_MBUF_DEFAULT_BUF_SIZE, sock,
                                            ops);
        if (mp != nullptr) {
            break;
        }
    }
    if (mp == nullptr) {
        error = "cannot create mbuf pool of " + std::to_string(n_mbufs) + " mbufs (ops " + ops +
                "): " + rte_strerror(rte_errno) + " (give EAL more memory with -m, or reserve hugepages)";
        return nullptr;
    }
    g_pools[socket] = mp;
    return mp;
}

bool find_port(const std::string& name, uint16_t& port_id)
{
    return rte_eth_dev_get_port_by_name(name.c_str(), &port_id) == 0;
}

bool port_start(uint16_t port_id, const port_config& cfg, const fg::steering& steer, port_info& out,
                std::string& error)
{
    if (!rte_eth_dev_is_valid_port(port_id)) {
        error = "port " + std::to_string(port_id) + " does not exist (did you pass --vdev or a PCI device?)";
        return false;
    }
    rte_eth_dev_info info{};
    int rc = rte_eth_dev_info_get(port_id, &info);
    if (rc != 0) {
        error = errstr("rte_eth_dev_info_get", rc);
        return false;
    }
    out = port_info{};
    out.port_id = port_id;
    char name[RTE_ETH_NAME_MAX_LEN];
    if (rte_eth_dev_get_name_by_port(port_id, name) == 0) {
        out.name = name;
    }
    out.driver = info.driver_name != nullptr ? info.driver_name : "";
    if (cfg.n_queues == 0 || cfg.n_queues > info.max_rx_queues || cfg.n_queues > info.max_tx_queues) {
        error = "port " + out.name + " supports " + std::to_string(info.max_rx_queues) + " rx / " +
                std::to_string(info.max_tx_queues) + " tx queues, " + std::to_string(cfg.n_queues) +
                " requested (one per lcore): give EAL at most " + std::to_string(info.max_rx_queues) + " lcore(s)";
        return false;
    }
    // Devices whose queue count is fixed when they are made, and whose peer
    // spreads frames over every queue (the kernel's PACKET_FANOUT over
    // af_packet's sockets, the other end of a vhost-user pair): a queue
    // nobody polls loses what lands on it without a word. (Ring ports are
    // made by make_ring_pair() with one ring per lcore; the net_ring vdev
    // loops each queue back to itself.)
    const char* fixed_param = fixed_queue_param(out.driver);
    // Such devices set their queue count when made (af_packet, vhost, rings);
    // virtio_user only says its maximum (queues=N) until configured.
    const uint16_t fixed_n = info.nb_rx_queues != 0 ? info.nb_rx_queues : info.max_rx_queues;
    if (fixed_param != nullptr && fixed_n != cfg.n_queues) {
        error = "port " + out.name + " (" + out.driver + ") has " + std::to_string(fixed_n) +
                " queues and its peer spreads frames over all of them, but " + std::to_string(cfg.n_queues) +
                " lcore(s) poll it, one queue each: give EAL " + std::to_string(fixed_n) + " lcore(s) (e.g. -l 0-" +
                std::to_string(fixed_n - 1) + "), or make the device with " + fixed_param + "=" +
                std::to_string(cfg.n_queues);
        return false;
    }
    rte_eth_conf conf{};
    std::vector<uint8_t> key(steer.key().begin(), steer.key().end());
    const uint64_t rss_hf = info.flow_type_rss_offloads & (RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_IPV4);
    const bool want_rss = cfg.n_queues > 1 && (rss_hf & RTE_ETH_RSS_NONFRAG_IPV4_TCP) != 0 &&
                          info.hash_key_size == fg::steering::key_len && info.reta_size >= 1;
    if (want_rss) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_key = key.data();
        conf.rx_adv_conf.rss_conf.rss_key_len = uint8_t(key.size());
        conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
    }
    const uint64_t tx_ck = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
    const uint64_t rx_ck = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
    conf.txmode.offloads = info.tx_offload_capa & tx_ck;
    if (out.driver == "net_tap") {
        // DPDK 22.11's tap "offload" is software in the PMD, and it turns a
        // computed TCP checksum of 0x0000 into 0xffff (the UDP rule), which
        // RFC 1624 / tshark call wrong for TCP: ours is as fast and right.
        conf.txmode.offloads = 0;
    }
    if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) {
        conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE; // one pool, refcnt 1: always true for us
    }
    conf.rxmode.offloads = info.rx_offload_capa & rx_ck;
    rc = rte_eth_dev_configure(port_id, cfg.n_queues, cfg.n_queues, &conf);
    if (rc != 0) {
        error = errstr("rte_eth_dev_configure", rc);
        return false;
    }
    uint16_t nb_rx = cfg.rx_desc;
    uint16_t nb_tx = cfg.tx_desc;
    rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rx, &nb_tx);
    if (rc != 0) {
        error = errstr("rte_eth_dev_adjust_nb_rx_tx_desc", rc);
        return false;
    }
    out.socket = rte_eth_dev_socket_id(port_id);
    if (out.socket < 0) {
        out.socket = 0;
    }
    // Enough mbufs for every descriptor of every queue of a few ports, plus caches and in-flight batches.
    uint32_t n_mbufs = std::max<uint32_t>(65535, 4u * cfg.n_queues * (nb_rx + nb_tx + 2 * mbuf_cache));
    if (out.driver == "net_ring") {
        n_mbufs += 2 * ring_pair_size * cfg.n_queues; // a ring pair can hold this many in flight
    }
    rte_mempool* mp = mbuf_pool(out.socket, n_mbufs, error);
    if (mp == nullptr) {
        return false;
    }
    for (uint16_t q = 0; q < cfg.n_queues; q++) {
        rte_eth_rxconf rxq = info.default_rxconf;
        rxq.offloads = conf.rxmode.offloads;
        rc = rte_eth_rx_queue_setup(port_id, q, nb_rx, out.socket, &rxq, mp);
        if (rc != 0) {
            error = errstr("rte_eth_rx_queue_setup", rc);
            return false;
        }
        rte_eth_txconf txq = info.default_txconf;
        txq.offloads = conf.txmode.offloads;
        rc = rte_eth_tx_queue_setup(port_id, q, nb_tx, out.socket, &txq);
        if (rc != 0) {
            error = errstr("rte_eth_tx_queue_setup", rc);
            return false;
        }
    }
    if (cfg.mtu != 0) {
        uint16_t cur = 0;
        rte_eth_dev_get_mtu(port_id, &cur);
        if (cur != cfg.mtu) {
            rc = rte_eth_dev_set_mtu(port_id, cfg.mtu);
            if (rc != 0 && rc != -ENOTSUP) {
                error = errstr("rte_eth_dev_set_mtu", rc);
                return false;
            }
        }
    }
    rc = rte_eth_dev_start(port_id);
    if (rc != 0) {
        error = errstr("rte_eth_dev_start", rc);
        return false;
    }
    g_started[port_id] = true;
    if (want_rss) {
        // Program the RETA exactly as fg::steering assumes: entry i -> queue i % n.
        const uint16_t reta_size = info.reta_size;
        std::vector<rte_eth_rss_reta_entry64> reta((reta_size + RTE_ETH_RETA_GROUP_SIZE - 1) /
                                                   RTE_ETH_RETA_GROUP_SIZE);
        for (uint16_t i = 0; i < reta_size; i++) {
            auto& g = reta[i / RTE_ETH_RETA_GROUP_SIZE];
            g.mask |= 1ull << (i % RTE_ETH_RETA_GROUP_SIZE);
            g.reta[i % RTE_ETH_RETA_GROUP_SIZE] = uint16_t(i % cfg.n_queues);
        }
        rc = rte_eth_dev_rss_reta_update(port_id, reta.data(), reta_size);
        if (rc == 0 && reta_size == steer.reta_size() && steer.n_owners() == cfg.n_queues) {
            out.rss = true;
        } else {
            FG_LOG(WARNING, "port %s: RETA of %u entries not usable for steering (rc %d); software steering",
                   out.name.c_str(), reta_size, rc);
        }
    }
    out.sw_steering = !out.rss;
    out.tx_ip_cksum = (conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0;
    out.tx_tcp_cksum = (conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) != 0;
    out.rx_cksum = (conf.rxmode.offloads & rx_ck) == rx_ck;
    if (cfg.promiscuous) {
        rte_eth_promiscuous_enable(port_id);
    }
    rte_eth_macaddr_get(port_id, &out.mac);
    if (rte_is_zero_ether_addr(&out.mac)) {
        // Ring ports have no address of their own (and may refuse to be given
        // one): use a locally administered one per port; we write source MACs
        // ourselves and ring ports do not filter.
        out.mac = rte_ether_addr{{0x02, 0x46, 0x47, uint8_t(getpid() >> 8), uint8_t(getpid()), uint8_t(port_id)}};
        rte_eth_dev_default_mac_addr_set(port_id, &out.mac);
    }
    rte_eth_dev_get_mtu(port_id, &out.mtu);
    out.n_queues = cfg.n_queues;
    // Link wait: virtual ports are up at once; NICs take a moment. net_vhost's
    // link is up when its virtio peer starts, which may be after us.
    const uint32_t wait_ms = out.driver == "net_vhost" ? 0 : cfg.link_wait_ms;
    const uint64_t deadline = rte_get_timer_cycles() + rte_get_timer_hz() * wait_ms / 1000;
    rte_eth_link link{};
    do {
        rte_eth_link_get_nowait(port_id, &link);
        if (link.link_status == RTE_ETH_LINK_UP) {
            break;
        }
        rte_delay_ms(10);
    } while (rte_get_timer_cycles() < deadline);
    out.link_up = link.link_status == RTE_ETH_LINK_UP;
    out.link_speed_mbps = link.link_speed;
    if (!out.link_up && wait_ms != 0) {
        FG_LOG(WARNING, "port %s: link still down after %u ms; continuing", out.name.c_str(), wait_ms);
    }
    return true;
}

void port_stop(uint16_t port_id)
{
    if (!rte_eth_dev_is_valid_port(port_id)) {
        return;
    }
    if (g_started[port_id]) {
        g_started[port_id] = false;
        const int rc = rte_eth_dev_stop(port_id);
        if (rc != 0 && rc != -ENOTSUP) {
            FG_LOG(WARNING, "port %u: stop failed: %s", port_id, rte_strerror(-rc));
        }
    }
    const int rc = rte_eth_dev_close(port_id);
    if (rc != 0) {
        FG_LOG(WARNING, "port %u: close failed: %s", port_id, rte_strerror(-rc));
    }
}

void destroy_ring_pair(const std::string& name, uint16_t n_queues)
{
    for (const std::string& pn : {name + "_a", name + "_b"}) {
        uint16_t id = 0;
        // rte_eth_from_rings() names the ethdev net_ring_<name>.
        if (rte_eth_dev_get_port_by_name(("net_ring_" + pn).c_str(), &id) == 0) {
            port_stop(id);
        }
    }
    for (uint16_t q = 0; q < n_queues; q++) {
        for (const std::string& rn : {name + "_ab" + std::to_string(q), name + "_ba" + std::to_string(q)}) {
            rte_ring* r = rte_ring_lookup(rn.c_str());
            if (r == nullptr) {
                continue;
            }
            rte_mbuf* m = nullptr;
            while (rte_ring_dequeue(r, reinterpret_cast<void**>(&m)) == 0) {
                rte_pktmbuf_free(m);
            }
            rte_ring_free(r);
        }
    }
}

bool make_vhost_server(const std::string& name, const std::string& socket_path, uint16_t n_queues, uint16_t& port_b,
                       std::string& error)
{
    if (n_queues == 0) {
        error = "vhost pair: bad queue count";
        return false;
    }
    // vdev drivers are found by name prefix: net_vhost..., virtio_user...
    const std::string vh = "net_vhost_" + name;
    ::unlink(socket_path.c_str());
    const std::string args = "iface=" + socket_path + ",queues=" + std::to_string(n_queues);
    const int rc = rte_vdev_init(vh.c_str(), args.c_str());
    if (rc != 0) {
        error = "vhost pair: cannot make " + vh + " (" + args + "): " + rte_strerror(-rc);
        return false;
    }
    if (rte_eth_dev_get_port_by_name(vh.c_str(), &port_b) != 0) {
        error = "vhost pair: no port " + vh + " after probe";
        return false;
    }
    return true;
}

bool make_virtio_client(const std::string& name, const std::string& socket_path, uint16_t n_queues, uint16_t& port_a,
                        std::string& error)
{
    const std::string vu = "virtio_user_" + name;
    const std::string args = "path=" + socket_path + ",queues=" + std::to_string(n_queues) + ",queue_size=1024";
    const int rc = rte_vdev_init(vu.c_str(), args.c_str());
    if (rc != 0) {
        error = "vhost pair: cannot make " + vu + " (" + args + "): " + rte_strerror(-rc) +
                " (is the net_vhost side configured?)";
        return false;
    }
    if (rte_eth_dev_get_port_by_name(vu.c_str(), &port_a) != 0) {
        error = "vhost pair: no port " + vu + " after probe";
        return false;
    }
    return true;
}

void destroy_vhost_pair(const std::string& name, const std::string& socket_path)
{
    for (const std::string& dn : {"virtio_user_" + name, "net_vhost_" + name}) {
        uint16_t id = 0;
        if (rte_eth_dev_get_port_by_name(dn.c_str(), &id) == 0) {
            port_stop(id);
        }
        rte_vdev_uninit(dn.c_str());
    }
    ::unlink(socket_path.c_str());
}

bool make_ring_pair(const std::string& name, uint16_t n_queues, int socket, uint16_t& port_a, uint16_t& port_b,
                    std::string& error)
{
    if (n_queues == 0 || n_queues > RTE_MAX_QUEUES_PER_PORT) {
        error = "ring pair: bad queue count";
        return false;
    }
    std::vector<rte_ring*> ab(n_queues), ba(n_queues);
    for (uint16_t q = 0; q < n_queues; q++) {
        const std::string n1 = name + "_ab" + std::to_string(q);
        const std::string n2 = name + "_ba" + std::to_string(q);
        // One lcore transmits into a queue, one lcore receives from it.
        ab[q] = rte_ring_create(n1.c_str(), ring_pair_size, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
        ba[q] = rte_ring_create(n2.c_str(), ring_pair_size, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (ab[q] == nullptr || ba[q] == nullptr) {
            error = "ring pair: cannot create rings: " + std::string(rte_strerror(rte_errno));
            return false;
        }
    }
    const std::string na = name + "_a";
    const std::string nb = name + "_b";
    int a = rte_eth_from_rings(na.c_str(), ba.data(), n_queues, ab.data(), n_queues, unsigned(socket));
    int b = rte_eth_from_rings(nb.c_str(), ab.data(), n_queues, ba.data(), n_queues, unsigned(socket));
    if (a < 0 || b < 0) {
        error = "ring pair: rte_eth_from_rings failed: " + std::string(rte_strerror(rte_errno));
        return false;
    }
    port_a = uint16_t(a);
    port_b = uint16_t(b);
    return true; // MACs: see port_start()
}

} // namespace fg::glue
