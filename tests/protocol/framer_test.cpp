#define BOOST_TEST_MODULE protocol_framer
#include <boost/test/unit_test.hpp>

#include "protocol/framer.hpp"

#include <algorithm>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/base64.hpp"
#include "protocol/utf8.hpp"

using namespace actorexec::protocol;
using namespace std::string_literals;

namespace {

using pieces = std::vector<output_piece>;

/// Feeds `input` cut at `cuts` (sizes), then finishes.
pieces run(output_framer& f, std::string_view input,
           const std::vector<std::size_t>& cuts) {
  pieces out;
  std::size_t pos = 0;
  for (auto n : cuts) {
    n = std::min(n, input.size() - pos);
    f.feed(input.substr(pos, n), out);
    pos += n;
  }
  f.feed(input.substr(pos), out);
  f.finish(out);
  return out;
}

pieces run(framing_mode mode, std::string_view input,
           const std::vector<std::size_t>& cuts = {},
           framer_limits limits = {}) {
  output_framer f{mode, limits};
  return run(f, input, cuts);
}

std::string concat(const pieces& ps) {
  std::string all;
  for (const auto& p : ps)
    all += piece_bytes(p);
  return all;
}

/// Characters of a piece, its newline included.
std::size_t chars(const output_piece& p) {
  return utf8_length(piece_bytes(p));
}

/// Property checks return the first violation ("" if none) instead of
/// asserting each detail, so that 10,000 random cases run in well under a
/// second and a failure still says what broke.
#define EXPECT(cond)                                                           \
  if (!(cond))                                                                 \
    return "piece " + std::to_string(i) + ": failed " #cond;

std::string check_piece(const output_piece& p, std::size_t i) {
  auto bytes = piece_bytes(p);
  EXPECT(!bytes.empty());
  EXPECT(p.raw_size() == bytes.size());
  if (p.base64) {
    EXPECT(base64_decode(p.data).has_value());
    EXPECT(!is_valid_utf8(bytes)); // valid text goes out as text
  } else {
    EXPECT(is_valid_utf8(p.data));
  }
  return {};
}

/// The invariants of both modes: exact bytes, no split character, valid
/// text, consistent sizes.
std::string check_common(std::string_view input, const pieces& ps) {
  if (concat(ps) != input)
    return "bytes differ";
  std::size_t offset = 0;
  for (std::size_t i = 0; i < ps.size(); ++i) {
    if (auto e = check_piece(ps[i], i); !e.empty())
      return e;
    offset += ps[i].raw_size();
    // No well-formed character of the input straddles a piece boundary.
    EXPECT(utf8_boundary_before(input, offset) == offset);
  }
  return {};
}

std::string check_chunks(std::string_view input, const pieces& ps,
                         const framer_limits& limits) {
  if (auto e = check_common(input, ps); !e.empty())
    return e;
  auto max = std::max<std::size_t>(limits.max_chunk_bytes, 4);
  for (std::size_t i = 0; i < ps.size(); ++i) {
    const auto& p = ps[i];
    EXPECT(p.raw_size() <= max);
    EXPECT(p.chunk_index == 0u);
    EXPECT(p.total_chunks == 1u);
    EXPECT(!p.truncated);
  }
  return {};
}

/// Lines mode: pieces form groups (chunk_index 0..total-1); a group ends a
/// line (last piece not truncated, ending in "\n" unless it is the final
/// flush) or is a bounded part of a long line (every piece truncated).
std::string check_lines(std::string_view input, const pieces& ps,
                        const framer_limits& limits) {
  if (auto e = check_common(input, ps); !e.empty())
    return e;
  auto max_chars = std::max<std::size_t>(limits.max_line_chars, 1);
  std::size_t offset = 0;     // of the piece in the input
  std::size_t line_start = 0; // offset of the current line
  std::size_t group_start = 0;
  for (std::size_t i = 0; i < ps.size(); ++i) {
    const auto& p = ps[i];
    auto bytes = piece_bytes(p);
    if (p.chunk_index == 0)
      group_start = i;
    EXPECT(p.chunk_index == i - group_start);
    EXPECT(p.total_chunks == ps[group_start].total_chunks);
    EXPECT(p.chunk_index < p.total_chunks);
    EXPECT(chars(p) <= max_chars);
    // A newline may only end a piece.
    auto nl = bytes.find('\n');
    EXPECT(nl == bytes.npos || nl + 1 == bytes.size());
    bool ends_line = !bytes.empty() && bytes.back() == '\n';
    bool last_of_group = p.chunk_index + 1 == p.total_chunks;
    if (!last_of_group) {
      EXPECT(p.truncated);
      EXPECT(!ends_line);
      // Inside a group every piece is full.
      EXPECT(chars(p) == max_chars);
    } else if (ends_line) {
      EXPECT(!p.truncated);
    } else if (!p.truncated) {
      EXPECT(i + 1 == ps.size()); // the final flush
    }
    // Only a line longer than the pending bound is sent in several
    // groups; a shorter one is exactly one group.
    if (p.truncated && last_of_group) {
      auto end = std::min(input.find('\n', line_start), input.size());
      EXPECT(end - line_start > limits.max_pending_bytes);
    }
    offset += bytes.size();
    if (ends_line)
      line_start = offset;
  }
  if (!ps.empty() && ps.back().chunk_index + 1 != ps.back().total_chunks)
    return "the last group is incomplete";
  return {};
}

#undef EXPECT

// -- random input
// -----------------------------------------------------------------

/// Random output of a child: text, newlines, every length of character,
/// invalid bytes and truncated sequences, and long lines.
std::string random_output(std::mt19937& rng, std::size_t max_len) {
  static const std::string_view atoms[] = {"a",
                                           "word ",
                                           "\n",
                                           "\n",
                                           "\r\n",
                                           "\t",
                                           "\"\\",
                                           "\xC3\xA9",
                                           "\xE2\x82\xAC",
                                           "\xF0\x9F\x98\x80",
                                           "\xF0\x9F\x91\x8D",
                                           "\xEF\xBF\xBF",
                                           "\xFF",
                                           "\x80",
                                           "\xC3",
                                           "\xE2\x82",
                                           "\xF0\x9F\x98",
                                           "\xC0\xAF",
                                           "\xED\xA0\x80",
                                           "\xF4\x90\x80\x80",
                                           std::string_view{"\0", 1}};
  std::uniform_int_distribution<std::size_t> pick(0, std::size(atoms));
  std::uniform_int_distribution<std::size_t> len(0, max_len);
  std::uniform_int_distribution<std::size_t> run(1, 60);
  std::string s;
  auto target = len(rng);
  while (s.size() < target) {
    auto k = pick(rng);
    if (k == std::size(atoms))
      s.append(run(rng), 'x'); // a long run of text
    else
      s += atoms[k];
  }
  return s;
}

std::vector<std::size_t> random_cuts(std::mt19937& rng, std::size_t size) {
  std::uniform_int_distribution<std::size_t> n(1, 1 + size / 3);
  std::vector<std::size_t> cuts;
  for (std::size_t total = 0; total < size;) {
    cuts.push_back(n(rng));
    total += cuts.back();
  }
  return cuts;
}

framer_limits random_limits(std::mt19937& rng, int i) {
  framer_limits limits;
  if (i % 10 == 0)
    return limits; // the protocol's defaults
  std::uniform_int_distribution<std::size_t> line(1, 10);
  std::uniform_int_distribution<std::size_t> chunk(1, 10);
  std::uniform_int_distribution<std::size_t> pending(1, 30);
  limits.max_line_chars = line(rng);
  limits.max_chunk_bytes = chunk(rng);
  limits.max_pending_bytes = pending(rng);
  return limits;
}

/// True when no line of `input` holds more than `bound` bytes.
bool lines_within(std::string_view input, std::size_t bound) {
  std::size_t start = 0;
  while (start < input.size()) {
    auto nl = input.find('\n', start);
    auto end = nl == input.npos ? input.size() : nl;
    if (end - start > bound)
      return false;
    start = end + 1;
  }
  return true;
}

bool same(const output_piece& a, const output_piece& b) {
  return a.data == b.data && a.base64 == b.base64 &&
         a.truncated == b.truncated && a.chunk_index == b.chunk_index &&
         a.total_chunks == b.total_chunks;
}

} // namespace

