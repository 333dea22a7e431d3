#define BOOST_TEST_MODULE protocol_fuzz_replay
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "decode_fuzz_check.hpp"

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

void replay(const fs::path& dir) {
  for (const auto& file : inputs(dir)) {
    auto violation = actorexec::fuzz::check_input(read_file(file));
    BOOST_TEST(violation.empty(), file.filename() << ": " << violation);
  }
}

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

BOOST_AUTO_TEST_SUITE_END()
