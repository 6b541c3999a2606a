// Security properties of a whole stack's secrets (issue 9): the ISN, the
// timestamp-offset and the SYN-cookie secrets are drawn when a stack starts,
// so nothing an attacker observes from one stack -- or from its own
// connections to it -- predicts the sequence numbers of another stack or of
// another 4-tuple (RFC 6528, RFC 4987 3.6, Linux net_secret / syncookie_secret).
//
// Two stacks are created in the same process, in the same second, on the
// same address (each on its own ring pair, the other end driven by hand),
// and the same SYN goes to both:
//  * cookie SYN-ACKs (cookies always): a cookie depends only on the secret,
//    the 4-tuple, the client's ISN and MSS and the minute, so equal secrets
//    give equal cookies -- the same stack answers a repeated SYN with the
//    same cookie (checked: the premise), the other stack with another one;
//  * request SYN-ACKs (cookies never): ISN = keyed hash + clock >> 6, so
//    for two stacks with the same secret the difference of their ISNs for
//    one tuple is the same for every tuple, up to the time between the asks
//    (measured) -- with separate secrets it changes at random from tuple to
//    tuple. TSvals likewise: TSval = ms clock + keyed offset of the address
//    pair;
//  * within one stack, ISNs of 4-tuples differing only in the client's port
//    are not the clock alone (RFC 6528's per-tuple offset): one connection's
//    ISN does not predict its neighbour's.
// A stack that used a fixed secret, or one derived from the time or the pid
// (equal for two stacks of one process in one second), fails each check.
#include <chrono>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "harness.hh"
#include "net/tcp_options.hh"

namespace fg::eal_test {
namespace {

constexpr uint32_t cli_ip = ipv4(198, 18, 0, 1);
constexpr uint32_t srv_ip = ipv4(198, 18, 0, 2);
constexpr uint16_t cookie_port = 8080; // cookies always
constexpr uint16_t isn_port = 8081;    // cookies never: a request, its ISN from isn_generator

uint64_t mono_ns_now()
{
    return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now().time_since_epoch())
                        .count());
}

// One stack with its two listeners, and the raw end of its ring pair.
struct server {
    running_stack st;
    std::unique_ptr<tcp::listener> cookies, isns;
    uint16_t pa = 0, pb = 0;
    glue::port_info peer;

    bool start(unsigned lcore, std::string& err)
    {
        if (!glue::make_ring_pair(unique_name("sec"), 1, 0, pa, pb, err)) {
            return false;
        }
        if (!st.start(test_config(unique_name("secsrv"), pa, {lcore}, "198.18.0.2/24"), err)) {
            return false;
        }
        glue::port_config pc;
        if (!glue::port_start(pb, pc, steering(1), peer, err)) {
            return false;
        }
        int rc = 0;
        tcp::listen_options lo;
        lo.cookies = tcp::syncookie_mode::always;
        cookies = st->listen(0, cookie_port, lo, rc, err);
        lo.cookies = tcp::syncookie_mode::never;
        isns = cookies ? st->listen(0, isn_port, lo, rc, err) : nullptr;
        return isns != nullptr;
    }
    ~server()
    {
        if (isns) {
            st->unlisten(*isns);
        }
        if (cookies) {
            st->unlisten(*cookies);
        }
        st.stop();
        glue::port_stop(pb);
    }

    struct synack {
        uint32_t seq = 0;
        uint32_t tsval = 0;
        uint64_t sent_ns = 0; // the SYN was sent after this
        uint64_t seen_ns = 0; // the SYN-ACK was read before this
        bool ok = false;
    };