BOOST_AUTO_TEST_SUITE(protocol_framer)

// -- lines mode
// -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(one_piece_per_line_keeping_newlines) {
  auto ps = run(framing_mode::lines, "a\nbc\n\nd\r\n");
  BOOST_REQUIRE(ps.size() == 4u);
  BOOST_TEST(ps[0].data == "a\n");
  BOOST_TEST(ps[1].data == "bc\n");
  BOOST_TEST(ps[2].data == "\n");
  BOOST_TEST(ps[3].data == "d\r\n");
  for (const auto& p : ps) {
    BOOST_TEST(!p.base64);
    BOOST_TEST(!p.truncated);
    BOOST_TEST(p.chunk_index == 0u);
    BOOST_TEST(p.total_chunks == 1u);
  }
}

BOOST_AUTO_TEST_CASE(lines_wait_for_their_newline) {
  output_framer f{framing_mode::lines};
  pieces out;
  f.feed("hel", out);
  BOOST_TEST(out.empty());
  BOOST_TEST(f.pending() == 3u);
  f.feed("lo\nwor", out);
  BOOST_REQUIRE(out.size() == 1u);
  BOOST_TEST(out[0].data == "hello\n");
  BOOST_TEST(f.pending() == 3u);
  f.feed("ld\nnext", out);
  BOOST_REQUIRE(out.size() == 2u);
  BOOST_TEST(out[1].data == "world\n");
  f.finish(out);
  BOOST_REQUIRE(out.size() == 3u);
  BOOST_TEST(out[2].data == "next"); // the last line may lack "\n"
  BOOST_TEST(!out[2].truncated);
  BOOST_TEST(f.pending() == 0u);
}

