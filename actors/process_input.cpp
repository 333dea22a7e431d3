// The process actor's stdin: inputs queued to the strand, each answered
// once its bytes are in the pipe, bounded by --max-pending-input-bytes
// (see process_parts.hpp).

#include <algorithm>
#include <cstring>
#include <optional>

#include <caf/all.hpp>

#include "actors/process_parts.hpp"

namespace actorexec::process_parts {

namespace {

/// What an `input` of `size` bytes counts against the pending limit: its
/// bytes, and at least about what a waiting request costs us (its messages,
/// promise and queued write), so that empty ones are bounded too.
std::uint64_t input_charge(std::size_t size) {
  return std::max<std::uint64_t>(size, 1024);
}

/// Refusal of an `input` that would take the bytes waiting for the child
/// past the limit; none while nothing waits, so any input can get through.
std::optional<input_result> refuse_busy(const process_state& st,
                                        std::uint64_t charge) {
  auto limit = st.cfg->max_pending_input_bytes;
  if (limit == 0 || st.input_waiters.empty() ||
      st.pending_input + charge <= limit)
    return std::nullopt;
  input_result r;
  r.error = static_cast<int>(protocol::error_code::stdin_busy);
  r.message = "stdin busy: " + std::to_string(st.pending_input) +
              " bytes pending (limit " + std::to_string(limit) + ")";
  r.data = {{"pending_bytes", st.pending_input}, {"limit", limit}};
  return r;
}

} // namespace

caf::result<input_result> input(process_actor_type* self, std::string& data,
                                bool eof) {
  auto& st = self->state;
  if (st.stdin_closed) {
    auto code = static_cast<int>(protocol::error_code::stdin_unavailable);
    return input_result{code, "stdin not available", 0};
  }
  // Bytes a child does not read wait here, in memory: refuse rather than
  // queue without bound. The answer to an earlier input comes once its
  // bytes are in the pipe, which tells the client when to try again.
  auto charge = input_charge(data.size());
  if (auto busy = refuse_busy(st, charge))
    return std::move(*busy);
  if (eof)
    st.stdin_closed = true;
  st.io->write(std::move(data), eof);
  st.pending_input += charge;
  st.input_waiters.push_back({self->make_response_promise(), charge});
  return st.input_waiters.back().promise;
}

void on_wrote(process_actor_type* self, std::uint64_t n, int err) {
  auto& st = self->state;
  if (st.input_waiters.empty())
    return;
  auto promise = std::move(st.input_waiters.front().promise);
  st.pending_input -= st.input_waiters.front().charge;
  st.input_waiters.pop_front();
  if (err != 0) {
    st.stdin_closed = true;
    auto code = static_cast<int>(protocol::error_code::stdin_unavailable);
    promise.deliver(input_result{
        code, std::string{"stdin not available: "} + std::strerror(err), n});
    return;
  }
  promise.deliver(input_result{0, {}, n});
}

} // namespace actorexec::process_parts
