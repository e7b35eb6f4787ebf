// Questions we ask the kernel about a table: does it exist and who owns it, which chains does
// it have, what do its named counters say.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nft/model.h"
#include "nft/netlink_socket.h"

namespace ctnft {

struct TableInfo {
    bool exists = false;
    uint32_t flags = 0;
    uint32_t owner = 0;  // netlink port id of the owning socket when flags has the owner bit
};

struct ChainInfo {
    std::string name;
    bool base = false;  // has a hook
    uint32_t hook = 0;
    int32_t priority = 0;
    std::string type;
};

struct CounterValue {
    std::string name;
    uint64_t packets = 0;
    uint64_t bytes = 0;
};

Status get_table(NetlinkSocket& sock, Family family, const std::string& table, TableInfo& info);
Status list_chains(NetlinkSocket& sock, Family family, const std::string& table, std::vector<ChainInfo>& chains);

// Parses one NFT_MSG_NEWOBJ reply of a counter dump. Returns false for anything malformed or
// not a counter; on true, name points into the message.
bool parse_counter_message(const nlmsghdr* nlh, std::string_view& name, uint64_t& packets, uint64_t& bytes);

// Reads every named counter of one table with one dump on a reused request. A table the kernel
// does not have is reported as missing, which an empty dump alone cannot tell.
class CounterReader {
public:
    CounterReader(Family family, std::string table);
    // Fills values[0..count) reusing its storage; missing is set when the table is gone.
    Status read(NetlinkSocket& sock, std::vector<CounterValue>& values, std::size_t& count, bool& missing);
    // The low 16 bits of the nf_tables ruleset generation the last read saw (every dump reply
    // carries them), or nothing when it received no counter. Tells, for free, whether the
    // ruleset changed between two reads (a change of exactly a multiple of 65,536 generations
    // between two reads goes unseen).
    std::optional<uint16_t> generation() const { return generation_; }

private:
    std::optional<uint16_t> generation_;
    Family family_;
    std::string table_;
    std::vector<char> request_;
};

}  // namespace ctnft
