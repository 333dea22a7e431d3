#define BOOST_TEST_MODULE protocol_fuzz_replay
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "decode_fuzz_check.hpp"
#include "framer_fuzz_check.hpp"
#include "ws_server_fuzz_check.hpp"

namespace fs = std::filesystem;

namespace {

/// Every input file of `dir` (dot files such as .gitkeep aside), sorted so
/// that failures read the same on every run.
std::vector<fs::path> inputs(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator{dir})
    if (entry.is_regular_file() &&
        entry.path().filename().string().front() != '.')
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_file(const fs::path& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

/// The checks of one fuzz target on one input, as its fuzzer runs them.
using check_fn = std::string (*)(std::string_view);

void replay(const fs::path& dir,
            check_fn check = &actorexec::fuzz::check_input) {
  for (const auto& file : inputs(dir)) {
    auto violation = check(read_file(file));
    BOOST_TEST(violation.empty(), file.filename() << ": " << violation);
  }
}

const fs::path corpus_root{ACTOREXEC_FUZZ_CORPUS_ROOT};
const fs::path regressions_root{ACTOREXEC_FUZZ_REGRESSIONS_DIR};

} // namespace

BOOST_AUTO_TEST_SUITE(protocol_fuzz_replay)

BOOST_AUTO_TEST_CASE(seed_corpus) {
  fs::path dir{ACTOREXEC_FUZZ_CORPUS_DIR};
  BOOST_REQUIRE(fs::is_directory(dir));
  BOOST_TEST(inputs(dir).size() >= 10u); // the path is the right one
  replay(dir);
}

BOOST_AUTO_TEST_CASE(regressions) {
  fs::path dir{ACTOREXEC_FUZZ_REGRESSIONS_DIR};
  BOOST_REQUIRE(fs::is_directory(dir));
  replay(dir);
}

// The framer target (protocol_framer_fuzz): its own input layout.
BOOST_AUTO_TEST_CASE(framer_seed_corpus) {
  auto dir = corpus_root / "framer";
  BOOST_REQUIRE(fs::is_directory(dir));
  BOOST_TEST(!inputs(dir).empty());
  replay(dir, &actorexec::fuzz::check_framer_bytes);
}

BOOST_AUTO_TEST_CASE(framer_regressions) {
  auto dir = regressions_root / "framer";
  BOOST_REQUIRE(fs::is_directory(dir));
  replay(dir, &actorexec::fuzz::check_framer_bytes);
}

// The WebSocket server target (net_ws_server_fuzz): Beast's frame parsing
// over the in-memory test stream, then decode().
BOOST_AUTO_TEST_CASE(ws_server_seed_corpus) {
  auto dir = corpus_root / "ws_server";
  BOOST_REQUIRE(fs::is_directory(dir));
  BOOST_TEST(!inputs(dir).empty());
  replay(dir, &actorexec::fuzz::check_ws_server);
}

BOOST_AUTO_TEST_CASE(ws_server_regressions) {
  auto dir = regressions_root / "ws_server";
  BOOST_REQUIRE(fs::is_directory(dir));
  replay(dir, &actorexec::fuzz::check_ws_server);
}

// Inputs of defects still open (see ws_server_fuzz_check.hpp): each must
// still fail. Once one passes, its defect is fixed: move the file up to
// regressions/ws_server/, where it must pass from then on.
BOOST_AUTO_TEST_CASE(ws_server_open_defects) {
  auto dir = regressions_root / "ws_server" / "open";
  BOOST_REQUIRE(fs::is_directory(dir));
  for (const auto& file : inputs(dir)) {
    auto violation = actorexec::fuzz::check_ws_server(read_file(file));
    BOOST_TEST(!violation.empty(),
               file.filename() << ": passes now; move it to regressions/");
  }
}

BOOST_AUTO_TEST_SUITE_END()
