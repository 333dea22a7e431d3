#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include "net/server_context.hpp"

namespace actorexec::net {

/// Accepts TCP connections and hands each, on a strand of its own, to an
/// http_session.
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

  /// Stops accepting; open connections stay.
  void stop();

private:
  void do_accept();
  void on_accept(boost::system::error_code ec,
                 boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<server_context> ctx_;
};

} // namespace actorexec::net
