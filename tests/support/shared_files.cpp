#include "shared_files.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace bentos::test {

std::string shared_dir() {
  if (const char* dir = std::getenv("BENTOS_SHARED_DIR"); dir && *dir) return dir;
  if (const char* src = std::getenv("BENTOS_SOURCE_DIR"); src && *src) return std::string(src) + "/../shared";
  return "../shared";
}

std::string test_data_dir() {
  if (const char* src = std::getenv("BENTOS_SOURCE_DIR"); src && *src) return std::string(src) + "/tests/data";
  return "tests/data";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string hex_to_bytes(const std::string& hex) {
  if (hex.size() % 2 != 0) throw std::runtime_error("odd-length hex: " + hex);
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string bytes_to_hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::vector<GoldenFrame> load_golden_frames(const std::string& path) {
  std::istringstream in(read_file(path));
  std::vector<GoldenFrame> frames;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto tab1 = line.find('\t');
    const auto tab2 = line.find('\t', tab1 + 1);
    if (tab1 == std::string::npos || tab2 == std::string::npos) throw std::runtime_error("bad golden line: " + line);
    frames.push_back({line.substr(0, tab1), hex_to_bytes(line.substr(tab1 + 1, tab2 - tab1 - 1)), line.substr(tab2 + 1)});
  }
  return frames;
}

}  // namespace bentos::test
