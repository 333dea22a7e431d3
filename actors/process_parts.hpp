#pragma once

// Internal to the process actor: what its sources share. The lifecycle
// (spawn, output, the termination ladder, completion) is in process.cpp;
// the time limits in process_clocks.cpp; stdin in process_input.cpp.

#include <cstddef>
#include <cstdint>
#include <string>

#include "actors/process.hpp"

namespace actorexec::process_parts {

/// Arms a timer of `kind` for the current timer generation.
void arm(process_actor_type* self, timer_kind kind, caf::timespan after);

/// SIGTERM to the group now, SIGKILL after `grace`; `why` is the status
/// the completion will report.
void start_termination(process_actor_type* self, protocol::end_status why,
                       caf::timespan grace);

/// SIGKILL to the group; the pipes close at once when nobody reads them,
/// or after a delay.
void kill_group(process_actor_type* self);

/// The wall-clock and idle limits: started with the child, stopped while
/// it is paused, and what happens when one runs out.
void start_clocks(process_actor_type* self, const protocol::execute_params& p);
void pause_clocks(process_actor_type* self);
void resume_clocks(process_actor_type* self);
void on_timer(process_actor_type* self, timer_kind kind, std::uint64_t gen);

/// An `input`: queued for the child's stdin, answered once written, or
/// refused when stdin is closed or too much waits already.
caf::result<input_result> input(process_actor_type* self, std::string& data,
                                bool eof);
/// The strand wrote `n` bytes of the oldest input (`err`: why it stopped).
void on_wrote(process_actor_type* self, std::uint64_t n, int err);

} // namespace actorexec::process_parts
