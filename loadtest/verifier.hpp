#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "loadtest/scenario.hpp"

namespace actorexec::loadtest {

/// Compares a stream of stdout bytes with a generator's known output while
/// it arrives, holding only the expected bytes not yet matched (one line),
/// so that 500 sessions of `seq 1 20000` cost no memory to verify.
class verifier {
public:
  explicit verifier(const verify_spec& spec);

  /// Checks the next bytes; after the first mismatch everything is ignored.
  void feed(std::string_view bytes);

  /// End of output: true when every expected byte arrived and no other.
  bool finish();

  /// Bytes that matched so far.
  std::uint64_t matched() const { return matched_; }

  /// Why verification failed; empty while it has not.
  const std::string& failure() const { return failure_; }

private:
  /// Appends the next line of the generator to `pending_`; false at end.
  bool generate();

  const verify_spec& spec_;
  /// Expected bytes generated but not yet compared.
  std::string pending_;
  std::size_t pending_pos_ = 0;
  /// Generator position: next seq number, or lines emitted so far.
  std::int64_t next_number_ = 0;
  std::uint64_t lines_emitted_ = 0;
  bool text_emitted_ = false;
  std::uint64_t matched_ = 0;
  std::string failure_;
};

} // namespace actorexec::loadtest