BOOST_AUTO_TEST_CASE(nothing_in_nothing_out) {
  output_framer f{framing_mode::lines};
  pieces out;
  f.feed("", out);
  f.finish(out);
  BOOST_TEST(out.empty());
  output_framer g{framing_mode::chunks};
  g.feed("", out);
  g.finish(out);
  BOOST_TEST(out.empty());
}

BOOST_AUTO_TEST_CASE(long_line_150000_chars_default_limits) {
  std::string line(150000, 'x');
  line += '\n';
  auto ps = run(framing_mode::lines, line);
  BOOST_REQUIRE(ps.size() == 3u);
  BOOST_TEST(ps[0].data.size() == 65536u);
  BOOST_TEST(ps[1].data.size() == 65536u);
  BOOST_TEST(ps[2].data.size() == 18928u + 1u);
  BOOST_TEST(ps[2].data.back() == '\n');
  BOOST_TEST(ps[0].truncated);
  BOOST_TEST(ps[1].truncated);
  BOOST_TEST(!ps[2].truncated);
  for (std::uint32_t i = 0; i < 3; ++i) {
    BOOST_TEST(ps[i].chunk_index == i);
    BOOST_TEST(ps[i].total_chunks == 3u);
  }
  BOOST_TEST(concat(ps) == line);
  // The same in 4 KiB reads.
  std::vector<std::size_t> reads(40, 4096);
  auto again = run(framing_mode::lines, line, reads);
  BOOST_REQUIRE(again.size() == 3u);
  for (std::size_t i = 0; i < 3; ++i)
    BOOST_TEST(same(again[i], ps[i]));
}

BOOST_AUTO_TEST_CASE(the_newline_counts_toward_the_limit) {
  framer_limits limits;
  limits.max_line_chars = 5;
  auto ps = run(framing_mode::lines, "1234\n12345\n", {}, limits);
  BOOST_REQUIRE(ps.size() == 3u);
  BOOST_TEST(ps[0].data == "1234\n");
  BOOST_TEST(ps[0].total_chunks == 1u);
  BOOST_TEST(ps[1].data == "12345");
  BOOST_TEST(ps[1].truncated);
  BOOST_TEST(ps[2].data == "\n");
  BOOST_TEST(ps[2].total_chunks == 2u);
  BOOST_TEST(!ps[2].truncated);
}

