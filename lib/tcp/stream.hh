// The engine's data path: connections that carry a request/response exchange
// for an application that runs on the lcore itself (an HTTP client on the
// load generator's connections, an HTTP server on a listener's), driven by
// callbacks from the engine -- no ring message, no thread, no copy.
//
// Sending: every byte a connection sends comes from a `tx_template`, an
// immutable byte string shared by all connections of the lcore (and all
// lcores): a request, a response with its body. A connection queues
// instances of one template (stream::send); the bytes in sequence space are
// [tstart, tstart + count * len) -- instance k of the template starts at
// tstart + k * len -- so any byte, first transmission or retransmission, is
// found again from its sequence number with one subtraction and a modulo. No
// per-connection send buffer exists; nothing is ever copied but into the
// outgoing frame. At most init_cwnd segments (RFC 6928: 10) are in flight,
// less if the peer's window is smaller: larger templates go out in rounds.
//
// Retransmission (RFC 6298): RTO = SRTT + max(rto_min, 4 * RTTVAR) with
// Linux's floor (TCP_RTO_MIN, 200 ms) in the place of RFC 6298's 1 s, 1 s
// before the first sample, doubled on each expiry up to rto_max (5.5), Karn's
// rule for samples (timestamps: TSecr of an ACK that advances SND.UNA; without
// them one timed flight at a time, discarded if anything in it is sent
// again). The handshake gives the first sample, as in Linux. On expiry the
// first unacknowledged segment is sent again (5.4), the window falls to one
// segment (RFC 5681 3.1) and every ACK that then advances SND.UNA short of
// SND.NXT sends the next hole at once (NewReno-style partial ACKs, RFC 6582
// 3.2 step 5) and opens the window by one segment, up to init_cwnd again.
// After data_retries expiries without progress the connection is dropped
// (Linux tcp_retries2). A zero window is probed with <SEQ=SND.UNA-1>
// (Linux tcp_xmit_probe_skb) on the same backoff.
//
// Receiving: in-order bytes go straight from the frame to the app
// (on_data), which consumes them (parsers keep a few bytes of state) or
// leaves some (they are not acknowledged: the peer sends them again later).
// The advertised window is therefore fixed (the configured receive window).
// A segment beyond RCV.NXT is dropped, counted, and answered with a
// duplicate ACK (RFC 9293 3.10.7.4 seventh step; the peer resends); one
// entirely before it is a duplicate, counted and ACKed. Every segment that
// carries data is acknowledged at once, on our own data if the app answered
// (the response carries the ACK of the request), else by a pure ACK.
//
// Closing: stream::close() queues a FIN after the data (it goes on the last
// data segment when it can); the states FIN-WAIT-1 ... TIME-WAIT and
// CLOSE-WAIT / LAST-ACK follow RFC 9293 as for connections without data.
// stream::abort() sends RST and frees. stream::finish() hands a generator
// connection back to the generator's close mode (rst, fin, hold).
//
// Memory: the state that does not fit in the 64-byte conn is an `xfer` of 24
// bytes per pool slot, allocated only by engines that have an app (the
// handshake-only engines of fg-synresponder and the plain load generator pay
// nothing): 64 + 4 (pool generation) + ~21 (table) + 24 = ~113 bytes per
// connection at 10 M (bench-e2e-memory --http measures it), inside 128.
#pragma once

#include <cstdint>
#include <cstring>

namespace fg::tcp {

class engine;
struct conn;

// An immutable byte string connections send from. Owned by the application,
// alive as long as any engine that uses it; read by every lcore.
struct tx_template {
    const uint8_t* data = nullptr;
    uint32_t len = 0; // > 0
};

// xfer::xf bits.
enum xfer_flag : uint8_t {
    xf_on = 1u << 0,        // a stream connection: the app owns it (set when ESTABLISHED)
    xf_fin = 1u << 1,       // close() asked: FIN after the last queued byte
    xf_finish = 1u << 2,    // finish() asked (generator close mode) once everything queued is ACKed
    xf_timing = 1u << 3,    // a flight is being timed from conn::t0 (no timestamps)
    xf_recover = 1u << 4,   // after an RTO: partial ACKs send the next hole
    xf_rtt = 1u << 5,       // srtt/rttvar hold a sample
    xf_ended = 1u << 6,     // on_end() was called: no more callbacks
};

// Per-connection data-path state (one per pool slot, beside the conn).
struct xfer {
    uint32_t tstart;    // sequence number of the first byte of the oldest instance not yet wholly ACKed
    uint16_t srtt8;     // RFC 6298 SRTT, 1/8 ms units (xf_rtt)
    uint16_t rttvar8;   // RFC 6298 RTTVAR, 1/8 ms units
    uint8_t tmpl;       // template queued (1-based index into the engine's table; 0: none)
    uint8_t count;      // instances of it from tstart on
    uint8_t cwnd;       // congestion window, segments (init_cwnd; 1 after an RTO)
    uint8_t xf;         // xfer_flag bits
    uint8_t app[12];    // the application's per-connection state (zero when the stream opens)

