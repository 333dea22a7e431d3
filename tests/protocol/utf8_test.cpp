#define BOOST_TEST_MODULE protocol_utf8
#include <boost/test/unit_test.hpp>

#include "protocol/utf8.hpp"

#include <random>
#include <string>
#include <string_view>

using namespace actorexec::protocol;
using namespace std::string_view_literals;

namespace {

/// A reference decoder, byte by byte, independent of the fast paths: the
/// length of the well-formed character at `s[i]`, or 0.
std::size_t reference_char_length(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](std::size_t k) {
    return k < s.size() && (b(k) & 0xC0) == 0x80;
  };
  unsigned c = b(i);
  if (c < 0x80)
    return 1;
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  for (std::size_t k = 1; k < n; ++k) {
    if (!cont(i + k))
      return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  static constexpr std::uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

bool reference_valid(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto n = reference_char_length(s, i);
    if (n == 0)
      return false;
    i += n;
  }
  return true;
}

std::size_t reference_length(std::string_view s) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < s.size(); ++count) {
    auto n = reference_char_length(s, i);
    i += n == 0 ? 1 : n;
  }
  return count;
}

/// Random bytes biased toward UTF-8 structure: ASCII runs, valid
/// characters of every length, stray lead and continuation bytes.
std::string random_bytes(std::mt19937& rng, std::size_t max_len) {
  static const std::string_view atoms[] = {"a",
                                           "hello world",
                                           "\n",
                                           "\xC3\xA9",
                                           "\xE2\x82\xAC",
                                           "\xF0\x9F\x98\x80",
                                           "\xED\x9F\xBF",
                                           "\xEF\xBF\xBF",
                                           "\xF4\x8F\xBF\xBF",
                                           "\x80",
                                           "\xBF",
                                           "\xC0\xAF",
                                           "\xC1",
                                           "\xE0\x80\x80",
                                           "\xED\xA0\x80",
                                           "\xF4\x90\x80\x80",
                                           "\xF5",
                                           "\xFF",
                                           "\xE2\x82",
                                           "\xF0\x9F",
                                           "\xF0\x9F\x98",
                                           "\xC3",
                                           "0123456789abcdef"};
  std::uniform_int_distribution<std::size_t> pick(0, std::size(atoms) - 1);
  std::uniform_int_distribution<std::size_t> len(0, max_len);
  std::string s;
  auto target = len(rng);
  while (s.size() < target)
    s += atoms[pick(rng)];
  return s;
}

} // namespace

BOOST_AUTO_TEST_SUITE(protocol_utf8)

BOOST_AUTO_TEST_CASE(valid_sequences) {
  BOOST_TEST(is_valid_utf8(""));
  BOOST_TEST(is_valid_utf8("plain ascii, longer than eight bytes"));
  BOOST_TEST(is_valid_utf8("caf\xC3\xA9"));
  BOOST_TEST(is_valid_utf8("\xE2\x82\xAC 10"));
  BOOST_TEST(is_valid_utf8("\xF0\x9F\x98\x80"));
  BOOST_TEST(is_valid_utf8("\xED\x9F\xBF"));     // U+D7FF, below surrogates
  BOOST_TEST(is_valid_utf8("\xEE\x80\x80"));     // U+E000, above surrogates
  BOOST_TEST(is_valid_utf8("\xF4\x8F\xBF\xBF")); // U+10FFFF
  BOOST_TEST(is_valid_utf8("\x7F"sv));
  BOOST_TEST(is_valid_utf8("a\0b"sv)); // NUL is a valid character
}

