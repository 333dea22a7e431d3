// The runner's transport: TCP, the HTTP upgrade (http_exchange.cpp), and
// WebSocket frames read and written by hand. With event_loop.cpp and
// http_exchange.cpp, the only translation units that instantiate Asio's and
// Beast's templates.

#include "loadtest/ws_connection.hpp"

#include <deque>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/websocket/detail/hybi13.hpp>
#include <boost/beast/websocket/error.hpp>

#include "loadtest/event_loop_asio.hpp"
#include "loadtest/http_exchange.hpp"
#include "loadtest/tcp_endpoint.hpp"
#include "loadtest/upgrade_auth.hpp"
#include "loadtest/ws_reader.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace actorexec::loadtest {

namespace {

/// Bound of the connect and of the upgrade.
constexpr auto connect_timeout = std::chrono::seconds(10);
/// Receive buffer of every runner socket (see start()).
constexpr int receive_buffer = 256 * 1024;
/// Largest inbound message accepted (chunks are 64 KiB of base64 at most).
constexpr std::size_t max_message = 16 << 20;
/// Bytes asked of the socket per read (more when a frame needs them): many
/// small frames per system call, yet little taken out of the kernel ahead
/// of a slow reader.
constexpr std::size_t read_chunk = 16 << 10;
/// Small frames queued behind the one being written share a buffer up to
/// this size, so a flood of them costs few system calls.
constexpr std::size_t write_batch = 64 << 10;

/// The checks of Beast's own client handshake on a 101, with its error
/// codes.
error_code check_upgrade(const http::response<http::string_body>& res,
                         const websocket::detail::sec_ws_key_type& key) {
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
      want, beast::string_view{key.data(), key.size()});
  if (beast::string_view{want.data(), want.size()} != acc->value())
    return websocket::error::bad_sec_accept;
  return {};
}

class client_connection
    : public ws_connection,
      public std::enable_shared_from_this<client_connection> {
public:
  client_connection(event_loop& loop, const ws_target& target,
                    std::minstd_rand& mask_rng, handler& owner)
      : target_(target), mask_rng_(mask_rng), owner_(&owner),
        stream_(loop.get().ioc), reader_(max_message),
        close_timer_(loop.get().ioc) {}

  void start();

  void send_text(std::string_view payload) override {
    send_frame(ws_opcode::text, payload);
  }
  void send_ping(std::string_view payload) override {
    send_frame(ws_opcode::ping, payload);
  }
  void close(std::chrono::milliseconds timeout) override;
  void reset() override;
  void discard() override;
  void hold_reading() override { held_ = true; }
  void resume_reading() override {
    held_ = false;
    if (open_ && owner_)
      pump();
  }
  std::size_t queued_bytes() const override { return queued_; }

private:
  tcp::socket& socket() { return stream_.socket(); }
  void on_upgraded(error_code ec);
  void pump();
  void read_more();
  void on_socket_read(error_code ec, std::size_t n);
  void on_peer_close(std::uint16_t code);
  void send_frame(ws_opcode op, std::string_view payload);
  void do_write();
  void on_written(error_code ec);
  void start_close();
  void close_done(error_code ec);
  void end(ws_end::kind what, std::string why, std::uint16_t code = 0,
           bool reset = false);

  const ws_target& target_;
  std::minstd_rand& mask_rng_;
  /// Null once the owner must hear no more.
  handler* owner_;
  /// Connect and upgrade only, for their deadline; frames use the socket.
  beast::tcp_stream stream_;
  websocket::detail::sec_ws_key_type key_;
  http_exchange upgrade_;
  ws_reader reader_;
  bool open_ = false;
  bool reading_ = false;
  bool held_ = false;
  /// Framed messages to send, one write at a time.
  std::deque<std::string> outq_;
  std::size_t queued_ = 0;
  bool writing_ = false;
  /// Close once the write queue is empty.
  bool want_close_ = false;
  std::chrono::milliseconds close_timeout_ = ws_close_timeout;
  /// Our Close is queued: data frames are discarded from then on.
  bool close_sent_ = false;
  /// The peer's Close arrived; we now wait for it to end the TCP stream.
  bool tearing_down_ = false;
  asio::steady_timer close_timer_;
};

