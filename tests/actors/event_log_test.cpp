#define BOOST_TEST_MODULE actors_event_log
#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "actors/event_log.hpp"

using namespace actorexec;
using protocol::stream_kind;

namespace {

protocol::output_piece text(std::string data) {
  protocol::output_piece p;
  p.data = std::move(data);
  return p;
}

retained_event rare(event_kind kind) {
  retained_event ev;
  ev.kind = kind;
  return ev;
}

/// Encodes rare events as a small JSON object naming kind, seq and gap.
std::string encode_rare(const retained_event& ev, std::uint64_t seq) {
  boost::json::object o{{"kind", static_cast<int>(ev.kind)},
                        {"seq", seq},
                        {"gap_bytes", ev.gap_bytes},
                        {"gap_frames", ev.gap_frames}};
  return boost::json::serialize(o);
}

struct fixture {
  event_log log;
  std::uint64_t last_seq = 0;

  /// Sends every unsent event; returns their frames.
  std::vector<std::string> send_all() {
    std::vector<std::string> frames;
    while (!log.caught_up())
      log.resend(frames.emplace_back());
    while (log.has_unsent())
      log.send_unsent(++last_seq, encode_rare, frames.emplace_back());
    return frames;
  }

  /// Drops the oldest unsent output event alone; returns its raw bytes.
  std::optional<std::uint64_t> drop_one() {
    std::size_t asked = 0;
    auto d = log.drop_oldest_unsent(
        [&asked](std::uint64_t, std::size_t) { return asked++ == 0; });
    if (d.frames == 0)
      return std::nullopt;
    return d.raw;
  }

