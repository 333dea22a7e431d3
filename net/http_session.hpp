#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "net/server_context.hpp"

namespace actorexec::net {

/// Plain HTTP on the WebSocket port: `/health`, `/healthz`, `/readyz`,
/// `/metrics`, 404 for anything else, and the upgrade of `/ws/mcp` (alias
/// `/ws`) into a websocket_session once Origin, token and connection limits
/// allow it. Requests have a deadline (which also cuts off a slowloris
/// client) and a body limit, and connections not yet upgraded count against
/// `--max-http-connections`.
class http_session : public std::enable_shared_from_this<http_session> {
public:
  /// `slot`: the connection's place under `--max-http-connections`, held
  /// until the connection ends or becomes a WebSocket.
  http_session(boost::asio::ip::tcp::socket&& socket,
               std::shared_ptr<server_context> ctx, std::shared_ptr<void> slot);

  void run();

  using request_type =
      boost::beast::http::request<boost::beast::http::string_body>;
  using response_type =
      boost::beast::http::response<boost::beast::http::string_body>;

  /// For an MCP exchange, on this connection's strand: its answer (the
  /// connection then reads the next request if kept alive), or the stream
  /// itself and its place under the limits (an SSE stream; this session
  /// is done then).
  void answer(response_type res);
  boost::beast::tcp_stream take_stream();
  std::shared_ptr<void> take_slot() { return std::move(slot_); }
  boost::asio::any_io_executor executor() { return stream_.get_executor(); }

private:
  void do_read();
  void on_header(boost::system::error_code ec, std::size_t);
  void on_read(boost::system::error_code ec, std::size_t);
  void handle(request_type req);
  /// /mcp: the MCP endpoint (POST, GET, DELETE), through an mcp_exchange.
  void serve_mcp(request_type req);
  /// Answers an /mcp request with `status` and a JSON-RPC error body.
  void refuse_mcp(const request_type& req, boost::beast::http::status status,
                  int code, std::string_view text);
  /// Upgrades to a WebSocket: the seed protocol's, or MCP's (`mcp`, whose
  /// checks were done by serve_mcp).
  void upgrade(request_type req, bool mcp = false);
  void serve(const request_type& req, std::string_view path);
  /// Answers `req` with `status` and a JSON `{"error": text}`, closing.
  void refuse(const request_type& req, boost::beast::http::status status,
              std::string_view text);
  /// The peer's address, or "unknown".
  std::string remote_address() const;
  void send(response_type res);
  void on_write(bool keep_alive, boost::system::error_code ec, std::size_t);
  void do_close();

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::shared_ptr<server_context> ctx_;
  std::optional<
      boost::beast::http::request_parser<boost::beast::http::string_body>>
      parser_;
  std::shared_ptr<response_type> res_;
  std::shared_ptr<void> slot_;
  /// The MCP exchange waiting for its answer: held here until then (its
  /// sink holds it only weakly).
  std::shared_ptr<void> exchange_;
};

} // namespace actorexec::net