    // Sends a SYN from cli_ip:cport to dport and returns its SYN-ACK.
    synack ask(uint16_t cport, uint16_t dport)
    {
        synack r;
        const tuple4 t = make_tuple4(cli_ip, cport, srv_ip, dport); // the peer's view
        const net::tcp_options o = linux_syn_options(4242);
        rte_mbuf* m = tcp_mbuf(st->lc(0).out.pool, peer.mac, st->mac(), t, 7777777u, 0, RTE_TCP_SYN_FLAG, &o);
        if (m == nullptr) {
            return r;
        }
        r.sent_ns = mono_ns_now();
        if (!send_frame(pb, 0, m)) {
            return r;
        }
        r.ok = read_until(pb, 0, [&](const uint8_t* f, uint32_t n) {
            net::pkt_info pi{};
            net::drop why;
            if (net::classify(f, n, 0, pi, why) != net::pkt_kind::tcp || !(pi.tuple == t) ||
                pi.tcp_flags != (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) {
                return false;
            }
            net::tcp_options so{};
            net::parse_tcp_options(f + pi.opt_off, pi.opt_len, true, so);
            r.seq = pi.seq;
            r.tsval = so.ts_val;
            return true;
        });
        r.seen_ns = mono_ns_now();
        return r;
    }
};

// The passive side's ISN clock term is the lcore's millisecond clock in
// 64 ns ticks (_now_ms * 10^6 >> 6): 15625 ticks a millisecond, and each
// stack's clock starts at its own lcore's start.
constexpr int64_t ticks_per_ms = 1000000 >> 6;
constexpr int64_t ms_slack = 2 * ticks_per_ms; // the clock's granularity, each end

// Whether b.seq - a.seq (one stack, two 4-tuples) can be the clock alone:
// the time between the two SYN-ACKs, within what the test measured around
// them, in ticks.
bool clock_alone_possible(const server::synack& a, const server::synack& b)
{
    const int64_t lo = ((int64_t(b.sent_ns) - int64_t(a.seen_ns)) >> 6) - ms_slack;
    const int64_t hi = ((int64_t(b.seen_ns) - int64_t(a.sent_ns)) >> 6) + ms_slack;
    const int64_t d = int64_t(int32_t(b.seq - a.seq));
    return d >= lo && d <= hi;
}

// Two stacks, the same two 4-tuples asked of each (x from one, y from the
// other): with one secret, y.seq - x.seq is the same constant for every
// tuple (the two clocks' offset) plus the time between the asks, so the
// change of that difference from tuple p to tuple q is bounded by what the
// test measured. With separate secrets it is anything.
bool one_secret_possible(const server::synack& xp, const server::synack& yp, const server::synack& xq,
                         const server::synack& yq)
{
    const int64_t lo = ((int64_t(yq.sent_ns) - int64_t(xq.seen_ns)) - (int64_t(yp.seen_ns) - int64_t(xp.sent_ns))) / 64 -
                       2 * ms_slack;
    const int64_t hi = ((int64_t(yq.seen_ns) - int64_t(xq.sent_ns)) - (int64_t(yp.sent_ns) - int64_t(xp.seen_ns))) / 64 +
                       2 * ms_slack;
    const int64_t d = int64_t(int32_t((yq.seq - xq.seq) - (yp.seq - xp.seq)));
    return d >= lo && d <= hi;
}

TEST(EalSecrets, TwoStacksDrawTheirOwnIsnTimestampAndCookieSecrets)
{
    std::string err;
    server a, b;
    ASSERT_TRUE(a.start(1, err)) << err;
    ASSERT_TRUE(b.start(2, err)) << err;

    // Cookies: the premise (one stack, one SYN, the same cookie), then the
    // other stack's cookie for the same SYN. A minute boundary between the
    // two asks changes the cookie: try again.
    bool premise = false;
    for (int attempt = 0; attempt < 3 && !premise; attempt++) {
        const uint16_t cport = uint16_t(41000 + attempt * 10);
        std::vector<uint32_t> ca, cb;
        for (uint16_t i = 0; i < 4; i++) {
            const server::synack x = a.ask(uint16_t(cport + i), cookie_port);
            const server::synack y = b.ask(uint16_t(cport + i), cookie_port);
            const server::synack x2 = a.ask(uint16_t(cport + i), cookie_port);
            ASSERT_TRUE(x.ok && y.ok && x2.ok) << "no cookie SYN-ACK";
            if (x2.seq != x.seq) {
                ca.clear();
                break; // the minute turned
            }
            ca.push_back(x.seq);
            cb.push_back(y.seq);
        }
        if (ca.size() != 4) {
            continue;
        }
        premise = true;
        for (size_t i = 0; i < 4; i++) {
            EXPECT_NE(ca[i], cb[i]) << "two stacks answered the same SYN with the same cookie: one cookie secret";
        }
    }
    EXPECT_TRUE(premise) << "a stack answered the same SYN with different cookies three times";

    // ISNs and TSvals of requests: the same four tuples to both stacks.
    unsigned isn_far = 0, ts_far = 0;
    std::vector<server::synack> ra, rb;
    for (uint16_t i = 0; i < 4; i++) {
        const server::synack x = a.ask(uint16_t(42000 + i), isn_port);
        const server::synack y = b.ask(uint16_t(42000 + i), isn_port);
        ASSERT_TRUE(x.ok && y.ok) << "no SYN-ACK from a request";
        if (i > 0) {
            isn_far += one_secret_possible(ra.back(), rb.back(), x, y) ? 0 : 1;
        }
        // TSval = ms clock + offset(addresses), the clock shared by the
        // stacks: with one secret the two differ by the milliseconds
        // between them (a second of slack).
        const int64_t ms = int64_t((y.seen_ns - x.sent_ns) / 1000000) + 1000;
        const int64_t dts = int64_t(int32_t(y.tsval - x.tsval));
        ts_far += dts < -1000 || dts > ms ? 1 : 0;
        ra.push_back(x);
        rb.push_back(y);
    }
    EXPECT_GT(isn_far, 0u) << "the two stacks' ISNs differ by their clocks only: one ISN secret";
    EXPECT_GT(ts_far, 0u) << "the two stacks' TSvals differ by the clock only: one timestamp secret";

    // One stack, neighbouring ports: not the clock alone (RFC 6528).
    unsigned tuple_far = 0;
    for (size_t i = 1; i < ra.size(); i++) {
        tuple_far += clock_alone_possible(ra[i - 1], ra[i]) ? 0 : 1;
    }
    EXPECT_GT(tuple_far, 0u) << "ISNs of neighbouring 4-tuples differ by the clock only: no per-tuple secret";
}

} // namespace
} // namespace fg::eal_test
