// eal-core: whole Floodgate stacks (lib/core) on ring ports, loops on EAL
// lcores: ARP and ICMP between two stacks, software steering through the
// redirect ring, and a full handshake between a connecting and a listening
// stack through the public API (connect, listen, event and accept rings).
#include <cstring>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include <rte_icmp.h>
#include <rte_ip.h>

#include "common/runtime.hh"
#include "harness.hh"
#include "net/checksum.hh"
#include "net/ether.hh"
#include "net/ipv4.hh"

namespace fg::eal_test {
namespace {

constexpr uint32_t cli_ip = ipv4(198, 18, 0, 1);
constexpr uint32_t srv_ip = ipv4(198, 18, 0, 2);
constexpr uint16_t srv_port = 8080;

bool same_mac(const rte_ether_addr& a, const rte_ether_addr& b) { return rte_is_same_ether_addr(&a, &b) != 0; }

bool usable(const std::optional<route::neigh_view>& v)
{
    return v && v->state != route::neigh_state::free && v->state != route::neigh_state::incomplete &&
           v->state != route::neigh_state::failed;
}

// The client asks for the server's MAC (--resolve), the server answers and
// learns the client's MAC from the request; then the server answers a ping
// crafted with lib/net and sent on the client's port by hand.
TEST(EalCore, ArpResolvesBothWaysAndPingIsAnswered)
{
    std::string err;
    uint16_t pa = 0, pb = 0;
    ASSERT_TRUE(glue::make_ring_pair(unique_name("arp"), 1, 0, pa, pb, err)) << err;
    core::stack_config sc_srv = test_config(unique_name("srv"), pb, {1}, "198.18.0.2/24");
    core::stack_config sc_cli = test_config(unique_name("cli"), pa, {2}, "198.18.0.1/24");
    sc_cli.resolve = {srv_ip};
    running_stack srv, cli;
    ASSERT_TRUE(srv.start(sc_srv, err)) << err;
    ASSERT_TRUE(cli.start(sc_cli, err)) << err;

    // Neither side announces itself (gratuitous ARP off): the only ARP the
    // client can receive is the server's reply to its request.
    ASSERT_TRUE(wait_until([&] { return cli->core_total(core::ctr::arp_in) >= 1; }))
        << "no ARP reply reached the client; requests sent " << cli->core_total(core::ctr::arp_requests_sent)
        << ", server's ARP in " << srv->core_total(core::ctr::arp_in);
    cli.stop(); // the client's end of the ring pair is ours from here on

    // Echo request client -> server, on the client's tx queue 0.
    uint8_t payload[56];
    for (unsigned i = 0; i < sizeof(payload); i++) {
        payload[i] = uint8_t(i * 7 + 3);
    }
    uint8_t frame[128];
    const uint32_t len = make_icmp_echo_request(frame, cli->mac(), srv->mac(), cli_ip, srv_ip, 0x4647, 9, payload,
                                                sizeof(payload));
    rte_mbuf* m = frame_mbuf(cli->lc(0).out.pool, frame, len);
    ASSERT_NE(m, nullptr);
    ASSERT_TRUE(send_frame(pa, 0, m));
    unsigned others = 0;
    const bool replied = read_until(pa, 0, [&](const uint8_t* f, uint32_t n) {
        const uint32_t icmp_off = sizeof(rte_ether_hdr) + net::ipv4_hdr_len;
        if (n < icmp_off + sizeof(rte_icmp_hdr) + sizeof(payload)) {
            others++;
            return false;
        }
        const auto* eth = net::eth_hdr(f);
        const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(f + sizeof(rte_ether_hdr));
        const auto* icmp = reinterpret_cast<const rte_icmp_hdr*>(f + icmp_off);
        if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || ip->next_proto_id != IPPROTO_ICMP ||
            icmp->icmp_type != RTE_IP_ICMP_ECHO_REPLY) {
            others++;
            return false;
        }
        EXPECT_TRUE(same_mac(eth->src_addr, srv->mac()));
        EXPECT_TRUE(same_mac(eth->dst_addr, cli->mac()));
        // (Header fields copied: the IP header sits 2 bytes off 4-byte alignment in
        // the frame, and EXPECT_EQ would bind a reference to it -- UBSan says so.)
        EXPECT_EQ(rte_be32_t(ip->src_addr), rte_cpu_to_be_32(srv_ip));
        EXPECT_EQ(rte_be32_t(ip->dst_addr), rte_cpu_to_be_32(cli_ip));
        EXPECT_TRUE(net::ipv4_cksum_ok(ip));
        EXPECT_EQ(icmp->icmp_code, 0);
        EXPECT_EQ(rte_be16_t(icmp->icmp_ident), rte_cpu_to_be_16(0x4647));
        EXPECT_EQ(rte_be16_t(icmp->icmp_seq_nb), rte_cpu_to_be_16(9));
        EXPECT_TRUE(net::icmp_cksum_ok(icmp, uint32_t(sizeof(rte_icmp_hdr) + sizeof(payload))));
        EXPECT_EQ(std::memcmp(icmp + 1, payload, sizeof(payload)), 0);
        return true;
    });
    EXPECT_TRUE(replied) << "no echo reply; " << others << " other frames, server's icmp_echo_replies "
                         << srv->core_total(core::ctr::icmp_echo_replies);
    srv.stop();

