#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/json/object.hpp>

#include "loadtest/report.hpp"
#include "loadtest/rpc_fields.hpp"
#include "loadtest/scenario.hpp"

namespace actorexec::loadtest {

/// What an outstanding request was, to interpret its response.
enum class request_kind { execute, resume, control, input };

/// The JSON-RPC side of one session: request ids and what is outstanding,
/// the session id and resume token of its first `connected`, and the events
/// in `seq` order (a duplicate is skipped, so verification stays exact
/// across resumes). It knows nothing of sockets: its owner sends the text.
class rpc_client {
public:
  /// The session the client works for.
  class owner {
  public:
    /// Sends one text frame (or drops it while no connection is up).
    virtual void send(std::string text) = 0;
    virtual void on_started() = 0;
    /// `replayed`: the event came again after a resume.
    virtual void on_output(const rpc_fields& f, bool replayed) = 0;
    virtual void on_completed(const rpc_fields& f) = 0;
    /// A response, to a request of `kind` (empty: none outstanding had its
    /// id).
    virtual void on_response(std::optional<request_kind> kind,
                             const rpc_fields& f) = 0;

  protected:
    ~owner() = default;
  };

  /// Frames are scanned with `scanner` (shared by a phase's sessions: one
  /// frame is handled at a time); protocol errors are counted in `counts`.
  rpc_client(rpc_scanner& scanner, phase_result& counts, owner& o)
      : scanner_(scanner), counts_(counts), owner_(o) {}

  /// Sends a request with the next id; returns the id.
  std::uint64_t request(request_kind kind, std::string_view method,
                        boost::json::object params);
  /// The same with `params` already JSON text: a large request built once
  /// and sent many times (an input flood) costs no serializing.
  std::uint64_t request_text(request_kind kind, std::string_view method,
                             std::string_view params);
  /// `execute` with the process `spec` describes.
  void execute(const session_spec& spec);
  /// `resume` of the session this client first joined, after its last seq.
  void resume();
  /// `ack` of every event so far, without an id (so without a response).
  void ack();

  /// Handles one text frame from the server.
  void handle(std::string_view frame);

private:
  void handle_event(std::string_view method, const rpc_fields& f);
  void handle_response(const rpc_fields& f);
  void error(const std::string& kind) { ++counts_.other_errors[kind]; }

  rpc_scanner& scanner_;
  phase_result& counts_;
  owner& owner_;
  /// The session this client owns, from its first `connected`.
  std::string session_id_;
  std::string resume_token_;
  /// Highest event seq received; resumes ask for what follows it.
  std::uint64_t last_seq_ = 0;
  /// Events up to this seq are replays (the last resume's `last_seq`).
  std::uint64_t replay_until_ = 0;
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, request_kind> pending_;
};

} // namespace actorexec::loadtest
