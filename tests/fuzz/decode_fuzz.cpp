// libFuzzer target: decode() on arbitrary frames, and the output framer on
// arbitrary child output. Crashing inputs are kept in tests/fuzz/regressions
// and replayed by the protocol_fuzz_replay ctest.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "decode_fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  if (auto violation = actorexec::fuzz::check_input(input);
      !violation.empty()) {
    std::fprintf(stderr, "%s\n", violation.c_str());
    std::abort();
  }
  return 0;
}