BOOST_AUTO_TEST_CASE(invalid_sequences) {
  BOOST_TEST(!is_valid_utf8("\x80"));             // lone continuation
  BOOST_TEST(!is_valid_utf8("\xC3"));             // truncated
  BOOST_TEST(!is_valid_utf8("\xC0\xAF"));         // overlong '/'
  BOOST_TEST(!is_valid_utf8("\xC1\xBF"));         // overlong
  BOOST_TEST(!is_valid_utf8("\xE0\x80\xAF"));     // overlong 3-byte
  BOOST_TEST(!is_valid_utf8("\xF0\x80\x80\xAF")); // overlong 4-byte
  BOOST_TEST(!is_valid_utf8("\xED\xA0\x80"));     // surrogate U+D800
  BOOST_TEST(!is_valid_utf8("\xED\xBF\xBF"));     // surrogate U+DFFF
  BOOST_TEST(!is_valid_utf8("\xF4\x90\x80\x80")); // above U+10FFFF
  BOOST_TEST(!is_valid_utf8("\xF5\x80\x80\x80"));
  BOOST_TEST(!is_valid_utf8("\xFE"));
  BOOST_TEST(!is_valid_utf8("\xFF"));
  BOOST_TEST(!is_valid_utf8("\xE2\x28\xA1"));
  BOOST_TEST(!is_valid_utf8("12345678\xC3"));         // after an ASCII block
  BOOST_TEST(!is_valid_utf8("abcdefghijklmnop\x80")); // after two blocks
}

BOOST_AUTO_TEST_CASE(complete_prefix_holds_back_incomplete_characters) {
  BOOST_TEST(utf8_complete_prefix("") == 0u);
  BOOST_TEST(utf8_complete_prefix("abc") == 3u);
  BOOST_TEST(utf8_complete_prefix("ab\xC3") == 2u);
  BOOST_TEST(utf8_complete_prefix("ab\xC3\xA9") == 4u);
  BOOST_TEST(utf8_complete_prefix("ab\xE2") == 2u);
  BOOST_TEST(utf8_complete_prefix("ab\xE2\x82") == 2u);
  BOOST_TEST(utf8_complete_prefix("ab\xE2\x82\xAC") == 5u);
  BOOST_TEST(utf8_complete_prefix("\xF0") == 0u);
  BOOST_TEST(utf8_complete_prefix("\xF0\x9F") == 0u);
  BOOST_TEST(utf8_complete_prefix("\xF0\x9F\x98") == 0u);
  BOOST_TEST(utf8_complete_prefix("\xF0\x9F\x98\x80") == 4u);
}

BOOST_AUTO_TEST_CASE(complete_prefix_does_not_hold_back_hopeless_bytes) {
  // These can never become a valid character: nothing to wait for.
  BOOST_TEST(utf8_complete_prefix("ab\x80") == 3u);
  BOOST_TEST(utf8_complete_prefix("ab\xFF") == 3u);
  BOOST_TEST(utf8_complete_prefix("ab\xC0") == 3u);
  BOOST_TEST(utf8_complete_prefix("ab\xE0\x80") == 4u); // overlong start
  BOOST_TEST(utf8_complete_prefix("ab\xED\xA0") == 4u); // surrogate start
  BOOST_TEST(utf8_complete_prefix("ab\xF4\x90") == 4u); // above U+10FFFF
  BOOST_TEST(utf8_complete_prefix("ab\xE2\x41") == 4u); // broken
  BOOST_TEST(utf8_complete_prefix("\x80\x80\x80") == 3u);
  BOOST_TEST(utf8_complete_prefix("\xF0\x9F\x98\x80\x80") == 5u);
}

BOOST_AUTO_TEST_CASE(boundary_before_never_splits_a_character) {
  std::string_view s = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z";
  // offsets: a=0, e-acute=1..2, euro=3..5, emoji=6..9, z=10
  BOOST_TEST(utf8_boundary_before(s, 0) == 0u);
  BOOST_TEST(utf8_boundary_before(s, 1) == 1u);
  BOOST_TEST(utf8_boundary_before(s, 2) == 1u);
  BOOST_TEST(utf8_boundary_before(s, 3) == 3u);
  BOOST_TEST(utf8_boundary_before(s, 4) == 3u);
  BOOST_TEST(utf8_boundary_before(s, 5) == 3u);
  BOOST_TEST(utf8_boundary_before(s, 6) == 6u);
  BOOST_TEST(utf8_boundary_before(s, 7) == 6u);
  BOOST_TEST(utf8_boundary_before(s, 8) == 6u);
  BOOST_TEST(utf8_boundary_before(s, 9) == 6u);
  BOOST_TEST(utf8_boundary_before(s, 10) == 10u);
  BOOST_TEST(utf8_boundary_before(s, 11) == 11u);
  BOOST_TEST(utf8_boundary_before(s, 99) == 11u);
}