void client_connection::start() {
  auto endpoint = make_endpoint(target_.url);
  auto& sock = socket();
  error_code ec;
  // Before connecting, so the window scale suits it: with megabytes unread
  // in its kernel, a busy runner meets the server's pings late, and the
  // server cannot tell that backlog from a dead peer.
  sock.open(endpoint.protocol(), ec);
  if (!ec) {
    sock.set_option(asio::socket_base::receive_buffer_size(receive_buffer), ec);
    sock.set_option(tcp::no_delay(true), ec);
  }
  websocket::detail::make_sec_ws_key(key_);
  auto& req = upgrade_.request;
  req.method(http::verb::get);
  req.target(target_.url.target);
  req.version(11);
  req.set(http::field::host,
          target_.url.host + ":" + std::to_string(target_.url.port));
  req.set(http::field::upgrade, "websocket");
  req.set(http::field::connection, "Upgrade");
  req.set(http::field::sec_websocket_key,
          beast::string_view{key_.data(), key_.size()});
  req.set(http::field::sec_websocket_version, "13");
  req.set(http::field::user_agent, "actorexec-load");
  // A header, not the URL's ?token=: the URL is on the command line, which
  // every local user can read.
  if (!target_.token.empty())
    req.set(http::field::authorization, "Bearer " + target_.token);
  async_http_exchange(
      stream_, endpoint, upgrade_, connect_timeout,
      [self = shared_from_this()](error_code ec) { self->on_upgraded(ec); });
}

void client_connection::on_upgraded(error_code ec) {
  if (!owner_)
    return;
  if (ec && !upgrade_.connected)
    return end(ws_end::kind::connect_failed, ec.message());
  const auto& res = upgrade_.response;
  if (!ec && res.result() != http::status::switching_protocols)
    return end(
        ws_end::kind::upgrade_failed,
        describe_refused_upgrade(res.result_int(), res.reason(), res.body()));
  if (!ec)
    ec = check_upgrade(res, key_);
  if (ec)
    return end(ws_end::kind::upgrade_failed, ec.message());
  stream_.expires_never();
  auto rest = upgrade_.buffer.cdata();
  reader_.append({static_cast<const char*>(rest.data()), rest.size()});
  upgrade_ = {};
  open_ = true;
  owner_->on_open();
  if (!owner_)
    return;
  // Frames queued before the upgrade (sends from on_open write at once).
  if (!writing_ && !outq_.empty())
    do_write();
  else if (!writing_ && want_close_)
    start_close();
  pump();
}

/// Handles the frames already buffered and reads only when no complete one
/// is left, so a slow reader leaves the rest in the kernel as Beast did.
/// After our Close, data frames are discarded, as Beast's close does.
void client_connection::pump() {
  while (owner_ && !held_) {
    auto ev = reader_.next();
    switch (ev.what) {
    case ws_reader::kind::need_more:
      return read_more();
    case ws_reader::kind::message:
      if (!close_sent_ && !owner_->on_message(ev.payload))
        return;
      break;
    case ws_reader::kind::ping:
      if (!close_sent_)
        send_frame(ws_opcode::pong, ev.payload);
      break;
    case ws_reader::kind::pong:
      owner_->on_pong();
      break;
    case ws_reader::kind::close:
      return on_peer_close(ev.close_code);
    case ws_reader::kind::failed:
      if (close_sent_)
        return end(ws_end::kind::closed, std::string{ev.error});
      return end(ws_end::kind::lost, std::string{ev.error});
    }
  }
}

void client_connection::read_more() {
  if (reading_)
    return;
  reading_ = true;
  std::size_t n = read_chunk;
  auto* p = reader_.prepare(n);
  socket().async_read_some(
      asio::buffer(p, n),
      [self = shared_from_this()](error_code ec, std::size_t n) {
        self->reading_ = false;
        self->on_socket_read(ec, n);
      });
}

