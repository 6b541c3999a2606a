// fg::tcp::engine is one lcore's TCP: its connections (a pool of 64-byte conn
// blocks and the established table that maps 4-tuples to them), its timer
// wheel, its counters, and the state machine that turns received segments,
// timer expiries and application commands into transmitted segments and
// events. One engine per lcore; nothing in it is shared or locked. Shared,
// read-mostly things (listener table and registry, ISN and cookie secrets,
// routes) are pointed to from the config.
//
// The state machine reads as RFC 9293 3.10.7 does: one handler per state,
// chosen by a [state] dispatch table, each with the RFC step in comments.
// Files: listen.cc (LISTEN, SYN queue, cookies, accept), synrecv.cc
// (SYN-RECEIVED, Linux tcp_check_req), established.cc (checks common to the
// synchronized states, RFC 5961; ESTABLISHED, CLOSE_WAIT, LAST_ACK), close.cc
// (application close/abort), output.cc (building and sending segments);
// the active side: connect.cc, synsent.cc, active_close.cc (FIN-WAIT-1/2,
// CLOSING, TIME-WAIT).
//
// Scope: handshakes and closes; and, for connections an application on the
// lcore serves (stream.hh: generator connections with an active_app,
// listeners with accept_action::serve), a bounded data path -- payload from
// shared templates, in-order receive, RFC 6298 retransmission (data.cc,
// send.cc). On every other connection payload is not delivered: a data
// segment is ACKed (rcv_nxt advances when it is in order) and its bytes are
// discarded and counted (payload_bytes_discarded), and we send no data.
//
// Events to application threads are 48-byte `event`s: accepted connections
// go to their listener's accept ring, everything else to this lcore's event
// ring. A full ring drops the event, counted, never blocks. Application
// threads act on connections with `cmd`s through the lcore's command ring,
// which the lcore loop drains into command().
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "base/mem.hh"
#include "base/pktio.hh"
#include "base/tuple.hh"
#include "net/classify.hh"
#include "net/tcp_hdr.hh"
#include "net/tcp_options.hh"
#include "table/conn_table.hh"
#include "table/pool.hh"
#include "tcp/conn.hh"
#include "tcp/counters.hh"
#include "tcp/isn.hh"
#include "tcp/listener.hh"
#include "tcp/negotiate.hh"
#include "tcp/stream.hh"
#include "tcp/syncookie.hh"
#include "timer/wheel.hh"

namespace fg::table {
class listener_table;
}
namespace fg::route {
class route_table;
class neigh_table;
} // namespace fg::route

