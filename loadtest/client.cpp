// The Beast WebSocket client: every session of a phase runs on one
// io_context on the calling thread, so the runner costs one core at most and
// its CPU time is easy to attribute. All Beast code lives in this file to keep
// compile times down.

#include "loadtest/client.hpp"

#include <sys/resource.h>

#include <deque>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "loadtest/verifier.hpp"
#include "protocol/framer.hpp"

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

double ms_between(clock::time_point a, clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

/// An unsigned JSON number, or empty (never throws, whatever the server sent).
std::optional<std::uint64_t> get_u64(const json::value* v) {
  if (v == nullptr)
    return std::nullopt;
  error_code ec;
  auto n = v->to_number<std::uint64_t>(ec);
  if (ec)
    return std::nullopt;
  return n;
}

std::optional<std::int64_t> get_i64(const json::value* v) {
  if (v == nullptr)
    return std::nullopt;
  error_code ec;
  auto n = v->to_number<std::int64_t>(ec);
  if (ec)
    return std::nullopt;
  return n;
}

tcp::endpoint make_endpoint(const ws_url& url) {
  auto host = url.host == "localhost" ? std::string{"127.0.0.1"} : url.host;
  error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec)
    throw scenario_error("url: host must be an IP address or localhost");
  return {addr, url.port};
}

/// One WebSocket; a session has a new one after each drop.
struct connection {
  explicit connection(asio::io_context& ioc) : ws(ioc) {}
  websocket::stream<beast::tcp_stream> ws;
  beast::flat_buffer buf;
  std::deque<std::string> outq;
  bool writing = false;
  /// Close once the write queue is empty.
  bool want_close = false;
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
        cap_timer_(ioc), t0_(t0) {
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
  /// Parse arena: most frames fit, so parsing allocates nothing. Safe to
  /// share because frames are handled one at a time.
  static constexpr std::size_t arena_size = 1 << 17;
  std::unique_ptr<unsigned char[]> arena{new unsigned char[arena_size]};

  const phase_spec& spec;
  const ws_url& url;
  tcp::endpoint endpoint;
  std::string host_header;
  asio::io_context ioc;
  std::mt19937_64 rng;
  phase_result result;

private:
  void launch(std::uint32_t index);
  void launch_next();
  void on_cap();

  asio::steady_timer cap_timer_;
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
      : ph_(ph), spec_(spec), index_(idx), timeout_timer_(ph.ioc),
        read_timer_(ph.ioc), cancel_timer_(ph.ioc), reconnect_timer_(ph.ioc) {}

  void start();
  /// Ends the session as failed, counting `why` as an error.
  void abort(const std::string& why);

private:
  phase_result& res() { return ph_.result; }
  bool stale(const connection_ptr& c) const { return done_ || c != conn_; }

  void connect();
  void on_connect(connection_ptr c, error_code ec);
  void on_handshake(connection_ptr c, error_code ec);
  void do_read(connection_ptr c);
  void on_read(connection_ptr c, error_code ec, std::size_t n);
  void on_read_error(connection_ptr c, error_code ec);
  void send(std::string text);
  void do_write(connection_ptr c);
  void start_close(connection_ptr c);

  std::uint64_t send_request(request_kind kind, std::string_view method,
                             json::object params);
  void send_execute();
  void send_resume();
  void handle_frame(std::string_view text);
  void handle_raw(std::size_t n);
  void handle_event(std::string_view method, const json::object& params);
  void handle_response(const json::object& msg);
  void on_started();
  void on_output(const json::object& params, bool replayed);
  void on_completed(const json::object& params);
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
  asio::steady_timer timeout_timer_;
  asio::steady_timer read_timer_;
  asio::steady_timer cancel_timer_;
  asio::steady_timer reconnect_timer_;
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
  timeout_timer_.expires_after(std::chrono::milliseconds(spec_.timeout_ms));
  timeout_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec)
      self->abort("timeout");
  });
  connect();
}

