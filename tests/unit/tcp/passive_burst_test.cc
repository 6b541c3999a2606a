// The batched input path (engine::input_burst: one lookup_burst, then every
// SYN's cookie and timestamp offset and every cookie ACK's check hashed lane
// by lane) gives the same answers as one segment at a time (engine::input),
// byte for byte, for each SIMD level this CPU has (scalar, AVX2, AVX-512):
// same SYN-ACKs (cookie ISN, TSval, options, checksums), same connections
// from cookie ACKs, same RSTs for forged ones, in every cookie mode.
#include <map>
#include <vector>

#include "base/cpu.hh"
#include "passive_harness.hh"

namespace fg::tcp::test {
namespace {

class burst : public passive {
protected:
    // The client's SYNs: ports 20000.., mixed options (with and without
    // timestamps, window scale, SACK, MSS), some with a payload byte.
    std::vector<rte_mbuf*> syns(uint16_t n)
    {
        std::vector<rte_mbuf*> v;
        for (uint16_t i = 0; i < n; i++) {
            const net::tcp_options o = client_syn_opts(i % 5 != 0, i % 3 != 0, i % 4 != 0, i % 2 == 0);
            v.push_back(frame(uint16_t(20000 + i), th_syn, 7000000u + 977u * i, 0, &o));
        }
        return v;
    }
    // The third ACKs for the SYN-ACKs in `sa` (good cookies), every fifth one
    // forged (ACK one off: not a cookie of ours).
    std::vector<rte_mbuf*> acks(const std::vector<seg>& sa)
    {
        std::vector<rte_mbuf*> v;
        for (std::size_t i = 0; i < sa.size(); i++) {
            const seg& s = sa[i];
            net::tcp_options o;
            if (s.opts.has_ts) {
                o.has_ts = true;
                o.ts_val = 2000;
                o.ts_ecr = s.opts.ts_val;
            }
            const uint16_t cport = rte_be_to_cpu_16(s.pi.tuple.lport); // classified as if received: lport is its destination
            const uint32_t ack = s.seq() + 1 + (i % 5 == 4 ? 7919u : 0u);
            v.push_back(frame(cport, th_ack, s.ack(), ack, o.has_ts ? &o : nullptr));
        }
        return v;
    }
    void feed(std::vector<rte_mbuf*> v, bool batched)
    {
        std::vector<net::pkt_info> pi;
        for (rte_mbuf* m : v) {
            pi.push_back(classify_or_fail(m));
        }
        if (batched) {
            // At most 16 at a time: the test double's tx batch must not fill.
            for (std::size_t b = 0; b < v.size(); b += 16) {
                const uint32_t k = uint32_t(std::min<std::size_t>(16, v.size() - b));
                eng->input_burst(&v[b], &pi[b], k);
                collected_push();
            }
        } else {
            for (std::size_t i = 0; i < v.size(); i++) {
                eng->input(v[i], pi[i]);
                if (out.n >= 16) {
                    collected_push();
                }
            }
            collected_push();
        }
    }
    void collected_push()
    {
        for (seg& s : sent()) {
            collected.push_back(std::move(s));
        }
    }
    // What the engine made of SYNs then ACKs, fed one way.
    struct outcome {
        std::vector<std::vector<uint8_t>> synacks;
        std::vector<std::vector<uint8_t>> replies; // to the ACKs (RSTs for forged cookies)
        std::map<uint16_t, std::pair<int, uint32_t>> conns; // client port -> (state, snd_nxt)
        tcp_counters ctr;
    };
    outcome run(bool batched, syncookie_mode mode)
    {
        lopts.cookies = mode;
        lopts.syn_backlog = 8; // auto: cookies after the 8th request
        lopts.on_accept = accept_action::hold;
        start();
        outcome r;
        collected.clear();
        feed(syns(40), batched);
        std::vector<seg> sa = collected;
        for (const seg& s : sa) {
            EXPECT_TRUE(s.ip_cksum_ok && s.tcp_cksum_ok);
            r.synacks.push_back(s.bytes);
        }
        collected.clear();
        feed(acks(sa), batched);
        for (const seg& s : collected) {
            r.replies.push_back(s.bytes);
        }
        for (uint16_t i = 0; i < 40; i++) {
            if (const conn* c = eng->find(tuple(uint16_t(20000 + i)))) {
                r.conns[uint16_t(20000 + i)] = {int(c->st), c->snd_nxt};
            }
        }
        r.ctr = eng->counters();
        if (lst != nullptr) {
            unlisten(lt, reg, *lst, nullptr);
            lst.reset();
        }
        eng.reset();
        return r;
    }
    std::vector<seg> collected;
};

TEST_F(burst, BatchedEqualsOneByOneAtEverySimdLevel)
{
    for (simd level : {simd::scalar, simd::avx2, simd::avx512}) {
        if (!simd_supports(level)) {
            std::printf("[ SKIPPED  ] %s: this CPU lacks it\n", simd_name(level));
            continue;
        }
        simd_scope scope(level);
        for (syncookie_mode mode : {syncookie_mode::always, syncookie_mode::automatic, syncookie_mode::never}) {
            SCOPED_TRACE(std::string(simd_name(level)) + " " + syncookie_mode_name(mode));
            const outcome one = run(false, mode);
            const outcome many = run(true, mode);
            ASSERT_EQ(one.synacks.size(), mode == syncookie_mode::never ? 8u : 40u); // never: 8 requests, then drops
            EXPECT_EQ(one.synacks, many.synacks);
            EXPECT_EQ(one.replies, many.replies);
            EXPECT_EQ(one.conns, many.conns);
            for (unsigned c = 0; c < n_counters; c++) {
                EXPECT_EQ(one.ctr[ctr(c)], many.ctr[ctr(c)]) << counter_name(ctr(c));
            }
            if (mode == syncookie_mode::always) {
                EXPECT_EQ(many.ctr[ctr::cookies_accepted], 32u); // 8 of 40 forged
                EXPECT_EQ(many.ctr[ctr::cookies_rejected], 8u);
            }
        }
    }
}

} // namespace
} // namespace fg::tcp::test