namespace fg::tcp {

// A connection as application threads name it: pool slot, generation, lcore.
using handle = table::handle;

// X(name, "meaning"): what an event tells the application.
#define FG_FOREACH_TCP_EVENT(X)                                                                                     \
    X(accepted, "a connection to a listener completed its handshake (listener's accept ring)")                    \
    X(established, "an active connection completed its handshake")                                                 \
    X(refused, "an active connection was refused (RST to our SYN)")                                               \
    X(timed_out, "an active connection's SYN retries ran out")                                                    \
    X(unreachable, "connect(): no route or no neighbour")                                                          \
    X(no_port, "connect(): no free local port")                                                                    \
    X(reset, "the peer reset the connection; the handle is dead")                                                  \
    X(closed, "the connection closed in order and was freed; the handle is dead")                                 \
    X(peer_closed, "the peer sent FIN (CLOSE-WAIT): close() to finish")                                           \
    X(released, "local connections only: the block was freed, its 4-tuple is free for a new connection")

enum class event_type : uint8_t {
#define FG_X(name, doc) name,
    FG_FOREACH_TCP_EVENT(FG_X)
#undef FG_X
        count
};
const char* event_type_name(event_type t);

// event::opts bits: what the handshake negotiated.
enum event_opt : uint8_t {
    ev_sack = 1u << 0,   // SACK-permitted on
    ev_ts = 1u << 1,     // timestamps on
    ev_wscale = 1u << 2, // window scaling on (snd_wscale / rcv_wscale meaningful)
    ev_cookie = 1u << 3, // the connection came from a SYN cookie
    ev_app_closed = 1u << 4, // the application had already called close() (or abort()) on it
    ev_peer_closed = 1u << 5, // the peer's FIN was already accepted (CLOSE-WAIT or later)
    ev_pending = 1u << 6,     // local connections: the first event of the connection (its open is answered)
};

struct event {
    event_type type;       // what happened
    uint8_t opts;          // event_opt bits
    uint8_t snd_wscale;    // the peer's window shift
    uint8_t rcv_wscale;    // ours
    uint16_t mss;          // negotiated send MSS
    uint16_t listener_ref; // accepted: the listener's ref (listener::ref()); local active: the open_local() tag
    handle h;              // the connection (dead after reset / closed / refused / timed_out)
    uint64_t user;         // active side: the value given to connect
    tuple4 tuple;          // local/remote address and port, network order
    uint32_t rtt_us;       // handshake RTT: SYN (or SYN-ACK) sent -> ACK (or SYN-ACK) received
    int32_t error;         // errno-style reason for refused/timed_out/unreachable/no_port/reset, else 0
};
static_assert(sizeof(event) <= 48, "events are small: rings carry them by value");

// X(name): commands from application threads.
#define FG_FOREACH_TCP_CMD(X)                                                                                       \
    X(close)   /* orderly close: FIN (RFC 9293 3.10.4) */                                                           \
    X(abort)   /* RST and free (RFC 9293 3.10.5) */                                                                 \
    X(connect) /* active open to tuple.raddr:rport (laddr 0: pick; lport 0: allocate) */

enum class cmd_type : uint8_t {
#define FG_X(name) name,
    FG_FOREACH_TCP_CMD(FG_X)
#undef FG_X
        count
};

struct cmd {
    cmd_type type;
    handle h;      // close, abort
    tuple4 tuple;  // connect
    uint64_t user; // connect: echoed in the connection's events
};

// The active side's own configuration and per-engine state, defined by
// connect.hh (the active helper's files): opaque here.
struct active_config;
struct active_state;

struct engine_config {
    uint16_t lcore = 0;                 // this engine's lcore index (handles carry it)
    uint16_t n_lcores = 1;              // lcores running engines (listener SYN-queue shares)
    uint32_t capacity = 1u << 20;       // connections (pool and table): 1M default, 10M possible
    bool populate = true;               // fault all memory in at init (lcores); tests may skip it

    local_settings opts;                // our MSS, window, window scale, SACK, timestamps
    uint32_t rto_initial_ms = 1000;     // Linux TCP_TIMEOUT_INIT: first SYN/SYN-ACK/FIN retransmit
    uint32_t rto_max_ms = 120000;       // Linux TCP_RTO_MAX: backoff cap
    uint8_t synack_retries = 5;         // Linux tcp_synack_retries: then the request is dropped (63 s)
    uint8_t fin_retries = 8;            // Linux tcp_orphan_retries 0 means 8: FIN retransmissions before giving up
    uint32_t rst_per_s = 1000;          // RSTs to closed ports per second (Linux icmp_msgs_per_sec)
    uint32_t rst_burst = 50;            // and their burst (Linux icmp_msgs_burst)
    uint32_t challenge_ack_per_s = 1000; // RFC 5961 10: per lcore (Linux tcp_challenge_ack_limit was 1000/s before 6.0, now off)
    uint32_t invalid_ratelimit_ms = 500; // Linux tcp_invalid_ratelimit: one out-of-window or challenge ACK per connection this often
    uint32_t timer_budget = 4096;       // timer expiries per tick(): a burst never stalls rx for long

    // Shared, read-mostly; must outlive the engine.
    const table::listener_table* listeners = nullptr; // who listens where (RCU readers)
    const listener_registry* registry = nullptr;      // listener ref -> listener
    const syncookie* cookies = nullptr;               // cookie secrets (fg::random_siphash_key at start-up)
    const isn_generator* isn = nullptr;               // ISN and timestamp-offset secrets
    const route::route_table* routes = nullptr;       // active side: route and source address
    route::neigh_table* neigh = nullptr;              // active side: this lcore's ARP table
    const active_config* active = nullptr;            // active side's options (connect.hh); null: defaults

    // The data path (stream.hh): apps run on this lcore, one object each,
    // owned by the caller; templates they send (ids are 1-based: templates[id - 1]).
    stream_app* active_app = nullptr;        // generator connections (null: handshakes only)
    stream_app* passive_app = nullptr;       // connections of listeners with accept_action::serve
    const tx_template* templates = nullptr;
    uint32_t n_templates = 0;                // at most 255
    uint32_t rto_min_ms = 200;               // Linux TCP_RTO_MIN: the floor of a data RTO (RFC 6298 says 1 s)
    uint8_t data_retries = 15;               // Linux tcp_retries2: RTOs without progress before dropping
    uint8_t init_cwnd = 10;                  // RFC 6928 initial window, segments: also the most in flight

