#include "net/listener.hpp"

#include <algorithm>

#include <boost/asio/strand.hpp>

#include "actors/log.hpp"
#include "net/http_session.hpp"

namespace actorexec::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono;

namespace {

/// Back-off after a failed accept: short enough that a passing shortage
/// costs little latency, doubling to a second so that a lasting one costs
/// about one accept() a second.
constexpr milliseconds first_backoff{10};
constexpr milliseconds max_backoff{1000};

} // namespace

listener::listener(asio::io_context& ioc, std::shared_ptr<server_context> ctx)
    : ioc_(ioc), acceptor_(asio::make_strand(ioc)), ctx_(std::move(ctx)),
      retry_(acceptor_.get_executor()) {}

void listener::open(const tcp::endpoint& endpoint,
                    boost::system::error_code& ec) {
  acceptor_.open(endpoint.protocol(), ec);
  if (ec)
    return;
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec)
    return;
  acceptor_.bind(endpoint, ec);
  if (ec)
    return;
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
}

tcp::endpoint listener::local_endpoint() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec);
}

void listener::run() {
  do_accept();
}

void listener::do_accept() {
  // Each connection gets its own strand: its handlers never run at once.
  acceptor_.async_accept(asio::make_strand(ioc_),
                         [self = shared_from_this()](auto ec, auto socket) {
                           self->on_accept(ec, std::move(socket));
                         });
}

void listener::on_accept(boost::system::error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted)
    return; // stopped
  if (ec)
    return on_accept_failed(ec);
  if (backoff_.count() > 0) {
    backoff_ = milliseconds{0};
    // Throttled too: at the edge of the limit, failing and recovering may
    // alternate every few milliseconds.
    if (recovery_log_.admit(steady_clock::now())) {
      log::info("accept_recovered", {{"failures", failures_}});
      failures_ = 0;
    }
  }
  admit(std::move(socket));
  if (acceptor_.is_open())
    do_accept();
}

void listener::on_accept_failed(boost::system::error_code ec) {
  // Out of descriptors, the pending connection stays queued and accept()
  // fails again at once: retrying straight away spun a core and wrote
  // 100 MB of log in seconds. Descriptors free as connections end.
  ++ctx_->stats->accept_failures_total;
  ++failures_;
  backoff_ = std::clamp(2 * backoff_, first_backoff, max_backoff);
  if (auto held = failure_log_.admit(steady_clock::now()))
    log::warn("accept_failed", {{"error", ec.message()},
                                {"suppressed", *held},
                                {"retry_ms", backoff_.count()}});
  retry_.expires_after(backoff_);
  retry_.async_wait([self = shared_from_this()](auto wait_ec) {
    if (!wait_ec && self->acceptor_.is_open())
      self->do_accept();
  });
}

void listener::admit(tcp::socket socket) {
  admission::refusal why = admission::refusal::none;
  auto slot = ctx_->http_admit->try_enter({}, why);
  if (!slot) {
    // Closed before anything is read: a flood of idle connections costs a
    // descriptor for a moment each, not one per connection until the
    // handshake deadline.
    ctx_->stats->count_rejection(
        server_stats::rejection::http_connection_limit);
    if (auto held = refusal_log_.admit(steady_clock::now()))
      log::warn("http_connection_limit",
                {{"limit", ctx_->max_http_connections}, {"suppressed", *held}});
    boost::system::error_code ignored;
    socket.close(ignored);
    return;
  }
  // Small frames (a response, one line of output) must leave at once,
  // not wait up to 40 ms for the peer's delayed ACK (Nagle).
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  std::make_shared<http_session>(std::move(socket), ctx_, std::move(slot))
      ->run();
}

} // namespace actorexec::net