    // Both neighbour tables hold the other's MAC: the client's from the reply
    // (reachable), the server's learnt from the request addressed to it.
    const auto at_cli = cli->neighbour(0, srv_ip);
    ASSERT_TRUE(usable(at_cli));
    EXPECT_EQ(at_cli->state, route::neigh_state::reachable);
    EXPECT_TRUE(same_mac(at_cli->mac, srv->mac()));
    const auto at_srv = srv->neighbour(0, cli_ip);
    ASSERT_TRUE(usable(at_srv));
    EXPECT_TRUE(same_mac(at_srv->mac, cli->mac()));
    EXPECT_GE(cli->core_total(core::ctr::arp_requests_sent), 1u);
    EXPECT_GE(srv->core_total(core::ctr::arp_replies_sent), 1u);
    EXPECT_EQ(srv->core_total(core::ctr::arp_requests_sent), 0u); // it learnt, it did not ask
    EXPECT_EQ(srv->core_total(core::ctr::icmp_echo_replies), 1u);
}

// The peer's tuple (laddr = peer) for a SYN to the server from `rport`.
tuple4 peer_tuple(uint16_t rport) { return make_tuple4(cli_ip, rport, srv_ip, srv_port); }
// The server's view of the same connection (what steering hashes).
tuple4 server_tuple(uint16_t rport) { return make_tuple4(srv_ip, srv_port, cli_ip, rport); }

// Ring ports cannot steer, so a stack of two lcores checks every segment's
// owner in software: a SYN delivered on queue q whose 4-tuple lcore q does
// not own is forwarded to its owner's redirect ring, and the owner answers
// on its own queue.
TEST(EalCore, SynOnTheWrongLcoreReachesItsOwnerThroughTheRedirectRing)
{
    std::string err;
    uint16_t pa = 0, pb = 0;
    ASSERT_TRUE(glue::make_ring_pair(unique_name("rd"), 2, 0, pa, pb, err)) << err;
    running_stack srv;
    ASSERT_TRUE(srv.start(test_config(unique_name("srv"), pa, {1, 2}, "198.18.0.2/24"), err)) << err;
    ASSERT_TRUE(srv->sw_steering());
    // The peer end is driven by hand.
    glue::port_config pc;
    pc.n_queues = 2;
    glue::port_info peer;
    ASSERT_TRUE(glue::port_start(pb, pc, steering(2), peer, err)) << err;
    int rc = 0;
    auto l = srv->listen(0, srv_port, tcp::listen_options{}, rc, err);
    ASSERT_NE(l, nullptr) << err;

    // For each queue q: a SYN whose owner is the other lcore, sent on q.
    std::map<uint16_t, uint16_t> owner_of_port;
    uint16_t next = 40000;
    for (uint16_t q = 0; q < 2; q++) {
        uint16_t rport = next;
        while (srv->steer().owner(server_tuple(rport)) == q) {
            rport++;
        }
        next = uint16_t(rport + 1);
        const uint16_t owner = srv->steer().owner(server_tuple(rport));
        owner_of_port[rport] = owner;
        const uint32_t isn = 1000000u * (q + 1);
        const net::tcp_options o = linux_syn_options(77);
        rte_mbuf* m = tcp_mbuf(srv->lc(0).out.pool, peer.mac, srv->mac(), peer_tuple(rport), isn, 0,
                               RTE_TCP_SYN_FLAG, &o);
        ASSERT_NE(m, nullptr);
        ASSERT_TRUE(send_frame(pb, q, m));
        const bool answered = read_until(pb, owner, [&](const uint8_t* f, uint32_t n) {
            net::pkt_info pi{};
            net::drop why;
            if (net::classify(f, n, 0, pi, why) != net::pkt_kind::tcp) {
                return false;
            }
            // classify gives the receiver's (the peer's) view.
            if (!(pi.tuple == peer_tuple(rport))) {
                return false;
            }
            EXPECT_EQ(pi.tcp_flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
            EXPECT_EQ(pi.ack, isn + 1);
            EXPECT_TRUE(same_mac(net::eth_hdr(f)->dst_addr, peer.mac));
            return (pi.tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) == (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
        });
        EXPECT_TRUE(answered) << "no SYN-ACK on queue " << owner << " for a SYN sent on queue " << q;
        // Nothing for this tuple on the queue the SYN was delivered to.
        unsigned wrong = 0;
        drain(pb, q, [&](const uint8_t* f, uint32_t n) {
            net::pkt_info pi{};
            net::drop why;
            if (net::classify(f, n, 0, pi, why) == net::pkt_kind::tcp && pi.tuple == peer_tuple(rport)) {
                wrong++;
            }
        });
        EXPECT_EQ(wrong, 0u) << "a segment for the tuple came back on the receiving lcore's queue " << q;
    }
    srv.stop();
    // One SYN delivered to each lcore, each forwarded to the other, which answered it.
    for (uint16_t i = 0; i < 2; i++) {
        const core::lcore& c = srv->lc(i);
        EXPECT_EQ(c.ctr.get(core::ctr::redirected), 1u) << "lcore " << i;
        EXPECT_EQ(c.ctr.get(core::ctr::redirected_in), 1u) << "lcore " << i;
        EXPECT_EQ(c.ctr.get(core::ctr::redirect_dropped), 0u) << "lcore " << i;
        EXPECT_EQ(c.tcp.counters()[tcp::ctr::syn_received], 1u) << "lcore " << i;
        EXPECT_EQ(c.tcp.counters()[tcp::ctr::synack_sent], 1u) << "lcore " << i;
    }
    for (const auto& [rport, owner] : owner_of_port) {
        EXPECT_NE(srv->lc(owner).tcp.find(server_tuple(rport)), nullptr) << "request not on its owner " << owner;
        EXPECT_EQ(srv->lc(uint16_t(1 - owner)).tcp.find(server_tuple(rport)), nullptr);
    }
    srv->unlisten(*l);
    glue::port_stop(pb);
}

// Two stacks of two lcores each: the client connects through the public API
// (allocated ports on lcore 0, fixed ports owned by lcore 1), the server
// listens; the handshakes go through ARP, steering and both engines. Each
// established event arrives on the event ring of the client lcore that owns
// the tuple, each accepted event on the listener's accept ring, and they
// name the same connections.
// The stacks come from the runtime's stack-pair builder (as fg-loadgen
// --responder's and the e2e benches'), which also takes them, the listener
// and the ring pair down in reverse order at the end of the test.
TEST(EalCore, HandshakeBetweenTwoStacks)
{
    std::string err;
    std::unique_ptr<apps::runtime> rt = apps::runtime::adopt_eal();
    apps::pair_config pc;
    pc.name = unique_name("hs");
    pc.server = test_config(unique_name("srv"), 0, {1, 2}, "198.18.0.2/24");
    pc.client = test_config(unique_name("cli"), 0, {3, 4}, "198.18.0.1/24");
    apps::stack_pair sp;
    ASSERT_TRUE(rt->add_pair(pc, sp, err)) << err;
    core::stack* srv = sp.server;
    core::stack* cli = sp.client;
    tcp::listener* l = rt->listen(*srv, 0, srv_port, tcp::listen_options{}, err);
    ASSERT_NE(l, nullptr) << err;
    ASSERT_TRUE(rt->launch(err)) << err;

    constexpr unsigned n_alloc = 4; // source port allocated by the client (lcore 0 picks one it owns)
    constexpr unsigned n_fixed = 4; // source port given, owned by lcore 1
    std::map<uint64_t, uint16_t> fixed_port; // user -> port
    for (unsigned i = 0; i < n_alloc; i++) {
        ASSERT_TRUE(cli->connect(srv_ip, srv_port, 0, 0, 100 + i));
    }
    uint16_t p = 30000;
    for (unsigned i = 0; i < n_fixed; i++, p++) {
        while (cli->steer().owner(make_tuple4(cli_ip, p, srv_ip, srv_port)) != 1) {
            p++;
        }
        fixed_port[200 + i] = p;
        ASSERT_TRUE(cli->connect(srv_ip, srv_port, cli_ip, p, 200 + i));
    }

    constexpr unsigned n = n_alloc + n_fixed;
    std::map<uint64_t, std::pair<uint16_t, tcp::event>> established; // user -> (ring, event)
    std::vector<tcp::event> other, accepted;
    const bool done = wait_until([&] {
        tcp::event ev[16];
        for (uint16_t idx = 0; idx < 2; idx++) {
            const unsigned k = cli->poll_events(idx, ev, 16);
            for (unsigned i = 0; i < k; i++) {
                if (ev[i].type == tcp::event_type::established) {
                    established[ev[i].user] = {idx, ev[i]};
                } else {
                    other.push_back(ev[i]);
                }
            }
        }
        const unsigned k = l->accept_burst(ev, 16);
        accepted.insert(accepted.end(), ev, ev + k);
        return established.size() + other.size() >= n && accepted.size() >= n;
    });
    EXPECT_TRUE(done) << established.size() << " established, " << accepted.size() << " accepted, "
                      << other.size() << " other events; client attempted "
                      << cli->tcp_total(tcp::ctr::attempted) << ", server syn_received "
                      << srv->tcp_total(tcp::ctr::syn_received);
    for (const tcp::event& e : other) {
        ADD_FAILURE() << "client event " << tcp::event_type_name(e.type) << " user " << e.user << " error "
                      << e.error;
    }
    rt->halt();

    ASSERT_EQ(established.size(), n);
    std::set<std::pair<rte_be32_t, uint16_t>> client_ends; // (client addr, client port), network order
    for (const auto& [user, re] : established) {
        const auto& [ring, e] = re;
        SCOPED_TRACE("user " + std::to_string(user));
        EXPECT_EQ(e.error, 0);
        EXPECT_EQ(e.tuple.laddr, rte_cpu_to_be_32(cli_ip));
        EXPECT_EQ(e.tuple.raddr, rte_cpu_to_be_32(srv_ip));
        EXPECT_EQ(e.tuple.rport, rte_cpu_to_be_16(srv_port));
        // On the ring of the lcore that owns the tuple, which also holds the connection.
        EXPECT_EQ(ring, cli->steer().owner(e.tuple));
        EXPECT_EQ(e.h.lcore, ring);
        EXPECT_EQ(ring, user >= 200 ? 1 : 0);
        if (user >= 200) {
            EXPECT_EQ(e.tuple.lport, rte_cpu_to_be_16(fixed_port[user]));
        }
        EXPECT_EQ(e.opts & (tcp::ev_ts | tcp::ev_sack | tcp::ev_wscale), tcp::ev_ts | tcp::ev_sack | tcp::ev_wscale);
        EXPECT_EQ(e.snd_wscale, 7);
        EXPECT_EQ(e.rcv_wscale, 7);
        EXPECT_EQ(e.mss, 1460);
        const tcp::conn* c = cli->lc(ring).tcp.find(e.tuple);
        ASSERT_NE(c, nullptr);
        EXPECT_EQ(c->st, tcp::state::established) << tcp::state_name(c->st);
        client_ends.insert({e.tuple.laddr, e.tuple.lport});
    }
    EXPECT_EQ(client_ends.size(), n) << "two connections share a client port";

    ASSERT_EQ(accepted.size(), n);
    for (const tcp::event& a : accepted) {
        EXPECT_EQ(a.type, tcp::event_type::accepted);
        EXPECT_EQ(a.listener_ref, l->ref());
        EXPECT_EQ(a.tuple.laddr, rte_cpu_to_be_32(srv_ip));
        EXPECT_EQ(a.tuple.lport, rte_cpu_to_be_16(srv_port));
        EXPECT_EQ(client_ends.count({a.tuple.raddr, a.tuple.rport}), 1u) << "accepted a connection nobody made";
        // Held by the server lcore that owns the tuple (symmetric steering:
        // the same index as the client's owner).
        const uint16_t owner = srv->steer().owner(a.tuple);
        EXPECT_EQ(a.h.lcore, owner);
        const tcp::conn* c = srv->lc(owner).tcp.find(a.tuple);
        ASSERT_NE(c, nullptr);
        EXPECT_EQ(c->st, tcp::state::established) << tcp::state_name(c->st);
        EXPECT_EQ(a.opts & (tcp::ev_ts | tcp::ev_sack | tcp::ev_wscale), tcp::ev_ts | tcp::ev_sack | tcp::ev_wscale);
        EXPECT_EQ(a.mss, 1460);
    }
    EXPECT_EQ(cli->tcp_total(tcp::ctr::established), n);
    EXPECT_EQ(srv->tcp_total(tcp::ctr::accepted), n);
    EXPECT_EQ(srv->tcp_total(tcp::ctr::rst_sent), 0u);
    EXPECT_EQ(cli->tcp_total(tcp::ctr::rst_sent), 0u);
    EXPECT_GE(cli->core_total(core::ctr::arp_requests_sent), 1u); // the first SYN waited for ARP
}

} // namespace
} // namespace fg::eal_test

namespace fg::eal_test {
namespace {

// apps::runtime takes down what it made in reverse order of creation, also
// when a start-up step failed half way: afterwards no port, ring or stack
// ring of it is left (a listener's accept ring freed after EAL cleanup was
// the README demo's SIGSEGV at exit).
TEST(EalRuntime, TearsDownInReverseOnEveryPath)
{
    std::string err;
    const std::string name = unique_name("rt");
    const std::string cli_name = unique_name("rtcli");
    {
        std::unique_ptr<apps::runtime> rt = apps::runtime::adopt_eal();
        apps::pair_config pc;
        pc.name = name;
        pc.server = test_config(unique_name("rtsrv"), 0, {1}, "198.18.0.2/24");
        pc.client = test_config(cli_name, 0, {2}, "198.18.0.1/24");
        apps::stack_pair sp;
        ASSERT_TRUE(rt->add_pair(pc, sp, err)) << err;
        ASSERT_NE(rt->listen(*sp.server, 0, srv_port, tcp::listen_options{}, err), nullptr) << err;
        ASSERT_TRUE(rt->launch(err)) << err;
        uint16_t id = 0;
        EXPECT_EQ(rte_eth_dev_get_port_by_name(("net_ring_" + name + "_a").c_str(), &id), 0);
        EXPECT_NE(rte_ring_lookup((name + "_ab0").c_str()), nullptr);
        // Leaves the scope running: the destructor halts the lcores first.
    }
    uint16_t id = 0;
    EXPECT_NE(rte_eth_dev_get_port_by_name(("net_ring_" + name + "_a").c_str(), &id), 0) << "port left open";
    EXPECT_NE(rte_eth_dev_get_port_by_name(("net_ring_" + name + "_b").c_str(), &id), 0) << "port left open";
    EXPECT_EQ(rte_ring_lookup((name + "_ab0").c_str()), nullptr) << "ring pair ring left";
    EXPECT_EQ(rte_ring_lookup((cli_name + "_cmd" + std::to_string(0) + "_0").c_str()), nullptr);
    for (unsigned id2 : {1u, 2u}) {
        EXPECT_NE(rte_eal_get_lcore_state(id2), RUNNING) << "lcore " << id2 << " still running";
    }

    // A start-up error half way -- the server stack exists, the client's
    // config has no address --: the runtime still undoes the server stack
    // and the ring pair.
    const std::string name2 = unique_name("rt");
    {
        std::unique_ptr<apps::runtime> rt = apps::runtime::adopt_eal();
        apps::pair_config pc;
        pc.name = name2;
        pc.server = test_config(unique_name("rtsrv"), 0, {1}, "198.18.0.2/24");
        pc.client = test_config(unique_name("rtcli"), 0, {2}, "198.18.0.1/24");
        pc.client.addrs.clear(); // "no address configured"
        apps::stack_pair sp;
        EXPECT_FALSE(rt->add_pair(pc, sp, err));
        EXPECT_NE(err.find("no address configured"), std::string::npos) << err;
        EXPECT_NE(sp.server, nullptr);
    }
    EXPECT_NE(rte_eth_dev_get_port_by_name(("net_ring_" + name2 + "_b").c_str(), &id), 0) << "port left open after an error";
    EXPECT_EQ(rte_ring_lookup((name2 + "_ba0").c_str()), nullptr) << "ring left after an error";
}

} // namespace
} // namespace fg::eal_test

namespace fg::eal_test {
namespace {

// A SYN from `src` to the server as raw bytes, with IP options `ipopts`
// (a multiple of 4 bytes) and the given destination MAC; checksums right.
std::vector<uint8_t> raw_syn(const rte_ether_addr& smac, const rte_ether_addr& dmac, uint32_t src, uint16_t sport,
                             const std::vector<uint8_t>& ipopts = {})
{
    uint8_t buf[128];
    const net::tcp_options o = linux_syn_options(5);
    const uint32_t len = net::make_tcp_segment(buf, smac, dmac, make_tuple4(src, sport, srv_ip, srv_port), 777, 0,
                                               RTE_TCP_SYN_FLAG, 64240, &o, net::cksum_mode::software);
    std::vector<uint8_t> f(buf, buf + len);
    f.insert(f.begin() + 34, ipopts.begin(), ipopts.end());
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(f.data() + 14);
    ip->version_ihl = uint8_t(0x45 + ipopts.size() / 4);
    ip->total_length = rte_cpu_to_be_16(uint16_t(f.size() - 14));
    net::set_ipv4_cksum(ip);
    net::set_tcp_cksum(ip, reinterpret_cast<rte_tcp_hdr*>(f.data() + 14 + 20 + ipopts.size()));
    return f;
}

// What Linux decides before any socket lookup (ip_rcv_core,
// ip_route_input_slow, fib_validate_source, tcp_v4_rcv), through a whole
// stack: frames to another MAC, TCP in broadcast frames, "land" SYNs from our
// own address and SYNs from our subnet's broadcast address are dropped and
// counted; a SYN with a record-route IP option is answered (without
// options); a source-routed one is dropped; a ping in a broadcast frame is
// answered, as Linux does.
TEST(EalCore, AdmissionAsLinuxDecidesIt)
{
    std::string err;
    uint16_t pa = 0, pb = 0;
    ASSERT_TRUE(glue::make_ring_pair(unique_name("adm"), 1, 0, pa, pb, err)) << err;
    running_stack srv;
    ASSERT_TRUE(srv.start(test_config(unique_name("srv"), pa, {1}, "198.18.0.2/24"), err)) << err;
    glue::port_config pc;
    glue::port_info peer;
    ASSERT_TRUE(glue::port_start(pb, pc, steering(1), peer, err)) << err;
    int rc = 0;
    auto l = srv->listen(0, srv_port, tcp::listen_options{}, rc, err);
    ASSERT_NE(l, nullptr) << err;
    rte_mempool* pool = srv->lc(0).out.pool;
    const rte_ether_addr other{{0x02, 0, 0, 0, 0, 0x99}};
    const rte_ether_addr bcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    const rte_ether_addr mcast{{0x01, 0x00, 0x5e, 0, 0, 1}};
    auto send = [&](const std::vector<uint8_t>& f) {
        ASSERT_TRUE(send_frame(pb, 0, frame_mbuf(pool, f.data(), uint32_t(f.size()))));
    };
    // Dropped, each for its reason.
    send(raw_syn(peer.mac, other, cli_ip, 41001));                                     // l2_otherhost
    send(raw_syn(peer.mac, bcast, cli_ip, 41002));                                     // l2_not_unicast
    send(raw_syn(peer.mac, mcast, cli_ip, 41003));                                     // l2_not_unicast
    send(raw_syn(peer.mac, srv->mac(), srv_ip, 41004));                                // land: martian_src
    send(raw_syn(peer.mac, srv->mac(), ipv4(198, 18, 0, 255), 41005));                // broadcast source
    send(raw_syn(peer.mac, srv->mac(), cli_ip, 41006, {131, 7, 4, 198, 18, 0, 9, 0})); // loose source route
    // A ping in a broadcast frame (to our address): answered.
    uint8_t ping[128];
    const uint8_t payload[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const uint32_t plen = make_icmp_echo_request(ping, peer.mac, bcast, cli_ip, srv_ip, 7, 1, payload, 8);
    send(std::vector<uint8_t>(ping, ping + plen));
    // Answered: a SYN with a record-route option, then a plain one.
    send(raw_syn(peer.mac, srv->mac(), cli_ip, 41007, {7, 7, 4, 0, 0, 0, 0, 0}));
    send(raw_syn(peer.mac, srv->mac(), cli_ip, 41008));

    std::map<uint16_t, unsigned> synacks; // our port -> SYN-ACKs
    unsigned pongs = 0;
    bool options_echoed = false;
    read_until(pb, 0, [&](const uint8_t* f, uint32_t n) {
        net::pkt_info pi{};
        net::drop why;
        const net::pkt_kind k = net::classify(f, n, 0, pi, why);
        if (k == net::pkt_kind::tcp && pi.tcp_flags == (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) {
            synacks[rte_be_to_cpu_16(pi.tuple.lport)]++;
            options_echoed = options_echoed || pi.l3_len != 20;
        } else if (k == net::pkt_kind::drop && n >= 35 && f[23] == IPPROTO_ICMP && f[34] == 0) {
            pongs++; // an echo reply (classify takes only requests)
        }
        return synacks.count(41008) != 0 && pongs != 0;
    });
    srv.stop();
    EXPECT_EQ(synacks.size(), 2u);
    EXPECT_EQ(synacks[41007], 1u);
    EXPECT_EQ(synacks[41008], 1u);
    EXPECT_FALSE(options_echoed);
    EXPECT_EQ(pongs, 1u);
    EXPECT_EQ(srv->core_total(core::ctr::l2_otherhost), 1u);
    EXPECT_EQ(srv->core_total(core::ctr::l2_not_unicast), 2u);
    EXPECT_EQ(srv->core_total(core::ctr::martian_src), 2u);
    EXPECT_EQ(srv->drop_total(net::drop::ip_source_route), 1u);
    EXPECT_EQ(srv->core_total(core::ctr::icmp_echo_replies), 1u);
    EXPECT_EQ(srv->tcp_total(tcp::ctr::syn_received), 2u);
    srv->unlisten(*l);
    glue::port_stop(pb);
}

} // namespace
} // namespace fg::eal_test