    rte_ring* event_ring = nullptr;     // SP/MC ring of `event` to application threads (null: events dropped)
    pkt_out* out = nullptr;             // this lcore's tx batch (its pool also gives new frames)

    // Frames the engine builds from scratch (retransmissions, FIN and RST on
    // command) have no received frame to take MACs from. If `l2_send` is set
    // it gets each such frame with the Ethernet addresses unset and must fill
    // them in and transmit (or queue it behind ARP, or free it); otherwise the
    // engine writes src_mac/dst_mac (one next hop: tests, point-to-point) and
    // pushes to `out`.
    void (*l2_send)(void* ctx, rte_mbuf* m, const tuple4& t) = nullptr;
    void* l2_ctx = nullptr;
    rte_ether_addr src_mac{};
    rte_ether_addr dst_mac{};
};

class engine {
public:
    // Linux TCP_TIMEOUT_MIN (2 jiffies): the SYN timer re-armed "at once"
    // after an unacceptable ACK in SYN-SENT.
    static constexpr uint32_t timeout_min_ms = 2;

    engine() = default;
    ~engine();
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    // Allocates the pool, table and wheel (capacity from cfg) and starts the
    // clock at now_ms. False with a message on bad config or no memory.
    bool init(const engine_config& cfg, uint32_t now_ms, std::string& error);

    // A received TCP segment whose tuple this lcore owns and whose destination
    // is local. Consumes m: re-used for the reply, or freed.
    void input(rte_mbuf* m, const net::pkt_info& pi);
    // The same for a burst: one table lookup_burst for all, then dispatch.
    void input_burst(rte_mbuf** m, const net::pkt_info* pi, uint32_t n);
    // Advances the clock and fires due timers (at most `budget`, 0: cfg.timer_budget;
    // the rest fire on the next calls).
    void tick(uint32_t now_ms, uint32_t budget = 0);
    // A command from an application thread (drained from the command ring).
    void command(const cmd& c);

    // ---- introspection (tests, stats) ----
    const tcp_counters& counters() const { return _ctr; }
    uint32_t now_ms() const { return _now_ms; }
    uint32_t conns_in_use() const { return _pool.in_use(); }
    // Adds how many connections are in each state now to n[state]. Any
    // thread: relaxed reads of the pool while the lcore runs, so a count may
    // be a few segments old. Walks every slot ever used (64 bytes each): for
    // draining lines and reports, never per packet.
    void count_states(uint64_t (&n)[n_states]) const
    {
        const uint32_t end = _pool.high_water();
        for (uint32_t s = 0; s < end; s++) {
            if (_pool.in_use(s)) {
                const uint8_t st = __atomic_load_n(reinterpret_cast<const uint8_t*>(&_pool[s].st), __ATOMIC_RELAXED);
                n[st < n_states ? st : 0]++;
            }
        }
    }
    uint32_t table_size() const { return _table.size(); }
    const table::conn_table_stats& table_stats() const { return _table.stats(); }
    std::size_t timers_armed() const { return _wheel.armed_count(); }
    const engine_config& config() const { return _cfg; }
    // The connection of a tuple (our view), or nullptr.
    const conn* find(const tuple4& t) const;
    const conn* find(const handle& h) const;
    handle handle_of(const conn& c) const;
    // Expiry of a connection's timer, if armed.
    bool timer_of(const conn& c, uint32_t& expire_ms) const;

private:
    using handler = void (engine::*)(conn&, uint32_t, rte_mbuf*, const net::pkt_info&);
    static const handler dispatch[n_states];

    // ---- engine.cc ----
    void on_conn(uint32_t slot, rte_mbuf* m, const net::pkt_info& pi);
    void on_timer(uint32_t slot);
    void on_unhandled(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi);
    // New block: zeroed, tuple set, in the table. UINT32_MAX (counted) if the
    // pool or the table is full; with `exists` given, UINT32_MAX and *exists
    // = true (not counted) if the table already holds the tuple.
    uint32_t new_conn(const tuple4& t, bool* exists = nullptr);
    // Cancels the timer, removes from the table, frees the block.
    void free_conn(conn& c, uint32_t slot);
    uint32_t slot_of(const conn& c) const { return uint32_t(&c - &_pool[0]); }
    conn& at(uint32_t slot) { return _pool[slot]; }
    void arm(uint32_t slot, uint32_t after_ms) { _wheel.arm(slot, _now_ms + after_ms); }
    // RTO for the n-th retransmission (0 = first transmission's timer).
    uint32_t backoff_ms(uint32_t n) const;
    void post_event(const conn& c, event_type t, int32_t error = 0);
    void fill_event(event& e, const conn& c, event_type t, int32_t error) const;