BOOST_AUTO_TEST_CASE(boundary_before_falls_back_inside_invalid_data) {
  BOOST_TEST(utf8_boundary_before("\x80\x80\x80\x80", 2) == 2u);
  BOOST_TEST(utf8_boundary_before("a\xE2\x82z", 2) == 2u);
  BOOST_TEST(utf8_boundary_before("\xED\xA0\x80", 1) == 1u);
}

BOOST_AUTO_TEST_CASE(length_counts_characters_and_invalid_bytes) {
  BOOST_TEST(utf8_length("") == 0u);
  BOOST_TEST(utf8_length("abcdefghijklmnopq") == 17u);
  BOOST_TEST(utf8_length("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80") == 3u);
  BOOST_TEST(utf8_length("\x80\x80") == 2u);
  BOOST_TEST(utf8_length("\xE2\x82") == 2u); // truncated: two invalid bytes
  BOOST_TEST(utf8_length("a\xF0\x9F\x98\x80"
                         "bcdefghij") == 11u);
}

BOOST_AUTO_TEST_CASE(offset_of_char) {
  std::string_view s = "ab\xC3\xA9\xF0\x9F\x98\x80z";
  BOOST_TEST(utf8_offset_of_char(s, 0) == 0u);
  BOOST_TEST(utf8_offset_of_char(s, 2) == 2u);
  BOOST_TEST(utf8_offset_of_char(s, 3) == 4u);
  BOOST_TEST(utf8_offset_of_char(s, 4) == 8u);
  BOOST_TEST(utf8_offset_of_char(s, 5) == 9u);
  BOOST_TEST(utf8_offset_of_char(s, 6) == 9u);
  BOOST_TEST(utf8_offset_of_char("0123456789abcdefXYZ", 17) == 17u);
}

BOOST_AUTO_TEST_CASE(agrees_with_the_reference_decoder) {
  std::mt19937 rng{20240601};
  for (int i = 0; i < 5000; ++i) {
    auto s = random_bytes(rng, 40);
    BOOST_TEST_CONTEXT("case " << i) {
      BOOST_TEST(is_valid_utf8(s) == reference_valid(s));
      BOOST_TEST(utf8_length(s) == reference_length(s));
      auto end = utf8_complete_prefix(s);
      BOOST_TEST(s.size() - end <= 3u);
      // The held-back tail is a proper prefix of some valid character.
      if (end < s.size())
        BOOST_TEST(reference_char_length(s, end) == 0u);
      for (std::size_t pos = 0; pos <= s.size(); ++pos) {
        auto b = utf8_boundary_before(s, pos);
        BOOST_TEST(b <= pos);
        BOOST_TEST(pos - b <= 3u);
        // A cut moved back lands on the start of the character covering
        // pos; a cut left in place is covered by no character.
        if (b < pos)
          BOOST_TEST(reference_char_length(s, b) > pos - b);
        for (std::size_t k = pos >= 3 ? pos - 3 : 0; b == pos && k < pos; ++k)
          BOOST_TEST(reference_char_length(s, k) <= pos - k);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(boundaries_and_offsets_agree) {
  std::mt19937 rng{7};
  for (int i = 0; i < 2000; ++i) {
    auto s = random_bytes(rng, 60);
    auto n = utf8_length(s);
    std::size_t prev = 0;
    for (std::size_t k = 1; k <= n; ++k) {
      auto off = utf8_offset_of_char(s, k);
      BOOST_TEST(off > prev);
      // Every character boundary is its own boundary_before.
      BOOST_TEST(utf8_boundary_before(s, off) == off);
      prev = off;
    }
    BOOST_TEST(prev == s.size());
  }
}

BOOST_AUTO_TEST_SUITE_END()
