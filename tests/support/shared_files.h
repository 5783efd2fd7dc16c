// Test data: the golden frames kept in the tree (tests/data), and the
// project's ../shared folder where a developer checkout has one beside it
// (a user's clone does not: nothing may depend on it). Tests run from the
// build tree; meson passes the source root and shared dir in the
// environment.
#pragma once

#include <string>
#include <vector>

namespace bentos::test {

// The shared/ directory: $BENTOS_SHARED_DIR, else <source root>/../shared
// (it may not exist).
std::string shared_dir();
// tests/data in the source tree.
std::string test_data_dir();

std::string read_file(const std::string& path);

struct GoldenFrame {
  std::string name;
  std::string bytes;  // the whole frame, decoded from hex
  std::string meaning;
};

// Parses a golden-frames.tsv (default: tests/data's); '#' lines are comments.
std::vector<GoldenFrame> load_golden_frames(const std::string& path = test_data_dir() + "/golden-frames.tsv");

std::string hex_to_bytes(const std::string& hex);
std::string bytes_to_hex(const std::string& bytes);

}  // namespace bentos::test
