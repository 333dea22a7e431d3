#pragma once

// Internal to the session actor: what its two sources share. The lifecycle
// (attach, detach, end, drain, timers, the event flow toward the client) is
// in session.cpp; the client's requests (execute, control, input, status,
// ack, detach) and the process's start and end in session_requests.cpp.

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "actors/session.hpp"

namespace actorexec::session_parts {

/// Sends a response or error straight to the connection, outside the credit
/// window: replies are small and must never wait behind a stalled stream.
void reply_frame(session_actor_type* self, std::string text);

/// A response; `unknown` names the params of the request that were
/// ignored (as `warnings`).
void reply(session_actor_type* self, const protocol::request_id& id,
           boost::json::value result,
           const std::vector<std::string>& unknown = {});

/// An error response, counted and logged.
void reply_error(session_actor_type* self, const protocol::request_id& id,
                 protocol::error_code code, std::string message,
                 boost::json::value data = nullptr);

/// Hands the connection what its window allows.
void pump(session_actor_type* self);

/// Grants the process the credit the retention allows.
void grant_credit(session_actor_type* self);

/// Appends a process event (started, paused, ...) and pumps.
void push_simple(session_actor_type* self, event_kind kind);

/// The `status` result.
boost::json::value status_of(session_actor_type* self);

/// A client request routed by the connection.
void on_request(session_actor_type* self, protocol::request& req);

/// The process started, or could not; it ended (`done`).
void on_started(session_actor_type* self, std::int64_t pid);
void on_failed(session_actor_type* self, int code, std::string what);
void on_done(session_actor_type* self, protocol::completion& c);

/// Closes the connection with 1001 and ends the session (the drain is over).
void finish_drain(session_actor_type* self);

} // namespace actorexec::session_parts
