#pragma once
// A small reader for the subset of Python's pickle protocol (2..4) that
// `torch.save` emits for state dicts and checkpoints.  It knows nothing about
// torch itself: persistent ids and calls (REDUCE) are handed to callbacks, so
// the .pth reader decides what a storage or `_rebuild_tensor_v2` means.

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace deeplab::weights {

struct PickleValue;
using PickleRef = std::shared_ptr<PickleValue>;

/// One unpickled Python value; containers are shared so memo entries alias.
struct PickleValue {
  enum class Kind { None, Bool, Int, Float, String, Tuple, List, Dict, Global, Tensor };
  Kind kind = Kind::None;
  bool boolean = false;
  int64_t integer = 0;
  double real = 0.0;
  std::string text;                                   // String; Global as "module.name"
  std::vector<PickleRef> items;                       // Tuple, List
  std::vector<std::pair<PickleRef, PickleRef>> dict;  // Dict, in insertion order
  torch::Tensor tensor;                               // Tensor (also storages)

  static PickleRef none();
  static PickleRef of_bool(bool v);
  static PickleRef of_int(int64_t v);
  static PickleRef of_float(double v);
  static PickleRef of_string(std::string v);
  static PickleRef of_global(std::string qualified_name);
  static PickleRef of_tensor(torch::Tensor t);
  static PickleRef make(Kind kind);

  /// Python-like type name for error messages ("tuple", "str" ...).
  std::string type_name() const;
  /// The dict value under string key `key`, or nullptr.
  PickleRef find(const std::string& key) const;
};

/// Resolves a BINPERSID id (for torch: `('storage', type, key, location, numel)`).
using PersistentLoad = std::function<PickleRef(const PickleRef& pid)>;
/// Calls a GLOBAL with an argument tuple (REDUCE).
using ReduceCall = std::function<PickleRef(const std::string& global, const PickleRef& args)>;

/// Unpickles one object from `data`; errors name `source`, the opcode and offset.
class Unpickler {
 public:
  Unpickler(const char* data, size_t size, std::string source, PersistentLoad persistent_load, ReduceCall reduce);
  /// Runs until STOP and returns the top of the stack.
  PickleRef load();

 private:
  bool step();  // executes one opcode; false on STOP
  bool step_scalar(uint8_t op);
  bool step_container(uint8_t op);
  bool step_fill(uint8_t op);  // ops that fill dicts and lists
  bool step_memo(uint8_t op);
  bool step_object(uint8_t op);
  uint64_t read_uint(size_t n);
  std::string read_bytes(size_t n);
  std::string read_line();
  PickleRef pop();
  PickleRef& top();
  std::vector<PickleRef> pop_to_mark();
  void memo_put(uint64_t index);
  PickleRef memo_get(uint64_t index);
  void set_items(const PickleRef& dict, const std::vector<PickleRef>& kv);
  [[noreturn]] void fail(const std::string& what) const;

  const char* data_;
  size_t size_;
  size_t pos_ = 0;
  size_t op_pos_ = 0;
  std::string source_;
  PersistentLoad persistent_load_;
  ReduceCall reduce_;
  std::vector<PickleRef> stack_;
  std::vector<size_t> marks_;
  std::vector<PickleRef> memo_;
};

}  // namespace deeplab::weights