    // ---- listen.cc: LISTEN (3.10.7.2), SYN queue, cookies, accept ----
    listener* find_listener(rte_be32_t laddr, rte_be16_t lport) const;
    // What input_burst() worked out for a segment that matched no
    // connection, for a whole burst at once: its listener and the SipHashes
    // a cookie SYN-ACK or a cookie ACK needs, computed lane by lane
    // (syncookie::make_burst / check_burst, isn_generator::ts_offset_burst).
    // (No initialisers: a burst's array is filled by prepare_listen only.)
    struct listen_pre {
        listener* l;            // the listener (valid if `looked_up`)
        bool looked_up;
        uint8_t kind;           // pre_none, pre_syn (syn, ts_off, cookie if has_cookie), pre_ack (mss, ts_off)
        bool has_cookie;        // pre_syn: `cookie` made (the listener was answering with cookies)
        uint16_t mss;           // SYN: the MSS the cookie encodes; ACK: the cookie's MSS, 0 = invalid cookie
        uint32_t cookie;        // SYN: the cookie (our ISN)
        uint32_t ts_off;        // the pair's timestamp offset
        net::tcp_options syn;   // SYN: its parsed options
    };
    enum : uint8_t { pre_none = 0, pre_syn = 1, pre_ack = 2 };
    // Fills pre[i] for the segments of a burst chunk that found no connection.
    void prepare_listen(rte_mbuf** m, const net::pkt_info* pi, const uint32_t* slots, uint32_t n, listen_pre* pre);
    void on_listen(rte_mbuf* m, const net::pkt_info& pi, const listen_pre* pre = nullptr);
    void on_no_listener(rte_mbuf* m, const net::pkt_info& pi);
    void on_syn(listener& l, rte_mbuf* m, const net::pkt_info& pi, const listen_pre* pre = nullptr);
    void on_cookie_ack(listener& l, rte_mbuf* m, const net::pkt_info& pi, const listen_pre* pre = nullptr);
    // A passive connection just became ESTABLISHED and is held on the lcore
    // (cf_auto): starts its idle timer if the listener has one.
    void start_idle_timer(const listener& l, conn& c, uint32_t slot);
    // The idle timer of a held connection: closes it (FIN) after five
    // quarters without a segment (conn::retries counts them): between
    // idle_timeout_ms and a quarter more of silence.
    void on_idle_timer(conn& c, uint32_t slot);
    // Hands an established passive connection to its listener's accept ring.
    // False (counted accept_queue_overflows, nothing changed) if it is full.
    bool enqueue_accept(listener& l, conn& c, uint32_t rtt_us);
    // The peer's FIN was accepted on a passive connection: CLOSE-WAIT, and
    // tell the application -- or, for an auto-accepted one, close at once.
    void peer_fin(conn& c, uint32_t slot);

    // ---- synrecv.cc: SYN-RECEIVED (3.10.7.4, Linux tcp_check_req) ----
    void on_syn_received(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi);
    void on_synack_timer(conn& c, uint32_t slot);
    // Frees a request entry and gives its SYN-queue place back.
    void drop_request(conn& c, uint32_t slot);
    // The request's own out-of-window ACK limit (Linux last_oow_ack_time).
    bool req_oow_limited(conn& c);
    // A passive request leaves SYN-RECEIVED (any way: third ACK, close,
    // abort, drop): its listener's SYN-queue place on this lcore is free.
    // Does nothing for any other state.
    void leave_syn_queue(const conn& c);

