// Owning pointers for libnftnl and libmnl objects: every one is freed on every path.
#pragma once

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

#include <memory>

namespace ctnft {

// libnftnl's free functions take const pointers in some versions and not in others.
template <auto Free>
struct FreeWith {
    template <typename T>
    void operator()(T* p) const { Free(p); }
};

using TablePtr = std::unique_ptr<nftnl_table, FreeWith<nftnl_table_free>>;
using ChainPtr = std::unique_ptr<nftnl_chain, FreeWith<nftnl_chain_free>>;
using RulePtr = std::unique_ptr<nftnl_rule, FreeWith<nftnl_rule_free>>;
using ExprPtr = std::unique_ptr<nftnl_expr, FreeWith<nftnl_expr_free>>;
using ObjPtr = std::unique_ptr<nftnl_obj, FreeWith<nftnl_obj_free>>;

struct MnlSocketClose {
    void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};
using MnlSocketPtr = std::unique_ptr<mnl_socket, MnlSocketClose>;

}  // namespace ctnft
