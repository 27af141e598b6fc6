#include "deeplab/weights/pth_writer.h"

#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <set>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/weights/pth_format.h"

namespace deeplab::weights {
namespace {

// The pickle opcodes used here (protocol 2; names as in Lib/pickle.py).
constexpr char kProto = '\x80', kGlobal = 'c', kMark = '(', kTuple = 't', kEmptyTuple = ')', kReduce = 'R',
               kBinPersId = 'Q', kBinInt = 'J', kLong1 = '\x8a', kBinUnicode = 'X', kNewFalse = '\x89', kSetItems = 'u',
               kStop = '.';

class PickleWriter {
 public:
  void proto() { out_ += {kProto, '\x02'}; }
  void global(const std::string& module, const std::string& name) { out_ += kGlobal + module + "\n" + name + "\n"; }
  void mark() { out_ += kMark; }
  void op(char code) { out_ += code; }
  void string(const std::string& text) {
    out_ += kBinUnicode;
    append_le(static_cast<uint32_t>(text.size()), 4);
    out_ += text;
  }
  void integer(int64_t value) {
    if (value >= INT32_MIN && value <= INT32_MAX) {
      out_ += kBinInt;
      append_le(static_cast<uint32_t>(static_cast<int32_t>(value)), 4);
    } else {  // two's complement, little-endian, 8 bytes
      out_ += {kLong1, '\x08'};
      append_le(static_cast<uint64_t>(value), 8);
    }
  }
  void int_tuple(c10::IntArrayRef values) {
    if (values.empty()) return op(kEmptyTuple);
    mark();
    for (const int64_t v : values) integer(v);
    op(kTuple);
  }
  // collections.OrderedDict(): the dict itself and every tensor's backward hooks.
  void empty_ordered_dict() {
    global("collections", "OrderedDict");
    op(kEmptyTuple);
    op(kReduce);
  }
  const std::string& bytes() const { return out_; }

 private:
  void append_le(uint64_t value, int size) {
    for (int i = 0; i < size; ++i) out_ += static_cast<char>((value >> (8 * i)) & 0xff);
  }
  std::string out_;
};

// torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)
// with storage = persistent_load(('storage', torch.XStorage, key, 'cpu', numel)).
void pickle_tensor(PickleWriter& pickle, const torch::Tensor& tensor, const std::string& key) {
  pickle.global("torch._utils", "_rebuild_tensor_v2");
  pickle.mark();
  pickle.mark();
  pickle.string("storage");
  const std::string storage = storage_class(tensor.scalar_type());
  pickle.global("torch", storage.substr(storage.find('.') + 1));
  pickle.string(key);
  pickle.string("cpu");
  pickle.integer(tensor.numel());
  pickle.op(kTuple);
  pickle.op(kBinPersId);
  pickle.integer(0);
  pickle.int_tuple(tensor.sizes());
  pickle.int_tuple(tensor.strides());
  pickle.op(kNewFalse);
  pickle.empty_ordered_dict();
  pickle.op(kTuple);
  pickle.op(kReduce);
}

}  // namespace

std::string pth_bytes(const StateDict& entries, const std::string& source) {
  std::string file;
  caffe2::serialize::PyTorchStreamWriter writer([&file](const void* data, size_t size) {
    file.append(static_cast<const char*>(data), size);
    return size;
  });
  PickleWriter pickle;
  pickle.proto();
  pickle.empty_ordered_dict();
  pickle.mark();
  std::set<std::string> seen;
  std::vector<std::pair<std::string, torch::Tensor>> storages;
  for (const auto& [name, value] : entries) {
    if (!seen.insert(name).second) throw IoError(source + ": duplicate state dict key '" + name + "'");
    // Each tensor gets a storage of its own, holding exactly its elements.
    const torch::Tensor tensor = value.detach().to(torch::kCPU).contiguous();
    const std::string key = std::to_string(storages.size());
    pickle.string(name);
    pickle_tensor(pickle, tensor, key);
    storages.emplace_back(key, tensor);
  }
  pickle.op(kSetItems);
  pickle.op(kStop);
  writer.writeRecord("data.pkl", pickle.bytes().data(), pickle.bytes().size());
  writer.writeRecord("byteorder", "little", std::strlen("little"));
  for (const auto& [key, tensor] : storages) {
    writer.writeRecord("data/" + key, tensor.data_ptr(), tensor.numel() * tensor.element_size());
  }
  writer.writeEndOfFile();
  return file;
}

void write_pth(const StateDict& entries, const std::string& path) {
  core::write_file_atomic(path, pth_bytes(entries, path));
}

}  // namespace deeplab::weights
