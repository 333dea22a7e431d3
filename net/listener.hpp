#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include "net/log_throttle.hpp"
#include "net/server_context.hpp"

namespace actorexec::net {

/// Accepts TCP connections and hands each, on a strand of its own, to an
/// http_session holding a place under `--max-http-connections` (beyond it a
/// connection is closed at once). A failed accept (EMFILE: out of
/// descriptors) is retried after a back-off, not at once, which spun a core
/// and flooded the log while the condition lasted.
class listener : public std::enable_shared_from_this<listener> {
public:
  listener(boost::asio::io_context& ioc, std::shared_ptr<server_context> ctx);

  /// Opens, binds and listens; `ec` says why not.
  void open(const boost::asio::ip::tcp::endpoint& endpoint,
            boost::system::error_code& ec);

  /// The bound endpoint (the real port when asked for port 0).
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  /// Starts accepting.
  void run();

private:
  void do_accept();
  void on_accept(boost::system::error_code ec,
                 boost::asio::ip::tcp::socket socket);
  /// Logs (at most once a second) and accepts again after `backoff_`.
  void on_accept_failed(boost::system::error_code ec);
  /// Starts an http_session on `socket`, or closes it beyond the limit.
  void admit(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<server_context> ctx_;
  /// On the acceptor's strand, like every handler here.
  boost::asio::steady_timer retry_;
  /// Wait before the next accept after a failure; doubles per failure in a
  /// row, 0 after a success.
  std::chrono::milliseconds backoff_{0};
  /// Failed accepts since the last `accept_recovered` line.
  std::uint64_t failures_ = 0;
  log_throttle failure_log_{std::chrono::seconds{1}};
  log_throttle recovery_log_{std::chrono::seconds{1}};
  log_throttle refusal_log_{std::chrono::seconds{1}};
};

} // namespace actorexec::net