    // ---- established.cc: synchronized states (3.10.7.4) ----
    // First to fifth checks for any synchronized state: sequence
    // acceptability, RST (RFC 5961 3), SYN (RFC 5961 4), ACK bit, ACK
    // acceptability (SND.UNA/SND.NXT, window update). True: go on with the
    // state's own ACK processing and then data/FIN; false: the segment was
    // consumed (dropped, answered, or the connection is gone).
    bool sync_checks(conn& c, uint32_t slot, rte_mbuf*& m, const net::pkt_info& pi);
    // Sixth to eighth: payload (ACKed and discarded) and FIN. Sends the ACK
    // they need (re-using m) or frees m. Returns true if an in-order FIN was
    // accepted now (rcv_nxt counts it); the caller changes state.
    bool data_and_fin(conn& c, rte_mbuf* m, const net::pkt_info& pi);
    void on_established(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi);
    void on_close_wait(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi);
    void on_last_ack(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi);
    // Challenge ACK (RFC 5961), rate limited per connection and per lcore. Consumes m.
    void send_challenge_ack(conn& c, rte_mbuf* m);
    // ACK for an unacceptable segment, rate limited per connection unless
    // the segment carried data (Linux tcp_send_dupack / tcp_oow_rate_limited). Consumes m.
    void send_dupack(conn& c, rte_mbuf* m, const net::pkt_info& pi);
    // Linux __tcp_oow_rate_limited(): true (counted) if an out-of-window ACK
    // went out less than invalid_ratelimit_ms ago; else notes now in last_ms.
    bool oow_limited(uint32_t& last_ms);
    // Synchronized states other than TIME-WAIT keep the time of the last
    // out-of-window / challenge ACK in conn::t0 (0 = none yet) -- except
    // stream connections, whose t0 times their flights (stream.hh): they
    // have the per-lcore limit only.
    bool has_oow_stamp(const conn& c) const
    {
        return (c.st == state::established || c.st == state::close_wait || c.st == state::fin_wait_1 ||
                c.st == state::fin_wait_2 || c.st == state::closing || c.st == state::last_ack) &&
               !is_stream(slot_of(c));
    }
    // An acceptable RST: the application is told (reset), the connection freed. Consumes m.
    void reset_by_peer(conn& c, uint32_t slot, rte_mbuf* m);

    // ---- close.cc: application close / abort (3.10.4, 3.10.5) ----
    void cmd_close(const cmd& k);
    void cmd_abort(const cmd& k);
    // FIN retransmission timer (FIN-WAIT-1, CLOSING, LAST-ACK): resend with
    // backoff, or free after fin_retries (counted fin_timeouts).
    void on_fin_timer(conn& c, uint32_t slot);

    // ---- output.cc ----
    // Our SYN-ACK options in lib/net's form. Inline: built out of line, the
    // 8-byte load of ts_val/ts_ecr right after the caller's 4-byte stores
    // missed store forwarding and was the top sample of the cookie SYN-ACK
    // path (bench-e2e-synflood under perf, 21 % of all samples).
    static net::tcp_options synack_net_options(const syn_options& s)
    {
        return convert_options<net::tcp_options>(s);
    }
    // Our TSval for a connection now.
    uint32_t tsval(const conn& c) const { return _now_ms + c.ts_offset; }
    // The window field we advertise on a synchronized connection.
    uint16_t rcv_window(const conn& c) const;
    // Writes a segment from t.laddr:lport to t.raddr:rport into m (the
    // received frame, re-used: MACs swapped) or, if m is null, into a new
    // frame (MACs from the L2 hook or the config); transmits it.
    void send_segment(const tuple4& t, rte_mbuf* m, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t window,
                      const net::tcp_options* opts);
    void send_ack(const conn& c, rte_mbuf* m);            // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
    void send_fin(conn& c, rte_mbuf* m);                  // <SEQ=SND.NXT><CTL=FIN,ACK>, SND.NXT++
    void resend_fin(const conn& c);                       // <SEQ=SND.NXT-1><CTL=FIN,ACK>, new frame
    void send_rst(const conn& c, rte_mbuf* m, uint32_t seq); // <SEQ=seq><CTL=RST> on a connection
    // SYN-ACK for a request: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> with the
    // negotiated options. m = the SYN (built in place) or null (new frame).
    void send_synack(const conn& c, rte_mbuf* m);
    // RFC 9293 3.10.7.1 reset for a segment that matches nothing (never for an
    // RST): built in the segment's own mbuf. `limited`: subject to the per-lcore
    // RST rate limit (closed ports).
    void send_reset_for(rte_mbuf* m, const net::pkt_info& pi, bool limited);
    // True if the received frame m can carry a reply of len bytes in place
    // (direct, not shared, room enough; a chained payload tail is freed).
    static bool reusable(rte_mbuf* m, uint32_t len);
    // Re-uses m for a reply or allocates a frame; nullptr (counted) if none.
    rte_mbuf* frame_for(rte_mbuf* m, uint32_t len);
    // Final touches (lengths, checksum mode, offload flags) and transmit.
    void transmit(rte_mbuf* m, uint32_t len, bool fresh, const tuple4& t);
    // (Inline: asked several times per segment built.)
    net::cksum_mode cksum() const
    {
        return _cfg.out->tx_ip_cksum && _cfg.out->tx_tcp_cksum ? net::cksum_mode::offload : net::cksum_mode::software;
    }
    void drop(rte_mbuf* m, ctr c)
    {
        _ctr.inc(c);
        rte_pktmbuf_free(m);
    }

