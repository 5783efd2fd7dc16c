// "Did you mean ...?" for misspelt manifest keys and command-line options.
//
// Pure functions; no thread affinity.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bentos::config {

// Edit distance counting insertions, deletions, substitutions and swaps of
// two adjacent characters as one edit each (the common typing mistakes).
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` when it is at most `max_distance` edits
// away (the first such candidate on a tie), or "" when none is that close.
std::string closest_match(std::string_view word, const std::vector<std::string_view>& candidates,
                          size_t max_distance = 2);

}  // namespace bentos::config