BOOST_AUTO_TEST_CASE(lines_split_by_characters_not_bytes) {
  framer_limits limits;
  limits.max_line_chars = 4;
  // Five 2-byte characters, an emoji and the newline: 7 characters.
  auto ps = run(framing_mode::lines,
                "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xF0\x9F\x98\x80\n",
                {}, limits);
  BOOST_REQUIRE(ps.size() == 2u);
  BOOST_TEST(ps[0].data == "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9");
  BOOST_TEST(ps[1].data == "\xC3\xA9\xF0\x9F\x98\x80\n");
  BOOST_TEST(ps[0].truncated);
  BOOST_TEST(!ps[1].truncated);
}

BOOST_AUTO_TEST_CASE(invalid_line_goes_out_as_base64) {
  auto ps = run(framing_mode::lines, "ok\nbad \xFF\xFE\nok2\n");
  BOOST_REQUIRE(ps.size() == 3u);
  BOOST_TEST(!ps[0].base64);
  BOOST_TEST(ps[1].base64);
  BOOST_TEST(ps[1].data == base64_encode("bad \xFF\xFE\n"));
  BOOST_TEST(piece_bytes(ps[1]) == "bad \xFF\xFE\n");
  BOOST_TEST(ps[1].raw_size() == 7u);
  BOOST_TEST(!ps[2].base64);
}

BOOST_AUTO_TEST_CASE(character_split_across_reads_is_joined) {
  output_framer f{framing_mode::lines};
  pieces out;
  f.feed("caf\xC3", out);
  f.feed("\xA9\n", out);
  BOOST_REQUIRE(out.size() == 1u);
  BOOST_TEST(out[0].data == "caf\xC3\xA9\n");
  BOOST_TEST(!out[0].base64);
}

BOOST_AUTO_TEST_CASE(truncated_character_at_the_end_is_kept_as_base64) {
  auto ps = run(framing_mode::lines, "end\xF0\x9F\x98");
  BOOST_REQUIRE(ps.size() == 1u);
  BOOST_TEST(ps[0].base64);
  BOOST_TEST(piece_bytes(ps[0]) == "end\xF0\x9F\x98");
}

BOOST_AUTO_TEST_CASE(unterminated_line_is_flushed_in_bounded_groups) {
  framer_limits limits;
  limits.max_line_chars = 7;
  limits.max_pending_bytes = 20;
  output_framer f{framing_mode::lines, limits};
  pieces out;
  f.feed(std::string(25, 'x'), out);
  // Whole pieces of 7 characters go; the rest waits for more.
  BOOST_REQUIRE(out.size() == 3u);
  for (std::uint32_t i = 0; i < 3; ++i) {
    BOOST_TEST(out[i].data == "xxxxxxx");
    BOOST_TEST(out[i].truncated); // every piece: the line goes on
    BOOST_TEST(out[i].chunk_index == i);
    BOOST_TEST(out[i].total_chunks == 3u);
  }
  BOOST_TEST(f.pending() == 4u);
  f.feed("yy\n", out);
  BOOST_REQUIRE(out.size() == 4u);
  BOOST_TEST(out[3].data == "xxxxyy\n");
  BOOST_TEST(!out[3].truncated);
  BOOST_TEST(out[3].chunk_index == 0u);
  BOOST_TEST(out[3].total_chunks == 1u);
}

BOOST_AUTO_TEST_CASE(pending_flush_keeps_an_incomplete_character) {
  framer_limits limits;
  limits.max_line_chars = 100;
  limits.max_pending_bytes = 4;
  output_framer f{framing_mode::lines, limits};
  pieces out;
  f.feed("abcde\xF0\x9F", out);
  BOOST_REQUIRE(out.size() == 1u);
  BOOST_TEST(out[0].data == "abcde");
  BOOST_TEST(out[0].truncated);
  BOOST_TEST(f.pending() == 2u);
  f.feed("\x98\x80\n", out);
  BOOST_REQUIRE(out.size() == 2u);
  BOOST_TEST(out[1].data == "\xF0\x9F\x98\x80\n");
}