void session_task::connect() {
  auto c = std::make_shared<connection>(ph_.ioc);
  conn_ = c;
  connect_started_ = clock::now();
  auto& sock = beast::get_lowest_layer(c->ws).socket();
  error_code ec;
  // Before connecting, so the window scale suits it: with megabytes unread
  // in its kernel, a busy runner meets the server's pings late, and the
  // server cannot tell that backlog from a dead peer.
  sock.open(ph_.endpoint.protocol(), ec);
  if (!ec)
    sock.set_option(asio::socket_base::receive_buffer_size(receive_buffer), ec);
  beast::get_lowest_layer(c->ws).expires_after(connect_timeout);
  beast::get_lowest_layer(c->ws).async_connect(
      ph_.endpoint, [self = shared_from_this(), c](error_code ec) {
        self->on_connect(c, ec);
      });
}

void session_task::on_connect(connection_ptr c, error_code ec) {
  if (stale(c))
    return;
  if (ec) {
    error("connect: " + ec.message());
    return finish(false);
  }
  beast::get_lowest_layer(c->ws).socket().set_option(tcp::no_delay(true), ec);
  c->ws.read_message_max(max_message);
  c->ws.auto_fragment(false);
  c->ws.async_handshake(ph_.host_header, ph_.url.target,
                        [self = shared_from_this(), c](error_code ec) {
                          self->on_handshake(c, ec);
                        });
}

void session_task::on_handshake(connection_ptr c, error_code ec) {
  if (stale(c))
    return;
  if (ec) {
    error("handshake: " + ec.message());
    return finish(false);
  }
  beast::get_lowest_layer(c->ws).expires_never();
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
  do_read(c);
}

void session_task::do_read(connection_ptr c) {
  c->ws.async_read(
      c->buf, [self = shared_from_this(), c](error_code ec, std::size_t n) {
        self->on_read(c, ec, n);
      });
}

void session_task::on_read(connection_ptr c, error_code ec, std::size_t n) {
  if (stale(c))
    return;
  if (ec)
    return on_read_error(c, ec);
  res().wire_bytes += n;
  if (spec_.raw) {
    handle_raw(n);
  } else {
    auto data = c->buf.cdata();
    handle_frame({static_cast<const char*>(data.data()), data.size()});
  }
  c->buf.consume(c->buf.size());
  // A frame may have ended the session, dropped the connection or started
  // the close handshake, which reads on its own.
  if (stale(c) || closing_)
    return;
  auto delay = spec_.slow_reader_ms + read_delay_ms_;
  read_delay_ms_ = 0;
  if (delay == 0)
    return do_read(c);
  read_timer_.expires_after(std::chrono::milliseconds(delay));
  read_timer_.async_wait([self = shared_from_this(), c](error_code ec) {
    if (!ec && !self->stale(c))
      self->do_read(c);
  });
}

void session_task::on_read_error(connection_ptr c, error_code ec) {
  ph_.connection_closed();
  conn_.reset();
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
  if (ec == websocket::error::closed)
    ++res().close_codes[c->ws.reason().code];
  else
    error("connection lost: " + ec.message());
  finish(false);
}

void session_task::send(std::string text) {
  if (!conn_)
    return; // between a drop and its resume: acks are re-sent later anyway
  conn_->outq.push_back(std::move(text));
  if (!conn_->writing)
    do_write(conn_);
}

void session_task::do_write(connection_ptr c) {
  c->writing = true;
  c->ws.async_write(asio::buffer(c->outq.front()),
                    [self = shared_from_this(), c](error_code ec, std::size_t) {
                      c->writing = false;
                      if (self->stale(c))
                        return;
                      if (ec) {
                        self->error("write: " + ec.message());
                        return self->finish(false);
                      }
                      c->outq.pop_front();
                      if (!c->outq.empty())
                        self->do_write(c);
                      else if (c->want_close)
                        self->start_close(c);
                    });
}