    bool on() const { return (xf & xf_on) != 0; }
};
static_assert(sizeof(xfer) == 24, "24 bytes per connection beside the 64-byte conn");

// Why a stream connection ended (stream_app::on_end).
enum class stream_end : uint8_t {
    closed,   // orderly: FINs exchanged and ACKed (or TIME-WAIT entered)
    reset,    // the peer sent RST
    timeout,  // retransmissions of data or FIN went unanswered
    aborted,  // stream::abort() (RST sent) or the generator's close mode rst
    finished, // stream::finish(): handed back to the generator's close mode
};

class stream;

// An application running on the lcore, one object per engine. Callbacks come
// from the engine's input and timer paths; they may call the stream's
// methods but must not block or keep the stream beyond the call.
class stream_app {
public:
    static constexpr uint32_t no_deadline = UINT32_MAX;

    virtual ~stream_app() = default;
    // The connection reached ESTABLISHED (active: SYN-ACK ACKed; passive:
    // accepted).
    virtual void on_open(stream& s) = 0;
    // In-order bytes [p, p + n). Returns how many it consumed (the rest is not
    // ACKed; the peer sends it again).
    virtual uint32_t on_data(stream& s, const uint8_t* p, uint32_t n) = 0;
    // The peer's FIN arrived in order: no more data will come.
    virtual void on_peer_fin(stream& s) = 0;
    // Milliseconds from now until the app's own deadline for this connection
    // (a response that must arrive, an idle keep-alive connection), or
    // no_deadline. Asked whenever the engine arms the connection's timer, so
    // the earlier of the deadline and the retransmission timeout wakes it.
    virtual uint32_t deadline_ms(stream& s) = 0;
    // The app's deadline passed (deadline_ms() said 0): the app ends the
    // connection (abort, close, finish) or gives a new deadline.
    virtual void on_deadline(stream& s) = 0;
    // Everything queued so far has been ACKed (the queue is empty): an app
    // that could not queue a different template (send() false) may now.
    virtual void on_drained(stream& s) { (void)s; }
    // The connection is ending; the last callback for it.
    virtual void on_end(stream& s, stream_end why) = 0;
};

// A connection as the app sees it during a callback.
class stream {
public:
    stream(engine& e, conn& c, uint32_t slot, xfer& x) : _e(e), _c(c), _slot(slot), _x(x) {}

    // Queues one instance of template `id` (1-based). False if another
    // template still has unacknowledged bytes queued, 255 instances are, or
    // the connection is closing.
    bool send(uint8_t id);
    // Orderly close: FIN after everything queued.
    void close();
    // RST now; the connection is freed when the callback returns.
    void abort();
    // Generator connections: the exchange is over; the close mode (rst, fin,
    // hold) applies once everything queued is ACKed.
    void finish();
    template <class T>
    T& app()
    {
        static_assert(sizeof(T) <= sizeof(xfer::app));
        return *reinterpret_cast<T*>(_x.app);
    }
    bool passive() const;
    uint32_t now_us() const;          // the engine's microsecond stamp (for latencies)
    uint32_t now_ms() const;
    // The conn's per-connection stamp (conn::t0, microseconds): the app's to
    // set when an exchange starts; the engine times flights from it too.
    uint32_t& t0();
    const conn& tcb() const { return _c; }
    // Bytes queued so far on this connection (all instances ever queued).
    uint32_t bytes_queued() const;
    uint8_t queued_template() const { return _x.count != 0 ? _x.tmpl : 0; }
    uint8_t queued_count() const { return _x.count; }
    bool closing() const;

private:
    friend class engine;
    engine& _e;
    conn& _c;
    uint32_t _slot;
    xfer& _x;
    bool _aborted = false;
};

} // namespace fg::tcp
