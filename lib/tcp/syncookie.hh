// SYN cookies: a listener under a SYN flood answers a SYN without keeping any
// state, by encoding what it must remember in the SYN-ACK's sequence number
// (and, when the peer does timestamps, in the low bits of our TSval). The ACK
// that completes the handshake carries both back. This is Linux's algorithm
// from net/ipv4/syncookies.c, bit for bit (same SipHash inputs, same layout,
// same MSS table), so a test can compute a cookie the way the kernel does and
// compare:
//
//   cookie = H0(tuple) + client_isn + (count << 24) + ((H1(tuple, count) + mss_index) & 0xFFFFFF)
//
// where H0/H1 are SipHash-2-4 under two independent keys over (client addr,
// server addr, client port << 16 | server port, count) and count is a minute
// counter. A cookie is good while our counter is less than 2 minutes past the
// one it was made with.
//
// The low 6 bits of a cookie SYN-ACK's TSval carry the peer's window scale
// (0xF = none), SACK-permitted and ECN, because a cookie keeps nothing else:
// a cookie connection without timestamps has no window scaling and no SACK.
//
// The caller supplies the minute counter (count_from_ms(now_ms) from its own
// clock), so tests control time and the hot path reads no clock here.
// make_burst()/check_burst() do a whole rx burst with multi-lane SipHash
// (base/siphash_lanes.hh: AVX-512, AVX2 or scalar, chosen at run time): two
// SipHashes per cookie are otherwise most of a 50 ns per-packet budget.
// Per cookie made, bursts of 32 (bench-syncookie BM_CookieMakeBurst, loaded
// Sapphire Rapids VM): scalar 40 ns, AVX2 17 ns, AVX-512 9 ns; everything a
// cookie SYN-ACK hashes (H0, H1, ts_offset: BM_SynHashes) 50 / 25 / 14 ns.
// A `syncookie` is immutable after construction: any number of lcores may
// share one. `cookie_recent` (Linux tcp_synq_overflow /
// tcp_synq_no_recent_overflow) is per lcore: it says whether an ACK that
// matches nothing should be tried as a cookie at all.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/siphash.hh"
#include "base/tuple.hh"

namespace fg::tcp {

// net.ipv4.tcp_syncookies: 0 = never, 1 = when the request table is full, 2 = always.
#define FG_SYNCOOKIE_MODES(X)                                                                                       \
    X(automatic, "auto")  /* cookies only while the listener's request table is full (Linux 1) */                 \
    X(always, "always")   /* every SYN is answered with a cookie (Linux 2) */                                       \
    X(never, "never")     /* never: a full request table drops SYNs; cookie ACKs are not checked (Linux 0) */

enum class syncookie_mode : uint8_t {
#define FG_X(e, s) e,
    FG_SYNCOOKIE_MODES(FG_X)
#undef FG_X
};

// "auto" | "always" | "never" -> mode. False (and `out` untouched) otherwise.
bool parse_syncookie_mode(std::string_view s, syncookie_mode& out);
const char* syncookie_mode_name(syncookie_mode m);

// What a cookie SYN-ACK's TSval low bits carry (Linux ireq->wscale_ok,
// snd_wscale, sack_ok, ecn_ok).
struct cookie_options {
    bool wscale_ok = false; // the SYN carried a window scale option
    uint8_t snd_wscale = 0; // the peer's shift (0..14), meaningful if wscale_ok
    bool sack_ok = false;   // the SYN carried SACK-permitted
    bool ecn_ok = false;    // ECN negotiated (we never offer it: always false from us)

    friend bool operator==(const cookie_options&, const cookie_options&) = default;
};

// Which options this host does (Linux sysctls tcp_timestamps, tcp_sack,
// tcp_window_scaling, tcp_ecn) when rebuilding a connection from a cookie.
struct cookie_policy {
    bool timestamps = true;
    bool sack = true;
    bool window_scaling = true;
    bool ecn = false; // Floodgate never negotiates ECN
};

class syncookie {
public:
    static constexpr uint32_t cookie_bits = 24;                             // Linux COOKIEBITS: low bits hold hash + MSS index
    static constexpr uint32_t cookie_mask = (uint32_t(1) << cookie_bits) - 1; // Linux COOKIEMASK
    static constexpr uint32_t max_age = 2;                                  // Linux MAX_SYNCOOKIE_AGE, in counter ticks (minutes)
    static constexpr uint32_t period_ms = 60 * 1000;                        // Linux TCP_SYNCOOKIE_PERIOD: one count per minute
    static constexpr uint32_t ts_bits = 6;                                  // Linux TSBITS: TSval bits holding options
    static constexpr uint32_t ts_wscale_mask = 0xF;                         // Linux TS_OPT_WSCALE_MASK; 0xF = no window scaling
    static constexpr uint32_t ts_sack = 1u << 4;                            // Linux TS_OPT_SACK
    static constexpr uint32_t ts_ecn = 1u << 5;                             // Linux TS_OPT_ECN
    // Linux msstab (IPv4), sorted: the MSS values a cookie can carry.
    static constexpr std::array<uint16_t, 4> msstab = {536, 1300, 1440, 1460};

