#include "net/mcp_exchange.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/write.hpp>

#include <caf/send.hpp>

#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "net/http_session.hpp"

namespace actorexec::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

/// An SSE client that reads this much less than we send is cut off: it can
/// resume from its last event id, and its backlog is not ours to hold.
constexpr std::size_t max_pending_bytes = 8 << 20;

/// The sink of one exchange: posts to its strand, holds it weakly (an
/// exchange that is over takes no more messages).
class exchange_sink : public mcp_sink {
public:
  exchange_sink(std::weak_ptr<mcp_exchange> ex, asio::any_io_executor strand)
      : ex_(std::move(ex)), strand_(std::move(strand)) {}

  void event(std::string id, std::string json) override {
    post([id = std::move(id), json = std::move(json)](mcp_exchange& e) mutable {
      e.on_event(std::move(id), std::move(json));
    });
  }
  void done() override {
    post([](mcp_exchange& e) { e.on_done(); });
  }
  void bound(caf::actor session, std::string id) override {
    post([session = std::move(session),
          id = std::move(id)](mcp_exchange& e) mutable {
      e.on_bound(std::move(session), std::move(id));
    });
  }
  void refuse(int status, std::string json) override {
    post([status, json = std::move(json)](mcp_exchange& e) mutable {
      e.on_refuse(status, std::move(json));
    });
  }

private:
  template <class F>
  void post(F f) {
    asio::post(strand_, [ex = ex_, f = std::move(f)]() mutable {
      if (auto e = ex.lock())
        f(*e);
    });
  }

  std::weak_ptr<mcp_exchange> ex_;
  asio::any_io_executor strand_;
};

std::string sse_event(const std::string& id, const std::string& json) {
  // Priming events carry an id and no data (spec: the client can resume
  // from it); messages are `message` events. Serialized JSON holds no
  // newline, so one data line carries it.
  if (json.empty())
    return "id: " + id + "\ndata: \n\n";
  return "event: message\nid: " + id + "\ndata: " + json + "\n\n";
}

} // namespace

mcp_exchange::mcp_exchange(std::shared_ptr<http_session> owner,
                           std::shared_ptr<server_context> ctx, mode m,
                           unsigned version, bool keep_alive)
    : owner_(std::move(owner)), ctx_(std::move(ctx)), mode_(m),
      version_(version), keep_alive_(keep_alive) {}

mcp_sink_ptr mcp_exchange::sink() {
  if (!sink_)
    sink_ =
        std::make_shared<exchange_sink>(weak_from_this(), owner_->executor());
  return sink_;
}

mcp_exchange::response_type mcp_exchange::make_response(unsigned status) const {
  response_type res{static_cast<http::status>(status), version_};
  res.set(http::field::server, "actorexec/" ACTOREXEC_VERSION);
  if (!session_id_.empty())
    res.set("Mcp-Session-Id", session_id_);
  res.keep_alive(keep_alive_);
  return res;
}

void mcp_exchange::on_bound(caf::actor session, std::string id) {
  session_ = std::move(session);
  session_id_ = std::move(id);
}

void mcp_exchange::on_refuse(int status, std::string json) {
  if (answered_ || closed_)
    return;
  answered_ = true;
  auto res = make_response(static_cast<unsigned>(status));
  res.set(http::field::content_type, "application/json");
  res.keep_alive(false);
  res.body() = std::move(json);
  res.prepare_payload();
  owner_->answer(std::move(res));
  owner_.reset();
}

void mcp_exchange::on_event(std::string id, std::string json) {
  if (closed_)
    return;
  if (mode_ != mode::sse) {
    if (!json.empty())
      last_ = std::move(json);
    return;
  }
  if (!stream_)
    start_sse();
  queue(sse_event(id, json));
}

void mcp_exchange::on_done() {
  if (closed_ || answered_)
    return;
  if (mode_ == mode::sse) {
    done_ = true;
    if (!stream_)
      start_sse(); // a stream that ended before it began: still answered
    if (!writing_)
      finish();
    return;
  }
  answered_ = true;
  auto status = mode_ == mode::ended      ? 204u
                : mode_ == mode::accepted ? 202u
                : last_.empty()           ? 202u // a cancelled request
                                          : 200u;
  auto res = make_response(status);
  if (status == 200) {
    res.set(http::field::content_type, "application/json");
    res.body() = std::move(last_);
  }
  res.prepare_payload();
  owner_->answer(std::move(res));
  owner_.reset();
}

void mcp_exchange::start_sse() {
  answered_ = false; // the stream is the answer; refusals are too late
  stream_.emplace(owner_->take_stream());
  slot_ = owner_->take_slot(); // the stream still counts as a connection
  owner_.reset();
  stream_->expires_never();
  // The header goes first, written as the start of the stream: no length,
  // no chunking; the stream ends when the connection closes.
  std::string head = "HTTP/1.1 200 OK\r\nServer: actorexec/" ACTOREXEC_VERSION
                     "\r\nContent-Type: text/event-stream\r\n"
                     "Cache-Control: no-cache\r\nConnection: close\r\n";
  if (!session_id_.empty())
    head += "Mcp-Session-Id: " + session_id_ + "\r\n";
  head += "\r\n";
  queue(std::move(head));
  watch_peer();
}

void mcp_exchange::queue(std::string text) {
  pending_bytes_ += text.size();
  pending_.push_back(std::move(text));
  if (pending_bytes_ > max_pending_bytes) {
    log::info("mcp_stream_backlog", {{"session_id", session_id_}});
    return gone();
  }
  do_write();
}

void mcp_exchange::do_write() {
  if (writing_ || pending_.empty() || closed_)
    return;
  writing_ = true;
  asio::async_write(
      *stream_, asio::buffer(pending_.front()),
      [self = shared_from_this()](auto ec, auto) { self->on_write(ec); });
}

void mcp_exchange::on_write(boost::system::error_code ec) {
  writing_ = false;
  if (closed_)
    return;
  if (ec)
    return gone();
  pending_bytes_ -= pending_.front().size();
  pending_.pop_front();
  if (!pending_.empty())
    return do_write();
  if (done_)
    finish();
}

void mcp_exchange::watch_peer() {
  // Nothing is expected from an SSE client: a read that ends means it left.
  stream_->async_read_some(asio::buffer(peek_),
                           [self = shared_from_this()](auto ec, auto) {
                             if (ec)
                               self->gone();
                             else if (!self->closed_)
                               self->watch_peer();
                           });
}

void mcp_exchange::gone() {
  if (closed_)
    return;
  closed_ = true;
  if (session_)
    caf::anon_send(session_, sink_gone_atom::value, sink());
  boost::system::error_code ignored;
  stream_->socket().close(ignored);
}

void mcp_exchange::finish() {
  closed_ = true;
  boost::system::error_code ignored;
  stream_->socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  stream_->socket().close(ignored);
}

} // namespace actorexec::net
