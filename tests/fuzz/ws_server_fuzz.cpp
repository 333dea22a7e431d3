// libFuzzer target: Beast's WebSocket frame parsing on the server side and
// decode() on whatever message comes out (layout and checks in
// ws_server_fuzz_check.hpp). Crashing inputs are kept in
// tests/fuzz/regressions/ws_server/ and replayed by protocol_fuzz_replay.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "ws_server_fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  if (auto violation = actorexec::fuzz::check_ws_server(input);
      !violation.empty()) {
    std::fprintf(stderr, "%s\n", violation.c_str());
    std::abort();
  }
  return 0;
}