    syncookie(const siphash_key& k0, const siphash_key& k1) : _key{k0, k1} {}
    // Two fresh keys from the kernel's CSPRNG.
    static syncookie random();

    // The minute counter from a millisecond clock (Linux tcp_cookie_time()).
    static uint32_t count_from_ms(uint64_t now_ms) { return uint32_t(now_ms / period_ms); }

    // Index into msstab of the largest entry <= client_mss, or 0 when the
    // client's MSS is below 536 (Linux __cookie_v4_init_sequence: such a
    // client is then sent 536-byte segments, exactly as Linux does).
    // (Linux scans the table down from the top; with a sorted table that is
    // the number of entries above the first that are <= client_mss.)
    static uint32_t mss_index(uint16_t client_mss)
    {
        static_assert(msstab.size() == 4 && msstab[0] < msstab[1] && msstab[1] < msstab[2] && msstab[2] < msstab[3]);
        return uint32_t(client_mss >= msstab[1]) + uint32_t(client_mss >= msstab[2]) +
               uint32_t(client_mss >= msstab[3]);
    }

    // The ISN of a cookie SYN-ACK. `t` is the connection seen from the
    // server (laddr/lport = us, raddr/rport = the client that sent the SYN),
    // client_isn the SYN's sequence number, client_mss the SYN's MSS (536 if
    // it had none), count the current minute counter. *mss_out (if not null)
    // gets the MSS the cookie carries (msstab[mss_index(client_mss)]).
    uint32_t make(const tuple4& t, uint32_t client_isn, uint16_t client_mss, uint32_t count,
                  uint16_t* mss_out = nullptr) const
    {
        const uint32_t idx = mss_index(client_mss);
        if (mss_out != nullptr) {
            *mss_out = msstab[idx];
        }
        return make_raw(t, client_isn, idx, count);
    }

    // Linux secure_tcp_syn_cookie(): `data` is a value < 2^24 (the MSS index).
    uint32_t make_raw(const tuple4& t, uint32_t client_isn, uint32_t data, uint32_t count) const
    {
        return hash(t, 0, 0) + client_isn + (count << cookie_bits) + ((hash(t, count, 1) + data) & cookie_mask);
    }

    // Is `cookie` (the ACK's ack - 1) one we made for this tuple and client
    // ISN (the ACK's seq - 1) less than max_age counts ago? If so *mss_out
    // (if not null) gets the MSS it carries. Linux check_tcp_syn_cookie() +
    // __cookie_v4_check(). As in Linux, the MSS index is only range-checked:
    // a seq or ack a few units off a valid cookie decodes a neighbouring
    // index; the tuple, the secrets and the count are what is authenticated.
    bool check(const tuple4& t, uint32_t cookie, uint32_t client_isn, uint32_t count, uint16_t* mss_out = nullptr) const
    {
        const uint32_t data = check_raw(t, cookie, client_isn, count);
        if (data >= msstab.size()) {
            return false;
        }
        if (mss_out != nullptr) {
            *mss_out = msstab[data];
        }
        return true;
    }

    // The same from an ACK segment's own fields (host order): cookie = ack - 1,
    // client ISN = seq - 1.
    bool check_ack(const tuple4& t, uint32_t seg_seq, uint32_t seg_ack, uint32_t count,
                   uint16_t* mss_out = nullptr) const
    {
        return check(t, seg_ack - 1, seg_seq - 1, count, mss_out);
    }

    // Linux check_tcp_syn_cookie(): the data value, or 0xFFFFFFFF if the
    // cookie is too old (or from the future); a forged cookie yields a
    // pseudo-random 24-bit value the caller must range-check.
    uint32_t check_raw(const tuple4& t, uint32_t cookie, uint32_t client_isn, uint32_t count) const
    {
        cookie -= hash(t, 0, 0) + client_isn;
        const uint32_t diff = (count - (cookie >> cookie_bits)) & (uint32_t(-1) >> cookie_bits);
        if (diff >= max_age) {
            return uint32_t(-1);
        }
        return (cookie - hash(t, count - diff, 1)) & cookie_mask;
    }

    // make() for n SYNs at once, e.g. a whole rx burst: for i < n,
    //   cookie_out[i] = make(t[i], client_isn[i], client_mss[i], count, &mss_out[i])
    // bit for bit, on every SIMD variant. Any n (32 lanes per SIMD pass);
    // plain arrays, no allocation; mss_out may be null; outputs must not
    // overlap inputs.
    void make_burst(std::size_t n, const tuple4* t, const uint32_t* client_isn, const uint16_t* client_mss,
                    uint32_t count, uint32_t* cookie_out, uint16_t* mss_out) const;

