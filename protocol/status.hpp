#pragma once

#include <cstddef>

namespace actorexec::protocol {

/// What a `control` request did to the process (its reply's `status`).
enum class control_status { paused, resumed, canceled };

/// How a process ended: `status` of `process.completed`.
enum class end_status { completed, failed, canceled, timed_out };

/// How many `end_status` values there are, for tables indexed by them.
inline constexpr std::size_t end_status_count =
    static_cast<std::size_t>(end_status::timed_out) + 1;

/// The session's process as `status` reports it (`process.state`).
enum class process_phase { none, running, paused, terminating, exited };

/// The wire spellings: "paused", "completed", "running"...
const char* to_string(control_status s);
const char* to_string(end_status s);
const char* to_string(process_phase p);

} // namespace actorexec::protocol
