// The Beast WebSocket client: every session of a phase runs on one
// io_context on the calling thread, so the runner costs one core at most and
// its CPU time is easy to attribute. Beast's WebSocket handshake lives here,
// its plain GET in http_get.cpp: no other file includes Beast, to keep compile
// times down.

#include "loadtest/client.hpp"

#include <sys/resource.h>

#include <deque>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/detail/hybi13.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "loadtest/event_loop.hpp"
#include "loadtest/event_loop_asio.hpp"
#include "loadtest/rpc_fields.hpp"
#include "loadtest/tcp_endpoint.hpp"
#include "loadtest/verifier.hpp"
#include "loadtest/ws_reader.hpp"
#include "protocol/base64.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace actorexec::loadtest {

namespace {

using clock = std::chrono::steady_clock;

/// Bounds of the steps that have no scenario setting.
constexpr auto connect_timeout = std::chrono::seconds(10);
/// Receive buffer of every runner socket (see session_task::connect).
constexpr int receive_buffer = 256 * 1024;
constexpr auto close_timeout = std::chrono::seconds(5);
/// Output kept per execute for pattern checks.
constexpr std::size_t capture_limit = 1 << 20;
/// Largest inbound message accepted (chunks are 64 KiB of base64 at most).
constexpr std::size_t max_message = 16 << 20;
/// Bytes asked of the socket per read (more when a frame needs them): many
/// small frames per system call, yet little taken out of the kernel ahead
/// of a slow reader.
constexpr std::size_t read_chunk = 16 << 10;

double ms_between(clock::time_point a, clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

/// One WebSocket; a session has a new one after each drop. Beast does the
/// HTTP upgrade; after it, the runner frames and parses WebSocket itself
/// (see ws_reader): a composed Beast read per message cost as much CPU as
/// everything else the runner does with a frame.
struct connection {
  explicit connection(asio::io_context& ioc)
      : stream(ioc), reader(max_message), close_timer(ioc) {}
  tcp::socket& socket() { return stream.socket(); }

  /// Connect and upgrade only, for their deadline; frames use the socket.
  beast::tcp_stream stream;
  websocket::detail::sec_ws_key_type key;
  http::request<http::empty_body> upgrade;
  http::response<http::string_body> upgraded;
  beast::flat_buffer http_buf;
  ws_reader reader;
  /// Framed messages to send, one write at a time.
  std::deque<std::string> outq;
  bool writing = false;
  /// Close once the write queue is empty.
  bool want_close = false;
  /// Our Close frame is queued: data frames are discarded from then on.
  bool close_sent = false;
  /// The peer's Close arrived; we now wait for it to end the TCP stream.
  bool tearing_down = false;
  asio::steady_timer close_timer;
  /// Output bytes received on this connection (for drop_after_bytes).
  std::uint64_t bytes = 0;
};
using connection_ptr = std::shared_ptr<connection>;

class session_task;

/// Launches a phase's sessions within its concurrency and collects results.
class phase_runner {
public:
  phase_runner(const phase_spec& ph, const ws_url& url, std::uint64_t seed,
               clock::time_point t0)
      : spec(ph), url(url), endpoint(make_endpoint(url)),
        host_header(url.host + ":" + std::to_string(url.port)), rng(seed),
        mask_rng(static_cast<std::uint32_t>(seed)), cap_timer_(loop), t0_(t0) {
    result.name = ph.name;
    result.sessions_planned = ph.sessions;
    result.max_errors = ph.max_errors;
  }

  phase_result run();

  /// A session ended; starts the next one if any is left.
  void session_done(std::uint32_t index);
  void process_started() {
    result.peak_live_processes =
        std::max(++live_processes_, result.peak_live_processes);
  }
  void process_ended() { --live_processes_; }
  void connection_opened() {
    result.peak_open_connections =
        std::max(++open_connections_, result.peak_open_connections);
  }
  void connection_closed() { --open_connections_; }

  const phase_spec& spec;
  const ws_url& url;
  tcp::endpoint endpoint;
  std::string host_header;
  event_loop loop;
  std::mt19937_64 rng;
  /// Masking keys; apart from `rng` so that drops stay repeatable.
  std::minstd_rand mask_rng;
  /// Shared because frames are handled one at a time.
  rpc_scanner scanner;
  phase_result result;

private:
  void launch(std::uint32_t index);
  void launch_next();
  void on_cap();

  loop_timer cap_timer_;
  clock::time_point t0_;
  std::uint32_t next_ = 0;
  std::uint64_t live_processes_ = 0;
  std::uint64_t open_connections_ = 0;
  bool capped_ = false;
  std::unordered_map<std::uint32_t, std::shared_ptr<session_task>> live_;
};

/// What an outstanding request was, to interpret its response.
enum class request_kind { execute, resume, control, input };

/// One client session: connects, executes (repeatedly), reads with the
/// scenario's behaviour, drops and resumes, and checks expectations.
class session_task : public std::enable_shared_from_this<session_task> {
public:
  session_task(phase_runner& ph, const session_spec& spec, std::uint32_t idx)
      : ph_(ph), spec_(spec), index_(idx), timeout_timer_(ph.loop),
        read_timer_(ph.loop), cancel_timer_(ph.loop),
        reconnect_timer_(ph.loop) {}

  void start();
  /// Ends the session as failed, counting `why` as an error.
  void abort(const std::string& why);

private:
  phase_result& res() { return ph_.result; }
  bool stale(const connection_ptr& c) const { return done_ || c != conn_; }

  void connect();
  void on_connect(connection_ptr c, error_code ec);
  void on_handshake(connection_ptr c, error_code ec);
  void pump(connection_ptr c);
  void read_more(connection_ptr c);
  void on_socket_read(connection_ptr c, error_code ec, std::size_t n);
  bool on_message(connection_ptr c, std::string_view payload);
  void on_peer_close(connection_ptr c, std::uint16_t code);
  void on_read_end(connection_ptr c, std::optional<std::uint16_t> close_code,
                   const std::string& why);
  void send(std::string text);
  void send_frame(connection_ptr c, ws_opcode op, std::string_view payload);
  void do_write(connection_ptr c);
  void start_close(connection_ptr c);
  void close_done(connection_ptr c, const std::string& why);

  std::uint64_t send_request(request_kind kind, std::string_view method,
                             json::object params);
  void send_execute();
  void send_resume();
  void handle_frame(std::string_view text);
  void handle_raw(std::size_t n);
  void handle_event(std::string_view method, const rpc_fields& f);
  void handle_response(const rpc_fields& f);
  void on_started();
  void on_output(const rpc_fields& f, bool replayed);
  void on_completed(const rpc_fields& f);
  void maybe_drop();
  void drop_connection();
  void finish(bool ok);
  /// Files a latency sample for the phase and, in a mix, for the template.
  void sample(std::vector<double> latencies::*metric, double ms) {
    (res().lat.*metric).push_back(ms);
    if (ph_.spec.mix.size() > 1)
      (res().by_template[spec_.name].*metric).push_back(ms);
  }
  void error(const std::string& kind) { ++res().other_errors[kind]; }
  void expectation_failed(const std::string& what) {
    res().expectation_failed(spec_.name + "#" + std::to_string(index_) + ": " +
                             what);
  }

  phase_runner& ph_;
  const session_spec& spec_;
  std::uint32_t index_;
  connection_ptr conn_;
  loop_timer timeout_timer_;
  loop_timer read_timer_;
  loop_timer cancel_timer_;
  loop_timer reconnect_timer_;
  bool done_ = false;
  bool closing_ = false;
  bool first_connect_ = true;
  clock::time_point connect_started_;
  /// The session this task owns, from its first `connected`.
  std::string session_id_;
  std::string resume_token_;
  /// Highest event seq received; resumes ask for what follows it.
  std::uint64_t last_seq_ = 0;
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, request_kind> pending_;
  /// Per-execute state.
  std::uint32_t executes_done_ = 0;
  std::uint32_t exec_generation_ = 0;
  clock::time_point exec_sent_;
  bool got_started_ = false;
  bool got_output_ = false;
  bool process_live_ = false;
  std::optional<verifier> verifier_;
  std::string captured_;
  bool verify_ok_ = true;
  std::uint64_t verified_bytes_ = 0;
  /// Reading behaviour.
  std::uint64_t output_bytes_ = 0;
  std::uint32_t frames_since_ack_ = 0;
  bool stalled_ = false;
  std::uint32_t read_delay_ms_ = 0;
  /// Drops and resumes.
  std::uint32_t drops_ = 0;
  clock::time_point dropped_at_;
  std::uint64_t replay_until_ = 0;
  /// Raw mode: messages received.
  std::uint64_t raw_messages_ = 0;
};

// -- session_task: connection ------------------------------------------------

void session_task::start() {
  ++res().sessions_started;
  timeout_timer_.start(std::chrono::milliseconds(spec_.timeout_ms),
                       [self = shared_from_this()] { self->abort("timeout"); });
  connect();
}

void session_task::connect() {
  auto c = std::make_shared<connection>(ph_.loop.get().ioc);
  conn_ = c;
  connect_started_ = clock::now();
  auto& sock = c->socket();
  error_code ec;
  // Before connecting, so the window scale suits it: with megabytes unread
  // in its kernel, a busy runner meets the server's pings late, and the
  // server cannot tell that backlog from a dead peer.
  sock.open(ph_.endpoint.protocol(), ec);
  if (!ec)
    sock.set_option(asio::socket_base::receive_buffer_size(receive_buffer), ec);
  c->stream.expires_after(connect_timeout);
  c->stream.async_connect(ph_.endpoint,
                          [self = shared_from_this(), c](error_code ec) {
                            self->on_connect(c, ec);
                          });
}

/// The checks of Beast's own client handshake, with its error codes.
error_code check_upgrade(const connection& c) {
  const auto& res = c.upgraded;
  if (res.result() != http::status::switching_protocols)
    return websocket::error::upgrade_declined;
  if (res.version() != 11)
    return websocket::error::bad_http_version;
  auto conn = res.find(http::field::connection);
  if (conn == res.end())
    return websocket::error::no_connection;
  if (!http::token_list{conn->value()}.exists("upgrade"))
    return websocket::error::no_connection_upgrade;
  auto up = res.find(http::field::upgrade);
  if (up == res.end())
    return websocket::error::no_upgrade;
  if (!http::token_list{up->value()}.exists("websocket"))
    return websocket::error::no_upgrade_websocket;
  auto acc = res.find(http::field::sec_websocket_accept);
  if (acc == res.end())
    return websocket::error::no_sec_accept;
  websocket::detail::sec_ws_accept_type want;
  websocket::detail::make_sec_ws_accept(
      want, beast::string_view{c.key.data(), c.key.size()});
  if (beast::string_view{want.data(), want.size()} != acc->value())
    return websocket::error::bad_sec_accept;
  return {};
}

void session_task::on_connect(connection_ptr c, error_code ec) {
  if (stale(c))
    return;
  if (ec) {
    error("connect: " + ec.message());
    return finish(false);
  }
  c->socket().set_option(tcp::no_delay(true), ec);
  websocket::detail::make_sec_ws_key(c->key);
  auto& req = c->upgrade;
  req.method(http::verb::get);
  req.target(ph_.url.target);
  req.version(11);
  req.set(http::field::host, ph_.host_header);
  req.set(http::field::upgrade, "websocket");
  req.set(http::field::connection, "Upgrade");
  req.set(http::field::sec_websocket_key,
          beast::string_view{c->key.data(), c->key.size()});
  req.set(http::field::sec_websocket_version, "13");
  req.set(http::field::user_agent, "actorexec-load");
  http::async_write(c->stream, req,
                    [self = shared_from_this(), c](error_code ec, std::size_t) {
                      if (self->stale(c))
                        return;
                      if (ec)
                        return self->on_handshake(c, ec);
                      // Into a buffer of ours: frames right behind the 101 stay
                      // in it.
                      http::async_read(c->stream, c->http_buf, c->upgraded,
                                       [self, c](error_code ec, std::size_t) {
                                         self->on_handshake(
                                             c, ec ? ec : check_upgrade(*c));
                                       });
                    });
}

void session_task::on_handshake(connection_ptr c, error_code ec) {
  if (stale(c))
    return;
  if (ec) {
    error("handshake: " + ec.message());
    return finish(false);
  }
  c->stream.expires_never();
  auto rest = c->http_buf.cdata();
  c->reader.append({static_cast<const char*>(rest.data()), rest.size()});
  c->http_buf = {};
  ph_.connection_opened();
  if (first_connect_) {
    first_connect_ = false;
    sample(&latencies::connect, ms_between(connect_started_, clock::now()));
    // The protocol lets a client send before reading `connected`, which
    // takes one round trip out of the latency.
    if (!spec_.raw)
      send_execute();
  } else {
    send_resume();
  }
  pump(c);
}

/// Handles the frames already buffered and reads only when no complete one
/// is left, so a slow reader leaves the rest in the kernel as Beast did.
/// After our Close, data frames are discarded, as Beast's close does.
void session_task::pump(connection_ptr c) {
  for (;;) {
    auto ev = c->reader.next();
    switch (ev.what) {
    case ws_reader::kind::need_more:
      return read_more(c);
    case ws_reader::kind::message:
      if (!c->close_sent && !on_message(c, ev.payload))
        return;
      break;
    case ws_reader::kind::ping:
      if (!c->close_sent)
        send_frame(c, ws_opcode::pong, ev.payload);
      break;
    case ws_reader::kind::pong:
      break;
    case ws_reader::kind::close:
      return on_peer_close(c, ev.close_code);
    case ws_reader::kind::failed:
      if (c->close_sent)
        return close_done(c, std::string{ev.error});
      return on_read_end(c, std::nullopt, std::string{ev.error});
    }
  }
}

void session_task::read_more(connection_ptr c) {
  std::size_t n = read_chunk;
  auto* p = c->reader.prepare(n);
  c->socket().async_read_some(
      asio::buffer(p, n),
      [self = shared_from_this(), c](error_code ec, std::size_t n) {
        self->on_socket_read(c, ec, n);
      });
}

void session_task::on_socket_read(connection_ptr c, error_code ec,
                                  std::size_t n) {
  if (stale(c))
    return;
  if (c->tearing_down) {
    // The peer's end of the stream completes the close; bytes are ignored.
    if (ec)
      return close_done(c, ec == asio::error::eof ? "" : ec.message());
    return read_more(c);
  }
  if (ec) {
    if (c->close_sent)
      return close_done(c, ec.message());
    return on_read_end(c, std::nullopt, ec.message());
  }
  c->reader.commit(n);
  pump(c);
}

/// One whole message; false when reading must pause or stop.
bool session_task::on_message(connection_ptr c, std::string_view payload) {
  res().wire_bytes += payload.size();
  if (spec_.raw)
    handle_raw(payload.size());
  else
    handle_frame(payload);
  // A frame may have ended the session, dropped the connection or started
  // the close handshake, which reads on its own.
  if (stale(c) || closing_)
    return false;
  auto delay = spec_.slow_reader_ms + read_delay_ms_;
  read_delay_ms_ = 0;
  if (delay == 0)
    return true;
  read_timer_.start(std::chrono::milliseconds(delay),
                    [self = shared_from_this(), c] {
                      if (!self->stale(c))
                        self->pump(c);
                    });
  return false;
}

/// The server's Close. After ours it completes the close handshake;
/// otherwise the connection ends here, with Close echoed as Beast does.
void session_task::on_peer_close(connection_ptr c, std::uint16_t code) {
  error_code ignored;
  if (c->close_sent) {
    c->tearing_down = true;
    c->socket().shutdown(tcp::socket::shutdown_send, ignored);
    return read_more(c);
  }
  if (!c->writing) {
    std::string echo;
    if (code != 0)
      echo = {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
    std::string frame;
    append_ws_frame(frame, ws_opcode::close, echo,
                    static_cast<std::uint32_t>(ph_.mask_rng()));
    // Best effort and tiny: the connection ends right after.
    asio::write(c->socket(), asio::buffer(frame), ignored);
  }
  on_read_end(c, code, "");
}

/// The connection ended while reading: by the server's Close
/// (`close_code`), or lost (`why`).
void session_task::on_read_end(connection_ptr c,
                               std::optional<std::uint16_t> close_code,
                               const std::string& why) {
  ph_.connection_closed();
  conn_.reset();
  error_code ignored;
  c->socket().close(ignored);
  if (spec_.raw) {
    // websocketd ends a connection when its child exits: that is success.
    auto now = clock::now();
    sample(&latencies::completion, ms_between(connect_started_, now));
    if (spec_.expected_messages && raw_messages_ != *spec_.expected_messages)
      expectation_failed("expected " +
                         std::to_string(*spec_.expected_messages) +
                         " messages, got " + std::to_string(raw_messages_));
    return finish(true);
  }
  if (close_code)
    ++res().close_codes[*close_code];
  else
    error("connection lost: " + why);
  finish(false);
}

void session_task::send(std::string text) {
  if (!conn_)
    return; // between a drop and its resume: acks are re-sent later anyway
  send_frame(conn_, ws_opcode::text, text);
}

void session_task::send_frame(connection_ptr c, ws_opcode op,
                              std::string_view payload) {
  std::string frame;
  frame.reserve(payload.size() + 14);
  append_ws_frame(frame, op, payload,
                  static_cast<std::uint32_t>(ph_.mask_rng()));
  c->outq.push_back(std::move(frame));
  if (!c->writing)
    do_write(c);
}

void session_task::do_write(connection_ptr c) {
  c->writing = true;
  asio::async_write(c->socket(), asio::buffer(c->outq.front()),
                    [self = shared_from_this(), c](error_code ec, std::size_t) {
                      c->writing = false;
                      if (self->stale(c))
                        return;
                      if (ec && c->close_sent)
                        return self->close_done(c, ec.message());
                      if (ec) {
                        self->error("write: " + ec.message());
                        return self->finish(false);
                      }
                      c->outq.pop_front();
                      if (!c->outq.empty())
                        self->do_write(c);
                      else if (c->close_sent)
                        self->pump(c); // our Close is out: await theirs
                      else if (c->want_close)
                        self->start_close(c);
                    });
}

/// The clean end: a Close frame, which tells the server the session is over.
void session_task::start_close(connection_ptr c) {
  c->close_sent = true;
  c->close_timer.expires_after(close_timeout);
  c->close_timer.async_wait([self = shared_from_this(), c](error_code ec) {
    if (!ec && !self->stale(c))
      self->close_done(c, error_code{beast::error::timeout}.message());
  });
  // Status 1000, normal closure.
  send_frame(c, ws_opcode::close, std::string_view{"\x03\xe8", 2});
}

/// The close handshake ended, cleanly when `why` is empty.
void session_task::close_done(connection_ptr c, const std::string& why) {
  c->close_timer.cancel();
  ph_.connection_closed();
  conn_.reset();
  error_code ignored;
  c->socket().close(ignored);
  if (!why.empty())
    error("close: " + why);
  finish(true);
}

// -- session_task: protocol --------------------------------------------------

std::uint64_t session_task::send_request(request_kind kind,
                                         std::string_view method,
                                         json::object params) {
  auto id = next_id_++;
  pending_[id] = kind;
  json::object msg{{"jsonrpc", "2.0"},
                   {"id", id},
                   {"method", method},
                   {"params", std::move(params)}};
  send(json::serialize(msg));
  return id;
}

void session_task::send_execute() {
  ++exec_generation_;
  exec_sent_ = clock::now();
  got_started_ = false;
  got_output_ = false;
  captured_.clear();
  verifier_.reset();
  if (spec_.verify.what != verify_spec::kind::none)
    verifier_.emplace(spec_.verify);
  json::object params{{"framing", spec_.framing},
                      {"on_overflow", spec_.on_overflow}};
  if (spec_.command) {
    params["command"] = *spec_.command;
  } else {
    json::array argv;
    for (const auto& a : spec_.argv)
      argv.push_back(json::string{a});
    params["argv"] = std::move(argv);
  }
  if (spec_.stdin_data)
    params["stdin"] = true;
  if (spec_.timeout_s)
    params["timeout"] = *spec_.timeout_s;
  send_request(request_kind::execute, "execute", std::move(params));
}

void session_task::send_resume() {
  send_request(request_kind::resume, "resume",
               {{"session_id", session_id_},
                {"resume_token", resume_token_},
                {"last_seq", last_seq_}});
}

void session_task::handle_raw(std::size_t n) {
  auto now = clock::now();
  if (raw_messages_++ == 0) {
    auto ms = ms_between(connect_started_, now);
    sample(&latencies::first_output, ms);
    sample(&latencies::connect_to_first_output, ms);
  }
  ++res().frames;
  res().bytes += n;
}

// Frames are scanned for the members used below rather than parsed into a
// DOM: `f` lives in the phase's scanner until the next frame.
void session_task::handle_frame(std::string_view text) {
  if (!ph_.scanner.scan(text))
    return error("unparsable frame");
  const auto& f = ph_.scanner.fields();
  if (!f.method.present)
    return handle_response(f);
  if (!f.method.is_string || !f.params_object)
    return error("malformed notification");
  handle_event(f.method.text, f);
}

void session_task::handle_event(std::string_view method, const rpc_fields& f) {
  if (method == "connected") {
    // Only the first one names our session; a resume's fresh connection
    // announces a throwaway session that the resume replaces.
    if (session_id_.empty()) {
      if (f.session_id.is_string)
        session_id_ = f.session_id.text;
      if (f.resume_token.is_string)
        resume_token_ = f.resume_token.text;
    }
    return;
  }
  if (method.substr(0, 8) != "process." && method != "stream.gap")
    return; // ping, server.shutdown
  auto seq_v = f.seq;
  if (!seq_v)
    return error("event without seq");
  auto seq = *seq_v;
  if (seq <= last_seq_)
    return error("duplicate seq"); // already processed: skip for exactness
  if (seq != last_seq_ + 1)
    error("seq gap");
  last_seq_ = seq;
  bool replayed = seq <= replay_until_;
  if (replayed)
    ++res().replay_frames;
  if (method == "process.output") {
    on_output(f, replayed);
  } else if (method == "process.started") {
    on_started();
  } else if (method == "process.completed") {
    on_completed(f);
  } else if (method == "stream.gap") {
    ++res().gap_events;
    res().gap_dropped_bytes += f.dropped_bytes.value_or(0);
    res().gap_dropped_frames += f.dropped_frames.value_or(0);
  } else if (method == "process.error") {
    error("process.error");
  }
}

void session_task::handle_response(const rpc_fields& f) {
  std::optional<request_kind> kind;
  if (auto id = f.id) {
    auto it = pending_.find(*id);
    if (it != pending_.end()) {
      kind = it->second;
      pending_.erase(it);
    }
  }
  if (f.error) {
    // Empty also when `error` is not an object.
    std::int64_t code = f.error_code.value_or(0);
    // A CANCEL that crossed the process's own exit is expected to miss.
    if (kind == request_kind::control && code == -32002)
      return;
    ++res().rpc_errors[code];
    if (kind == request_kind::execute || kind == request_kind::resume) {
      if (kind == request_kind::resume)
        ++res().resumes_failed;
      finish(false);
    }
    return;
  }
  if (kind != request_kind::resume)
    return;
  ++res().resumes_ok;
  sample(&latencies::resume, ms_between(dropped_at_, clock::now()));
  if (f.result_object)
    replay_until_ = f.result_last_seq.value_or(0);
}

void session_task::on_started() {
  if (got_started_)
    return;
  got_started_ = true;
  process_live_ = true;
  ph_.process_started();
  sample(&latencies::started, ms_between(exec_sent_, clock::now()));
  if (spec_.stdin_data)
    send_request(request_kind::input, "input",
                 {{"data", *spec_.stdin_data}, {"eof", true}});
  if (spec_.cancel_after_ms) {
    cancel_timer_.start(std::chrono::milliseconds(*spec_.cancel_after_ms),
                        [self = shared_from_this(), gen = exec_generation_] {
                          if (self->done_ || gen != self->exec_generation_ ||
                              !self->process_live_)
                            return;
                          self->send_request(request_kind::control, "control",
                                             {{"type", "CANCEL"}});
                        });
  }
}

void session_task::on_output(const rpc_fields& f, bool replayed) {
  if (!f.data.is_string)
    return error("output without data");
  std::string_view data = f.data.text;
  std::string decoded;
  if (f.encoding.is_string && f.encoding.text == "base64") {
    // What protocol::piece_bytes does, without copying the text first.
    decoded = protocol::base64_decode(data).value_or(std::string{});
    data = decoded;
  }
  auto now = clock::now();
  if (!got_output_) {
    got_output_ = true;
    sample(&latencies::first_output, ms_between(exec_sent_, now));
    sample(&latencies::connect_to_first_output,
           ms_between(connect_started_, now));
  }
  ++res().frames;
  res().bytes += data.size();
  if (replayed)
    res().replay_bytes += data.size();
  bool is_stdout = f.type.is_string && f.type.text == "stdout";
  if (verifier_ && is_stdout)
    verifier_->feed(data);
  if (!spec_.expected_patterns.empty() && captured_.size() < capture_limit)
    captured_.append(data.substr(0, capture_limit - captured_.size()));
  output_bytes_ += data.size();
  if (conn_)
    conn_->bytes += data.size();
  if (spec_.ack_every > 0 && ++frames_since_ack_ >= spec_.ack_every) {
    frames_since_ack_ = 0;
    // Without an id: the spec sends no response then.
    json::object msg{{"jsonrpc", "2.0"},
                     {"method", "ack"},
                     {"params", {{"seq", last_seq_}}}};
    send(json::serialize(msg));
  }
  if (spec_.stall_after_bytes && !stalled_ &&
      output_bytes_ >= *spec_.stall_after_bytes) {
    stalled_ = true;
    read_delay_ms_ = spec_.stall_ms;
  }
  maybe_drop();
}

void session_task::on_completed(const rpc_fields& f) {
  if (process_live_) {
    process_live_ = false;
    ph_.process_ended();
  }
  cancel_timer_.cancel();
  ++res().executes_completed;
  sample(&latencies::completion, ms_between(exec_sent_, clock::now()));
  auto exit_code = f.exit_code;
  if (spec_.expected_exit_code && exit_code != spec_.expected_exit_code)
    expectation_failed(
        "exit code " + (exit_code ? std::to_string(*exit_code) : "null") +
        ", expected " + std::to_string(*spec_.expected_exit_code));
  if (verifier_) {
    if (!verifier_->finish()) {
      verify_ok_ = false;
      expectation_failed("stdout: " + verifier_->failure());
    }
    verified_bytes_ += verifier_->matched();
  }
  for (const auto& p : spec_.expected_patterns)
    if (captured_.find(p) == std::string::npos)
      expectation_failed("pattern not found: \"" + p + "\"");
  if (++executes_done_ < spec_.repeat)
    return send_execute();
  closing_ = true;
  if (!conn_)
    return finish(true);
  conn_->want_close = true;
  if (!conn_->writing)
    start_close(conn_);
}

// -- session_task: drops and the end -----------------------------------------

void session_task::maybe_drop() {
  if (!conn_ || closing_ || drops_ >= spec_.max_drops)
    return;
  bool by_bytes =
      spec_.drop_after_bytes && conn_->bytes >= *spec_.drop_after_bytes;
  bool by_chance = false;
  if (spec_.drop_probability > 0) {
    std::uniform_real_distribution<double> dist{0.0, 1.0};
    by_chance = dist(ph_.rng) < spec_.drop_probability;
  }
  if (by_bytes || by_chance)
    drop_connection();
}

/// Ends the TCP connection with a reset and no Close frame: to the server
/// this is a connection loss, after which the session lingers, detached.
void session_task::drop_connection() {
  ++drops_;
  ++res().drops;
  auto& sock = conn_->socket();
  conn_->close_timer.cancel();
  error_code ignored;
  sock.set_option(asio::socket_base::linger(true, 0), ignored);
  sock.close(ignored);
  conn_.reset();
  ph_.connection_closed();
  read_timer_.cancel();
  if (!spec_.resume) {
    if (process_live_) {
      process_live_ = false;
      ph_.process_ended();
    }
    return finish(true);
  }
  dropped_at_ = clock::now();
  reconnect_timer_.start(std::chrono::milliseconds(spec_.reconnect_delay_ms),
                         [self = shared_from_this()] {
                           if (!self->done_)
                             self->connect();
                         });
}

void session_task::abort(const std::string& why) {
  if (done_)
    return;
  error(why);
  finish(false);
}

void session_task::finish(bool ok) {
  if (done_)
    return;
  done_ = true;
  if (process_live_) {
    process_live_ = false;
    ph_.process_ended();
  }
  timeout_timer_.cancel();
  read_timer_.cancel();
  cancel_timer_.cancel();
  reconnect_timer_.cancel();
  if (conn_) {
    ph_.connection_closed();
    error_code ignored;
    conn_->close_timer.cancel();
    conn_->socket().close(ignored);
    conn_.reset();
  }
  if (ok)
    ++res().sessions_completed;
  else
    ++res().sessions_failed;
  if (ok && verifier_ && verify_ok_) {
    ++res().sessions_verified;
    res().bytes_verified += verified_bytes_;
  }
  ph_.session_done(index_);
}

// -- phase_runner ------------------------------------------------------------

void phase_runner::launch(std::uint32_t index) {
  if (capped_)
    return;
  const auto& tmpl = pick_template(spec, index);
  auto task = std::make_shared<session_task>(*this, tmpl, index);
  live_.emplace(index, task);
  task->start();
}

void phase_runner::launch_next() {
  if (next_ < spec.sessions)
    launch(next_++);
}

void phase_runner::session_done(std::uint32_t index) {
  // Destroyed later: the caller is still running inside the task.
  auto it = live_.find(index);
  if (it != live_.end()) {
    loop.post([task = it->second] {});
    live_.erase(it);
  }
  launch_next();
  if (live_.empty() && next_ >= spec.sessions)
    cap_timer_.cancel();
}

void phase_runner::on_cap() {
  capped_ = true;
  // Sessions never started count as failed, so the counts add up.
  if (next_ < spec.sessions) {
    result.sessions_failed += spec.sessions - next_;
    result.other_errors["not started before duration cap"] +=
        spec.sessions - next_;
    next_ = spec.sessions;
  }
  auto tasks = live_;
  for (auto& [index, task] : tasks)
    task->abort("cut off by duration cap");
}

phase_result phase_runner::run() {
  auto start = clock::now();
  auto cpu0 = cpu_seconds();
  cap_timer_.start(std::chrono::milliseconds(spec.duration_cap_ms),
                   [this] { on_cap(); });
  auto first = std::min(spec.concurrency, spec.sessions);
  std::vector<std::unique_ptr<loop_timer>> ramp;
  for (std::uint32_t i = 0; i < first; ++i) {
    auto at = std::chrono::milliseconds(
        static_cast<std::uint64_t>(spec.ramp_up_ms) * i / first);
    if (at.count() == 0) {
      launch_next();
      continue;
    }
    auto& t = ramp.emplace_back(std::make_unique<loop_timer>(loop));
    t->start(at, [this] { launch_next(); });
  }
  loop.run();
  auto end = clock::now();
  result.wall_s = std::chrono::duration<double>(end - start).count();
  result.start_s = std::chrono::duration<double>(start - t0_).count();
  result.end_s = std::chrono::duration<double>(end - t0_).count();
  result.client_cpu_s = cpu_seconds() - cpu0;
  return result;
}

} // namespace

phase_result run_phase(const phase_spec& phase, const ws_url& url,
                       std::uint64_t seed, clock::time_point t0) {
  phase_runner runner{phase, url, seed, t0};
  return runner.run();
}

} // namespace actorexec::loadtest