    // ---- data path (data.cc: input, ACKs, states; send.cc: output, timers) ----
    friend class stream;
    bool init_data(std::string& error); // xfer blocks when an app is configured
    void fini_data();
    bool is_stream(uint32_t slot) const { return _xfer != nullptr && _xfer[slot].on(); }
    stream_app* app_of(const conn& c) const { return c.has(cf_passive) ? _cfg.passive_app : _cfg.active_app; }
    const tx_template& tmpl(uint8_t id) const { return _cfg.templates[id - 1]; }
    uint32_t data_end(const xfer& x) const
    {
        return x.count == 0 ? x.tstart : x.tstart + uint32_t(x.count) * tmpl(x.tmpl).len;
    }
    bool fin_sent(const conn& c, const xfer& x) const { return (x.xf & xf_fin) && c.snd_nxt == data_end(x) + 1; }
    // The connection just reached ESTABLISHED and an app takes it: set up
    // its xfer, tell the app (which may send at once). m: a frame to re-use
    // for the first segment (or the ACK), pi: its payload to deliver (the
    // third ACK may carry the request), or null.
    void open_stream(conn& c, uint32_t slot, uint32_t rtt_us, rte_mbuf* m, const net::pkt_info* pi);
    // Passive hook (synrecv.cc, listen.cc): the listener serves its
    // connections with passive_app. False: not a served listener, nothing done.
    bool serve_accepted(const listener& l, conn& c, uint32_t slot, uint32_t rtt_us, rte_mbuf* m,
                        const net::pkt_info& pi);
    void on_stream(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi);
    void on_stream_timer(conn& c, uint32_t slot);
    // Seventh and eighth steps on a stream (text, FIN), then settle().
    void stream_segment(stream& s, rte_mbuf* m, const net::pkt_info& pi);
    // The new in-order bytes of m to the app; RCV.NXT moves over what it took.
    void deliver(stream& s, rte_mbuf* m, const net::pkt_info& pi);
    // ACK processing for our data: SND.UNA moved from una0 (or not).
    void stream_acked(stream& s, uint32_t una0, rte_mbuf* m, const net::pkt_info& pi);
    // After input or a callback: what the app asked (abort, finish), new
    // data and FIN within the windows, else the ACK `need_ack` says. Consumes m.
    void settle(stream& s, rte_mbuf* m, bool need_ack);
    // New data (and the FIN) within the windows; re-uses m for the first
    // segment (m becomes null). Returns the segments sent.
    uint32_t push_data(conn& c, uint32_t slot, xfer& x, rte_mbuf*& m);
    // One segment from `seq`: data from the template (up to one MSS), or the
    // FIN if seq is the FIN's; m re-used or null.
    uint32_t send_data_at(conn& c, const xfer& x, uint32_t seq, rte_mbuf* m);
    uint16_t smss(const conn& c) const; // payload bytes per segment
    // Arms the connection's one timer: RTO (backed off) while something is in
    // flight or the window is zero, else the app's deadline, else nothing.
    void arm_stream(conn& c, uint32_t slot, xfer& x);
    uint32_t rto_ms(const xfer& x) const;
    void rtt_sample(xfer& x, uint32_t us);
    // The app's last callback, then what ending means for the generator.
    void end_stream(conn& c, uint32_t slot, stream_end why);