  static boost::json::object params(const std::string& frame) {
    auto v = boost::json::parse(frame).as_object();
    if (v.contains("params"))
      return v["params"].as_object();
    return v; // a rare event from encode_rare
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(event_log_tests, fixture)

BOOST_AUTO_TEST_CASE(output_is_encoded_once_with_consecutive_seqs) {
  log.push_output(stream_kind::out, text("one\n"));
  log.push_output(stream_kind::err, text("two\n"));
  BOOST_TEST(log.size() == 2u);
  BOOST_TEST(log.sent_count() == 0u);
  auto frames = send_all();
  BOOST_REQUIRE(frames.size() == 2u);
  auto p0 = params(frames[0]), p1 = params(frames[1]);
  BOOST_TEST(p0["data"].as_string() == "one\n");
  BOOST_TEST(p0["type"].as_string() == "stdout");
  BOOST_TEST(p0["seq"].as_int64() == 1);
  BOOST_TEST(p1["type"].as_string() == "stderr");
  BOOST_TEST(p1["seq"].as_int64() == 2);
  BOOST_TEST(log.first_seq() == 1u);
  BOOST_TEST(log.sent_count() == 2u);
  BOOST_TEST(!log.has_unsent());
}

BOOST_AUTO_TEST_CASE(resend_reproduces_every_frame_exactly) {
  auto split = text("long");
  split.truncated = true;
  split.chunk_index = 3;
  split.total_chunks = 7;
  auto binary = text("AAE=");
  binary.base64 = true;
  log.push_output(stream_kind::out, text("a \"quoted\"\tline\n"));
  log.push_rare(rare(event_kind::started));
  log.push_output(stream_kind::out, split);
  log.push_output(stream_kind::err, binary);
  auto first = send_all();
  log.rewind_all();
  BOOST_TEST(log.send_index() == 0u);
  auto again = send_all();
  BOOST_TEST(again == first, boost::test_tools::per_element());
  auto p2 = params(first[2]);
  BOOST_TEST(p2["chunk_index"].as_int64() == 3);
  BOOST_TEST(p2["total_chunks"].as_int64() == 7);
  BOOST_TEST(p2["truncated"].as_bool());
  BOOST_TEST(params(first[3])["encoding"].as_string() == "base64");
}

BOOST_AUTO_TEST_CASE(sizes_and_produced_bytes) {
  auto binary = text("AAE="); // two bytes
  binary.base64 = true;
  auto padded = text("AA=="); // one byte
  padded.base64 = true;
  log.push_output(stream_kind::out, text("12345\n"));
  log.push_output(stream_kind::out, binary);
  log.push_output(stream_kind::out, padded);
  log.push_rare(rare(event_kind::paused));
  auto frames = send_all();
  BOOST_TEST(log.front().frame_size == frames[0].size());
  BOOST_TEST(log.front().raw_size == 6u);
  BOOST_TEST(*log.produced_through(1) == 6u);
  BOOST_TEST(*log.produced_through(2) == 8u);
  BOOST_TEST(*log.produced_through(3) == 9u);
  BOOST_TEST(*log.produced_through(4) == 9u); // a process event carries none
  BOOST_TEST(!log.produced_through(5));
  BOOST_TEST(!log.produced_through(0));
  log.pop_front();
  BOOST_TEST(log.first_seq() == 2u);
  BOOST_TEST(log.front().raw_size == 2u);
  BOOST_TEST(*log.produced_through(3) == 9u);
  BOOST_TEST(!log.produced_through(1));
}

BOOST_AUTO_TEST_CASE(written_cursor_follows_frame_sizes) {
  for (int i = 0; i < 5; ++i)
    log.push_output(stream_kind::out, text(std::to_string(i) + "\n"));
  auto frames = send_all();
  BOOST_TEST(log.send_index() == 5u);
  BOOST_TEST(log.written_index() == 0u);
  // Bytes short of a whole frame move nothing.
  BOOST_TEST(log.advance_written(frames[0].size() - 1) == 0u);
  BOOST_TEST(log.written_index() == 0u);
  BOOST_TEST(log.advance_written(frames[0].size() + frames[1].size() + 1) ==
             frames[0].size() + frames[1].size());
  BOOST_TEST(log.advance_written(frames[2].size()) == frames[2].size());
  BOOST_TEST(log.written_index() == 3u);
  // A lost connection: the two unwritten events go again, nothing else.
  log.rewind_send_to_written();
  auto again = send_all();
  BOOST_REQUIRE(again.size() == 2u);
  BOOST_TEST(again[0] == frames[3]);
  BOOST_TEST(again[1] == frames[4]);
  // Popping written events moves both cursors down.
  log.pop_front();
  BOOST_TEST(log.written_index() == 2u);
  BOOST_TEST(log.send_index() == 4u);
  BOOST_TEST(log.advance_written(frames[3].size()) == frames[3].size());
  BOOST_TEST(log.written_index() == 3u);
  // Nothing past the send cursor is written, whatever the bytes say.
  BOOST_TEST(log.advance_written(1u << 20) == frames[4].size());
  BOOST_TEST(log.written_index() == 4u);
}

BOOST_AUTO_TEST_CASE(popping_past_a_cursor_moves_it_to_the_front) {
  log.push_output(stream_kind::out, text("a\n"));
  log.push_rare(rare(event_kind::started));
  log.push_output(stream_kind::out, text("b\n"));
  auto frames = send_all();
  log.rewind_all(); // a new connection; the client acks before we resend
  log.pop_front();
  log.pop_front();
  BOOST_TEST(log.send_index() == 0u);
  auto again = send_all();
  BOOST_REQUIRE(again.size() == 1u);
  BOOST_TEST(again[0] == frames[2]);
  log.pop_front();
  BOOST_TEST(log.empty());
  BOOST_TEST(log.first_seq() == 0u);
  // An emptied log goes on with the next seq.
  log.push_output(stream_kind::out, text("c\n"));
  auto next = send_all();
  BOOST_TEST(params(next[0])["seq"].as_int64() == 4);
  BOOST_TEST(log.first_seq() == 4u);
}

BOOST_AUTO_TEST_CASE(process_events_stay_matched_across_pops) {
  log.push_rare(rare(event_kind::started));
  log.push_output(stream_kind::out, text("a\n"));
  log.push_rare(rare(event_kind::paused));
  auto frames = send_all();
  log.advance_written(frames[0].size() + frames[1].size());
  BOOST_TEST(log.written_index() == 2u);
  log.pop_front(); // `started`, behind both cursors
  log.push_rare(rare(event_kind::resumed));
  auto next = send_all();
  BOOST_REQUIRE(next.size() == 1u);
  BOOST_TEST(params(next[0])["kind"].as_int64() ==
             static_cast<int>(event_kind::resumed));
  BOOST_TEST(params(next[0])["seq"].as_int64() == 4);
  // The unwritten `paused` and `resumed` go again after a lost connection.
  log.rewind_send_to_written();
  auto again = send_all();
  BOOST_REQUIRE(again.size() == 2u);
  BOOST_TEST(again[0] == frames[2]);
  BOOST_TEST(again[1] == next[0]);
}

BOOST_AUTO_TEST_CASE(drop_oldest_turns_unsent_output_into_one_gap) {
  log.push_output(stream_kind::out, text("sent\n"));
  send_all();
  log.push_output(stream_kind::out, text("aa\n"));
  log.push_output(stream_kind::out, text("bbb\n"));
  log.push_output(stream_kind::err, text("e\n"));
  log.push_output(stream_kind::out, text("kept\n"));
  BOOST_TEST(*drop_one() == 3u);
  BOOST_TEST(*drop_one() == 4u); // merges into the gap
  BOOST_TEST(log.size() == 4u);
  BOOST_TEST(*drop_one() == 2u); // stderr: a gap of its own
  BOOST_TEST(log.size() == 4u);
  auto frames = send_all();
  BOOST_REQUIRE(frames.size() == 3u);
  auto gap = params(frames[0]);
  BOOST_TEST(gap["kind"].as_int64() == static_cast<int>(event_kind::gap));
  BOOST_TEST(gap["gap_bytes"].as_int64() == 7);
  BOOST_TEST(gap["gap_frames"].as_int64() == 2);
  BOOST_TEST(gap["seq"].as_int64() == 2);
  BOOST_TEST(params(frames[1])["gap_bytes"].as_int64() == 2);
  BOOST_TEST(params(frames[2])["data"].as_string() == "kept\n");
  BOOST_TEST(params(frames[2])["seq"].as_int64() == 4);
  // The gaps stand for what was dropped.
  BOOST_TEST(*log.produced_through(4) == 5u + 7u + 2u + 5u);
  // Sent events are never dropped.
  BOOST_TEST(!drop_one());
}

BOOST_AUTO_TEST_CASE(long_payloads_are_kept_aside_and_behave_the_same) {
  std::string big(event_log::side_payload_bytes, 'x');
  log.push_output(stream_kind::out, text("short\n"));
  log.push_output(stream_kind::out, text(big));
  auto frames = send_all();
  BOOST_TEST(params(frames[1])["data"].as_string() == big);
  BOOST_TEST(params(frames[1])["seq"].as_int64() == 2);
  BOOST_TEST(log.advance_written(frames[0].size() + frames[1].size() - 1) ==
             frames[0].size());
  BOOST_TEST(log.advance_written(frames[1].size()) == frames[1].size());
  log.rewind_all();
  BOOST_TEST(send_all() == frames, boost::test_tools::per_element());
  auto gone = log.pop_front();
  BOOST_TEST(gone.event.raw_size == 6u);
  gone = log.pop_front();
  BOOST_TEST(gone.event.frame_size == frames[1].size());
  BOOST_TEST(gone.event.raw_size == big.size());
  BOOST_TEST(gone.produced_through == 6u + big.size());
  // Dropped long payloads become gaps and merge like short ones.
  log.push_output(stream_kind::err, text(big));
  log.push_output(stream_kind::out, text(big + "y"));
  log.push_output(stream_kind::out, text(big + "z"));
  BOOST_TEST(*drop_one() == big.size());
  BOOST_TEST(*drop_one() == big.size() + 1);
  BOOST_TEST(*drop_one() == big.size() + 1);
  BOOST_TEST(!drop_one());
  auto gaps = send_all();
  BOOST_REQUIRE(gaps.size() == 2u);
  BOOST_TEST(params(gaps[0])["gap_bytes"].as_int64() == 1024);
  BOOST_TEST(params(gaps[1])["gap_bytes"].as_int64() == 2050);
  BOOST_TEST(params(gaps[1])["gap_frames"].as_int64() == 2);
  BOOST_TEST(params(gaps[1])["seq"].as_int64() == 4);
  BOOST_TEST(*log.produced_through(4) == 6u + 1024u + 1024u + 2050u);
}

BOOST_AUTO_TEST_CASE(one_drop_takes_a_run_until_told_to_stop) {
  for (int i = 0; i < 5; ++i)
    log.push_output(stream_kind::out, text(std::to_string(i) + "\n"));
  log.push_output(stream_kind::err, text("e\n"));
  log.push_output(stream_kind::out, text("z\n"));
  std::vector<std::pair<std::uint64_t, std::size_t>> asked;
  auto d = log.drop_oldest_unsent([&](std::uint64_t raw, std::size_t removed) {
    asked.emplace_back(raw, removed);
    return raw < 4;
  });
  BOOST_TEST(d.frames == 2u);
  BOOST_TEST(d.raw == 4u);
  // Asked before each event: the new gap stands in for the first one.
  std::vector<std::pair<std::uint64_t, std::size_t>> expected{
      {0, 0}, {2, 0}, {4, 1}};
  BOOST_TEST(asked == expected);
  BOOST_TEST(log.size() == 6u);
  // The next drop grows that gap and stops where the stream changes.
  auto d2 =
      log.drop_oldest_unsent([](std::uint64_t, std::size_t) { return true; });
  BOOST_TEST(d2.frames == 3u);
  BOOST_TEST(d2.raw == 6u);
  BOOST_TEST(log.size() == 3u);
  auto frames = send_all();
  BOOST_REQUIRE(frames.size() == 3u);
  BOOST_TEST(params(frames[0])["gap_frames"].as_int64() == 5);
  BOOST_TEST(params(frames[0])["gap_bytes"].as_int64() == 10);
  BOOST_TEST(params(frames[1])["data"].as_string() == "e\n");
  BOOST_TEST(params(frames[2])["data"].as_string() == "z\n");
}

BOOST_AUTO_TEST_CASE(drop_skips_process_events) {
  log.push_rare(rare(event_kind::started));
  log.push_output(stream_kind::out, text("x\n"));
  BOOST_TEST(*drop_one() == 2u);
  auto frames = send_all();
  BOOST_REQUIRE(frames.size() == 2u);
  BOOST_TEST(params(frames[0])["kind"].as_int64() ==
             static_cast<int>(event_kind::started));
  BOOST_TEST(params(frames[1])["kind"].as_int64() ==
             static_cast<int>(event_kind::gap));
}

BOOST_AUTO_TEST_CASE(long_runs_keep_order_and_free_popped_records) {
  // Many pushes, sends, writes and pops interleaved, as a flood does.
  std::uint64_t next_line = 0, expect_line = 0;
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 50; ++i)
      log.push_output(stream_kind::out,
                      text(std::to_string(next_line++) + "\n"));
    send_all();
    log.advance_written(std::uint64_t{1} << 40);
    BOOST_TEST(log.written_index() == log.send_index());
    while (log.size() > 100) {
      log.pop_front();
      ++expect_line;
    }
  }
  log.rewind_all();
  auto frames = send_all();
  BOOST_REQUIRE(frames.size() == 100u);
  for (auto& f : frames)
    BOOST_TEST(params(f)["data"].as_string() ==
               std::to_string(expect_line++) + "\n");
}

BOOST_AUTO_TEST_SUITE_END()
