// The ruleset as nft syntax: what a user could load with `nft -f` to get the same table.
#pragma once

#include <string>

#include "nft/model.h"

namespace ctnft {

std::string render_nft(const RulesetSpec& spec);

}  // namespace ctnft
