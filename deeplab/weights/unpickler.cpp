#include "deeplab/weights/unpickler.h"

#include <cstring>
#include <iomanip>
#include <sstream>

#include "deeplab/core/error.h"

namespace deeplab::weights {
namespace {

// Opcode bytes of pickle protocols 2-4 (Lib/pickle.py names).
enum Op : uint8_t {
  kMark = '(',
  kStop = '.',
  kPop = '0',
  kPopMark = '1',
  kDup = '2',
  kNone = 'N',
  kBinInt = 'J',
  kBinInt1 = 'K',
  kBinInt2 = 'M',
  kBinFloat = 'G',
  kBinUnicode = 'X',
  kShortBinString = 'U',
  kBinString = 'T',
  kShortBinBytes = 'C',
  kBinBytes = 'B',
  kEmptyTuple = ')',
  kTuple = 't',
  kEmptyList = ']',
  kAppend = 'a',
  kAppends = 'e',
  kList = 'l',
  kEmptyDict = '}',
  kDict = 'd',
  kSetItem = 's',
  kSetItems = 'u',
  kBinPut = 'q',
  kLongBinPut = 'r',
  kBinGet = 'h',
  kLongBinGet = 'j',
  kGlobal = 'c',
  kReduce = 'R',
  kBuild = 'b',
  kBinPersId = 'Q',
  kProto = 0x80,
  kTuple1 = 0x85,
  kTuple2 = 0x86,
  kTuple3 = 0x87,
  kNewTrue = 0x88,
  kNewFalse = 0x89,
  kLong1 = 0x8a,
  kLong4 = 0x8b,
  kShortBinUnicode = 0x8c,
  kBinUnicode8 = 0x8d,
  kStackGlobal = 0x93,
  kMemoize = 0x94,
  kFrame = 0x95,
};

// Memo indices come from the pickler's counter; a huge one means corruption.
constexpr uint64_t kMaxMemo = uint64_t{1} << 26;

}  // namespace

PickleRef PickleValue::make(Kind kind) {
  auto v = std::make_shared<PickleValue>();
  v->kind = kind;
  return v;
}
PickleRef PickleValue::none() { return make(Kind::None); }
PickleRef PickleValue::of_bool(bool b) {
  auto v = make(Kind::Bool);
  v->boolean = b;
  return v;
}
PickleRef PickleValue::of_int(int64_t i) {
  auto v = make(Kind::Int);
  v->integer = i;
  return v;
}
PickleRef PickleValue::of_float(double d) {
  auto v = make(Kind::Float);
  v->real = d;
  return v;
}
PickleRef PickleValue::of_string(std::string s) {
  auto v = make(Kind::String);
  v->text = std::move(s);
  return v;
}
PickleRef PickleValue::of_global(std::string name) {
  auto v = make(Kind::Global);
  v->text = std::move(name);
  return v;
}
PickleRef PickleValue::of_tensor(torch::Tensor t) {
  auto v = make(Kind::Tensor);
  v->tensor = std::move(t);
  return v;
}

std::string PickleValue::type_name() const {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Global: return "global " + text;
    case Kind::Tensor: return "Tensor";
  }
  return "?";
}

PickleRef PickleValue::find(const std::string& key) const {
  for (const auto& [k, v] : dict) {
    if (k->kind == Kind::String && k->text == key) return v;
  }
  return nullptr;
}

Unpickler::Unpickler(const char* data, size_t size, std::string source, PersistentLoad persistent_load,
                     ReduceCall reduce)
    : data_(data),
      size_(size),
      source_(std::move(source)),
      persistent_load_(std::move(persistent_load)),
      reduce_(std::move(reduce)) {}

PickleRef Unpickler::load() {
  while (step()) {
  }
  if (stack_.empty()) fail("STOP with an empty stack");
  return stack_.back();
}

void Unpickler::fail(const std::string& what) const {
  throw IoError(source_ + ": pickle: " + what + " (opcode at offset " + std::to_string(op_pos_) + ")");
}

uint64_t Unpickler::read_uint(size_t n) {
  if (size_ - pos_ < n) fail("truncated data");
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
  pos_ += n;
  return v;
}

std::string Unpickler::read_bytes(size_t n) {
  if (size_ - pos_ < n) fail("truncated data");
  std::string s(data_ + pos_, n);
  pos_ += n;
  return s;
}

