// libFuzzer target: the output framer with limits, mode and read sizes taken
// from the input (layout in framer_fuzz_check.hpp). Crashing inputs are kept
// in tests/fuzz/regressions/framer/ and replayed by protocol_fuzz_replay.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "framer_fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  if (auto violation = actorexec::fuzz::check_framer_bytes(input);
      !violation.empty()) {
    std::fprintf(stderr, "%s\n", violation.c_str());
    std::abort();
  }
  return 0;
}
