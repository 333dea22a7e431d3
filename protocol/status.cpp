#include "protocol/status.hpp"

namespace actorexec::protocol {

const char* to_string(control_status s) {
  switch (s) {
  case control_status::paused:
    return "paused";
  case control_status::resumed:
    return "resumed";
  case control_status::canceled:
    return "canceled";
  }
  return "unknown";
}

const char* to_string(end_status s) {
  switch (s) {
  case end_status::completed:
    return "completed";
  case end_status::failed:
    return "failed";
  case end_status::canceled:
    return "canceled";
  case end_status::timed_out:
    return "timed_out";
  }
  return "unknown";
}

const char* to_string(process_phase p) {
  switch (p) {
  case process_phase::none:
    return "none";
  case process_phase::running:
    return "running";
  case process_phase::paused:
    return "paused";
  case process_phase::terminating:
    return "terminating";
  case process_phase::exited:
    return "exited";
  }
  return "unknown";
}

} // namespace actorexec::protocol