    // ---- active side (connect.cc, synsent.cc, active_close.cc) ----
    bool init_active(std::string& error); // called last by init()
    void fini_active();                   // called by ~engine()
    void cmd_connect(const cmd& k);
    void on_syn_sent(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi);
    void on_fin_wait_1(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi);
    void on_fin_wait_2(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi);
    void on_closing(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi);
    void on_time_wait(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi);
    // Timer of a connection in SYN-SENT, FIN-WAIT-1/2, CLOSING or TIME-WAIT.
    void on_timer_active(conn& c, uint32_t slot);
    // The connect path shared by cmd_connect and open_local: a SYN-SENT
    // connection for want (laddr 0: the route's source; lport 0: allocate,
    // Linux-exact), or UINT32_MAX with the failure event type and errno
    // (nothing posted). `local`: open_local()'s fully given, owned tuple with
    // its MSS and timestamp offset (no route lookup, no port scan).
    struct local_open {
        uint16_t mss;
        uint16_t tag;
        uint32_t ts_offset;
    };
    uint32_t open_active(const tuple4& want, uint64_t user, const local_open* local, event_type& why, int32_t& err);
    void send_syn(const conn& c); // SYN (or, in a simultaneous open, SYN-ACK) in a new frame
    uint16_t our_mss(const tuple4& t) const; // the MSS we advertise to t.raddr: route MTU - 40
    // Microsecond stamp for handshake RTTs and the ISN clock (ns), from a
    // TSC value the caller read (0: read it now).
    uint32_t rtt_stamp(uint64_t tsc = 0) const;
    uint64_t isn_clock_ns(uint64_t tsc = 0) const;
    // Events of active connections: carry the connect()'s user value; none
    // for generator connections (counted only).
    void post_active(const conn& c, event_type t, int32_t err, uint32_t rtt_us = 0);
    void post_failure(const tuple4& t, uint64_t user, event_type type, int32_t err);
    // Ends a connection that never closed in order: counts c, posts, frees it.
    void finish_active(conn& c, uint32_t slot, ctr counter, event_type t, int32_t err);
    // synsent.cc
    // SYN-RECEIVED of a simultaneous open (state syn_received, not cf_passive).
    void on_simopen_syn_received(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi);
    // m: the segment that completed the handshake, re-used for the final
    // ACK or freed (null: nothing to free).
    void active_established(conn& c, uint32_t slot, rte_mbuf* m, bool send_final_ack);
    void on_syn_timer(conn& c, uint32_t slot);
    // The SYN (SYN-ACK) timer after c.retries retransmissions: exponential,
    // or linear for the first syn_linear_timeouts ones in SYN-SENT.
    uint32_t syn_backoff_ms(const conn& c) const;
    // Linux tcp_model_timeout(syn_retries): the SYN retransmissions' time bound.
    uint32_t syn_model_timeout_ms() const;

    // active_close.cc
    void enter_time_wait(conn& c, uint32_t slot);
    // Local application events (see set_local_sink): post_for_local() keeps
    // the per-connection order (ev_pending on the first, nothing after a
    // terminal one) and queues it. Events are written in place in the queue:
    // local_slot() is the next entry (nullptr when full, counted), which
    // post_for_local() (or a caller's _local_n++) commits. An event built on
    // the stack field by field and copied whole into the queue stalled on
    // store forwarding (perf: ~90 % of post_local's samples on that copy).
    void post_for_local(const conn& c, event& e);
    event* local_slot();
    void deliver_local();

public:
    // ---- active side, for the lcore loop (connect.cc) ----
    // A frame handed to cfg.l2_send whose neighbour failed: a SYN's
    // connection ends with `unreachable` (EHOSTUNREACH). Consumes m.
    void l2_failed(rte_mbuf* m);
    // Handshake RTTs of this engine's active connections (rtt.hh).
    const struct rtt_histogram& rtt() const;
    const active_state* active_side() const { return _active; }