void client_connection::on_socket_read(error_code ec, std::size_t n) {
  if (!owner_)
    return;
  if (tearing_down_) {
    // The peer's end of the stream completes the close; bytes are ignored.
    if (ec)
      return close_done(ec == asio::error::eof ? error_code{} : ec);
    return read_more();
  }
  if (ec) {
    if (close_sent_)
      return close_done(ec);
    return end(ws_end::kind::lost, ec.message(), 0,
               ec == asio::error::connection_reset);
  }
  reader_.commit(n);
  pump();
}

/// The server's Close. After ours it completes the close handshake;
/// otherwise the connection ends here, with Close echoed as Beast does.
void client_connection::on_peer_close(std::uint16_t code) {
  error_code ignored;
  if (close_sent_) {
    tearing_down_ = true;
    socket().shutdown(tcp::socket::shutdown_send, ignored);
    return read_more();
  }
  if (!writing_) {
    std::string echo;
    if (code != 0)
      echo = {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
    std::string frame;
    append_ws_frame(frame, ws_opcode::close, echo,
                    static_cast<std::uint32_t>(mask_rng_()));
    // Best effort and tiny: the connection ends right after.
    asio::write(socket(), asio::buffer(frame), ignored);
  }
  end(ws_end::kind::peer_closed, "", code);
}

void client_connection::send_frame(ws_opcode op, std::string_view payload) {
  std::string frame;
  frame.reserve(payload.size() + 14);
  append_ws_frame(frame, op, payload, static_cast<std::uint32_t>(mask_rng_()));
  queued_ += frame.size();
  // The front buffer may be on its way to the socket; those behind it are
  // free to grow.
  if (outq_.size() >= 2 && outq_.back().size() + frame.size() <= write_batch)
    outq_.back() += frame;
  else
    outq_.push_back(std::move(frame));
  if (open_ && !writing_)
    do_write();
}

void client_connection::do_write() {
  writing_ = true;
  asio::async_write(socket(), asio::buffer(outq_.front()),
                    [self = shared_from_this()](error_code ec, std::size_t) {
                      self->on_written(ec);
                    });
}

void client_connection::on_written(error_code ec) {
  writing_ = false;
  if (!owner_)
    return;
  if (ec && close_sent_)
    return close_done(ec);
  if (ec)
    return end(ws_end::kind::write_failed, ec.message());
  queued_ -= outq_.front().size();
  outq_.pop_front();
  if (!outq_.empty())
    do_write();
  else if (close_sent_)
    pump(); // our Close is out: await theirs
  else if (want_close_)
    start_close();
  else
    owner_->on_drained();
}

void client_connection::close(std::chrono::milliseconds timeout) {
  if (close_sent_ || want_close_)
    return;
  close_timeout_ = timeout;
  want_close_ = true;
  if (open_ && !writing_)
    start_close();
}

/// The clean end: a Close frame, which tells the server the session is over.
void client_connection::start_close() {
  close_sent_ = true;
  close_timer_.expires_after(close_timeout_);
  close_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec && self->owner_)
      self->close_done(beast::error::timeout);
  });
  // Status 1000, normal closure.
  send_frame(ws_opcode::close, std::string_view{"\x03\xe8", 2});
}

/// The close handshake ended, cleanly without `ec`.
void client_connection::close_done(error_code ec) {
  end(ws_end::kind::closed, ec ? ec.message() : std::string{}, 0,
      ec == asio::error::connection_reset);
}

void client_connection::end(ws_end::kind what, std::string why,
                            std::uint16_t code, bool reset) {
  auto* owner = owner_;
  discard();
  owner->on_end(ws_end{what, code, std::move(why), reset});
}

void client_connection::reset() {
  error_code ignored;
  socket().set_option(asio::socket_base::linger(true, 0), ignored);
  discard();
}

void client_connection::discard() {
  owner_ = nullptr;
  close_timer_.cancel();
  error_code ignored;
  socket().close(ignored);
}

} // namespace

void check_ws_target(const ws_url& url) {
  make_endpoint(url);
}

std::shared_ptr<ws_connection>
open_ws_connection(event_loop& loop, const ws_target& target,
                   std::minstd_rand& mask_rng, ws_connection::handler& owner) {
  auto c = std::make_shared<client_connection>(loop, target, mask_rng, owner);
  c->start();
  return c;
}

} // namespace actorexec::loadtest
