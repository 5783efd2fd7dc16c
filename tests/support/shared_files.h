// Locates ../shared (the specs beside the project) for tests, and reads the
// golden frames file. Tests run from the build tree; meson passes the
// source root and shared dir in the environment.
#pragma once

#include <string>
#include <vector>

namespace bentos::test {

// The shared/ directory: $BENTOS_SHARED_DIR, else <source root>/../shared.
std::string shared_dir();

std::string read_file(const std::string& path);

struct GoldenFrame {
  std::string name;
  std::string bytes;  // the whole frame, decoded from hex
  std::string meaning;
};

// Parses spec/golden-frames.tsv; '#' lines are comments.
std::vector<GoldenFrame> load_golden_frames();

std::string hex_to_bytes(const std::string& hex);
std::string bytes_to_hex(const std::string& bytes);

}  // namespace bentos::test