    // check() for n ACKs at once: for i < n, mss_out[i] = the MSS cookie[i]
    // carries (cookie = ACK's ack - 1, client_isn = ACK's seq - 1), or 0 if
    // check(t[i], cookie[i], client_isn[i], count) fails. Returns how many
    // were valid. Lanes failing the age test (nearly every forged ACK) cost
    // one SipHash, valid ones two. Same array rules as make_burst().
    std::size_t check_burst(std::size_t n, const tuple4* t, const uint32_t* cookie, const uint32_t* client_isn,
                            uint32_t count, uint16_t* mss_out) const;

    // The TSval (before adding the connection's timestamp offset) of a
    // cookie SYN-ACK: ts_now with its low 6 bits replaced by `o`, never
    // greater than ts_now (Linux cookie_init_timestamp()).
    static uint32_t make_tsval(uint32_t ts_now, const cookie_options& o)
    {
        uint32_t options = o.wscale_ok ? (o.snd_wscale & ts_wscale_mask) : ts_wscale_mask;
        if (o.sack_ok) {
            options |= ts_sack;
        }
        if (o.ecn_ok) {
            options |= ts_ecn;
        }
        uint32_t ts = (ts_now >> ts_bits) << ts_bits;
        ts |= options;
        if (ts > ts_now) {
            ts -= uint32_t(1) << ts_bits;
        }
        return ts;
    }

    // The options of a cookie connection from the cookie ACK (Linux
    // cookie_timestamp_decode() + cookie_ecn_ok()). `saw_ts`: the ACK had a
    // timestamp option; `tsecr`: its TSecr minus the connection's timestamp
    // offset (see tsecr_without_offset). No timestamps -> no options at all.
    // False when the echo claims an option `p` turns off: the ACK is then
    // not a valid cookie ACK (Linux drops it). The ECN bit is not a reason to
    // refuse: as in Linux, out.ecn_ok = bit && p.ecn.
    static bool decode_tsecr(bool saw_ts, uint32_t tsecr, const cookie_policy& p, cookie_options& out)
    {
        out = cookie_options{};
        if (!saw_ts) {
            return true;
        }
        if (!p.timestamps) {
            return false;
        }
        out.sack_ok = (tsecr & ts_sack) != 0;
        out.ecn_ok = (tsecr & ts_ecn) != 0 && p.ecn;
        if (out.sack_ok && !p.sack) {
            return false;
        }
        if ((tsecr & ts_wscale_mask) == ts_wscale_mask) {
            return true; // no window scaling
        }
        out.wscale_ok = true;
        out.snd_wscale = uint8_t(tsecr & ts_wscale_mask);
        return p.window_scaling;
    }

    // Linux cookie_v4_check() subtracts the timestamp offset only from a
    // non-zero TSecr; mirror that so a zero echo decodes as Linux decodes it.
    static uint32_t tsecr_without_offset(uint32_t tsecr, uint32_t ts_off) { return tsecr != 0 ? tsecr - ts_off : 0; }

private:
    // Linux cookie_hash(saddr, daddr, sport, dport, count, c) with saddr/sport
    // the client's: the words are the raw network-order values, ports packed
    // as (u32)sport << 16 | (u32)dport of the raw big-endian u16s.
    uint32_t hash(const tuple4& t, uint32_t count, int c) const
    {
        return uint32_t(siphash_4u32(t.raddr, t.laddr, (uint32_t(t.rport) << 16) | uint32_t(t.lport), count, _key[c]));
    }

    siphash_key _key[2];
};

// Linux tcp_synq_overflow() / tcp_synq_no_recent_overflow(): remembers when
// this lcore last sent a cookie. An ACK that matches no connection and no
// request is checked as a cookie only if a cookie went out in the last
// max_age minutes (plus one second of slack below); otherwise it is an
// ordinary stray ACK (answered with RST), and cookie checking costs nothing
// when there is no flood. Single writer: one per lcore (ACKs are steered to
// the lcore that sent the SYN-ACK).
class cookie_recent {
public:
    static constexpr uint32_t valid_ms = syncookie::max_age * syncookie::period_ms; // Linux TCP_SYNCOOKIE_VALID
    static constexpr uint32_t stamp_every_ms = 1000; // Linux rewrites the stamp at most once per HZ

    // A cookie was sent at now_ms.
    void note_sent(uint32_t now_ms)
    {
        if (!_ever || !between(now_ms, _last_ms, _last_ms + stamp_every_ms)) {
            _last_ms = now_ms;
            _ever = true;
        }
    }

    // Were cookies sent recently enough that an ACK may carry one?
    // (Wraps after 2^32 ms, 49 days, like Linux's jiffies test: a stale stamp
    // can then reopen the window for 2 minutes, which only costs a failed
    // cookie check.)
    bool recent(uint32_t now_ms) const
    {
        return _ever && between(now_ms, _last_ms - stamp_every_ms, _last_ms + valid_ms);
    }

private:
    // Linux time_between32(t, l, h): l <= t <= h modulo 2^32.
    static bool between(uint32_t t, uint32_t l, uint32_t h) { return t - l <= h - l; }

    uint32_t _last_ms = 0;
    bool _ever = false;
};

} // namespace fg::tcp