std::string Unpickler::read_line() {
  const void* nl = std::memchr(data_ + pos_, '\n', size_ - pos_);
  if (!nl) fail("unterminated text argument");
  const size_t n = static_cast<const char*>(nl) - (data_ + pos_);
  std::string s(data_ + pos_, n);
  pos_ += n + 1;
  return s;
}

PickleRef Unpickler::pop() {
  if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail("stack underflow");
  PickleRef v = std::move(stack_.back());
  stack_.pop_back();
  return v;
}

PickleRef& Unpickler::top() {
  if (stack_.empty()) fail("stack underflow");
  return stack_.back();
}

std::vector<PickleRef> Unpickler::pop_to_mark() {
  if (marks_.empty()) fail("no MARK on the stack");
  const size_t mark = marks_.back();
  marks_.pop_back();
  std::vector<PickleRef> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
  stack_.resize(mark);
  return items;
}

void Unpickler::memo_put(uint64_t index) {
  if (index >= kMaxMemo) fail("memo index " + std::to_string(index) + " is implausibly large");
  if (memo_.size() <= index) memo_.resize(index + 1);
  memo_[index] = top();
}

PickleRef Unpickler::memo_get(uint64_t index) {
  if (index >= memo_.size() || !memo_[index]) fail("memo index " + std::to_string(index) + " was never stored");
  return memo_[index];
}

void Unpickler::set_items(const PickleRef& dict, const std::vector<PickleRef>& kv) {
  if (dict->kind != PickleValue::Kind::Dict) fail("SETITEM(S) on a " + dict->type_name());
  if (kv.size() % 2 != 0) fail("SETITEMS with an odd number of items");
  for (size_t i = 0; i < kv.size(); i += 2) {
    const PickleRef& key = kv[i];
    bool replaced = false;
    if (key->kind == PickleValue::Kind::String) {
      for (auto& entry : dict->dict) {
        if (entry.first->kind == PickleValue::Kind::String && entry.first->text == key->text) {
          entry.second = kv[i + 1];  // Python dicts keep the first position, last value
          replaced = true;
        }
      }
    }
    if (!replaced) dict->dict.emplace_back(key, kv[i + 1]);
  }
}

bool Unpickler::step() {
  op_pos_ = pos_;
  const auto op = static_cast<uint8_t>(read_uint(1));
  if (op == kStop) return false;
  if (step_scalar(op) || step_container(op) || step_memo(op) || step_object(op)) return true;
  std::ostringstream hex;
  hex << "0x" << std::hex << std::setw(2) << std::setfill('0') << int(op);
  fail("unsupported opcode " + hex.str() +
       (op >= 0x20 && op < 0x7f ? " ('" + std::string(1, char(op)) + "')" : std::string()));
}

bool Unpickler::step_scalar(uint8_t op) {
  switch (op) {
    case kProto: read_uint(1); return true;
    case kFrame: read_uint(8); return true;  // framing is only a read-ahead hint
    case kNone: stack_.push_back(PickleValue::none()); return true;
    case kNewTrue: stack_.push_back(PickleValue::of_bool(true)); return true;
    case kNewFalse: stack_.push_back(PickleValue::of_bool(false)); return true;
    case kBinInt1: stack_.push_back(PickleValue::of_int(int64_t(read_uint(1)))); return true;
    case kBinInt2: stack_.push_back(PickleValue::of_int(int64_t(read_uint(2)))); return true;
    case kBinInt: stack_.push_back(PickleValue::of_int(int64_t(int32_t(uint32_t(read_uint(4)))))); return true;
    case kLong1:
    case kLong4: {
      const uint64_t n = read_uint(op == kLong1 ? 1 : 4);
      if (n > 8) fail("integer of " + std::to_string(n) + " bytes does not fit in int64");
      uint64_t v = read_uint(n);
      if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);  // sign-extend
      stack_.push_back(PickleValue::of_int(int64_t(v)));
      return true;
    }
    case kBinFloat: {
      uint64_t bits = 0;
      for (const char c : read_bytes(8)) bits = (bits << 8) | static_cast<uint8_t>(c);  // big-endian
      double d = 0;
      std::memcpy(&d, &bits, sizeof d);
      stack_.push_back(PickleValue::of_float(d));
      return true;
    }
    case kShortBinUnicode:
    case kShortBinString:
    case kShortBinBytes: stack_.push_back(PickleValue::of_string(read_bytes(read_uint(1)))); return true;
    case kBinUnicode:
    case kBinString:
    case kBinBytes: stack_.push_back(PickleValue::of_string(read_bytes(read_uint(4)))); return true;
    case kBinUnicode8: stack_.push_back(PickleValue::of_string(read_bytes(read_uint(8)))); return true;
    default: return false;
  }
}