BOOST_AUTO_TEST_CASE(endless_line_keeps_memory_bounded) {
  // 16 MiB without a newline, in 64 KiB reads, default limits.
  framer_limits limits;
  output_framer f{framing_mode::lines, limits};
  std::string read(65536, 'y');
  pieces out;
  std::size_t bytes = 0;
  for (int i = 0; i < 256; ++i) {
    f.feed(read, out);
    BOOST_TEST(f.pending() <= limits.max_pending_bytes + read.size());
    for (const auto& p : out) {
      BOOST_TEST(p.truncated);
      BOOST_TEST(p.data.size() == limits.max_line_chars);
      bytes += p.data.size();
    }
    out.clear();
  }
  f.feed("\n", out);
  for (const auto& p : out)
    bytes += p.data.size();
  BOOST_TEST(!out.back().truncated);
  BOOST_TEST(bytes == 256u * 65536u + 1u);
}

// -- chunks mode
// ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(chunks_emit_what_is_available) {
  output_framer f{framing_mode::chunks};
  pieces out;
  f.feed("abc", out);
  BOOST_REQUIRE(out.size() == 1u);
  BOOST_TEST(out[0].data == "abc");
  f.feed("line\nmore", out);
  BOOST_REQUIRE(out.size() == 2u);
  BOOST_TEST(out[1].data == "line\nmore");
  BOOST_TEST(f.pending() == 0u);
  f.finish(out);
  BOOST_TEST(out.size() == 2u);
}

BOOST_AUTO_TEST_CASE(chunks_obey_the_size_limit) {
  std::string big(200000, 'z');
  auto ps = run(framing_mode::chunks, big);
  BOOST_REQUIRE(ps.size() == 4u);
  BOOST_TEST(ps[0].data.size() == 65536u);
  BOOST_TEST(ps[1].data.size() == 65536u);
  BOOST_TEST(ps[2].data.size() == 65536u);
  BOOST_TEST(ps[3].data.size() == 200000u - 3u * 65536u);
  for (const auto& p : ps) {
    BOOST_TEST(!p.truncated);
    BOOST_TEST(p.chunk_index == 0u);
    BOOST_TEST(p.total_chunks == 1u);
  }
}

BOOST_AUTO_TEST_CASE(chunks_never_split_a_character) {
  framer_limits limits;
  limits.max_chunk_bytes = 5;
  auto ps = run(framing_mode::chunks, "abcd\xE2\x82\xAC", {}, limits);
  BOOST_REQUIRE(ps.size() == 2u);
  BOOST_TEST(ps[0].data == "abcd");
  BOOST_TEST(ps[1].data == "\xE2\x82\xAC");
}

BOOST_AUTO_TEST_CASE(chunks_hold_back_a_character_across_reads) {
  output_framer f{framing_mode::chunks};
  pieces out;
  f.feed("a\xF0\x9F", out);
  BOOST_REQUIRE(out.size() == 1u);
  BOOST_TEST(out[0].data == "a");
  BOOST_TEST(f.pending() == 2u);
  f.feed("\x98", out);
  BOOST_TEST(out.size() == 1u);
  BOOST_TEST(f.pending() == 3u);
  f.feed("\x80"
         "b",
         out);
  BOOST_REQUIRE(out.size() == 2u);
  BOOST_TEST(out[1].data == "\xF0\x9F\x98\x80"
                            "b");
  BOOST_TEST(!out[1].base64);
}

BOOST_AUTO_TEST_CASE(chunks_flush_an_incomplete_character_at_the_end) {
  output_framer f{framing_mode::chunks};
  pieces out;
  f.feed("ab\xE2\x82", out);
  BOOST_REQUIRE(out.size() == 1u);
  f.finish(out);
  BOOST_REQUIRE(out.size() == 2u);
  BOOST_TEST(out[1].base64);
  BOOST_TEST(piece_bytes(out[1]) == "\xE2\x82");
  BOOST_TEST(f.pending() == 0u);
}

BOOST_AUTO_TEST_CASE(chunks_send_invalid_bytes_as_base64) {
  auto ps = run(framing_mode::chunks, "\xFF\xFE\x00 binary"s);
  BOOST_REQUIRE(ps.size() == 1u);
  BOOST_TEST(ps[0].base64);
  BOOST_TEST(piece_bytes(ps[0]) == "\xFF\xFE\x00 binary"s);
}