/// The clean end: a Close frame, which tells the server the session is over.
void session_task::start_close(connection_ptr c) {
  beast::get_lowest_layer(c->ws).expires_after(close_timeout);
  c->ws.async_close(websocket::close_code::normal,
                    [self = shared_from_this(), c](error_code ec) {
                      if (self->stale(c))
                        return;
                      self->ph_.connection_closed();
                      self->conn_.reset();
                      if (ec && ec != websocket::error::closed)
                        self->error("close: " + ec.message());
                      self->finish(true);
                    });
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

void session_task::handle_frame(std::string_view text) {
  error_code ec;
  json::monotonic_resource mr{ph_.arena.get(), phase_runner::arena_size};
  auto v = json::parse(text, ec, &mr);
  if (ec || !v.is_object())
    return error("unparsable frame");
  const auto& msg = v.get_object();
  auto* method = msg.if_contains("method");
  if (method == nullptr)
    return handle_response(msg);
  auto* params = msg.if_contains("params");
  if (!method->is_string() || params == nullptr || !params->is_object())
    return error("malformed notification");
  handle_event(method->get_string(), params->get_object());
}

void session_task::handle_event(std::string_view method,
                                const json::object& params) {
  if (method == "connected") {
    // Only the first one names our session; a resume's fresh connection
    // announces a throwaway session that the resume replaces.
    if (session_id_.empty()) {
      if (auto* x = params.if_contains("session_id"); x && x->is_string())
        session_id_ = x->get_string();
      if (auto* x = params.if_contains("resume_token"); x && x->is_string())
        resume_token_ = x->get_string();
    }
    return;
  }
  if (method.substr(0, 8) != "process." && method != "stream.gap")
    return; // ping, server.shutdown
  auto seq_v = get_u64(params.if_contains("seq"));
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
    on_output(params, replayed);
  } else if (method == "process.started") {
    on_started();
  } else if (method == "process.completed") {
    on_completed(params);
  } else if (method == "stream.gap") {
    ++res().gap_events;
    res().gap_dropped_bytes +=
        get_u64(params.if_contains("dropped_bytes")).value_or(0);
    res().gap_dropped_frames +=
        get_u64(params.if_contains("dropped_frames")).value_or(0);
  } else if (method == "process.error") {
    error("process.error");
  }
}

void session_task::handle_response(const json::object& msg) {
  std::optional<request_kind> kind;
  if (auto id = get_u64(msg.if_contains("id"))) {
    auto it = pending_.find(*id);
    if (it != pending_.end()) {
      kind = it->second;
      pending_.erase(it);
    }
  }
  if (auto* err = msg.if_contains("error")) {
    std::int64_t code = 0;
    if (err->is_object())
      code = get_i64(err->get_object().if_contains("code")).value_or(0);
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
  if (auto* r = msg.if_contains("result"); r && r->is_object())
    replay_until_ =
        get_u64(r->get_object().if_contains("last_seq")).value_or(0);
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
    cancel_timer_.expires_after(
        std::chrono::milliseconds(*spec_.cancel_after_ms));
    cancel_timer_.async_wait(
        [self = shared_from_this(), gen = exec_generation_](error_code ec) {
          if (ec || self->done_ || gen != self->exec_generation_ ||
              !self->process_live_)
            return;
          self->send_request(request_kind::control, "control",
                             {{"type", "CANCEL"}});
        });
  }
}