    // ---- the lcore's own application (the load generator, lib/gen) ----
    // An application that runs on the lcore itself uses the same operations
    // as application threads' commands, called directly instead of through
    // the command ring, and gets the events of the connections it opened
    // through `sink` instead of the event ring. Events are queued and
    // delivered at safe points (after each segment, timer expiry or command
    // has been handled completely), so the sink may call open_local(),
    // close() and abort() from inside the callback.
    //
    // Per connection the sink hears, in order: `established` (after the
    // handshake -- or, with an active stream app, after its exchange
    // finished: ev_peer_closed if the peer closed meanwhile), or one event
    // saying how it ended before that (refused, timed_out, unreachable,
    // reset, closed); the first event carries ev_pending. After
    // `established`: peer_closed, then reset or closed as the connection
    // ends. Last, always, `released` when the block is freed (after
    // TIME-WAIT, an RST, a failure): its 4-tuple is free again. Nothing is
    // heard twice. `closes_on_finish`: the app closes (RST or FIN) every
    // connection a stream hands back at once, so the last segment of the
    // exchange need not be ACKed on its own.
    using local_sink = void (*)(void* ctx, const event& e);
    void set_local_sink(local_sink fn, void* ctx, bool closes_on_finish = false)
    {
        _sink = fn;
        _sink_ctx = ctx;
        _sink_closes = closes_on_finish;
    }
    // Active open of a fully given 4-tuple (t.laddr/t.lport ours, owned by
    // this lcore under the steering function: the caller guarantees it) with
    // the MSS to advertise (route MTU - 40, at most our own) and the
    // timestamp offset of (laddr, raddr) (isn_generator::ts_offset; the
    // caller may cache it per address pair). `tag` comes back in every
    // event's listener_ref. On success: SYN sent, SYN-SENT, *out = the
    // handle. On failure (4-tuple busy, pool or table full): false with the
    // event type and errno a connect() would report; nothing is posted.
    bool open_local(const tuple4& t, uint16_t mss, uint32_t ts_offset, uint16_t tag, handle* out, event_type& why,
                    int32_t& err);
    // Warms the cache lines open_local(t) will touch first (the table
    // bucket): call for a whole burst of tuples, then open them.
    void prefetch_open(const tuple4& t) const { _table.prefetch(table::conn_table::hash(t)); }
    // close() / abort() as the commands do (RFC 9293 3.10.4 / 3.10.5).
    void close(const handle& h);
    void abort(const handle& h);
    // For the local application's sweeps (e.g. closing its held connections
    // at stop): fn(handle, const conn&) -> bool for every in-use connection
    // it opened in pool slots [from, from + n), until fn returns false.
    // Returns the slot to continue from, or UINT32_MAX once past the last
    // slot ever used. fn may call close() / abort() on the connection given.
    template <class F>
    uint32_t sweep_local(uint32_t from, uint32_t n, F&& fn)
    {
        const uint32_t end = _pool.high_water();
        uint32_t s = from;
        while (s < end && s - from < n) {
            const uint32_t here = s++;
            if (_pool.in_use(here) && (_pool[here].spare & af_local) != 0 &&
                !fn(_pool.make_handle(here), static_cast<const conn&>(_pool[here]))) {
                break;
            }
        }
        flush_local();
        return s >= end ? UINT32_MAX : s;
    }
    // Delivers queued local events now (the lcore loop calls this after
    // each burst; the engine also does at its own safe points).
    void flush_local()
    {
        if (_local_n != 0) {
            deliver_local();
        }
    }

private:

    // A token bucket per lcore (RST and challenge-ACK limits).
    struct rate_limit {
        uint32_t per_s = 0;
        uint32_t burst = 0;
        uint32_t tokens = 0;
        uint32_t last_ms = 0;
        bool take(uint32_t now_ms)
        {
            const uint32_t dt = now_ms - last_ms;
            if (dt != 0) {
                const uint64_t add = uint64_t(dt) * per_s / 1000;
                if (add != 0) {
                    tokens = uint32_t(std::min<uint64_t>(burst, tokens + add));
                    last_ms = now_ms;
                }
            }
            if (tokens == 0) {
                return false;
            }
            tokens--;
            return true;
        }
    };

    engine_config _cfg;
    uint32_t _now_ms = 0;
    tcp_counters _ctr;
    table::pool<conn> _pool;
    table::conn_table _table;
    timer::wheel _wheel;
    rate_limit _rst_limit;
    rate_limit _challenge_limit;
    active_state* _active = nullptr; // connect.hh

    // Local application (set_local_sink): events waiting for a safe point.
    // One segment, expiry or call posts at most a few; delivery happens
    // after each, so the queue never holds more than a handful.
    static constexpr uint32_t local_queue = 64;
    local_sink _sink = nullptr;
    void* _sink_ctx = nullptr;
    bool _sink_closes = false;
    uint32_t _local_n = 0;
    event _local[local_queue];
    xfer* _xfer = nullptr;           // per slot, beside the pool (stream.hh); null: no data path
    huge_region _xfer_mem;
    uint32_t _frame_room = 0;        // bytes a tx frame can hold (mbuf data room)
};

} // namespace fg::tcp