BOOST_AUTO_TEST_CASE(tiny_chunk_limit_still_holds_one_character) {
  framer_limits limits;
  limits.max_chunk_bytes = 1; // raised to 4: a character must fit
  auto ps = run(framing_mode::chunks, "\xF0\x9F\x98\x80z", {}, limits);
  BOOST_REQUIRE(ps.size() == 2u);
  BOOST_TEST(ps[0].data == "\xF0\x9F\x98\x80");
  BOOST_TEST(ps[1].data == "z");
}

// -- pieces
// -----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(raw_size_and_piece_bytes) {
  output_piece text;
  text.data = "h\xC3\xA9";
  BOOST_TEST(text.raw_size() == 3u);
  BOOST_TEST(piece_bytes(text) == "h\xC3\xA9");
  for (std::string bytes :
       {"\xFF"s, "\xFF\xFE"s, "\xFF\xFE\xFD"s, "\xFF\xFE\xFD\xFC"s}) {
    output_piece b;
    b.base64 = true;
    b.data = base64_encode(bytes);
    BOOST_TEST(b.raw_size() == bytes.size());
    BOOST_TEST(piece_bytes(b) == bytes);
  }
}

// -- properties
// -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(random_streams_round_trip_in_both_modes) {
  constexpr int cases = 10000;
  for (int i = 0; i < cases; ++i) {
    std::mt19937 rng{static_cast<std::mt19937::result_type>(1000 + i)};
    auto limits = random_limits(rng, i);
    auto input = random_output(rng, i % 50 == 0 ? 3000 : 200);
    auto cuts = random_cuts(rng, input.size());
    BOOST_TEST_CONTEXT("case " << i << ", line " << limits.max_line_chars
                               << ", chunk " << limits.max_chunk_bytes
                               << ", pending " << limits.max_pending_bytes) {
      output_framer chunker{framing_mode::chunks, limits};
      pieces chunks;
      std::size_t pos = 0;
      for (auto n : cuts) {
        n = std::min(n, input.size() - pos);
        chunker.feed(std::string_view{input}.substr(pos, n), chunks);
        pos += n;
        // At most an incomplete character is held back.
        if (chunker.pending() > 3u)
          BOOST_TEST(chunker.pending() <= 3u);
      }
      chunker.finish(chunks);
      auto violation = check_chunks(input, chunks, limits);
      BOOST_TEST(violation.empty(), "chunks: " << violation);

      auto lines = run(framing_mode::lines, input, cuts, limits);
      violation = check_lines(input, lines, limits);
      BOOST_TEST(violation.empty(), "lines: " << violation);
      // Without overlong lines the pieces do not depend on the reads.
      if (lines_within(input, limits.max_pending_bytes)) {
        auto whole = run(framing_mode::lines, input, {}, limits);
        BOOST_TEST(
            (whole.size() == lines.size() &&
             std::equal(whole.begin(), whole.end(), lines.begin(), same)));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(lines_mode_pending_stays_bounded) {
  for (int i = 0; i < 2000; ++i) {
    std::mt19937 rng{static_cast<std::mt19937::result_type>(77 + i)};
    auto limits = random_limits(rng, i + 1);
    auto input = random_output(rng, 400);
    output_framer f{framing_mode::lines, limits};
    pieces out;
    std::size_t pos = 0;
    for (auto n : random_cuts(rng, input.size())) {
      n = std::min(n, input.size() - pos);
      f.feed(std::string_view{input}.substr(pos, n), out);
      pos += n;
      // The bound plus less than one piece plus an incomplete character.
      BOOST_TEST(f.pending() <=
                 limits.max_pending_bytes + 4 * limits.max_line_chars + 3);
      // Only the unterminated tail is ever held.
      auto fed = std::string_view{input}.substr(0, pos);
      auto last_nl = fed.rfind('\n');
      auto tail = last_nl == fed.npos ? pos : pos - last_nl - 1;
      BOOST_TEST(f.pending() <= tail);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
