// A straight transcription of the Linux code our SYN cookies, ISNs and
// timestamp offsets must match bit for bit: lib/siphash.c (siphash_2u32,
// siphash_3u32, siphash_4u32), net/ipv4/syncookies.c (cookie_hash,
// secure_tcp_syn_cookie, check_tcp_syn_cookie, __cookie_v4_init_sequence,
// __cookie_v4_check, cookie_init_timestamp) and net/core/secure_seq.c
// (secure_tcp_seq, secure_tcp_ts_off). Written as the kernel writes it, with
// the kernel's types and globals, sharing no code with lib/ (not even
// SipHash), so the known-answer tests compare two independent
// implementations. Only what the tests need is kept; the kernel's global
// clocks (jiffies, ktime_get_real_ns) are variables the tests set.
#pragma once

#include <cstddef>
#include <cstdint>

namespace linux_ref {

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef uint16_t __u16;
typedef uint32_t __u32;
typedef uint16_t __be16; // raw network-order value, as in the packet
typedef uint32_t __be32;
#define __force

typedef struct {
    u64 key[2];
} siphash_key_t;
typedef siphash_key_t siphash_aligned_key_t;

static inline u64 rol64(u64 word, unsigned int shift) { return (word << (shift & 63)) | (word >> ((-shift) & 63)); }

// include/linux/siphash.h
#define SIPHASH_PERMUTATION(a, b, c, d)                                                                             \
    ((a) += (b), (b) = rol64((b), 13), (b) ^= (a), (a) = rol64((a), 32), (c) += (d), (d) = rol64((d), 16),          \
     (d) ^= (c), (a) += (d), (d) = rol64((d), 21), (d) ^= (a), (c) += (b), (b) = rol64((b), 17), (b) ^= (c),        \
     (c) = rol64((c), 32))

#define SIPHASH_CONST_0 0x736f6d6570736575ULL
#define SIPHASH_CONST_1 0x646f72616e646f6dULL
#define SIPHASH_CONST_2 0x6c7967656e657261ULL
#define SIPHASH_CONST_3 0x7465646279746573ULL

// lib/siphash.c
#define SIPROUND SIPHASH_PERMUTATION(v0, v1, v2, v3)

#define PREAMBLE(len)                                                                                               \
    u64 v0 = SIPHASH_CONST_0;                                                                                       \
    u64 v1 = SIPHASH_CONST_1;                                                                                       \
    u64 v2 = SIPHASH_CONST_2;                                                                                       \
    u64 v3 = SIPHASH_CONST_3;                                                                                       \
    u64 b = ((u64)(len)) << 56;                                                                                     \
    v3 ^= key->key[1];                                                                                              \
    v2 ^= key->key[0];                                                                                              \
    v1 ^= key->key[1];                                                                                              \
    v0 ^= key->key[0];

#define POSTAMBLE                                                                                                   \
    v3 ^= b;                                                                                                        \
    SIPROUND;                                                                                                       \
    SIPROUND;                                                                                                       \
    v0 ^= b;                                                                                                        \
    v2 ^= 0xff;                                                                                                     \
    SIPROUND;                                                                                                       \
    SIPROUND;                                                                                                       \
    SIPROUND;                                                                                                       \
    SIPROUND;                                                                                                       \
    return (v0 ^ v1) ^ (v2 ^ v3);

static inline u64 siphash_1u64(const u64 first, const siphash_key_t* key)
{
    PREAMBLE(8)
    v3 ^= first;
    SIPROUND;
    SIPROUND;
    v0 ^= first;
    POSTAMBLE
}

static inline u64 siphash_2u64(const u64 first, const u64 second, const siphash_key_t* key)
{
    PREAMBLE(16)
    v3 ^= first;
    SIPROUND;
    SIPROUND;
    v0 ^= first;
    v3 ^= second;
    SIPROUND;
    SIPROUND;
    v0 ^= second;
    POSTAMBLE
}

static inline u64 siphash_3u32(const u32 first, const u32 second, const u32 third, const siphash_key_t* key)
{
    u64 combined = (u64)second << 32 | first;
    PREAMBLE(12)
    v3 ^= combined;
    SIPROUND;
    SIPROUND;
    v0 ^= combined;
    b |= third;
    POSTAMBLE
}

static inline u64 siphash_4u32(const u32 first, const u32 second, const u32 third, const u32 forth,
                               const siphash_key_t* key)
{
    u64 combined = (u64)second << 32 | first;
    PREAMBLE(16)
    v3 ^= combined;
    SIPROUND;
    SIPROUND;
    v0 ^= combined;
    combined = (u64)forth << 32 | third;
    v3 ^= combined;
    SIPROUND;
    SIPROUND;
    v0 ^= combined;
    POSTAMBLE
}

// include/linux/siphash.h: siphash_2u32(a, b) = siphash_1u64((u64)b << 32 | a)
static inline u64 siphash_2u32(const u32 a, const u32 b, const siphash_key_t* key)
{
    return siphash_1u64((u64)b << 32 | a, key);
}

#undef SIPROUND
#undef PREAMBLE
#undef POSTAMBLE

// Minimal packet headers (include/uapi/linux/ip.h, tcp.h): the fields used.
struct iphdr {
    __be32 saddr;
    __be32 daddr;
};
struct tcphdr {
    __be16 source;
    __be16 dest;
    __be32 seq;
    __be32 ack_seq;
};

static inline u32 ntohl(__be32 x) { return __builtin_bswap32(x); } // little-endian host
static inline __be32 htonl(u32 x) { return __builtin_bswap32(x); }
static inline __be16 htons(u16 x) { return __builtin_bswap16(x); }

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

// include/net/tcp.h
#define MAX_SYNCOOKIE_AGE 2
#define HZ 1000
#define TCP_SYNCOOKIE_PERIOD (60 * HZ)
inline u64 jiffies_64 = 0; // set by the tests
static inline u32 tcp_cookie_time(void)
{
    u64 val = jiffies_64;
    val /= TCP_SYNCOOKIE_PERIOD; // do_div(val, TCP_SYNCOOKIE_PERIOD)
    return (u32)val;
}

// net/ipv4/syncookies.c
inline siphash_aligned_key_t syncookie_secret[2];

#define COOKIEBITS 24 /* Upper bits store count */
#define COOKIEMASK (((__u32)1 << COOKIEBITS) - 1)

#define TS_OPT_WSCALE_MASK 0xf
#define TS_OPT_SACK (1UL << 4)
#define TS_OPT_ECN (1UL << 5)
#define TSBITS 6

static inline u32 cookie_hash(__be32 saddr, __be32 daddr, __be16 sport, __be16 dport, u32 count, int c)
{
    return siphash_4u32((__force u32)saddr, (__force u32)daddr, (__force u32)sport << 16 | (__force u32)dport, count,
                        &syncookie_secret[c]);
}

struct inet_request_sock {
    u16 snd_wscale : 4, wscale_ok : 1, sack_ok : 1, ecn_ok : 1;
};

// cookie_init_timestamp() with ts_now already in ms (tcp_ns_to_ts(false, now)).
static inline u64 cookie_init_timestamp(const struct inet_request_sock* ireq, u64 ts_now)
{
    u64 ts;
    u32 options = 0;

    options = ireq->wscale_ok ? ireq->snd_wscale : TS_OPT_WSCALE_MASK;
    if (ireq->sack_ok)
        options |= TS_OPT_SACK;
    if (ireq->ecn_ok)
        options |= TS_OPT_ECN;

    ts = (ts_now >> TSBITS) << TSBITS;
    ts |= options;
    if (ts > ts_now)
        ts -= (1UL << TSBITS);

    return ts;
}

static inline __u32 secure_tcp_syn_cookie(__be32 saddr, __be32 daddr, __be16 sport, __be16 dport, __u32 sseq, __u32 data)
{
    u32 count = tcp_cookie_time();
    return (cookie_hash(saddr, daddr, sport, dport, 0, 0) + sseq + (count << COOKIEBITS) +
            ((cookie_hash(saddr, daddr, sport, dport, count, 1) + data) & COOKIEMASK));
}

static inline __u32 check_tcp_syn_cookie(__u32 cookie, __be32 saddr, __be32 daddr, __be16 sport, __be16 dport, __u32 sseq)
{
    u32 diff, count = tcp_cookie_time();

    /* Strip away the layers from the cookie */
    cookie -= cookie_hash(saddr, daddr, sport, dport, 0, 0) + sseq;

    /* Cookie is now reduced to (count * 2^24) ^ (hash % 2^24) */
    diff = (count - (cookie >> COOKIEBITS)) & ((__u32)-1 >> COOKIEBITS);
    if (diff >= MAX_SYNCOOKIE_AGE)
        return (__u32)-1;

    return (cookie - cookie_hash(saddr, daddr, sport, dport, count - diff, 1)) & COOKIEMASK; /* Leaving the data behind */
}

static __u16 const msstab[] = {
    536,
    1300,
    1440, /* 1440, 1452: PPPoE */
    1460,
};

static inline u32 __cookie_v4_init_sequence(const struct iphdr* iph, const struct tcphdr* th, u16* mssp)
{
    int mssind;
    const __u16 mss = *mssp;

    for (mssind = ARRAY_SIZE(msstab) - 1; mssind; mssind--)
        if (mss >= msstab[mssind])
            break;
    *mssp = msstab[mssind];

    return secure_tcp_syn_cookie(iph->saddr, iph->daddr, th->source, th->dest, ntohl(th->seq), mssind);
}

static inline int __cookie_v4_check(const struct iphdr* iph, const struct tcphdr* th, u32 cookie)
{
    __u32 seq = ntohl(th->seq) - 1;
    __u32 mssind = check_tcp_syn_cookie(cookie, iph->saddr, iph->daddr, th->source, th->dest, seq);

    return mssind < ARRAY_SIZE(msstab) ? msstab[mssind] : 0;
}

// net/core/secure_seq.c
inline siphash_key_t net_secret;
inline siphash_key_t ts_secret;
inline u64 real_ns = 0; // ktime_get_real_ns(), set by the tests

static inline u32 seq_scale(u32 seq) { return seq + (real_ns >> 6); }

static inline u32 secure_tcp_ts_off(__be32 saddr, __be32 daddr)
{
    return siphash_2u32((__force u32)saddr, (__force u32)daddr, &ts_secret);
}

static inline u32 secure_tcp_seq(__be32 saddr, __be32 daddr, __be16 sport, __be16 dport)
{
    u32 hash;

    hash = siphash_3u32((__force u32)saddr, (__force u32)daddr, (__force u32)sport << 16 | (__force u32)dport,
                        &net_secret);
    return seq_scale(hash);
}

#undef __force
#undef ARRAY_SIZE

} // namespace linux_ref