void session_task::on_output(const json::object& params, bool replayed) {
  auto* data_v = params.if_contains("data");
  if (data_v == nullptr || !data_v->is_string())
    return error("output without data");
  std::string_view data = data_v->get_string();
  std::string decoded;
  if (auto* enc = params.if_contains("encoding");
      enc && enc->is_string() && enc->get_string() == "base64") {
    protocol::output_piece piece;
    piece.data = std::string{data};
    piece.base64 = true;
    decoded = protocol::piece_bytes(piece);
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
  auto* type = params.if_contains("type");
  bool is_stdout = type && type->is_string() && type->get_string() == "stdout";
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

void session_task::on_completed(const json::object& params) {
  if (process_live_) {
    process_live_ = false;
    ph_.process_ended();
  }
  cancel_timer_.cancel();
  ++res().executes_completed;
  sample(&latencies::completion, ms_between(exec_sent_, clock::now()));
  auto exit_code = get_i64(params.if_contains("exit_code"));
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
  auto& sock = beast::get_lowest_layer(conn_->ws).socket();
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
  reconnect_timer_.expires_after(
      std::chrono::milliseconds(spec_.reconnect_delay_ms));
  reconnect_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec && !self->done_)
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
    beast::get_lowest_layer(conn_->ws).socket().close(ignored);
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
    asio::post(ioc, [task = it->second] {});
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
  cap_timer_.expires_after(std::chrono::milliseconds(spec.duration_cap_ms));
  cap_timer_.async_wait([this](error_code ec) {
    if (!ec)
      on_cap();
  });
  auto first = std::min(spec.concurrency, spec.sessions);
  std::vector<std::unique_ptr<asio::steady_timer>> ramp;
  for (std::uint32_t i = 0; i < first; ++i) {
    auto at = std::chrono::milliseconds(
        static_cast<std::uint64_t>(spec.ramp_up_ms) * i / first);
    if (at.count() == 0) {
      launch_next();
      continue;
    }
    auto& t = ramp.emplace_back(std::make_unique<asio::steady_timer>(ioc, at));
    t->async_wait([this](error_code ec) {
      if (!ec)
        launch_next();
    });
  }
  ioc.run();
  auto end = clock::now();
  result.wall_s = std::chrono::duration<double>(end - start).count();
  result.start_s = std::chrono::duration<double>(start - t0_).count();
  result.end_s = std::chrono::duration<double>(end - t0_).count();
  result.client_cpu_s = cpu_seconds() - cpu0;
  return result;
}

/// One GET on `stream`: connect, write, read; `done` gets the first error.
class http_exchange {
public:
  http_exchange(asio::io_context& ioc, const ws_url& url)
      : stream_(ioc), req_(http::verb::get, url.target, 11) {
    req_.set(http::field::host, url.host + ":" + std::to_string(url.port));
    req_.set(http::field::user_agent, "actorexec-load");
    req_.set(http::field::connection, "close");
  }

  /// Runs the exchange; the io_context must be run to complete it.
  void start(const tcp::endpoint& ep, std::chrono::milliseconds timeout) {
    // One deadline for the whole exchange: tcp_stream's timer covers every
    // operation started until it is reset.
    stream_.expires_after(timeout);
    stream_.async_connect(ep, [this](error_code ec) { on_connect(ec); });
  }

  error_code result;
  http::response<http::string_body> res;

private:
  void on_connect(error_code ec) {
    if (ec)
      return void(result = ec);
    http::async_write(stream_, req_, [this](error_code ec, std::size_t) {
      if (ec)
        return void(result = ec);
      http::async_read(stream_, buf_, res,
                       [this](error_code ec, std::size_t) { result = ec; });
    });
  }

  beast::tcp_stream stream_;
  http::request<http::empty_body> req_;
  beast::flat_buffer buf_;
};

} // namespace

bool http_get(const ws_url& url, std::chrono::milliseconds timeout,
              std::string& body, std::string& error) {
  asio::io_context ioc{1};
  tcp::endpoint ep;
  try {
    ep = make_endpoint(url);
  } catch (const scenario_error& e) {
    error = e.what();
    return false;
  }
  http_exchange x{ioc, url};
  x.start(ep, timeout);
  ioc.run();
  if (x.result) {
    error = "GET " + url.target + ": " + x.result.message();
    return false;
  }
  if (x.res.result() != http::status::ok) {
    error = "GET " + url.target + ": HTTP " +
            std::to_string(x.res.result_int()) +
            (x.res.result() == http::status::unauthorized
                 ? " (the server wants its token: add ?token=...)"
                 : "");
    return false;
  }
  body = std::move(x.res.body());
  return true;
}

phase_result run_phase(const phase_spec& phase, const ws_url& url,
                       std::uint64_t seed, clock::time_point t0) {
  phase_runner runner{phase, url, seed, t0};
  return runner.run();
}

} // namespace actorexec::loadtest