bool Unpickler::step_container(uint8_t op) {
  using Kind = PickleValue::Kind;
  switch (op) {
    case kMark: marks_.push_back(stack_.size()); return true;
    case kPop: pop(); return true;
    case kPopMark: pop_to_mark(); return true;
    case kDup: stack_.push_back(top()); return true;
    case kEmptyTuple: stack_.push_back(PickleValue::make(Kind::Tuple)); return true;
    case kEmptyList: stack_.push_back(PickleValue::make(Kind::List)); return true;
    case kEmptyDict: stack_.push_back(PickleValue::make(Kind::Dict)); return true;
    case kTuple:
    case kList: {
      auto v = PickleValue::make(op == kTuple ? Kind::Tuple : Kind::List);
      v->items = pop_to_mark();
      stack_.push_back(v);
      return true;
    }
    case kTuple1:
    case kTuple2:
    case kTuple3: {
      auto v = PickleValue::make(Kind::Tuple);
      v->items.resize(op - kTuple1 + 1);
      for (auto it = v->items.rbegin(); it != v->items.rend(); ++it) *it = pop();
      stack_.push_back(v);
      return true;
    }
    default: return step_fill(op);
  }
}

bool Unpickler::step_fill(uint8_t op) {
  using Kind = PickleValue::Kind;
  switch (op) {
    case kDict: {
      auto v = PickleValue::make(Kind::Dict);
      set_items(v, pop_to_mark());
      stack_.push_back(v);
      return true;
    }
    case kSetItem: {
      PickleRef value = pop();
      PickleRef key = pop();
      set_items(top(), {key, value});
      return true;
    }
    case kSetItems: {
      auto kv = pop_to_mark();
      set_items(top(), kv);
      return true;
    }
    case kAppend:
    case kAppends: {
      std::vector<PickleRef> items = op == kAppend ? std::vector<PickleRef>{pop()} : pop_to_mark();
      if (top()->kind != Kind::List) fail("APPEND(S) on a " + top()->type_name());
      top()->items.insert(top()->items.end(), items.begin(), items.end());
      return true;
    }
    default: return false;
  }
}

bool Unpickler::step_memo(uint8_t op) {
  switch (op) {
    case kBinPut: memo_put(read_uint(1)); return true;
    case kLongBinPut: memo_put(read_uint(4)); return true;
    case kMemoize: memo_put(memo_.size()); return true;
    case kBinGet: stack_.push_back(memo_get(read_uint(1))); return true;
    case kLongBinGet: stack_.push_back(memo_get(read_uint(4))); return true;
    default: return false;
  }
}

bool Unpickler::step_object(uint8_t op) {
  switch (op) {
    case kGlobal: {
      std::string module = read_line();
      if (module == "__builtin__") module = "builtins";  // protocol 2 spells Python 2 names
      stack_.push_back(PickleValue::of_global(module + "." + read_line()));
      return true;
    }
    case kStackGlobal: {
      PickleRef name = pop();
      PickleRef module = pop();
      if (name->kind != PickleValue::Kind::String || module->kind != PickleValue::Kind::String) {
        fail("STACK_GLOBAL needs two strings");
      }
      stack_.push_back(PickleValue::of_global(module->text + "." + name->text));
      return true;
    }
    case kReduce: {
      PickleRef args = pop();
      PickleRef callable = pop();
      if (callable->kind != PickleValue::Kind::Global) fail("REDUCE calls a " + callable->type_name());
      if (args->kind != PickleValue::Kind::Tuple) fail("REDUCE arguments are a " + args->type_name());
      stack_.push_back(reduce_(callable->text, args));
      return true;
    }
    case kBuild:
      pop();  // object state (e.g. a state dict's `_metadata` attribute): not needed
      top();
      return true;
    case kBinPersId: stack_.push_back(persistent_load_(pop())); return true;
    default: return false;
  }
}

}  // namespace deeplab::weights
