#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <random>
#include <vector>

#include "timer/wheel.hh"

namespace fg::timer {
namespace {

// A pool-like object: 64 bytes, the link in the middle, payload around it.
struct conn {
    uint64_t before[5];
    link tl;
    uint32_t after[3];
};
static_assert(sizeof(conn) == 64);

struct fire_log {
    std::vector<uint32_t> idx;
    std::vector<uint32_t> at; // now_ms of the advance() call that fired it
};

// A standalone wheel over `n` links with a recording fire callback.
struct fixture {
    std::vector<link> links;
    wheel w;
    fire_log log;
    uint32_t now = 0;

    explicit fixture(uint32_t n, uint32_t start = 0) : links(n), now(start)
    {
        EXPECT_TRUE(w.init(links.data(), n, start));
    }
    uint32_t step(uint32_t to, uint32_t budget = UINT32_MAX)
    {
        now = to;
        return w.advance(
            to,
            [&](uint32_t i) {
                log.idx.push_back(i);
                log.at.push_back(to);
            },
            budget);
    }
};

TEST(TimerWheel, ZeroLinkIsUnarmed)
{
    std::vector<conn> pool(100);
    std::memset(pool.data(), 0, pool.size() * sizeof(conn));
    wheel w;
    ASSERT_TRUE(w.init(pool.data(), sizeof(conn), offsetof(conn, tl), 100, 0));
    for (uint32_t i = 0; i < 100; i++) {
        EXPECT_FALSE(w.armed(i));
    }
    w.cancel(7); // no-op on an unarmed link
    EXPECT_EQ(w.armed_count(), 0u);
    EXPECT_FALSE(w.armed(7));

    w.arm(7, 10);
    EXPECT_TRUE(w.armed(7));
    EXPECT_EQ(w.armed_count(), 1u);
    // Only the link of object 7 changed: payload and neighbours untouched.
    for (uint32_t i = 0; i < 100; i++) {
        EXPECT_EQ(pool[i].before[4], 0u);
        EXPECT_EQ(pool[i].after[0], 0u);
        if (i != 7) {
            EXPECT_EQ(pool[i].tl.next, 0u);
        }
    }
    // Freeing and zero-filling (what the pool does) after the timer fired
    // leaves a usable, unarmed link.
    uint32_t fired = 0;
    EXPECT_EQ(w.advance(10, [&](uint32_t i) {
        fired++;
        EXPECT_FALSE(w.armed(i));
        std::memset(&pool[i], 0, sizeof(conn));
    }), 1u);
    EXPECT_EQ(fired, 1u);
    EXPECT_EQ(w.armed_count(), 0u);
    w.arm(7, 20);
    EXPECT_TRUE(w.armed(7));
}

TEST(TimerWheel, RejectsBadLayout)
{
    std::vector<conn> pool(4);
    wheel w;
    EXPECT_FALSE(w.init(pool.data(), sizeof(conn), 60, 4, 0));     // link past the stride
    EXPECT_FALSE(w.init(pool.data(), sizeof(conn), 42, 4, 0));     // misaligned link
    EXPECT_FALSE(w.init(pool.data(), sizeof(conn), 0, 0, 0));      // no objects
    EXPECT_FALSE(w.init(nullptr, sizeof(conn), 0, 4, 0));          // no memory
    EXPECT_FALSE(w.init(pool.data(), 64, 0, wheel::max_capacity + 1, 0));
    EXPECT_TRUE(w.init(pool.data(), sizeof(conn), offsetof(conn, tl), 4, 0));
}

TEST(TimerWheel, FiresInExpiryOrderAcrossSlotsNoneEarlyNoneLate)
{
    constexpr uint32_t n = 5000;
    fixture f(n, 1000);
    std::mt19937 rng(1);
    std::vector<uint32_t> exp(n);
    for (uint32_t i = 0; i < n; i++) {
        exp[i] = 1001 + rng() % 60000;
        f.w.arm(i, exp[i]);
    }
    uint32_t prev_now = f.now;
    while (f.w.armed_count() > 0) {
        const std::size_t first = f.log.idx.size();
        f.step(f.now + 1 + rng() % 700);
        for (std::size_t k = first; k < f.log.idx.size(); k++) {
            const uint32_t e = exp[f.log.idx[k]];
            ASSERT_LE(e, f.now) << "fired early";
            ASSERT_GT(e, prev_now) << "fired late: was due in the previous call";
        }
        prev_now = f.now;
    }
    ASSERT_EQ(f.log.idx.size(), n);
    for (std::size_t k = 1; k < n; k++) {
        ASSERT_LE(exp[f.log.idx[k - 1]], exp[f.log.idx[k]]) << "out of expiry order at " << k;
    }
}

TEST(TimerWheel, SameMsTimersAllFireInArmOrder)
{
    fixture f(300);
    for (uint32_t i = 0; i < 300; i++) {
        f.w.arm((i * 7) % 300, 50);
    }
    EXPECT_EQ(f.step(49), 0u);
    EXPECT_EQ(f.step(50), 300u);
    for (uint32_t i = 0; i < 300; i++) {
        EXPECT_EQ(f.log.idx[i], (i * 7) % 300);
    }
    EXPECT_EQ(f.w.armed_count(), 0u);
}

TEST(TimerWheel, CancelledTimerNeverFires)
{
    fixture f(10);
    for (uint32_t i = 0; i < 10; i++) {
        f.w.arm(i, 100); // one slot list: cancel head, middle and tail
    }
    f.w.cancel(0);
    f.w.cancel(5);
    f.w.cancel(9);
    f.w.cancel(5); // twice: no-op
    EXPECT_EQ(f.w.armed_count(), 7u);
    EXPECT_FALSE(f.w.armed(5));
    EXPECT_EQ(f.step(1000), 7u);
    for (uint32_t i : f.log.idx) {
        EXPECT_NE(i, 0u);
        EXPECT_NE(i, 5u);
        EXPECT_NE(i, 9u);
    }
    // Cancel everything: the wheel is empty and a sweep finds nothing.
    f.w.arm(1, 2000);
    f.w.cancel(1);
    EXPECT_EQ(f.step(100000), 0u);
    EXPECT_EQ(f.w.armed_count(), 0u);
}

TEST(TimerWheel, RearmMovesTheTimer)
{
    fixture f(2);
    f.w.arm(0, 100);
    f.w.arm(0, 500); // later
    EXPECT_EQ(f.w.armed_count(), 1u);
    EXPECT_EQ(f.w.expire_ms(0), 500u);
    EXPECT_EQ(f.step(499), 0u);
    EXPECT_EQ(f.step(500), 1u);

    f.w.arm(1, 900);
    f.w.arm(1, 600); // earlier
    EXPECT_EQ(f.step(600), 1u);
    EXPECT_EQ(f.log.at.back(), 600u);
    EXPECT_EQ(f.step(2000), 0u);
}

TEST(TimerWheel, ArmFromInsideFire)
{
    std::vector<link> links(3);
    wheel w;
    ASSERT_TRUE(w.init(links.data(), 3, 0));
    // A periodic 10 ms timer that re-arms itself.
    uint32_t ticks = 0;
    w.arm(0, 10);
    uint32_t now = 0;
    for (now = 1; now <= 1000; now++) {
        w.advance(now, [&](uint32_t i) {
            ASSERT_EQ(i, 0u);
            ticks++;
            w.arm(0, now + 10);
        });
    }
    EXPECT_EQ(ticks, 100u);

    // One big step: the periodic timer fires at each 10 ms point it covers.
    ticks = 0;
    uint32_t last = 0;
    w.advance(2000, [&](uint32_t) {
        ticks++;
        last = w.cursor_ms() - 1; // the slot being swept
        w.arm(0, last + 10);
    });
    EXPECT_EQ(ticks, 100u);
    EXPECT_EQ(last, 2000u);

    // Re-arming into the past from fire() does not loop: it fires next call.
    w.cancel(0);
    w.arm(1, 2100);
    uint32_t n1 = 0;
    auto again = [&](uint32_t i) {
        n1++;
        w.arm(i, 0); // long past
    };
    EXPECT_EQ(w.advance(2100, again), 1u);
    EXPECT_EQ(w.advance(2100, again), 1u);
    EXPECT_EQ(w.advance(2101, again), 1u);
    EXPECT_EQ(n1, 3u);
    w.cancel(1);
    EXPECT_EQ(w.advance(2102, again), 0u);

    // ... also when the sweep goes on to later slots in the same call.
    n1 = 0;
    w.arm(1, 2150);
    w.arm(2, 2180);
    EXPECT_EQ(w.advance(2200, again), 2u);
    EXPECT_EQ(n1, 2u);
    EXPECT_EQ(w.advance(2200, again), 2u);
}

TEST(TimerWheel, FireMayCancelOrFreeOthers)
{
    fixture f(4);
    f.w.arm(0, 10);
    f.w.arm(1, 10);
    f.w.arm(2, 10);
    uint32_t n = 0;
    f.w.advance(10, [&](uint32_t i) {
        n++;
        EXPECT_EQ(i, 0u);
        f.w.cancel(1);     // due in this very sweep: must not fire
        f.w.arm(2, 20);    // moved later
        f.w.arm(3, 10);    // due now, armed behind the sweep: next call
    });
    EXPECT_EQ(n, 1u);
    EXPECT_EQ(f.step(10), 1u); // 3
    EXPECT_EQ(f.log.idx.back(), 3u);
    EXPECT_EQ(f.step(19), 0u);
    EXPECT_EQ(f.step(20), 1u);
    EXPECT_EQ(f.log.idx.back(), 2u);
}

TEST(TimerWheel, ArmInThePastFiresOnNextAdvance)
{
    fixture f(3, 5000);
    f.step(6000);
    f.w.arm(0, 6000); // swept already
    f.w.arm(1, 100);  // long ago
    f.w.arm(2, 6001);
    EXPECT_EQ(f.step(6000), 2u); // same now: the two due ones fire, 6001 does not
    EXPECT_EQ(f.w.stats().armed_past, 2u);
    EXPECT_EQ(f.step(6001), 1u);
}

TEST(TimerWheel, FarTimersBeyondOneRevolution)
{
    const uint32_t span = wheel::n_slots;
    fixture f(5, 123);
    const uint32_t e[5] = {123 + span + 5, 123 + 3 * span + 1, 123 + (1u << 31), 123 + wheel::max_ahead,
                           123 + span - 1};
    for (uint32_t i = 0; i < 5; i++) {
        f.w.arm(i, e[i]);
    }
    std::mt19937 rng(3);
    uint32_t prev = f.now;
    uint32_t steps = 0;
    // Small steps for the first few revolutions, big ones after.
    while (f.w.armed_count() > 0) {
        const std::size_t first = f.log.idx.size();
        const uint32_t jump = steps < 2000 ? 1 + rng() % 200 : 1 + rng() % (1u << 24);
        f.step(f.now + jump);
        steps++;
        for (std::size_t k = first; k < f.log.idx.size(); k++) {
            const uint32_t ex = e[f.log.idx[k]];
            ASSERT_LE(ex - 123, f.now - 123) << "fired early: timer " << f.log.idx[k];
            ASSERT_GT(ex - 123, prev - 123) << "fired late: timer " << f.log.idx[k];
        }
        prev = f.now;
        ASSERT_LT(steps, 1000000u);
    }
    EXPECT_EQ(f.log.idx.size(), 5u);
    EXPECT_GT(f.w.stats().requeued, 0u);
}

TEST(TimerWheel, JumpOfManyRevolutionsVisitsEachTimerOnce)
{
    fixture f(2, 0);
    f.w.arm(0, 1u << 31);
    f.w.arm(1, 100);
    EXPECT_EQ(f.step(1u << 30), 1u); // 16384 revolutions in one call
    EXPECT_EQ(f.w.stats().requeued, 1u);
    EXPECT_TRUE(f.w.armed(0));
    EXPECT_EQ(f.step((1u << 31) - 1), 0u);
    EXPECT_EQ(f.step(1u << 31), 1u);
}

TEST(TimerWheel, JumpFartherThanPastWindowStillFiresDueTimers)
{
    // A stall longer than 2^30 ms must not make due timers look "future".
    fixture f(3, 0);
    f.w.arm(0, 5);
    f.w.arm(1, (1u << 31) + 7);
    f.w.arm(2, wheel::max_ahead); // the farthest allowed
    EXPECT_EQ(f.step(wheel::max_ahead - 1000), 2u);
    EXPECT_EQ(f.log.idx[0], 0u);
    EXPECT_EQ(f.log.idx[1], 1u);
    EXPECT_TRUE(f.w.armed(2));
    EXPECT_EQ(f.step(wheel::max_ahead - 1), 0u);
    EXPECT_EQ(f.step(wheel::max_ahead), 1u);
}

TEST(TimerWheel, BudgetStopInsideAMultiRevolutionJump)
{
    constexpr uint32_t n = 20000;
    fixture f(n);
    std::mt19937 rng(6);
    std::vector<uint32_t> exp(n);
    for (uint32_t i = 0; i < n; i++) {
        exp[i] = (i % 2) ? 1 + rng() % (1u << 21) : 1 + rng() % wheel::max_ahead;
        f.w.arm(i, exp[i]);
    }
    std::vector<uint32_t> count(n);
    for (uint32_t to : {1u << 20, 1u << 31, (3u << 30) + 5}) {
        uint32_t calls = 0;
        while (f.step(to, 97) == 97) {
            calls++;
        }
        for (uint32_t k = 0; k < f.log.idx.size(); k++) {
            count[f.log.idx[k]]++;
            ASSERT_LE(exp[f.log.idx[k]], to) << "early";
        }
        f.log.idx.clear();
        for (uint32_t i = 0; i < n; i++) {
            ASSERT_EQ(count[i], exp[i] <= to ? 1u : 0u) << "timer " << i << " exp " << exp[i] << " to " << to;
        }
        EXPECT_GT(calls, 0u);
    }
    EXPECT_EQ(f.w.armed_count(), 0u);
}

TEST(TimerWheel, ArmBoundaries)
{
    fixture f(2, 1000);
    f.w.arm(0, 1000 + wheel::max_ahead);     // farthest future
    f.w.arm(1, 1000 + wheel::max_ahead + 1); // beyond: taken as past, fires now
    EXPECT_EQ(f.step(1001), 1u);
    EXPECT_EQ(f.log.idx[0], 1u);
    EXPECT_TRUE(f.w.armed(0));
}

TEST(TimerWheel, BudgetStopDoesNotRestartTheRevolution)
{
    // A far timer in slot 5, two due timers in slot 10. A long jump stops on
    // its budget at slot 10; the rest of the sweep must not revisit slot 5.
    fixture f(3, 0);
    f.w.arm(0, 5 + (1u << 30)); // slot 5, not due at 2^30
    f.w.arm(1, 10);
    f.w.arm(2, 10);
    EXPECT_EQ(f.step(1u << 30, 1), 1u);
    EXPECT_EQ(f.w.stats().requeued, 1u);
    EXPECT_EQ(f.step(1u << 30), 1u);
    EXPECT_EQ(f.w.stats().requeued, 1u);
    EXPECT_TRUE(f.w.armed(0));
}

TEST(TimerWheel, LargeTimeJumps)
{
    constexpr uint32_t n = 20000;
    fixture f(n);
    std::mt19937 rng(4);
    std::vector<uint32_t> exp(n);
    for (uint32_t i = 0; i < n; i++) {
        exp[i] = 1 + rng() % 400000; // up to 6 revolutions
        f.w.arm(i, exp[i]);
    }
    // Jumps of 10 s, then 100 s (more than one revolution), then an empty jump.
    uint32_t prev = 0;
    for (uint32_t to : {10000u, 20000u, 30000u, 130000u, 400000u, 400000u + (1u << 30)}) {
        const std::size_t first = f.log.idx.size();
        f.step(to);
        uint32_t expect = 0;
        for (uint32_t i = 0; i < n; i++) {
            expect += exp[i] > prev && exp[i] <= to;
        }
        ASSERT_EQ(f.log.idx.size() - first, expect) << "jump to " << to;
        for (std::size_t k = first; k < f.log.idx.size(); k++) {
            ASSERT_LE(exp[f.log.idx[k]], to);
            ASSERT_GT(exp[f.log.idx[k]], prev);
        }
        // Within a jump shorter than a revolution, expiry order holds.
        if (to - prev < wheel::n_slots) {
            for (std::size_t k = first + 1; k < f.log.idx.size(); k++) {
                ASSERT_LE(exp[f.log.idx[k - 1]], exp[f.log.idx[k]]);
            }
        }
        prev = to;
    }
    EXPECT_EQ(f.w.armed_count(), 0u);
    EXPECT_EQ(f.log.idx.size(), n);
}

TEST(TimerWheel, ClockWrapsAround)
{
    const uint32_t start = 0xFFFFFF00u;
    fixture f(100, start);
    for (uint32_t i = 0; i < 100; i++) {
        f.w.arm(i, start + 10 * i); // the last 75 wrap past zero
    }
    bool first_call = true;
    for (uint32_t t = start; t != start + 2002; t += 7) {
        const std::size_t first = f.log.idx.size();
        const uint32_t prev = f.now;
        f.step(t);
        for (std::size_t k = first; k < f.log.idx.size(); k++) {
            const uint32_t e = start + 10 * f.log.idx[k];
            ASSERT_LE(e - start, t - start) << "early";
            ASSERT_TRUE(first_call || e - start > prev - start) << "late";
        }
        first_call = false;
    }
    EXPECT_EQ(f.log.idx.size(), 100u);
}

TEST(TimerWheel, TimeGoingBackwardsIsTheSameTime)
{
    fixture f(2, 1000);
    f.w.arm(0, 1500);
    f.step(1400);
    EXPECT_EQ(f.step(900), 0u); // earlier: nothing happens, no huge "jump"
    EXPECT_TRUE(f.w.armed(0));
    EXPECT_EQ(f.step(1500), 1u);
}

TEST(TimerWheel, BudgetLimitsAndResumes)
{
    constexpr uint32_t n = 1000;
    fixture f(n);
    for (uint32_t i = 0; i < n; i++) {
        f.w.arm(i, 10 + i % 3); // three slots
    }
    std::vector<uint32_t> count(n);
    uint32_t calls = 0;
    while (f.w.armed_count() > 0) {
        const uint32_t got = f.step(100, 64);
        EXPECT_LE(got, 64u);
        calls++;
        ASSERT_LT(calls, 100u);
        if (f.w.armed_count() > 0) {
            EXPECT_EQ(got, 64u);
        }
        // New work arriving between calls is not lost.
        if (calls == 3) {
            f.w.arm(0, 50); // 0 fired already in call 1: armed again
        }
    }
    EXPECT_EQ(calls, (n + 1 + 63) / 64);
    for (uint32_t i : f.log.idx) {
        count[i]++;
    }
    EXPECT_EQ(count[0], 2u);
    for (uint32_t i = 1; i < n; i++) {
        ASSERT_EQ(count[i], 1u) << i;
    }
    // Order survives the budget: by expiry, then arm order.
    std::vector<uint32_t> order(f.log.idx.begin(), f.log.idx.end());
    for (std::size_t k = 1; k + 1 < order.size(); k++) {
        ASSERT_LE(10 + order[k - 1] % 3, 10 + order[k] % 3);
    }
    EXPECT_EQ(f.w.advance(100, [](uint32_t) {}, 0), 0u);
}

TEST(TimerWheel, BudgetZeroFiresNothing)
{
    fixture f(1);
    f.w.arm(0, 5);
    EXPECT_EQ(f.step(10, 0), 0u);
    EXPECT_TRUE(f.w.armed(0));
    EXPECT_EQ(f.step(10), 1u);
}

TEST(TimerWheel, MillionTimersArmedAndExpired)
{
    constexpr uint32_t n = 1000000;
    std::vector<conn> pool(n);
    std::memset(pool.data(), 0, pool.size() * sizeof(conn));
    wheel w;
    ASSERT_TRUE(w.init(pool.data(), sizeof(conn), offsetof(conn, tl), n, 0));
    std::mt19937 rng(5);
    std::vector<uint32_t> exp(n);
    for (uint32_t i = 0; i < n; i++) {
        // Mostly TCP-like (1..64 s), some past one revolution.
        exp[i] = (i % 10 == 0) ? 1 + rng() % 200000 : 1 + rng() % 64000;
        w.arm(i, exp[i]);
    }
    ASSERT_EQ(w.armed_count(), n);
    uint32_t cancelled = 0;
    for (uint32_t i = 3; i < n; i += 7) {
        w.cancel(i);
        cancelled++;
    }
    ASSERT_EQ(w.armed_count(), n - cancelled);
    std::vector<uint8_t> fired(n);
    uint32_t now = 0;
    uint32_t prev = 0;
    uint64_t total = 0;
    bool bad_time = false;
    bool budget_hit = false; // the previous call stopped on its budget: leftovers are legitimately late
    while (w.armed_count() > 0) {
        now += 1 + rng() % 3000;
        const uint32_t budget = (rng() % 4 == 0) ? 5000 : UINT32_MAX;
        const bool cut_short = budget_hit;
        const uint32_t got = w.advance(
            now,
            [&](uint32_t i) {
                fired[i]++;
                bad_time |= exp[i] > now; // early
                bad_time |= budget == UINT32_MAX && !cut_short && exp[i] <= prev; // late
            },
            budget);
        total += got;
        budget_hit = got == budget;
        prev = now;
    }
    EXPECT_FALSE(bad_time);
    EXPECT_EQ(total, uint64_t(n - cancelled));
    EXPECT_EQ(w.stats().fired, uint64_t(n - cancelled));
    for (uint32_t i = 0; i < n; i++) {
        ASSERT_EQ(fired[i], (i >= 3 && (i - 3) % 7 == 0) ? 0 : 1) << i;
        ASSERT_EQ(pool[i].tl.next, 0u);
        ASSERT_EQ(pool[i].tl.prev, 0u);
    }
}

} // namespace
} // namespace fg::timer
