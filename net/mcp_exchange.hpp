#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <caf/actor.hpp>

#include "actors/mcp_sink.hpp"
#include "net/server_context.hpp"

namespace actorexec::net {

class http_session;

/// One request to /mcp between its arrival and its answer: the transport
/// side of an MCP stream. Its sink (posting to the connection's strand)
/// hears the session's messages; it answers as the request asked:
/// - `json`: the response as application/json, on the kept-alive
///   connection (the http_session reads the next request);
/// - `sse`: a text/event-stream of every message, each with its event id,
///   from the priming event to the response; the connection then closes;
/// - `accepted`: 202 once the session has the notification;
/// - `ended`: 204 once the session ended (DELETE).
/// A refusal before any message is an HTTP status with a JSON-RPC error.
/// A client that leaves an SSE stream is noticed (a read that ends), and
/// the session told: the stream's events wait for a resume.
class mcp_exchange : public std::enable_shared_from_this<mcp_exchange> {
public:
  enum class mode { json, sse, accepted, ended };

  /// `owner` answers json/accepted/ended requests and hands its stream over
  /// for SSE; `version` and `keep_alive` are the request's.
  mcp_exchange(std::shared_ptr<http_session> owner,
               std::shared_ptr<server_context> ctx, mode m, unsigned version,
               bool keep_alive);

  /// The door the session's messages come through.
  mcp_sink_ptr sink();

  // Run on the connection's strand (the sink posts there):
  void on_event(std::string id, std::string json);
  void on_done();
  void on_bound(caf::actor session, std::string id);
  void on_refuse(int status, std::string json);

private:
  using response_type =
      boost::beast::http::response<boost::beast::http::string_body>;
  response_type make_response(unsigned status) const;
  void start_sse();
  void queue(std::string text);
  void do_write();
  void on_write(boost::system::error_code ec);
  void watch_peer();
  void gone();
  void finish();

  std::shared_ptr<http_session> owner_;
  std::shared_ptr<server_context> ctx_;
  mode mode_;
  unsigned version_;
  bool keep_alive_;
  /// The session, once known, and its id (sent as Mcp-Session-Id).
  caf::actor session_;
  std::string session_id_;
  mcp_sink_ptr sink_;
  /// JSON mode: the last message (the response comes last).
  std::string last_;
  bool answered_ = false;
  /// SSE mode: the stream, once taken over, and what waits to be written.
  std::optional<boost::beast::tcp_stream> stream_;
  std::shared_ptr<void> slot_;
  std::deque<std::string> pending_;
  std::size_t pending_bytes_ = 0;
  bool writing_ = false;
  bool done_ = false;
  bool closed_ = false;
  char peek_[256];
};

} // namespace actorexec::net
